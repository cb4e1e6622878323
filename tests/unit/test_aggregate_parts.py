"""Pure parts of aggregation: keys, dates, SQL parameters, HLL sketches and their error bound, staging."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ceip.aggregate import dates, engine, loading, queries, schedule, sketches, tables
from ceip.aggregate.bounds import CardinalityCaps, ContributionBounds
from ceip.aggregate.staging import fetch_objects, inflate_parts
from ceip.machines.machine_key import machine_key
from ceip.machines.sketch_key import SketchSalt
from ceip.reports import limits
from ceip.storage import aggregate_keys
from ceip.storage.aggregate_s3 import MemorySource
from tests.support import aggregate_truth as truth

DAY = date(2026, 11, 28)


# -------------------------------------------------------------------------------- keys
def test_table_keys_are_partitioned_by_audience_table_and_day() -> None:
    assert aggregate_keys.table_part_key("partner", "problems", DAY, 3, "csv") == (
        "aggregates/partner/problems/dt=2026-11-28/part-00003.csv"
    )
    assert aggregate_keys.sketches_key(DAY) == "aggregates/internal/sketches/dt=2026-11-28/sketches.parquet"
    assert aggregate_keys.manifest_key(DAY) == "aggregates/manifest/dt=2026-11-28/manifest.json"
    assert aggregate_keys.report_hour_prefix(DAY, 7) == "reports/dt=2026-11-28/hr=07/"
    # every day of a table sits under the table's prefix, so one listing finds the days that have it
    assert aggregate_keys.table_prefix("internal", "sketches") == "aggregates/internal/sketches/"
    assert aggregate_keys.sketches_key(DAY).startswith(aggregate_keys.table_prefix("internal", "sketches"))


@pytest.mark.parametrize("table", ["../x", "Problems", "", "a/b"])
def test_table_names_outside_the_layout_are_refused(table: str) -> None:
    with pytest.raises(ValueError):
        aggregate_keys.table_day_prefix("internal", table, DAY)


def test_part_numbers_and_hours_are_bounded() -> None:
    with pytest.raises(ValueError):
        aggregate_keys.table_part_key("internal", "problems", DAY, 100_000, "parquet")
    with pytest.raises(ValueError):
        aggregate_keys.report_hour_prefix(DAY, 24)


# -------------------------------------------------------------------------------- dates
def test_the_schedule_builds_the_utc_day_before_its_scheduled_time() -> None:
    # Given the 02:00 UTC schedule, retried at 00:30 the next day
    scheduled = datetime(2026, 11, 29, 2, tzinfo=UTC)
    late_retry = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    # Then the day is still the one the schedule meant
    assert dates.requested_day(None, scheduled, late_retry) == DAY
    assert dates.requested_day(None, None, scheduled) == DAY
    assert dates.requested_day(date(2026, 1, 5), scheduled, late_retry) == date(2026, 1, 5)


def test_previous_utc_day_converts_offsets_and_refuses_naive_times() -> None:
    tokyo = datetime(2026, 11, 29, 8, tzinfo=timezone(timedelta(hours=9)))  # 23:00 UTC on the 28th
    assert dates.previous_utc_day(tokyo) == date(2026, 11, 27)
    with pytest.raises(ValueError):
        dates.previous_utc_day(datetime(2026, 11, 29))


def test_day_ranges_windows_and_lookback() -> None:
    assert dates.day_range(DAY, DAY + timedelta(days=2)) == [DAY, DAY + timedelta(1), DAY + timedelta(2)]
    with pytest.raises(ValueError):
        dates.day_range(DAY, DAY - timedelta(days=1))
    with pytest.raises(ValueError):
        dates.day_range(DAY, DAY + timedelta(days=400))
    window = dates.window_days(DAY, 7)
    assert (window[0], window[-1], len(window)) == (DAY - timedelta(days=6), DAY, 7)
    assert dates.lookback_hours(2) == [22, 23]
    assert dates.lookback_hours(0) == []
    with pytest.raises(ValueError):
        dates.lookback_hours(25)


# -------------------------------------------------------------------------------- SQL
def test_parameters_are_filled_with_numbers_only_and_bare_dollars_stay() -> None:
    sql = queries.query("over_bounds", max_day_products=50, max_products=3, max_reports=24)
    assert "> 3 OR max(reports) > 24" in sql and "${" not in sql
    with pytest.raises(KeyError):
        queries.query("over_bounds")
    with pytest.raises(TypeError):
        queries.query("over_bounds", max_day_products=1, max_products="1; DROP TABLE x", max_reports=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        queries.query("over_bounds", max_day_products=1, max_products=True, max_reports=1)


@pytest.mark.parametrize(
    ("stages", "folder"), [(engine.MACHINE_TABLE_STAGES, ""), (engine.DAILY_TABLE_STAGES, "internal/")]
)
def test_tables_built_side_by_side_read_only_tables_of_earlier_stages(
    stages: tuple[tuple[str, ...], ...], folder: str
) -> None:
    # Given the stages in which the engine builds tables concurrently
    names = [name for stage in stages for name in stage]
    assert len(names) == len(set(names))
    if folder:
        assert set(names) == set(tables.DAILY_TABLES) | set(engine.BUILT_FIRST.values())
    # Then no table's SQL names a table of its own stage or a later one (it would race its input)
    for number, stage in enumerate(stages):
        not_yet = {name for later in stages[number:] for name in later}
        for name in stage:
            path = name if name in engine.BUILT_FIRST.values() else f"{folder}{name}"
            sql = re.sub(r"--[^\n]*", "", queries.sql_text(path))  # comments may name anything
            words = set(re.findall(r"\b([a-z_]+)\b(?!\.)", sql))  # a word before "." is a struct column
            assert not (words & not_yet) - {name}, f"{name} reads {(words & not_yet) - {name}}"


def _tables_read(name: str) -> set[str]:
    """The engine's tables named after FROM or JOIN in sql/<name>.sql (comments aside)."""
    sql = re.sub(r"--[^\n]*", "", queries.sql_text(name))
    named = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)", sql, flags=re.IGNORECASE))
    ctes = set(re.findall(r"\b([a-z_]+)\s+(?:\([^)]*\)\s+)?AS\s*\(", sql, flags=re.IGNORECASE))
    return named - ctes


def test_the_partner_release_fills_every_table_and_the_usage_buckets_are_the_sqls() -> None:
    # (partner tables come from partner_release.py, not SQL; their schemas are engine.PARTNER_COLUMNS)
    assert set(engine.PARTNER_COLUMNS) == set(tables.TABLES)
    sql = queries.sql_text("internal/usage")
    for name, low, high in engine.USAGE_BUCKETS:
        assert f"('{name}', {low}, {'NULL' if high is None else high})" in sql


def test_the_tables_built_beside_the_early_ones_read_none_of_them() -> None:
    # Given the daily tables the service builds and publishes while the others are computed
    early = set(schedule.PUBLISHED_EARLY)
    later = set(tables.DAILY_TABLES) - early
    assert later, "something must be left to overlap the early publication with"
    # Then neither side reads a table of the other (they are built side by side on their own threads)
    for table in early:
        assert not _tables_read(f"internal/{table}") & later, table
    for table in later:
        assert not _tables_read(f"internal/{table}") & early, table


def test_machine_key_is_a_keyed_hash_of_the_guid_never_its_bits() -> None:
    # Given GUIDs (upper-case spellings among them), the sketch input's machine key must be a fixed
    # function of them on every day, keyed by the machine-key secret (issue 16: it was the first 60 bits)
    guids = [str(uuid.uuid4()) for _ in range(50)]
    guids[0] = guids[0].upper()
    salt = SketchSalt.from_secret(b"a-machine-key-secret-of-32-bytes!!")
    for name in ("machine_days", "problem_totals", "feature_totals", "machine_sketch_keys"):
        assert "UHUGEINT" not in queries.sql_text(name), name
    con = duckdb.connect()
    con.execute("CREATE TABLE reports AS SELECT CAST(unnest(?) AS UUID) AS machine_id", [guids])
    sql = f"SELECT CAST(machine_id AS VARCHAR), machine_key FROM ({queries.query('machine_sketch_keys')})"
    got = dict(con.execute(sql, [salt.hex]).fetchall())
    # Then it equals SHA-256(salt || canonical GUID)'s first 60 bits taken in plain Python
    want = {
        str(uuid.UUID(g)): int(hashlib.sha256((salt.hex + str(uuid.UUID(g))).encode()).hexdigest()[:15], 16)
        for g in guids
    }
    assert got == want
    # and none is the GUID's first 60 bits (what anyone holding the GUID could compute)
    assert not set(got.values()) & {uuid.UUID(g).int >> 68 for g in guids}
    # and another secret keys every machine differently
    other = SketchSalt.from_secret(b"another-machine-key-secret-32-bytes")
    assert not set(dict(con.execute(sql, [other.hex]).fetchall()).values()) & set(got.values())


def test_the_sketch_salt_is_derived_apart_from_the_suppression_keys_and_never_printed() -> None:
    secret = b"a-machine-key-secret-of-32-bytes!!"
    salt = SketchSalt.from_secret(secret)
    guid = str(uuid.uuid4())
    # Given the salt, it is not the secret, nor a suppression key, and repr() does not show it
    assert salt.hex != secret.hex() and secret.decode() not in salt.hex
    assert salt.hex != machine_key(guid, secret)
    assert salt.hex not in repr(salt) and secret.decode() not in repr(salt)
    # a short secret is refused, as for the suppression keys
    with pytest.raises(ValueError, match="32 bytes"):
        SketchSalt.from_secret(b"short")


def test_performance_medians_of_uneven_sample_lists_match_each_metric_on_its_own() -> None:
    # Given reports whose three sample lists differ in length, some empty or missing, including a
    # machine with no send samples all day and one whose reports carry no performance at all
    rng = random.Random(11)
    machines = [str(uuid.uuid4()) for _ in range(40)]
    reports: list[dict[str, Any]] = []
    for number in range(400):
        machine = machines[number % len(machines)]
        ui, send, receive = ([rng.randint(1, 5000) for _ in range(rng.randint(0, 7))] for _ in range(3))
        report: dict[str, Any] = {"product": {"id": f"p{number % 2}"}, "machine_id": machine}
        if machine != machines[1]:
            report["performance"] = {
                "ui_response_ms": ui,
                "problems": [],
                "network_kbps": {"send": [] if machine == machines[0] else send, "receive": receive},
            }
        reports.append(report)
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE reports (product_id VARCHAR, machine_id UUID, performance {engine.PERFORMANCE_TYPE})"
    )
    con.executemany(
        "INSERT INTO reports VALUES (?, ?, ?)",
        [(r["product"]["id"], r["machine_id"], r.get("performance")) for r in reports],
    )

    # When the performance table is built (from the machines' medians)
    con.execute(f"CREATE TABLE machine_medians AS {queries.query('machine_medians')}")
    rows = con.execute(queries.query("internal/performance")).fetchall()

    # Then every metric's machines and percentiles are those of that metric's samples alone
    expected = truth.performance(reports)
    got = {(product, metric): (machines, p50, p90, p99) for product, metric, machines, p50, p90, p99 in rows}
    assert got.keys() == expected.keys()
    for key, row in expected.items():
        assert got[key][0] == row["machines"], key
        assert got[key][1:] == pytest.approx((row["p50"], row["p90"], row["p99"])), key
    assert got[("p0", "network_send_kbps")][0] < got[("p0", "ui_response_ms")][0], "machine 0 sends nothing"


def test_the_largest_values_the_wire_format_accepts_are_read_exactly_and_their_sums_do_not_overflow(
    tmp_path: Path,
) -> None:
    # Given 3,000 reports of one machine, each at every limit ingest enforces (samples and counts are
    # read as four-byte integers), so that the day's sums pass what four bytes hold
    machine = str(uuid.uuid4())
    report = {
        "product": {"id": "contoso.editor"},
        "machine_id": machine,
        "created_at": "2026-11-28T10:00:00Z",
        "received_at": "2026-11-28T10:00:01Z",
        "performance": {
            "ui_response_ms": [limits.MAX_UI_RESPONSE_MS],
            "problems": [{"id": "crash.x", "kind": "program", "count": limits.MAX_COUNT}],
            "network_kbps": {"send": [limits.MAX_NETWORK_KBPS], "receive": [limits.MAX_NETWORK_KBPS]},
        },
        "usage": {
            "features": [{"id": "f", "count": limits.MAX_COUNT}],
            "help_center_opens": limits.MAX_COUNT,
            "desktop_folder_count": limits.MAX_COUNT,
        },
    }
    lines = [json.dumps({**report, "report_id": str(uuid.uuid4())}) for _ in range(3000)]
    path = tmp_path / "day.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with engine.Engine(engine.EngineLimits(256, 1, tmp_path / "db")) as session:
        session.create_inputs()
        # When they are loaded and the per-machine and daily tables built
        assert session.append_reports([path]) == 3000
        assert session.drop_unusable() == {}
        session.key_machines(SketchSalt.from_secret(b"a-machine-key-secret-of-32-bytes!!"))
        # (with bounds that let every report and count through: this is about types, not bounds)
        unbounded = ContributionBounds(reports=3000, hits=2**40, uses=2**40)
        session.build_machine_tables(unbounded, CardinalityCaps())
        session.build_daily_tables(tables.DAILY_TABLES, CardinalityCaps())
        con = session._con
        # Then every value reads back as sent, and the sums are exact
        assert con.execute("SELECT hits, top_machine_hits FROM problem_totals").fetchall() == [
            (3000 * limits.MAX_COUNT, 3000 * limits.MAX_COUNT)
        ]
        assert con.execute("SELECT uses FROM feature_totals").fetchall() == [(3000 * limits.MAX_COUNT,)]
        assert con.execute("SELECT help_center_opens, desktop_folder_count FROM machine_days").fetchall() == [
            (3000 * limits.MAX_COUNT, limits.MAX_COUNT)
        ]
        medians = dict(con.execute("SELECT metric, p50 FROM performance").fetchall())
        assert medians == {
            "ui_response_ms": limits.MAX_UI_RESPONSE_MS,
            "network_send_kbps": limits.MAX_NETWORK_KBPS,
            "network_receive_kbps": limits.MAX_NETWORK_KBPS,
        }


def test_products_encoded_as_an_enum_keep_byte_order_and_are_published_as_text(tmp_path: Path) -> None:
    # Given a day's reports of products in no particular order, one id longer than DuckDB inlines
    with engine.Engine(engine.EngineLimits(256, 1, tmp_path / "db")) as session:
        session.create_inputs()
        con = session._con
        for product in ("contoso.spreadsheet", "B", "a", "contoso.mail", "a"):
            con.execute("INSERT INTO reports (product_id) VALUES (?)", [product])
        # When the products are encoded
        session.encode_products()
        # Then the column is an ENUM whose order is the text's byte order
        enum = "ENUM('B', 'a', 'contoso.mail', 'contoso.spreadsheet')"
        assert con.execute("SELECT typeof(product_id) FROM reports LIMIT 1").fetchone() == (enum,)
        ordered = [
            row[0] for row in con.execute("SELECT product_id FROM reports ORDER BY product_id").fetchall()
        ]
        assert ordered == sorted(["contoso.spreadsheet", "B", "a", "contoso.mail", "a"])
        # and a published file holds text, as before
        path = tmp_path / "products.parquet"
        con.execute(f"COPY (SELECT DISTINCT product_id FROM reports) TO '{path}' (FORMAT parquet)")
        assert con.execute(f"SELECT typeof(product_id) FROM '{path}' LIMIT 1").fetchone() == ("VARCHAR",)


def test_a_day_without_reports_keeps_its_products_as_text(tmp_path: Path) -> None:
    with engine.Engine(engine.EngineLimits(256, 1, tmp_path / "db")) as session:
        session.create_inputs()
        session.encode_products()
        column = "SELECT data_type FROM duckdb_columns() WHERE table_name = 'reports' AND column_name = ?"
        assert session._con.execute(column, ["product_id"]).fetchone() == ("VARCHAR",)


# -------------------------------------------------------------------------------- sketches
def test_hll_estimates_stay_within_three_standard_errors_of_the_truth() -> None:
    # Given three days of 20,000 machines each, overlapping by half, as a window of three days
    rng = random.Random(5)
    population = [rng.getrandbits(60) for _ in range(40_000)]
    days = [population[0:20_000], population[10_000:30_000], population[20_000:40_000]]
    by_day = {
        DAY - timedelta(days=i): [
            sketches.DaySketch(sketches.SketchKey("active", "p"), 1, sketches.sketch_of(d))
        ]
        for i, d in enumerate(days)
    }
    window = sketches.rolling_window(dates.window_days(DAY, 3), by_day)
    (row,) = window.rows
    # Then the merged estimate counts each machine once, within the documented bound
    exact = len(set(population))
    assert pytest.approx(0.01625, abs=1e-5) == sketches.RELATIVE_STANDARD_ERROR
    assert abs(row.machines - exact) / exact < 3 * sketches.RELATIVE_STANDARD_ERROR
    assert row.machines < 0.8 * sum(len(d) for d in days)  # not a sum of days
    assert row.total == 3


def test_nested_windows_merged_once_equal_each_window_merged_on_its_own() -> None:
    # Given 28 days of sketches for two keys, with gaps, and machines that return on several days
    rng = random.Random(11)
    population = [rng.getrandbits(60) for _ in range(3_000)]
    days = dates.window_days(DAY, 28)
    by_day = {
        day: [
            sketches.DaySketch(
                sketches.SketchKey("active", "p"),
                10 + i,
                sketches.sketch_of(population[i * 90 : i * 90 + 600]),
            ),
            sketches.DaySketch(
                sketches.SketchKey("feature", "p", f"f{i % 3}"),
                i,
                sketches.sketch_of(population[i * 7 : i * 7 + 40]),
            ),
        ]
        for i, day in enumerate(days)
        if i % 5 != 2
    }
    # When the 7- and 28-day windows are merged together, and each on its own
    together = sketches.rolling_windows(days, [7, 28], by_day)
    alone = [sketches.rolling_window(days[-length:], by_day) for length in (7, 28)]
    # Then they are the same windows, rows, totals and estimates
    assert together == alone
    assert [w.days for w in together] == [7, 28]
    assert together[1].rows[0].total == sum(10 + i for i in range(28) if i % 5 != 2)
    with pytest.raises(ValueError):
        sketches.rolling_windows(days[:5], [7], by_day)


def test_small_sets_are_counted_exactly_and_missing_days_are_listed() -> None:
    keys = list(range(1, 301))  # 300 machines had the problem, 250 of them are "active": capped
    by_day = {
        DAY: [
            sketches.DaySketch(
                sketches.SketchKey("problem", "p", "crash", "program"), 7, sketches.sketch_of(keys)
            )
        ]
    }
    by_day[DAY].append(
        sketches.DaySketch(sketches.SketchKey("active", "p"), 9, sketches.sketch_of(range(1, 251)))
    )
    window = sketches.rolling_window(dates.window_days(DAY, 7), by_day)
    problem = next(r for r in window.rows if r.key.scope == "problem")
    assert problem.machines == 300
    assert problem.prevalence == 1.0  # capped: an estimate never exceeds its product's active machines
    assert len(window.missing_days) == 6 and window.days_with_data == (DAY,)


# -------------------------------------------------------------------------------- engine start
def test_importing_the_engine_starts_no_openblas_threads_that_would_spin_beside_duckdb() -> None:
    # Given a fresh interpreter whose environment says nothing about OpenBLAS
    env = {key: value for key, value in os.environ.items() if key != "OPENBLAS_NUM_THREADS"}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    script = "import os, ceip.aggregate.engine, numpy; print(len(os.listdir('/proc/self/task')))"
    # When it imports the engine (and with it numpy)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    # Then the process has only its main thread: numpy started no OpenBLAS thread per core
    assert done.stdout.strip() == "1"


# -------------------------------------------------------------------------------- staging
def test_staging_skips_objects_that_are_not_gzip_and_counts_vanished_ones(tmp_path: Path) -> None:
    good = gzip.compress(b'{"a": 1}\n')
    source = MemorySource({"k/1": good, "k/2": b"plain text", "k/3": good})
    source.objects.pop("k/3")  # listed, then gone
    staged = fetch_objects(["k/1", "k/2", "k/3"], source, tmp_path / "s", name="day", workers=2, files=1)
    assert (staged.objects_read, staged.objects_corrupt, staged.objects_vanished) == (2, 1, 1)
    assert b"".join(p.read_bytes() for p in staged.files) == good


def test_staging_deals_objects_to_as_many_part_files_as_asked_whatever_the_fetch_threads(
    tmp_path: Path,
) -> None:
    # Given five objects fetched on one thread into two part files
    objects = {f"k/{i}": gzip.compress(f'{{"n": {i}}}\n'.encode()) for i in range(5)}
    staged = fetch_objects(list(objects), MemorySource(objects), tmp_path / "s", name="d", workers=1, files=2)
    # Then both files hold objects (DuckDB inflates each file on a thread of its own), in turn
    assert [len(part.objects) for part in staged.parts] == [3, 2]
    # and each object sits where its offset and length say
    for part in staged.parts:
        data = part.path.read_bytes()
        for stored in part.objects:
            assert data[stored.offset : stored.offset + stored.length] == objects[stored.key]
    # When fewer objects than files are fetched, no empty part file is left for DuckDB to read
    few = fetch_objects(["k/0"], MemorySource(objects), tmp_path / "f", name="d", workers=4, files=3)
    assert len(few.parts) == 1 and sorted(p.name for p in (tmp_path / "f").iterdir()) == ["d-000.ndjson.gz"]


def test_the_exact_path_inflates_object_by_object_and_drops_only_the_broken_one(tmp_path: Path) -> None:
    first, broken, last = (
        gzip.compress(b'{"a": 1}\n'),
        gzip.compress(b'{"a": 2}\n')[:-6],
        gzip.compress(b'{"a": 3}'),
    )
    source = MemorySource({"1": first, "2": broken, "3": last})
    staged = fetch_objects(["1", "2", "3"], source, tmp_path / "s", name="day", workers=1, files=1)
    exact = inflate_parts(staged, tmp_path / "x", name="x", workers=1, files=1)
    assert exact.objects_corrupt == 1
    assert b"".join(p.read_bytes() for p in exact.files) == b'{"a": 1}\n{"a": 3}\n'


# -------------------------------------------------------------------------------- chunks
def test_chunks_are_as_few_as_the_size_allows_and_even_keeping_every_key_once_in_order() -> None:
    # Given 2,000 keys and chunks of at most 800
    keys = [f"k{i:05d}" for i in range(2000)]
    # When they are cut
    parts = loading.chunks(keys, 800)
    # Then there are three chunks of even sizes (no short one: a small INSERT parses slower)
    assert [len(part) for part in parts] == [666, 667, 667]
    # and every key appears once, in order
    assert [key for part in parts for key in part] == keys


def test_chunks_of_few_keys_and_bad_sizes() -> None:
    assert loading.chunks([], 800) == []
    assert loading.chunks(["a", "b", "c"], 2) == [["a"], ["b", "c"]]
    assert [len(part) for part in loading.chunks(["k"] * 2600, 2500)] == [1300, 1300]
    assert [len(part) for part in loading.chunks(["k"] * 10_000, 2500)] == [2500] * 4
    assert loading.chunks(["a"], 1) == [["a"]]
    with pytest.raises(ValueError):
        loading.chunks(["a"], 0)
