"""`ceip privacy purge|requests|erase|export`: data-subject requests, from the privacy team's side.

Registered under `ceip privacy` next to the inbox commands.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from ceip.cli import privacy
from ceip.cli.environment import required
from ceip.cli.privacy import actor, guarded, service
from ceip.datasubject.erasure import file_erasure
from ceip.datasubject.export import export_machine
from ceip.datasubject.model import ErasureRequest, iso
from ceip.datasubject.purge import Deadline, Purger
from ceip.datasubject.purge_checkpoint import S3Checkpoint
from ceip.datasubject.request_store import RequestStore
from ceip.machines.keyer import machine_keyer
from ceip.machines.suppression import scan_keys
from ceip.privacy.templates import Kind
from ceip.storage.exports import S3ExportWriter
from ceip.storage.report_objects import S3ReportObjects


def add_commands(sub: Any) -> None:
    purge = sub.add_parser(
        "purge", help="run the purge now: erase the reports of machines with open requests"
    )
    purge.add_argument("--resume-only", action="store_true", help="only finish an interrupted pass")
    purge.add_argument("--json", action="store_true")
    purge.set_defaults(run=run_purge)

    requests = sub.add_parser("requests", help="erasure requests and their receipts")
    requests.add_argument("request_id", nargs="?", help="show one request")
    requests.add_argument("--open", action="store_true", help="only requests not yet fulfilled")
    requests.add_argument("--json", action="store_true")
    requests.set_defaults(run=show_requests)
    add_ticket_commands(sub)
    sub.choices["export"].set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    if args.ticket:
        done: int = guarded(lambda a: run_data_export(a, service(), actor(a)))(args)
        return done
    csv_done: int = privacy.run_export(args)
    return csv_done


def _store() -> RequestStore:
    return RequestStore(required("PRIVACY_REQUESTS_TABLE"), required("SUPPRESSION_TABLE"))


def file_erasure_for(machine_id: str, origin: str) -> ErasureRequest:
    """File (or find) the open erasure request of a machine, as the API would."""
    key = machine_keyer(required("MACHINE_KEY_SECRET_ID")).key(machine_id)
    return file_erasure(key, now=datetime.now(UTC), store=_store(), origin=origin)


def run_purge(args: argparse.Namespace) -> int:
    bucket = required("REPORTS_BUCKET")
    purger = Purger(
        objects=S3ReportObjects(bucket),
        requests=_store(),
        checkpoints=S3Checkpoint(bucket),
        keyer=machine_keyer(required("MACHINE_KEY_SECRET_ID")),
        suppressed_keys=scan_keys(required("SUPPRESSION_TABLE")),
        now=lambda: datetime.now(UTC),
        deadline=Deadline(None),
    )
    outcome = purger.run(resume_only=args.resume_only)
    served = [r for r in (_store().get(i) for i in outcome.requests) if r is not None]
    refs = sorted({r.origin.removeprefix("ticket:") for r in served if r.origin.startswith("ticket:")})
    if refs:
        tickets = service()
        for ref in refs:
            link_receipts(tickets, ref)
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
    store = _store()
    if args.request_id:
        request = store.get(args.request_id)
        if request is None:
            print(f"no request {args.request_id}")
            return 1
        print(json.dumps(_request_view(request), indent=2))
        return 0
    requests = store.open_requests() if args.open else store.all_requests()
    requests.sort(key=lambda r: r.received_at)
    if args.json:
        print(json.dumps([_request_view(r) for r in requests], indent=2))
    else:
        for request in requests:
            print(_request_line(request))
        print(f"{len(requests)} request(s)")
    return 0


def _request_view(request: ErasureRequest) -> dict[str, Any]:
    return {
        "request_id": request.request_id,
        "status": request.status.value,
        "origin": request.origin,
        "received_at": iso(request.received_at),
        "expected_by": iso(request.expected_by),
        "receipt": request.receipt.as_dict() if request.receipt else None,
    }


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
    return line


# -- acting on privacy-inbox tickets --------------------------------------------------------------
ERASURE_FILED = "erasure_filed"
ERASURE_RECEIPT = "erasure_receipt"
EXPORT_APPROVED = "export_approved"
EXPORT_SENT = "export_sent"


def add_ticket_commands(sub: Any) -> None:
    erase = sub.add_parser("erase", help="file the erasure of a ticket's machine GUID(s); links receipts")
    erase.add_argument("ref")
    erase.set_defaults(run=guarded(run_erase))

    approve = sub.add_parser("approve-export", help="record that a human checked the requester owns the GUID")
    approve.add_argument("ref")
    approve.add_argument("--why", required=True, help="how ownership of the GUID was established")
    approve.set_defaults(run=guarded(run_approve_export))


def link_receipts(tickets: Any, ref: str) -> list[ErasureRequest]:
    """Record in the ticket's history every receipt of its fulfilled requests not yet recorded."""
    history = tickets.history(ref)
    filed = [rid for h in history if h.action == ERASURE_FILED for rid in h.details.get("request_ids", [])]
    linked = {h.details.get("request_id") for h in history if h.action == ERASURE_RECEIPT}
    store = _store()
    requests = [r for r in (store.get(rid) for rid in filed) if r is not None]
    for request in requests:
        if request.receipt is not None and request.request_id not in linked:
            tickets.record(
                ref,
                actor="system",
                action=ERASURE_RECEIPT,
                details={"request_id": request.request_id, **request.receipt.as_dict()},
            )
    return requests


def run_erase(args: argparse.Namespace) -> int:
    tickets = service()
    ticket = tickets.get(args.ref)
    if not ticket.guids:
        raise ValueError(
            f"{ticket.ref} carries no machine GUID: add one with `ceip privacy note` and a label"
        )
    link_receipts(tickets, ticket.ref)
    filed = [file_erasure_for(guid, origin=f"ticket:{ticket.ref}") for guid in ticket.guids]
    tickets.record(
        ticket.ref,
        actor=actor(args),
        action=ERASURE_FILED,
        details={
            "request_ids": [r.request_id for r in filed],
            "expected_by": iso(max(r.expected_by for r in filed)),
        },
    )
    for request in filed:
        print(_request_line(request))
    print(f"{ticket.ref}: erasure filed for {len(filed)} machine(s); the receipt is linked after the purge")
    return 0


def run_approve_export(args: argparse.Namespace) -> int:
    tickets = service()
    ticket = tickets.get(args.ref)
    if not ticket.guids:
        raise ValueError(f"{ticket.ref} carries no machine GUID")
    tickets.record(ticket.ref, actor=actor(args), action=EXPORT_APPROVED, why=args.why)
    print(f"{ticket.ref}: export approved")
    return 0


def export_approved(history: list[Any]) -> bool:
    """An approval by a person (not the system) is on record, later than any previous export."""
    approved = False
    for entry in history:
        if entry.action == EXPORT_APPROVED and entry.actor != "system":
            approved = True
        elif entry.action == EXPORT_SENT:
            approved = False
    return approved


def run_data_export(args: argparse.Namespace, tickets: Any, acting: str) -> int:
    ticket = tickets.get(args.ticket)
    if not ticket.guids:
        raise ValueError(f"{ticket.ref} carries no machine GUID")
    if not export_approved(tickets.history(ticket.ref)):
        raise ValueError(
            f"{ticket.ref}: no approval on record; run `ceip privacy approve-export {ticket.ref} --why ...`"
        )
    objects = S3ReportObjects(required("REPORTS_BUCKET"))
    writer = S3ExportWriter(required("EXPORTS_BUCKET"))
    results = [
        export_machine(guid, objects=objects, writer=writer, now=datetime.now(UTC), reference=ticket.ref)
        for guid in ticket.guids
    ]
    links = "\n\n".join(
        f"Machine {guid}: {result.reports} report(s)\n{result.url}"
        for guid, result in zip(ticket.guids, results, strict=True)
    )
    text = (
        "Here is every report we hold for the machine identifier(s) you gave us, as one JSON document "
        "per machine. Each link works for 7 days; the documents are deleted after that.\n\n" + links
    )
    tickets.reply(ticket.ref, Kind.ANSWER, text, actor=acting)
    tickets.record(
        ticket.ref,
        actor=acting,
        action=EXPORT_SENT,
        details={"exports": [{"export_id": r.export_id, "reports": r.reports} for r in results]},
    )
    print(f"{ticket.ref}: {sum(r.reports for r in results)} report(s) exported and the link sent")
    return 0
