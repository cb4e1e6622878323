"""What aggregation needs from the outside world: report objects in, table files out, suppression."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol


class ReportSource(Protocol):
    def list_keys(self, prefix: str) -> list[str]:
        """Every object key under prefix, in key order."""

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when it vanished since listing; raise on any other failure."""


class AggregateStore(Protocol):
    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        """Store body under key, replacing any object there."""

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""

    def list_keys(self, prefix: str) -> list[str]:
        """Every object key under prefix."""

    def delete(self, keys: Sequence[str]) -> None:
        """Delete these keys (absent ones are fine)."""


class SuppressionFilter(Protocol):
    def suppressed(self, machine_ids: Collection[str]) -> set[str]:
        """The subset of machine_ids whose reports must be left out (people who asked to be erased)."""


class NoSuppression:
    """Until the data-subject requests feature provides the list, no machine is suppressed."""

    def suppressed(self, machine_ids: Collection[str]) -> set[str]:
        return set()
