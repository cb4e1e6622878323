"""A letter recorded by hand becomes a triaged ticket, its history and a transcript (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ceip.privacy import deadlines
from ceip.privacy.changes import RequestRefused
from ceip.privacy.deadlines import Jurisdiction, Law
from ceip.privacy.letters import Letter, record
from ceip.privacy.tickets import AckState, Channel, Status

NOW = datetime(2026, 11, 5, 9, 30, tzinfo=UTC)


def deadlines_of(
    received_at: datetime, jurisdiction: Jurisdiction, extended: frozenset[Law]
) -> deadlines.Deadlines:
    return deadlines.compute(
        received_at, jurisdiction=jurisdiction, extended=extended, internal_target_days=7
    )


def test_a_letter_with_an_address_is_triaged_and_owed_an_acknowledgement_by_e_mail() -> None:
    # Given a German letter asking for erasure, with an e-mail address
    letter = Letter(
        received=date(2026, 11, 2),
        text="Bitte löschen Sie meine Daten.",
        email="e.muster@example.de",
        jurisdiction=Jurisdiction.EU,
    )
    # When it is recorded
    recorded = record(letter, actor="ana", now=NOW, deadlines=deadlines_of)
    ticket = recorded.ticket
    # Then it is a triaged postal ticket whose deadlines count from noon UTC of the day it arrived
    assert (ticket.channel, ticket.status, ticket.language) == (Channel.POSTAL, Status.TRIAGED, "de")
    assert ticket.received_at == datetime(2026, 11, 2, 12, tzinfo=UTC)
    assert ticket.deadlines == deadlines_of(ticket.received_at, Jurisdiction.EU, frozenset())
    assert (ticket.sender, ticket.sender_is_email) == ("e.muster@example.de", True)
    assert ticket.acknowledgement.state is not AckState.BY_POST
    # And its history says who recorded it, and the transcript is stored beside the inbox's messages
    assert [h.action for h in recorded.history][:2] == ["received", "classified"]
    assert recorded.history[0].actor == "ana"
    assert recorded.key.startswith("inbox/postal-") and ticket.messages[0].key == recorded.key
    assert (
        b"X-CEIP-Channel: postal" in recorded.transcript
        and b"From: e.muster@example.de" in recorded.transcript
    )


def test_a_letter_without_an_address_is_acknowledged_by_post() -> None:
    letter = Letter(received=date(2026, 11, 2), text="Please delete my data.", postal_address=" E. Muster ")
    ticket = record(letter, actor="ana", now=NOW, deadlines=deadlines_of).ticket
    assert ticket.acknowledgement.state is AckState.BY_POST
    assert (ticket.sender, ticket.sender_is_email) == ("E. Muster", False)


@pytest.mark.parametrize(
    ("letter", "actor", "reason"),
    [
        (Letter(received=date(2026, 11, 6), text="Delete."), "ana", "in the future"),
        (Letter(received=date(2026, 11, 2), text="Delete.", email="not an address"), "ana", "not an e-mail"),
        (Letter(received=date(2026, 11, 2), text="   "), "ana", "text"),
        (Letter(received=date(2026, 11, 2), text="Delete."), " ", "actor"),
    ],
)
def test_a_letter_that_cannot_be_recorded_is_refused(letter: Letter, actor: str, reason: str) -> None:
    with pytest.raises(RequestRefused, match=reason):
        record(letter, actor=actor, now=NOW, deadlines=deadlines_of)
