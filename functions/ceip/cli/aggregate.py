"""`ceip aggregate build` (and the older `ceip aggregate --date D`): build the prevalence tables of one
UTC day, or of a range for backfills.

Runs AggregateFunction's own composition root in the operator's process, against the local stack from
`make run` or AWS with the usual credentials (REPORTS_BUCKET, AGGREGATES_BUCKET, ...).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from ceip.aggregate import dates, dictionary
from ceip.aggregate.service import DayResult
from ceip.aggregate.settings import AggregateSettings
from ceip.aggregate.tables import TABLES
from ceip.aggregate.wiring import build_aggregation
from ceip.cli.failures import Refused, UsageError
from ceip.storage import aggregate_keys
from ceip.storage.aggregate_s3 import S3AggregateStore


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


def settings_for(min_machines: int | None) -> AggregateSettings:
    """AggregateFunction's settings, with K overridden by --min-machines."""
    settings = AggregateSettings.from_environment()
    if min_machines is None:
        return settings
    if min_machines < 1:
        raise Refused("--min-machines must be at least 1")
    return settings.model_copy(update={"min_machines": min_machines})


def run(args: argparse.Namespace) -> int:
    if args.date is None:
        raise UsageError(
            "give --date D (and --until D2 for a range), e.g. `ceip aggregate build --date yesterday`"
        )
    try:
        days = dates.day_range(args.date, args.until or args.date)
    except ValueError as error:
        raise Refused(f"aggregate: {error}") from None
    settings = settings_for(args.min_machines)
    aggregates_bucket = settings.aggregates_bucket
    aggregation = build_aggregation(settings)
    progress = Progress(len(days), sys.stderr) if len(days) > 1 else None
    results: list[DayResult] = []
    for day in days:
        if progress:
            progress.show(f"aggregating {day.isoformat()}")
        result = aggregation.run(day, new_partner_release=args.new_partner_release)
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
        "min_machines": manifest.partner_release.min_machines,
        "partner_release": {
            "drawings": manifest.partner_release.drawings,
            "republished": manifest.partner_release.republished,
            "epsilon": manifest.partner_release.epsilon,
            "delta": manifest.partner_release.delta,
            "period_days": manifest.partner_release.period_days,
        },
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
    release = manifest.partner_release
    how = "republished unchanged" if release.republished else "drawn by this run"
    lines.append(
        f"  partner release {release.drawings} ({how}): differentially private, epsilon {release.epsilon:g} "
        f"and delta {release.delta:g} per machine over {release.period_days} days; a row appears when its "
        f"noisy machine count clears its threshold, never below {release.min_machines} (K)"
    )
    if release.republished:
        lines.append(
            "  the partner tables are that earlier release, whatever changed since; "
            "--new-partner-release draws anew (charged to the privacy budget)"
        )
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


def run_declare(args: argparse.Namespace) -> int:
    """Check a data dictionary and store it where the next aggregation runs read it."""
    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        raise Refused(f"declare: cannot read {args.file}: {error.strerror}") from None
    try:
        declared = dictionary.parse_dictionary(data)
    except dictionary.InvalidDictionary as error:
        raise Refused(f"declare: not a data dictionary: {error}") from None
    settings = AggregateSettings.from_environment()
    key = aggregate_keys.dictionary_key(declared.product_id)
    what = (
        f"{declared.product_id}: {len(declared.problems)} problem ids and {len(declared.features)} feature "
        f"ids declared, s3://{settings.aggregates_bucket}/{key}"
    )
    if args.dry_run:
        print(f"dry run, nothing stored: {what}")
        return 0
    S3AggregateStore(settings.aggregates_bucket).put(
        key, declared.model_dump_json(indent=2).encode(), content_type="application/json"
    )
    print(f"stored {what}; the next aggregation run keeps and publishes them")
    return 0
