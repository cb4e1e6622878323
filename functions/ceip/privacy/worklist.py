"""The team's work list: which tickets match a filter, which are overdue, in deadline order. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ceip.privacy.classify import Label
from ceip.privacy.tickets import OPEN, AckState, Status, Ticket


@dataclass(frozen=True)
class Filters:
    statuses: frozenset[Status] = OPEN
    label: Label | None = None
    overdue: bool = False
    due_before: date | None = None
    """Answer due on or before this day."""
    assignee: str | None = None
    unacknowledged: bool = False
    unverified: bool = False
    """Only tickets whose sender SES's verdicts did not authenticate."""


def ack_pending(ticket: Ticket) -> bool:
    return ticket.acknowledgement.state in (
        AckState.PENDING,
        AckState.FAILED,
        AckState.BY_POST,
        AckState.BY_PERSON,
    ) and (ticket.status in (Status.RECEIVED, Status.QUARANTINED, Status.TRIAGED))


def nearest_deadline(ticket: Ticket) -> date:
    """The next legal deadline: the CCPA acknowledgement while unacknowledged, else the answer."""
    ack_due = ticket.deadlines.ccpa_ack_due
    if ack_due is not None and ack_pending(ticket) and ticket.hold is None:
        return min(ack_due, ticket.deadlines.answer_due)
    return ticket.deadlines.answer_due


def is_overdue(ticket: Ticket, today: date) -> bool:
    return ticket.is_open and nearest_deadline(ticket) < today


def target_missed(ticket: Ticket, today: date) -> bool:
    return ticket.is_open and ticket.deadlines.internal_target < today


def matches(ticket: Ticket, filters: Filters, today: date) -> bool:
    return (
        ticket.status in filters.statuses
        and (filters.label is None or filters.label in ticket.labels)
        and (not filters.overdue or is_overdue(ticket, today))
        and (filters.due_before is None or ticket.deadlines.answer_due <= filters.due_before)
        and (filters.assignee is None or ticket.assignee == filters.assignee)
        and (not filters.unacknowledged or ack_pending(ticket))
        and (not filters.unverified or ticket.sender_verified is False)
    )


def select(tickets: Iterable[Ticket], filters: Filters, today: date) -> list[Ticket]:
    """Matching tickets, nearest deadline first (then oldest first)."""
    chosen = [t for t in tickets if matches(t, filters, today)]
    return sorted(chosen, key=lambda t: (nearest_deadline(t), t.received_at, t.ref))
