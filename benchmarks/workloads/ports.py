"""What the benchmarks run ceip's services on beyond the ports' own in-memory twins: no moto, no network.

WRITER is the ingest benchmarks' S3ObjectWriter twin; MemoryDynamoDB stands in for the suppression
table's boto3 client (so SuppressionLookup's and read_key_set's own code runs); DirectorySource and
DirectoryStore for the aggregation's buckets, as a local directory (a different resource from the
in-memory twins).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ceip.storage.s3 import MemoryObjectWriter

WRITER = MemoryObjectWriter()
"""Where the benchmarks' swapped ingest composition root stores objects (S3ObjectWriter's twin)."""


SCAN_PAGE_ITEMS = 6_500
"""Suppression entries in one Scan page: DynamoDB stops a page at 1 MB read, and an entry (machine key,
request id, suppressed_at and their names) is about 150 bytes."""


class MemoryDynamoDB:
    """The DynamoDB calls the suppression list's readers make, answered from a set of keys: BatchGetItem
    (SuppressionLookup) and the Scan paginator (read_key_set), in pages as large as DynamoDB's."""

    def __init__(self, keys: set[str], attribute: str, page_items: int = SCAN_PAGE_ITEMS) -> None:
        self._keys = keys
        self._attribute = attribute
        self._page_items = page_items
        # In the order a Scan returns them, each a string of its own laid out beside the next, as a parsed
        # page's are (read from all over a large heap, a page would time the heap's cache misses).
        self._scanned = [key.encode().decode() for key in keys]

    def get_paginator(self, operation: str) -> MemoryDynamoDB:
        if operation != "scan":
            raise ValueError(f"no paginator for {operation}")
        return self

    def paginate(self, **_: Any) -> Iterator[dict[str, Any]]:
        """Scan pages of the whole table, built as botocore hands them over: one dict per item, and a
        string of its own per key (what the reader keeps is then its own memory, as in Lambda)."""
        keys = self._scanned
        for start in range(0, len(keys), self._page_items):
            page = keys[start : start + self._page_items]
            items = [{self._attribute: {"S": key.encode().decode()}} for key in page]
            yield {"Items": items, "Count": len(items)}

    def batch_get_item(self, *, RequestItems: dict[str, Any]) -> dict[str, Any]:
        responses = {
            table: [item for item in request["Keys"] if item[self._attribute]["S"] in self._keys]
            for table, request in RequestItems.items()
        }
        return {"Responses": responses, "UnprocessedKeys": {}}


class DirectorySource:
    """The reports bucket as a directory: keys are paths relative to it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def list_keys(self, prefix: str) -> list[str]:
        # os.walk, not Path.rglob: listing stands in for ten ListObjectsV2 pages, not for pathlib.
        base = self.root / prefix
        found: list[str] = []
        for folder, _, names in os.walk(base):
            relative = os.path.relpath(folder, self.root)
            found.extend(f"{relative}/{name}" for name in names)
        return sorted(found)

    def get(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()  # read as the floor reads; a missing key is None
        except FileNotFoundError:
            return None


class DirectoryStore(DirectorySource):
    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            (self.root / key).unlink(missing_ok=True)
