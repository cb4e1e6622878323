"""Request body decoding: size, media type, encoding and JSON syntax, before any framework sees it."""

from __future__ import annotations

import base64
import gzip

import pytest

from ceip.api import body, problems
from ceip.api.problems import ProblemError
from ceip.reports import limits


def event(data: bytes, *, b64: bool = True, **headers: str) -> dict[str, object]:
    headers = {"content-type": "application/json", **headers}
    text = base64.b64encode(data).decode() if b64 else data.decode()
    return {"headers": headers, "body": text, "isBase64Encoded": b64}


def code_of(ev: dict[str, object]) -> str:
    with pytest.raises(ProblemError) as raised:
        body.json_body(ev)
    return raised.value.problem.kind.code


def test_plain_and_gzip_bodies_decode_to_the_same_value() -> None:
    # Given the same JSON as plain text and gzipped base64
    doc = b'{"reports": [1, 2]}'
    # When decoded
    plain = body.json_body(event(doc, b64=False))
    zipped = body.json_body(event(gzip.compress(doc), **{"content-encoding": "gzip"}))
    # Then both give the same value
    assert plain == zipped == {"reports": [1, 2]}


def test_gzip_bomb_is_stopped_at_the_limit_without_inflating_it_whole() -> None:
    # Given 64 MiB of zeros compressed to a few KiB
    bomb = gzip.compress(b"0" * (64 * 1024 * 1024))
    assert len(bomb) < 200_000
    # When decoded
    inflater_output_limit = limits.MAX_BODY_BYTES
    with pytest.raises(ProblemError) as raised:
        body.gunzip_bounded(bomb, inflater_output_limit)
    # Then it is refused as too large
    assert raised.value.problem.kind is problems.PAYLOAD_TOO_LARGE


def test_body_exactly_at_the_limit_is_accepted() -> None:
    # Given a JSON string padded to exactly 1 MiB after decompression
    doc = b'{"reports": "' + b"x" * (limits.MAX_BODY_BYTES - 15) + b'"}'
    assert len(doc) == limits.MAX_BODY_BYTES
    # When decoded (gzipped)
    value = body.json_body(event(gzip.compress(doc), **{"content-encoding": "gzip"}))
    # Then it passes
    assert isinstance(value, dict)


@pytest.mark.parametrize(
    ("ev", "code"),
    [
        (event(b'{"reports": [', b64=False), "malformed-json"),
        (event(b"", b64=False), "malformed-json"),
        (event(b'{"a": NaN}', b64=False), "malformed-json"),
        (event(b'{"a": Infinity}', b64=False), "malformed-json"),
        (event(b'{"a": 1e999}', b64=False), "malformed-json"),
        (event(b'{"a": ' + b"9" * 5000 + b"}", b64=False), "malformed-json"),
        (event(b'{"a": 1, "a": 2}', b64=False), "malformed-json"),
        (event(b"[" * 100_000 + b"]" * 100_000, b64=False), "malformed-json"),
        (event(b"\xef\xbb\xbf{}"), "invalid-encoding"),
        (event(b'{"a": "\xff\xfe"}'), "invalid-encoding"),
        (event(gzip.compress(b"{}")[:-6], **{"content-encoding": "gzip"}), "malformed-gzip"),
        (event(b"not gzip at all", **{"content-encoding": "gzip"}), "malformed-gzip"),
        (event(b"{}", **{"content-encoding": "br"}), "unsupported-content-encoding"),
        (event(b"{}", **{"content-type": "text/plain"}), "unsupported-media-type"),
        (event(b"{}", **{"content-type": ""}), "unsupported-media-type"),
        (event(b"x" * (limits.MAX_BODY_BYTES + 1)), "payload-too-large"),
        (
            {"headers": {"content-type": "application/json"}, "body": "@@@", "isBase64Encoded": True},
            "malformed-json",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_bodies_become_fixed_problems(ev: dict[str, object], code: str) -> None:
    assert code_of(ev) == code


def test_content_type_parameters_and_case_are_accepted() -> None:
    assert body.json_body(event(b"{}", **{"content-type": "Application/JSON; charset=utf-8"})) == {}


def test_gzip_members_one_after_another_are_joined_as_gunzip_joins_them() -> None:
    # Given a body made of two gzip members (RFC 1952; what `cat a.gz b.gz` makes)
    data = gzip.compress(b'{"reports": ') + gzip.compress(b"[1, 2]}")
    # When decoded
    value = body.json_body(event(data, **{"content-encoding": "gzip"}))
    # Then both members' outputs form the document
    assert value == {"reports": [1, 2]}


@pytest.mark.parametrize(
    "tail",
    [b"jane.doe@example.com", b"\x00" * 8, gzip.compress(b"x")[:-4]],
    ids=["text", "zero-padding", "truncated-second-member"],
)
def test_bytes_after_the_last_gzip_member_are_corrupt_not_ignored(tail: bytes) -> None:
    # Given a complete gzip member followed by bytes that are no complete member
    data = gzip.compress(b'{"reports": [1]}') + tail
    # When decoded, then the body is refused (it used to be parsed without its tail)
    assert code_of(event(data, **{"content-encoding": "gzip"})) == "malformed-gzip"


def test_the_limit_counts_the_output_of_every_gzip_member() -> None:
    # Given two members that inflate to 1 MiB and one byte together
    data = gzip.compress(b"x" * limits.MAX_BODY_BYTES) + gzip.compress(b"x")
    # When decoded, then the bound holds across members
    assert code_of(event(data, **{"content-encoding": "gzip"})) == "payload-too-large"
