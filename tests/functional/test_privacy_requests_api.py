"""PrivacyRequestsFunction under moto: erasure requests from clients, idempotency, status, suppression."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from ceip.datasubject import api
from ceip.ingest import app as ingest_app
from ceip.machines.machine_key import machine_key
from tests.conftest import MACHINE_KEY_SECRET, SUPPRESSION_TABLE, Captured
from tests.functional.test_ingest_handler import stored_objects
from tests.support import reports
from tests.support.events import CANARY_FORWARDED, CANARY_IP, http_event, load_event
from tests.support.reports import make_batch, make_report

NOW = datetime(2026, 11, 29, 10, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "utc_now", lambda: NOW)
    monkeypatch.setattr(ingest_app, "utc_now", lambda: NOW)
    monkeypatch.setattr(reports, "utc_now", lambda: NOW)


def erasure_event(machine_id: str, **extra: Any) -> dict[str, Any]:
    event = load_event("apigw_http_post_privacy_request.json")
    event["body"] = json.dumps({"type": "erasure", "machine_id": machine_id, **extra})
    return event


def status_event(request_id: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("apigw_http_get_privacy_request.json"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/v1/privacy/requests/{request_id}"
    event["pathParameters"] = {"request_id": request_id}
    return event


def call(event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any], dict[str, Any]]:
    response = api.lambda_handler(event, context)
    return response["statusCode"], response["headers"], json.loads(response["body"])


def test_erasure_request_is_accepted_with_an_id_and_a_promise(s3: Any, lambda_context: Any) -> None:
    # When a client asks for its machine's erasure at 10:15 UTC
    status, _, body = call(erasure_event(str(uuid.uuid4())), lambda_context)
    # Then it gets 202, a request id and the end of the next purge (03:00 next day + 3 h)
    assert status == 202
    assert body["status"] == "received"
    assert body["expected_by"] == "2026-11-30T06:00:00Z"
    uuid.UUID(body["request_id"])


def test_the_same_machine_asking_twice_gets_the_same_open_request(s3: Any, lambda_context: Any) -> None:
    machine = str(uuid.uuid4())
    _, _, first = call(erasure_event(machine), lambda_context)
    _, _, second = call(erasure_event(machine.upper()), lambda_context)
    _, _, other = call(erasure_event(str(uuid.uuid4())), lambda_context)
    assert first["request_id"] == second["request_id"]
    assert other["request_id"] != first["request_id"]


def test_suppression_list_holds_a_keyed_hash_and_never_the_guid(s3: Any, lambda_context: Any) -> None:
    # Given an erasure request
    machine = str(uuid.uuid4())
    call(erasure_event(machine), lambda_context)
    # Then DynamoDB holds the keyed hash and nowhere the GUID
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    everything = json.dumps(
        [dynamodb.scan(TableName=t)["Items"] for t in dynamodb.list_tables()["TableNames"]]
    )
    assert machine_key(machine, MACHINE_KEY_SECRET.encode()) in everything
    assert machine not in everything
    assert machine.replace("-", "") not in everything


def test_status_is_reported_in_plain_terms_without_machine_data(s3: Any, lambda_context: Any) -> None:
    machine = str(uuid.uuid4())
    _, _, filed = call(erasure_event(machine), lambda_context)
    status, _, body = call(status_event(filed["request_id"]), lambda_context)
    assert status == 200
    assert body == {
        "request_id": filed["request_id"],
        "type": "erasure",
        "status": "received",
        "received_at": "2026-11-29T10:15:00Z",
        "expected_by": "2026-11-30T06:00:00Z",
    }


@pytest.mark.parametrize("request_id", [str(uuid.uuid4()), "not-a-uuid", "%00", "a" * 300])
def test_unknown_request_ids_get_404(s3: Any, lambda_context: Any, request_id: str) -> None:
    status, headers, body = call(status_event(request_id), lambda_context)
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "not-found"
    assert request_id not in json.dumps(body)


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        (erasure_event("not-a-guid"), 400, "invalid-request"),
        (erasure_event("6fa459ea-ee8a-1ca4-894e-db77e160355e"), 400, "invalid-request"),
        (erasure_event(str(uuid.uuid4()), email="jane@example.com"), 400, "invalid-request"),
        (
            {**erasure_event(str(uuid.uuid4())), "body": '{"type": "export", "machine_id": "x"}'},
            400,
            "invalid-request",
        ),
        ({**erasure_event(str(uuid.uuid4())), "body": "{"}, 400, "malformed-json"),
        ({**erasure_event(str(uuid.uuid4())), "body": "[]"}, 400, "invalid-request"),
        (
            http_event(
                '{"type":"erasure"}', path="/v1/privacy/requests", headers={"content-type": "text/plain"}
            ),
            415,
            "unsupported-media-type",
        ),
    ],
)
def test_bad_privacy_requests_get_problems_and_file_nothing(
    s3: Any, lambda_context: Any, event: dict[str, Any], status: int, code: str
) -> None:
    event = copy.deepcopy(event)
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/privacy/requests"
    event["routeKey"] = "POST /v1/privacy/requests"
    got, headers, body = call(event, lambda_context)
    assert (got, body["code"]) == (status, code)
    assert headers["Content-Type"] == "application/problem+json"
    assert "jane" not in json.dumps(body)
    assert boto3.client("dynamodb", region_name="us-east-1").scan(TableName=SUPPRESSION_TABLE)["Count"] == 0


def test_new_reports_of_an_erased_machine_are_dropped_before_storage(s3: Any, lambda_context: Any) -> None:
    # Given machine X asked for erasure
    erased = str(uuid.uuid4())
    call(erasure_event(erased), lambda_context)
    # When a batch with reports of X and of another machine arrives
    batch = {"reports": [make_report(machine_id=erased), make_report(), make_report(machine_id=erased)]}
    response = ingest_app.lambda_handler(http_event(batch), lambda_context)
    # Then the client gets its normal answer, and only the other machine's report is stored
    assert response["statusCode"] == 202
    assert json.loads(response["body"]) == {"accepted": 3, "rejected": []}
    lines = [line for obj in stored_objects(s3).values() for line in obj]
    assert [line["machine_id"] for line in lines] == [batch["reports"][1]["machine_id"]]


def test_a_batch_of_only_erased_machines_stores_nothing(s3: Any, lambda_context: Any) -> None:
    erased = str(uuid.uuid4())
    call(erasure_event(erased), lambda_context)
    response = ingest_app.lambda_handler(http_event(make_batch(2, machine_id=erased)), lambda_context)
    assert response["statusCode"] == 202
    assert stored_objects(s3) == {}


def test_suppression_check_failure_stores_nothing_and_asks_to_retry(
    s3: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the suppression table is unavailable
    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName=SUPPRESSION_TABLE)
    # When reports arrive
    response = ingest_app.lambda_handler(http_event(make_batch(2)), lambda_context)
    # Then nothing is stored and the client is told to retry
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "5"
    assert stored_objects(s3) == {}


def test_privacy_api_keeps_no_source_address(s3: Any, lambda_context: Any, captured: Captured) -> None:
    event = erasure_event(str(uuid.uuid4()))
    assert event["requestContext"]["http"]["sourceIp"] == CANARY_IP
    _, _, filed = call(event, lambda_context)
    call(status_event(filed["request_id"]), lambda_context)
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    kept = json.dumps([dynamodb.scan(TableName=t)["Items"] for t in dynamodb.list_tables()["TableNames"]])
    for canary in (CANARY_IP, CANARY_FORWARDED):
        assert canary not in kept
        assert canary not in captured.text()


def test_wrong_method_on_privacy_routes_is_405(s3: Any, lambda_context: Any) -> None:
    event = status_event(str(uuid.uuid4()))
    event["requestContext"]["http"]["method"] = "DELETE"
    response = ingest_app.lambda_handler(event, lambda_context)
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET"
