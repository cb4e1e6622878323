"""Machine GUIDs in stored report objects (inflated NDJSON), found without parsing JSON (pure).

Stored lines are canonical JSON (sorted keys, no spaces, GUIDs in lower case) and carry no free text,
so the field's name followed by a GUID and its closing quote is exactly the machine_id field of a line.
A slice that is not a GUID (a broken line) is never a suppressed machine's, in both functions below.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Protocol

GUID = rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
MACHINE_ID_FIELD = b'"machine_id":"'
_MACHINE_ID = re.compile(re.escape(MACHINE_ID_FIELD) + b"(" + GUID + b')"')
_QUOTED_GUID = re.compile(GUID + b'"')
QUOTED_GUID_LENGTH = 37
"""A GUID and the quote that closes its value: what follows the field's name in a line."""
VERDICT_CACHE_SIZE = 500_000
"""GUIDs whose answer is remembered (about 100 bytes each); past it the memory starts over."""


class KeyLookup(Protocol):
    """Membership of machine keys (hex HMACs): a frozenset[str], or the purge's compact MachineKeySet."""

    def __contains__(self, key: object, /) -> bool: ...
    def __len__(self) -> int: ...


Line = tuple[bytes, str | None]
"""A line (with its newline, if it has one) and its machine's key when that machine is suppressed."""


def candidates(data: bytes) -> set[bytes]:
    """What follows each machine_id field name, as long as a GUID and its closing quote, once each.

    Splitting on the field's name is cheaper than a regular expression over every line."""
    return {piece[:QUOTED_GUID_LENGTH] for piece in data.split(MACHINE_ID_FIELD)[1:]}


def guid_of(candidate: bytes) -> str | None:
    """The GUID a candidate holds, or None when it is none (broken, upper case, cut short)."""
    return candidate[:-1].decode() if _QUOTED_GUID.fullmatch(candidate) else None


def split_lines(
    data: bytes, key_of: Callable[[str], str], suppressed_keys: KeyLookup
) -> tuple[list[Line], Counter[str]]:
    """Each line with its machine's key if that machine is suppressed, and those keys' line counts.

    Costs a regular expression and a keyed hash per line: call it where SuppressedGuids said yes."""
    hits: Counter[str] = Counter()
    lines: list[Line] = []
    for line in data.splitlines(keepends=True):
        match = _MACHINE_ID.search(line)
        key = key_of(match.group(1).decode()) if match else None
        if key is not None and key in suppressed_keys:
            hits[key] += 1
            lines.append((line, key))
        else:
            lines.append((line, None))
    return lines, hits


class SuppressedGuids:
    """Whether an object holds a line of a suppressed machine: the common answer, no, without splitting
    lines. Every object is asked, twice a pass, so the answer per GUID is remembered (as its bytes: no
    decoding, no keyed hash the second time)."""

    def __init__(
        self, key_of: Callable[[str], str], suppressed_keys: KeyLookup, size: int = VERDICT_CACHE_SIZE
    ) -> None:
        self._key_of = key_of
        self._keys = suppressed_keys
        self._none = not suppressed_keys  # asked once: a MachineKeySet's len() is a Python call
        self._size = size
        self._verdicts: dict[bytes, bool] = {}

    def any_in(self, data: bytes) -> bool:
        if self._none:
            return False
        verdicts = self._verdicts
        for candidate in candidates(data):
            verdict = verdicts.get(candidate)
            if verdict is None:
                if len(verdicts) >= self._size:
                    verdicts.clear()
                verdict = verdicts[candidate] = self._suppressed(candidate)
            if verdict:
                return True
        return False

    def _suppressed(self, candidate: bytes) -> bool:
        guid = guid_of(candidate)
        return guid is not None and self._key_of(guid) in self._keys
