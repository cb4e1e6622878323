"""Every gzip member of a stored object is read; anything that is not a complete stream is corrupt."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from ceip.storage import gzip_members
from ceip.storage.gzip_members import CorruptGzip, inflate, inflated_pieces


def test_every_member_is_inflated_in_order() -> None:
    # Given an object of three members (as Firehose appends one per batch)
    data = gzip.compress(b"a\n") + gzip.compress(b"b\nc\n") + gzip.compress(b"d\n")
    # When inflated, then all three contents come out, joined in order (zlib alone reads the first)
    assert inflate(data) == b"a\nb\nc\nd\n"
    assert zlib.decompress(data, wbits=31) == b"a\n"


def test_members_larger_than_a_chunk_and_many_small_ones_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given members that span several chunks and members smaller than one, mixed
    monkeypatch.setattr(gzip_members, "CHUNK_BYTES", 1000)
    big = os.urandom(5000)
    contents = [big, *(f"line {i}\n".encode() for i in range(300)), big]
    data = b"".join(gzip.compress(c) for c in contents)
    # When inflated, then the result is every content joined (gzip's own reader agrees)
    assert inflate(data) == b"".join(contents) == gzip.decompress(data)


def test_an_empty_member_counts_as_a_member() -> None:
    assert inflate(gzip.compress(b"") + gzip.compress(b"x")) == b"x"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not gzip at all",
        gzip.compress(b"a\n")[:-4],
        gzip.compress(b"a\n") + gzip.compress(b"b\n")[:-1],
        gzip.compress(b"a\n") + b"trailing text",
        gzip.compress(b"a\n") + b"\x00" * 8,
        gzip.compress(b"a\n")[:-8] + b"\x00\x00\x00\x00" + gzip.compress(b"a\n")[-4:],
    ],
    ids=[
        "empty",
        "text",
        "truncated",
        "second-member-truncated",
        "text-after-a-member",
        "zero-padding",
        "bad-crc",
    ],
)
def test_anything_but_complete_members_is_corrupt(data: bytes) -> None:
    # Given bytes that are not wholly gzip members, when inflated, then CorruptGzip says so
    with pytest.raises(CorruptGzip):
        inflate(data)


def test_pieces_stream_before_a_later_member_turns_out_corrupt() -> None:
    # Given a good member followed by a broken one
    pieces = inflated_pieces(gzip.compress(b"good\n") + b"\x1f\x8bbroken")
    # Then the first member's content arrives before the error (callers needing all-or-nothing use inflate)
    assert next(pieces) == b"good\n"
    with pytest.raises(CorruptGzip):
        list(pieces)
