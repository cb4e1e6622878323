"""The tables a run writes, for whom, and where their definitions live."""

from __future__ import annotations

from typing import Literal

from ceip.storage.aggregate_keys import Audience

DAILY_TABLES = ("active", "problems", "features", "configuration", "performance", "usage")
"""Built by sql/internal/<table>.sql from the day's reports."""
ROLLING_TABLES = ("active_rolling", "problems_rolling", "features_rolling")
"""Built from the HLL sketches of the last 7 and 28 days (window_days says which)."""
TABLES = DAILY_TABLES + ROLLING_TABLES
"""Every table exists twice: internal (exact) and partner (sql/partner/<table>.sql)."""
ROLLING_WINDOWS = (7, 28)

AUDIENCES: tuple[Audience, ...] = ("internal", "partner")
FileFormat = Literal["parquet", "csv"]


def formats(audience: Audience) -> tuple[FileFormat, ...]:
    """Partners get CSV beside Parquet; internal consumers (and Athena) read Parquet."""
    return ("parquet", "csv") if audience == "partner" else ("parquet",)


def engine_table(audience: Audience, table: str) -> str:
    """The name of the table inside the DuckDB session."""
    return table if audience == "internal" else f"partner_{table}"
