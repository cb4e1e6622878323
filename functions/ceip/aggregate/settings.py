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
        description="K: a floor on the noisy machine count of any partner row.",
    )
    partner_epsilon: float = Field(default=16.0, alias="PARTNER_EPSILON", gt=0, le=100)
    partner_delta: float = Field(default=1e-6, alias="PARTNER_DELTA", gt=0, le=1e-3)
    bound_products: int = Field(default=3, alias="BOUND_PRODUCTS_PER_MACHINE", ge=1, le=64)
    bound_reports: int = Field(default=24, alias="BOUND_REPORTS_PER_MACHINE", ge=1, le=10_000)
    bound_problems: int = Field(default=16, alias="BOUND_PROBLEMS_PER_MACHINE", ge=1, le=256)
    bound_features: int = Field(default=48, alias="BOUND_FEATURES_PER_MACHINE", ge=1, le=256)
    bound_hardware_features: int = Field(default=8, alias="BOUND_HARDWARE_FEATURES_PER_MACHINE", ge=1, le=64)
    bound_hits: int = Field(default=20, alias="BOUND_HITS_PER_PROBLEM", ge=1, le=1_000_000)
    bound_uses: int = Field(default=32, alias="BOUND_USES_PER_FEATURE", ge=1, le=1_000_000)
    cap_problem_ids: int = Field(default=10_000, alias="CAP_PROBLEM_IDS", ge=1, le=1_000_000)
    cap_feature_ids: int = Field(default=2_000, alias="CAP_FEATURE_IDS", ge=1, le=1_000_000)
    cap_hardware_features: int = Field(default=64, alias="CAP_HARDWARE_FEATURES", ge=1, le=10_000)
    cap_products: int = Field(default=50, alias="CAP_PRODUCTS", ge=1, le=10_000)
    dedup_lookback_hours: int = Field(default=2, alias="DEDUP_LOOKBACK_HOURS", ge=0, le=24)
    memory_limit_mb: int = Field(default=1024, alias="DUCKDB_MEMORY_LIMIT_MB", ge=128)
    fetch_workers: int = Field(default=16, alias="AGGREGATE_FETCH_WORKERS", ge=1, le=64)
    work_dir: str = Field(default="/tmp", alias="AGGREGATE_WORK_DIR", min_length=1)  # noqa: S108 - Lambda's only writable disk


@cache
def aggregate_settings() -> AggregateSettings:
    return AggregateSettings.from_environment()
