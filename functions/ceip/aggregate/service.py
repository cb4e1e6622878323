"""Aggregation decisions for one UTC day: what is read, what is dropped, what is written where.

Takes ports (report source, aggregate store, suppression filter) and options; never reads the
environment, never calls boto3, never logs. The handler and the `ceip aggregate` CLI both call
aggregate_day().
"""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

from ceip.aggregate import dates
from ceip.aggregate.engine import ActiveProduct, Engine, EngineLimits
from ceip.aggregate.loading import load_objects
from ceip.aggregate.manifest import Engine as EngineInfo
from ceip.aggregate.manifest import InputCounts, Manifest, Parameters, WindowSummary
from ceip.aggregate.ports import AggregateStore, ReportSource, SuppressionFilter
from ceip.aggregate.sketches import LG_K, DaySketch, Window, rolling_window, sketch_of
from ceip.aggregate.tables import AUDIENCES, ROLLING_WINDOWS, TABLES, engine_table, formats
from ceip.storage import aggregate_keys, keys

CONTENT_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


@dataclass(frozen=True, slots=True)
class AggregationOptions:
    min_machines: int = 50
    """K: a partner cell needs at least this many distinct machines."""
    fold_share: float = 0.01
    """Partner configuration values held by fewer machines than this share are folded into 'other'."""
    lookback_hours: int = 2
    """Report ids stored in the previous day's last hours count as already seen (retries at midnight)."""
    memory_limit_mb: int = 1024
    threads: int = 2
    fetch_workers: int = 16
    chunk_objects: int = 2500
    """Objects fetched per chunk: the next chunk is fetched while this one is parsed."""
    rows_per_file: int = 1_000_000
    work_dir: Path | None = None
    """Where staged reports and DuckDB's files go (the system temp directory when None)."""

    def __post_init__(self) -> None:
        if self.min_machines < 1:
            raise ValueError("min_machines must be at least 1")
        if not 0 <= self.fold_share < 1:
            raise ValueError("fold_share must be in [0, 1)")
        dates.lookback_hours(self.lookback_hours)
        if self.chunk_objects < 1:
            raise ValueError("chunk_objects must be at least 1")
        if self.rows_per_file < 1:
            raise ValueError("rows_per_file must be at least 1")


@dataclass(frozen=True, slots=True)
class DayResult:
    manifest: Manifest
    manifest_key: str
    active: tuple[ActiveProduct, ...]
    """The day's internal active table, for a summary."""


@dataclass(frozen=True, slots=True)
class _Output:
    key: str
    path: Path
    content_type: str


def aggregate_day(
    day: date,
    *,
    source: ReportSource,
    store: AggregateStore,
    suppression: SuppressionFilter,
    options: AggregationOptions,
    now: datetime | None = None,
) -> DayResult:
    """Build every table of `day` and replace that day's previous output completely."""
    with tempfile.TemporaryDirectory(prefix="ceip-aggregate-", dir=options.work_dir) as scratch:
        work = Path(scratch)
        day_keys = source.list_keys(keys.report_day_prefix(day))
        previous_day = day - timedelta(days=1)
        previous_keys = [
            key
            for hour in dates.lookback_hours(options.lookback_hours)
            for key in source.list_keys(aggregate_keys.report_hour_prefix(previous_day, hour))
        ]
        limits = EngineLimits(options.memory_limit_mb, options.threads, work / "duckdb")
        with Engine(limits) as engine:
            engine.create_inputs()
            load = functools.partial(
                load_objects,
                source=source,
                chunk_objects=options.chunk_objects,
                fetch_workers=options.fetch_workers,
                inflate_workers=options.threads,
            )
            loaded = load(day_keys, append=engine.append_reports, directory=work / "day")
            previous = load(previous_keys, append=engine.append_previous_ids, directory=work / "previous")
            dropped = engine.drop_unusable()
            day_machines = engine.machine_ids()
            suppressed = suppression.suppressed(day_machines) & set(day_machines)
            suppressed_reports = engine.drop_machines(sorted(suppressed))
            aggregated = engine.report_count()
            engine.build_daily_tables()
            today = [DaySketch(i.key, i.total, sketch_of(i.machine_keys)) for i in engine.sketch_inputs()]
            windows = _rolling_windows(day, today, store, engine, work / "past")
            engine.build_rolling_tables(windows)
            engine.build_partner_tables(min_machines=options.min_machines, fold_share=options.fold_share)
            active = engine.active_products()
            outputs, rows = _export(day, engine, work / "out", options.rows_per_file)
            sketches_path = work / "out" / "sketches.parquet"
            engine.write_sketches(today, sketches_path)
            outputs.append(_Output(aggregate_keys.sketches_key(day), sketches_path, CONTENT_TYPES["parquet"]))
        manifest_key = aggregate_keys.manifest_key(day)
        # Withdrawn before the first file is replaced: a rerun that dies halfway must not leave the old
        # manifest vouching for a mix of two runs' files. No manifest means "not ready"; the retry fixes it.
        store.delete([manifest_key])
        for output in outputs:
            store.put(output.key, output.path.read_bytes(), content_type=output.content_type)
        written = [output.key for output in outputs]
        stale = _delete_stale(day, store, set(written))

    duplicates_within = dropped.get("duplicate", 0)
    from_previous = dropped.get("seen_previous_day", 0)
    corrupt = dropped.get("corrupt", 0)
    manifest = Manifest(
        dt=day,
        generated_at=(now or datetime.now(UTC)).astimezone(UTC),
        input=InputCounts(
            objects_listed=len(day_keys),
            objects_read=loaded.objects_read,
            objects_corrupt=loaded.objects_corrupt,
            objects_vanished=loaded.objects_vanished,
            bytes_read=loaded.bytes_read,
            lines_read=loaded.lines,
            corrupt_lines_skipped=corrupt,
            reports_read=loaded.lines - corrupt,
            duplicates_dropped=duplicates_within + from_previous,
            duplicates_within_day=duplicates_within,
            duplicates_from_previous_day=from_previous,
            previous_day_objects_read=previous.objects_read,
            suppressed_machines_dropped=len(suppressed),
            suppressed_reports_dropped=suppressed_reports,
            reports_aggregated=aggregated,
            machines=len(day_machines) - len(suppressed),
        ),
        parameters=Parameters(
            min_machines=options.min_machines,
            fold_share=options.fold_share,
            dedup_lookback_hours=options.lookback_hours,
            hll_lg_k=LG_K,
        ),
        rows=rows,
        files=written,
        stale_files_deleted=stale,
        windows=[
            WindowSummary(
                days=w.days,
                start=w.start,
                end=w.end,
                days_with_data=len(w.days_with_data),
                missing_days=list(w.missing_days),
            )
            for w in windows
        ],
        engine=EngineInfo(version=Engine.version(), sketches=version("datasketches")),
    )
    # Written last: a manifest present means every file it lists is in place.
    store.put(manifest_key, manifest.model_dump_json(indent=2).encode(), content_type=CONTENT_TYPES["json"])
    return DayResult(manifest, manifest_key, active)


def _rolling_windows(
    day: date, today: list[DaySketch], store: AggregateStore, engine: Engine, directory: Path
) -> list[Window]:
    """The 7- and 28-day windows ending with `day`, from today's sketches and earlier days' stored ones."""
    directory.mkdir(parents=True, exist_ok=True)
    by_day: dict[date, list[DaySketch]] = {day: today}
    for earlier in dates.window_days(day, max(ROLLING_WINDOWS))[:-1]:
        key = aggregate_keys.sketches_key(earlier)
        # List first: without list rights on a key, S3 answers a GET of a missing object with 403, not 404.
        listed = store.list_keys(
            aggregate_keys.table_day_prefix("internal", aggregate_keys.SKETCHES_TABLE, earlier)
        )
        data = store.get(key) if key in listed else None
        if data is None:
            continue
        path = directory / f"{earlier.isoformat()}.parquet"
        path.write_bytes(data)
        by_day[earlier] = engine.read_sketches(path)
    return [rolling_window(dates.window_days(day, length), by_day) for length in ROLLING_WINDOWS]


def _export(
    day: date, engine: Engine, directory: Path, rows_per_file: int
) -> tuple[list[_Output], dict[str, int]]:
    outputs: list[_Output] = []
    rows: dict[str, int] = {}
    for audience in AUDIENCES:
        for table in TABLES:
            name = engine_table(audience, table)
            rows[f"{audience}/{table}"] = engine.row_count(name)
            for fmt in formats(audience):
                paths = engine.export(
                    name, directory / audience / table / fmt, fmt, rows_per_file=rows_per_file
                )
                outputs.extend(
                    _Output(
                        aggregate_keys.table_part_key(audience, table, day, part, fmt),
                        path,
                        CONTENT_TYPES[fmt],
                    )
                    for part, path in enumerate(paths)
                )
    return outputs, rows


def _delete_stale(day: date, store: AggregateStore, written: set[str]) -> int:
    """Delete what an earlier run left under this day's table prefixes and is not part of this run."""
    prefixes = [
        aggregate_keys.table_day_prefix(audience, table, day) for audience in AUDIENCES for table in TABLES
    ]
    prefixes.append(aggregate_keys.table_day_prefix("internal", aggregate_keys.SKETCHES_TABLE, day))
    stale = [key for prefix in prefixes for key in store.list_keys(prefix) if key not in written]
    if stale:
        store.delete(stale)
    return len(stale)
