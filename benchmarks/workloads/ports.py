"""In-memory and local-directory ports the benchmarks run ceip's services on: no moto, no network.

MemoryWriter and MemoryDynamoDB stand in for ingest's S3 writer and the suppression table's client;
MemoryReportObjects, MemoryCheckpoints and MemoryRequests for the purge's ports; DirectorySource and
DirectoryStore for the aggregation's bucket, as a local directory.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from ceip.datasubject.model import ErasureRequest, Receipt, RequestStatus
from ceip.storage.report_objects import StoredObject, VersionsToRead


class MemoryWriter:
    """Stands in for S3ObjectWriter: same constructor and put(), objects kept in a class-level dict."""

    objects: ClassVar[dict[tuple[str, str], bytes]] = {}

    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        self.objects[(self._bucket, key)] = body


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


class MemoryReportObjects:
    """ReportObjects over a dict, unversioned (as S3ReportObjects sees a bucket without versioning).

    Listing walks the keys sorted at construction, skipping deleted ones, so the purge may replace and
    delete while it lists, as it does against S3.
    """

    def __init__(self, objects: dict[str, bytes]) -> None:
        self._data = dict(objects)
        self._keys = sorted(self._data)
        self.replaced: set[str] = set()
        self.deleted: set[str] = set()

    def objects(self, prefix: str, start_after: str | None) -> Iterator[StoredObject]:
        first = bisect.bisect_right(self._keys, start_after) if start_after else 0
        first = max(first, bisect.bisect_left(self._keys, prefix))
        for key in self._keys[first:]:
            if not key.startswith(prefix):
                return
            if key in self._data:
                yield StoredObject(key, None, ())

    def read(self, key: str, version: str | None = None) -> bytes:
        if version is not None:
            raise KeyError(f"unversioned store: no version {version} of {key}")
        return self._data[key]

    def read_each(self, reads: Iterable[VersionsToRead]) -> Iterator[tuple[StoredObject, list[bytes]]]:
        """In order and inline: a read here does not wait, so there is nothing to fetch ahead."""
        for stored, versions in reads:
            yield stored, [self.read(stored.key, version) for version in versions]

    def replace(self, key: str, body: bytes) -> None:
        if key not in self._data:
            bisect.insort(self._keys, key)
        self._data[key] = body
        self.replaced.add(key)

    def delete_version(self, key: str, version: str | None) -> None:
        if version is not None:
            raise KeyError(f"unversioned store: no version {version} of {key}")
        del self._data[key]
        self.deleted.add(key)

    def contents(self) -> dict[str, bytes]:
        return self._data


def _parsed(body: bytes | None) -> dict[str, Any] | None:
    if body is None:
        return None
    loaded: dict[str, Any] = json.loads(body)
    return loaded


class MemoryCheckpoints:
    """CheckpointStore holding the JSON body S3Checkpoint would PUT (so the serialization is timed)."""

    def __init__(self) -> None:
        self._body: bytes | None = None
        self._progress: bytes | None = None
        self.saves = 0
        self.saved_bytes = 0
        self.progress_saves = 0

    def load(self) -> dict[str, Any] | None:
        return _parsed(self._body)

    def save(self, state: dict[str, Any]) -> None:
        self._body = json.dumps(state).encode()
        self.saves += 1
        self.saved_bytes += len(self._body)

    def load_progress(self) -> dict[str, Any] | None:
        return _parsed(self._progress)

    def save_progress(self, progress: dict[str, Any]) -> None:
        self._progress = json.dumps(progress).encode()
        self.progress_saves += 1

    def clear(self) -> None:
        self._body = None
        self._progress = None


class MemoryRequests:
    """RequestPort over a dict of erasure requests."""

    def __init__(self, requests: list[ErasureRequest]) -> None:
        self.by_id = {request.request_id: request for request in requests}

    def latest_request_id(self, machine_key: str) -> str | None:
        found = [r for r in self.by_id.values() if r.machine_key == machine_key]
        return max(found, key=lambda r: r.received_at).request_id if found else None

    def get(self, request_id: str) -> ErasureRequest | None:
        return self.by_id.get(request_id)

    def create(self, request: ErasureRequest, replaces: str | None) -> None:
        self.by_id[request.request_id] = request

    def open_requests(self) -> list[ErasureRequest]:
        return [request for request in self.by_id.values() if request.is_open]

    def set_status(self, request_id: str, status: RequestStatus, receipt: Receipt | None = None) -> None:
        request = self.by_id[request_id]
        self.by_id[request_id] = dataclasses.replace(
            request, status=status, receipt=receipt if receipt is not None else request.receipt
        )


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
