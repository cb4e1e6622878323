"""What the purge needs from storage: raw report objects (with versions) and a checkpoint."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol


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
