"""The bad-request corpus (tests/fixtures/bad_requests/cases.yaml) against the real handlers under moto.

Each request is routed as API Gateway routes it (template.yaml's HttpApi events, the $default route
last) and must get exactly its documented problem, as problem+json, without a word of what it sent,
within a bounded answer size, and with nothing stored anywhere.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from infra.local.gateway import Gateway
from infra.local.template import Template
from moto import mock_aws

from ceip.api import problems
from ceip.api.routes import PUBLIC_ROUTES
from ceip.datasubject.schemas import PrivacyRequestIn
from ceip.reports.validation import KNOWN_LOCATIONS, REDACTED_KEY, field_names
from tests.conftest import Captured, create_api_resources
from tests.support.bad_requests import BadRequest, client_tokens, load_cases, to_event
from tests.support.events import CANARY_FORWARDED, CANARY_IP

CASES = load_cases()
MAX_ANSWER_BYTES = 64 * 1024
"""No bad request is answered at length: an answer far larger than its question is an amplifier."""
_PROBLEM_KINDS = {k.code: k for k in vars(problems).values() if isinstance(k, problems.ProblemKind)}
_FIELDS = KNOWN_LOCATIONS | field_names(PrivacyRequestIn)
_ERROR_TYPE = re.compile(r"^[a-z_]+$")
_TOKEN = re.compile(r"[^\s\"'{}\[\],:;=&?/\\<>()]{6,}")
_VOCABULARY = (
    {
        token
        for kind in _PROBLEM_KINDS.values()
        for token in _TOKEN.findall(f"{kind.title} {kind.code} {problems.PROBLEM_CONTENT_TYPE}")
    }
    | {token for route in PUBLIC_ROUTES for token in _TOKEN.findall(route.path)}
    | _FIELDS
)
"""What an answer or a log line may repeat: fixed texts, route names and the wire format's field names."""
GATEWAY = Gateway(Template.load().functions())
"""The HTTP API of template.yaml: its routes, each bound to its function's handler. Built at import, as
the other functional tests import their handlers, so the loggers write where `captured` expects."""


@dataclass(frozen=True)
class Storage:
    s3: Any
    dynamodb: Any

    def snapshot(self) -> dict[str, Any]:
        """Every object version and delete marker in every bucket, every item in every table."""
        buckets = {}
        for bucket in self.s3.list_buckets()["Buckets"]:
            listing = self.s3.list_object_versions(Bucket=bucket["Name"])
            buckets[bucket["Name"]] = [
                (v["Key"], v["VersionId"])
                for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])
            ]
        tables = {
            t: self.dynamodb.scan(TableName=t)["Items"] for t in self.dynamodb.list_tables()["TableNames"]
        }
        return {"buckets": buckets, "tables": tables}


@pytest.fixture(scope="module")
def storage() -> Iterator[Storage]:
    """One moto for the whole corpus: every case leaves the storage as it found it, and checks that."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.setenv(name, "testing")
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_aws():
            yield Storage(create_api_resources(), boto3.client("dynamodb", region_name="us-east-1"))


def send(case: BadRequest) -> dict[str, Any]:
    matched = GATEWAY.match(case.method, case.path)
    assert matched is not None, "the $default route takes every request"
    bound, path_parameters = matched
    return GATEWAY.invoke(bound, to_event(case, bound.route.route_key, path_parameters))


def test_the_corpus_is_large_distinct_and_covers_both_endpoints() -> None:
    # Given the corpus
    names = Counter(c.name for c in CASES)
    recipes = Counter(c.recipe for c in CASES)
    # Then it holds at least 40 distinct requests, spread over both endpoints and every problem code
    assert len(CASES) >= 40
    assert max(names.values()) == 1 and max(recipes.values()) == 1
    assert sum(c.path == "/v1/reports" for c in CASES) >= 20
    assert sum(c.path.startswith("/v1/privacy/requests") for c in CASES) >= 20
    client_codes = {code for code, kind in _PROBLEM_KINDS.items() if kind.status < 500}
    assert {c.code for c in CASES} == client_codes


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_request_gets_its_problem_echoes_nothing_and_stores_nothing(
    storage: Storage, captured: Captured, case: BadRequest
) -> None:
    # Given the storage as it was before the request
    before = storage.snapshot()
    # When the bad request arrives through the API's routes
    response = send(case)
    # Then the answer is exactly the case's problem, as RFC 9457 problem+json
    headers = {k.lower(): v for k, v in response["headers"].items()}
    body_text = response["body"]
    problem = json.loads(body_text)
    assert (response["statusCode"], problem.get("code")) == (case.status, case.code), case.why
    assert headers["content-type"] == problems.PROBLEM_CONTENT_TYPE
    kind = _PROBLEM_KINDS[case.code]
    assert problem["type"] == problems.PROBLEM_TYPE_BASE + case.code
    assert (problem["title"], problem["status"]) == (kind.title, case.status)
    if case.status == 405:
        assert headers["allow"] in ("POST", "GET")
    # And it is short and made of fixed texts: locations are field names or indexes, types are codes
    assert len(body_text.encode()) <= MAX_ANSWER_BYTES
    assert set(problem) <= {"type", "title", "status", "code", "rejected", "errors"}
    errors = [e for r in problem.get("rejected", []) for e in r["errors"]] + problem.get("errors", [])
    for error in errors:
        assert all(isinstance(p, int) or p in _FIELDS or p == REDACTED_KEY for p in error["loc"]), error
        assert _ERROR_TYPE.match(error["type"]), error
    # And nothing the client chose comes back: not in the body, not in a header, not in the logs
    answer = body_text + json.dumps(headers)
    logged = captured.text()
    for token in client_tokens(case) - _VOCABULARY:
        assert token not in answer, f"answer echoes {token!r}"
        assert token not in logged, f"log echoes {token!r}"
    for canary in (CANARY_IP, CANARY_FORWARDED):
        assert canary not in answer and canary not in logged
    # And nothing was stored anywhere
    assert storage.snapshot() == before
