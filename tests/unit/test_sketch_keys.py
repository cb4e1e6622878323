"""Sketch keys (issue 16): a keyed hash of the GUID under the machine-key secret, versioned files.

A sketch of a small cell holds its machines' hashes: membership of a known GUID can be tested by
whoever can compute that GUID's key. These tests play that attacker, with and without the secret."""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from datasketches import hll_sketch, hll_union

from ceip.aggregate.partner_budget import PartnerPrivacy
from ceip.aggregate.service import AggregationOptions, aggregate_day
from ceip.aggregate.sketches import LG_K, sketch_of
from ceip.machines.sketch_key import SketchSalt
from ceip.machines.suppression import MemorySuppression
from ceip.storage import aggregate_keys
from ceip.storage.aggregate_s3 import MemorySource, MemoryStore
from tests.support import aggregate_truth as truth
from tests.support.aggregate_tables import read_parts, read_table
from tests.support.population import build_population, objects_of

DAY = date(2026, 11, 28)
SECRET = b"the-operators-machine-key-secret-0123456789"
OTHER_SECRET = b"somebody-elses-machine-key-secret-98765432"


def run(objects: dict[str, bytes], store: MemoryStore, day: date = DAY, secret: bytes = SECRET) -> Any:
    return aggregate_day(
        day,
        source=MemorySource(objects),
        store=store,
        suppression=MemorySuppression(),
        sketch_salt=SketchSalt.from_secret(secret),
        options=AggregationOptions(privacy=PartnerPrivacy(min_machines=5), threads=2, fetch_workers=2),
        now=datetime(2026, 11, 29, 2, tzinfo=UTC),
    )


def active_sketches(store: MemoryStore, day: date = DAY) -> dict[str, bytes]:
    rows = read_parts(store.objects, aggregate_keys.table_day_prefix("internal", "sketches", day))
    return {r["product_id"]: bytes(r["sketch"]) for r in rows if r["scope"] == "active"}


def holds(sketch: bytes, candidate_key: int) -> bool:
    """The attacker's membership test: adding the candidate leaves the (exact, small) estimate unchanged."""
    stored = hll_sketch.deserialize(sketch)
    union = hll_union(LG_K)
    union.update(stored)
    union.update(hll_sketch.deserialize(sketch_of([candidate_key])))
    return round(union.get_result().get_estimate()) == round(stored.get_estimate())


def keyed_hash(secret: bytes, guid: str) -> int:
    """The operators' own computation, from the secret, without the code under test's SQL."""
    import hashlib

    salt = SketchSalt.from_secret(secret).hex
    return int(hashlib.sha256((salt + guid).encode()).hexdigest()[:15], 16)


def test_a_known_guid_cannot_be_found_in_a_sketch_without_the_secret_but_can_with_it() -> None:
    # Given a small day (8 machines per product), aggregated under the operators' secret
    population = build_population(DAY, machines_per_product=8, reports_per_machine=2)
    store = MemoryStore()
    run(objects_of(population.reports), store)
    sketches = active_sketches(store)
    by_product: dict[str, set[str]] = {}
    for stored in population.reports:
        by_product.setdefault(stored.report["product"]["id"], set()).add(stored.report["machine_id"])
    for product, machines in by_product.items():
        sketch = sketches[product]
        assert round(hll_sketch.deserialize(sketch).get_estimate()) == len(machines)
        for guid in machines:
            # Then an attacker who knows the GUID finds it neither by its first 60 bits (the old key)
            assert not holds(sketch, uuid.UUID(guid).int >> 68), guid
            # nor by a keyed hash under any other secret
            assert not holds(sketch, keyed_hash(OTHER_SECRET, guid)), guid
            # while the operators, who hold the secret, can (docs/privacy-model.md says so)
            assert holds(sketch, keyed_hash(SECRET, guid)), guid
        # and a machine of the day that is not in the cell is not found either (the test can fail)
        outsider = next(iter(set().union(*by_product.values()) - machines))
        assert not holds(sketch, keyed_hash(SECRET, outsider))


def test_the_same_day_under_two_secrets_gives_other_sketches_and_the_same_tables() -> None:
    population = build_population(DAY, machines_per_product=8, reports_per_machine=2)
    first, second = MemoryStore(), MemoryStore()
    run(objects_of(population.reports), first)
    run(objects_of(population.reports), second, secret=OTHER_SECRET)
    # Then every sketch differs, while the estimates and the tables do not
    one, other = active_sketches(first), active_sketches(second)
    assert one.keys() == other.keys()
    for product in one:
        assert one[product] != other[product]
        assert hll_sketch.deserialize(one[product]).get_estimate() == (
            hll_sketch.deserialize(other[product]).get_estimate()
        )
    for table in ("active", "active_rolling", "problems_rolling"):
        assert read_table(first.objects, "internal", table, DAY) == read_table(
            second.objects, "internal", table, DAY
        )


def test_neither_the_secret_nor_the_salt_is_in_any_file_or_the_manifest() -> None:
    population = build_population(DAY, machines_per_product=8, reports_per_machine=2)
    store = MemoryStore()
    result = run(objects_of(population.reports), store)
    salt = SketchSalt.from_secret(SECRET).hex
    secrets = [SECRET, salt.encode(), bytes.fromhex(salt), salt.upper().encode()]
    for key, body in store.objects.items():
        for secret in secrets:
            assert secret not in body, key
    assert result.manifest.parameters.sketch_key_version == 2
    assert salt not in result.manifest.model_dump_json() and SECRET.decode() not in repr(result)


def as_version_1(sketches: bytes) -> bytes:
    """A sketches file as runs before the key version wrote it: the same columns, no key_version."""
    with tempfile.TemporaryDirectory() as scratch:
        source, target = Path(scratch) / "in.parquet", Path(scratch) / "out.parquet"
        source.write_bytes(sketches)
        duckdb.connect().execute(
            f"COPY (SELECT * EXCLUDE (key_version) FROM read_parquet('{source}')) "
            f"TO '{target}' (FORMAT parquet)"
        )
        return target.read_bytes()


def test_days_keyed_the_earlier_way_are_left_out_of_the_windows_and_listed_as_missing() -> None:
    # Given the same machines on three days: the first two aggregated before this change (their
    # sketches keyed otherwise: here under another secret, then rewritten in the old file layout),
    # except that the middle one was rerun since under the current keys
    store = MemoryStore()
    days = [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY]
    for day in days:
        population = build_population(day, machines_per_product=20, seed=100)
        run(objects_of(population.reports), store, day=day, secret=OTHER_SECRET if day == days[0] else SECRET)
    old = aggregate_keys.sketches_key(days[0])
    store.objects[old] = as_version_1(store.objects[old])
    # When the last day is rerun
    result = run(objects_of(build_population(DAY, machines_per_product=20, seed=100).reports), store)
    # Then the old day is missing from both windows, the current ones are counted
    for window in result.manifest.windows:
        assert days[0] in window.missing_days
        assert days[1] not in window.missing_days and DAY not in window.missing_days
        assert window.days_with_data == 2
    # and no machine counts twice: the same machines every day, so each window's machines are one day's
    active = {
        (r["product_id"], r["window_days"]): r
        for r in read_table(store.objects, "internal", "active_rolling", DAY)
    }
    one_day = truth.active(
        [s.report for s in build_population(DAY, machines_per_product=20, seed=100).reports]
    )
    for (product, window_days), row in active.items():
        assert row["machines"] == one_day[product]["machines"], (product, window_days)
        assert row["days_with_data"] == 2
        assert row["reports"] == 2 * one_day[product]["reports"]


def test_a_window_whose_only_earlier_day_is_of_the_old_layout_counts_today_alone() -> None:
    # Given the day before aggregated before the key version existed (its file has no key_version
    # column, and no other file read in the run has one either)
    store = MemoryStore()
    before = DAY - timedelta(days=1)
    run(objects_of(build_population(before, machines_per_product=10, seed=3).reports), store, day=before)
    old = aggregate_keys.sketches_key(before)
    store.objects[old] = as_version_1(store.objects[old])
    # When the day is aggregated
    population = build_population(DAY, machines_per_product=10, seed=3)
    result = run(objects_of(population.reports), store)
    # Then the day before is missing from both windows and the machines are today's alone
    for window in result.manifest.windows:
        assert before in window.missing_days and window.days_with_data == 1
    today = truth.active([s.report for s in population.reports])
    for row in read_table(store.objects, "internal", "active_rolling", DAY):
        assert row["machines"] == today[row["product_id"]]["machines"]
        assert row["reports"] == today[row["product_id"]]["reports"]
