"""Turn the raw body of an API Gateway request into a JSON value, safely.

This runs before any framework touches the body: Powertools decodes base64 bodies as UTF-8 and
raises on gzip or binary data. Every failure is a ProblemError with a fixed text.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping
from typing import Any

from ceip.api import problems
from ceip.api.problems import ProblemError
from ceip.reports import limits

_JSON_MEDIA_TYPES = frozenset({"application/json"})
_READ_CHUNK = 64 * 1024


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def raw_body(event: Mapping[str, Any], max_bytes: int = limits.MAX_BODY_BYTES) -> bytes:
    """The body bytes as the client sent them (still compressed, if it was)."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise ProblemError(problems.MALFORMED_JSON)
    # base64 inflates by 4/3: anything longer cannot decode to max_bytes or less.
    if len(body) > (max_bytes // 3 + 1) * 4:
        raise ProblemError(problems.PAYLOAD_TOO_LARGE)
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ProblemError(problems.MALFORMED_JSON) from error
    else:
        data = body.encode("utf-8", "surrogatepass")
    if len(data) > max_bytes:
        raise ProblemError(problems.PAYLOAD_TOO_LARGE)
    return data


def gunzip_bounded(data: bytes, max_bytes: int = limits.MAX_BODY_BYTES) -> bytes:
    """Inflate gzip data, stopping as soon as the output passes max_bytes (a bomb is never inflated).

    A body may hold several gzip members one after another (RFC 1952; `cat a.gz b.gz`); their outputs
    are joined, as gunzip does. Bytes after a member that do not start another member are corrupt,
    not ignored: what is parsed is always all that was sent.
    """
    out = bytearray()
    pending = data
    try:
        while True:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            while pending:
                out += inflater.decompress(pending, max_bytes + 1 - len(out))
                if len(out) > max_bytes:
                    raise ProblemError(problems.PAYLOAD_TOO_LARGE)
                pending = inflater.unconsumed_tail
                if inflater.eof:
                    break
            if not inflater.eof:
                raise ProblemError(problems.MALFORMED_GZIP)
            pending = inflater.unused_data
            if not pending:
                return bytes(out)
    except zlib.error as error:
        raise ProblemError(problems.MALFORMED_GZIP) from error


def require_json_media_type(headers: Mapping[str, str]) -> None:
    if media_type(headers.get("content-type")) not in _JSON_MEDIA_TYPES:
        raise ProblemError(problems.UNSUPPORTED_MEDIA_TYPE)


def decode_content(data: bytes, headers: Mapping[str, str], max_bytes: int = limits.MAX_BODY_BYTES) -> bytes:
    """Undo Content-Encoding; returns at most max_bytes of plain body."""
    encodings = [e.strip().lower() for e in (headers.get("content-encoding") or "").split(",") if e.strip()]
    for encoding in reversed(encodings):
        if encoding == "identity":
            continue
        if encoding in ("gzip", "x-gzip"):
            data = gunzip_bounded(data, max_bytes)
        else:
            raise ProblemError(problems.UNSUPPORTED_ENCODING)
    return data


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _reject_constant(_: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


def parse_json(data: bytes) -> Any:
    """Strict JSON: UTF-8 without BOM, no duplicate keys, no NaN/Infinity, finite floats, bounded depth.

    Integers are left to Python's own limit (over 4300 digits raise ValueError) and then to the models'
    bounds: a per-integer hook would cost every request for a case that limit already covers.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        raise ProblemError(problems.INVALID_ENCODING)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProblemError(problems.INVALID_ENCODING) from error
    try:
        return json.loads(
            text,
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise ProblemError(problems.MALFORMED_JSON) from error


def json_body(event: Mapping[str, Any], max_bytes: int = limits.MAX_BODY_BYTES) -> Any:
    """Raw event body to JSON value: media type, size, encoding and syntax checked in that order."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    require_json_media_type(headers)
    content = decode_content(raw_body(event, max_bytes), headers, max_bytes)
    return parse_json(content)
