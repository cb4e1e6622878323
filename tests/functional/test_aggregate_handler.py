"""AggregateFunction under moto: the scheduler's input in, tables and a manifest in the aggregates bucket."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from ceip.aggregate import app
from ceip.storage import aggregate_keys
from tests.conftest import AGGREGATES_BUCKET, REPORTS_BUCKET, Captured
from tests.support import aggregate_truth as truth
from tests.support.aggregate_tables import read_table
from tests.support.events import load_event
from tests.support.population import build_population, objects_of

DAY = date(2026, 11, 28)


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Iterator[Captured]:
    """The aggregate logger's output (EMF metrics go to stdout, which capsys sees)."""
    buffer = io.StringIO()
    handler = app.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)
    yield Captured(buffer, capsys)
    if previous is not None:
        handler.setStream(previous)


@pytest.fixture
def buckets(s3: Any) -> Any:
    """The shared moto fixture (reports bucket, suppression list, its key) plus the aggregates bucket."""
    s3.create_bucket(Bucket=AGGREGATES_BUCKET)
    return s3


def stored(s3: Any, bucket: str) -> dict[str, bytes]:
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def test_the_scheduled_event_aggregates_the_day_before_its_scheduled_time(
    buckets: Any, lambda_context: Any, captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a day of reports in the reports bucket, as ingest stores them
    monkeypatch.setenv("PARTNER_MIN_MACHINES", "10")
    population = build_population(DAY, machines_per_product=25)
    for key, body in objects_of(population.reports).items():
        buckets.put_object(Bucket=REPORTS_BUCKET, Key=key, Body=body)
    # When EventBridge Scheduler delivers the schedule's input for 2026-11-29 02:00 UTC
    answer = app.lambda_handler(load_event("scheduler_aggregate.json"), lambda_context)
    # Then the 28th is aggregated into the aggregates bucket, manifest last and listing every file
    assert answer["dt"] == "2026-11-28"
    assert answer["manifest"] == f"s3://{AGGREGATES_BUCKET}/{aggregate_keys.manifest_key(DAY)}"
    objects = stored(buckets, AGGREGATES_BUCKET)
    manifest = json.loads(objects[aggregate_keys.manifest_key(DAY)])
    release_record = aggregate_keys.partner_release_key(DAY)
    assert set(manifest["files"]) | {aggregate_keys.manifest_key(DAY), release_record} == set(objects)
    assert manifest["input"]["reports_aggregated"] == len(population.reports) == answer["reports"]
    assert manifest["partner_release"]["min_machines"] == 10
    assert json.loads(objects[release_record])["status"] == "published"
    reports = [s.report for s in population.reports]
    active = {r["product_id"]: r for r in read_table(objects, "internal", "active", DAY)}
    assert {
        p: {"machines": r["machines"], "reports": r["reports"]} for p, r in active.items()
    } == truth.active(reports)
    assert (
        len(read_table(objects, "partner", "problems", DAY, suffix=".csv"))
        == manifest["rows"]["partner/problems"]
    )
    # and nothing it printed (logs, EMF metrics) names a machine or a report
    output = captured.text()
    assert "day_aggregated" in output and "ReportsAggregated" in output
    for report in reports:
        assert report["machine_id"] not in output and report["report_id"] not in output


def test_an_explicit_date_aggregates_that_day_and_leaves_the_raw_reports_alone(
    buckets: Any, lambda_context: Any
) -> None:
    population = build_population(date(2026, 10, 1), machines_per_product=5, reports_per_machine=1)
    for key, body in objects_of(population.reports).items():
        buckets.put_object(Bucket=REPORTS_BUCKET, Key=key, Body=body)
    before = stored(buckets, REPORTS_BUCKET)
    answer = app.lambda_handler({"date": "2026-10-01"}, lambda_context)
    assert answer["dt"] == "2026-10-01" and answer["reports"] == 10
    assert stored(buckets, REPORTS_BUCKET) == before


@pytest.mark.parametrize("event", [{"date": "yesterday"}, {"day": "2026-10-01"}, ["2026-10-01"]])
def test_a_malformed_input_fails_without_touching_storage(
    buckets: Any, lambda_context: Any, event: Any, captured: Captured
) -> None:
    with pytest.raises(app.InvalidRequest) as raised:
        app.lambda_handler(event, lambda_context)
    assert "2026-10-01" not in str(raised.value) and "yesterday" not in str(raised.value)
    assert stored(buckets, AGGREGATES_BUCKET) == {}
    assert "invalid_request" in captured.text()


def test_machines_that_asked_for_erasure_are_left_out_before_their_reports_are_purged(
    buckets: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two machines reported on the 28th, and one then asked for erasure through the API
    import uuid
    from datetime import UTC, datetime

    from ceip.datasubject import api
    from ceip.ingest import app as ingest_app
    from tests.functional.test_privacy_requests_api import call, erasure_event
    from tests.support.events import http_event
    from tests.support.reports import make_report

    received = datetime(2026, 11, 28, 12, tzinfo=UTC)
    monkeypatch.setattr(ingest_app, "utc_now", lambda: received)
    monkeypatch.setattr(api, "utc_now", lambda: received)
    erased, kept = str(uuid.uuid4()), str(uuid.uuid4())
    for machine in (erased, kept):
        batch = {"reports": [make_report(machine_id=machine, created_at="2026-11-28T11:00:00Z")]}
        assert ingest_app.lambda_handler(http_event(batch), lambda_context)["statusCode"] == 202
    status, _, _ = call(erasure_event(erased), lambda_context)
    assert status == 202
    # When the day is aggregated (no purge has run: the erased machine's report is still stored)
    answer = app.lambda_handler({"date": DAY.isoformat()}, lambda_context)
    # Then the tables count only the other machine and the manifest says one machine was dropped
    manifest = json.loads(stored(buckets, AGGREGATES_BUCKET)[aggregate_keys.manifest_key(DAY)])
    assert answer["reports"] == 1
    dropped = {k: v for k, v in manifest["input"].items() if "suppressed" in k}
    assert dropped and all(v == 1 for v in dropped.values()), dropped
    assert erased not in json.dumps(stored(buckets, AGGREGATES_BUCKET), default=str)
