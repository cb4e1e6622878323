"""What the benchmarks run ceip's services on beyond the ports' own in-memory twins: no moto, no network.

WRITER is the ingest benchmarks' S3ObjectWriter twin; MemoryDynamoDB stands in for the suppression
table's boto3 client (so SuppressionLookup's own code runs); DirectorySource and DirectoryStore for the
aggregation's buckets, as a local directory (a different resource from the in-memory twins).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ceip.storage.s3 import MemoryObjectWriter

WRITER = MemoryObjectWriter()
"""Where the benchmarks' swapped ingest composition root stores objects (S3ObjectWriter's twin)."""


class MemoryDynamoDB:
    """The one DynamoDB call SuppressionLookup makes, BatchGetItem, answered from a set of keys."""

    def __init__(self, keys: set[str], attribute: str) -> None:
        self._keys = keys
        self._attribute = attribute

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
