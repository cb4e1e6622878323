"""The DuckDB session of one run: load staged reports, clean them, build the tables, export files.

DuckDB-specific glue lives here (reading NDJSON with an explicit column spec, rowid deletes, COPY);
the table definitions themselves are the SQL files under sql/.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import duckdb
import numpy

from ceip.aggregate.bounds import OTHER, CardinalityCaps, ContributionBounds
from ceip.aggregate.parallel import map_in_threads
from ceip.aggregate.partner_release import (
    PERFORMANCE_BINS_PER_DECADE,
    PartnerTables,
    ReleaseInputs,
    WindowRow,
)
from ceip.aggregate.queries import query
from ceip.aggregate.sketches import SKETCH_KEY_VERSION, DaySketch, SketchKey, Window
from ceip.aggregate.tables import FileFormat, engine_table, formats
from ceip.machines.sketch_key import SketchSalt
from ceip.storage.aggregate_keys import Audience
from ceip.storage.csv_cells import csv_select

T = TypeVar("T")
R = TypeVar("R")
# INTEGER samples and counts, cheaper to aggregate (ingest caps them at 1e9); sums BIGINT (docs/adr/0004).
PERFORMANCE_TYPE = (
    "STRUCT(ui_response_ms INTEGER[], problems STRUCT(id VARCHAR, kind VARCHAR, count INTEGER)[], "
    "network_kbps STRUCT(send INTEGER[], receive INTEGER[]))"
)
# Typed while parsing but for the hardware map, which stays JSON text (sql/machine_hardware.sql reads it).
CONFIGURATION_TYPE = (
    "STRUCT(processor_count BIGINT, network_connection_count BIGINT, "
    "os STRUCT(family VARCHAR, version VARCHAR), hardware_features JSON)"
)
USAGE_TYPE = (
    "STRUCT(features STRUCT(id VARCHAR, count INTEGER)[], "
    "help_center_opens INTEGER, desktop_folder_count INTEGER)"
)
READ_COLUMNS: dict[str, str] = {
    # GUIDs as UUID: 16 bytes that group fast; one that is not a UUID reads as NULL (a corrupt line).
    "report_id": "UUID",
    "machine_id": "UUID",
    "product": "STRUCT(id VARCHAR)",
    "created_at": "TIMESTAMPTZ",
    "received_at": "TIMESTAMPTZ",
    "configuration": CONFIGURATION_TYPE,
    "performance": PERFORMANCE_TYPE,
    "usage": USAGE_TYPE,
}
"""Wire format v1 as DuckDB reads it; an explicit spec, so a large day's schema is never sniffed."""

READ_OPTIONS = "format='newline_delimited', ignore_errors=true"
ROLLING_COLUMNS: dict[str, str] = {
    "problems_rolling": "product_id VARCHAR, problem_id VARCHAR, kind VARCHAR, window_days INTEGER, "
    "window_start DATE, days_with_data INTEGER, hits BIGINT, machines BIGINT, prevalence DOUBLE",
    "features_rolling": "product_id VARCHAR, feature_id VARCHAR, window_days INTEGER, window_start DATE, "
    "days_with_data INTEGER, uses BIGINT, machines BIGINT, prevalence DOUBLE",
    "active_rolling": "product_id VARCHAR, window_days INTEGER, window_start DATE, days_with_data INTEGER, "
    "machines BIGINT, reports BIGINT",
}
PARTNER_COLUMNS: dict[str, str] = {
    "active": "product_id VARCHAR, machines BIGINT, reports BIGINT",
    "problems": "product_id VARCHAR, problem_id VARCHAR, kind VARCHAR, hits BIGINT, machines BIGINT, "
    "prevalence DOUBLE, hits_per_machine DOUBLE",
    "features": "product_id VARCHAR, feature_id VARCHAR, uses BIGINT, machines BIGINT, prevalence DOUBLE",
    "configuration": "product_id VARCHAR, dimension VARCHAR, value VARCHAR, machines BIGINT, share DOUBLE",
    "performance": "product_id VARCHAR, metric VARCHAR, machines BIGINT, p50 DOUBLE, p90 DOUBLE",
    "usage": "product_id VARCHAR, metric VARCHAR, bucket VARCHAR, bucket_min INTEGER, bucket_max INTEGER, "
    "machines BIGINT, share DOUBLE",
    "active_rolling": "product_id VARCHAR, window_days INTEGER, window_start DATE, days_with_data INTEGER, "
    "machines BIGINT",
    "problems_rolling": "product_id VARCHAR, problem_id VARCHAR, kind VARCHAR, window_days INTEGER, "
    "window_start DATE, days_with_data INTEGER, machines BIGINT, prevalence DOUBLE",
    "features_rolling": "product_id VARCHAR, feature_id VARCHAR, window_days INTEGER, window_start DATE, "
    "days_with_data INTEGER, machines BIGINT, prevalence DOUBLE",
}
"""The partner tables (partner_release.py fills them): noisy counts, no top_machine_share, no p99,
no rolling hits or uses (docs/privacy-model.md)."""
USAGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0", 0, 0),
    ("1", 1, 1),
    ("2-4", 2, 4),
    ("5-9", 5, 9),
    ("10-19", 10, 19),
    ("20-49", 20, 49),
    ("50-99", 50, 99),
    ("100+", 100, None),
)
"""As sql/internal/usage.sql defines them; a unit test keeps the two equal."""
SKETCH_COLUMNS = (
    "scope VARCHAR, product_id VARCHAR, item_id VARCHAR, item_kind VARCHAR, total BIGINT, sketch BLOB, "
    "key_version SMALLINT"
)
"""key_version: how the sketch's machine keys were derived (sketches.SKETCH_KEY_VERSION); files of
version 1 predate the column."""
_NUMERIC_ARRAYS = {
    "BIGINT": numpy.int64,
    "INTEGER": numpy.int32,
    "SMALLINT": numpy.int16,
    "DOUBLE": numpy.float64,
}
"""NumPy types for the columns _insert may hand DuckDB as typed arrays (when no value is NULL)."""
_ROWS_VIEW = "python_rows"
"""The name under which _insert shows DuckDB the rows it inserts."""
MACHINE_TABLE_STAGES: tuple[tuple[str, ...], ...] = (
    ("machine_days",),
    ("problem_totals",),
    ("feature_totals",),
    ("machine_configurations",),
    ("machine_hardware",),
)
"""The per-machine and per-item tables (sql/<name>.sql) that the daily tables and the sketch inputs
read, a stage at a time; a table reads only `reports` and earlier stages' tables. The first three
each keep both DuckDB threads busy alone: side by side they spilled sooner for no shorter wall time
(docs/adr/0002)."""
DAILY_TABLE_STAGES: tuple[tuple[str, ...], ...] = (
    ("active", "configuration", "usage"),
    ("problems", "features"),
    ("machine_medians",),
    ("performance",),
)
"""The daily tables (sql/internal/<name>.sql) in stages, likewise; performance, by far the heaviest,
alone (schedule.BUILT_BESIDE builds it on a thread of its own beside the others), after the machines'
medians it reads (sql/machine_medians.sql, which the partner release reads too)."""
BUILT_FIRST = {"performance": "machine_medians"}
"""A daily table and the machine table (not published) that only it reads, built in the stage before."""


class CorruptInput(Exception):
    """A staged part file is not a valid gzip stream: some object in it is corrupt."""


@dataclass(frozen=True, slots=True)
class EngineLimits:
    memory_limit_mb: int
    threads: int
    directory: Path
    """Database file and spill space: DuckDB keeps at most memory_limit_mb in memory."""


@dataclass(frozen=True, slots=True)
class PublishedFile:
    audience: Audience
    fmt: FileFormat
    part: int
    path: Path


@dataclass(frozen=True, slots=True)
class Published:
    table: str
    rows: dict[Audience, int]
    files: tuple[PublishedFile, ...]


@dataclass(frozen=True, slots=True)
class SketchInput:
    key: SketchKey
    total: int
    machine_keys: list[int]


@dataclass(frozen=True, slots=True)
class OverBounds:
    reports: dict[str, int]
    """Reports deleted per reason: over_product_cap, over_products, over_reports."""
    products_over_cap: int
    """Products beyond the day's cap, all of whose reports went."""


@dataclass(frozen=True, slots=True)
class ActiveProduct:
    product_id: str
    machines: int
    reports: int


class Engine:
    def __init__(self, limits: EngineLimits) -> None:
        limits.directory.mkdir(parents=True, exist_ok=True)
        self._directory = limits.directory
        # Two statements per DuckDB thread: while one waits on its fixed costs the other computes.
        self._statement_workers = 2 * max(1, limits.threads)
        self._rows: dict[str, int] = {}
        """Rows of each table built, as its CREATE TABLE AS answered (no count(*) afterwards)."""
        self._products_enumerated = False
        self._con = duckdb.connect(
            ":memory:",
            config={
                "memory_limit": f"{limits.memory_limit_mb}MB",
                "threads": max(1, limits.threads),
                "temp_directory": str(limits.directory / "spill"),
                "preserve_insertion_order": False,
            },
        )

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    @staticmethod
    def version() -> str:
        return str(duckdb.__version__)

    def _scalar(self, sql: str, parameters: Sequence[Any] | None = None) -> Any:
        row = self._con.execute(sql, parameters).fetchone()
        return row[0] if row else None

    @contextlib.contextmanager
    def _own_cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for statements run beside the main thread's (a connection is not shared by threads)."""
        cursor = self._con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def _insert(
        self, table: str, rows: Sequence[tuple[Any, ...]], con: duckdb.DuckDBPyConnection | None = None
    ) -> None:
        """Insert rows as one NumPy array per column: bound as list parameters, a few thousand rows
        cost a tenth of a second every run (docs/adr/0005)."""
        if not rows:
            return
        if con is None:
            con = self._con
        # The table's columns from an empty result (a duckdb_columns() lookup scans the whole catalog).
        description = con.execute(f"SELECT * FROM {_identifier(table)} LIMIT 0").description or []
        names = [str(column[0]) for column in description]
        values = list(zip(*rows, strict=True))
        if len(values) != len(names):
            raise ValueError(f"{table} has {len(names)} columns, rows have {len(values)}")
        columns = {}
        for (name, kind, *_), column in zip(description, values, strict=True):
            numeric = _NUMERIC_ARRAYS.get(str(kind))
            if numeric is not None and None not in column:
                # A typed array DuckDB reads as it is, not a Python object per value to convert.
                columns[str(name)] = numpy.array(column, dtype=numeric)
                continue
            array = numpy.empty(len(column), dtype=object)
            array[:] = column  # element by element: a bytes or tuple value stays one object
            columns[str(name)] = array
        # Registered views belong to the cursor that registers them: side-by-side inserts do not clash.
        con.register(_ROWS_VIEW, columns)
        try:
            # Each column is cast to the table's type on the way in.
            con.execute(f"INSERT INTO {_identifier(table)} SELECT {', '.join(names)} FROM {_ROWS_VIEW}")
        finally:
            con.unregister(_ROWS_VIEW)

    # -- input ---------------------------------------------------------------------------------------
    def create_inputs(self) -> None:
        """(Re)create the empty `reports` and `previous_report_ids` tables that the loads append to."""
        self._con.execute(
            "CREATE OR REPLACE TABLE reports (report_id UUID, product_id VARCHAR, machine_id UUID, "
            "created_at TIMESTAMPTZ, received_at TIMESTAMPTZ, "
            f"configuration {CONFIGURATION_TYPE}, "
            f"performance {PERFORMANCE_TYPE}, usage {USAGE_TYPE})"
        )
        self._con.execute("CREATE OR REPLACE TABLE previous_report_ids (report_id UUID)")
        self._con.execute(
            "CREATE OR REPLACE TABLE declared_ids "
            "(product_id VARCHAR, scope VARCHAR, item_id VARCHAR, item_kind VARCHAR)"
        )

    def append_reports(self, files: Sequence[Path]) -> int:
        """Append staged NDJSON part files, gzip or plain, to `reports`: one row per non-empty line, a
        line that is not JSON becomes a row of NULLs. Returns the rows added. Raises CorruptInput for
        a broken gzip stream, and then has added nothing (a failed statement is rolled back)."""
        if not files:
            return 0
        return self._read(
            "INSERT INTO reports SELECT report_id, product.id, machine_id, created_at, received_at, "
            "configuration, performance, usage "
            f"FROM read_ndjson(?, columns={_struct_literal(READ_COLUMNS)}, {READ_OPTIONS})",
            files,
        )

    def append_previous_ids(self, files: Sequence[Path]) -> int:
        """Append the report ids stored in the previous day's last hours; raises CorruptInput."""
        if not files:
            return 0
        return self._read(
            "INSERT INTO previous_report_ids SELECT report_id "
            f"FROM read_ndjson(?, columns={{'report_id': 'UUID'}}, {READ_OPTIONS}) "
            "WHERE report_id IS NOT NULL",
            files,
        )

    def _read(self, sql: str, files: Sequence[Path]) -> int:
        try:
            row = self._con.execute(sql, [[str(path) for path in files]]).fetchone()
        except duckdb.IOException as error:
            # A failed statement inserts nothing; the caller restages the objects one by one.
            raise CorruptInput(str(error).splitlines()[0]) from error
        return int(row[0]) if row else 0

    def drop_unusable(self) -> dict[str, int]:
        """Delete corrupt lines, later copies and reports seen the previous day; counts per reason."""
        self._con.execute("CREATE TEMP TABLE dropped_reports AS " + query("dropped_reports"))
        counts = dict(
            self._con.execute("SELECT reason, count(*) FROM dropped_reports GROUP BY reason").fetchall()
        )
        if counts:
            self._con.execute("DELETE FROM reports WHERE rowid IN (SELECT row_id FROM dropped_reports)")
        self._con.execute("DROP TABLE dropped_reports")
        return {str(reason): int(count) for reason, count in counts.items()}

    def machine_ids(self) -> list[str]:
        """The day's distinct machine GUIDs, for the suppression filter (lower-case, as stored)."""
        sql = (
            "SELECT CAST(machine_id AS VARCHAR) AS machine_id FROM (SELECT DISTINCT machine_id FROM reports)"
        )
        return [str(machine_id) for machine_id in self._con.execute(sql).fetchnumpy()["machine_id"]]

    def declare(self, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """The ids the products' data dictionaries declare (product_id, scope, item_id, item_kind): the
        caps always keep them."""
        self._insert("declared_ids", rows)

    def drop_over_bounds(self, bounds: ContributionBounds, caps: CardinalityCaps) -> OverBounds:
        """Delete the reports beyond the day's product cap and each machine's daily bounds
        (sql/over_bounds.sql): run after the declared ids are in."""
        sql = query(
            "over_bounds",
            max_day_products=caps.products,
            max_products=bounds.products,
            max_reports=bounds.reports,
        )
        self._con.execute(f"CREATE TEMP TABLE over_bounds AS {sql}")
        rows = self._con.execute(
            "SELECT reason, count(*), count(DISTINCT product_id) FROM over_bounds GROUP BY reason"
        ).fetchall()
        if rows:
            self._con.execute("DELETE FROM reports WHERE rowid IN (SELECT row_id FROM over_bounds)")
        self._con.execute("DROP TABLE over_bounds")
        reports = {str(reason): int(count) for reason, count, _ in rows}
        products = sum(int(distinct) for reason, _, distinct in rows if reason == "over_product_cap")
        return OverBounds(reports, products_over_cap=products)

    def drop_machines(self, machine_ids: Sequence[str]) -> int:
        """Delete every report of these machines; returns how many reports went."""
        if not machine_ids:
            return 0
        self._con.execute("CREATE TEMP TABLE suppressed_machines (machine_id UUID)")
        self._insert("suppressed_machines", [(machine_id,) for machine_id in machine_ids])
        deleted = self._scalar(
            "SELECT count(*) FROM reports WHERE machine_id IN (SELECT machine_id FROM suppressed_machines)"
        )
        self._con.execute(
            "DELETE FROM reports WHERE machine_id IN (SELECT machine_id FROM suppressed_machines)"
        )
        self._con.execute("DROP TABLE suppressed_machines")
        return int(deleted)

    def enumerate_products(self) -> None:
        """The ENUM type of the day's products, in byte order, from every loaded row: run before the
        first delete. (DuckDB's ALTER ... SET DATA TYPE converts deleted rows too, so an ENUM of the
        rows left would fail on a product whose every report was deleted.)"""
        self._con.execute(
            "CREATE TYPE day_product AS ENUM "
            "(SELECT DISTINCT product_id FROM reports WHERE product_id IS NOT NULL ORDER BY product_id)"
        )
        self._products_enumerated = True

    def encode_products(self) -> None:
        """Re-type `reports.product_id` as the ENUM of the day's products in byte order (ORDER BY and
        comparisons behave as on the text): one-byte group keys (docs/adr/0004). Published files
        still hold text; a day without reports keeps the text type (an ENUM needs a value)."""
        if not self.report_count():
            return
        if not self._products_enumerated:
            self.enumerate_products()
        self._con.execute("ALTER TABLE reports ALTER product_id SET DATA TYPE day_product")

    def report_count(self) -> int:
        return int(self._scalar("SELECT count(*) FROM reports"))

    def machine_count(self) -> int:
        return int(self._scalar("SELECT count(DISTINCT machine_id) FROM reports"))

    # -- tables --------------------------------------------------------------------------------------
    def key_machines(self, salt: SketchSalt) -> None:
        """The day's machines' sketch keys (sql/machine_sketch_keys.sql), which the machine tables join:
        run after the suppressed machines are deleted. The salt is bound, never part of the SQL text
        (an error message quotes the text)."""
        self._con.execute(f"CREATE TABLE machine_sketch_keys AS {query('machine_sketch_keys')}", [salt.hex])

    def build_machine_tables(self, bounds: ContributionBounds, caps: CardinalityCaps) -> None:
        parameters = {
            "max_problems": bounds.problems,
            "max_hits": bounds.hits,
            "max_problem_ids": caps.problem_ids,
            "max_features": bounds.features,
            "max_uses": bounds.uses,
            "max_feature_ids": caps.feature_ids,
            "max_hardware_features": bounds.hardware_features,
        }
        for stage in MACHINE_TABLE_STAGES:
            self._create_tables({name: query(name, **parameters) for name in stage})

    def build_daily_tables(self, tables: Collection[str], caps: CardinalityCaps) -> None:
        """These daily tables (any of DAILY_TABLES whose inputs are built), in stage order."""
        wanted = {*tables, *(BUILT_FIRST[t] for t in tables if t in BUILT_FIRST)}
        for stage in DAILY_TABLE_STAGES:
            self._create_tables(
                {
                    name: query(
                        name if name in BUILT_FIRST.values() else f"internal/{name}",
                        max_hardware_names=caps.hardware_features,
                    )
                    for name in stage
                    if name in wanted
                }
            )

    def folded_ids(self, caps: CardinalityCaps) -> dict[str, int]:
        """Distinct ids beyond the day's caps: problems and features folded into OTHER, hardware-feature
        names dropped (summed over products)."""
        problems = self._scalar(f"SELECT sum(folded_ids) FROM problem_totals WHERE problem_id = '{OTHER}'")
        features = self._scalar(f"SELECT sum(folded_ids) FROM feature_totals WHERE feature_id = '{OTHER}'")
        hardware = self._scalar(
            "SELECT count(*) FROM (SELECT product_id, name FROM machine_hardware GROUP BY product_id, name "
            "QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY count(*) DESC, name) > ?)",
            [caps.hardware_features],
        )
        return {
            "problem_ids": int(problems or 0),
            "feature_ids": int(features or 0),
            "hardware_features": int(hardware or 0),
        }

    def _create_tables(self, definitions: dict[str, str]) -> None:
        """CREATE TABLE name AS sql for each, side by side (the tables must not read one another)."""

        def create(cursor: duckdb.DuckDBPyConnection, item: tuple[str, str]) -> None:
            name, sql = item
            self._rows[name] = _created_rows(cursor, f"CREATE TABLE {_identifier(name)} AS {sql}")

        self._on_cursors(create, list(definitions.items()))

    def sketch_inputs(self) -> list[SketchInput]:
        # fetchnumpy: each key's machines arrive as one int64 array, not a Python object per machine.
        # On a cursor of its own: it runs beside the daily tables.
        with self._own_cursor() as cursor:
            # Products as text: fetchnumpy would need pandas for an ENUM column.
            as_text = "SELECT * REPLACE (CAST(product_id AS VARCHAR) AS product_id)"
            columns = cursor.execute(f"{as_text} FROM ({query('sketch_inputs')})").fetchnumpy()
        inputs = []
        for scope, product_id, item_id, item_kind, total, machine_keys in zip(
            columns["scope"],
            columns["product_id"],
            columns["item_id"],
            columns["item_kind"],
            columns["total"],
            columns["machine_keys"],
            strict=True,
        ):
            key = SketchKey(str(scope), str(product_id), str(item_id), str(item_kind))  # type: ignore[arg-type]
            # An HLL sketch's bytes (its HIP estimate, its list order) follow the order of updates, and
            # list() follows the order the fetch threads staged the objects in: sort, so a rerun on the
            # same input writes the same sketches.
            machine_keys.sort()
            inputs.append(SketchInput(key, int(total), machine_keys.tolist()))
        return inputs

    def build_rolling_tables(self, windows: Sequence[Window]) -> None:
        """The rolling tables from the merged windows, on a cursor of their own (they run beside the
        daily tables)."""
        problems, features, active = [], [], []
        for window in windows:
            common = (window.days, window.start, len(window.days_with_data))
            for row in window.rows:
                key = row.key
                if key.scope == "problem":
                    problems.append(
                        (
                            key.product_id,
                            key.item_id,
                            key.item_kind,
                            *common,
                            row.total,
                            row.machines,
                            row.prevalence,
                        )
                    )
                elif key.scope == "feature":
                    features.append(
                        (key.product_id, key.item_id, *common, row.total, row.machines, row.prevalence)
                    )
                else:
                    active.append((key.product_id, *common, row.machines, row.total))
        with self._own_cursor() as cursor:
            for name, rows in (
                ("problems_rolling", problems),
                ("features_rolling", features),
                ("active_rolling", active),
            ):
                cursor.execute(f"CREATE TABLE {name} ({ROLLING_COLUMNS[name]})")
                self._insert(name, rows, cursor)
                self._rows[name] = len(rows)

    def active_products(self) -> tuple[ActiveProduct, ...]:
        rows = self._con.execute(
            "SELECT product_id, machines, reports FROM active ORDER BY product_id"
        ).fetchall()
        return tuple(ActiveProduct(str(p), int(m), int(r)) for p, m, r in rows)

    def publish_internal(self, tables: Sequence[str], directory: Path, rows_per_file: int) -> list[Published]:
        """Each internal table written as sorted part files under directory/internal/<table>/parquet/,
        tables side by side on cursors."""

        def publish_one(cursor: duckdb.DuckDBPyConnection, table: str) -> Published:
            rows = self._rows[table]
            files = _part_files(cursor, "internal", table, directory, rows=rows, rows_per_file=rows_per_file)
            return Published(table, {"internal": rows}, tuple(files))

        return self._on_cursors(publish_one, tables)

    def release_inputs(self, windows: Sequence[Window], *, min_machines: int) -> ReleaseInputs:
        """The exact, bounded statistics the partner release reads: the internal daily tables' counts,
        the histogram of machines' medians, and the windows' estimates. Products as text. Problems,
        features, configuration values and window items of fewer than min_machines machines are left
        out: the release never draws them (partner_release.fewest_machines_drawn), and a day of made-up
        ids has tens of thousands."""

        def rows(sql: str, parameters: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
            return self._con.execute(sql, parameters).fetchall()

        text = "CAST(product_id AS VARCHAR)"
        bins = query("performance_bins", bins_per_decade=PERFORMANCE_BINS_PER_DECADE)
        drawable = "WHERE machines >= ?"
        at_least = [min_machines]
        return ReleaseInputs(
            active=rows(f"SELECT {text}, machines, reports FROM active"),
            problems=rows(
                f"SELECT {text}, problem_id, kind, machines, hits FROM problems {drawable}", at_least
            ),
            features=rows(f"SELECT {text}, feature_id, machines, uses FROM features {drawable}", at_least),
            configuration=rows(
                f"SELECT {text}, dimension, value, machines FROM configuration {drawable}", at_least
            ),
            usage=rows(f"SELECT {text}, metric, bucket, bucket_min, bucket_max, machines FROM usage"),
            performance_bins=rows(f"SELECT {text}, metric, bin, machines FROM ({bins})"),
            windows=[
                WindowRow(
                    row.key.scope,
                    row.key.product_id,
                    row.key.item_id,
                    row.key.item_kind,
                    window.days,
                    window.start,
                    len(window.days_with_data),
                    row.machines,
                )
                for window in windows
                for row in window.rows
                if row.key.scope == "active" or row.machines >= min_machines
            ],
            usage_buckets=USAGE_BUCKETS,
        )

    def publish_partner(self, tables: PartnerTables, directory: Path, rows_per_file: int) -> list[Published]:
        """The partner tables from the release's rows, written as sorted part files (Parquet and CSV)
        under directory/partner/<table>/<format>/."""

        def publish_one(cursor: duckdb.DuckDBPyConnection, table: str) -> Published:
            name = engine_table("partner", table)
            cursor.execute(f"CREATE OR REPLACE TABLE {_identifier(name)} ({PARTNER_COLUMNS[table]})")
            rows = tables.rows[table]
            self._insert(name, rows, cursor)
            files = _part_files(
                cursor, "partner", table, directory, rows=len(rows), rows_per_file=rows_per_file
            )
            return Published(table, {"partner": len(rows)}, tuple(files))

        return self._on_cursors(publish_one, list(PARTNER_COLUMNS))

    def _on_cursors(
        self, function: Callable[[duckdb.DuckDBPyConnection, T], R], items: Sequence[T]
    ) -> list[R]:
        """function(cursor, item) for every item, on a few threads with a cursor each: independent
        statements fill the gaps of one another's fixed costs (docs/adr/0002)."""
        local = threading.local()
        cursors: list[duckdb.DuckDBPyConnection] = []
        lock = threading.Lock()

        def run(item: T) -> R:
            cursor: duckdb.DuckDBPyConnection | None = getattr(local, "cursor", None)
            if cursor is None:
                cursor = local.cursor = self._con.cursor()
                with lock:
                    cursors.append(cursor)
            return function(cursor, item)

        try:
            return map_in_threads(run, items, self._statement_workers)
        finally:
            for cursor in cursors:
                cursor.close()

    # -- sketches ------------------------------------------------------------------------------------
    def write_sketches(self, sketches: Sequence[DaySketch], path: Path) -> None:
        """The day's sketches as one Parquet file, on a cursor of its own (beside the daily tables)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._own_cursor() as cursor:
            # A temp table belongs to its cursor's connection, and goes when the cursor is closed.
            cursor.execute(f"CREATE TEMP TABLE sketches_out ({SKETCH_COLUMNS})")
            self._insert(
                "sketches_out",
                [
                    (
                        s.key.scope,
                        s.key.product_id,
                        s.key.item_id,
                        s.key.item_kind,
                        s.total,
                        s.sketch,
                        SKETCH_KEY_VERSION,
                    )
                    for s in sketches
                ],
                cursor,
            )
            cursor.execute(
                f"COPY (SELECT * FROM sketches_out ORDER BY scope, product_id, item_id, item_kind) "
                f"TO '{_path_literal(path)}' (FORMAT parquet)"
            )

    def read_sketches(self, files: Mapping[date, Path]) -> dict[date, list[DaySketch]]:
        """The sketches in each day's file, read in one statement (not one per day). A day whose file
        holds sketches keyed otherwise than SKETCH_KEY_VERSION (files before the column are version 1)
        is left out: its machines' keys differ from today's, so a union would count them twice. The
        windows list it as missing, like a day never aggregated."""
        if not files:
            return {}
        day_of = {str(path): day for day, path in files.items()}
        source = "read_parquet(?, filename = true, union_by_name = true)"
        columns = {
            str(row[0])
            for row in self._con.execute(f"DESCRIBE SELECT * FROM {source}", [list(day_of)]).fetchall()
        }
        version = "key_version" if "key_version" in columns else "CAST(1 AS SMALLINT)"
        rows = self._con.execute(
            f"SELECT filename, scope, product_id, item_id, item_kind, total, sketch, {version} FROM {source}",
            [list(day_of)],
        ).fetchall()
        sketches: dict[date, list[DaySketch]] = {day: [] for day in files}
        other_keys: set[date] = set()
        for filename, scope, product_id, item_id, item_kind, total, sketch, key_version in rows:
            day = day_of[filename]
            if key_version != SKETCH_KEY_VERSION:
                other_keys.add(day)
                continue
            key = SketchKey(scope, product_id, item_id, item_kind)
            sketches[day].append(DaySketch(key, int(total), bytes(sketch)))
        return {day: found for day, found in sketches.items() if day not in other_keys}


def _part_files(
    cursor: duckdb.DuckDBPyConnection,
    audience: Audience,
    table: str,
    directory: Path,
    *,
    rows: int,
    rows_per_file: int,
) -> list[PublishedFile]:
    files: list[PublishedFile] = []
    for fmt in formats(audience):
        paths = _copy(
            cursor,
            engine_table(audience, table),
            directory / audience / table / fmt,
            fmt,
            parts=max(1, math.ceil(rows / rows_per_file)),
            rows_per_file=rows_per_file,
        )
        files.extend(PublishedFile(audience, fmt, part, path) for part, path in enumerate(paths))
    return files


def _copy(
    con: duckdb.DuckDBPyConnection,
    table: str,
    directory: Path,
    fmt: FileFormat,
    *,
    parts: int,
    rows_per_file: int,
) -> list[Path]:
    """COPY one table, sorted, to `parts` part files; a table that fits one file is written without
    LIMIT/OFFSET."""
    directory.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        options = "FORMAT parquet, COMPRESSION zstd"
        select = f"SELECT * FROM {_identifier(table)} ORDER BY ALL"
    else:  # text cells a spreadsheet would run as formulas get an apostrophe; rows in the same order
        options = "FORMAT csv, HEADER true"
        columns = con.execute(f"DESCRIBE {_identifier(table)}").fetchall()
        select = csv_select(table, [(str(c[0]), str(c[1])) for c in columns])
    paths = []
    for part in range(parts):
        path = directory / f"part-{part:05d}.{fmt}"
        window = f" LIMIT {rows_per_file} OFFSET {part * rows_per_file}" if parts > 1 else ""
        con.execute(f"COPY ({select}{window}) TO '{_path_literal(path)}' ({options})")
        paths.append(path)
    return paths


def _created_rows(con: duckdb.DuckDBPyConnection, create_table_as: str) -> int:
    """Run a CREATE TABLE AS; DuckDB answers it with the number of rows it wrote."""
    row = con.execute(create_table_as).fetchone()
    return int(row[0]) if row else 0


def _struct_literal(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a table name: {name!r}")
    return name


def _path_literal(path: Path) -> str:
    text = str(path)
    if "'" in text:
        raise ValueError("paths with quotes are not supported")
    return text
