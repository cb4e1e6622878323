"""S3 key layout. Pure functions: the only place that knows how keys are spelled."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

REPORTS_PREFIX = "reports/"
REPORT_SUFFIX = ".ndjson.gz"
_PARTITION = re.compile(r"^reports/dt=(\d{4}-\d{2}-\d{2})/hr=(\d{2})/[^/]+$")


def report_partition(received_at: datetime) -> str:
    """reports/dt=YYYY-MM-DD/hr=HH/ of the UTC hour in which a request was received."""
    utc = received_at.astimezone(UTC)
    return f"{REPORTS_PREFIX}dt={utc:%Y-%m-%d}/hr={utc:%H}/"


def report_day_prefix(day: date) -> str:
    return f"{REPORTS_PREFIX}dt={day.isoformat()}/"


def report_object_key(received_at: datetime, content_digest: str) -> str:
    """Key of one stored batch; derived from its content so an identical retry overwrites it."""
    if not re.fullmatch(r"[0-9a-f]{16,64}", content_digest):
        raise ValueError("content_digest must be lower-case hex")
    return f"{report_partition(received_at)}{content_digest}{REPORT_SUFFIX}"


def partition_of(key: str) -> tuple[date, int] | None:
    """(day, hour) of a report object key, or None when the key is not in the layout."""
    match = _PARTITION.match(key)
    if not match:
        return None
    return date.fromisoformat(match.group(1)), int(match.group(2))
