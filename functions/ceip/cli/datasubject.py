"""`ceip privacy purge|requests|erase|approve-export|export|revoke-export`: data-subject requests, from
the privacy team's side.

The rules (what a ticket's erasure files and records, when an export may go out and what its mail says)
are ceip.privacy.data_requests'; this module builds the data-subject side from its composition roots,
adapts it to that module's two ports (privacy and datasubject never import each other) and prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ceip.cli.failures import Refused
from ceip.cli.privacy import actor, guarded, print_draft, service
from ceip.cli.tables import print_table
from ceip.datasubject.erasure import ErasureDesk
from ceip.datasubject.export import collect, export_machines
from ceip.datasubject.model import ErasureRequest, iso
from ceip.datasubject.purge import Deadline
from ceip.datasubject.settings import DataSubjectSettings
from ceip.datasubject.wiring import build_desk, build_purger
from ceip.privacy.data_requests import (
    ExportedDocument,
    ExportRules,
    FiledErasure,
    TicketErasure,
    TicketExport,
    tickets_served,
)
from ceip.runtime.clock import utc_now
from ceip.runtime.settings import MissingSettings
from ceip.storage.exports import S3ExportWriter
from ceip.storage.report_objects import S3ReportObjects

REQUEST_COLUMNS = (
    "REQUEST",
    "STATUS",
    "ORIGIN",
    "EXPECTED BY",
    "REMOVED",
    "OBJECTS",
    "REMAINING",
    "UNREADABLE",
    "DONE",
)


# -- the data-subject side, adapted to ceip.privacy.data_requests' ports -----------------------------
def _filed(request: ErasureRequest) -> FiledErasure:
    receipt = request.receipt.as_dict() if request.receipt else None
    return FiledErasure(request.request_id, request.status.value, request.expected_by, receipt)


@dataclass(frozen=True)
class DeskFiling:
    """ErasureFiling on the data-subject desk (the same one PrivacyRequestsFunction files with)."""

    desk: ErasureDesk

    def file(self, guid: str, *, origin: str) -> FiledErasure:
        return _filed(self.desk.file(guid, now=utc_now(), origin=origin))

    def find(self, request_id: str) -> FiledErasure | None:
        found = self.desk.status(request_id)
        return _filed(found) if found is not None else None


@dataclass(frozen=True)
class S3MachineExport:
    """MachineExport on the reports bucket (read) and the exports bucket (the documents and links)."""

    objects: S3ReportObjects
    writer: S3ExportWriter
    link_hours: int

    def export(self, guids: Sequence[str], *, reference: str, approval_id: str) -> ExportedDocument:
        result = export_machines(
            guids,
            objects=self.objects,
            writer=self.writer,
            now=utc_now(),
            reference=reference,
            approval_id=approval_id,
            link_hours=self.link_hours,
        )
        return ExportedDocument(
            result.key, result.reports, result.url, result.expires_at, result.objects_unreadable
        )

    def counts(self, guids: Sequence[str]) -> dict[str, int]:
        return {guid: len(found) for guid, found in collect(guids, self.objects).reports.items()}

    def revoke(self, export_key: str) -> bool:
        return self.writer.delete(export_key)


def _settings() -> DataSubjectSettings:
    return DataSubjectSettings.from_environment()


def ticket_erasure() -> TicketErasure:
    return TicketErasure(service(), DeskFiling(build_desk(_settings())))


def ticket_export(acting: str) -> TicketExport:
    """The export rules and stores as the settings say; `acting` names the signer's sessions."""
    settings = _settings()
    reports, exports = settings.reports_bucket, settings.exports_bucket
    if not reports or not exports:
        raise MissingSettings(
            [n for n, v in (("REPORTS_BUCKET", reports), ("EXPORTS_BUCKET", exports)) if not v]
        )
    writer = S3ExportWriter(
        exports, signer_role_arn=settings.export_signer_role_arn, session_name=acting.rsplit("/", 1)[-1]
    )
    rules = ExportRules(
        two_person_rule=settings.export_two_person_rule,
        approval_max_age=timedelta(hours=settings.export_approval_max_age_hours),
        link_hours=settings.export_link_hours,
    )
    return TicketExport(service(), S3MachineExport(S3ReportObjects(reports), writer, rules.link_hours), rules)


# -- runners ---------------------------------------------------------------------------------------
def run_purge(args: argparse.Namespace) -> int:
    settings = _settings()
    outcome = build_purger(settings, Deadline(None)).run(resume_only=args.resume_only)
    desk = build_desk(settings)
    served = [r for r in map(desk.status, outcome.requests) if r is not None]
    refs = tickets_served(r.origin for r in served)
    if refs:
        erasure = ticket_erasure()
        for ref in refs:
            erasure.link_receipts(ref)
    if args.json:
        print(
            json.dumps({"status": outcome.status, "requests": [_request_view(r) for r in served]}, indent=2)
        )
    else:
        print(
            f"purge {outcome.status}: {len(outcome.requests)} request(s), {outcome.objects_scanned} objects "
            f"scanned, {outcome.reports_removed} reports removed, {outcome.unreadable_objects} unreadable"
        )
        for request in served:
            print(_request_line(request))
    return 0 if outcome.status in ("fulfilled", "nothing_pending") else 1


def show_requests(args: argparse.Namespace) -> int:
    settings = _settings()
    desk = build_desk(settings)
    if args.request_id:
        request = desk.status(args.request_id)
        if request is None:
            raise Refused(f"no request {args.request_id}")
        print(json.dumps(_request_view(request), indent=2) if args.json else request_summary(request))
        return 0
    requests = desk.requests(open_only=args.open)
    if args.json:
        print(json.dumps([_request_view(r) for r in requests], indent=2))
        return 0
    if requests:
        print_table(REQUEST_COLUMNS, [_request_row(r) for r in requests])
    print(f"{len(requests)} request(s)")
    return 0


@guarded
def run_erase(args: argparse.Namespace) -> int:
    filed = ticket_erasure().erase(args.ref, actor=actor(args))
    for request in filed.requests:
        print(_filed_line(request))
    ref = service().get(args.ref).ref
    if filed.recorded:
        print(
            f"{ref}: erasure filed for {len(filed.requests)} machine(s); "
            "the receipt is linked after the purge"
        )
    else:
        print(f"{ref}: erasure already filed for {len(filed.requests)} machine(s); nothing new recorded")
    return 0


@guarded
def run_approve_export(args: argparse.Namespace) -> int:
    acting = actor(args)
    ticket = ticket_export(acting).approve(args.ref, actor=acting, why=args.why)
    approval = ticket.approvals[-1]
    print(
        f"{ticket.ref}: export of {len(approval.guids)} machine(s) approved by {approval.approver}; "
        "another person sends it (`ceip privacy export`)"
    )
    return 0


@guarded
def run_export(args: argparse.Namespace) -> int:
    acting = actor(args)
    export = ticket_export(acting)
    if args.dry_run:
        return print_draft(export.draft(args.ref, actor=acting))
    sent = export.send(args.ref, actor=acting)
    ref = sent.plan.ref
    reports = sum(sent.document.reports.values())
    print(
        f"{ref}: {reports} report(s) of {len(sent.plan.guids)} machine(s) exported and the link sent "
        f"(approved by {sent.plan.approval.approver}; the link works until {iso(sent.document.expires_at)})"
    )
    if sent.document.objects_unreadable:
        print(
            f"{ref}: warning: {sent.document.objects_unreadable} report object(s) could not be read and may "
            "hold reports missing from the export (docs/operations.md: unreadable objects)",
            file=sys.stderr,
        )
    if sent.plan.uncovered:
        print(f"{ref}: {sent.plan.uncovered} GUID(s) on the ticket not covered by the approval: not exported")
    return 0


@guarded
def run_revoke_export(args: argparse.Namespace) -> int:
    acting = actor(args)
    export = ticket_export(acting)
    revoked = export.revoke(args.ref, actor=acting, why=args.why)
    print(f"{revoked.ref}: approvals revoked, {revoked.documents_deleted} export document(s) deleted")
    return 0


# -- views -----------------------------------------------------------------------------------------
def _request_view(request: ErasureRequest) -> dict[str, Any]:
    return {
        "request_id": request.request_id,
        "status": request.status.value,
        "origin": request.origin,
        "received_at": iso(request.received_at),
        "expected_by": iso(request.expected_by),
        "status_reason": request.status_reason,
        "receipt": request.receipt.as_dict() if request.receipt else None,
    }


def _request_row(request: ErasureRequest) -> list[object]:
    r = request.receipt
    return [
        request.request_id,
        request.status.value,
        request.origin,
        iso(request.expected_by),
        r.reports_removed if r else "",
        r.objects_rewritten if r else "",
        r.verification_remaining if r else "",
        r.verification_unreadable_objects if r else "",
        r.completed_at if r else "",
    ]


def request_summary(request: ErasureRequest) -> str:
    lines = [
        f"{request.request_id}  {request.status.value}",
        f"  origin:       {request.origin}",
        f"  received:     {iso(request.received_at)}",
        f"  expected by:  {iso(request.expected_by)}",
    ]
    r = request.receipt
    if r is None:
        lines.append("  receipt:      none yet (the purge issues it)")
        return "\n".join(lines)
    lines += [
        f"  done:         {r.completed_at}",
        f"  removed:      {r.reports_removed} report(s) from {r.objects_rewritten} object(s), "
        f"{r.noncurrent_versions_deleted} old version(s) deleted",
        f"  verified:     a re-scan of {r.verification_objects_scanned} object(s) found "
        f"{r.verification_remaining} remaining",
    ]
    if r.verification_unreadable_objects:
        lines.append(
            f"  unreadable:   {r.verification_unreadable_objects} object version(s) could not be read; the "
            "request stays open and the next purge tries again. Repair or remove: "
            + (", ".join(r.unreadable_object_keys) or "-")
        )
    if request.status_reason:
        lines.append(f"  open because: {request.status_reason.value}")
    return "\n".join(lines)


def _request_line(request: ErasureRequest) -> str:
    status = request.status.value
    line = f"{request.request_id}  {status:<11}  {request.origin:<16}  due {iso(request.expected_by)}"
    if request.receipt:
        r = request.receipt
        line += (
            f"  removed {r.reports_removed} reports from {r.objects_rewritten} objects, "
            f"{r.noncurrent_versions_deleted} old versions deleted; re-scan of "
            f"{r.verification_objects_scanned} objects found {r.verification_remaining}; "
            f"done {r.completed_at}"
        )
    if request.status_reason:
        line += f"; open: {request.status_reason.value}"
    return line


def _filed_line(request: FiledErasure) -> str:
    return f"{request.request_id}  {request.status:<11}  due {iso(request.expected_by)}"
