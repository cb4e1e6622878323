"""Aggregation decisions for one UTC day: what is read, what is dropped, what is written where.

aggregate_day runs the day's steps top to bottom; the step functions follow it in the same order,
and schedule.DaySchedule runs the ones that overlap. Takes ports (report source, aggregate store,
suppression filter) and options; never reads the environment, never calls boto3, never logs. The
handler and the `ceip aggregate` CLI both call aggregate_day().
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import json
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

from pydantic import ValidationError

from ceip.aggregate import dates, dictionary, partner_budget, partner_release
from ceip.aggregate.bounds import CardinalityCaps, ContributionBounds
from ceip.aggregate.engine import ActiveProduct, Engine, EngineLimits, Published, SketchInput
from ceip.aggregate.loading import Append, Loaded, load_objects
from ceip.aggregate.manifest import (
    DictionarySummary,
    Folded,
    InputCounts,
    Manifest,
    Parameters,
    PartnerRelease,
    PartnerStatistic,
    ReleaseRecord,
    WindowSummary,
)
from ceip.aggregate.manifest import Engine as EngineInfo
from ceip.aggregate.parallel import map_in_threads
from ceip.aggregate.partner_budget import PartnerPrivacy
from ceip.aggregate.partner_release import Noise, OpenDPNoise
from ceip.aggregate.schedule import BUILT_BESIDE, PUBLISHED_EARLY, STORE_WORKERS, DaySchedule
from ceip.aggregate.sketches import LG_K, SKETCH_KEY_VERSION, DaySketch, Window, rolling_windows, sketch_of
from ceip.aggregate.tables import AUDIENCES, ROLLING_TABLES, ROLLING_WINDOWS, TABLES
from ceip.machines.sketch_key import SketchSalt
from ceip.machines.suppression import SuppressionCheck
from ceip.storage import aggregate_keys, keys
from ceip.storage.aggregate_s3 import AggregateStore, ReportSource

CONTENT_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


@dataclass(frozen=True, slots=True)
class AggregationOptions:
    privacy: PartnerPrivacy = dataclasses.field(default_factory=PartnerPrivacy)
    """The partner release's guarantee and its K floor."""
    lookback_hours: int = 2
    """Report ids stored in the previous day's last hours count as already seen (retries at midnight)."""
    memory_limit_mb: int = 1024
    threads: int = 2
    fetch_workers: int = 16
    chunk_objects: int = 2500
    """Objects fetched per chunk: the next chunk is fetched while this one is parsed."""
    rows_per_file: int = 1_000_000
    bounds: ContributionBounds = dataclasses.field(default_factory=ContributionBounds)
    caps: CardinalityCaps = dataclasses.field(default_factory=CardinalityCaps)
    work_dir: Path | None = None
    """Where staged reports and DuckDB's files go (the system temp directory when None)."""

    def __post_init__(self) -> None:
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
    sketch_salt: SketchSalt,
    options: AggregationOptions,
    now: datetime | None = None,
    new_partner_release: bool = False,
    noise: Noise | None = None,
) -> DayResult:
    """Build every table of `day` and replace that day's previous output completely, except the partner
    tables: a day's partner release is drawn once and republished unchanged by later runs (averaging
    reruns would cancel the noise), unless new_partner_release, which draws another and charges it to
    the day's budget (the manifest counts every drawing).

    The steps, in order; DaySchedule runs the ones that overlap (docs/adr/0001)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    with _collector_paused(), _Workspace.temporary(options.work_dir) as work, DaySchedule() as schedule:
        earlier_files = schedule.started_ahead(
            functools.partial(_fetch_earlier_sketches, day, store, work.earlier)
        )
        limits = EngineLimits(options.memory_limit_mb, options.threads, work.engine)
        with schedule.engine_starting(functools.partial(_started_engine, limits)) as started_engine:
            listed = _list_inputs(day, source, options.lookback_hours)
            loaded = _load(
                listed.day,
                source,
                options,
                to=work.day,
                append=lambda files: started_engine().append_reports(files),
            )
        engine = started_engine()
        with _closed_on_failure(engine):
            previous = _load(
                listed.previous_day, source, options, to=work.previous, append=engine.append_previous_ids
            )
            dictionaries = _read_dictionaries(store)
            engine.declare(dictionary.declared_rows(dictionaries.valid))
            plan = partner_budget.plan(options.bounds, options.privacy)
            # OpenDP loaded and the thresholds found (a tenth of a second) beside the SQL, not after it.
            release_prepared = schedule.started_ahead(functools.partial(partner_release.prepare, plan))
            kept = _drop_unusable_and_suppressed(engine, suppression, options)
            _build_machine_tables(engine, sketch_salt, options)
            folded = engine.folded_ids(options.caps)
            earlier = engine.read_sketches(earlier_files.result())
            early, beside, (windows, rolling) = schedule.tables_side_by_side(
                small=functools.partial(_build_and_publish_daily, engine, PUBLISHED_EARLY, work.out, options),
                heavy=functools.partial(_build_and_publish_daily, engine, BUILT_BESIDE, work.out, options),
                rolling=functools.partial(_build_and_publish_rolling, day, engine, earlier, work, options),
            )
            active = engine.active_products()
            release_prepared.result()
            release = _partner_release(
                day,
                engine,
                store,
                windows,
                work.out,
                plan=plan,
                options=options,
                now=now,
                new_release=new_partner_release,
                noise=noise,
            )
            outputs, rows = _outputs(day, [*early, *beside, *rolling, *release.published], work.sketches)
            outputs.append(_published_dictionaries(day, dictionaries, work.out))
        manifest_key = aggregate_keys.manifest_key(day)
        written, stale = schedule.closed_while_uploading(
            engine, functools.partial(_replace_day_output, day, store, outputs, manifest_key, release)
        )
    counts = _input_counts(listed, loaded, previous, kept)
    rows.update(release.rows)
    manifest = _manifest(
        day,
        now,
        options,
        counts,
        folded=Folded(**folded, products=kept.products_over_cap),
        dictionaries=dictionaries.summary,
        partner=release.record.release.model_copy(update={"republished": release.republished}),
        rows=rows,
        files=written,
        stale=stale,
        windows=windows,
    )
    # Written last: a manifest present means every file it lists is in place.
    store.put(manifest_key, manifest.model_dump_json(indent=2).encode(), content_type=CONTENT_TYPES["json"])
    return DayResult(manifest, manifest_key, active)


@dataclass(frozen=True, slots=True)
class _Workspace:
    """A run's local files, under one temporary directory that goes when the run ends."""

    earlier: Path
    """The earlier days' sketch files."""
    engine: Path
    """DuckDB's database and spill space."""
    day: Path
    previous: Path
    """Staged chunks of the day's objects and of the previous day's last hours."""
    out: Path
    """The files to upload."""

    @classmethod
    @contextlib.contextmanager
    def temporary(cls, parent: Path | None) -> Iterator[_Workspace]:
        with tempfile.TemporaryDirectory(prefix="ceip-aggregate-", dir=parent) as scratch:
            root = Path(scratch)
            yield cls(root / "past", root / "duckdb", root / "day", root / "previous", root / "out")

    @property
    def sketches(self) -> Path:
        return self.out / "sketches.parquet"


@dataclass(frozen=True, slots=True)
class _Listed:
    day: list[str]
    """The day's report objects."""
    previous_day: list[str]
    """The objects of the previous day's last hours, whose report ids count as already seen."""


@dataclass(frozen=True, slots=True)
class _Kept:
    """What cleaning dropped, and what is left to aggregate."""

    dropped: dict[str, int]
    """Reports deleted per reason: corrupt, duplicate, seen_previous_day, over_product_cap,
    over_products, over_reports."""
    products_over_cap: int
    suppressed_machines: int
    suppressed_reports: int
    machines: int
    reports: int


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the run, back on after (docs/adr/0015). Each full
    collection walks every live container, and a day at the caps holds some 200,000 (keys, sketches,
    window rows), none of them in a cycle: on the hostile day the collections took a third of the
    Python side's time. The run's memory is bounded by its inputs either way."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- the steps, in the order aggregate_day runs them -------------------------------------------------
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


def _started_engine(limits: EngineLimits) -> Engine:
    """A DuckDB session with the empty input tables the loads append to."""
    engine = Engine(limits)
    try:
        engine.create_inputs()
    except BaseException:
        engine.close()
        raise
    return engine


def _list_inputs(day: date, source: ReportSource, lookback_hours: int) -> _Listed:
    """The day's report objects, and those of the previous day's last hours (retries across midnight)."""
    day_keys = source.list_keys(keys.report_day_prefix(day))
    previous_day = day - timedelta(days=1)
    previous_keys = [
        key
        for hour in dates.lookback_hours(lookback_hours)
        for key in source.list_keys(aggregate_keys.report_hour_prefix(previous_day, hour))
    ]
    return _Listed(day_keys, previous_keys)


def _load(
    keys_to_load: list[str], source: ReportSource, options: AggregationOptions, *, append: Append, to: Path
) -> Loaded:
    """Fetch these objects into `to` chunk by chunk and append each chunk to an engine table."""
    return load_objects(
        keys_to_load,
        source=source,
        append=append,
        directory=to,
        chunk_objects=options.chunk_objects,
        fetch_workers=options.fetch_workers,
        parse_threads=options.threads,
    )


@contextlib.contextmanager
def _closed_on_failure(engine: Engine) -> Iterator[None]:
    try:
        yield
    except BaseException:
        engine.close()
        raise


@dataclass(frozen=True, slots=True)
class _Dictionaries:
    valid: list[dictionary.DataDictionary]
    summary: DictionarySummary


def _read_dictionaries(store: AggregateStore) -> _Dictionaries:
    """The products' data dictionaries; one that does not parse is left out and counted (an operator's
    mistake must not stop the day's tables)."""
    valid: list[dictionary.DataDictionary] = []
    invalid = 0
    for key in sorted(store.list_keys(aggregate_keys.DICTIONARY_PREFIX)):
        data = store.get(key)
        if data is None:
            continue
        try:
            found = dictionary.parse_dictionary(data)
        except dictionary.InvalidDictionary:
            invalid += 1
            continue
        if aggregate_keys.dictionary_key(found.product_id) != key:
            invalid += 1  # stored under another product's name
            continue
        valid.append(found)
    summary = DictionarySummary(
        products=len(valid),
        invalid=invalid,
        declared_problem_ids=sum(len(d.problems) for d in valid),
        declared_feature_ids=sum(len(d.features) for d in valid),
    )
    return _Dictionaries(valid, summary)


def _published_dictionaries(day: date, dictionaries: _Dictionaries, out: Path) -> _Output:
    """The dictionaries the day used, beside the partner tables: what each declared id means."""
    path = out / "dictionary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"dt": day.isoformat(), "products": [d.model_dump() for d in dictionaries.valid]}
    path.write_text(json.dumps(body, indent=2, sort_keys=True), encoding="utf-8")
    return _Output(aggregate_keys.published_dictionary_key(day), path, CONTENT_TYPES["json"])


def _drop_unusable_and_suppressed(
    engine: Engine, suppression: SuppressionCheck, options: AggregationOptions
) -> _Kept:
    """Delete corrupt lines, duplicates, the reports of suppressed machines and those beyond the day's
    product cap and a machine's daily bounds (after suppression: an erased machine's reports never
    decide what another keeps); count what is left."""
    engine.enumerate_products()
    dropped = engine.drop_unusable()
    day_machines = engine.machine_ids()
    suppressed = suppression.suppressed(day_machines) & set(day_machines)
    suppressed_reports = engine.drop_machines(sorted(suppressed))
    over = engine.drop_over_bounds(options.bounds, options.caps)
    dropped.update(over.reports)
    return _Kept(
        dropped=dropped,
        products_over_cap=over.products_over_cap,
        suppressed_machines=len(suppressed),
        suppressed_reports=suppressed_reports,
        # Counted again: a machine of products beyond the cap alone is gone altogether.
        machines=engine.machine_count() if over.products_over_cap else len(day_machines) - len(suppressed),
        reports=engine.report_count(),
    )


def _build_machine_tables(engine: Engine, sketch_salt: SketchSalt, options: AggregationOptions) -> None:
    """The per-machine and per-item tables every daily table and sketch reads, products as an ENUM,
    machines keyed for the sketches, ids within the contribution bounds and caps."""
    engine.encode_products()
    engine.key_machines(sketch_salt)
    engine.build_machine_tables(options.bounds, options.caps)


def _build_and_publish_daily(
    engine: Engine, tables: Sequence[str], out: Path, options: AggregationOptions
) -> list[Published]:
    engine.build_daily_tables(tables, options.caps)
    return engine.publish_internal(tables, out, options.rows_per_file)


def _build_and_publish_rolling(
    day: date,
    engine: Engine,
    earlier: dict[date, list[DaySketch]],
    work: _Workspace,
    options: AggregationOptions,
) -> tuple[list[Window], list[Published]]:
    """Today's sketches (written to the workspace), the windows merged with the earlier days', and the
    rolling tables built from them and published."""
    today, windows = _sketches_and_windows(day, engine.sketch_inputs(), earlier)
    engine.write_sketches(today, work.sketches)
    engine.build_rolling_tables(windows)
    return windows, engine.publish_internal(ROLLING_TABLES, work.out, options.rows_per_file)


def _sketches_and_windows(
    day: date, inputs: list[SketchInput], earlier: dict[date, list[DaySketch]]
) -> tuple[list[DaySketch], list[Window]]:
    """Today's sketches, and the 7- and 28-day windows ending with `day` merged from them and the
    earlier days' stored ones."""
    today = [DaySketch(i.key, i.total, sketch_of(i.machine_keys)) for i in inputs]
    by_day = {**earlier, day: today}
    days = dates.window_days(day, max(ROLLING_WINDOWS))
    return today, rolling_windows(days, ROLLING_WINDOWS, by_day)


def _outputs(day: date, published: list[Published], sketches: Path) -> tuple[list[_Output], dict[str, int]]:
    """The published files as store keys, in the order of AUDIENCES and TABLES, then the day's sketches;
    and the rows per audience and table."""
    by_table = {(audience, p.table): p for p in published for audience in p.rows}
    outputs: list[_Output] = []
    rows: dict[str, int] = {}
    for audience in AUDIENCES:
        for table in TABLES:
            if (audience, table) not in by_table:
                continue  # partner tables republished from an earlier run
            found = by_table[(audience, table)]
            rows[f"{audience}/{table}"] = found.rows[audience]
            outputs.extend(
                _Output(
                    aggregate_keys.table_part_key(audience, table, day, f.part, f.fmt),
                    f.path,
                    CONTENT_TYPES[f.fmt],
                )
                for f in found.files
                if f.audience == audience
            )
    outputs.append(_Output(aggregate_keys.sketches_key(day), sketches, CONTENT_TYPES["parquet"]))
    return outputs, rows


@dataclass(frozen=True, slots=True)
class _PartnerOutcome:
    published: list[Published]
    """The partner files drawn by this run (none when an earlier release is republished)."""
    record: ReleaseRecord
    republished: bool
    rows: dict[str, int]
    """Rows per partner/<table>, from the record when republished."""

    @property
    def kept(self) -> list[str]:
        """An earlier release's files, left in place."""
        return list(self.record.files) if self.republished else []


def _partner_release(
    day: date,
    engine: Engine,
    store: AggregateStore,
    windows: list[Window],
    out: Path,
    *,
    plan: partner_budget.ReleasePlan,
    options: AggregationOptions,
    now: datetime,
    new_release: bool,
    noise: Noise | None,
) -> _PartnerOutcome:
    """The day's partner tables: the published release of an earlier run if there is one whose files are
    all in place, else a new drawing (charged: the record counts drawings)."""
    previous = _read_release_record(store, day)
    if previous and previous.status == "published" and not new_release:
        present = {
            key
            for table in TABLES
            for key in store.list_keys(aggregate_keys.table_day_prefix("partner", table, day))
        }
        if set(previous.files) <= present:
            return _PartnerOutcome([], previous, republished=True, rows=dict(previous.rows))
    inputs = engine.release_inputs(windows, min_machines=partner_release.fewest_machines_drawn(plan))
    tables = partner_release.release(inputs, plan, noise or OpenDPNoise())
    published = engine.publish_partner(tables, out, options.rows_per_file)
    outputs, rows = _outputs(day, published, out)
    drawings = previous.release.drawings + 1 if previous else 1
    record = ReleaseRecord(
        status="drawing",
        release=_release_summary(plan, tables, drawings, now),
        files=[o.key for o in outputs if o.key.startswith(aggregate_keys.AGGREGATES_PREFIX + "partner/")],
        rows=rows,
    )
    return _PartnerOutcome(published, record, republished=False, rows=rows)


class UnreadableReleaseRecord(Exception):
    """The day's partner-release record exists but cannot be read: the run stops rather than guess how
    many drawings the day has cost (docs/operations.md says what to do)."""


def _read_release_record(store: AggregateStore, day: date) -> ReleaseRecord | None:
    key = aggregate_keys.partner_release_key(day)
    data = store.get(key)
    if data is None:
        return None
    try:
        return ReleaseRecord.model_validate_json(data)
    except ValidationError:
        raise UnreadableReleaseRecord(key) from None


def _release_summary(
    plan: partner_budget.ReleasePlan, tables: partner_release.PartnerTables, drawings: int, now: datetime
) -> PartnerRelease:
    privacy = plan.privacy
    return PartnerRelease(
        drawings=drawings,
        drawn_at=now,
        republished=False,
        epsilon=privacy.epsilon,
        delta=privacy.delta,
        period_days=partner_budget.PERIOD_DAYS,
        min_machines=privacy.min_machines,
        rho_per_release=plan.rho_per_day,
        rho_charged=plan.rho_per_day * drawings,
        statistics=[
            PartnerStatistic(
                name=p.statistic.name,
                window_days=p.statistic.window_days,
                keys_per_machine=p.statistic.keys_per_machine,
                per_key=p.statistic.per_key,
                sigma=p.sigma,
                rho=p.rho,
                delta=p.delta,
                threshold=tables.thresholds.get(p.statistic.name),
            )
            for p in plan.planned
        ],
    )


def _replace_day_output(
    day: date, store: AggregateStore, outputs: list[_Output], manifest_key: str, release: _PartnerOutcome
) -> tuple[list[str], int]:
    """Put the day's files in place of an earlier run's; the keys written (or kept: a republished partner
    release) and the stale ones deleted."""
    # Withdrawn before the first file is replaced: a rerun that dies halfway must not leave the old
    # manifest vouching for a mix of two runs' files. No manifest means "not ready"; the retry fixes it.
    store.delete([manifest_key])
    record_key = aggregate_keys.partner_release_key(day)
    if not release.republished:
        # Recorded before a partner file is written: should this run die, the next one sees a drawing
        # that may have been seen, and charges its own.
        store.put(
            record_key, release.record.model_dump_json(indent=2).encode(), content_type=CONTENT_TYPES["json"]
        )
    map_in_threads(
        lambda output: store.put(output.key, output.path.read_bytes(), content_type=output.content_type),
        outputs,
        STORE_WORKERS,
    )
    if not release.republished:
        published = release.record.model_copy(update={"status": "published"})
        store.put(
            record_key, published.model_dump_json(indent=2).encode(), content_type=CONTENT_TYPES["json"]
        )
    # Sorted: a republished release's files are listed as a drawing run lists its own.
    written = sorted([output.key for output in outputs] + release.kept)
    return written, _delete_stale(day, store, set(written))


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


# -- the manifest ---------------------------------------------------------------------------------------
def _input_counts(listed: _Listed, loaded: Loaded, previous: Loaded, kept: _Kept) -> InputCounts:
    duplicates_within = kept.dropped.get("duplicate", 0)
    from_previous = kept.dropped.get("seen_previous_day", 0)
    corrupt = kept.dropped.get("corrupt", 0)
    return InputCounts(
        objects_listed=len(listed.day),
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
        suppressed_machines_dropped=kept.suppressed_machines,
        suppressed_reports_dropped=kept.suppressed_reports,
        over_product_cap_reports_dropped=kept.dropped.get("over_product_cap", 0),
        over_products_reports_dropped=kept.dropped.get("over_products", 0),
        over_reports_dropped=kept.dropped.get("over_reports", 0),
        reports_aggregated=kept.reports,
        machines=kept.machines,
    )


def _manifest(
    day: date,
    now: datetime,
    options: AggregationOptions,
    counts: InputCounts,
    *,
    folded: Folded,
    dictionaries: DictionarySummary,
    partner: PartnerRelease,
    rows: dict[str, int],
    files: list[str],
    stale: int,
    windows: list[Window],
) -> Manifest:
    return Manifest(
        dt=day,
        generated_at=now,
        input=counts,
        parameters=Parameters(
            dedup_lookback_hours=options.lookback_hours,
            hll_lg_k=LG_K,
            sketch_key_version=SKETCH_KEY_VERSION,
            bounds=dataclasses.asdict(options.bounds),
            caps=dataclasses.asdict(options.caps),
        ),
        folded=folded,
        dictionaries=dictionaries,
        partner_release=partner,
        rows=rows,
        files=files,
        stale_files_deleted=stale,
        windows=[_window_summary(window) for window in windows],
        engine=EngineInfo(version=Engine.version(), sketches=version("datasketches")),
    )


def _window_summary(window: Window) -> WindowSummary:
    return WindowSummary(
        days=window.days,
        start=window.start,
        end=window.end,
        days_with_data=len(window.days_with_data),
        missing_days=list(window.missing_days),
    )
