"""The bad-request corpus (tests/fixtures/bad_requests): cases as data, turned into API Gateway events.

Each case in cases.yaml names a request (method, path, query, headers, body recipe) and the exact
problem it must get. Bodies are recipes so that the table stays readable: literal text, a raw file
where bytes matter, JSON, valid reports or privacy requests with one field changed, or repeated parts
for sizes no one would type. Events start from the recorded events in tests/events, so the handlers
see what API Gateway (HTTP API, payload 2.0) really sends.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from infra.local.gateway import is_textual

from tests.support.events import load_event
from tests.support.reports import make_report

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_requests"
CANARY_USER_AGENT = "zq-canary-agent/7.3 (jane.doe@example.com)"
"""Sent as User-Agent with every case: like the addresses, it must never come back."""

_RECORDED = {
    "POST /v1/reports": "apigw_http_post_reports.json",
    "POST /v1/privacy/requests": "apigw_http_post_privacy_request.json",
    "GET /v1/privacy/requests/{request_id}": "apigw_http_get_privacy_request.json",
}
_TOKEN = re.compile(r"[^\s\"'{}\[\],:;=&?/\\<>()]{6,}")
"""Runs of at least six characters that a client chose: candidates for an echo."""


@dataclass(frozen=True)
class BadRequest:
    name: str
    why: str
    method: str
    path: str
    query: str
    headers: dict[str, str | None]
    body: bytes | None
    plain: bytes
    """The body before any gzip: where the client's own strings are."""
    base64: bool | None
    status: int
    code: str
    recipe: str
    """The request as the table spells it: two cases with the same recipe would be one case."""


def load_cases(corpus: Path = CORPUS) -> list[BadRequest]:
    table = yaml.safe_load((corpus / "cases.yaml").read_text(encoding="utf-8"))
    return [_case(entry, corpus) for entry in table]


def _case(entry: dict[str, Any], corpus: Path) -> BadRequest:
    request = entry["request"]
    plain = _body(request.get("body"), corpus)
    body = plain
    if plain is not None and request.get("gzip"):
        body = gzip.compress(plain, mtime=0)
        if request["gzip"] == "truncated":
            body = body[: len(body) // 2]
    return BadRequest(
        name=entry["name"],
        why=entry["why"],
        method=request.get("method", "POST"),
        path=_path(request["path"]),
        query=request.get("query", ""),
        headers={"content-type": "application/json", **(request.get("headers") or {})},
        body=body,
        plain=plain or b"",
        base64=request.get("base64"),
        status=entry["expect"]["status"],
        code=entry["expect"]["code"],
        recipe=json.dumps(request, sort_keys=True),
    )


def _path(spec: str | dict[str, Any]) -> str:
    if isinstance(spec, str):
        return spec
    return "".join(str(part["text"]) * part.get("times", 1) for part in spec["parts"])


def _body(recipe: dict[str, Any] | None, corpus: Path) -> bytes | None:
    if recipe is None:
        return None
    (kind, spec), *rest = recipe.items()
    assert not rest, f"one body recipe per case, got {sorted(recipe)}"
    if kind == "text":
        return str(spec).encode("utf-8")
    if kind == "file":
        return (corpus / "bodies" / spec).read_bytes()
    if kind == "json":
        return json.dumps(spec).encode("utf-8")
    if kind == "parts":
        return b"".join(str(part["text"]).encode("utf-8") * part.get("times", 1) for part in spec)
    if kind == "batch":
        return json.dumps(_batch(spec)).encode("utf-8")
    if kind == "privacy":
        document: dict[str, Any] = {"type": "erasure", "machine_id": str(uuid.uuid4())}
        return json.dumps(_mutate(document, spec)).encode("utf-8")
    raise ValueError(f"unknown body recipe {kind!r}")


def _batch(spec: dict[str, Any]) -> dict[str, Any]:
    reports = [_mutate(make_report(), spec) for _ in range(spec.get("count", 1))]
    return {"reports": reports, **spec.get("top", {})}


def _mutate(document: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """`set` dotted paths (list indexes are numbers) to values, `unset` removes them, `merge` adds keys."""
    for dotted, value in (spec.get("set") or {}).items():
        *parents, last = _walk(document, dotted)
        parents[-1][last] = _expand(value)
    for dotted in spec.get("unset") or ():
        *parents, last = _walk(document, dotted)
        del parents[-1][last]
    document.update(_expand(spec.get("merge") or {}))
    return document


def _expand(value: Any) -> Any:
    """{"repeat": V, "times": N} is a list of N copies of V; {"keys": N} an object of N distinct keys."""
    if isinstance(value, dict) and set(value) == {"repeat", "times"}:
        return [copy.deepcopy(value["repeat"]) for _ in range(value["times"])]
    if isinstance(value, dict) and set(value) == {"keys"}:
        return {f"k{i}": 0 for i in range(value["keys"])}
    return copy.deepcopy(value)


def _walk(document: dict[str, Any], dotted: str) -> list[Any]:
    """[document, container..., container holding the last key, last key]."""
    chain: list[Any] = [document]
    keys: list[str | int] = [int(k) if k.isdigit() else k for k in dotted.split(".")]
    for key in keys[:-1]:
        chain.append(chain[-1][key])
    return [*chain, keys[-1]]


def to_event(case: BadRequest, route_key: str, path_parameters: dict[str, str]) -> dict[str, Any]:
    """The API Gateway event for the case: the recorded event of the route, with the case's request."""
    event = copy.deepcopy(load_event(_RECORDED.get(route_key, "apigw_http_post_reports.json")))
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key
    event["rawPath"] = event["requestContext"]["http"]["path"] = case.path
    event["requestContext"]["http"]["method"] = case.method
    event["requestContext"]["http"]["userAgent"] = CANARY_USER_AGENT
    event["rawQueryString"] = case.query
    event.pop("queryStringParameters", None)
    if case.query:
        pairs = [part.partition("=") for part in case.query.split("&")]
        event["queryStringParameters"] = {name: value for name, _, value in pairs}
    event.pop("pathParameters", None)
    if path_parameters:
        event["pathParameters"] = path_parameters
    headers = {k: v for k, v in event["headers"].items() if k not in ("content-type", "content-length")}
    headers["user-agent"] = CANARY_USER_AGENT
    for name, value in case.headers.items():
        if value is None:
            headers.pop(name.lower(), None)
        else:
            headers[name.lower()] = value
    event.pop("body", None)
    event["isBase64Encoded"] = False
    if case.body is not None:
        headers["content-length"] = str(len(case.body))
        encode = case.base64
        if encode is None:
            encode = not is_textual(
                headers.get("content-type", ""), headers.get("content-encoding", ""), case.body
            )
        event["body"] = base64.b64encode(case.body).decode("ascii") if encode else case.body.decode("utf-8")
        event["isBase64Encoded"] = encode
    event["headers"] = headers
    return event


def client_tokens(case: BadRequest) -> set[str]:
    """Distinctive strings the client sent (body, path, query, header values), at most 32 characters
    each: an echo of any of them, even shortened, would show up."""
    sources = [
        case.plain.decode("utf-8", "replace"),
        case.path,
        case.query,
        *(v for v in case.headers.values() if v),
        CANARY_USER_AGENT,
    ]
    return {token[:32] for text in sources for token in _TOKEN.findall(text)}
