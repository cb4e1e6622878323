"""IngestFunction configuration, read once from the environment at the first invocation."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from ceip.runtime.settings import Settings


class IngestSettings(Settings):
    reports_bucket: str = Field(alias="REPORTS_BUCKET", min_length=3, max_length=63)
    suppression_table: str = Field(alias="SUPPRESSION_TABLE", min_length=3)
    machine_key_secret_id: str = Field(alias="MACHINE_KEY_SECRET_ID", min_length=1)


@cache
def ingest_settings() -> IngestSettings:
    return IngestSettings.from_environment()
