"""In-memory ports for the aggregation service, and a reader for the tables it writes."""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ceip.storage import aggregate_keys


class MemorySource:
    """Report objects by key, like the reports bucket."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = dict(objects)
        self.fetched: list[str] = []

    def list_keys(self, prefix: str) -> list[str]:
        return sorted(key for key in self.objects if key.startswith(prefix))

    def get(self, key: str) -> bytes | None:
        self.fetched.append(key)
        return self.objects.get(key)


class MemoryStore:
    """The aggregates bucket."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.content_types: dict[str, str] = {}
        self.deleted: list[str] = []

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        self.objects[key] = body
        self.content_types[key] = content_type

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def list_keys(self, prefix: str) -> list[str]:
        return sorted(key for key in self.objects if key.startswith(prefix))

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.deleted.append(key)
            self.objects.pop(key, None)


class SetSuppression:
    def __init__(self, machine_ids: Collection[str]) -> None:
        self.machine_ids = set(machine_ids)
        self.asked: set[str] = set()

    def suppressed(self, machine_ids: Collection[str]) -> set[str]:
        self.asked = set(machine_ids)
        return self.machine_ids & set(machine_ids)


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
