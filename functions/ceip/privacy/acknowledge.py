"""Acknowledgements: a templated confirmation in the requester's language with the ticket reference
and the date by which we answer, sent by SES and recorded in the history.

Never sent for quarantined or held messages, auto-replies, bounces or letters without an e-mail
address. Sent automatically only to authenticated senders within the daily caps; the others wait in
state `by_person` until someone runs `ceip privacy ack REF`.

A send failure keeps the ticket (state `failed`, shown by `ceip privacy list
--unacknowledged`) and is retried by the daily run or `ceip privacy ack`. Delivery is at least once:
if recording a sent acknowledgement fails, the retry sends it again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from ceip.privacy import outbound, templates
from ceip.privacy.changes import apply_change, load
from ceip.privacy.mailer import Mailer, MailerUnavailable
from ceip.privacy.ticket_table import TicketStore
from ceip.privacy.tickets import (
    SYSTEM,
    Acknowledgement,
    AckState,
    HistoryEntry,
    MessageRecord,
    Status,
    Ticket,
    changed,
    entry,
    transition,
)

_AUTOMATIC_STATES = (AckState.PENDING, AckState.FAILED)
_BY_PERSON_STATES = (*_AUTOMATIC_STATES, AckState.BY_PERSON)


def needs_acknowledgement(ticket: Ticket, *, by_person: bool = False) -> bool:
    """Whether an acknowledgement is owed by e-mail: sent automatically (intake, the daily run), or,
    with `by_person`, also one that waits for a person's decision (`by_person` state)."""
    return (
        ticket.status is Status.TRIAGED
        and ticket.hold is None
        and ticket.automatic is None
        and ticket.sender_is_email
        and bool(ticket.sender)
        and ticket.acknowledgement.state in (_BY_PERSON_STATES if by_person else _AUTOMATIC_STATES)
    )


def first_message_id(ticket: Ticket) -> str | None:
    return next((m.message_id for m in ticket.messages if m.direction == "in" and m.message_id), None)


def acknowledge(
    store: TicketStore,
    ref: str,
    *,
    mailer: Mailer,
    mail_from: str,
    now: Callable[[], datetime],
    actor: str = SYSTEM,
    by_person: bool = False,
) -> Ticket:
    """Send the acknowledgement of `ref` if it still needs one, and record the outcome (`by_person`:
    a person decided, so one waiting for a person goes too)."""
    ticket = load(store, ref)
    if not needs_acknowledgement(ticket, by_person=by_person) or ticket.sender is None:
        return ticket
    sent_at = now()
    rendered, raw = compose_acknowledgement(ticket, mail_from=mail_from, at=sent_at)
    try:
        ses_id = mailer.send(raw, source=mail_from, destination=ticket.sender)
    except MailerUnavailable as error:
        reason = str(error)
        return apply_change(store, ref, lambda t: _failed(t, sent_at, actor, reason))
    return apply_change(
        store, ref, lambda t: _sent(t, sent_at, actor, ses_id, rendered.language), message_ids=[ses_id]
    )


def compose_acknowledgement(
    ticket: Ticket,
    *,
    mail_from: str,
    at: datetime,
    due: date | None = None,
    language: str | None = None,
) -> tuple[templates.Rendered, bytes]:
    """The acknowledgement of `ticket` as sent at `at` (the answer date and language of that moment when
    given, else today's); `ceip privacy ack --dry-run` and `show` render it with the same code."""
    if ticket.sender is None:
        raise ValueError(f"{ticket.ref} has no sender address")
    rendered = templates.render(
        templates.Kind.ACKNOWLEDGEMENT,
        language or ticket.language,
        ref=ticket.ref,
        due=due or ticket.deadlines.answer_due,
    )
    raw = outbound.compose(
        rendered,
        ref=ticket.ref,
        mail_from=mail_from,
        to=ticket.sender,
        at=at,
        in_reply_to=first_message_id(ticket),
        automatic=True,
    )
    return rendered, raw


def _failed(ticket: Ticket, at: datetime, actor: str, error: str) -> tuple[Ticket, list[HistoryEntry]] | None:
    if ticket.acknowledgement.state is AckState.SENT:
        return None
    attempts = ticket.acknowledgement.attempts + 1
    ack = Acknowledgement(state=AckState.FAILED, reason=error, attempts=attempts)
    return changed(ticket, at, acknowledgement=ack), [
        entry(at, actor, "acknowledgement_failed", attempt=attempts, error=error)
    ]


def _sent(
    ticket: Ticket, at: datetime, actor: str, ses_id: str, language: str
) -> tuple[Ticket, list[HistoryEntry]] | None:
    if ticket.acknowledgement.state is AckState.SENT:
        return None
    ack = Acknowledgement(
        state=AckState.SENT, attempts=ticket.acknowledgement.attempts + 1, sent_at=at, ses_message_id=ses_id
    )
    record = MessageRecord(direction="out", kind="acknowledgement", at=at, ses_message_id=ses_id)
    updated = changed(ticket, at, acknowledgement=ack, messages=(*ticket.messages, record))
    history = [
        entry(
            at,
            actor,
            "acknowledgement_sent",
            language=language,
            answer_due=ticket.deadlines.answer_due.isoformat(),
            ses_message_id=ses_id,
        )
    ]
    if updated.status is Status.TRIAGED:
        updated, moved = transition(updated, Status.ACKNOWLEDGED, actor=actor, at=at)
        history.append(moved)
    return updated, history
