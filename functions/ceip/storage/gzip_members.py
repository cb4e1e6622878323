"""Every gzip member of a stored object, inflated (pure).

An object may hold several gzip members one after another (RFC 1952): Firehose appends one per
record batch, and `cat a.gz b.gz` makes one too. DuckDB and gunzip read them all; a reader that
stops after the first (`zlib.decompress`) misses every later report, so the purge could not prove an
object free of a machine, nor the export give a person all of their data.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

CHUNK_BYTES = 256 * 1024
"""Compressed bytes fed to the inflater at a time. Each member ends with bytes left over from its last
chunk; feeding chunks keeps that leftover small, where feeding the rest of the object would copy it
once per member (quadratic in the members of a Firehose object)."""
_GZIP = 16 + zlib.MAX_WBITS


class CorruptGzip(ValueError):
    """Not a complete gzip stream: bad header or data, a CRC or length mismatch, a member cut short,
    or bytes after a member that do not start another one."""


def inflated_pieces(data: bytes) -> Iterator[bytes]:
    """The inflated content, piece by piece, member after member; raises CorruptGzip (possibly after
    some pieces: a caller that must not act on part of an object joins them first, as inflate does)."""
    if not data:
        raise CorruptGzip("no gzip member")
    view = memoryview(data)
    position = 0
    try:
        while position < len(view):
            inflater = zlib.decompressobj(wbits=_GZIP)
            while not inflater.eof:
                if position >= len(view):
                    raise CorruptGzip("a gzip member is cut short")
                chunk = view[position : position + CHUNK_BYTES]
                position += len(chunk)
                piece = inflater.decompress(chunk)
                if piece:
                    yield piece
            # The member ended inside its last chunk: the next one starts where its leftover begins.
            position -= len(inflater.unused_data)
    except zlib.error as error:
        raise CorruptGzip(str(error)) from error


def inflate(data: bytes) -> bytes:
    """Every member's content, joined; raises CorruptGzip when any part of the object is unreadable."""
    if len(data) <= CHUNK_BYTES:
        # The common case, one small member, in one call: the purge inflates every object twice a
        # pass, and the chunked walk's setup would cost it a quarter of a second a million objects.
        inflater = zlib.decompressobj(wbits=_GZIP)
        try:
            whole = inflater.decompress(data)
        except zlib.error as error:
            raise CorruptGzip(str(error)) from error
        if inflater.eof and not inflater.unused_data:
            return whole
    return b"".join(inflated_pieces(data))
