"""Ingest decisions: which reports of a batch are kept, and where they are stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ceip.machines.suppression import SuppressionCheck
from ceip.reports import limits
from ceip.reports.minimization import StoredEntries, minimized
from ceip.reports.validation import RejectedReport, validate_reports
from ceip.storage import keys, report_codec
from ceip.storage.s3 import ObjectWriter

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
    """Reports that passed validation: what the client is told, suppressed ones included."""
    rejected: tuple[RejectedReport, ...]
    suppressed: int
    """Valid reports dropped because their machine asked for erasure; never stored."""
    object_key: str | None
    """None when every valid report was suppressed and nothing was written."""


def batch_items(payload: Any) -> list[Any]:
    """The report entries of a batch body, or InvalidBatch."""
    if not isinstance(payload, dict) or set(payload) != {"reports"}:
        raise InvalidBatch
    items = payload["reports"]
    if not isinstance(items, list) or not 1 <= len(items) <= limits.MAX_REPORTS_PER_BATCH:
        raise InvalidBatch
    return items


def ingest(
    payload: Any,
    *,
    received_at: datetime,
    writer: ObjectWriter,
    suppression: SuppressionCheck,
    stored: StoredEntries = StoredEntries(),  # noqa: B008 - frozen, so one shared default is safe
) -> IngestResult:
    """Validate a batch and store its valid reports as one object, keyed by their content. Each report
    keeps only the entries the aggregation can count (ceip.reports.minimization).

    Reports of machines on the suppression list are dropped before anything is written; the client
    gets its normal answer (it may have sent them before its user opted out).
    A client retrying the identical batch after a timeout produces the same key (within the same hour),
    so the retry replaces the first copy instead of adding a second one.
    """
    validation = validate_reports(batch_items(payload), now=received_at)
    if not validation.accepted:
        raise NoValidReport(validation.rejected)
    suppressed = suppression.suppressed({str(r.machine_id) for r in validation.accepted})
    kept = [r for r in validation.accepted if str(r.machine_id) not in suppressed]
    dropped = len(validation.accepted) - len(kept)
    if not kept:
        return IngestResult(len(validation.accepted), validation.rejected, dropped, None)
    lines = [report_codec.canonical_line(minimized(report, stored)) for report in kept]
    key = keys.report_object_key(received_at, report_codec.content_digest(lines))
    writer.put(key, report_codec.encode_lines(lines, received_at), content_type=STORED_CONTENT_TYPE)
    return IngestResult(len(validation.accepted), validation.rejected, dropped, key)


@dataclass(frozen=True, slots=True)
class Ingest:
    """The ingest service on its ports, as a handler's composition root builds it."""

    writer: ObjectWriter
    suppression: SuppressionCheck
    stored: StoredEntries = StoredEntries()  # noqa: RUF009 - frozen, so one shared default is safe

    def __call__(self, payload: Any, *, received_at: datetime) -> IngestResult:
        return ingest(
            payload,
            received_at=received_at,
            writer=self.writer,
            suppression=self.suppression,
            stored=self.stored,
        )
