"""S3 key layout of the aggregates bucket, and the report partitions aggregation reads. Pure functions.

aggregates/internal/<table>/dt=YYYY-MM-DD/part-00000.parquet    exact counts, never machine ids
aggregates/partner/<table>/dt=YYYY-MM-DD/part-00000.{parquet,csv}  differentially private
aggregates/internal/sketches/dt=YYYY-MM-DD/sketches.parquet     HLL sketches for rolling windows
aggregates/manifest/dt=YYYY-MM-DD/manifest.json                 what one run read and wrote
aggregates/manifest/dt=YYYY-MM-DD/partner-release.json          the day's partner release, republished
aggregates/dictionary/products/<product_id>.json               a product's declared ids (operators')
aggregates/partner/dictionary/dt=YYYY-MM-DD/dictionary.json     the dictionaries the day used
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from ceip.storage.keys import report_day_prefix

AGGREGATES_PREFIX = "aggregates/"
Audience = Literal["internal", "partner"]
TableFormat = Literal["parquet", "csv"]
SKETCHES_TABLE = "sketches"
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _checked(table: str) -> str:
    if not _TABLE_NAME.fullmatch(table):
        raise ValueError(f"not a table name: {table!r}")
    return table


def table_prefix(audience: Audience, table: str) -> str:
    """Every day of one table."""
    return f"{AGGREGATES_PREFIX}{audience}/{_checked(table)}/"


def table_day_prefix(audience: Audience, table: str, day: date) -> str:
    """Everything one run writes for one table and day lives under this prefix (and nothing else)."""
    return f"{AGGREGATES_PREFIX}{audience}/{_checked(table)}/dt={day.isoformat()}/"


def table_part_key(audience: Audience, table: str, day: date, part: int, fmt: TableFormat) -> str:
    if not 0 <= part <= 99_999:
        raise ValueError("part must be 0..99999")
    return f"{table_day_prefix(audience, table, day)}part-{part:05d}.{fmt}"


def sketches_key(day: date) -> str:
    return f"{table_day_prefix('internal', SKETCHES_TABLE, day)}{SKETCHES_TABLE}.parquet"


def manifest_key(day: date) -> str:
    return f"{AGGREGATES_PREFIX}manifest/dt={day.isoformat()}/manifest.json"


def partner_release_key(day: date) -> str:
    """The record of the day's partner release (beside the manifest, outside what partners read)."""
    return f"{AGGREGATES_PREFIX}manifest/dt={day.isoformat()}/partner-release.json"


DICTIONARY_PREFIX = f"{AGGREGATES_PREFIX}dictionary/products/"
_PRODUCT_ID = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,127}$")


def dictionary_key(product_id: str) -> str:
    if not _PRODUCT_ID.fullmatch(product_id):
        raise ValueError("not a product id")
    return f"{DICTIONARY_PREFIX}{product_id}.json"


def published_dictionary_key(day: date) -> str:
    return f"{AGGREGATES_PREFIX}partner/dictionary/dt={day.isoformat()}/dictionary.json"


def report_hour_prefix(day: date, hour: int) -> str:
    """reports/dt=YYYY-MM-DD/hr=HH/: one hour of one day's raw reports."""
    if not 0 <= hour <= 23:
        raise ValueError("hour must be 0..23")
    return f"{report_day_prefix(day)}hr={hour:02d}/"
