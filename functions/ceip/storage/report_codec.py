"""Stored form of accepted reports: gzip newline-delimited JSON, one validated report per line.

Encoding is deterministic (model field order, gzip mtime 0) so an identical batch gives an identical digest.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from ceip.reports.model import Report

RECEIVED_AT = "received_at"


def canonical_line(report: Report) -> str:
    """Compact JSON in the model's field order: deterministic for identical input, and without spaces,
    so the purge finds `"machine_id":"..."` without parsing."""
    return report.model_dump_json(exclude_none=True)


def content_digest(lines: Sequence[str]) -> str:
    """Digest of the reports alone (not received_at), so a retry of the same batch maps to the same key."""
    hasher = hashlib.sha256()
    for line in lines:
        hasher.update(line.encode("utf-8"))
        hasher.update(b"\n")
    return hasher.hexdigest()[:32]


def format_received_at(received_at: datetime) -> str:
    return received_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode_lines(lines: Iterable[str], received_at: datetime) -> bytes:
    """Append received_at to each canonical line and gzip the result."""
    stamp = json.dumps(format_received_at(received_at))
    suffix = f',"{RECEIVED_AT}":{stamp}}}\n'
    text = "".join(line[:-1] + suffix for line in lines)
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def decode_lines(data: bytes) -> Iterator[dict[str, Any]]:
    """Stored object bytes back to report dicts (raises on corrupt data; readers decide what to skip)."""
    for raw in gzip.decompress(data).splitlines():
        if raw.strip():
            yield json.loads(raw)
