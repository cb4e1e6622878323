"""What a ticket asks of the data-subject side: the erasure of its machines, and a copy of their reports
after a person approved it. The rules live here, the requests themselves on the data-subject side,
behind the two small ports below (the CLI adapts them: privacy and datasubject never import each other).

History entries record request ids, counts and receipts, never a GUID.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ceip.privacy import templates
from ceip.privacy.changes import RequestRefused
from ceip.privacy.service import TicketService
from ceip.privacy.tickets import SYSTEM, HistoryEntry, Ticket

ERASURE_FILED = "erasure_filed"
ERASURE_RECEIPT = "erasure_receipt"
EXPORT_APPROVED = "export_approved"
EXPORT_SENT = "export_sent"
TICKET_ORIGIN = "ticket:"
EXPORT_LINK_PLACEHOLDER = "<link made when the export is sent>"


@dataclass(frozen=True)
class FiledErasure:
    request_id: str
    status: str
    expected_by: datetime
    receipt: dict[str, Any] | None
    """The purge's receipt once the request is fulfilled."""


class ErasureFiling(Protocol):
    def file(self, guid: str, *, origin: str) -> FiledErasure:
        """The machine's open request, or a new one (idempotent while a request is open)."""

    def find(self, request_id: str) -> FiledErasure | None: ...


@dataclass(frozen=True)
class ExportedMachine:
    guid: str
    export_id: str
    reports: int
    url: str


class MachineExport(Protocol):
    def export(self, guid: str, *, reference: str) -> ExportedMachine:
        """Write the machine's reports as one document and return a link to it."""

    def count(self, guid: str) -> int:
        """How many reports an export would hold now (reads only)."""


def origin_of(ref: str) -> str:
    return f"{TICKET_ORIGIN}{ref}"


def tickets_served(origins: Iterable[str]) -> list[str]:
    """The tickets behind erasure requests (their origins), for linking receipts after a purge."""
    return sorted({o.removeprefix(TICKET_ORIGIN) for o in origins if o.startswith(TICKET_ORIGIN)})


def export_approved(history: Sequence[HistoryEntry]) -> bool:
    """An approval by a person (not the system) is on record, later than any previous export."""
    return bool(_standing_approvers(history) - {SYSTEM})


def _standing_approvers(history: Sequence[HistoryEntry]) -> set[str]:
    """Who approved since the last export was sent."""
    approvers: set[str] = set()
    for entry in history:
        if entry.action == EXPORT_APPROVED:
            approvers.add(entry.actor)
        elif entry.action == EXPORT_SENT:
            approvers.clear()
    return approvers


def _with_guids(ticket: Ticket, hint: str) -> Ticket:
    if not ticket.guids:
        raise RequestRefused(f"{ticket.ref} carries no machine GUID{hint}")
    return ticket


@dataclass(frozen=True)
class ErasureFiled:
    requests: list[FiledErasure]
    recorded: bool
    """False when every request was on the ticket's history already (erase run again)."""


@dataclass(frozen=True)
class TicketErasure:
    tickets: TicketService
    erasures: ErasureFiling

    def erase(self, ref: str, *, actor: str) -> ErasureFiled:
        """File the erasure of every machine of the ticket; one history entry per new request, none when
        the requests are already on record."""
        ticket = _with_guids(self.tickets.get(ref), f": add one with `ceip privacy attach {ref} GUID`")
        self.link_receipts(ticket.ref)
        filed = [self.erasures.file(guid, origin=origin_of(ticket.ref)) for guid in ticket.guids]
        known = set(_filed_ids(self.tickets.history(ticket.ref)))
        new = [r for r in filed if r.request_id not in known]
        if new:
            self.tickets.record(
                ticket.ref,
                actor=actor,
                action=ERASURE_FILED,
                details={
                    "request_ids": [r.request_id for r in new],
                    "expected_by": _iso(max(r.expected_by for r in new)),
                },
            )
        return ErasureFiled(filed, recorded=bool(new))

    def link_receipts(self, ref: str) -> list[FiledErasure]:
        """Record in the ticket's history every receipt of its fulfilled requests not yet recorded."""
        history = self.tickets.history(ref)
        linked = {h.details.get("request_id") for h in history if h.action == ERASURE_RECEIPT}
        found = [r for r in map(self.erasures.find, _filed_ids(history)) if r is not None]
        for request in found:
            if request.receipt is not None and request.request_id not in linked:
                self.tickets.record(
                    ref,
                    actor=SYSTEM,
                    action=ERASURE_RECEIPT,
                    details={"request_id": request.request_id, **request.receipt},
                )
                linked.add(request.request_id)
        return found


def _filed_ids(history: Sequence[HistoryEntry]) -> list[str]:
    """Every request id the ticket filed, once each, in filing order."""
    ids = (rid for h in history if h.action == ERASURE_FILED for rid in h.details.get("request_ids", []))
    return list(dict.fromkeys(ids))


@dataclass(frozen=True)
class TicketExport:
    tickets: TicketService
    machines: MachineExport

    def approve(self, ref: str, *, actor: str, why: str) -> Ticket:
        """Record the approval; once per approver while it stands (approving again writes nothing)."""
        ticket = _with_guids(self.tickets.get(ref), "")
        if actor in _standing_approvers(self.tickets.history(ticket.ref)):
            return ticket
        return self.tickets.record(ticket.ref, actor=actor, action=EXPORT_APPROVED, why=why)

    def send(self, ref: str, *, actor: str) -> list[ExportedMachine]:
        """Export every machine of an approved ticket and send the requester the links."""
        ticket = self._approved(ref)
        exported = [self.machines.export(guid, reference=ticket.ref) for guid in ticket.guids]
        text = templates.export_text([(m.guid, m.reports, m.url) for m in exported])
        self.tickets.reply(ticket.ref, templates.Kind.ANSWER, text, actor=actor)
        self.tickets.record(
            ticket.ref,
            actor=actor,
            action=EXPORT_SENT,
            details={"exports": [{"export_id": m.export_id, "reports": m.reports} for m in exported]},
        )
        return exported

    def draft(self, ref: str, *, actor: str) -> bytes:
        """The answer `send` would e-mail, with today's report counts and a placeholder for each link;
        writes, sends and records nothing."""
        ticket = self._approved(ref)
        machines = [(guid, self.machines.count(guid), EXPORT_LINK_PLACEHOLDER) for guid in ticket.guids]
        return self.tickets.draft_reply(
            ticket.ref, templates.Kind.ANSWER, templates.export_text(machines), actor=actor
        )

    def _approved(self, ref: str) -> Ticket:
        ticket = _with_guids(self.tickets.get(ref), "")
        if not export_approved(self.tickets.history(ticket.ref)):
            raise RequestRefused(
                f"{ticket.ref}: no approval on record; "
                f"run `ceip privacy approve-export {ticket.ref} --why ...`"
            )
        return ticket


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
