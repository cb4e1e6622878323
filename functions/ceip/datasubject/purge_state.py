"""What a purge pass has done so far, as it is saved: the phase, the counts per machine key and the
progress record written before each change of an object (pure; stored by purge_checkpoint)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    """A pass purges every object, then verifies by re-scanning them all; both are resumable."""

    PURGE = "purge"
    VERIFY = "verify"


@dataclass
class Counts:
    """What purging objects adds to a pass's counts, per machine key."""

    rewritten: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    versions_deleted: Counter[str] = field(default_factory=Counter)
    unreadable_objects: int = 0

    def entries(self) -> int:
        return len(self.rewritten) + len(self.removed) + len(self.versions_deleted)

    def add(self, other: Counts) -> None:
        self.rewritten.update(other.rewritten)
        self.removed.update(other.removed)
        self.versions_deleted.update(other.versions_deleted)
        self.unreadable_objects += other.unreadable_objects

    def as_dict(self) -> dict[str, Any]:
        return {
            "rewritten": dict(self.rewritten),
            "removed": dict(self.removed),
            "versions_deleted": dict(self.versions_deleted),
            "unreadable_objects": self.unreadable_objects,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Counts:
        return cls(
            Counter(data.get("rewritten", {})),
            Counter(data.get("removed", {})),
            Counter(data.get("versions_deleted", {})),
            int(data.get("unreadable_objects", 0)),
        )


NO_COUNTS = Counts()
"""Shared by every unchanged object's plan; never added to (finish_object skips it)."""


@dataclass
class PassState:
    """Progress of one pass; saved as the checkpoint."""

    pass_id: str
    request_ids: list[str]
    machine_keys: list[str]
    last_key: str | None = None
    objects_scanned: int = 0
    counts: Counts = field(default_factory=Counts)
    phase: Phase = Phase.PURGE
    verify_last_key: str | None = None
    verify_scanned: int = 0
    remaining: Counter[str] = field(default_factory=Counter)
    verify_unreadable: int = 0
    saves: int = 0
    """Full checkpoints saved: a progress record extends the one it names."""
    since_save: Counts = field(default_factory=Counts)
    """Counts added since the last full checkpoint (what a progress record carries)."""
    in_flight: dict[str, Any] | None = None
    """The object a crashed run was changing and what it adds to the counts (from a progress record;
    never in a full checkpoint: the Purger settles it first)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "pass_id": self.pass_id,
            "request_ids": self.request_ids,
            "machine_keys": self.machine_keys,
            "last_key": self.last_key,
            "objects_scanned": self.objects_scanned,
            **self.counts.as_dict(),
            "phase": self.phase.value,
            "verify_last_key": self.verify_last_key,
            "verify_scanned": self.verify_scanned,
            "remaining": dict(self.remaining),
            "verify_unreadable": self.verify_unreadable,
            "saves": self.saves,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PassState:
        return cls(
            pass_id=data["pass_id"],
            request_ids=list(data["request_ids"]),
            machine_keys=list(data["machine_keys"]),
            last_key=data.get("last_key"),
            objects_scanned=int(data.get("objects_scanned", 0)),
            counts=Counts.from_dict(data),
            phase=Phase(data.get("phase", Phase.PURGE)),
            verify_last_key=data.get("verify_last_key"),
            verify_scanned=int(data.get("verify_scanned", 0)),
            remaining=Counter(data.get("remaining", {})),
            verify_unreadable=int(data.get("verify_unreadable", 0)),
            saves=int(data.get("saves", 0)),
        )

    def progress(self, key: str, counts: Counts) -> dict[str, Any]:
        """The progress record written before `key` is changed: everything since the last full save."""
        return {
            "pass_id": self.pass_id,
            "base": self.saves,
            "last_key": self.last_key,
            "objects_scanned": self.objects_scanned,
            "since_save": self.since_save.as_dict(),
            "in_flight": {"key": key, **counts.as_dict()},
        }

    def catch_up(self, progress: dict[str, Any] | None) -> None:
        """Apply a progress record written after the last full checkpoint of this pass, if there is one."""
        if progress is None or progress.get("pass_id") != self.pass_id or progress.get("base") != self.saves:
            return
        self.last_key = progress["last_key"]
        self.objects_scanned = int(progress["objects_scanned"])
        since = Counts.from_dict(progress["since_save"])
        self.counts.add(since)
        self.since_save.add(since)
        self.in_flight = progress["in_flight"]

    def finish_object(self, key: str, counts: Counts) -> None:
        if counts is not NO_COUNTS:
            self.counts.add(counts)
            self.since_save.add(counts)
        self.objects_scanned += 1
        self.last_key = key
        self.in_flight = None
