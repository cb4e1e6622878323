"""Real HTTP over loopback to the local gateway, which calls the handlers template.yaml deploys."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.local.conftest import RunningStack
from tests.support.events import CANARY_FORWARDED
from tests.support.reports import EXAMPLE_BATCH, make_batch

pytestmark = pytest.mark.local


def post(
    stack: RunningStack, path: str, data: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(stack.url + path, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def stored(stack: RunningStack) -> list[dict[str, Any]]:
    result = stack.cli("reports", "list", "--date", "today", "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_readme_curl_example_is_accepted_and_lands_in_todays_partition(local_stack: RunningStack) -> None:
    # Given the stack as `make run` starts it and the documented example batch (a full one)
    example = json.loads(EXAMPLE_BATCH.read_bytes())["reports"]
    assert len(example) == 100
    # When it is posted like the README's curl command
    status, _, body = post(
        local_stack, "/v1/reports", EXAMPLE_BATCH.read_bytes(), {"content-type": "application/json"}
    )
    # Then it is accepted whole and `ceip reports list` finds each of its reports under today's partition
    # (ids, not a count: ingest keys objects by content, so a test that posted it before left the same one)
    assert status == 202, body
    assert json.loads(body) == {"accepted": 100, "rejected": []}
    listed = local_stack.cli("reports", "list", "--date", "today", "--json", "--show")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    objects = [row for row in rows if "key" in row]
    assert objects and all("/dt=" in o["key"] for o in objects)
    stored_ids = {row["report_id"] for row in rows if "report_id" in row}
    assert {r["report_id"] for r in example} <= stored_ids


def test_gzip_request_over_http_is_accepted(local_stack: RunningStack) -> None:
    data = gzip.compress(json.dumps(make_batch(5)).encode())
    status, _, body = post(
        local_stack, "/v1/reports", data, {"content-type": "application/json", "content-encoding": "gzip"}
    )
    assert status == 202, body
    assert json.loads(body)["accepted"] == 5


@pytest.mark.parametrize(
    ("data", "headers", "status", "code"),
    [
        (b"{not json", {"content-type": "application/json"}, 400, "malformed-json"),
        (b"\xff\xfe\x00", {"content-type": "application/json"}, 400, "invalid-encoding"),
        (
            gzip.compress(b"{}")[:5],
            {"content-type": "application/json", "content-encoding": "gzip"},
            400,
            "malformed-gzip",
        ),
        (b"{}", {"content-type": "application/xml"}, 415, "unsupported-media-type"),
        (
            gzip.compress(b"[" * (4 * 1024 * 1024)),
            {"content-type": "application/json", "content-encoding": "gzip"},
            413,
            "payload-too-large",
        ),
    ],
)
def test_bad_requests_over_http_get_problem_json_and_store_nothing(
    local_stack: RunningStack, data: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    before = stored(local_stack)
    got, response_headers, body = post(local_stack, "/v1/reports", data, headers)
    assert got == status
    assert response_headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["code"] == code
    assert stored(local_stack) == before


def test_other_methods_and_paths_get_405_and_404(local_stack: RunningStack) -> None:
    for method, path, status in (
        ("GET", "/v1/reports", 405),
        ("DELETE", "/v1/reports", 405),
        ("GET", "/x", 404),
    ):
        request = urllib.request.Request(local_stack.url + path, method=method)
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=30)
        assert raised.value.code == status


def test_forwarded_address_is_not_in_storage_or_console(local_stack: RunningStack) -> None:
    # Given a request with a canary X-Forwarded-For (the gateway adds the loopback source address)
    status, _, _ = post(
        local_stack,
        "/v1/reports",
        json.dumps(make_batch(2)).encode(),
        {"content-type": "application/json", "x-forwarded-for": CANARY_FORWARDED},
    )
    assert status == 202
    # Then neither the objects nor anything the functions printed contain it
    listing = local_stack.cli("reports", "list", "--date", "today", "--show")
    assert listing.returncode == 0, listing.stderr
    assert "report_id" in listing.stdout
    assert CANARY_FORWARDED not in listing.stdout
    assert CANARY_FORWARDED not in local_stack.console()
    assert "reports_stored" in local_stack.console()


def test_the_aggregates_bucket_holds_the_templates_lifecycle_sketches_included(
    local_stack: RunningStack,
) -> None:
    # Given the local stack provisioned from template.yaml (moto stores lifecycle rules, never applies them)
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=local_stack.state["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket = local_stack.state["resources"]["AggregatesBucket"]
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    # Then the sketches expire after the default 35 days, their old versions a day later
    sketches = rules["ExpireSketches"]
    assert sketches["Filter"]["Prefix"] == "aggregates/internal/sketches/"
    assert sketches["Expiration"]["Days"] == 35
    assert sketches["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    # and the tables themselves never expire
    assert [r["ID"] for r in rules.values() if "Expiration" in r] == ["ExpireSketches"]
