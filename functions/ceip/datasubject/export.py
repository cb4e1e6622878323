"""Export: every stored report of one machine, as one JSON document for the person who asked.

Only the privacy team runs it (from the CLI, after a recorded approval). The document lives in the
exports bucket, encrypted, and expires after 7 days; the requester gets a presigned link.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ceip.datasubject.model import iso
from ceip.machines.machine_key import canonical_guid
from ceip.storage.exports import ExportWriter
from ceip.storage.gzip_members import CorruptGzip, inflate
from ceip.storage.keys import REPORTS_PREFIX
from ceip.storage.report_objects import ReportObjects

LINK_LIFETIME_SECONDS = 7 * 24 * 3600
EXPORT_PREFIX = "exports/"


@dataclass(frozen=True)
class ExportResult:
    export_id: str
    key: str
    reports: int
    objects_scanned: int
    url: str


def collect_reports(machine_id: str, objects: ReportObjects) -> tuple[list[dict[str, Any]], int]:
    """Every stored report of the machine (current versions), and how many objects were scanned."""
    needle = f'"machine_id":"{canonical_guid(machine_id)}"'.encode()
    line_with_needle = re.compile(rb"^.*" + re.escape(needle) + rb".*$", re.MULTILINE)
    reports: list[dict[str, Any]] = []
    scanned = 0
    for stored in objects.objects(REPORTS_PREFIX, None):
        scanned += 1
        if not stored.has_current:
            continue
        try:
            # Every member: an object Firehose appended to holds later reports after the first.
            data = inflate(objects.read(stored.key, stored.latest_version))
        except CorruptGzip:
            continue
        if needle in data:
            reports.extend(json.loads(line) for line in line_with_needle.findall(data))
    reports.sort(key=lambda r: (str(r.get("received_at", "")), str(r.get("report_id", ""))))
    return reports, scanned


def export_machine(
    machine_id: str, *, objects: ReportObjects, writer: ExportWriter, now: datetime, reference: str
) -> ExportResult:
    """Collect, write and link the machine's reports; `reference` is the ticket it answers."""
    guid = canonical_guid(machine_id)
    reports, scanned = collect_reports(guid, objects)
    export_id = str(uuid.uuid4())
    key = f"{EXPORT_PREFIX}{export_id}.json"
    document = {
        "machine_id": guid,
        "ticket": reference,
        "generated_at": iso(now),
        "report_count": len(reports),
        "reports": reports,
        "note": (
            "Every report stored for this machine GUID at the time of the export, as the product sent "
            "it, plus the time we received it. No IP address or other request data is ever stored."
        ),
    }
    writer.put_json(key, json.dumps(document, indent=2, sort_keys=True).encode("utf-8"))
    url = writer.presigned_url(key, LINK_LIFETIME_SECONDS)
    return ExportResult(export_id, key, len(reports), scanned, url)
