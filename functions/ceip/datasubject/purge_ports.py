"""What the purge needs from storage: raw report objects (with versions) and a checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
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


class ReportObjects(Protocol):
    def objects(self, prefix: str, start_after: str | None) -> Iterator[StoredObject]:
        """Objects under prefix in key order, after start_after (resume point)."""
        ...

    def read(self, key: str, version: str | None = None) -> bytes: ...

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
