"""`ceip privacy purge|requests|erase|export`: data-subject requests, from the privacy team's side.

Registered under `ceip privacy` next to the inbox commands.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from ceip.cli.environment import required
from ceip.datasubject.erasure import file_erasure
from ceip.datasubject.keyer import machine_keyer
from ceip.datasubject.model import ErasureRequest, iso
from ceip.datasubject.purge import Deadline, Purger
from ceip.datasubject.request_store import RequestStore
from ceip.datasubject.suppression import scan_keys
from ceip.storage.report_objects import S3Checkpoint, S3ReportObjects


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
