"""What the ingest service needs from the outside world."""

from __future__ import annotations

from typing import Protocol


class ObjectWriter(Protocol):
    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        """Store body under key, replacing any object there; raise StorageUnavailable on failure."""
