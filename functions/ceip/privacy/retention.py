"""The daily run: send acknowledgements still owed, and redact tickets closed for longer than the
retention period (their raw messages are deleted, the sender and the GUIDs removed; labels, deadlines
and the history stay, as the record of how the request was handled)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ceip.privacy.acknowledge import acknowledge, needs_acknowledgement
from ceip.privacy.changes import apply_change, load
from ceip.privacy.inbox import RawMailStore
from ceip.privacy.mailer import Mailer
from ceip.privacy.ticket_table import TicketStore
from ceip.privacy.tickets import SYSTEM, AckState, HistoryEntry, Status, Ticket, changed, entry

REDACTED = "[redacted]"


@dataclass(frozen=True)
class DailyResult:
    acknowledged: int = 0
    acknowledgements_failed: int = 0
    redacted: int = 0
    messages_deleted: int = 0


def run_daily(
    *,
    store: TicketStore,
    inbox: RawMailStore,
    mailer: Mailer,
    mail_from: str,
    retention_days: int,
    now: Callable[[], datetime],
) -> DailyResult:
    acknowledged = failed = 0
    for ticket in list(store.by_status([Status.TRIAGED])):
        if needs_acknowledgement(ticket):
            result = acknowledge(store, ticket.ref, mailer=mailer, mail_from=mail_from, now=now)
            if result.acknowledgement.state is AckState.SENT:
                acknowledged += 1
            else:
                failed += 1
    redacted = deleted = 0
    cutoff = now() - timedelta(days=retention_days)
    for ticket in list(store.closed_before(cutoff)):
        count = redact(store, inbox, ticket.ref, cutoff=cutoff, retention_days=retention_days, now=now)
        if count is not None:
            redacted += 1
            deleted += count
    return DailyResult(acknowledged, failed, redacted, deleted)


def redact(
    store: TicketStore,
    inbox: RawMailStore,
    ref: str,
    *,
    cutoff: datetime,
    retention_days: int,
    now: Callable[[], datetime],
) -> int | None:
    """Delete the raw messages of a ticket closed before cutoff and redact it; the number of messages
    deleted, or None when the ticket is no longer closed (reopened in the meantime)."""
    ticket = load(store, ref)
    if ticket.status is not Status.CLOSED or ticket.closed_at is None or ticket.closed_at >= cutoff:
        return None
    keys = [m.key for m in ticket.messages if m.key]
    for key in keys:
        inbox.delete(key)
    at = now()

    def change(current: Ticket) -> tuple[Ticket, list[HistoryEntry]] | None:
        if current.redacted_at is not None:
            return None
        messages = tuple(m.model_copy(update={"key": None, "message_id": None}) for m in current.messages)
        updated = changed(
            current,
            at,
            sender=REDACTED if current.sender else None,
            guids=(),
            approvals=(),
            messages=messages,
            redacted_at=at,
        )
        why = f"closed for more than {retention_days} days"
        return updated, [entry(at, SYSTEM, "redacted", why, messages_deleted=len(keys))]

    apply_change(store, ref, change)
    return len(keys)
