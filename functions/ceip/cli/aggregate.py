"""`ceip aggregate`: build the prevalence tables of one UTC day, or of a range for backfills.

Runs the same service as the scheduled AggregateFunction, here in the operator's process, against the
local stack from `make run` or AWS with the usual credentials (REPORTS_BUCKET, AGGREGATES_BUCKET).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from ceip.aggregate import dates
from ceip.aggregate.service import AggregationOptions, DayResult, aggregate_day
from ceip.aggregate.tables import TABLES
from ceip.cli.dates import parse_day
from ceip.cli.environment import required
from ceip.machines.snapshot import suppression_snapshot
from ceip.storage import aggregate_keys
from ceip.storage.aggregate_s3 import S3AggregateStore, S3ReportSource


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "aggregate",
        help="build the prevalence tables of a UTC day (or a range of days)",
        description=__doc__,
    )
    parser.add_argument("--date", type=parse_day, required=True, help="YYYY-MM-DD, today or yesterday")
    parser.add_argument("--until", type=parse_day, default=None, help="last day of a range (inclusive)")
    parser.add_argument(
        "--min-machines",
        type=int,
        default=None,
        help="K for the partner tables (default: PARTNER_MIN_MACHINES, else 50)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON summary per day on stdout")
    parser.set_defaults(run=run)


def options_from_environment(min_machines: int | None) -> AggregationOptions:
    def number(name: str, default: int) -> int:
        value = os.environ.get(name)
        return int(value) if value else default

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    work_dir = os.environ.get("AGGREGATE_WORK_DIR")
    return AggregationOptions(
        min_machines=min_machines if min_machines is not None else number("PARTNER_MIN_MACHINES", 50),
        lookback_hours=number("DEDUP_LOOKBACK_HOURS", 2),
        memory_limit_mb=number("DUCKDB_MEMORY_LIMIT_MB", 1024),
        threads=cpus,
        work_dir=Path(work_dir) if work_dir else None,
    )


class Progress:
    """A one-line progress bar on stderr for multi-day runs; plain lines when stderr is not a terminal."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.done = 0
        self.started = time.monotonic()
        self.live = stream.isatty()

    def show(self, label: str) -> None:
        filled = self.WIDTH * self.done // self.total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        elapsed = time.monotonic() - self.started
        line = f"[{bar}] {self.done}/{self.total} {label} ({elapsed:.0f}s)"
        self.stream.write(f"\r{line}" if self.live else f"{line}\n")
        self.stream.flush()

    def advance(self, label: str) -> None:
        self.done += 1
        self.show(label)

    def finish(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    reports_bucket = required("REPORTS_BUCKET")
    aggregates_bucket = required("AGGREGATES_BUCKET")
    try:
        days = dates.day_range(args.date, args.until or args.date)
        options = options_from_environment(args.min_machines)
    except ValueError as error:
        raise SystemExit(f"ceip aggregate: {error}") from None
    source = S3ReportSource(reports_bucket)
    store = S3AggregateStore(aggregates_bucket)
    suppression = suppression_snapshot(required("SUPPRESSION_TABLE"), required("MACHINE_KEY_SECRET_ID"))
    progress = Progress(len(days), sys.stderr) if len(days) > 1 else None
    results: list[DayResult] = []
    for day in days:
        if progress:
            progress.show(f"aggregating {day.isoformat()}")
        result = aggregate_day(day, source=source, store=store, suppression=suppression, options=options)
        results.append(result)
        if progress:
            progress.advance(f"done {day.isoformat()}")
    if progress:
        progress.finish()
    for result in results:
        if args.json:
            print(json.dumps(summary(result, aggregates_bucket), sort_keys=True))
        else:
            print(describe(result, aggregates_bucket))
    if not args.json and len(results) > 1:
        total = sum(r.manifest.input.reports_aggregated for r in results)
        print(
            f"{len(results)} days, {total:,} reports aggregated; tables under s3://{aggregates_bucket}/aggregates/"
        )
    return 0


def summary(result: DayResult, bucket: str) -> dict[str, Any]:
    manifest = result.manifest
    day = manifest.dt
    return {
        "dt": day.isoformat(),
        "input": manifest.input.model_dump(),
        "rows": manifest.rows,
        "active": [
            {"product_id": a.product_id, "machines": a.machines, "reports": a.reports} for a in result.active
        ],
        "internal": _location(bucket, "internal", day),
        "partner": _location(bucket, "partner", day),
        "manifest": f"s3://{bucket}/{result.manifest_key}",
        "min_machines": manifest.parameters.min_machines,
        "missing_window_days": sorted({d.isoformat() for w in manifest.windows for d in w.missing_days}),
    }


def describe(result: DayResult, bucket: str) -> str:
    manifest = result.manifest
    counts = manifest.input
    day = manifest.dt.isoformat()
    lines = [
        f"{day}: {counts.reports_aggregated:,} reports from {counts.machines:,} machines "
        f"({counts.objects_read:,} objects; dropped {counts.duplicates_dropped:,} duplicates, "
        f"{counts.corrupt_lines_skipped:,} corrupt lines, {counts.objects_corrupt:,} corrupt objects, "
        f"{counts.suppressed_reports_dropped:,} suppressed)",
    ]
    for active in result.active:
        lines.append(f"  {active.product_id}: {active.machines:,} machines, {active.reports:,} reports")
    for audience in ("internal", "partner"):
        rows = ", ".join(f"{table} {manifest.rows[f'{audience}/{table}']}" for table in TABLES)
        lines.append(f"  {audience:<8} {_location(bucket, audience, manifest.dt)}")
        lines.append(f"           rows: {rows}")
    lines.append(f"  partner cells need at least {manifest.parameters.min_machines} machines (K)")
    missing = sorted({d for w in manifest.windows for d in w.missing_days})
    if missing:
        lines.append(
            f"  rolling windows lack {len(missing)} day(s) never aggregated, oldest {missing[0].isoformat()}"
        )
    lines.append(f"  manifest s3://{bucket}/{result.manifest_key}")
    return "\n".join(lines)


def _location(bucket: str, audience: aggregate_keys.Audience, day: date) -> str:
    """Where one audience's tables of the day are: one folder per table, <table> stands for its name."""
    return f"s3://{bucket}/{aggregate_keys.AGGREGATES_PREFIX}{audience}/<table>/dt={day.isoformat()}/"
