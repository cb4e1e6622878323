"""Tickets: the model, the states and their transitions, and the append-only history. Pure.

Every change to a ticket produces history entries (who, when, what, why) that are stored with it in one
transaction; automatic changes are made by the actor `system`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ceip.privacy.classify import Label, LabelScore
from ceip.privacy.deadlines import Deadlines, Jurisdiction, Law

SYSTEM = "system"


class Status(StrEnum):
    RECEIVED = "received"
    QUARANTINED = "quarantined"
    TRIAGED = "triaged"
    ACKNOWLEDGED = "acknowledged"
    AWAITING_REQUESTER = "awaiting_requester"
    IN_PROGRESS = "in_progress"
    FULFILLED = "fulfilled"
    RESOLVED = "resolved"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    DUPLICATE = "duplicate"
    CLOSED = "closed"


_ANSWERED = frozenset({Status.FULFILLED, Status.RESOLVED, Status.DENIED, Status.WITHDRAWN})
_OUTCOMES = _ANSWERED | {Status.AWAITING_REQUESTER, Status.IN_PROGRESS}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.TRIAGED, Status.QUARANTINED, Status.DUPLICATE, Status.CLOSED}),
    Status.QUARANTINED: frozenset({Status.TRIAGED, Status.DUPLICATE, Status.CLOSED}),
    Status.TRIAGED: _OUTCOMES | {Status.ACKNOWLEDGED, Status.DUPLICATE, Status.CLOSED},
    Status.ACKNOWLEDGED: _OUTCOMES | {Status.DUPLICATE},
    Status.AWAITING_REQUESTER: _ANSWERED | {Status.IN_PROGRESS},
    Status.IN_PROGRESS: _ANSWERED | {Status.AWAITING_REQUESTER},
    Status.FULFILLED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.DENIED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.WITHDRAWN: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.DUPLICATE: frozenset({Status.CLOSED, Status.TRIAGED}),
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),
}
"""Allowed next states. A ticket is closed only after an outcome is recorded (or, before any
acknowledgement, when it was no request at all: spam, bounces, auto-replies)."""

OPEN = frozenset(
    {
        Status.RECEIVED,
        Status.QUARANTINED,
        Status.TRIAGED,
        Status.ACKNOWLEDGED,
        Status.AWAITING_REQUESTER,
        Status.IN_PROGRESS,
    }
)
"""States in which the request still waits for us (or the requester): deadlines run."""
REOPENED_BY_REPLY = _ANSWERED | {Status.CLOSED, Status.AWAITING_REQUESTER}
"""A reply from the requester puts these back to in_progress."""


class Channel(StrEnum):
    EMAIL = "email"
    POSTAL = "postal"


class Hold(StrEnum):
    """Why a message waits for a human before anything is sent."""

    VIRUS = "virus"
    SPAM = "spam"
    REVIEW = "review"


class DenyReason(StrEnum):
    IDENTITY_UNVERIFIED = "identity_unverified"
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded"
    EXCESSIVE = "excessive"
    NO_DATA_HELD = "no_data_held"
    LEGAL_EXEMPTION = "legal_exemption"
    NOT_A_REQUEST = "not_a_request"


class AckState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    NOT_REQUIRED = "not_required"
    BY_POST = "by_post"
    BY_PERSON = "by_person"
    """Owed, but sent only when a person decides to (`ceip privacy ack`): the sender is unverified or
    a daily cap on automatic mail was reached (the reason says which)."""


class Acknowledgement(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: AckState = AckState.PENDING
    reason: str | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    ses_message_id: str | None = None


class MessageRecord(BaseModel):
    """One message of a ticket's thread; the text stays in the inbox bucket under `key`."""

    model_config = ConfigDict(frozen=True)

    direction: str = "in"
    kind: str = "initial"
    at: datetime
    key: str | None = None
    ses_message_id: str | None = None
    message_id: str | None = None
    automatic: str | None = None
    defects: tuple[str, ...] = ()
    attachments: int = 0
    verdict: str | None = None


class HistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    actor: str
    action: str
    details: dict[str, Any] = Field(default_factory=dict)
    why: str | None = None


class ExportApproval(BaseModel):
    """A person's approval to export exactly these GUIDs to this requester. GUIDs attached later are
    not covered; it is used by one export, after which a new approval is needed."""

    model_config = ConfigDict(frozen=True)

    approval_id: str
    guids: tuple[str, ...]
    requester: str | None
    """The ticket's sender when approved: the export goes only to that address."""
    approver: str
    """The approver's verified identity (the IAM principal STS names), never a typed name."""
    approved_at: datetime
    why: str
    sent_at: datetime | None = None
    sent_by: str | None = None
    export_key: str | None = None
    """The one export object written under this approval."""
    link_expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    @property
    def used(self) -> bool:
        return self.sent_at is not None or self.revoked_at is not None


class Ticket(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: str
    channel: Channel
    status: Status
    received_at: datetime
    created_at: datetime
    updated_at: datetime
    status_since: datetime
    version: int = 0
    hold: Hold | None = None
    sender: str | None = None
    """The requester's e-mail (or, for letters, postal) address: the only personal data kept beyond the
    message itself; redacted when the ticket has been closed for the retention period."""
    sender_is_email: bool = True
    sender_verified: bool | None = None
    """Whether SES's verdicts authenticate the From address (authentication.py); None when nothing
    was checked (letters, tickets filed before the check existed)."""
    authentication: str | None = None
    """The basis of that answer: `dmarc`, `spf+dkim`, or why not (`dmarc-fail`, `spf-not-aligned`...)."""
    language: str | None = None
    labels: tuple[Label, ...] = ()
    labels_by: str = SYSTEM
    scores: tuple[LabelScore, ...] = ()
    guids: tuple[str, ...] = ()
    approvals: tuple[ExportApproval, ...] = ()
    """Export approvals, newest last; they hold GUIDs and the requester, so redaction clears them."""
    jurisdiction: Jurisdiction = Jurisdiction.UNKNOWN
    extended: tuple[Law, ...] = ()
    deadlines: Deadlines
    assignee: str | None = None
    acknowledgement: Acknowledgement = Acknowledgement()
    automatic: str | None = None
    """Why the first message is machine-generated (auto-reply, bounce...): it is never acknowledged."""
    messages: tuple[MessageRecord, ...] = ()
    deny_reason: DenyReason | None = None
    duplicate_of: str | None = None
    claimed_ref: str | None = None
    """The ticket this message claimed to answer (a reference or a message id of its thread) although
    its sender is not that ticket's authenticated requester: a person checks and merges."""
    closed_at: datetime | None = None
    redacted_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


class IllegalTransition(Exception):
    def __init__(self, ref: str, current: Status, target: Status) -> None:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
        super().__init__(
            f"{ref}: cannot go from {current.value} to {target.value} (from {current.value}: {allowed})"
        )
        self.current = current
        self.target = target


class MissingReason(Exception):
    """A transition that needs a reason code or a reference was asked for without it."""


MAX_GUIDS_PER_TICKET = 100
"""Machine GUIDs one ticket holds at most. A GUID costs about 40 bytes of the ticket's item, which
DynamoDB caps at 400 KB beside the messages' records; a person with more machines than this is a case
for the team (another ticket), not a list a reply keeps growing (each reply may add MAX_GUIDS)."""


@dataclass(frozen=True)
class GuidsAdded:
    guids: tuple[str, ...]
    """The ticket's GUIDs afterwards: the earlier ones in order, then the new ones that fit."""
    added: int
    dropped: int
    """New GUIDs past the bound, left off (counted, never named)."""


def with_guids(current: Sequence[str], new: Sequence[str], bound: int = MAX_GUIDS_PER_TICKET) -> GuidsAdded:
    """Add the GUIDs not yet on a ticket, in order, up to the bound: the one place tickets gain GUIDs
    after they are filed (the team's attach and a reply's intake)."""
    known = set(current)
    fresh = [g for g in dict.fromkeys(new) if g not in known]
    room = max(0, bound - len(current))
    kept = fresh[:room]
    return GuidsAdded((*current, *kept), len(kept), len(fresh) - len(kept))


def changed(ticket: Ticket, at: datetime, **updates: Any) -> Ticket:
    return ticket.model_copy(update={**updates, "updated_at": at})


def entry(at: datetime, actor: str, action: str, why: str | None = None, **details: Any) -> HistoryEntry:
    return HistoryEntry(at=at, actor=actor, action=action, details=details, why=why)


def transition(
    ticket: Ticket,
    target: Status,
    *,
    actor: str,
    at: datetime,
    why: str | None = None,
    deny_reason: DenyReason | None = None,
    duplicate_of: str | None = None,
) -> tuple[Ticket, HistoryEntry]:
    """The ticket in `target` state and the history entry saying so; IllegalTransition otherwise."""
    if target not in TRANSITIONS[ticket.status]:
        raise IllegalTransition(ticket.ref, ticket.status, target)
    if target is Status.DENIED and deny_reason is None:
        raise MissingReason(
            f"{ticket.ref}: denying needs a reason code ({', '.join(r.value for r in DenyReason)})"
        )
    if target is Status.DUPLICATE and not duplicate_of:
        raise MissingReason(f"{ticket.ref}: a duplicate needs the reference of the ticket it duplicates")
    updates: dict[str, Any] = {"status": target, "status_since": at}
    details: dict[str, Any] = {"from": ticket.status.value, "to": target.value}
    # Closing keeps the outcome's reason; any other move (a reopening) clears it.
    if target is not Status.CLOSED:
        updates["deny_reason"] = deny_reason if target is Status.DENIED else None
        updates["duplicate_of"] = duplicate_of if target is Status.DUPLICATE else None
    if target is Status.DENIED:
        details["reason_code"] = str(deny_reason)
    if target is Status.DUPLICATE:
        details["duplicate_of"] = duplicate_of
    if target is Status.TRIAGED:
        updates["hold"] = None
    updates["closed_at"] = at if target is Status.CLOSED else None
    return changed(ticket, at, **updates), entry(at, actor, "status_changed", why, **details)
