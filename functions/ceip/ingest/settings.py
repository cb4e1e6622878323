"""IngestFunction configuration, read once from the environment at the first invocation."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from ceip.runtime.settings import Settings


class IngestSettings(Settings):
    reports_bucket: str = Field(alias="REPORTS_BUCKET", min_length=3, max_length=63)
    suppression_table: str = Field(alias="SUPPRESSION_TABLE", min_length=3)
    machine_key_secret_id: str = Field(alias="MACHINE_KEY_SECRET_ID", min_length=1)
    # The aggregation's per-machine bounds (same template parameters): entries past them are not stored.
    bound_problems: int = Field(default=16, alias="BOUND_PROBLEMS_PER_MACHINE", ge=1, le=256)
    bound_features: int = Field(default=48, alias="BOUND_FEATURES_PER_MACHINE", ge=1, le=256)
    bound_hardware_features: int = Field(default=8, alias="BOUND_HARDWARE_FEATURES_PER_MACHINE", ge=1, le=64)


@cache
def ingest_settings() -> IngestSettings:
    return IngestSettings.from_environment()
