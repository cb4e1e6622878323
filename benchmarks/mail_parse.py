"""Parsing inbound mail at its limits: the worst shapes a sender can choose within the default limits
(size, MIME parts, nesting), and one far past them, against the floor of a plain message of the
largest size.

The targets (issue 17): a message at the limits is parsed well inside PrivacyFunction's 60 s timeout.
Lambda at 512 MB is about seven times slower than this machine (50k tiny parts took ~60 s there and
~8 s here before the limits), so the worst case here must stay <= 3 s (about 21 s there) and <= 10x
the floor; the 50k-part message, past the part limit, is filed from its headers in <= 0.5 s.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from benchmarks.harness import Check, interleave, median, paired_ratio, seconds
from benchmarks.render import Section, machine_line, markdown_table
from benchmarks.workloads import mime_messages
from ceip.privacy.mail import parse
from ceip.privacy.mime_limits import Limits

ROUNDS = 3
WORST_SECONDS = 3.0
WORST_RATIO = 10.0
PAST_LIMIT_SECONDS = 0.5
LIMITS = Limits()
SIZE = LIMITS.max_bytes - 4096
HEAD = (
    b"From: jane.doe@example.net\r\nTo: privacy@example.com\r\nSubject: Please delete my data\r\n"
    b"Message-ID: <bench-1@mail.example.net>\r\nMIME-Version: 1.0\r\n"
)
LINE = b"Please delete all of my data, and tell me which data you keep about me.\r\n"


def _fill(size: int, line: bytes = LINE) -> bytes:
    return line * max(0, size // len(line))


def plain(size: int = SIZE) -> bytes:
    return HEAD + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + _fill(size - 300)


def parts(count: int, size: int) -> bytes:
    each = max(0, (size - 300) // count - 40)
    return mime_messages.multipart(count, head=HEAD, body=_fill(each) + b"x")


def nested(depth: int, size: int = SIZE) -> bytes:
    return mime_messages.nested(depth, head=HEAD, body=_fill(size - 2000))


def html(size: int = SIZE) -> bytes:
    body = _fill(size - 300, b"<div><p>Please <b>delete</b> my data</p></div>\r\n")
    return HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + body


def attachment(size: int = SIZE) -> bytes:
    data = base64.encodebytes(b"\x00" * int((size - 600) * 0.74))
    return (
        HEAD
        + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        + b"Please delete my data.\r\n--b\r\nContent-Type: application/pdf\r\n"
        + b"Content-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + data
        + b"--b--\r\n"
    )


def dash_lines(size: int = SIZE) -> bytes:
    """Millions of short lines that start like delimiters: the most lines and scan matches per byte."""
    body = b"--x\r\n" * ((size - 400) // 5)
    return (
        (HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n')
        + body
        + b"--b--\r\n"
    )


SHAPES: dict[str, Callable[[], bytes]] = {
    f"{LIMITS.max_parts} tiny parts (the part limit)": lambda: parts(LIMITS.max_parts, 20_000),
    f"{LIMITS.max_parts} parts filling the size limit": lambda: parts(LIMITS.max_parts, SIZE),
    f"{LIMITS.max_depth} nested multiparts at the size limit": lambda: nested(LIMITS.max_depth),
    "one HTML body at the size limit": html,
    "one base64 attachment at the size limit": attachment,
    "delimiter-like short lines at the size limit": dash_lines,
}
PAST = "50,000 tiny parts, 1.7 MB (past the part limit)"


def _timed(raw: bytes) -> Callable[[], float]:
    return lambda: seconds(lambda: parse(raw))


def _size(raw: bytes) -> str:
    return f"{len(raw) / 1e6:.1f} MB" if len(raw) >= 100_000 else f"{len(raw) / 1e3:.0f} kB"


def run() -> Section:
    floor_raw = plain()
    messages = {label: build() for label, build in SHAPES.items()}
    past_raw = parts(50_000, 1_750_000)
    assert parse(past_raw).defects == ("TooManyMimeParts",)
    assert all(not parse(raw).defects for raw in messages.values()), "a shape passed a limit"
    steps = [_timed(raw) for raw in (floor_raw, *messages.values(), past_raw)]
    interleave(1, *steps)  # warm-up
    floor_runs, *shape_runs, past_runs = interleave(ROUNDS, *steps)
    rows = [
        (
            "floor: plain text at the size limit",
            _size(floor_raw),
            f"{median(floor_runs):.2f}",
            "1.00",
        )
    ]
    worst_seconds = worst_ratio = 0.0
    for (label, raw), runs in zip(messages.items(), shape_runs, strict=True):
        ratio = paired_ratio(runs, floor_runs)
        worst_seconds, worst_ratio = max(worst_seconds, median(runs)), max(worst_ratio, ratio)
        rows.append((label, _size(raw), f"{median(runs):.2f}", f"{ratio:.2f}"))
    rows.append((PAST, _size(past_raw), f"{median(past_runs):.3f}", "headers only"))
    checks = (
        Check("worst shape within the limits, median (s)", worst_seconds, WORST_SECONDS, True),
        Check("worst shape within the limits, x the floor", worst_ratio, WORST_RATIO, True),
        Check("50,000 parts past the limit, median (s)", median(past_runs), PAST_LIMIT_SECONDS, True),
    )
    table = markdown_table(("Message", "Size", f"Median of {ROUNDS} (s)", "x floor"), rows)
    checks_text = "\n".join(f"- {c.describe()}" for c in checks)
    markdown = f"""## Parsing inbound mail at its limits

{machine_line()}

`ceip.privacy.mail.parse` with the default limits ({LIMITS.max_bytes:,} bytes, {LIMITS.max_parts} MIME
parts, nesting {LIMITS.max_depth}) on the worst shapes a sender can choose within them, {ROUNDS} rounds
interleaved with the floor (a plain text message of the largest size), ratios the median of per-round
ratios. Rerun with `.venv/bin/python -m benchmarks mail-parse`. Before the limits, 50,000 tiny parts
took about 8 s here and 60 s in Lambda (about seven times slower than this machine at 512 MB), so the
target is <= {WORST_SECONDS:.0f} s here for the worst shape (about 21 s in Lambda, inside its 60 s) and
<= {WORST_RATIO:.0f}x the floor. Bodies are cut to their kept length before cleaning and HTML
conversion (10 MB of HTML took 6.2 s to convert in full).

{table}

{checks_text}
"""
    return Section("mail-parse", markdown, table, checks)
