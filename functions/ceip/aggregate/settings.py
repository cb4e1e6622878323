"""AggregateFunction configuration, read once from the environment at the first invocation."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from ceip.runtime.settings import Settings


class AggregateSettings(Settings):
    reports_bucket: str = Field(alias="REPORTS_BUCKET", min_length=3, max_length=63)
    aggregates_bucket: str = Field(alias="AGGREGATES_BUCKET", min_length=3, max_length=63)
    suppression_table: str = Field(alias="SUPPRESSION_TABLE", min_length=3)
    machine_key_secret_id: str = Field(alias="MACHINE_KEY_SECRET_ID", min_length=1)
    min_machines: int = Field(
        default=50,
        alias="PARTNER_MIN_MACHINES",
        ge=1,
        description="K: partner cells need this many machines.",
    )
    fold_share: float = Field(default=0.01, alias="PARTNER_FOLD_SHARE", ge=0, lt=1)
    dedup_lookback_hours: int = Field(default=2, alias="DEDUP_LOOKBACK_HOURS", ge=0, le=24)
    memory_limit_mb: int = Field(default=1024, alias="DUCKDB_MEMORY_LIMIT_MB", ge=128)
    fetch_workers: int = Field(default=16, alias="AGGREGATE_FETCH_WORKERS", ge=1, le=64)
    work_dir: str = Field(default="/tmp", alias="AGGREGATE_WORK_DIR", min_length=1)  # noqa: S108 - Lambda's only writable disk


@cache
def aggregate_settings() -> AggregateSettings:
    return AggregateSettings.from_environment()
