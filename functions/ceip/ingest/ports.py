"""What the ingest service needs from the outside world."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol


class ObjectWriter(Protocol):
    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        """Store body under key, replacing any object there; raise StorageUnavailable on failure."""


class SuppressionCheck(Protocol):
    def suppressed(self, machine_ids: Collection[str]) -> set[str]:
        """The machines among machine_ids (canonical GUIDs) whose data must not be kept."""
