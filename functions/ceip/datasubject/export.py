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
    objects_unreadable: int
    """Objects that could not be inflated: the export may lack reports they hold (the team is told)."""
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Collected:
    reports: dict[str, list[dict[str, Any]]]
    """Per canonical GUID, in the order asked, sorted by receipt."""
    objects_scanned: int
    objects_unreadable: int


def collect(machine_ids: Sequence[str], objects: ReportObjects) -> Collected:
    """Every stored report of these machines (current versions), in one pass over the objects."""
    guids = list(dict.fromkeys(canonical_guid(m) for m in machine_ids))
    needles = {guid: f'"machine_id":"{guid}"'.encode() for guid in guids}
    lines = {g: re.compile(rb"^.*" + re.escape(n) + rb".*$", re.MULTILINE) for g, n in needles.items()}
    reports: dict[str, list[dict[str, Any]]] = {guid: [] for guid in guids}
    scanned = unreadable = 0
    for stored in objects.objects(REPORTS_PREFIX, None):
        scanned += 1
        if not stored.has_current:
            continue
        try:
            # Every member: an object Firehose appended to holds later reports after the first.
            data = inflate(objects.read(stored.key, stored.latest_version))
        except CorruptGzip:
            unreadable += 1
            continue
        for guid, needle in needles.items():
            if needle in data:
                reports[guid].extend(json.loads(line) for line in lines[guid].findall(data))
    for found in reports.values():
        found.sort(key=lambda r: (str(r.get("received_at", "")), str(r.get("report_id", ""))))
    return Collected(reports, scanned, unreadable)


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
    collected = collect(machine_ids, objects)
    machines = [
        {"machine_id": guid, "report_count": len(found), "reports": found}
        for guid, found in collected.reports.items()
    ]
    counts = {guid: len(found) for guid, found in collected.reports.items()}
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
    return ExportResult(
        key,
        counts,
        collected.objects_scanned,
        collected.objects_unreadable,
        url,
        now + timedelta(seconds=seconds),
    )
