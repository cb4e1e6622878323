"""Export: every stored report of the machines one approval covers, as one JSON document for the person
who asked.

Only the privacy team runs it (from the CLI, after a recorded approval by another person). The document
lives in the exports bucket, encrypted, one per approval; the requester gets a presigned link that lasts
`link_hours`, the bucket deletes the document after a day, and `ceip privacy revoke-export` at once.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ceip.datasubject.model import iso
from ceip.machines.machine_key import canonical_guid
from ceip.storage.exports import ExportWriter
from ceip.storage.gzip_members import CorruptGzip, inflate
from ceip.storage.keys import REPORTS_PREFIX
from ceip.storage.report_objects import ReportObjects

DEFAULT_LINK_HOURS = 12
MAX_LINK_HOURS = 12
"""A presigned link dies with the session that signed it; a role session lasts at most 12 hours."""
EXPORT_PREFIX = "exports/"


@dataclass(frozen=True)
class ExportResult:
    key: str
    reports: dict[str, int]
    objects_scanned: int
    url: str
    expires_at: datetime


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


def export_machines(
    machine_ids: Sequence[str],
    *,
    objects: ReportObjects,
    writer: ExportWriter,
    now: datetime,
    reference: str,
    approval_id: str,
    link_hours: int = DEFAULT_LINK_HOURS,
) -> ExportResult:
    """Collect the machines' reports into one document (one per approval), write it and link it;
    `reference` is the ticket it answers."""
    if not 1 <= link_hours <= MAX_LINK_HOURS:
        raise ValueError(f"a link lasts 1 to {MAX_LINK_HOURS} hours")
    guids = [canonical_guid(m) for m in machine_ids]
    machines: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    scanned = 0
    for guid in guids:
        reports, scanned = collect_reports(guid, objects)
        machines.append({"machine_id": guid, "report_count": len(reports), "reports": reports})
        counts[guid] = len(reports)
    key = f"{EXPORT_PREFIX}{uuid.UUID(approval_id)}.json"
    document = {
        "ticket": reference,
        "generated_at": iso(now),
        "machines": machines,
        "note": (
            "Every report stored for these machine GUIDs at the time of the export, as the product sent "
            "it, plus the time we received it. No IP address or other request data is ever stored."
        ),
    }
    writer.put_json(key, json.dumps(document, indent=2, sort_keys=True).encode("utf-8"))
    seconds = link_hours * 3600
    url = writer.presigned_url(key, seconds)
    return ExportResult(key, counts, scanned, url, now + timedelta(seconds=seconds))
