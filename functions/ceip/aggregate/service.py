"""Aggregation decisions for one UTC day: what is read, what is dropped, what is written where.

Takes ports (report source, aggregate store, suppression filter) and options; never reads the
environment, never calls boto3, never logs. The handler and the `ceip aggregate` CLI both call
aggregate_day().
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

from ceip.aggregate import dates
from ceip.aggregate.engine import ActiveProduct, Engine, EngineLimits, PartnerRules, Published, SketchInput
from ceip.aggregate.loading import load_objects
from ceip.aggregate.manifest import Engine as EngineInfo
from ceip.aggregate.manifest import InputCounts, Manifest, Parameters, WindowSummary
from ceip.aggregate.parallel import map_in_threads
from ceip.aggregate.sketches import LG_K, DaySketch, Window, rolling_windows, sketch_of
from ceip.aggregate.tables import AUDIENCES, DAILY_TABLES, ROLLING_TABLES, ROLLING_WINDOWS, TABLES
from ceip.machines.suppression import SuppressionCheck
from ceip.storage import aggregate_keys, keys
from ceip.storage.aggregate_s3 import AggregateStore, ReportSource

PUBLISHED_EARLY = ("active", "configuration", "usage", "problems", "features")
"""Daily tables built and published while performance, the heaviest, is still being computed."""
STORE_WORKERS = 8
"""The day's files (about 30) go up, the earlier days' sketches (27) come down and the day's prefixes
(19) are listed side by side: one request after the other would wait a second or two on S3."""
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
    suppression: SuppressionCheck,
    options: AggregationOptions,
    now: datetime | None = None,
) -> DayResult:
    """Build every table of `day` and replace that day's previous output completely."""
    with (
        tempfile.TemporaryDirectory(prefix="ceip-aggregate-", dir=options.work_dir) as scratch,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="history") as history,
    ):
        work = Path(scratch)
        # The earlier days' sketches (a listing and up to 27 GETs) come down while the day is loaded.
        fetching_earlier = history.submit(_fetch_earlier_sketches, day, store, work / "past")
        limits = EngineLimits(options.memory_limit_mb, options.threads, work / "duckdb")
        load = functools.partial(
            load_objects,
            source=source,
            chunk_objects=options.chunk_objects,
            fetch_workers=options.fetch_workers,
            parse_threads=options.threads,
        )
        # DuckDB starts (tens of milliseconds, every run) while the objects are listed and the first
        # chunk is fetched; the first append waits for it.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine") as starter:
            starting = starter.submit(_started_engine, limits)
            try:
                day_keys, previous_keys = _listed_keys(day, source, options.lookback_hours)
                loaded = load(
                    day_keys,
                    append=lambda files: starting.result().append_reports(files),
                    directory=work / "day",
                )
            except BaseException:
                with contextlib.suppress(Exception):
                    starting.result().close()
                raise
        engine = starting.result()
        try:
            previous = load(previous_keys, append=engine.append_previous_ids, directory=work / "previous")
            dropped = engine.drop_unusable()
            day_machines = engine.machine_ids()
            suppressed = suppression.suppressed(day_machines) & set(day_machines)
            suppressed_reports = engine.drop_machines(sorted(suppressed))
            aggregated = engine.report_count()
            engine.encode_products()
            engine.build_machine_tables()
            earlier = engine.read_sketches(fetching_earlier.result())
            rules = PartnerRules(options.min_machines, options.fold_share, options.rows_per_file)
            out = work / "out"
            sketches_path = out / "sketches.parquet"
            windows, published = _build_and_publish(
                day, engine, earlier, rules=rules, out=out, sketches_path=sketches_path
            )
            active = engine.active_products()
            outputs, rows = _outputs(day, published)
            outputs.append(_Output(aggregate_keys.sketches_key(day), sketches_path, CONTENT_TYPES["parquet"]))
        except BaseException:
            engine.close()
            raise
        # DuckDB hands back its memory (tens of milliseconds for a large day) while the files go up.
        closing = history.submit(engine.close)
        try:
            manifest_key = aggregate_keys.manifest_key(day)
            written, stale = _replace_day_output(day, store, outputs, manifest_key)
        finally:
            closing.result()

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


def _replace_day_output(
    day: date, store: AggregateStore, outputs: list[_Output], manifest_key: str
) -> tuple[list[str], int]:
    """Put the day's files in place of an earlier run's; the keys written and the stale ones deleted."""
    # Withdrawn before the first file is replaced: a rerun that dies halfway must not leave the old
    # manifest vouching for a mix of two runs' files. No manifest means "not ready"; the retry fixes it.
    store.delete([manifest_key])
    map_in_threads(
        lambda output: store.put(output.key, output.path.read_bytes(), content_type=output.content_type),
        outputs,
        STORE_WORKERS,
    )
    written = [output.key for output in outputs]
    return written, _delete_stale(day, store, set(written))


def _started_engine(limits: EngineLimits) -> Engine:
    """A DuckDB session with the empty input tables the loads append to."""
    engine = Engine(limits)
    try:
        engine.create_inputs()
    except BaseException:
        engine.close()
        raise
    return engine


def _build_and_publish(
    day: date,
    engine: Engine,
    earlier: dict[date, list[DaySketch]],
    *,
    rules: PartnerRules,
    out: Path,
    sketches_path: Path,
) -> tuple[list[Window], list[Published]]:
    """Today's sketches (written to sketches_path) and the windows, the daily and rolling tables, and
    every table published.

    Three threads side by side: performance, the one heavy daily table, is built and published on one
    from the start; the sketch inputs, sketches, windows and rolling tables (Python and small
    statements; DuckDB releases the GIL) and their publication on another; the other daily tables,
    small statements whose fixed costs leave DuckDB's threads idle, and their publication on the
    calling thread. (Built after the small tables, performance waited out their fixed costs: some 0.1 s
    a run whatever the size of the day.)"""
    late = [table for table in DAILY_TABLES if table not in PUBLISHED_EARLY]

    def rolling_published() -> tuple[list[Window], list[Published]]:
        today, windows = _sketches_and_windows(day, engine.sketch_inputs(), earlier)
        engine.write_sketches(today, sketches_path)
        engine.build_rolling_tables(windows)
        return windows, engine.publish(ROLLING_TABLES, out, rules)

    def late_published() -> list[Published]:
        engine.build_daily_tables(late)
        return engine.publish(late, out, rules)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="aggregate") as background:
        heavy = background.submit(late_published)
        rolling = background.submit(rolling_published)
        engine.build_daily_tables(PUBLISHED_EARLY)
        early = engine.publish(PUBLISHED_EARLY, out, rules)
        windows, rolling_tables = rolling.result()
        published = early + heavy.result() + rolling_tables
    return windows, published


def _listed_keys(day: date, source: ReportSource, lookback_hours: int) -> tuple[list[str], list[str]]:
    """The day's report objects, and those of the previous day's last hours (retries across midnight)."""
    day_keys = source.list_keys(keys.report_day_prefix(day))
    previous_day = day - timedelta(days=1)
    previous_keys = [
        key
        for hour in dates.lookback_hours(lookback_hours)
        for key in source.list_keys(aggregate_keys.report_hour_prefix(previous_day, hour))
    ]
    return day_keys, previous_keys


def _sketches_and_windows(
    day: date, inputs: list[SketchInput], earlier: dict[date, list[DaySketch]]
) -> tuple[list[DaySketch], list[Window]]:
    """Today's sketches, and the 7- and 28-day windows ending with `day` merged from them and the
    earlier days' stored ones."""
    today = [DaySketch(i.key, i.total, sketch_of(i.machine_keys)) for i in inputs]
    by_day = {**earlier, day: today}
    days = dates.window_days(day, max(ROLLING_WINDOWS))
    return today, rolling_windows(days, ROLLING_WINDOWS, by_day)


def _fetch_earlier_sketches(day: date, store: AggregateStore, directory: Path) -> dict[date, Path]:
    """The stored sketch files of the days before `day` that the longest window covers, fetched into
    directory (days never aggregated are absent). One listing says which days have them (without list
    rights on a key, S3 answers a GET of a missing object with 403, not 404); those are fetched side
    by side."""
    directory.mkdir(parents=True, exist_ok=True)
    stored = set(store.list_keys(aggregate_keys.table_prefix("internal", aggregate_keys.SKETCHES_TABLE)))
    days = [
        d
        for d in dates.window_days(day, max(ROLLING_WINDOWS))[:-1]
        if aggregate_keys.sketches_key(d) in stored
    ]

    def fetch(earlier: date) -> Path | None:
        data = store.get(aggregate_keys.sketches_key(earlier))
        if data is None:  # deleted since the listing: the day counts as missing
            return None
        path = directory / f"{earlier.isoformat()}.parquet"
        path.write_bytes(data)
        return path

    paths = map_in_threads(fetch, days, STORE_WORKERS)
    return {earlier: path for earlier, path in zip(days, paths, strict=True) if path}


def _outputs(day: date, published: list[Published]) -> tuple[list[_Output], dict[str, int]]:
    """The published files as store keys, in the order of TABLES, and the rows per audience and table."""
    by_table = {p.table: p for p in published}
    outputs: list[_Output] = []
    rows: dict[str, int] = {}
    for audience in AUDIENCES:
        for table in TABLES:
            rows[f"{audience}/{table}"] = by_table[table].rows[audience]
            outputs.extend(
                _Output(
                    aggregate_keys.table_part_key(audience, table, day, f.part, f.fmt),
                    f.path,
                    CONTENT_TYPES[f.fmt],
                )
                for f in by_table[table].files
                if f.audience == audience
            )
    return outputs, rows


def _delete_stale(day: date, store: AggregateStore, written: set[str]) -> int:
    """Delete what an earlier run left under this day's table prefixes and is not part of this run."""
    prefixes = [
        aggregate_keys.table_day_prefix(audience, table, day) for audience in AUDIENCES for table in TABLES
    ]
    prefixes.append(aggregate_keys.table_day_prefix("internal", aggregate_keys.SKETCHES_TABLE, day))
    listed = map_in_threads(store.list_keys, prefixes, STORE_WORKERS)
    stale = [key for keys_under in listed for key in keys_under if key not in written]
    if stale:
        store.delete(stale)
    return len(stale)
