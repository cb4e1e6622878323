"""IngestFunction with AWS failing underneath it (faults injected into botocore, served by moto).

The promise: while S3, the suppression list or the machine-key secret fail, the client gets 503
problem+json with Retry-After and nothing is stored; once the fault clears, the client's retry of the
same request is stored once (one content-derived key) and aggregation counts each report once, also
when S3 stored the first attempt but its answer was lost.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ceip.aggregate import app as aggregate_app
from ceip.ingest import app
from ceip.machines.secret import secrets_client
from ceip.machines.suppression import dynamodb_client
from ceip.storage.s3 import s3_client
from tests.conftest import AGGREGATES_BUCKET, REPORTS_BUCKET
from tests.support import faults
from tests.support.clock import Clock
from tests.support.events import http_event
from tests.support.faults import Backoff, Failure, Faults
from tests.support.reports import make_report

RECEIVED = datetime(2026, 11, 29, 4, 44, 50, tzinfo=UTC)
S3_PUT_ATTEMPTS = 2
"""ceip.storage.s3's client: standard retry mode, two attempts in all."""

S3_FAILURES: dict[str, Failure] = {
    "SlowDown 503": faults.SLOW_DOWN,
    "InternalError 500": faults.S3_INTERNAL_ERROR,
    "read timeout": faults.read_timeout,
    "connection reset": faults.connection_reset,
    "no connection": faults.no_connection,
}
DYNAMODB_FAILURES: dict[str, Failure] = {
    "ProvisionedThroughputExceeded": faults.THROUGHPUT_EXCEEDED,
    "ThrottlingException": faults.THROTTLING_EXCEPTION,
    "InternalServerError 500": faults.DYNAMODB_INTERNAL_ERROR,
    "read timeout": faults.read_timeout,
}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(RECEIVED)
    monkeypatch.setattr(app, "utc_now", clock)
    return clock


@pytest.fixture
def s3_faults(s3: Any) -> Faults:
    return Faults(s3_client())


def batch(count: int = 3) -> dict[str, Any]:
    return {"reports": [make_report(created_at="2026-11-29T04:00:00Z") for _ in range(count)]}


def post(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = app.lambda_handler(event, context)
    return response


def versions(s3: Any) -> dict[str, list[bytes]]:
    """Every stored version of every report object, by key; each must be a complete gzip."""
    found: dict[str, list[bytes]] = {}
    for version in s3.list_object_versions(Bucket=REPORTS_BUCKET).get("Versions", []):
        body = s3.get_object(Bucket=REPORTS_BUCKET, Key=version["Key"], VersionId=version["VersionId"])
        found.setdefault(version["Key"], []).append(gzip.decompress(body["Body"].read()))
    return found


def stored_report_ids(s3: Any) -> list[str]:
    ids = []
    for item in s3.list_objects_v2(Bucket=REPORTS_BUCKET).get("Contents", []):
        data = gzip.decompress(s3.get_object(Bucket=REPORTS_BUCKET, Key=item["Key"])["Body"].read())
        ids += [json.loads(line)["report_id"] for line in data.splitlines()]
    return ids


def assert_retry_later(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 503
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert response["headers"]["Retry-After"] == "5"
    assert json.loads(response["body"])["code"] == "storage-unavailable"


def aggregate(s3: Any, day: str, context: Any) -> dict[str, Any]:
    """Run the AggregateFunction for `day` and return its manifest's input counts."""
    if AGGREGATES_BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=AGGREGATES_BUCKET)
    answer = aggregate_app.lambda_handler({"date": day}, context)
    manifest = s3.get_object(Bucket=AGGREGATES_BUCKET, Key=answer["manifest"].split("/", 3)[3])
    counts: dict[str, Any] = json.loads(manifest["Body"].read())["input"]
    return counts


@pytest.mark.parametrize("failure", S3_FAILURES.values(), ids=S3_FAILURES.keys())
def test_an_s3_outage_answers_503_stores_nothing_and_the_retry_is_stored_once(
    s3: Any, lambda_context: Any, clock: Clock, backoff: Backoff, s3_faults: Faults, failure: Failure
) -> None:
    # Given every PutObject attempt fails
    s3_faults.fail("PutObject", failure)
    sent = batch()
    event = http_event(sent)
    # When a client posts a batch
    first = post(event, lambda_context)
    # Then it is told to retry later, after the adapter's own retry, and nothing at all was stored
    assert_retry_later(first)
    assert s3_faults.attempts["PutObject"] == S3_PUT_ATTEMPTS
    assert len(backoff.delays) == S3_PUT_ATTEMPTS - 1
    assert versions(s3) == {}
    # When the fault clears and the client sends the same request again
    s3_faults.clear()
    second = post(event, lambda_context)
    # Then it is accepted and stored once
    assert second["statusCode"] == 202
    assert json.loads(second["body"]) == {"accepted": 3, "rejected": []}
    assert sorted(stored_report_ids(s3)) == sorted(r["report_id"] for r in sent["reports"])
    assert [len(v) for v in versions(s3).values()] == [1]


def test_one_throttled_attempt_is_absorbed_by_the_adapters_retry(
    s3: Any, lambda_context: Any, clock: Clock, backoff: Backoff, s3_faults: Faults
) -> None:
    # Given S3 throttles the first PutObject attempt only
    s3_faults.fail("PutObject", faults.SLOW_DOWN, times=1)
    # When a batch is posted
    response = post(http_event(batch(2)), lambda_context)
    # Then the client never sees the fault: accepted, stored once
    assert response["statusCode"] == 202
    assert s3_faults.attempts["PutObject"] == 2
    assert len(stored_report_ids(s3)) == 2
    assert [len(v) for v in versions(s3).values()] == [1]


def test_a_write_whose_answer_was_lost_is_stored_and_counted_once_after_the_clients_retry(
    s3: Any, lambda_context: Any, clock: Clock, backoff: Backoff, s3_faults: Faults
) -> None:
    # Given S3 stores every PutObject but the answers never arrive (a read timeout after the write)
    s3_faults.fail("PutObject", faults.read_timeout, after_service=True)
    event = http_event(batch(3))
    first = post(event, lambda_context)
    assert_retry_later(first)
    # When the fault clears and the client retries the same request a minute later
    s3_faults.clear()
    clock.now += timedelta(minutes=1)
    second = post(event, lambda_context)
    # Then every attempt wrote the same key with the same reports (whole objects, no partial one)
    assert second["statusCode"] == 202
    ((key, copies),) = versions(s3).items()
    assert key.startswith("reports/dt=2026-11-29/hr=04/")
    assert len(copies) == S3_PUT_ATTEMPTS + 1
    assert {len(copy.splitlines()) for copy in copies} == {3}
    # And the day's aggregation counts each report once
    counts = aggregate(s3, "2026-11-29", lambda_context)
    assert counts["reports_aggregated"] == 3
    assert counts["duplicates_dropped"] == 0


@pytest.mark.parametrize(
    ("first_at", "retry_at", "days"),
    [
        (datetime(2026, 11, 29, 10, 59, 59, tzinfo=UTC), datetime(2026, 11, 29, 11, 0, 1, tzinfo=UTC), 1),
        (datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC), datetime(2026, 11, 30, 0, 0, 1, tzinfo=UTC), 2),
    ],
    ids=["across an hour", "across midnight"],
)
def test_a_lost_answer_retried_in_the_next_partition_is_counted_once(
    s3: Any,
    lambda_context: Any,
    clock: Clock,
    backoff: Backoff,
    s3_faults: Faults,
    first_at: datetime,
    retry_at: datetime,
    days: int,
) -> None:
    # Given the first attempt was stored but its answer lost, and the retry arrives in the next hour
    s3_faults.fail("PutObject", faults.read_timeout, after_service=True)
    event = http_event(batch(2))
    clock.now = first_at
    assert_retry_later(post(event, lambda_context))
    s3_faults.clear()
    clock.now = retry_at
    assert post(event, lambda_context)["statusCode"] == 202
    # Then two objects hold the reports (the key carries the receive hour) ...
    assert len(versions(s3)) == 2
    # ... and aggregation, day by day, still counts each report once
    aggregated = 0
    for offset in range(days):
        day = (first_at + timedelta(days=offset)).date().isoformat()
        aggregated += aggregate(s3, day, lambda_context)["reports_aggregated"]
    assert aggregated == 2


@pytest.mark.parametrize("failure", DYNAMODB_FAILURES.values(), ids=DYNAMODB_FAILURES.keys())
def test_a_suppression_list_outage_answers_503_before_anything_is_written(
    s3: Any, lambda_context: Any, clock: Clock, backoff: Backoff, s3_faults: Faults, failure: Failure
) -> None:
    # Given the suppression list (DynamoDB BatchGetItem) fails on every attempt
    lookups = Faults(dynamodb_client()).fail("BatchGetItem", failure)
    event = http_event(batch())
    # When a batch is posted
    first = post(event, lambda_context)
    # Then the client retries later: without the check the erasure promise could be broken
    assert_retry_later(first)
    assert lookups.attempts["BatchGetItem"] == 2
    assert s3_faults.attempts["PutObject"] == 0
    assert versions(s3) == {}
    # And its retry after the fault is stored once
    lookups.clear()
    assert post(event, lambda_context)["statusCode"] == 202
    assert len(stored_report_ids(s3)) == 3


@pytest.mark.parametrize(
    "failure", [faults.SECRETS_INTERNAL_ERROR, faults.connection_reset], ids=["500", "connection reset"]
)
def test_an_unreadable_machine_key_secret_answers_503_and_is_read_again_next_time(
    s3: Any, lambda_context: Any, clock: Clock, backoff: Backoff, s3_faults: Faults, failure: Failure
) -> None:
    # Given Secrets Manager fails while a cold container fetches the machine key
    secrets = Faults(secrets_client()).fail("GetSecretValue", failure)
    event = http_event(batch())
    assert_retry_later(post(event, lambda_context))
    assert versions(s3) == {}
    # When it recovers, the same container reads the secret again (the failure was not cached)
    secrets.clear()
    assert post(event, lambda_context)["statusCode"] == 202
    assert secrets.attempts["GetSecretValue"] == 3
    assert len(stored_report_ids(s3)) == 3
