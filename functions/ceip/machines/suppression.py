"""The suppression list: keyed hashes of machines whose data must no longer be kept.

The port (SuppressionCheck) and two adapters, one per access pattern:
- SuppressionLookup: one BatchGetItem for the (at most 100) machines of an ingest request;
- SuppressionSnapshot: every key at once (a Scan), for aggregation, which asks about hundreds of
  thousands of machines;
- read_key_set: every key at once for the purge, read page by page: a frozenset while few, a
  MachineKeySet (16 bytes a key) past SMALL_SET_KEYS,
  so ten million erasures fit the function (160 MB).
Both answer `suppressed(machine_ids) -> subset` and never hold or log a GUID beyond the call; so does
the in-memory twin, MemorySuppression.
"""

from __future__ import annotations

import bisect
import operator
import time
from collections.abc import Collection, Iterable, Sequence
from functools import cache
from typing import Any, Protocol

import boto3
import numpy as np
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ceip.machines.machine_key import MachineKeyer
from ceip.runtime.lazy_client import LazyClient

KEY_ATTRIBUTE = "machine_key"
_BATCH_GET_LIMIT = 100
_UNPROCESSED_RETRIES = 3
# Ingest's worst case (secret + suppression + S3, each timing out on every attempt) stays under the
# function timeout, so a slow dependency gives the client 503 + Retry-After, not a gateway timeout.
_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2})


class SuppressionUnavailable(Exception):
    """The list could not be read: callers must not store (ingest) or must stop (purge)."""


class SuppressionCheck(Protocol):
    def suppressed(self, machine_ids: Collection[str]) -> set[str]:
        """The machines among machine_ids (canonical GUIDs) whose data must not be kept (people who
        asked to be erased); raise SuppressionUnavailable when the list cannot be read."""


@cache
def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=_CONFIG)


class SuppressionLookup(LazyClient):
    """Ingest's check: one BatchGetItem per request (a batch holds at most 100 distinct machines)."""

    client_factory = staticmethod(dynamodb_client)

    def __init__(self, table: str, keyer: MachineKeyer, client: Any = None) -> None:
        super().__init__(client)
        self._table = table
        self._keyer = keyer

    def suppressed(self, machine_ids: Collection[str]) -> set[str]:
        by_key = {self._keyer.key(m): m for m in set(machine_ids)}
        found: set[str] = set()
        keys = list(by_key)
        for start in range(0, len(keys), _BATCH_GET_LIMIT):
            found |= self._batch_get(keys[start : start + _BATCH_GET_LIMIT])
        return {by_key[k] for k in found}

    def _batch_get(self, keys: list[str]) -> set[str]:
        client = self.client
        request: dict[str, Any] = {
            self._table: {
                "Keys": [{KEY_ATTRIBUTE: {"S": k}} for k in keys],
                "ProjectionExpression": KEY_ATTRIBUTE,
                "ConsistentRead": True,
            }
        }
        found: set[str] = set()
        for attempt in range(_UNPROCESSED_RETRIES + 1):
            try:
                response = client.batch_get_item(RequestItems=request)
            except (ClientError, BotoCoreError) as error:
                raise SuppressionUnavailable(type(error).__name__) from error
            found |= {item[KEY_ATTRIBUTE]["S"] for item in response.get("Responses", {}).get(self._table, [])}
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return found
            time.sleep(0.05 * 2**attempt)
        raise SuppressionUnavailable("UnprocessedKeys")


def scan_keys(table: str, client: Any = None) -> frozenset[str]:
    """Every suppressed machine key (small: one entry per erased machine)."""
    client = client or dynamodb_client()
    keys: set[str] = set()
    try:
        for page in client.get_paginator("scan").paginate(
            TableName=table, ProjectionExpression=KEY_ATTRIBUTE, ConsistentRead=True
        ):
            keys.update(item[KEY_ATTRIBUTE]["S"] for item in page.get("Items", []))
    except (ClientError, BotoCoreError) as error:
        raise SuppressionUnavailable(type(error).__name__) from error
    return frozenset(keys)


class MachineKeySet:
    """Machine keys held as their first 16 bytes (of 32), sorted: 16 bytes a key, whatever their number.

    Two different keys share their first 128 bits with odds 2^-128 per pair: for 10 million erasures and
    a day's million machines, about 3e-26 that any innocent machine is mistaken for an erased one.
    """

    BYTES_PER_KEY = 16

    def __init__(self, packed: bytes | bytearray = b"") -> None:
        """`packed`: the keys' 16-byte prefixes laid end to end, in any order."""
        pairs = np.frombuffer(bytes(packed), dtype=">u8").reshape(-1, 2)
        hi, lo = pairs[:, 0].astype(np.uint64), pairs[:, 1].astype(np.uint64)
        order = np.lexsort((lo, hi))
        self._hi: np.ndarray[Any, np.dtype[np.uint64]] = hi[order]
        self._lo: np.ndarray[Any, np.dtype[np.uint64]] = lo[order]
        # The same arrays read as Python ints: one key's lookup bisects them without a numpy call per
        # step (a third of the time of searchsorted on a scalar; the purge asks once per machine).
        self._hi_ints: memoryview = self._hi.data
        self._lo_ints: memoryview = self._lo.data

    @classmethod
    def of(cls, keys: Iterable[str]) -> MachineKeySet:
        return cls(_prefixes(list(keys)))

    @property
    def nbytes(self) -> int:
        """Memory held by the keys (the arrays' buffers)."""
        return int(self._hi.nbytes + self._lo.nbytes)

    def __len__(self) -> int:
        return len(self._hi)

    def __contains__(self, key: object, /) -> bool:
        if not isinstance(key, str) or len(key) != 64:
            return False
        try:
            raw = bytes.fromhex(key)
        except ValueError:
            return False
        if len(raw) != 32:  # fromhex skips whitespace
            return False
        hi, lo = int.from_bytes(raw[:8]), int.from_bytes(raw[8:16])
        his, los = self._hi_ints, self._lo_ints
        index = bisect.bisect_left(his, hi)
        while index < len(his) and his[index] == hi:
            if los[index] == lo:
                return True
            index += 1
        return False

    def contains_each(self, keys: Sequence[str]) -> list[bool]:
        """Membership of many keys at once (a page of requests), vectorized."""
        return [key in self for key in keys] if len(keys) < 8 else self._vector(keys)

    def _vector(self, keys: Sequence[str]) -> list[bool]:
        try:
            packed = _prefixes(keys)
        except ValueError:  # a page holding something that is no machine key (never written by ceip)
            return [key in self for key in keys]
        size = len(self._hi)
        if not size:
            return [False] * len(keys)
        pairs = np.frombuffer(packed, dtype=">u8").reshape(-1, 2)
        hi, lo = pairs[:, 0].astype(np.uint64), pairs[:, 1].astype(np.uint64)
        # One search per key, the keys in order: numpy starts each search where the last one ended, which
        # saves two thirds of the cache misses of a million-key set.
        order = np.argsort(hi)
        first = np.empty(len(keys), dtype=np.intp)
        first[order] = self._hi.searchsorted(hi[order])
        at = np.minimum(first, size - 1)
        same_hi = (first < size) & (self._hi[at] == hi)
        found = same_hi & (self._lo[at] == lo)
        # Keys sharing their first 64 bits (rare): the rest of that run is looked through one by one.
        after = np.minimum(at + 1, size - 1)
        for index in np.flatnonzero(same_hi & ~found & (at + 1 < size) & (self._hi[after] == hi)):
            end = int(self._hi.searchsorted(hi[index], "right"))
            found[index] = bool((self._lo[first[index] : end] == lo[index]).any())
        result: list[bool] = found.tolist()
        return result


def _prefixes(keys: Sequence[str]) -> bytes:
    """The keys' first 16 bytes end to end; ValueError when one is not a 64-digit hex HMAC."""
    return _first_halves(_key_bytes(keys))


def _key_bytes(keys: Sequence[str]) -> bytes:
    """The keys' 32 bytes end to end, converted in a few calls over the whole page (key by key, a
    million-key set would cost three times as much); ValueError when one is not a 64-digit hex HMAC."""
    if not keys:
        return b""
    if set(map(len, keys)) != {64}:
        raise ValueError("not a machine key")
    whole = bytes.fromhex("".join(keys))
    if len(whole) != 32 * len(keys):  # fromhex skips whitespace: the keys would slide
        raise ValueError("not a machine key")
    return whole


def _first_halves(whole: bytes | bytearray) -> bytes:
    return np.frombuffer(whole, dtype=np.uint8).reshape(-1, 32)[:, : MachineKeySet.BYTES_PER_KEY].tobytes()


_KEY, _STRING = operator.itemgetter(KEY_ATTRIBUTE), operator.itemgetter("S")
"""An item's machine key, unwrapped from DynamoDB's typed value (a C loop over a page's items)."""

SMALL_SET_KEYS = 1_000_000
"""Up to this many erasures the purge holds the keys as a frozenset of strings (about 150 bytes a key,
150 MB at the limit; a lookup costs tens of nanoseconds, and the purge asks once per distinct machine and
once per line of a hit object); past it, a MachineKeySet (16 bytes a key, a lookup in microseconds)."""


def read_key_set(
    table: str, client: Any = None, small_set_keys: int = SMALL_SET_KEYS
) -> frozenset[str] | MachineKeySet:
    """Every suppressed machine key, read page by page (a Scan): a frozenset while there are few, else a
    MachineKeySet, so memory stays bounded (ADR 0012) and the common case keeps set-speed lookups."""
    client = client or dynamodb_client()
    whole: bytearray | None = bytearray()
    """While few: each key's 32 bytes (a fifth of the memory of its string), made strings at the end."""
    packed = bytearray()
    """Past the limit: each key's first 16 bytes."""
    count = 0
    try:
        for page in client.get_paginator("scan").paginate(
            TableName=table, ProjectionExpression=KEY_ATTRIBUTE, ConsistentRead=True
        ):
            raw = _key_bytes(list(map(_STRING, map(_KEY, page.get("Items", [])))))  # checks every key
            count += len(raw) // 32
            if whole is None:
                packed += _first_halves(raw)
                continue
            whole += raw
            if count > small_set_keys:  # too many to hold as strings: the packed prefixes serve
                packed += _first_halves(whole)
                whole = None
    except (ClientError, BotoCoreError) as error:
        raise SuppressionUnavailable(type(error).__name__) from error
    if whole is None:
        return MachineKeySet(packed)
    hexed = whole.hex()  # the keys as the keyer writes them: lower-case hex
    return frozenset(hexed[start : start + 64] for start in range(0, len(hexed), 64))


class SuppressionSnapshot:
    """All keys read once; answers any number of questions without further calls."""

    def __init__(self, keys: Iterable[str], keyer: MachineKeyer) -> None:
        self.keys = frozenset(keys)
        self._keyer = keyer

    def suppressed(self, machine_ids: Collection[str]) -> set[str]:
        if not self.keys:
            return set()
        return {m for m in machine_ids if self._keyer.key(m) in self.keys}

    def is_suppressed(self, machine_id: str) -> bool:
        return bool(self.keys) and self._keyer.key(machine_id) in self.keys


class MemorySuppression:
    """SuppressionCheck over a set of GUIDs (no keyed hashes); remembers what it was last asked about."""

    def __init__(self, machine_ids: Collection[str] = ()) -> None:
        self.machine_ids = set(machine_ids)
        self.asked: set[str] = set()

    def suppressed(self, machine_ids: Collection[str]) -> set[str]:
        self.asked = set(machine_ids)
        return self.machine_ids & self.asked
