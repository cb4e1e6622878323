"""Ingest decisions: which reports of a batch are kept, and where they are stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ceip.ingest.ports import ObjectWriter
from ceip.reports import limits
from ceip.reports.validation import RejectedReport, validate_reports
from ceip.storage import keys, report_codec

STORED_CONTENT_TYPE = "application/gzip"


class InvalidBatch(Exception):
    """The body is JSON but not {"reports": [...]} with 1 to 100 entries."""


class NoValidReport(Exception):
    def __init__(self, rejected: tuple[RejectedReport, ...]) -> None:
        super().__init__("no valid report")
        self.rejected = rejected


@dataclass(frozen=True, slots=True)
class IngestResult:
    accepted: int
    rejected: tuple[RejectedReport, ...]
    object_key: str


def batch_items(payload: Any) -> list[Any]:
    """The report entries of a batch body, or InvalidBatch."""
    if not isinstance(payload, dict) or set(payload) != {"reports"}:
        raise InvalidBatch
    items = payload["reports"]
    if not isinstance(items, list) or not 1 <= len(items) <= limits.MAX_REPORTS_PER_BATCH:
        raise InvalidBatch
    return items


def ingest(payload: Any, *, received_at: datetime, writer: ObjectWriter) -> IngestResult:
    """Validate a batch and store its valid reports as one object, keyed by their content.

    A client retrying the identical batch after a timeout produces the same key (within the same hour),
    so the retry replaces the first copy instead of adding a second one.
    """
    validation = validate_reports(batch_items(payload), now=received_at)
    if not validation.accepted:
        raise NoValidReport(validation.rejected)
    lines = [report_codec.canonical_line(report) for report in validation.accepted]
    key = keys.report_object_key(received_at, report_codec.content_digest(lines))
    writer.put(key, report_codec.encode_lines(lines, received_at), content_type=STORED_CONTENT_TYPE)
    return IngestResult(len(validation.accepted), validation.rejected, key)
