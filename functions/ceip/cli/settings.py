"""Settings of the CLI's read-only commands, which need one bucket, not a whole function's settings
(`REPORTS_BUCKET=... ceip reports list` works on its own). Same style as the functions' models."""

from __future__ import annotations

from pydantic import Field

from ceip.runtime.settings import Settings


class StoredReports(Settings):
    reports_bucket: str = Field(alias="REPORTS_BUCKET", min_length=3, max_length=63)


class PublishedTables(Settings):
    aggregates_bucket: str = Field(alias="AGGREGATES_BUCKET", min_length=3, max_length=63)
