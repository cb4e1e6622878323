"""Purge: rewrite raw report objects without the lines of suppressed machines, and issue receipts.

One pass over the data serves every pending request. The pass is resumable (a checkpoint after each
batch of objects) and idempotent (a second run finds nothing to remove). A verification re-scan of
every object, current and noncurrent versions, must find zero lines of each machine before its
request is marked fulfilled.
"""

from __future__ import annotations

import gzip
import re
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ceip.datasubject.machine_key import MachineKeyer
from ceip.datasubject.model import ErasureRequest, Receipt, RequestStatus, iso
from ceip.datasubject.ports import RequestPort
from ceip.datasubject.purge_ports import CheckpointStore, ReportObjects, StoredObject
from ceip.storage.keys import REPORTS_PREFIX

# Stored lines are canonical JSON (sorted keys, no spaces) and carry no free text, so this pattern
# finds exactly the machine_id field of each line.
_MACHINE_ID = re.compile(rb'"machine_id":"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"')
CHECKPOINT_SECONDS = 2.0
"""Progress is saved at most this often (and always when stopping for the deadline): a crash may lose
the counts of the last seconds' changes, never a change itself (the rerun finds nothing to redo)."""


@dataclass
class PassState:
    """Progress of one pass; saved as the checkpoint."""

    pass_id: str
    request_ids: list[str]
    machine_keys: list[str]
    last_key: str | None = None
    objects_scanned: int = 0
    rewritten: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    versions_deleted: Counter[str] = field(default_factory=Counter)
    unreadable_objects: int = 0
    phase: str = "purge"
    """"purge", then "verify": the re-scan is resumable too."""
    verify_last_key: str | None = None
    verify_scanned: int = 0
    remaining: Counter[str] = field(default_factory=Counter)
    verify_unreadable: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pass_id": self.pass_id,
            "request_ids": self.request_ids,
            "machine_keys": self.machine_keys,
            "last_key": self.last_key,
            "objects_scanned": self.objects_scanned,
            "rewritten": dict(self.rewritten),
            "removed": dict(self.removed),
            "versions_deleted": dict(self.versions_deleted),
            "unreadable_objects": self.unreadable_objects,
            "phase": self.phase,
            "verify_last_key": self.verify_last_key,
            "verify_scanned": self.verify_scanned,
            "remaining": dict(self.remaining),
            "verify_unreadable": self.verify_unreadable,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PassState:
        return cls(
            pass_id=data["pass_id"],
            request_ids=list(data["request_ids"]),
            machine_keys=list(data["machine_keys"]),
            last_key=data.get("last_key"),
            objects_scanned=int(data.get("objects_scanned", 0)),
            rewritten=Counter(data.get("rewritten", {})),
            removed=Counter(data.get("removed", {})),
            versions_deleted=Counter(data.get("versions_deleted", {})),
            unreadable_objects=int(data.get("unreadable_objects", 0)),
            phase=str(data.get("phase", "purge")),
            verify_last_key=data.get("verify_last_key"),
            verify_scanned=int(data.get("verify_scanned", 0)),
            remaining=Counter(data.get("remaining", {})),
            verify_unreadable=int(data.get("verify_unreadable", 0)),
        )


@dataclass(frozen=True)
class PurgeOutcome:
    status: str
    """"fulfilled", "nothing_pending", "interrupted" (resume later) or "unverified"."""
    requests: tuple[str, ...] = ()
    objects_scanned: int = 0
    reports_removed: int = 0
    unreadable_objects: int = 0


class Deadline:
    """Stops a pass before the Lambda timeout; the checkpoint lets the next invocation resume."""

    def __init__(self, remaining_ms: Callable[[], int] | None, reserve_ms: int = 60_000) -> None:
        self._remaining = remaining_ms
        self._reserve = reserve_ms

    def passed(self) -> bool:
        return self._remaining is not None and self._remaining() < self._reserve


class Interrupted(Exception):
    pass


@dataclass
class Purger:
    objects: ReportObjects
    requests: RequestPort
    checkpoints: CheckpointStore
    keyer: MachineKeyer
    suppressed_keys: frozenset[str]
    now: Callable[[], datetime]
    deadline: Deadline = field(default_factory=lambda: Deadline(None))

    # ------------------------------------------------------------------ orchestration
    def run(self, resume_only: bool = False) -> PurgeOutcome:
        """Finish an interrupted pass if there is one; then serve every pending request in one pass."""
        saved = self.checkpoints.load()
        if saved is not None:
            state = PassState.from_dict(saved)
        elif resume_only:
            return PurgeOutcome("nothing_pending")
        else:
            pending = [r for r in self.requests.open_requests() if r.is_open]
            if not pending:
                return PurgeOutcome("nothing_pending")
            state = self._start(pending)
        try:
            if state.phase == "purge":
                self._pass(state)
                state.phase = "verify"
                self.checkpoints.save(state.as_dict())
            self._verify(state)
        except Interrupted:
            self.checkpoints.save(state.as_dict())
            return PurgeOutcome("interrupted", tuple(state.request_ids), state.objects_scanned)
        return self._verify_and_fulfil(state)

    def _start(self, pending: list[ErasureRequest]) -> PassState:
        state = PassState(
            pass_id=str(uuid.uuid4()),
            request_ids=[r.request_id for r in pending],
            machine_keys=[r.machine_key for r in pending],
        )
        for request in pending:
            self.requests.set_status(request.request_id, RequestStatus.IN_PROGRESS)
        self.checkpoints.save(state.as_dict())
        return state

    # ------------------------------------------------------------------ the pass
    def _pass(self, state: PassState) -> None:
        saved_at = time.monotonic()
        for stored in self.objects.objects(REPORTS_PREFIX, state.last_key):
            if self.deadline.passed():
                raise Interrupted
            self._purge_object(stored, state)
            state.objects_scanned += 1
            state.last_key = stored.key
            if time.monotonic() - saved_at >= CHECKPOINT_SECONDS:
                self.checkpoints.save(state.as_dict())
                saved_at = time.monotonic()

    def _purge_object(self, stored: StoredObject, state: PassState) -> bool:
        """Remove suppressed machines' lines from one object and its versions; True if anything changed."""
        data = self._read(stored.key, stored.latest_version, state) if stored.has_current else None
        if data is not None and self._has_suppressed(data):
            lines, hits = self._split(data)
            if hits:
                kept = [line for line, key in lines if key not in self.suppressed_keys]
                if kept:
                    self.objects.replace(stored.key, gzip.compress(b"".join(kept), compresslevel=6, mtime=0))
                else:
                    self.objects.delete_version(stored.key, stored.latest_version)
                for key, count in hits.items():
                    state.rewritten[key] += 1
                    state.removed[key] += count
                # Every earlier version still holds the removed lines, including the one just replaced
                # (now noncurrent when the bucket is versioned): delete them all.
                superseded = (stored.latest_version,) if kept and stored.latest_version else ()
                for version in (*superseded, *stored.noncurrent_versions):
                    self.objects.delete_version(stored.key, version)
                    for key in hits:
                        state.versions_deleted[key] += 1
                return True
        changed = False
        for version in stored.noncurrent_versions:
            old = self._read(stored.key, version, state)
            if old is None or not self._has_suppressed(old):
                continue
            _, old_hits = self._split(old)
            if old_hits:
                self.objects.delete_version(stored.key, version)
                changed = True
                for key in old_hits:
                    state.versions_deleted[key] += 1
        return changed

    def _read(self, key: str, version: str | None, state: PassState) -> bytes | None:
        raw = self.objects.read(key, version)
        try:
            return zlib.decompress(raw, wbits=16 + zlib.MAX_WBITS)
        except zlib.error:
            state.unreadable_objects += 1
            return None

    def _has_suppressed(self, data: bytes) -> bool:
        """Whether any line belongs to a suppressed machine: the common answer, no, without splitting."""
        if not self.suppressed_keys:
            return False
        key = self.keyer.key
        keys = self.suppressed_keys
        return any(key(m.decode()) in keys for m in set(_MACHINE_ID.findall(data)))

    def _split(self, data: bytes) -> tuple[list[tuple[bytes, str | None]], Counter[str]]:
        """(line, machine key if suppressed) for each line, and the suppressed keys' line counts.

        Call it only where _has_suppressed said yes.
        """
        hits: Counter[str] = Counter()
        lines: list[tuple[bytes, str | None]] = []
        for line in data.splitlines(keepends=True):
            match = _MACHINE_ID.search(line)
            key = self.keyer.key(match.group(1).decode()) if match else None
            if key in self.suppressed_keys:
                assert key is not None
                hits[key] += 1
                lines.append((line, key))
            else:
                lines.append((line, None))
        return lines, hits

    # ------------------------------------------------------------------ proof
    def _verify(self, state: PassState) -> None:
        """Re-scan every object and version; count lines of suppressed machines still present."""
        saved_at = time.monotonic()
        for stored in self.objects.objects(REPORTS_PREFIX, state.verify_last_key):
            if self.deadline.passed():
                raise Interrupted
            versions = (stored.latest_version,) if stored.has_current else ()
            for version in (*versions, *stored.noncurrent_versions):
                raw = self.objects.read(stored.key, version)
                try:
                    data = zlib.decompress(raw, wbits=16 + zlib.MAX_WBITS)
                except zlib.error:
                    state.verify_unreadable += 1
                    continue
                if self._has_suppressed(data):
                    state.remaining.update(self._split(data)[1])
            state.verify_scanned += 1
            state.verify_last_key = stored.key
            if time.monotonic() - saved_at >= CHECKPOINT_SECONDS:
                self.checkpoints.save(state.as_dict())
                saved_at = time.monotonic()

    def _verify_and_fulfil(self, state: PassState) -> PurgeOutcome:
        scanned, remaining = state.verify_scanned, state.remaining
        completed = iso(self.now())
        fulfilled = True
        for request_id, key in zip(state.request_ids, state.machine_keys, strict=True):
            receipt = Receipt(
                objects_scanned=state.objects_scanned,
                objects_rewritten=state.rewritten[key],
                reports_removed=state.removed[key],
                noncurrent_versions_deleted=state.versions_deleted[key],
                verification_objects_scanned=scanned,
                verification_remaining=remaining[key],
                verification_unreadable_objects=state.verify_unreadable,
                completed_at=completed,
            )
            if remaining[key]:
                fulfilled = False
                self.requests.set_status(request_id, RequestStatus.IN_PROGRESS, receipt)
            else:
                self.requests.set_status(request_id, RequestStatus.FULFILLED, receipt)
        self.checkpoints.clear()
        return PurgeOutcome(
            "fulfilled" if fulfilled else "unverified",
            tuple(state.request_ids),
            state.objects_scanned,
            sum(state.removed.values()),
            state.unreadable_objects,
        )
