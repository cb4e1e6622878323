"""A letter (or a message that did not come through SES) recorded by hand: the ticket, history and
transcript it becomes. Pure: the ticket service stores them and acknowledges; its dry run only reads."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email import policy
from email.message import EmailMessage

from ceip.privacy import classify, deadlines
from ceip.privacy.changes import RequestRefused
from ceip.privacy.deadlines import Jurisdiction, Law
from ceip.privacy.references import new_ref
from ceip.privacy.tickets import (
    SYSTEM,
    Acknowledgement,
    AckState,
    Channel,
    HistoryEntry,
    MessageRecord,
    Status,
    Ticket,
    entry,
    transition,
)
from ceip.storage.inbox_keys import postal_key

EMAIL = r"^[^@\s<>\"(),;:]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"

DeadlinesOf = Callable[[datetime, Jurisdiction, frozenset[Law]], deadlines.Deadlines]


@dataclass(frozen=True)
class Letter:
    """A letter as the team records it."""

    received: date
    text: str
    postal_address: str | None = None
    email: str | None = None
    """The address the letter gives, if any: the acknowledgement goes there."""
    subject: str = ""
    language: str | None = None
    jurisdiction: Jurisdiction = Jurisdiction.UNKNOWN


@dataclass(frozen=True)
class RecordedLetter:
    ticket: Ticket
    history: list[HistoryEntry]
    key: str
    """Where the transcript goes in the inbox bucket."""
    transcript: bytes


def is_email(value: str) -> bool:
    return re.fullmatch(EMAIL, value.strip()) is not None


def record(letter: Letter, *, actor: str, now: datetime, deadlines: DeadlinesOf) -> RecordedLetter:
    """From then on a letter is treated like an e-mail: classification, deadlines from the day it
    arrived, an acknowledgement by e-mail when it gives an address (by post otherwise)."""
    if not actor.strip():
        raise RequestRefused("an actor is required")
    if not letter.text.strip():
        raise RequestRefused("the letter's text (--text or --file) is required")
    received, email, language = letter.received, letter.email, letter.language
    if received > now.astimezone(UTC).date():
        raise RequestRefused("the received date is in the future")
    if email is not None and not is_email(email):
        raise RequestRefused("--email is not an e-mail address")
    # Noon UTC is the same calendar day in Europe and California, so every law counts from `received`.
    received_at = datetime.combine(received, time(12), UTC)
    key = postal_key(uuid.uuid4().hex)
    triage = classify.classify(letter.subject, letter.text, language_hint=language)
    chosen_language = language or triage.language
    if email:
        ack = Acknowledgement()
    else:
        ack = Acknowledgement(state=AckState.BY_POST, reason="acknowledge by post, then record it")
    ticket = Ticket(
        ref=new_ref(),
        channel=Channel.POSTAL,
        status=Status.RECEIVED,
        received_at=received_at,
        created_at=now,
        updated_at=now,
        status_since=now,
        sender=email or (letter.postal_address.strip() if letter.postal_address else None),
        sender_is_email=bool(email),
        language=chosen_language,
        labels=triage.labels,
        scores=triage.scores,
        guids=triage.guids,
        jurisdiction=letter.jurisdiction,
        deadlines=deadlines(received_at, letter.jurisdiction, frozenset()),
        acknowledgement=ack,
        messages=(MessageRecord(kind="letter", at=received_at, key=key),),
    )
    ticket, moved = transition(ticket, Status.TRIAGED, actor=actor, at=now)
    history = [
        entry(now, actor, "received", channel=Channel.POSTAL.value, received=received.isoformat()),
        entry(
            now,
            SYSTEM,
            "classified",
            labels=[x.value for x in triage.labels],
            confidence={s.label.value: s.confidence for s in triage.scores},
            language=chosen_language,
            guids=len(triage.guids),
            answer_due=ticket.deadlines.answer_due.isoformat(),
        ),
        moved,
    ]
    return RecordedLetter(ticket, history, key, transcript(letter))


def transcript(letter: Letter) -> bytes:
    """A letter's transcript stored as a message, so `show` and retention treat it like an e-mail."""
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = letter.subject or f"Letter received {letter.received.isoformat()}"
    message["X-CEIP-Channel"] = "postal"
    message["X-CEIP-Received"] = letter.received.isoformat()
    if letter.email:
        message["From"] = letter.email
    message.set_content(letter.text)
    return message.as_bytes()
