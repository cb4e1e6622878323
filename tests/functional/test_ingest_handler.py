"""IngestFunction under moto: real-shape API Gateway events in, S3 objects and problem answers out."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ceip.ingest import app
from ceip.storage.s3 import S3ObjectWriter
from tests.conftest import REPORTS_BUCKET, Captured
from tests.support import reports
from tests.support.events import CANARY_FORWARDED, CANARY_IP, http_event, load_event
from tests.support.reports import make_batch, make_report

RECEIVED = datetime(2026, 11, 29, 4, 44, 50, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "utc_now", lambda: RECEIVED)
    monkeypatch.setattr(reports, "utc_now", lambda: RECEIVED)


def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = app.lambda_handler(event, context)
    return response


def stored_objects(s3: Any) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for item in s3.list_objects_v2(Bucket=REPORTS_BUCKET).get("Contents", []):
        data = s3.get_object(Bucket=REPORTS_BUCKET, Key=item["Key"])["Body"].read()
        found[item["Key"]] = [json.loads(line) for line in gzip.decompress(data).splitlines()]
    return found


def all_versions(s3: Any) -> int:
    return len(s3.list_object_versions(Bucket=REPORTS_BUCKET).get("Versions", []))


def test_valid_batch_is_stored_under_the_receive_hour(s3: Any, lambda_context: Any) -> None:
    # Given a batch of two valid reports
    batch = make_batch(2)
    # When posted
    response = invoke(http_event(batch), lambda_context)
    # Then it is accepted and stored as one object under today's partition
    assert response["statusCode"] == 202
    assert json.loads(response["body"]) == {"accepted": 2, "rejected": []}
    ((key, lines),) = stored_objects(s3).items()
    assert key.startswith("reports/dt=2026-11-29/hr=04/") and key.endswith(".ndjson.gz")
    assert [line["report_id"] for line in lines] == [r["report_id"] for r in batch["reports"]]
    assert {line["received_at"] for line in lines} == {"2026-11-29T04:44:50.000Z"}


def test_gzip_body_is_accepted(s3: Any, lambda_context: Any) -> None:
    response = invoke(http_event(make_batch(3), gzip_body=True), lambda_context)
    assert response["statusCode"] == 202
    assert sum(len(v) for v in stored_objects(s3).values()) == 3


def test_valid_reports_are_stored_even_when_others_are_rejected(s3: Any, lambda_context: Any) -> None:
    # Given a batch with one bad report between two good ones
    good = [make_report(), make_report()]
    batch = {"reports": [good[0], {"schema_version": 1}, good[1]]}
    # When posted
    response = invoke(http_event(batch), lambda_context)
    # Then the good ones are stored and the bad one is listed by index
    body = json.loads(response["body"])
    assert response["statusCode"] == 202
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [1]
    (lines,) = stored_objects(s3).values()
    assert [line["report_id"] for line in lines] == [g["report_id"] for g in good]


def test_identical_retry_overwrites_instead_of_adding_a_copy(s3: Any, lambda_context: Any) -> None:
    # Given a batch that was stored, and the client retries it after a timeout
    event = http_event(make_batch(2))
    invoke(event, lambda_context)
    # When the identical request arrives again
    response = invoke(event, lambda_context)
    # Then there is still one object holding each report once
    assert response["statusCode"] == 202
    objects = stored_objects(s3)
    assert len(objects) == 1
    assert len(next(iter(objects.values()))) == 2


def test_storage_failure_answers_503_with_retry_after_and_a_retry_stores_once(
    s3: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given S3 refuses the first write
    event = http_event(make_batch(2))
    real_put = S3ObjectWriter.put
    calls = {"n": 0}

    def flaky_put(self: Any, key: str, body: bytes, *, content_type: str) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            from ceip.storage.s3 import StorageUnavailable

            raise StorageUnavailable("SlowDown")
        real_put(self, key, body, content_type=content_type)

    monkeypatch.setattr(S3ObjectWriter, "put", flaky_put)
    # When the client posts, then retries
    first = invoke(event, lambda_context)
    second = invoke(event, lambda_context)
    # Then the first answer is 503 with Retry-After, nothing stored; the retry stores once
    assert first["statusCode"] == 503
    assert first["headers"]["Retry-After"] == "5"
    assert json.loads(first["body"])["code"] == "storage-unavailable"
    assert second["statusCode"] == 202
    assert sum(len(v) for v in stored_objects(s3).values()) == 2


def test_s3_client_error_is_a_503_not_a_crash(s3: Any, lambda_context: Any) -> None:
    # Given the bucket is gone
    s3.delete_bucket(Bucket=REPORTS_BUCKET)
    # When a valid batch is posted
    response = invoke(http_event(make_batch(1)), lambda_context)
    # Then the client is told to retry
    assert response["statusCode"] == 503
    assert response["headers"]["Content-Type"] == "application/problem+json"


BAD_REQUESTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("truncated json", http_event('{"reports": [{"schema_version": 1'), 400, "malformed-json"),
    ("empty body", http_event(None), 400, "malformed-json"),
    ("not an object", http_event("[1, 2]"), 400, "invalid-batch"),
    ("extra top-level key", http_event({"reports": [make_report()], "user": "jane"}), 400, "invalid-batch"),
    ("empty batch", http_event({"reports": []}), 400, "invalid-batch"),
    ("101 reports", http_event({"reports": [make_report() for _ in range(101)]}), 400, "invalid-batch"),
    ("reports not a list", http_event({"reports": {"a": 1}}), 400, "invalid-batch"),
    ("no valid report", http_event({"reports": [{"schema_version": 1}]}), 400, "no-valid-report"),
    ("NaN", http_event('{"reports": [NaN]}'), 400, "malformed-json"),
    ("duplicate keys", http_event('{"reports": [], "reports": []}'), 400, "malformed-json"),
    ("deep nesting", http_event('{"reports": ' + "[" * 50_000 + "]" * 50_000 + "}"), 400, "malformed-json"),
    ("non utf-8", http_event(b'{"reports": ["\xc3\x28"]}'), 400, "invalid-encoding"),
    ("bom", http_event(b"\xef\xbb\xbf" + json.dumps(make_batch(1)).encode()), 400, "invalid-encoding"),
    ("truncated gzip", {**http_event(make_batch(1), gzip_body=True)}, 400, "malformed-gzip"),
    (
        "text/plain",
        http_event(make_batch(1), headers={"content-type": "text/plain"}),
        415,
        "unsupported-media-type",
    ),
    (
        "brotli",
        http_event(make_batch(1), headers={"content-type": "application/json", "content-encoding": "br"}),
        415,
        "unsupported-content-encoding",
    ),
    ("oversize", http_event('{"reports": ["' + "x" * (1024 * 1024) + '"]}'), 413, "payload-too-large"),
    (
        "gzip bomb",
        http_event(b'{"reports": ["' + b"0" * (8 * 1024 * 1024) + b'"]}', gzip_body=True),
        413,
        "payload-too-large",
    ),
    ("GET reports", http_event(None, method="GET"), 405, "method-not-allowed"),
    ("unknown path", http_event(make_batch(1), path="/v1/other"), 404, "not-found"),
    ("root path", http_event(None, method="GET", path="/"), 404, "not-found"),
]


def _truncate_gzip(event: dict[str, Any]) -> dict[str, Any]:
    import base64

    raw = base64.b64decode(event["body"])
    return {**event, "body": base64.b64encode(raw[: len(raw) // 2]).decode()}


BAD_REQUESTS = [(n, _truncate_gzip(e) if n == "truncated gzip" else e, s, c) for n, e, s, c in BAD_REQUESTS]


@pytest.mark.parametrize(("name", "event", "status", "code"), BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_request_gets_its_problem_and_nothing_is_stored(
    s3: Any, lambda_context: Any, name: str, event: dict[str, Any], status: int, code: str
) -> None:
    # When a bad request arrives
    response = invoke(event, lambda_context)
    # Then it gets the exact problem, as problem+json, and nothing is stored
    assert response["statusCode"] == status, name
    assert response["headers"]["Content-Type"] == "application/problem+json"
    problem = json.loads(response["body"])
    assert problem["code"] == code
    assert problem["status"] == status
    assert problem["type"] == f"urn:ceip:problem:{code}"
    assert all_versions(s3) == 0


def test_405_names_the_allowed_methods(s3: Any, lambda_context: Any) -> None:
    response = invoke(load_event("apigw_http_get_reports.json"), lambda_context)
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "POST"


def test_problem_answers_never_echo_the_input(s3: Any, lambda_context: Any) -> None:
    # Given a batch whose only report is full of identifying strings
    marker = "jane.doe.secret@example.com"
    report = make_report(report_id=marker, machine_id=marker)
    report["product"] = {"id": marker, "version": marker, marker: marker}
    report[marker] = marker
    # When posted
    response = invoke(http_event({"reports": [report]}), lambda_context)
    # Then the answer is a 400 that quotes none of it
    assert response["statusCode"] == 400
    assert "jane" not in response["body"]
    assert "example" not in response["body"]


def test_unexpected_error_is_a_problem_500_without_details(
    s3: Any, lambda_context: Any, captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a bug deep in the service that raises with the input in its message
    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("jane.doe@example.com")

    monkeypatch.setattr(app.service, "ingest", broken)
    # When a request arrives
    response = invoke(http_event(make_batch(1)), lambda_context)
    # Then the answer is a generic problem and the log names the error type but not its message
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["code"] == "internal-error"
    text = captured.text()
    assert "KeyError" in text and "jane" not in text


def test_source_address_is_never_stored_logged_or_measured(
    s3: Any, lambda_context: Any, captured: Captured
) -> None:
    # Given requests whose source IP and X-Forwarded-For carry canary addresses (see tests/events)
    good = http_event(make_batch(3))
    mixed = http_event({"reports": [make_report(), {"bad": 1}]})
    bad = http_event("{", headers={"content-type": "application/json", "x-forwarded-for": CANARY_FORWARDED})
    assert good["requestContext"]["http"]["sourceIp"] == CANARY_IP
    assert CANARY_FORWARDED in good["headers"]["x-forwarded-for"]
    # When they are handled
    for event in (good, mixed, bad, load_event("apigw_http_get_reports.json")):
        invoke(event, lambda_context)
    # Then no stored object, no log line and no metric holds either address
    stored = json.dumps(stored_objects(s3))
    assert stored != "{}"
    output = captured.text()
    assert "ReportsAccepted" in output and "reports_stored" in output
    for canary in (CANARY_IP, CANARY_FORWARDED):
        assert canary not in stored
        assert canary not in output


def test_metrics_count_accepted_and_rejected_reports_by_reason(
    s3: Any, lambda_context: Any, captured: Captured
) -> None:
    # Given a batch with one good report and two bad ones
    batch = {"reports": [make_report(), make_report(schema_version=7), make_report(product={"id": "x"})]}
    # When posted
    invoke(http_event(batch), lambda_context)
    # Then EMF records count 1 accepted and each rejection by its reason
    records = [json.loads(line) for line in captured.text().splitlines() if line.startswith('{"_aws"')]
    accepted = [r["ReportsAccepted"] for r in records if "ReportsAccepted" in r]
    rejected = {r["reason"]: r["ReportsRejected"] for r in records if "ReportsRejected" in r}
    assert accepted == [[1.0]]
    assert set(rejected) == {"literal_error", "missing"}


def test_client_error_in_put_object_maps_to_storage_unavailable() -> None:
    # Given an S3 writer whose client raises a ClientError
    from ceip.storage.s3 import S3ObjectWriter, StorageUnavailable

    class Refusing:
        def put_object(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "x"}}, "PutObject")

    # Then the adapter raises StorageUnavailable
    with pytest.raises(StorageUnavailable):
        S3ObjectWriter("b", client=Refusing()).put("k", b"", content_type="application/gzip")


def test_answers_match_the_published_response_models(s3: Any, lambda_context: Any) -> None:
    # Given a partly valid batch and an invalid one
    from ceip.api.schemas import BatchAccepted, ProblemDetails

    mixed = invoke(http_event({"reports": [make_report(), {"schema_version": 1}]}), lambda_context)
    invalid = invoke(http_event({"reports": [{"schema_version": 1}]}), lambda_context)
    # Then each body validates against the model the OpenAPI document publishes
    BatchAccepted.model_validate_json(mixed["body"])
    problem = ProblemDetails.model_validate_json(invalid["body"])
    assert problem.rejected is not None
    assert problem.rejected[0].index == 0


def test_entries_past_the_aggregations_bounds_are_not_stored(s3: Any, lambda_context: Any) -> None:
    # Given a report of 40 problems, 60 features and 20 hardware features, each within the wire limits
    report = make_report(
        performance={
            "problems": [{"id": f"crash.{i:03d}", "kind": "program", "count": 1 + i} for i in range(40)]
        },
        usage={"features": [{"id": f"feature.{i:03d}", "count": 1} for i in range(60)]},
        configuration={"hardware_features": {f"hw.{i:03d}": True for i in range(20)}},
    )
    # When it is posted
    response = invoke(http_event({"reports": [report]}), lambda_context)
    # Then it is accepted, and stored with what the aggregation can count: the 16 most hit problems,
    # 48 features (ties by id) and 8 hardware names
    assert response["statusCode"] == 202
    ((line,),) = stored_objects(s3).values()
    assert [p["count"] for p in line["performance"]["problems"]] == list(range(40, 24, -1))
    assert [f["id"] for f in line["usage"]["features"]] == [f"feature.{i:03d}" for i in range(48)]
    assert list(line["configuration"]["hardware_features"]) == [f"hw.{i:03d}" for i in range(8)]
