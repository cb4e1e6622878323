"""PrivacyRequestsFunction with AWS failing underneath it (faults injected into botocore, served by moto).

The promise: while DynamoDB or the machine-key secret fail, a client asking for erasure gets 503
problem+json with Retry-After (never a 500) and nothing is half-filed; its retry files exactly one
request, with its machine suppressed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from ceip.datasubject import api
from ceip.machines.secret import secrets_client
from ceip.machines.suppression import dynamodb_client
from tests.conftest import PRIVACY_REQUESTS_TABLE, SUPPRESSION_TABLE
from tests.functional.test_privacy_requests_api import erasure_event, status_event
from tests.support import faults
from tests.support.faults import Backoff, Failure, Faults

NOW = datetime(2026, 11, 29, 10, 15, tzinfo=UTC)
MACHINE = "6f1c9a2e-5b7d-4c8e-9f21-6a4b8c0d2e7f"
FILING_FAILURES: dict[str, tuple[str, Failure]] = {
    "transaction cancelled by throttling": ("TransactWriteItems", faults.TRANSACTION_THROTTLED),
    "transaction 500": ("TransactWriteItems", faults.DYNAMODB_INTERNAL_ERROR),
    "transaction connection reset": ("TransactWriteItems", faults.connection_reset),
    "lookup throughput exceeded": ("GetItem", faults.THROUGHPUT_EXCEEDED),
    "lookup read timeout": ("GetItem", faults.read_timeout),
}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "utc_now", lambda: NOW)


def post(context: Any) -> dict[str, Any]:
    response: dict[str, Any] = api.lambda_handler(erasure_event(MACHINE), context)
    return response


def items(table: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)[
        "Items"
    ]
    return found


def assert_retry_later(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 503
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert response["headers"]["Retry-After"] == "5"
    assert json.loads(response["body"])["code"] == "storage-unavailable"


@pytest.mark.parametrize(("operation", "failure"), FILING_FAILURES.values(), ids=FILING_FAILURES.keys())
def test_a_table_outage_answers_503_files_nothing_and_the_retry_files_one_request(
    s3: Any, lambda_context: Any, backoff: Backoff, operation: str, failure: Failure
) -> None:
    # Given DynamoDB fails every attempt of one operation of the filing
    table = Faults(dynamodb_client()).fail(operation, failure)
    # When a client asks for its machine's erasure
    first = post(lambda_context)
    # Then it is told to retry later, and neither a request nor a suppression entry exists
    assert_retry_later(first)
    assert items(PRIVACY_REQUESTS_TABLE) == [] and items(SUPPRESSION_TABLE) == []
    # And its retry after the outage files exactly one request, the machine suppressed
    table.clear()
    second = post(lambda_context)
    assert second["statusCode"] == 202
    (request,) = items(PRIVACY_REQUESTS_TABLE)
    (entry,) = items(SUPPRESSION_TABLE)
    assert request["request_id"] == entry["request_id"]
    assert request["request_id"]["S"] == json.loads(second["body"])["request_id"]


def test_a_filing_whose_answer_was_lost_is_one_request_for_the_client(
    s3: Any, lambda_context: Any, backoff: Backoff
) -> None:
    # Given the filing transaction is written but its first answer is lost (botocore sends it again)
    Faults(dynamodb_client()).fail("TransactWriteItems", faults.connection_reset, times=1, after_service=True)
    # When a client asks for erasure
    response = post(lambda_context)
    # Then it gets the request that was written: one request, one suppression entry
    assert response["statusCode"] == 202
    (request,) = items(PRIVACY_REQUESTS_TABLE)
    assert request["request_id"]["S"] == json.loads(response["body"])["request_id"]
    assert len(items(SUPPRESSION_TABLE)) == 1


def test_an_unreadable_machine_key_secret_answers_503(s3: Any, lambda_context: Any, backoff: Backoff) -> None:
    secrets = Faults(secrets_client()).fail("GetSecretValue", faults.read_timeout)
    assert_retry_later(post(lambda_context))
    assert items(SUPPRESSION_TABLE) == []
    secrets.clear()
    assert post(lambda_context)["statusCode"] == 202


def test_a_status_read_that_fails_answers_503(s3: Any, lambda_context: Any, backoff: Backoff) -> None:
    request_id = json.loads(post(lambda_context)["body"])["request_id"]
    Faults(dynamodb_client()).fail("GetItem", faults.THROUGHPUT_EXCEEDED)
    assert_retry_later(api.lambda_handler(status_event(request_id), lambda_context))
