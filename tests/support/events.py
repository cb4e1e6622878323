"""API Gateway HTTP API (payload 2.0) events for tests, derived from the real-shape files in tests/events."""

from __future__ import annotations

import base64
import copy
import gzip
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[1] / "events"
CANARY_IP = "203.0.113.77"
"""TEST-NET-3 address used as a canary: it must never appear in anything kept."""
CANARY_FORWARDED = "198.51.100.23"


def load_event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return loaded


def http_event(
    body: bytes | str | dict[str, Any] | None = None,
    *,
    method: str = "POST",
    path: str = "/v1/reports",
    headers: dict[str, str] | None = None,
    gzip_body: bool = False,
    base64_body: bool | None = None,
) -> dict[str, Any]:
    """The recorded POST /v1/reports event with another body, method, path or headers."""
    event = copy.deepcopy(load_event("apigw_http_post_reports.json"))
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["rawPath"] = path
    event["routeKey"] = f"{method} {path}" if (method, path) == ("POST", "/v1/reports") else "$default"
    event["requestContext"]["routeKey"] = event["routeKey"]
    if headers is not None:
        event["headers"] = {**{k: v for k, v in event["headers"].items() if k != "content-type"}, **headers}
    raw: bytes | None
    if body is None:
        raw = None
    elif isinstance(body, dict):
        raw = json.dumps(body).encode()
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = body
    if raw is not None and gzip_body:
        raw = gzip.compress(raw)
        event["headers"]["content-encoding"] = "gzip"
    if raw is None:
        event.pop("body", None)
        event["isBase64Encoded"] = False
    else:
        encode = base64_body if base64_body is not None else gzip_body or not _is_utf8(raw)
        event["body"] = base64.b64encode(raw).decode() if encode else raw.decode()
        event["isBase64Encoded"] = encode
    return event


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
