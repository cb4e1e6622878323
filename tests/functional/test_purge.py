"""Purge under moto: erased machines' reports leave every object and version; others stay byte-for-byte."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from infra.local.gateway import LambdaContext

from ceip.datasubject import api, purge_app
from ceip.datasubject.purge import Deadline, Purger
from ceip.datasubject.settings import datasubject_settings
from ceip.datasubject.wiring import build_purger
from ceip.ingest import app as ingest_app
from tests.conftest import REPORTS_BUCKET
from tests.functional.test_privacy_requests_api import call, erasure_event, status_event
from tests.support.clock import Clock
from tests.support.events import http_event
from tests.support.reports import make_report

START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(START)
    for module in (ingest_app, api, purge_app):
        monkeypatch.setattr(module, "utc_now", clock)
    return clock


def snapshot(s3: Any) -> dict[tuple[str, str], bytes]:
    """Every version of every object: (key, version id) -> bytes."""
    found = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=REPORTS_BUCKET):
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=REPORTS_BUCKET, Key=version["Key"], VersionId=version["VersionId"])
            found[(version["Key"], version["VersionId"])] = body["Body"].read()
    return found


def report_versions(s3: Any) -> dict[tuple[str, str], bytes]:
    return {k: v for k, v in snapshot(s3).items() if k[0].startswith("reports/")}


def machines_in(data: bytes) -> list[str]:
    return [json.loads(line)["machine_id"] for line in gzip.decompress(data).splitlines()]


@pytest.fixture
def population(s3: Any, lambda_context: Any, clock: Clock) -> dict[str, Any]:
    """Machines X (to erase), Y and Z reporting over three days; one batch retried (two versions)."""
    x, y, z = (str(uuid.uuid4()) for _ in range(3))
    posted = []

    def post(*machines: str) -> dict[str, Any]:
        batch = {"reports": [make_report(machine_id=m, created_at="2026-11-27T07:00:00Z") for m in machines]}
        response = ingest_app.lambda_handler(http_event(batch), lambda_context)
        assert response["statusCode"] == 202
        posted.append(batch)
        return batch

    for day in range(3):
        clock.now = START + timedelta(days=day)
        post(x, y, x)
        post(y, z)
        clock.now += timedelta(hours=2)
        post(x)
    # A client retried its batch within the hour: same key, a second version.
    clock.now = START + timedelta(hours=5)
    retried = post(x, z)
    clock.now += timedelta(minutes=1)
    assert ingest_app.lambda_handler(http_event(retried), lambda_context)["statusCode"] == 202
    return {"x": x, "y": y, "z": z, "posted": posted}


def purger(deadline: Deadline | None = None) -> Purger:
    return build_purger(datasubject_settings(), deadline or Deadline(None))


def test_purge_removes_every_report_of_the_erased_machine_and_issues_a_receipt(
    s3: Any, lambda_context: Any, clock: Clock, population: dict[str, Any]
) -> None:
    # Given machine X asked for erasure and its reports sit in 10 objects (one with an older version)
    x = population["x"]
    before = report_versions(s3)
    holding_x = {k for k, v in before.items() if x in machines_in(v)}
    clock.now = START + timedelta(days=3)
    _, _, filed = call(erasure_event(x), lambda_context)
    # When the purge runs
    outcome = purger().run()
    # Then no version of any object holds X
    after = report_versions(s3)
    assert outcome.status == "fulfilled"
    assert all(x not in machines_in(v) for v in after.values())
    # And objects that never held X are untouched, byte for byte
    for key, data in before.items():
        if key not in holding_x:
            assert after[key] == data
    # And the other machines' lines of rewritten objects are intact and in order
    rewritten = {k[0]: v for k, v in after.items() if k[0] in {h[0] for h in holding_x}}
    for key, data in rewritten.items():
        original = next(v for (k, _), v in before.items() if k == key)
        expected = [line for line in gzip.decompress(original).splitlines() if x.encode() not in line]
        assert gzip.decompress(data).splitlines() == expected
    # And the request shows the receipt
    _, _, status = call(status_event(filed["request_id"]), lambda_context)
    assert status["status"] == "fulfilled"
    receipt = status["receipt"]
    assert receipt["reports_removed"] == 3 * 3 + 1  # the retried batch counts once
    assert receipt["objects_rewritten"] == len({k[0] for k in holding_x})
    # Each rewritten object's replaced version, plus the retried batch's older version
    assert receipt["noncurrent_versions_deleted"] == receipt["objects_rewritten"] - 3 + 1
    assert receipt["verification_remaining"] == 0
    # The re-scan no longer finds the three objects that held only X
    assert receipt["verification_objects_scanned"] == receipt["objects_scanned"] - 3 > 0


def test_a_second_purge_changes_nothing(
    s3: Any, lambda_context: Any, clock: Clock, population: dict[str, Any]
) -> None:
    call(erasure_event(population["x"]), lambda_context)
    purger().run()
    before = snapshot(s3)
    outcome = purger().run()
    assert outcome.status == "nothing_pending"
    assert snapshot(s3) == before


def test_one_pass_serves_every_pending_request(
    s3: Any, lambda_context: Any, clock: Clock, population: dict[str, Any]
) -> None:
    _, _, first = call(erasure_event(population["x"]), lambda_context)
    _, _, second = call(erasure_event(population["z"]), lambda_context)
    outcome = purger().run()
    assert set(outcome.requests) == {first["request_id"], second["request_id"]}
    remaining = [m for v in report_versions(s3).values() for m in machines_in(v)]
    assert set(remaining) == {population["y"]}


def test_an_interrupted_purge_resumes_and_ends_like_an_uninterrupted_one(
    s3: Any, lambda_context: Any, clock: Clock, population: dict[str, Any]
) -> None:
    # Given a purge that runs out of time after three objects
    _, _, filed = call(erasure_event(population["x"]), lambda_context)
    budget = iter([100_000] * 3 + [0] * 1000)
    first = purger(Deadline(lambda: next(budget), reserve_ms=1)).run()
    assert first.status == "interrupted"
    _, _, midway = call(status_event(filed["request_id"]), lambda_context)
    assert midway["status"] == "in_progress"
    # When the resume run continues it
    second = purger().run(resume_only=True)
    # Then it converges: nothing of X left, and the receipt counts every removed report once
    assert second.status == "fulfilled"
    assert all(population["x"] not in machines_in(v) for v in report_versions(s3).values())
    _, _, done = call(status_event(filed["request_id"]), lambda_context)
    assert done["receipt"]["reports_removed"] == 10


def test_a_purge_that_crashed_midway_converges_when_rerun(
    s3: Any, lambda_context: Any, clock: Clock, population: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the purge crashes on its second rewrite
    call(erasure_event(population["x"]), lambda_context)
    from ceip.storage.report_objects import S3ReportObjects

    real_replace = S3ReportObjects.replace
    calls = iter(range(100))

    def crashing_replace(self: S3ReportObjects, key: str, body: bytes) -> None:
        if next(calls) == 1:
            raise ConnectionResetError("injected")
        real_replace(self, key, body)

    monkeypatch.setattr(S3ReportObjects, "replace", crashing_replace)
    with pytest.raises(ConnectionResetError):
        purger().run()
    # When it runs again (the checkpoint holds the pass)
    outcome = purger().run()
    # Then it completes and nothing of X remains
    assert outcome.status == "fulfilled"
    assert all(population["x"] not in machines_in(v) for v in report_versions(s3).values())


def test_resume_run_without_a_checkpoint_does_nothing(s3: Any, lambda_context: Any, clock: Clock) -> None:
    call(erasure_event(str(uuid.uuid4())), lambda_context)
    assert purger().run(resume_only=True).status == "nothing_pending"


def test_scheduled_handler_runs_the_purge(
    s3: Any, lambda_context: Any, clock: Clock, population: dict[str, Any]
) -> None:
    # Given an erasure and the scheduler's event (its Input is delivered as the event)
    call(erasure_event(population["x"]), lambda_context)
    result = purge_app.lambda_handler(
        {"action": "purge"}, LambdaContext("PurgeFunction", timeout_seconds=900)
    )
    assert result["status"] == "fulfilled"
    assert result["reports_removed"] == 10


def deleted_marker_versions(s3: Any) -> Iterator[str]:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=REPORTS_BUCKET):
        for marker in page.get("DeleteMarkers", []):
            yield marker["Key"]


def test_an_object_holding_only_erased_reports_is_deleted_with_all_its_versions(
    s3: Any, lambda_context: Any, clock: Clock, population: dict[str, Any]
) -> None:
    call(erasure_event(population["x"]), lambda_context)
    only_x = [k for k, v in report_versions(s3).items() if set(machines_in(v)) == {population["x"]}]
    assert only_x
    purger().run()
    remaining_keys = {k[0] for k in report_versions(s3)}
    assert not {k[0] for k in only_x} & remaining_keys
