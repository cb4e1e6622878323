"""The ticket states: the transition table, reasons, references, templates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ceip.privacy import classify, deadlines, references, templates
from ceip.privacy.tickets import (
    MAX_GUIDS_PER_TICKET,
    OPEN,
    REOPENED_BY_REPLY,
    TRANSITIONS,
    Channel,
    DenyReason,
    GuidsAdded,
    IllegalTransition,
    MissingReason,
    Status,
    Ticket,
    transition,
    with_guids,
)
from ceip.storage import inbox_keys

AT = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)


def ticket(status: Status = Status.TRIAGED) -> Ticket:
    return Ticket(
        ref="CEIP-7F3K",
        channel=Channel.EMAIL,
        status=status,
        received_at=AT,
        created_at=AT,
        updated_at=AT,
        status_since=AT,
        deadlines=deadlines.compute(AT),
    )


def test_every_state_is_in_the_table_and_closed_can_only_reopen() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert TRANSITIONS[Status.CLOSED] == {Status.IN_PROGRESS}
    assert all(target in Status for targets in TRANSITIONS.values() for target in targets)
    assert Status.CLOSED not in OPEN and Status.RESOLVED not in OPEN


def test_an_acknowledged_request_cannot_be_closed_without_an_outcome() -> None:
    with pytest.raises(IllegalTransition) as raised:
        transition(ticket(Status.ACKNOWLEDGED), Status.CLOSED, actor="ana", at=AT)
    # The error names both states and what is allowed instead
    message = str(raised.value)
    assert "from acknowledged to closed" in message
    assert "resolved" in message and "denied" in message


@pytest.mark.parametrize(
    ("current", "target"), [(s, t) for s in Status for t in Status if t not in TRANSITIONS[s]]
)
def test_every_transition_outside_the_table_is_refused(current: Status, target: Status) -> None:
    with pytest.raises(IllegalTransition):
        transition(
            ticket(current),
            target,
            actor="ana",
            at=AT,
            deny_reason=DenyReason.EXCESSIVE,
            duplicate_of="CEIP-0000",
        )


def test_a_transition_records_who_when_why_and_moves_the_status_clock() -> None:
    later = datetime(2026, 11, 20, tzinfo=UTC)
    moved, entry = transition(ticket(), Status.IN_PROGRESS, actor="ana", at=later, why="started")
    assert (moved.status, moved.status_since, moved.updated_at) == (Status.IN_PROGRESS, later, later)
    assert (entry.actor, entry.at, entry.action, entry.why) == ("ana", later, "status_changed", "started")
    assert entry.details == {"from": "triaged", "to": "in_progress"}


def test_denying_needs_a_reason_code_and_duplicates_need_the_original() -> None:
    with pytest.raises(MissingReason, match="reason code"):
        transition(ticket(Status.IN_PROGRESS), Status.DENIED, actor="ana", at=AT)
    denied, entry = transition(
        ticket(Status.IN_PROGRESS), Status.DENIED, actor="ana", at=AT, deny_reason=DenyReason.NO_DATA_HELD
    )
    assert denied.deny_reason is DenyReason.NO_DATA_HELD and entry.details["reason_code"] == "no_data_held"
    with pytest.raises(MissingReason):
        transition(ticket(), Status.DUPLICATE, actor="ana", at=AT)


def test_closing_sets_closed_at_and_reopening_clears_it() -> None:
    resolved, _ = transition(ticket(Status.IN_PROGRESS), Status.RESOLVED, actor="ana", at=AT)
    closed, _ = transition(resolved, Status.CLOSED, actor="ana", at=AT)
    assert closed.closed_at == AT
    reopened, _ = transition(closed, Status.IN_PROGRESS, actor="system", at=AT)
    assert reopened.closed_at is None
    assert {s for s in Status if Status.IN_PROGRESS in TRANSITIONS[s]} >= REOPENED_BY_REPLY


def test_references() -> None:
    ref = references.new_ref()
    assert references.normalize(ref.lower()) == ref
    assert references.normalize("7f3k") == "CEIP-7F3K"
    with pytest.raises(ValueError, match="CEIP-XXXX"):
        references.normalize("CEIP-7F3I")  # I is not in Crockford's alphabet
    assert references.refs_in_subject("Re: [ceip-7f3k] and [CEIP-0000] [CEIP-ABC]") == (
        "CEIP-7F3K",
        "CEIP-0000",
    )
    assert references.ses_local_id("<0100018c-abc-000000@email.amazonses.com>") == "0100018c-abc-000000"
    assert references.ses_local_id("<x@example.com>") is None
    assert references.message_id_key("<a@b>") == references.message_id_key("a@b")


def test_inbox_keys() -> None:
    assert (
        inbox_keys.inbound_key("o3vrnil0e2ic28trm7dfhrc2v0cnbeccl4nbp0g1")
        == "inbox/o3vrnil0e2ic28trm7dfhrc2v0cnbeccl4nbp0g1"
    )
    with pytest.raises(ValueError):
        inbox_keys.inbound_key("../etc/passwd")
    assert inbox_keys.postal_key("a" * 32) == "inbox/postal-" + "a" * 32
    assert inbox_keys.sent_key("b" * 32).startswith("inbox/sent-")


@pytest.mark.parametrize(
    ("language", "subject", "date_text"),
    [
        ("en", "[CEIP-7F3K] We have received your privacy request", "16 December 2026 (2026-12-16)"),
        ("de", "[CEIP-7F3K] Wir haben Ihre Datenschutzanfrage erhalten", "16. Dezember 2026 (2026-12-16)"),
        ("fr", "[CEIP-7F3K] Nous avons bien reçu votre demande relative à vos données", "16 décembre 2026"),
        ("es", "[CEIP-7F3K] Hemos recibido su solicitud de privacidad", "16 de diciembre de 2026"),
        (None, "[CEIP-7F3K] We have received your privacy request", "16 December 2026"),
    ],
)
def test_acknowledgement_template_per_language(language: str | None, subject: str, date_text: str) -> None:
    rendered = templates.render(
        templates.Kind.ACKNOWLEDGEMENT, language, ref="CEIP-7F3K", due=date(2026, 12, 16)
    )
    assert rendered.subject == subject
    assert date_text in rendered.body and "CEIP-7F3K" in rendered.body
    assert rendered.language == (language or "en")


def test_templates_substitute_text_once() -> None:
    rendered = templates.render(templates.Kind.NEED_INFO, "en", ref="CEIP-7F3K", text="Say $ref and $due")
    assert "Say $ref and $due" in rendered.body


def test_with_guids_adds_new_ones_in_order_up_to_the_bound_and_counts_the_rest() -> None:
    # Given a ticket with two GUIDs and a bound of four
    current = ("a", "b")
    # When five are offered, one already on the ticket and one repeated
    result = with_guids(current, ["b", "c", "d", "c", "e", "f"], bound=4)
    # Then the first two new ones fit, the other two are counted as dropped
    assert (result.guids, result.added, result.dropped) == (("a", "b", "c", "d"), 2, 2)
    # And a ticket at or past the bound (an older, larger one) gains nothing and loses nothing
    assert with_guids(("a", "b", "c", "d", "e"), ["f"], bound=4) == GuidsAdded(
        ("a", "b", "c", "d", "e"), 0, 1
    )
    assert with_guids(current, ["a"], bound=4) == GuidsAdded(current, 0, 0)


def test_one_message_never_brings_more_guids_than_a_ticket_holds() -> None:
    # A new ticket takes a message's GUIDs without the bound's check: that needs this to hold
    assert classify.MAX_GUIDS <= MAX_GUIDS_PER_TICKET
