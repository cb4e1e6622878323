"""`ceip aggregate tables` and `ceip aggregate show`: what was published for a day, and one table's rows.

Both read the aggregates bucket through the aggregation's own S3 adapter: the day's manifest says which
tables exist and how many rows each has; a table's Parquet parts are fetched to a temporary folder and
read by DuckDB (already the engine that wrote them; no other Parquet reader needed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ceip.aggregate.manifest import Manifest
from ceip.aggregate.tables import AUDIENCES
from ceip.cli.failures import Refused
from ceip.cli.settings import PublishedTables
from ceip.cli.tables import print_table, write_csv
from ceip.storage import aggregate_keys
from ceip.storage.aggregate_keys import Audience
from ceip.storage.aggregate_s3 import S3AggregateStore

TABLE_COLUMNS = ("TABLE", "AUDIENCE", "ROWS", "FILES")


def _store() -> S3AggregateStore:
    return S3AggregateStore(PublishedTables.from_environment().aggregates_bucket)


def read_manifest(store: S3AggregateStore, day: date) -> Manifest:
    body = store.get(aggregate_keys.manifest_key(day))
    if body is None:
        raise Refused(
            f"no tables for {day.isoformat()} in s3://{store.bucket}: build them with "
            f"`ceip aggregate build --date {day.isoformat()}`"
        )
    return Manifest.model_validate_json(body)


def published(manifest: Manifest) -> list[tuple[str, Audience, int, list[str]]]:
    """(table, audience, rows, files) for every table the run wrote, internal first."""
    found = []
    for audience in AUDIENCES:
        for name, rows in sorted(manifest.rows.items()):
            owner, _, table = name.partition("/")
            if owner == audience:
                prefix = aggregate_keys.table_day_prefix(audience, table, manifest.dt)
                found.append((table, audience, rows, [f for f in manifest.files if f.startswith(prefix)]))
    return found


def run_tables(args: argparse.Namespace) -> int:
    store = _store()
    manifest = read_manifest(store, args.date)
    tables = published(manifest)
    if args.json:
        view = [{"table": t, "audience": a, "rows": r, "files": f} for t, a, r, f in tables]
        print(json.dumps({"dt": manifest.dt.isoformat(), "tables": view}, indent=2))
        return 0
    print_table(
        TABLE_COLUMNS,
        [(t, a, r, len(f)) for t, a, r, f in tables],
        title=f"{manifest.dt.isoformat()}: {manifest.input.reports_aggregated:,} reports aggregated",
    )
    return 0


def read_table(
    store: S3AggregateStore, audience: Audience, table: str, day: date, limit: int
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and up to `limit` rows (all when 0) of one published table."""
    keys = [
        k
        for k in store.list_keys(aggregate_keys.table_day_prefix(audience, table, day))
        if k.endswith(".parquet")
    ]
    if not keys:
        raise Refused(f"no {audience} table {table} for {day.isoformat()} in s3://{store.bucket}")
    with tempfile.TemporaryDirectory(prefix="ceip-show-") as folder:
        paths = []
        for number, key in enumerate(keys):
            body = store.get(key)
            if body is None:
                raise Refused(f"s3://{store.bucket}/{key} disappeared while reading it")
            path = Path(folder) / f"part-{number:05d}.parquet"
            path.write_bytes(body)
            paths.append(str(path))
        with duckdb.connect() as connection:
            if limit > 0:
                result = connection.execute("SELECT * FROM read_parquet(?) LIMIT ?", [paths, limit])
            else:
                result = connection.execute("SELECT * FROM read_parquet(?)", [paths])
            columns = [d[0] for d in result.description]
            return columns, result.fetchall()


def run_show(args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise Refused("--limit must be 0 (all rows) or more")
    audience: Audience = "partner" if args.partner else "internal"
    columns, rows = read_table(_store(), audience, args.table, args.date, args.limit)
    if args.format == "json":
        print(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], indent=2, default=str))
    elif args.format == "csv":
        write_csv(columns, rows, sys.stdout)
    else:
        print_table(columns, rows, title=f"{audience}/{args.table} dt={args.date.isoformat()}")
    return 0
