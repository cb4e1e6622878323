"""AggregateFunction configuration, read once from the environment at the first invocation."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class AggregateSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    reports_bucket: str = Field(min_length=3, max_length=63)
    aggregates_bucket: str = Field(min_length=3, max_length=63)
    suppression_table: str = Field(min_length=3)
    machine_key_secret_id: str = Field(min_length=1)
    min_machines: int = Field(default=50, ge=1, description="K: partner cells need this many machines.")
    fold_share: float = Field(default=0.01, ge=0, lt=1)
    dedup_lookback_hours: int = Field(default=2, ge=0, le=24)
    memory_limit_mb: int = Field(default=1024, ge=128)
    fetch_workers: int = Field(default=16, ge=1, le=64)
    work_dir: str = Field(default="/tmp", min_length=1)  # noqa: S108 - Lambda's only writable disk


@cache
def aggregate_settings() -> AggregateSettings:
    fields = {
        "min_machines": "PARTNER_MIN_MACHINES",
        "fold_share": "PARTNER_FOLD_SHARE",
        "dedup_lookback_hours": "DEDUP_LOOKBACK_HOURS",
        "memory_limit_mb": "DUCKDB_MEMORY_LIMIT_MB",
        "fetch_workers": "AGGREGATE_FETCH_WORKERS",
        "work_dir": "AGGREGATE_WORK_DIR",
    }
    optional = {field: os.environ[env] for field, env in fields.items() if os.environ.get(env)}
    return AggregateSettings.model_validate(
        {
            "reports_bucket": os.environ["REPORTS_BUCKET"],
            "aggregates_bucket": os.environ["AGGREGATES_BUCKET"],
            "suppression_table": os.environ["SUPPRESSION_TABLE"],
            "machine_key_secret_id": os.environ["MACHINE_KEY_SECRET_ID"],
            **optional,
        }
    )
