"""Raw report objects with their versions, as the purge and the export read and change them: the port,
its S3 adapter and its in-memory twin."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Protocol

from ceip.storage.read_ahead import read_ahead
from ceip.storage.s3 import S3Bucket

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


def _version(version_id: str | None) -> str | None:
    return None if version_id in (None, _NULL_VERSION) else version_id


class S3ReportObjects(S3Bucket):
    def objects(self, prefix: str, start_after: str | None) -> Iterator[StoredObject]:
        """Group ListObjectVersions (which also lists unversioned buckets) by key, in key order."""
        # The resume point is applied here rather than as KeyMarker: moto drops the first version after a
        # KeyMarker whose object was deleted (as the purge does), and listing is cheap next to reading.
        args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
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
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
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
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/gzip")

    def delete_version(self, key: str, version: str | None) -> None:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if _version(version):
            args["VersionId"] = version
        self.client.delete_object(**args)


def _stored(entry: dict[str, Any]) -> StoredObject:
    return StoredObject(entry["key"], entry["latest"], tuple(entry["older"]), entry["has_current"])


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
        self._data.pop(key, None)
        self.deleted.add(key)

    def contents(self) -> dict[str, bytes]:
        return self._data
