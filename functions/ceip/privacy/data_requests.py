"""What a ticket asks of the data-subject side: the erasure of its machines, and a copy of their reports
after a person approved it. The rules live here, the requests themselves on the data-subject side,
behind the two small ports below (the CLI adapts them: privacy and datasubject never import each other).

History entries record request ids, counts and receipts, never a GUID. An export approval names the
exact GUIDs it covers; it lives on the ticket beside the GUIDs themselves (retention redacts both).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ceip.privacy import templates
from ceip.privacy.changes import RequestRefused
from ceip.privacy.service import TicketService
from ceip.privacy.tickets import SYSTEM, ExportApproval, HistoryEntry, Ticket

ERASURE_FILED = "erasure_filed"
ERASURE_RECEIPT = "erasure_receipt"
EXPORT_APPROVED = "export_approved"
EXPORT_SENT = "export_sent"
EXPORT_REVOKED = "export_revoked"
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
class ExportedDocument:
    export_key: str
    reports: dict[str, int]
    """Reports per GUID, in the order asked."""
    url: str
    expires_at: datetime
    objects_unreadable: int = 0
    """Report objects that could not be read: reports they hold are missing from the document."""


class MachineExport(Protocol):
    def export(self, guids: Sequence[str], *, reference: str, approval_id: str) -> ExportedDocument:
        """Write every report of these machines as one document and return a link to it."""

    def counts(self, guids: Sequence[str]) -> dict[str, int]:
        """How many reports an export of these machines would hold now, per GUID (reads only)."""

    def revoke(self, export_key: str) -> bool:
        """Delete an export document (its link then answers 404); False when it was gone already."""


@dataclass(frozen=True)
class ExportRules:
    """What makes an approval good for an export (template parameters, through the CLI's settings)."""

    two_person_rule: bool = True
    """The person who sends an export is not the person who approved it."""
    approval_max_age: timedelta = timedelta(hours=72)
    link_hours: int = 12


def origin_of(ref: str) -> str:
    return f"{TICKET_ORIGIN}{ref}"


def tickets_served(origins: Iterable[str]) -> list[str]:
    """The tickets behind erasure requests (their origins), for linking receipts after a purge."""
    return sorted({o.removeprefix(TICKET_ORIGIN) for o in origins if o.startswith(TICKET_ORIGIN)})


def live_approvals(ticket: Ticket, *, now: datetime, rules: ExportRules) -> list[ExportApproval]:
    """Approvals an export may still use: by a person, not used or revoked, young enough, for the
    requester the ticket has now. Newest first."""
    return [
        a
        for a in reversed(ticket.approvals)
        if a.approver != SYSTEM
        and not a.used
        and now - a.approved_at <= rules.approval_max_age
        and a.requester is not None
        and a.requester == ticket.sender
    ]


def export_approved(ticket: Ticket, *, now: datetime, rules: ExportRules) -> bool:
    return bool(live_approvals(ticket, now=now, rules=rules))


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
class ExportPlan:
    ref: str
    approval: ExportApproval
    guids: tuple[str, ...]
    """The GUIDs both on the ticket and covered by the approval: all an export sends."""
    uncovered: int
    """GUIDs on the ticket the approval does not cover (attached after it): not exported."""


@dataclass(frozen=True)
class ExportSent:
    plan: ExportPlan
    document: ExportedDocument


@dataclass(frozen=True)
class Revoked:
    ref: str
    documents_deleted: int


@dataclass(frozen=True)
class TicketExport:
    tickets: TicketService
    machines: MachineExport
    rules: ExportRules = ExportRules()

    def approve(self, ref: str, *, actor: str, why: str) -> Ticket:
        """Approve the export of exactly the GUIDs the ticket has now, to its requester. Approving the
        same GUIDs again while an approval by the same person stands writes nothing."""
        ticket = _with_guids(self.tickets.get(ref), "")
        if not ticket.sender_is_email or not ticket.sender:
            raise RequestRefused(
                f"{ticket.ref}: an export goes by e-mail, and the ticket has no e-mail address"
            )
        if not why.strip():
            raise RequestRefused("an approval needs the reason (how ownership of the GUIDs was established)")
        now = self.tickets.clock()
        guids = tuple(sorted(ticket.guids))
        standing = [a for a in live_approvals(ticket, now=now, rules=self.rules) if a.approver == actor]
        if any(a.guids == guids for a in standing):
            return ticket
        approval = ExportApproval(
            approval_id=str(uuid.uuid4()),
            guids=guids,
            requester=ticket.sender,
            approver=actor,
            approved_at=now,
            why=why.strip(),
        )

        def add(current: Ticket) -> tuple[ExportApproval, ...] | None:
            if tuple(sorted(current.guids)) != guids or current.sender != ticket.sender:
                raise RequestRefused(f"{ticket.ref} changed while approving; look at it again")
            return (*current.approvals, approval)

        return self.tickets.change_approvals(
            ticket.ref,
            add,
            actor=actor,
            action=EXPORT_APPROVED,
            why=why.strip(),
            details={"approval_id": approval.approval_id, "machines": len(guids)},
        )

    def plan(self, ref: str, *, actor: str) -> ExportPlan:
        """The approval an export by `actor` would use and the GUIDs it would send; RequestRefused with
        the reason when there is none (no live approval, only the actor's own, nothing covered)."""
        ticket = _with_guids(self.tickets.get(ref), "")
        live = live_approvals(ticket, now=self.tickets.clock(), rules=self.rules)
        usable = [a for a in live if not (self.rules.two_person_rule and a.approver == actor)]
        if not usable:
            raise RequestRefused(self._why_not(ticket, live))
        approval = usable[0]
        on_ticket = set(ticket.guids)
        guids = tuple(g for g in approval.guids if g in on_ticket)
        if not guids:
            raise RequestRefused(
                f"{ticket.ref}: none of the GUIDs the approval covers is on the ticket now; approve again"
            )
        return ExportPlan(ticket.ref, approval, guids, uncovered=len(on_ticket - set(approval.guids)))

    def send(self, ref: str, *, actor: str) -> ExportSent:
        """Export the machines one live approval covers, as one document, mail the requester its link
        and mark the approval used. GUIDs the approval does not cover are not exported."""
        plan = self.plan(ref, actor=actor)
        document = self.machines.export(plan.guids, reference=plan.ref, approval_id=plan.approval.approval_id)
        text = templates.export_text(
            [(guid, document.reports.get(guid, 0)) for guid in plan.guids],
            document.url,
            self.rules.link_hours,
        )
        self.tickets.reply(plan.ref, templates.Kind.ANSWER, text, actor=actor)
        now = self.tickets.clock()

        used = {
            "sent_at": now,
            "sent_by": actor,
            "export_key": document.export_key,
            "link_expires_at": document.expires_at,
        }
        self.tickets.change_approvals(
            plan.ref,
            lambda current: _updated(current, {plan.approval.approval_id}, used),
            actor=actor,
            action=EXPORT_SENT,
            details={
                "approval_id": plan.approval.approval_id,
                "approved_by": plan.approval.approver,
                "machines": len(plan.guids),
                "reports": sum(document.reports.values()),
                "not_covered": plan.uncovered,
                "objects_unreadable": document.objects_unreadable,
                "link_expires_at": _iso(document.expires_at),
            },
        )
        return ExportSent(plan, document)

    def draft(self, ref: str, *, actor: str) -> bytes:
        """The answer `send` would e-mail, with today's report counts and a placeholder for the link;
        writes, sends and records nothing."""
        plan = self.plan(ref, actor=actor)
        counts = self.machines.counts(plan.guids)
        machines = [(guid, counts.get(guid, 0)) for guid in plan.guids]
        text = templates.export_text(machines, EXPORT_LINK_PLACEHOLDER, self.rules.link_hours)
        return self.tickets.draft_reply(plan.ref, templates.Kind.ANSWER, text, actor=actor)

    def revoke(self, ref: str, *, actor: str, why: str) -> Revoked:
        """Delete every export document sent under the ticket's approvals and revoke the approvals that
        stand. RequestRefused when there is nothing to revoke."""
        ticket = self.tickets.get(ref)
        now = self.tickets.clock()
        targets = [
            a for a in ticket.approvals if a.revoked_at is None and (a.sent_at is None or a.export_key)
        ]
        if not targets:
            raise RequestRefused(f"{ticket.ref}: no export or approval to revoke")
        deleted = sum(1 for a in targets if a.export_key and self.machines.revoke(a.export_key))
        ids = {a.approval_id for a in targets}

        self.tickets.change_approvals(
            ticket.ref,
            lambda current: _updated(current, ids, {"revoked_at": now, "revoked_by": actor}),
            actor=actor,
            action=EXPORT_REVOKED,
            why=why,
            details={"approvals": len(ids), "exports_deleted": deleted},
        )
        return Revoked(ticket.ref, deleted)

    def _why_not(self, ticket: Ticket, live: list[ExportApproval]) -> str:
        if live:
            return (
                f"{ticket.ref}: you approved this export yourself; another person must send it "
                "(two-person rule)"
            )
        if any(not a.used and a.requester != ticket.sender for a in ticket.approvals):
            return f"{ticket.ref}: the requester changed since the approval; approve again"
        if any(not a.used for a in ticket.approvals):
            hours = int(self.rules.approval_max_age.total_seconds() // 3600)
            return f"{ticket.ref}: the approval is older than {hours} hours; approve again"
        return (
            f"{ticket.ref}: no approval on record; run `ceip privacy approve-export {ticket.ref} --why ...`"
        )


def _updated(ticket: Ticket, ids: set[str], update: dict[str, Any]) -> tuple[ExportApproval, ...]:
    """The ticket's approvals with `update` applied to those named."""
    return tuple(a.model_copy(update=update) if a.approval_id in ids else a for a in ticket.approvals)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
