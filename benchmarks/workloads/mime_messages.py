"""Crafted MIME messages at and past the parsing limits (ceip.privacy.mime_limits): many parts, deep
nesting. One builder for the mail-parse benchmark and the tests that hand-count what it builds."""

from __future__ import annotations


def multipart(count: int, *, head: bytes, body: bytes = b"x", boundary: bytes = b"b") -> bytes:
    """`head` (the header lines, without Content-Type), then `count` text parts holding `body`."""
    part = b"--" + boundary + b"\r\nContent-Type: text/plain\r\n\r\n" + body + b"\r\n"
    content_type = b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n'
    return head + content_type + part * count + b"--" + boundary + b"--\r\n"


def nested(depth: int, *, head: bytes, body: bytes) -> bytes:
    """`head`, then `depth` multiparts each holding the next, the innermost a text part of `body`."""
    raw = b"Content-Type: text/plain\r\n\r\n" + body
    for level in range(depth, 0, -1):
        boundary = f"level{level}".encode()
        raw = (
            b'Content-Type: multipart/mixed; boundary="'
            + boundary
            + b'"\r\n\r\n--'
            + boundary
            + b"\r\n"
            + raw
            + b"--"
            + boundary
            + b"--\r\n"
        )
    return head + raw
