"""A reader for the tables the aggregation writes (the in-memory ports are the twins in
ceip.storage.aggregate_s3 and ceip.machines.suppression)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ceip.storage import aggregate_keys


def read_parts(objects: dict[str, bytes], prefix: str, suffix: str = ".parquet") -> list[dict[str, Any]]:
    """Every row of the part files under prefix, read back with DuckDB's own Parquet/CSV reader."""
    keys = sorted(key for key in objects if key.startswith(prefix) and key.endswith(suffix))
    if not keys:
        raise AssertionError(f"no {suffix} files under {prefix}")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        for index, key in enumerate(keys):
            path = Path(scratch) / f"{index}{suffix}"
            path.write_bytes(objects[key])
            reader = "read_parquet" if suffix == ".parquet" else "read_csv"
            result = duckdb.connect().execute(f"SELECT * FROM {reader}(?)", [str(path)])
            names = [column[0] for column in result.description]
            rows.extend(dict(zip(names, row, strict=True)) for row in result.fetchall())
    return rows


def read_table(
    objects: dict[str, bytes],
    audience: aggregate_keys.Audience,
    table: str,
    day: date,
    suffix: str = ".parquet",
) -> list[dict[str, Any]]:
    return read_parts(objects, aggregate_keys.table_day_prefix(audience, table, day), suffix)
