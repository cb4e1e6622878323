"""The aggregation service on a synthetic population with known truth (in-memory ports, real DuckDB).

Every table is compared with tests/support/aggregate_truth.py, which computes it in plain Python.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ceip.aggregate.bounds import OTHER, CardinalityCaps, ContributionBounds
from ceip.aggregate.partner_budget import PartnerPrivacy
from ceip.aggregate.service import AggregationOptions, UnreadableReleaseRecord, aggregate_day
from ceip.aggregate.tables import AUDIENCES, TABLES
from ceip.machines.sketch_key import SketchSalt
from ceip.machines.suppression import MemorySuppression
from ceip.reports.minimization import StoredEntries, minimized
from ceip.reports.model import Report
from ceip.storage import aggregate_keys, keys, report_codec
from ceip.storage.aggregate_s3 import MemorySource, MemoryStore
from tests.support import aggregate_truth as truth
from tests.support.aggregate_tables import read_table
from tests.support.partner_noise import ExactNoise
from tests.support.population import StoredReport, at, build_population, guid, objects_of, report_of

DAY = date(2026, 11, 28)
K = 20
SKETCH_SALT = SketchSalt.from_secret(b"test-machine-key-secret-of-32-bytes!")


@dataclass
class Scenario:
    objects: dict[str, bytes]
    counted: list[dict[str, Any]]
    """The unique reports that must be aggregated: the truth's input."""
    suppressed: set[str]


def scenario(day: date = DAY, seed: int = 7) -> Scenario:
    """A day with every hazard: retries in the day and across midnight, a corrupt object, corrupt
    lines, and a suppressed machine."""
    population = build_population(day, seed=seed)
    rng = random.Random(seed + 1)
    objects = objects_of(population.reports)
    counted = [stored.report for stored in population.reports]

    # Retries within the day: five reports stored again in a later object.
    retried = population.reports[:5]
    again = [StoredReport(s.report, at(day, 23, 30)) for s in retried]
    objects.update(objects_of(again))

    # Retries across midnight: first stored at 23:5x the day before, again just after midnight. They
    # carry a problem no other report has, so counting them on this day would show.
    machine = population.machines[10]
    late = []
    for minute in (50, 55, 58):
        report = report_of(machine, at(day - timedelta(days=1), 23, minute), rng, latest=False)
        report["performance"]["problems"] = [{"id": "midnight.retry", "kind": "program", "count": 1}]
        late.append(report)
    objects.update(objects_of([StoredReport(r, at(day - timedelta(days=1), 23, 59)) for r in late]))
    objects.update(objects_of([StoredReport(r, at(day, 0, 1)) for r in late]))

    # A corrupt object (truncated gzip) whose reports must not count.
    lost = report_of(population.machines[11], at(day, 12), rng, latest=False)
    lost["performance"]["problems"] = [{"id": "corrupt.object", "kind": "program", "count": 1}]
    broken = report_codec.encode_lines([StoredReport(lost, at(day, 12)).line], at(day, 12, 5))
    objects[keys.report_object_key(at(day, 12, 5), "c0" * 16)] = broken[: len(broken) // 2]

    # Corrupt lines beside a good report in one object.
    good = report_of(population.machines[12], at(day, 13), rng, latest=True)
    good_line = StoredReport(good, at(day, 13)).line[:-1] + ',"received_at":"2026-11-28T13:00:10.000Z"}'
    text = "\n".join([good_line, "this is not json", '{"report_id": "' + guid(rng) + '", "machine']) + "\n"
    objects[keys.report_object_key(at(day, 13), "c1" * 16)] = gzip.compress(text.encode())
    counted.append(good)

    suppressed_machine = population.machines[20].machine_id
    counted = [r for r in counted if r["machine_id"] != suppressed_machine]
    return Scenario(objects, counted, {suppressed_machine})


def options(**overrides: Any) -> AggregationOptions:
    values: dict[str, Any] = {"privacy": PartnerPrivacy(min_machines=K), "threads": 2, "fetch_workers": 4}
    values.update(overrides)
    return AggregationOptions(**values)


def run(objects: dict[str, bytes], store: MemoryStore, suppressed: set[str] = frozenset(), **kw: Any) -> Any:  # type: ignore[assignment]
    """One day's aggregation; partner noise is ExactNoise (these tests check what the tables derive
    from counts; the noise itself is tested in test_partner_release and test_partner_attacks)."""
    day = kw.pop("day", DAY)
    new_partner_release = kw.pop("new_partner_release", False)
    noise = kw.pop("noise", ExactNoise())
    return aggregate_day(
        day,
        source=MemorySource(objects),
        store=store,
        suppression=MemorySuppression(suppressed),
        sketch_salt=SKETCH_SALT,
        options=options(**kw),
        now=datetime(2026, 11, 29, 2, tzinfo=UTC),
        new_partner_release=new_partner_release,
        noise=noise,
    )


@pytest.fixture(scope="module")
def day_run() -> tuple[Scenario, MemoryStore, Any]:
    world = scenario()
    store = MemoryStore()
    result = run(world.objects, store, world.suppressed)
    return world, store, result


def keyed(rows: list[dict[str, Any]], *names: str) -> dict[Any, dict[str, Any]]:
    table = {}
    for row in rows:
        key = tuple(row[n] for n in names)
        table[key if len(key) > 1 else key[0]] = {k: v for k, v in row.items() if k not in names}
    return table


def assert_rows(actual: dict[Any, dict[str, Any]], expected: dict[Any, dict[str, Any]]) -> None:
    assert set(actual) == set(expected)
    for key, row in expected.items():
        for column, value in row.items():
            assert actual[key][column] == pytest.approx(value), (key, column)


# -------------------------------------------------------------------------------- input hygiene
def test_manifest_counts_what_was_read_dropped_and_aggregated(day_run: Any) -> None:
    # Given the day with its hazards, aggregated once
    world, _, result = day_run
    counts = result.manifest.input
    # Then each hazard is counted where it belongs and only the counted reports are aggregated
    assert counts.objects_corrupt == 1
    assert counts.corrupt_lines_skipped == 2
    assert counts.duplicates_within_day == 5
    assert counts.duplicates_from_previous_day == 3
    assert counts.duplicates_dropped == 8
    assert counts.suppressed_machines_dropped == 1
    assert counts.suppressed_reports_dropped == 3
    assert counts.reports_aggregated == len(world.counted)
    assert (
        counts.objects_read
        == counts.objects_listed
        == len([k for k in world.objects if "dt=2026-11-28" in k])
    )
    assert counts.previous_day_objects_read == 1
    assert counts.machines == len({r["machine_id"] for r in world.counted})


def test_active_problems_and_features_match_the_truth(day_run: Any) -> None:
    world, store, _ = day_run
    assert keyed(read_table(store.objects, "internal", "active", DAY), "product_id") == truth.active(
        world.counted
    )
    problems = keyed(
        read_table(store.objects, "internal", "problems", DAY), "product_id", "problem_id", "kind"
    )
    assert_rows(problems, truth.problems(world.counted))
    features = keyed(read_table(store.objects, "internal", "features", DAY), "product_id", "feature_id")
    assert_rows(features, truth.features(world.counted))


def test_one_machine_hitting_a_problem_a_hundred_times_is_told_apart_from_many_machines(day_run: Any) -> None:
    # Given the heavy hitter: one machine 100 hits a report, three machines one hit a report
    _, store, _ = day_run
    problems = keyed(
        read_table(store.objects, "internal", "problems", DAY), "product_id", "problem_id", "kind"
    )
    heavy = problems[("contoso.editor", "crash.heavy.hitter", "program")]
    # Then machines are few, the heavy machine's 300 hits count up to the daily bound, and that one
    # machine still holds most of them
    hits_bound = ContributionBounds().hits
    assert heavy["machines"] == 4
    assert heavy["hits"] == hits_bound + 3 * 3
    assert heavy["top_machine_share"] == pytest.approx(hits_bound / (hits_bound + 9))


def test_retries_corrupt_input_and_suppressed_machines_leave_no_trace_in_the_tables(day_run: Any) -> None:
    world, store, _ = day_run
    problem_ids = {row["problem_id"] for row in read_table(store.objects, "internal", "problems", DAY)}
    assert "midnight.retry" not in problem_ids
    assert "corrupt.object" not in problem_ids
    assert world.suppressed.isdisjoint({r["machine_id"] for r in world.counted})


def test_configuration_comes_from_each_machines_latest_report(day_run: Any) -> None:
    world, store, _ = day_run
    rows = keyed(
        read_table(store.objects, "internal", "configuration", DAY), "product_id", "dimension", "value"
    )
    expected = truth.configuration(world.counted)
    assert_rows(rows, expected)
    # the upgraded machines' earlier version shows nowhere: only their latest report counts
    assert not [key for key in rows if key[2] == "10.0.17763"]
    assert any(r["configuration"]["os"]["version"] == "10.0.17763" for r in world.counted)


def test_performance_weights_each_machine_once_by_its_own_median(day_run: Any) -> None:
    world, store, _ = day_run
    rows = keyed(read_table(store.objects, "internal", "performance", DAY), "product_id", "metric")
    assert_rows(rows, truth.performance(world.counted))
    assert len(rows) == 6


def test_usage_distributions_and_medians_match(day_run: Any) -> None:
    world, store, _ = day_run
    rows = keyed(read_table(store.objects, "internal", "usage", DAY), "product_id", "metric", "bucket")
    assert_rows(rows, truth.usage(world.counted))


# -------------------------------------------------------------------------------- partner tables
def test_partner_tables_are_derived_from_counts_alone_and_leave_out_what_identifies(day_run: Any) -> None:
    # Given the day, released without noise (ExactNoise) so the derivations can be checked exactly
    world, store, _ = day_run
    objects = store.objects
    active = truth.active(world.counted)
    # Then problems below K are left out, prevalence is machines over active machines, and neither
    # top_machine_share nor the folded '(other)' row reaches partners
    problems = keyed(read_table(objects, "partner", "problems", DAY), "product_id", "problem_id", "kind")
    expected = {key: row for key, row in truth.problems(world.counted).items() if row["machines"] >= K}
    assert set(problems) == set(expected)
    assert len(expected) < len(truth.problems(world.counted)), "some problem must fall below K"
    for key, row in problems.items():
        assert row["machines"] == expected[key]["machines"]
        assert row["hits"] == expected[key]["hits"]
        assert row["prevalence"] == pytest.approx(row["machines"] / active[key[0]]["machines"])
        assert "top_machine_share" not in row
    # and configuration shares are among the values published, each of at least K machines
    config = keyed(read_table(objects, "partner", "configuration", DAY), "product_id", "dimension", "value")
    internal = truth.configuration(world.counted)
    assert set(config) == {key for key, row in internal.items() if row["machines"] >= K}
    for (product, dimension, _), row in config.items():
        group = [r["machines"] for (p, d, _), r in config.items() if (p, d) == (product, dimension)]
        assert row["share"] == pytest.approx(row["machines"] / sum(group))
    # and usage publishes every bucket of a group that reaches K, without the exact median
    usage = read_table(objects, "partner", "usage", DAY)
    assert usage
    assert all("median" not in row for row in usage)
    # and performance is left out: no bin of a 60-machine product reaches four standard deviations of
    # its noise, so its percentiles would be noise (the release cleans the histogram; unit tests in
    # test_partner_release check the percentiles of larger products)
    assert read_table(objects, "partner", "performance", DAY) == []
    # and the rolling tables carry machines, never exact hits or uses
    for table in ("problems_rolling", "features_rolling", "active_rolling"):
        for row in read_table(objects, "partner", table, DAY):
            assert not {"hits", "uses", "reports"} & set(row)


def test_partner_csv_equals_partner_parquet(day_run: Any) -> None:
    _, store, _ = day_run
    for table in ("problems", "configuration", "usage", "features"):
        parquet = read_table(store.objects, "partner", table, DAY)
        csv = read_table(store.objects, "partner", table, DAY, suffix=".csv")
        assert len(csv) == len(parquet)
        assert [r[next(iter(r))] for r in csv] == [r[next(iter(r))] for r in parquet]


COUNT_COLUMNS = {"hits", "uses", "machines", "reports", "days_with_data", "window_days"}


def test_counts_are_written_as_integers_in_every_table_and_format(day_run: Any) -> None:
    # Given the day's output
    _, store, _ = day_run
    for audience in AUDIENCES:
        for table in TABLES:
            for suffix in (".parquet", ".csv") if audience == "partner" else (".parquet",):
                rows = read_table(store.objects, audience, table, DAY, suffix=suffix)
                # Then every count reads back as an integer, never as 154.0 (a HUGEINT sum in Parquet)
                for row in rows:
                    for column in COUNT_COLUMNS & set(row):
                        assert type(row[column]) is int, (audience, table, suffix, column, row[column])


def test_no_output_holds_a_guid_or_a_time_finer_than_the_day(day_run: Any) -> None:
    # Given every GUID the day's reports carried
    world, store, result = day_run
    guids = {r["machine_id"] for r in world.counted} | {r["report_id"] for r in world.counted}
    guids |= world.suppressed
    # Then no file the run wrote contains one, in any form (parquet and CSV store strings plainly)
    for key, body in store.objects.items():
        text = (
            gzip.decompress(body).decode(errors="replace") if key.endswith(".gz") else body.decode("latin-1")
        )
        for value in guids:
            assert value not in text, key
    # and partner rows carry no column finer than the day
    for table in (
        "problems",
        "features",
        "configuration",
        "performance",
        "usage",
        "active",
        "problems_rolling",
    ):
        for row in read_table(store.objects, "partner", table, DAY):
            assert not {"machine_id", "report_id", "received_at", "created_at"} & set(row)
    assert result.manifest.files


# -------------------------------------------------------------------------------- rolling windows
def test_a_single_day_window_lists_its_missing_days(day_run: Any) -> None:
    _, store, result = day_run
    seven, twenty_eight = result.manifest.windows
    assert (seven.days, seven.days_with_data, len(seven.missing_days)) == (7, 1, 6)
    assert (twenty_eight.days, twenty_eight.days_with_data, len(twenty_eight.missing_days)) == (28, 1, 27)
    rolling = keyed(read_table(store.objects, "internal", "active_rolling", DAY), "product_id", "window_days")
    daily = keyed(read_table(store.objects, "internal", "active", DAY), "product_id")
    for (product, _), row in rolling.items():
        assert row["machines"] == daily[product]["machines"]
        assert row["days_with_data"] == 1


def test_rolling_windows_count_distinct_machines_over_the_window_not_a_sum_of_days() -> None:
    # Given three consecutive days whose machine sets overlap, aggregated oldest first
    store = MemoryStore()
    days = [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY]
    counted: list[dict[str, Any]] = []
    daily_hits: Counter[tuple[str, str, str]] = Counter()
    for offset, day in enumerate(days):
        population = build_population(day, machines_per_product=30, seed=100)  # same machines every day
        keep = population.reports[offset * 30 :]  # each day loses some machines' reports
        counted.extend(s.report for s in keep)
        # a machine's hits are bounded per day, so the window's hits are the sum of the days' tables
        daily_hits.update({key: row["hits"] for key, row in truth.problems([s.report for s in keep]).items()})
        run(objects_of(keep), store, day=day)
    # When the last day's 7-day tables are read
    rolling = keyed(
        read_table(store.objects, "internal", "problems_rolling", DAY),
        "product_id",
        "problem_id",
        "kind",
        "window_days",
    )
    active = keyed(read_table(store.objects, "internal", "active_rolling", DAY), "product_id", "window_days")
    # Then machines are distinct over the three days, hits are summed
    expected = truth.problems(counted)
    actives = truth.active(counted)
    for (product, problem, kind), row in expected.items():
        got = rolling[(product, problem, kind, 7)]
        assert got["machines"] == row["machines"]
        assert got["hits"] == daily_hits[(product, problem, kind)]
        assert got["days_with_data"] == 3
        assert got["prevalence"] == pytest.approx(row["machines"] / actives[product]["machines"])
    for product, row in actives.items():
        assert active[(product, 7)]["machines"] == row["machines"]
        assert active[(product, 28)]["reports"] == row["reports"]
    daily_sum = sum(r["machines"] for r in read_table(store.objects, "internal", "active", DAY))
    assert sum(r["machines"] for (_, w), r in active.items() if w == 7) < daily_sum * 3


# -------------------------------------------------------------------------------- reruns
def test_a_rerun_replaces_the_days_output_and_leaves_no_stale_file() -> None:
    # Given a day aggregated with tiny part files, and a file an older layout left behind
    world = scenario()
    store = MemoryStore()
    run(world.objects, store, world.suppressed, rows_per_file=3)
    stale = aggregate_keys.table_day_prefix("internal", "problems", DAY) + "old-layout.csv"
    store.put(stale, b"x", content_type="text/csv")
    other_day = aggregate_keys.table_part_key("internal", "problems", DAY - timedelta(days=5), 0, "parquet")
    store.put(other_day, b"another day", content_type="application/vnd.apache.parquet")
    before = {k for k in store.objects if "/dt=2026-11-28/" in k}
    partner_before = {k: v for k, v in store.objects.items() if k.startswith("aggregates/partner/")}
    # When the day is rerun after half its objects went away (fewer rows, so fewer part files)
    fewer = dict(sorted(world.objects.items())[: len(world.objects) // 2])
    result = run(fewer, store, set(), rows_per_file=3)
    # Then the day holds exactly the new run's files and its release record; other days are untouched
    now = {k for k in store.objects if "/dt=2026-11-28/" in k}
    release_key = aggregate_keys.partner_release_key(DAY)
    assert now == set(result.manifest.files) | {result.manifest_key, release_key}
    # and the partner files are the first run's, byte for byte: a rerun never draws fresh noise
    assert {k: v for k, v in store.objects.items() if k.startswith("aggregates/partner/")} == partner_before
    assert result.manifest.partner_release.republished
    assert result.manifest.partner_release.drawings == 1
    assert stale not in store.objects and before - now
    assert store.objects[other_day] == b"another day"
    assert result.manifest.stale_files_deleted == len(before - now)
    problems = read_table(store.objects, "internal", "problems", DAY)
    assert len(problems) == result.manifest.rows["internal/problems"]


def test_rerunning_on_the_same_input_gives_the_same_files() -> None:
    world = scenario()
    first, second = MemoryStore(), MemoryStore()
    run(world.objects, first, world.suppressed)
    run(world.objects, second, world.suppressed)
    manifest = aggregate_keys.manifest_key(DAY)
    files = {k for k in first.objects if k != manifest}
    assert any(k.endswith("sketches.parquet") for k in files)
    assert {k: first.objects[k] for k in files} == {k: second.objects[k] for k in files}


def test_loading_in_small_chunks_gives_the_same_tables_and_counts(day_run: Any) -> None:
    # Given the day's objects loaded three at a time (duplicates, a corrupt object and corrupt lines
    # now sit in different chunks, fetched while the previous chunk is parsed)
    world, whole, whole_result = day_run
    chunked = MemoryStore()
    result = run(world.objects, chunked, world.suppressed, chunk_objects=3)
    # Then every count and every table file is what loading the day in one chunk gave
    assert result.manifest.input == whole_result.manifest.input
    manifest = aggregate_keys.manifest_key(DAY)
    files = {k for k in whole.objects if k != manifest}
    assert {k: chunked.objects[k] for k in files} == {k: whole.objects[k] for k in files}


def test_suppression_is_asked_about_the_days_machines_only() -> None:
    world = scenario()
    suppression = MemorySuppression(world.suppressed | {"00000000-0000-4000-8000-000000000000"})
    aggregate_day(
        DAY,
        source=MemorySource(world.objects),
        store=MemoryStore(),
        suppression=suppression,
        sketch_salt=SKETCH_SALT,
        options=options(),
    )
    machines = {r["machine_id"] for r in world.counted} | world.suppressed
    assert suppression.asked == machines


def test_an_empty_day_writes_empty_tables_and_a_manifest() -> None:
    store = MemoryStore()
    result = run({}, store)
    assert result.manifest.input.reports_aggregated == 0
    assert read_table(store.objects, "internal", "problems", DAY) == []
    manifest = json.loads(store.objects[aggregate_keys.manifest_key(DAY)])
    assert manifest["rows"]["partner/active"] == 0
    assert manifest["engine"]["name"] == "duckdb"


def test_latest_configuration_compares_instants_not_the_clock_text_of_each_offset() -> None:
    # Given one machine whose report at 10:00+05:00 (05:00 UTC) precedes its report at 06:00 UTC
    rng = random.Random(3)
    machine = build_population(DAY, machines_per_product=1).machines[0]
    early = report_of(machine, at(DAY, 5), rng, latest=True)
    early["created_at"] = "2026-11-28T10:00:00+05:00"
    early["configuration"]["os"]["version"] = "10.0.1"
    late = report_of(machine, at(DAY, 6), rng, latest=True)
    late["configuration"]["os"]["version"] = "10.0.2"
    store = MemoryStore()
    run(objects_of([StoredReport(early, at(DAY, 5)), StoredReport(late, at(DAY, 6))]), store)
    # Then the configuration is the 06:00 UTC one
    rows = read_table(store.objects, "internal", "configuration", DAY)
    assert {r["value"] for r in rows if r["dimension"] == "os_version"} == {"10.0.2"}


# -------------------------------------------------------------------------------- bounds and caps
def stranger(population: Any, number: int, rng: random.Random) -> Any:
    """A machine shaped like the population's machine `number`, under a GUID the day does not have."""
    return dataclasses.replace(population.machines[number], machine_id=guid(rng))


def hostile_machine_reports(
    rng: random.Random, machine: Any, products: int, reports: int
) -> list[StoredReport]:
    """One machine's reports: `reports` for each of `products` products (its own first), each naming
    100 problems and 100 features no one else has."""
    stored = []
    for product in range(products):
        for number in range(reports):
            report = report_of(machine, at(DAY, 1 + number % 20, number % 60), rng, latest=True)
            report["product"] = {"id": f"contoso.fake{product}", "version": "1.0"}
            report["performance"]["problems"] = [
                {"id": f"fake.{product}.{number}.{i}", "kind": "program", "count": 1000} for i in range(100)
            ]
            report["usage"]["features"] = [{"id": f"fake.f.{number}.{i}", "count": 1000} for i in range(100)]
            stored.append(StoredReport(report, at(DAY, 1 + number % 20, number % 60)))
    return stored


def test_reports_stored_whole_and_reports_ingest_minimized_give_the_same_tables() -> None:
    # Given a day with machines whose reports are past the bounds (problems hit unevenly, features in
    # ties), stored whole as an ingest before minimization did, and the same reports minimized
    world = scenario()
    rng = random.Random(12)
    population = build_population(DAY, seed=7)
    whole = []
    for n in range(6):
        machine = stranger(population, n, rng)
        for number in range(3):
            report = report_of(machine, at(DAY, 2 + number), rng, latest=True)
            report["performance"]["problems"] = [
                {
                    "id": f"crash.{n}.{i % 30}",
                    "kind": "device" if i >= 30 else "program",
                    "count": 1 + (i * 7) % 11,
                }
                for i in range(40)
            ]
            report["usage"]["features"] = [{"id": f"feature.{i}", "count": 1 + i % 4} for i in range(70)]
            report["configuration"]["hardware_features"] = {f"hw.{i:02d}": bool(i % 3) for i in range(30)}
            whole.append(StoredReport(report, at(DAY, 2 + number)))
    cut = [
        StoredReport(
            json.loads(
                report_codec.canonical_line(minimized(Report.model_validate(s.report), StoredEntries()))
            ),
            s.received_at,
        )
        for s in whole
    ]
    assert cut != whole
    # When each is aggregated
    stores = {}
    for label, extra in (("whole", whole), ("cut", cut)):
        stores[label] = MemoryStore()
        run({**world.objects, **objects_of(extra)}, stores[label], world.suppressed)
    # Then every table of both audiences is the same
    for audience in AUDIENCES:
        for table in TABLES:
            assert read_table(stores["whole"].objects, audience, table, DAY) == read_table(
                stores["cut"].objects, audience, table, DAY
            ), f"{audience}/{table}"


def test_a_machine_counts_within_its_daily_bounds_however_much_it_sends() -> None:
    # Given an ordinary day and one machine that sends 30 reports for each of 5 products, each report
    # with 100 problems and 100 features of its own, hit 1,000 times each
    world = scenario()
    rng = random.Random(5)
    population = build_population(DAY, seed=7)
    machine = stranger(population, 30, rng)
    hostile = hostile_machine_reports(rng, machine, products=5, reports=30)
    store = MemoryStore()
    result = run({**world.objects, **objects_of(hostile)}, store, world.suppressed)
    bounds = ContributionBounds()
    # Then its reports count for 3 products only, 24 each, and the rest is dropped and counted
    counts = result.manifest.input
    assert counts.over_products_reports_dropped == 2 * 30
    assert counts.over_reports_dropped == 3 * (30 - bounds.reports)
    fakes = [r for r in read_table(store.objects, "internal", "active", DAY) if "fake" in r["product_id"]]
    assert len(fakes) == bounds.products and all(r["reports"] == bounds.reports for r in fakes)
    # and it contributes at most 16 problems and 32 features over all its products, clipped
    fake_problems = [
        r for r in read_table(store.objects, "internal", "problems", DAY) if "fake" in r["problem_id"]
    ]
    assert len(fake_problems) == bounds.problems
    assert all(r["hits"] == bounds.hits and r["machines"] == 1 for r in fake_problems)
    fake_features = [
        r for r in read_table(store.objects, "internal", "features", DAY) if "fake" in r["feature_id"]
    ]
    assert len(fake_features) == bounds.features
    # and everyone else's tables are those of the day without it
    ordinary = keyed(
        read_table(store.objects, "internal", "problems", DAY), "product_id", "problem_id", "kind"
    )
    expected = truth.problems(world.counted)
    assert_rows({k: v for k, v in ordinary.items() if "fake" not in k[1]}, expected)


def test_a_machine_naming_few_ids_in_many_reports_keeps_them_all_clipped() -> None:
    # Given one machine whose 20 reports each name the same 3 problems and 3 features once: more
    # entries than its bounds on distinct problems (16) and features (32), but only 3 of each
    world = scenario()
    rng = random.Random(11)
    machine = stranger(build_population(DAY, seed=7), 30, rng)
    stored = []
    for number in range(20):
        report = report_of(machine, at(DAY, 1 + number, 5), rng, latest=True)
        report["performance"]["problems"] = [
            {"id": f"few.{i}", "kind": "program", "count": 1} for i in range(3)
        ]
        report["usage"]["features"] = [{"id": f"few.f{i}", "count": 1} for i in range(3)]
        stored.append(StoredReport(report, at(DAY, 1 + number, 5)))
    store = MemoryStore()
    run({**world.objects, **objects_of(stored)}, store, world.suppressed)
    bounds = ContributionBounds()
    # Then all 3 of each count, each summed over the 20 reports and clipped to the bound
    problems = {
        r["problem_id"]: r
        for r in read_table(store.objects, "internal", "problems", DAY)
        if r["problem_id"].startswith("few.")
    }
    assert {p: (r["hits"], r["machines"]) for p, r in problems.items()} == {
        f"few.{i}": (min(20, bounds.hits), 1) for i in range(3)
    }
    features = {
        r["feature_id"]: r
        for r in read_table(store.objects, "internal", "features", DAY)
        if r["feature_id"].startswith("few.")
    }
    assert {f: (r["uses"], r["machines"]) for f, r in features.items()} == {
        f"few.f{i}": (min(20, bounds.uses), 1) for i in range(3)
    }


def test_a_machine_counts_only_its_first_hardware_features_by_name() -> None:
    # Given one machine whose configuration states 20 hardware features no one else has
    world = scenario()
    rng = random.Random(13)
    machine = stranger(build_population(DAY, seed=7), 30, rng)
    report = report_of(machine, at(DAY, 9), rng, latest=True)
    names = [f"hw.{name}" for name in rng.sample(range(1000, 9999), 20)]
    report["configuration"] = {"hardware_features": {name: i % 2 == 0 for i, name in enumerate(names)}}
    store = MemoryStore()
    run({**world.objects, **objects_of([StoredReport(report, at(DAY, 9))])}, store, world.suppressed)
    # Then its product's configuration names the first 8 of them in name order, each with its value
    rows = read_table(store.objects, "internal", "configuration", DAY)
    stated = {
        r["dimension"].removeprefix("hardware_features."): r["value"]
        for r in rows
        if r["dimension"].startswith("hardware_features.hw.")
    }
    on = {name: "true" if i % 2 == 0 else "false" for i, name in enumerate(names)}
    first = sorted(names)[: ContributionBounds().hardware_features]
    assert stated == {name: on[name] for name in first}


def test_ids_beyond_a_products_cap_are_folded_into_other_and_counted() -> None:
    # Given the day with caps far below its distinct problems and features
    world = scenario()
    store = MemoryStore()
    caps = CardinalityCaps(problem_ids=3, feature_ids=2, hardware_features=1)
    result = run(world.objects, store, world.suppressed, caps=caps)
    expected = truth.problems(world.counted)
    problems = read_table(store.objects, "internal", "problems", DAY)
    # Then each product keeps its 3 problems with the most machines (ties by id) and folds the rest
    for product in {key[0] for key in expected}:
        own = sorted(
            ((-row["machines"], key[1], key[2]) for key, row in expected.items() if key[0] == product)
        )
        kept = {(problem, kind) for _, problem, kind in own[: caps.problem_ids]}
        rows = [r for r in problems if r["product_id"] == product]
        assert {(r["problem_id"], r["kind"]) for r in rows if r["problem_id"] != OTHER} == kept
        folded = [
            row["machines"] for key, row in expected.items() if key[0] == product and key[1:] not in kept
        ]
        # a machine counts once in '(other)' of its kind, however many folded ids it had
        others = [r["machines"] for r in rows if r["problem_id"] == OTHER]
        assert folded and others
        assert max(folded) <= sum(others) <= sum(folded)
    # and the manifest counts the folded ids
    assert result.manifest.folded.problem_ids == len(expected) - sum(
        min(caps.problem_ids, len([k for k in expected if k[0] == product]))
        for product in {k[0] for k in expected}
    )
    assert result.manifest.folded.feature_ids > 0 and result.manifest.folded.hardware_features > 0
    # and '(other)' never reaches partners
    assert not [r for r in read_table(store.objects, "partner", "problems", DAY) if r["problem_id"] == OTHER]
    assert (
        len(
            {
                r["dimension"]
                for r in read_table(store.objects, "internal", "configuration", DAY)
                if r["dimension"].startswith("hardware_features.")
            }
        )
        <= caps.hardware_features * 3
    )


def test_declared_ids_are_kept_whatever_the_cap_and_published_with_the_tables() -> None:
    # Given the day with a cap of one problem id per product, and contoso.editor's dictionary declaring
    # a rare problem of the day, beside a dictionary stored under the wrong product's key
    world = scenario()
    expected = truth.problems(world.counted)
    rare = min((key for key in expected if key[0] == "contoso.editor"), key=lambda k: expected[k]["machines"])
    store = MemoryStore()
    declared = {
        "product_id": "contoso.editor",
        "problems": [{"id": rare[1], "kind": rare[2], "description": "A rare one, declared."}],
        "features": [],
    }
    store.put(aggregate_keys.dictionary_key("contoso.editor"), json.dumps(declared).encode(), content_type="")
    store.put(aggregate_keys.dictionary_key("contoso.mail"), json.dumps(declared).encode(), content_type="")
    result = run(world.objects, store, world.suppressed, caps=CardinalityCaps(problem_ids=1))
    # Then the declared problem is kept beside the one the cap keeps, the rest folded
    ids = {
        (r["problem_id"], r["kind"])
        for r in read_table(store.objects, "internal", "problems", DAY)
        if r["product_id"] == "contoso.editor"
    }
    assert (rare[1], rare[2]) in ids
    assert len(ids - {(OTHER, "program"), (OTHER, "device")}) == 2
    # and the manifest counts what was read, the misplaced dictionary left out
    summary = result.manifest.dictionaries
    assert (summary.products, summary.invalid, summary.declared_problem_ids) == (1, 1, 1)
    # and the dictionaries the day used are published beside the partner tables
    published = json.loads(store.objects[aggregate_keys.published_dictionary_key(DAY)])
    assert published["products"][0]["problems"][0]["description"] == "A rare one, declared."


def test_products_beyond_the_days_cap_are_dropped_unless_a_dictionary_declares_them() -> None:
    # Given the day's two products and four made-up ones of one machine each, one of them declared,
    # aggregated with room for three products
    world = scenario()
    rng = random.Random(8)
    population = build_population(DAY, seed=7)
    made_up = []
    for number in range(4):
        machine = stranger(population, number, rng)
        report = report_of(machine, at(DAY, 9), rng, latest=True)
        report["product"] = {"id": f"made.up{number}", "version": "1.0"}
        made_up.append(StoredReport(report, at(DAY, 9)))
    store = MemoryStore()
    declared = {"product_id": "made.up3", "problems": [], "features": []}
    store.put(aggregate_keys.dictionary_key("made.up3"), json.dumps(declared).encode(), content_type="")
    result = run(
        {**world.objects, **objects_of(made_up)}, store, world.suppressed, caps=CardinalityCaps(products=3)
    )
    # Then the real products and the declared one count, with the made-up product of the smallest id
    # (ties by id) taking the cap's third place; the other two are dropped and counted
    active = {r["product_id"] for r in read_table(store.objects, "internal", "active", DAY)}
    assert active == {"contoso.editor", "contoso.mail", "made.up0", "made.up3"}
    counts = result.manifest.input
    assert counts.over_product_cap_reports_dropped == 2
    assert result.manifest.folded.products == 2
    # and their machines, which sent nothing else, are not among the day's machines
    baseline = run(world.objects, MemoryStore(), world.suppressed)
    assert counts.machines == baseline.manifest.input.machines + 2
    assert result.manifest.parameters.caps["products"] == 3


def test_an_unreadable_release_record_stops_the_run_instead_of_drawing_uncounted_noise() -> None:
    # Given a day whose partner-release record was damaged
    world = scenario()
    store = MemoryStore()
    store.put(aggregate_keys.partner_release_key(DAY), b"{not json", content_type="application/json")
    # Then the run refuses, naming the record, and writes no manifest
    with pytest.raises(UnreadableReleaseRecord, match=r"partner-release\.json"):
        run(world.objects, store, world.suppressed)
    assert aggregate_keys.manifest_key(DAY) not in store.objects
