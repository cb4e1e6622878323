"""AggregateFunction killed halfway by S3 failures (injected into botocore, served by moto).

The promise: a run that fails anywhere raises (so the invocation is retried) and leaves its day
without a manifest (readers never take a mix of two runs for a finished day), and the rerun writes
exactly the files and manifest an undisturbed run writes.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from infra.local.gateway import LambdaContext

from ceip.aggregate import app
from ceip.storage import aggregate_keys
from ceip.storage.aggregate_s3 import aggregate_s3_client
from ceip.storage.s3 import StorageUnavailable
from tests.conftest import AGGREGATES_BUCKET, REPORTS_BUCKET
from tests.support import faults
from tests.support.faults import ANY_OPERATION, Backoff, Failure, Faults, object_key_is
from tests.support.population import build_population, objects_of

DAY = date(2026, 11, 28)
PREVIOUS = DAY - timedelta(days=1)
MANIFEST = aggregate_keys.manifest_key(DAY)
LEFTOVER = f"{aggregate_keys.table_day_prefix('internal', 'problems', DAY)}part-00009.parquet"
"""A file of an older layout under the day's prefix: every complete run deletes it."""
RUN_SPECIFIC = ("generated_at", "stale_files_deleted")
"""Manifest fields that describe one run rather than the day."""
RELEASE = aggregate_keys.partner_release_key(DAY)
DRAWING_SPECIFIC = ("drawn_at", "drawings", "rho_charged")
"""Partner-release fields of one drawing: a run killed after recording its drawing is charged for it,
so the rerun's release counts one more (the tables here are too small for any row to be published,
so the partner files themselves are the same)."""
CONTEXT = LambdaContext("AggregateFunction", timeout_seconds=900)

_UNDISTURBED: dict[bool, tuple[dict[str, Any], int]] = {}
"""What an undisturbed run writes, by whether the previous day was aggregated, and its S3 attempts.
The inputs are fixed and a rerun writes the same bytes, so each is computed once per session."""


def day_objects() -> dict[str, bytes]:
    return objects_of(
        build_population(DAY, machines_per_product=8, reports_per_machine=2).reports, per_object=4
    )


@pytest.fixture
def reports(s3: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The day's report objects in the reports bucket, and an empty aggregates bucket."""
    monkeypatch.setenv("PARTNER_MIN_MACHINES", "3")
    s3.create_bucket(Bucket=AGGREGATES_BUCKET)
    objects = day_objects()
    for key, body in objects.items():
        s3.put_object(Bucket=REPORTS_BUCKET, Key=key, Body=body)
    return objects


@pytest.fixture
def aggregate_faults(reports: dict[str, bytes]) -> Faults:
    return Faults(aggregate_s3_client())


def aggregate_previous_day(s3: Any) -> None:
    """The day before, aggregated: the day's 7- and 28-day windows then read its stored sketches."""
    previous = build_population(PREVIOUS, machines_per_product=4, seed=3).reports
    for key, body in objects_of(previous, per_object=4).items():
        s3.put_object(Bucket=REPORTS_BUCKET, Key=key, Body=body)
    app.lambda_handler({"date": PREVIOUS.isoformat()}, CONTEXT)


def run() -> dict[str, Any]:
    answer: dict[str, Any] = app.lambda_handler({"date": DAY.isoformat()}, CONTEXT)
    return answer


def outputs(s3: Any) -> dict[str, bytes]:
    """The day's objects in the aggregates bucket (other days are not the run's business)."""
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=AGGREGATES_BUCKET):
        for item in page.get("Contents", []):
            if f"/dt={DAY.isoformat()}/" in item["Key"]:
                found[item["Key"]] = s3.get_object(Bucket=AGGREGATES_BUCKET, Key=item["Key"])["Body"].read()
    return found


def comparable(found: dict[str, bytes]) -> dict[str, Any]:
    """Every file's bytes, and the manifest without the fields that describe one run."""
    manifest = json.loads(found[MANIFEST])
    for name in RUN_SPECIFIC:
        manifest.pop(name)
    record = json.loads(found[RELEASE])
    for release in (manifest["partner_release"], record["release"]):
        assert release["drawings"] >= 1
        for name in DRAWING_SPECIFIC:
            release.pop(name)
    manifest["partner_release"].pop("republished")
    record["release"].pop("republished")
    return {
        **{k: v for k, v in found.items() if k not in (MANIFEST, RELEASE)},
        MANIFEST: manifest,
        RELEASE: record,
    }


def plant_leftover(s3: Any) -> None:
    s3.put_object(Bucket=AGGREGATES_BUCKET, Key=LEFTOVER, Body=b"older layout")


def undisturbed(
    s3: Any, aggregate_faults: Faults, *, with_previous: bool = False
) -> tuple[dict[str, Any], int]:
    """What an undisturbed run writes (a leftover in place beforehand) and its S3 attempts; the
    bucket is left as before: the previous day aggregated when asked, the day's prefixes empty."""
    if with_previous:
        aggregate_previous_day(s3)
    if with_previous not in _UNDISTURBED:
        plant_leftover(s3)
        before = aggregate_faults.total
        run()
        _UNDISTURBED[with_previous] = (comparable(outputs(s3)), aggregate_faults.total - before)
        for key in outputs(s3):
            s3.delete_object(Bucket=AGGREGATES_BUCKET, Key=key)
    reference, calls = _UNDISTURBED[with_previous]
    assert LEFTOVER not in reference
    return reference, calls


def assert_killed_then_converges(s3: Any, aggregate_faults: Faults, reference: dict[str, Any]) -> None:
    # When the run dies at the planned fault
    with pytest.raises(StorageUnavailable):
        run()
    # Then its day has no manifest: nothing claims to be a finished day
    assert aggregate_faults.injected
    assert MANIFEST not in outputs(s3)
    # And the retry after the outage writes what an undisturbed run writes, leftover gone
    aggregate_faults.clear()
    run()
    assert comparable(outputs(s3)) == reference


def test_a_run_killed_at_its_middle_s3_call_converges_when_rerun(
    s3: Any, aggregate_faults: Faults, backoff: Backoff
) -> None:
    # Given S3 fails for good from the middle one of an undisturbed run's calls on
    reference, calls = undisturbed(s3, aggregate_faults)
    plant_leftover(s3)
    aggregate_faults.fail(ANY_OPERATION, faults.S3_INTERNAL_ERROR, nth=calls // 2)
    assert_killed_then_converges(s3, aggregate_faults, reference)


STEPS: dict[str, tuple[str, Failure, Any]] = {
    "reading a raw report": ("GetObject", faults.read_timeout, lambda r: "/reports/" in r.url),
    "writing a table file": ("PutObject", faults.connection_reset, lambda r: ".parquet" in r.url),
    "deleting leftovers": ("DeleteObjects", faults.SLOW_DOWN, lambda _: True),
    "writing the manifest": ("PutObject", faults.no_connection, object_key_is(MANIFEST)),
}


@pytest.mark.parametrize(("operation", "failure", "which"), STEPS.values(), ids=STEPS.keys())
def test_a_run_killed_at_a_chosen_step_converges_when_rerun(
    s3: Any, aggregate_faults: Faults, backoff: Backoff, operation: str, failure: Failure, which: Any
) -> None:
    reference, _ = undisturbed(s3, aggregate_faults)
    plant_leftover(s3)
    # Deletes: the first one withdraws the manifest, the second removes the leftover
    aggregate_faults.fail(operation, failure, when=which, nth=2 if operation == "DeleteObjects" else 1)
    assert_killed_then_converges(s3, aggregate_faults, reference)


def test_an_unreadable_sketch_of_an_earlier_day_fails_the_run_instead_of_shrinking_the_window(
    s3: Any, aggregate_faults: Faults, backoff: Backoff
) -> None:
    # Given the previous day was aggregated, and reading its sketches fails on every attempt
    reference, _ = undisturbed(s3, aggregate_faults, with_previous=True)
    windows = reference[MANIFEST]["windows"]
    assert all(w["days_with_data"] == 2 for w in windows)
    aggregate_faults.fail(
        "GetObject", faults.SLOW_DOWN, when=object_key_is(aggregate_keys.sketches_key(PREVIOUS))
    )
    # Then the run fails (a window silently missing that day would undercount machines) and converges
    assert_killed_then_converges(s3, aggregate_faults, reference)


def test_a_backfill_killed_halfway_never_leaves_the_old_manifest_over_new_files(
    s3: Any, reports: dict[str, bytes], aggregate_faults: Faults, backoff: Backoff
) -> None:
    # Given the day was aggregated before half of its reports had arrived
    reference, _ = undisturbed(s3, aggregate_faults)
    late = sorted(reports)[len(reports) // 2 :]
    for key in late:
        s3.delete_object(Bucket=REPORTS_BUCKET, Key=key)
    run()
    early = outputs(s3)
    for key in late:
        s3.put_object(Bucket=REPORTS_BUCKET, Key=key, Body=reports[key])
    # When the backfill rerun dies after replacing some of the files
    aggregate_faults.fail("PutObject", faults.S3_INTERNAL_ERROR, nth=5 * 2 + 1)
    with pytest.raises(StorageUnavailable):
        run()
    # Then files of two runs sit side by side, and no manifest vouches for them
    now = outputs(s3)
    assert any(now[key] != early[key] for key in now)
    assert MANIFEST not in now
    # And the retry completes the day as if nothing had happened
    aggregate_faults.clear()
    run()
    assert comparable(outputs(s3)) == reference


def test_a_read_that_fails_within_the_retry_budget_loses_no_report(
    s3: Any, reports: dict[str, bytes], aggregate_faults: Faults, backoff: Backoff
) -> None:
    # Given one raw report object answers SlowDown to four reads (the client makes five attempts)
    reference, _ = undisturbed(s3, aggregate_faults)
    plant_leftover(s3)
    victim = sorted(reports)[len(reports) // 2]
    aggregate_faults.fail("GetObject", faults.SLOW_DOWN, times=4, when=object_key_is(victim))
    # When the day is aggregated
    answer = run()
    # Then nothing was skipped: the same output as an undisturbed run
    assert aggregate_faults.injected == ["GetObject"] * 4
    assert comparable(outputs(s3)) == reference
    assert answer["reports"] == reference[MANIFEST]["input"]["reports_aggregated"] == 32
