"""Apply a change to a stored ticket with optimistic locking: read, change, save; on a concurrent
update read again and reapply, so no change and no history entry is lost."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ceip.privacy.ticket_table import ConcurrentUpdate, TicketStore
from ceip.privacy.tickets import HistoryEntry, Ticket

MAX_ATTEMPTS = 5

Change = Callable[[Ticket], tuple[Ticket, list[HistoryEntry]] | None]
"""Given the current ticket, the changed ticket and its history entries; None when nothing is to do."""


class RequestRefused(Exception):
    """The team asked for something the rules do not allow; the message says why (never input)."""


class TicketNotFound(Exception):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no ticket {ref}")
        self.ref = ref


def load(store: TicketStore, ref: str) -> Ticket:
    ticket = store.get(ref)
    if ticket is None:
        raise TicketNotFound(ref)
    return ticket


def apply_change(
    store: TicketStore,
    ref: str,
    change: Change,
    *,
    ses_message_id: str | None = None,
    message_ids: Sequence[str] = (),
) -> Ticket:
    for _ in range(MAX_ATTEMPTS):
        current = load(store, ref)
        result = change(current)
        if result is None:
            return current
        ticket, history = result
        try:
            return store.save(ticket, history, ses_message_id=ses_message_id, message_ids=message_ids)
        except ConcurrentUpdate:
            continue
    raise ConcurrentUpdate(ref)
