"""PurgeFunction killed halfway by AWS failures (injected into botocore, served by moto).

The promise: wherever a pass dies (any S3 call, a rewrite, a version delete, a checkpoint write, the
verification re-scan, the receipt), it raises, and the next run (the 15-minute resume) finishes it
from its checkpoint with the same remaining objects and versions and the same receipt an undisturbed
purge gives: every removed report counted once, nothing of the erased machine left.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from infra.local.gateway import LambdaContext

from ceip.datasubject import api, purge_app
from ceip.datasubject import purge as purge_module
from ceip.datasubject.purge_checkpoint import CHECKPOINT_KEY
from ceip.ingest import app as ingest_app
from ceip.machines.suppression import dynamodb_client
from ceip.storage.s3 import s3_client
from tests.conftest import PRIVACY_REQUESTS_TABLE, REPORTS_BUCKET
from tests.functional.test_privacy_requests_api import call, erasure_event, status_event
from tests.support import faults
from tests.support.clock import Clock
from tests.support.events import http_event
from tests.support.faults import ANY_OPERATION, Backoff, Failure, Faults
from tests.support.reports import make_report

START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
CONTEXT = LambdaContext("PurgeFunction", timeout_seconds=900)
_rng = random.Random(11)
X, Y, Z = (str(uuid.UUID(int=_rng.getrandbits(128), version=4)) for _ in range(3))
"""X asks for erasure; Y and Z stay."""

_POPULATION: list[tuple[str, bytes]] = []
"""The reports bucket's versions (oldest first per key) once the population was posted: posted through
the ingest handler by the first test, written back directly by the others."""
_UNDISTURBED: dict[str, Any] = {}
"""What an undisturbed purge leaves and reports, and its S3 calls: every test builds the same
population, so this is computed once, by the first test that needs it."""


@pytest.fixture(autouse=True)
def full_saves_at_phase_ends_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No timed checkpoint: the Nth S3 call is then the same call in every run, however slow."""
    monkeypatch.setattr(purge_module, "CHECKPOINT_SECONDS", 3600.0)


@pytest.fixture
def erasure(s3: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The population in the reports bucket, then X's erasure request; returns the request id."""
    clock = Clock(START)
    for module in (ingest_app, api, purge_app):
        monkeypatch.setattr(module, "utc_now", clock)
    if _POPULATION:
        write_versions(s3, _POPULATION)
    else:
        post_population(clock, lambda_context)
        _POPULATION.extend(snapshot(s3))
    clock.now = START + timedelta(days=3)
    status, _, filed = call(erasure_event(X), lambda_context)
    assert status == 202
    request_id: str = filed["request_id"]
    return request_id


def post_population(clock: Clock, lambda_context: Any) -> None:
    """Reports of X, Y and Z over three days through the ingest handler (one batch retried: two
    versions of its key)."""
    rng = random.Random(5)

    def post(*machines: str) -> dict[str, Any]:
        reports = [
            make_report(
                report_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                machine_id=machine,
                created_at=(clock.now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            for machine in machines
        ]
        batch = {"reports": reports}
        assert ingest_app.lambda_handler(http_event(batch), lambda_context)["statusCode"] == 202
        return batch

    for day in range(3):
        clock.now = START + timedelta(days=day)
        post(X, Y, X)
        post(Y, Z)
        post(Z)
        clock.now += timedelta(hours=2)
        post(X)
        post(X, Z, Y)
    clock.now = START + timedelta(hours=5)
    retried = post(X, Z)
    clock.now += timedelta(minutes=1)
    assert ingest_app.lambda_handler(http_event(retried), lambda_context)["statusCode"] == 202


def purge(action: str) -> dict[str, Any]:
    result: dict[str, Any] = purge_app.lambda_handler({"action": action}, CONTEXT)
    return result


def leftovers(s3: Any) -> dict[str, Any]:
    """What a purge leaves of the reports: each key's current content and the contents of its versions."""
    current: dict[str, bytes] = {}
    versions: dict[str, list[bytes]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=REPORTS_BUCKET, Prefix="reports/"):
        for version in page.get("Versions", []):
            key = version["Key"]
            body = s3.get_object(Bucket=REPORTS_BUCKET, Key=key, VersionId=version["VersionId"])[
                "Body"
            ].read()
            versions.setdefault(key, []).append(body)
            if version["IsLatest"]:
                current[key] = body
    # Distinct contents: a rewrite whose answer was lost is stored twice by the retry, byte for byte.
    return {"current": current, "versions": {k: sorted(set(v)) for k, v in versions.items()}}


def receipt(request_id: str, context: Any) -> dict[str, Any]:
    _, _, shown = call(status_event(request_id), context)
    assert shown["status"] == "fulfilled"
    found: dict[str, Any] = shown["receipt"]
    found.pop("completed_at")
    return found


def assert_converged(s3: Any, request_id: str, context: Any, reference: dict[str, Any]) -> None:
    assert leftovers(s3) == reference["leftovers"]
    assert receipt(request_id, context) == reference["receipt"]
    assert "Contents" not in s3.list_objects_v2(Bucket=REPORTS_BUCKET, Prefix=CHECKPOINT_KEY)


@pytest.fixture
def reference(s3: Any, erasure: str, lambda_context: Any, backoff: Backoff) -> dict[str, Any]:
    """The undisturbed purge of this population: computed in the first test that asks, from a
    snapshot of its bucket taken before and restored after (versions in order, the request reset)."""
    if not _UNDISTURBED:
        before = snapshot(s3)
        s3_faults = Faults(s3_client())
        assert purge("purge")["status"] == "fulfilled"
        _UNDISTURBED.update(
            leftovers=leftovers(s3),
            receipt=receipt(erasure, lambda_context),
            s3_calls=s3_faults.total,
            # Reads of report objects by the pass and the re-scan (the other read: the checkpoint's)
            report_reads=s3_faults.attempts["GetObject"] - 1,
        )
        restore(s3, before, erasure)
    return _UNDISTURBED


def snapshot(s3: Any) -> list[tuple[str, bytes]]:
    """Every version in the order it was written (oldest first per key)."""
    written: list[tuple[str, bytes]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=REPORTS_BUCKET):
        by_key: dict[str, list[dict[str, Any]]] = {}
        for version in page.get("Versions", []):
            by_key.setdefault(version["Key"], []).append(version)
        for key, versions in by_key.items():
            for version in sorted(versions, key=lambda v: v["IsLatest"]):
                body = s3.get_object(Bucket=REPORTS_BUCKET, Key=key, VersionId=version["VersionId"])
                written.append((key, body["Body"].read()))
    return written


def write_versions(s3: Any, written: list[tuple[str, bytes]]) -> None:
    for key, body in written:
        s3.put_object(Bucket=REPORTS_BUCKET, Key=key, Body=body)


def restore(s3: Any, written: list[tuple[str, bytes]], request_id: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=REPORTS_BUCKET):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            s3.delete_object(Bucket=REPORTS_BUCKET, Key=entry["Key"], VersionId=entry["VersionId"])
    write_versions(s3, written)
    dynamodb_client().update_item(
        TableName=PRIVACY_REQUESTS_TABLE,
        Key={"request_id": {"S": request_id}},
        UpdateExpression="SET #s = :s REMOVE receipt",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "received"}},
    )


def killed() -> None:
    """The daily run dies at the planned fault (whatever the adapter raised, the invocation failed)."""
    with pytest.raises(Exception):  # noqa: B017
        purge("purge")


@pytest.mark.parametrize("share", [0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
def test_a_purge_killed_at_any_s3_call_is_finished_by_the_resume_with_the_same_result(
    s3: Any, erasure: str, lambda_context: Any, reference: dict[str, Any], share: float
) -> None:
    # Given S3 fails for good from the call that `share` of an undisturbed purge's calls precede
    s3_faults = Faults(s3_client())
    s3_faults.fail(ANY_OPERATION, faults.S3_INTERNAL_ERROR, nth=max(2, int(reference["s3_calls"] * share)))
    # When the daily run dies there, and the resume runs after the outage
    killed()
    s3_faults.clear()
    outcome = purge("resume")
    # Then the pass completes with what an undisturbed purge leaves and reports
    assert outcome["status"] == "fulfilled"
    assert_converged(s3, erasure, lambda_context, reference)


def report_object(request: Any) -> bool:
    return "/reports/" in request.url


def checkpoint_call(request: Any) -> bool:
    return CHECKPOINT_KEY in request.url


def version_delete(request: Any) -> bool:
    return "/reports/" in request.url and "versionId=" in request.url


S3_STEPS: dict[str, tuple[str, Failure, int, bool, Any]] = {
    # name: (operation, failure, nth matching call, after_service, which requests)
    "the second rewrite": ("PutObject", faults.S3_INTERNAL_ERROR, 2, False, report_object),
    "the second rewrite, done but its answer lost": (
        "PutObject",
        faults.read_timeout,
        2,
        True,
        report_object,
    ),
    "the third version delete": ("DeleteObject", faults.connection_reset, 3, False, version_delete),
    "a version delete done, its answer lost": ("DeleteObject", faults.read_timeout, 4, True, version_delete),
    "the checkpoint at the switch to verification": (
        "PutObject",
        faults.SLOW_DOWN,
        2,
        False,
        checkpoint_call,
    ),
    "clearing the checkpoint": ("DeleteObject", faults.no_connection, 1, False, checkpoint_call),
}


@pytest.mark.parametrize(
    ("operation", "failure", "nth", "after", "which"), S3_STEPS.values(), ids=S3_STEPS.keys()
)
def test_a_purge_killed_at_a_chosen_step_is_finished_by_the_resume_with_the_same_result(
    s3: Any,
    erasure: str,
    lambda_context: Any,
    reference: dict[str, Any],
    operation: str,
    failure: Failure,
    nth: int,
    after: bool,
    which: Any,
) -> None:
    s3_faults = Faults(s3_client())
    s3_faults.fail(operation, failure, nth=nth, after_service=after, when=which)
    killed()
    assert s3_faults.injected
    s3_faults.clear()
    assert purge("resume")["status"] == "fulfilled"
    assert_converged(s3, erasure, lambda_context, reference)


def test_a_receipt_that_could_not_be_recorded_is_recorded_by_the_resume(
    s3: Any, erasure: str, lambda_context: Any, reference: dict[str, Any]
) -> None:
    # Given DynamoDB refuses the receipt's update (the pass and its verification are done)
    table = Faults(dynamodb_client()).fail("UpdateItem", faults.THROUGHPUT_EXCEEDED, nth=2)
    killed()
    table.clear()
    # When the resume runs, it re-verifies from the checkpoint and records the same receipt
    assert purge("resume")["status"] == "fulfilled"
    assert_converged(s3, erasure, lambda_context, reference)


def test_a_crash_between_frequent_checkpoints_still_counts_each_change_once(
    s3: Any, erasure: str, lambda_context: Any, reference: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a full checkpoint after every object, and the third rewrite's answer lost for good
    monkeypatch.setattr(purge_module, "CHECKPOINT_SECONDS", 0.0)
    s3_faults = Faults(s3_client()).fail(
        "PutObject", faults.connection_reset, nth=3, after_service=True, when=report_object
    )
    killed()
    s3_faults.clear()
    # When the resume runs, Then the result is an undisturbed purge's
    assert purge("resume")["status"] == "fulfilled"
    assert_converged(s3, erasure, lambda_context, reference)


def test_a_purge_killed_in_its_verification_re_scan_resumes_the_re_scan(
    s3: Any, erasure: str, lambda_context: Any, reference: dict[str, Any]
) -> None:
    # Given the third-last read of a report object (one of the re-scan's) times out for good
    s3_faults = Faults(s3_client())
    s3_faults.fail("GetObject", faults.read_timeout, nth=reference["report_reads"] - 2, when=report_object)
    killed()
    resumed = Faults(s3_client())
    # When the resume runs, it only finishes the re-scan and issues the same receipt
    assert purge("resume")["status"] == "fulfilled"
    assert resumed.attempts["PutObject"] == resumed.attempts["DeleteObject"] - 2 == 0
    assert_converged(s3, erasure, lambda_context, reference)


def test_a_pass_that_could_not_save_its_first_checkpoint_is_started_again_by_the_schedulers_retry(
    s3: Any, erasure: str, lambda_context: Any, reference: dict[str, Any]
) -> None:
    # Given the pass marked its request in progress but could not write its first checkpoint
    s3_faults = Faults(s3_client()).fail("PutObject", faults.SLOW_DOWN, when=checkpoint_call)
    killed()
    _, _, midway = call(status_event(erasure), lambda_context)
    assert midway["status"] == "in_progress"
    s3_faults.clear()
    # When the resume finds no pass to continue, and the scheduler retries the daily run
    assert purge("resume")["status"] == "nothing_pending"
    assert purge("purge")["status"] == "fulfilled"
    # Then the request is served as if nothing had happened
    assert_converged(s3, erasure, lambda_context, reference)
