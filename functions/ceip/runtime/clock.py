"""The clock every function and the CLI read: UTC, aware. Tests replace it where it is used."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
