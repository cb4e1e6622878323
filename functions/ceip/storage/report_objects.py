"""Raw report objects with their versions, and the purge checkpoint: the ports the purge and the
export need, and their S3 adapters."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from ceip.storage.read_ahead import read_ahead
from ceip.storage.s3 import s3_client

CHECKPOINT_KEY = "purge-state/checkpoint.json"
PROGRESS_KEY = "purge-state/progress.json"
_NULL_VERSION = "null"
READ_WORKERS = 8
"""Concurrent GETs of the purge's read-ahead; below the shared client's pool of 10 connections."""
READ_BATCH = 8
"""Objects per read-ahead task: amortizes the handoff between threads, and the first arrive soon."""
READ_DEPTH = 4 * READ_WORKERS
"""Batches read ahead at most (about 250 small objects in memory)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    latest_version: str | None
    """None when the bucket is not versioned."""
    noncurrent_versions: tuple[str, ...]
    has_current: bool = True
    """False when the latest version is a delete marker (only older versions hold data)."""

    @property
    def current(self) -> tuple[str | None, ...]:
        """The version that holds the object's current content: none behind a delete marker."""
        return (self.latest_version,) if self.has_current else ()


VersionsToRead = tuple[StoredObject, tuple[str | None, ...]]
"""An object and which of its versions to read (None: the current one of an unversioned bucket)."""


class ReportObjects(Protocol):
    def objects(self, prefix: str, start_after: str | None) -> Iterator[StoredObject]:
        """Objects under prefix in key order, after start_after (resume point)."""
        ...

    def read(self, key: str, version: str | None = None) -> bytes: ...

    def read_each(self, reads: Iterable[VersionsToRead]) -> Iterator[tuple[StoredObject, list[bytes]]]:
        """For each (object, versions) in the order given, the object and the bytes of those versions.

        The purge handles objects one at a time, in order; an adapter whose reads wait (S3) fetches
        ahead of it, so that the pass does not wait a round trip per object."""
        ...

    def replace(self, key: str, body: bytes) -> None:
        """Overwrite the object in one PUT: readers see the old or the new content, never a gap."""

    def delete_version(self, key: str, version: str | None) -> None:
        """Delete one version for good (or the object, when unversioned)."""


class CheckpointStore(Protocol):
    def load(self) -> dict[str, Any] | None: ...
    def save(self, state: dict[str, Any]) -> None: ...

    def load_progress(self) -> dict[str, Any] | None:
        """The progress record written since the last save (it names the save it extends), if any."""

    def save_progress(self, progress: dict[str, Any]) -> None:
        """A small record written before each change of an object, between full saves."""

    def clear(self) -> None:
        """Remove the checkpoint and the progress record."""


def _version(version_id: str | None) -> str | None:
    return None if version_id in (None, _NULL_VERSION) else version_id


class S3ReportObjects:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or s3_client()

    def objects(self, prefix: str, start_after: str | None) -> Iterator[StoredObject]:
        """Group ListObjectVersions (which also lists unversioned buckets) by key, in key order."""
        # The resume point is applied here rather than as KeyMarker: moto drops the first version after a
        # KeyMarker whose object was deleted (as the purge does), and listing is cheap next to reading.
        args: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix}
        current: dict[str, Any] | None = None
        for page in self.client.get_paginator("list_object_versions").paginate(**args):
            entries = [(v, False) for v in page.get("Versions", [])]
            entries += [(m, True) for m in page.get("DeleteMarkers", [])]
            entries.sort(key=lambda e: (e[0]["Key"], not e[0]["IsLatest"]))
            for entry, is_marker in entries:
                if start_after is not None and entry["Key"] <= start_after:
                    continue
                if current is None or current["key"] != entry["Key"]:
                    if current is not None:
                        yield _stored(current)
                    current = {"key": entry["Key"], "latest": None, "has_current": False, "older": []}
                if entry["IsLatest"]:
                    current["has_current"] = not is_marker
                    if not is_marker:
                        current["latest"] = _version(entry.get("VersionId"))
                elif not is_marker:
                    current["older"].append(entry["VersionId"])
        if current is not None:
            yield _stored(current)

    def read(self, key: str, version: str | None = None) -> bytes:
        args: dict[str, Any] = {"Bucket": self._bucket, "Key": key}
        if _version(version):
            args["VersionId"] = version
        data: bytes = self.client.get_object(**args)["Body"].read()
        return data

    def read_each(self, reads: Iterable[VersionsToRead]) -> Iterator[tuple[StoredObject, list[bytes]]]:
        """GETs run on READ_WORKERS threads, a few objects per task, ahead of the caller (in order)."""

        def fetch(item: VersionsToRead) -> list[bytes]:
            stored, versions = item
            return [self.read(stored.key, version) for version in versions]

        with closing(
            read_ahead(reads, fetch, workers=READ_WORKERS, batch=READ_BATCH, depth=READ_DEPTH)
        ) as read:
            for (stored, _), bodies in read:
                yield stored, bodies

    def replace(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/gzip")

    def delete_version(self, key: str, version: str | None) -> None:
        args: dict[str, Any] = {"Bucket": self._bucket, "Key": key}
        if _version(version):
            args["VersionId"] = version
        self.client.delete_object(**args)


def _stored(entry: dict[str, Any]) -> StoredObject:
    return StoredObject(entry["key"], entry["latest"], tuple(entry["older"]), entry["has_current"])


class S3Checkpoint:
    """The purge checkpoint (request ids, machine keys, the last key done, counts) and the small progress
    record written between its saves. No GUIDs, no report content."""

    def __init__(
        self, bucket: str, client: Any = None, key: str = CHECKPOINT_KEY, progress_key: str = PROGRESS_KEY
    ) -> None:
        self._bucket = bucket
        self._client = client
        self._key = key
        self._progress_key = progress_key

    @property
    def client(self) -> Any:
        return self._client or s3_client()

    def load(self) -> dict[str, Any] | None:
        return self._get(self._key)

    def save(self, state: dict[str, Any]) -> None:
        self._put(self._key, state)

    def load_progress(self) -> dict[str, Any] | None:
        return self._get(self._progress_key)

    def save_progress(self, progress: dict[str, Any]) -> None:
        self._put(self._progress_key, progress)

    def clear(self) -> None:
        # The checkpoint first: a progress record without it is ignored (it names a pass that is over).
        self.client.delete_object(Bucket=self._bucket, Key=self._key)
        self.client.delete_object(Bucket=self._bucket, Key=self._progress_key)

    def _get(self, key: str) -> dict[str, Any] | None:
        try:
            body = self.client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        loaded: dict[str, Any] = json.loads(body)
        return loaded

    def _put(self, key: str, record: dict[str, Any]) -> None:
        self.client.put_object(
            Bucket=self._bucket, Key=key, Body=json.dumps(record).encode(), ContentType="application/json"
        )
