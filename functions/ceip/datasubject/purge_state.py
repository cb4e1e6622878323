"""What a purge pass has done so far, as it is saved: the phase, the counts per machine key and the
progress record written before each change of an object (pure; stored by purge_checkpoint)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    """A pass purges every object, then verifies by re-scanning them all; both are resumable."""

    START = "start"
    """Reading pages of open requests until one received by the cutoff (resumable at the cursor); the
    requests table is not written before one is found."""
    PURGE = "purge"
    VERIFY = "verify"
    FULFIL = "fulfil"
    """Receipts written page by page: first the requests whose machines had lines found, then the rest."""


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
    """Progress of one pass; saved as the checkpoint. Its size grows with the machines found in objects,
    never with the number of requests: which requests the pass serves follows from its cutoff."""

    pass_id: str
    request_ids: list[str] = field(default_factory=list)
    """Only in a checkpoint of the earlier code, which listed the requests it had marked in progress."""
    machine_keys: list[str] = field(default_factory=list)
    last_key: str | None = None
    objects_scanned: int = 0
    counts: Counts = field(default_factory=Counts)
    phase: Phase = Phase.PURGE
    verify_last_key: str | None = None
    verify_scanned: int = 0
    remaining: Counter[str] = field(default_factory=Counter)
    verify_unreadable: int = 0
    verify_unreadable_keys: list[str] = field(default_factory=list)
    """The first unreadable objects' keys (model.MAX_UNREADABLE_KEYS), for the receipts."""
    saves: int = 0
    """Full checkpoints saved: a progress record extends the one it names."""
    since_save: Counts = field(default_factory=Counts)
    """Counts added since the last full checkpoint (what a progress record carries)."""
    in_flight: dict[str, Any] | None = None
    """The object a crashed run was changing and what it adds to the counts (from a progress record;
    never in a full checkpoint: the Purger settles it first)."""
    cutoff: str | None = None
    """The pass serves the open requests received before it (ISO); None in an earlier code's checkpoint."""
    sweep: int = 1
    """Fulfil phase: 1 writes the receipts of requests whose machines had lines found, 2 the rest."""
    cursor: str | None = None
    """Start and fulfil phases: where the page walk of open requests goes on from."""
    completed_at: str | None = None
    served: int = 0
    """Receipts written so far."""
    unverified: int = 0
    found_ids: list[str] = field(default_factory=list)
    """Ids of the served requests whose machines had lines found (as many as such machines at most)."""

    @property
    def legacy(self) -> bool:
        return self.cutoff is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "pass_id": self.pass_id,
            **({"request_ids": self.request_ids, "machine_keys": self.machine_keys} if self.legacy else {}),
            "last_key": self.last_key,
            "objects_scanned": self.objects_scanned,
            **self.counts.as_dict(),
            "phase": self.phase.value,
            "verify_last_key": self.verify_last_key,
            "verify_scanned": self.verify_scanned,
            "remaining": dict(self.remaining),
            "verify_unreadable": self.verify_unreadable,
            **(
                {"verify_unreadable_keys": self.verify_unreadable_keys} if self.verify_unreadable_keys else {}
            ),
            "saves": self.saves,
            **self._fulfil_dict(),
        }

    def _fulfil_dict(self) -> dict[str, Any]:
        if self.legacy:  # an earlier pass resumed: written back as that code wrote it
            return {}
        return {
            "cutoff": self.cutoff,
            "sweep": self.sweep,
            "cursor": self.cursor,
            "completed_at": self.completed_at,
            "served": self.served,
            "unverified": self.unverified,
            "found_ids": self.found_ids,
        }

    def found_keys(self) -> set[str]:
        """Machines with anything purged or still present: their requests are fulfilled first."""
        counts = self.counts
        return {
            k for c in (counts.rewritten, counts.removed, counts.versions_deleted, self.remaining) for k in c
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PassState:
        return cls(
            pass_id=data["pass_id"],
            request_ids=list(data.get("request_ids", [])),
            machine_keys=list(data.get("machine_keys", [])),
            last_key=data.get("last_key"),
            objects_scanned=int(data.get("objects_scanned", 0)),
            counts=Counts.from_dict(data),
            phase=Phase(data.get("phase", Phase.PURGE)),
            verify_last_key=data.get("verify_last_key"),
            verify_scanned=int(data.get("verify_scanned", 0)),
            remaining=Counter(data.get("remaining", {})),
            verify_unreadable=int(data.get("verify_unreadable", 0)),
            verify_unreadable_keys=list(data.get("verify_unreadable_keys", [])),
            saves=int(data.get("saves", 0)),
            cutoff=data.get("cutoff"),
            sweep=int(data.get("sweep", 1)),
            cursor=data.get("cursor"),
            completed_at=data.get("completed_at"),
            served=int(data.get("served", 0)),
            unverified=int(data.get("unverified", 0)),
            found_ids=list(data.get("found_ids", [])),
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
