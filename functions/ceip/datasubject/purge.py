"""Purge: rewrite raw report objects without the lines of suppressed machines, and issue receipts.

One pass over the data serves every pending request. The pass is resumable and idempotent (a second
run finds nothing to remove), and its counts are exact across crashes: before an object is changed,
the change and what it adds to the counts are written down (a small progress record beside the
checkpoint), so a pass that dies halfway through a change finishes that change on resume and counts it
once. A verification re-scan of every object, current and noncurrent versions, must find zero lines of
each machine before its request is marked fulfilled.
"""

from __future__ import annotations

import gzip
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ceip.datasubject.guid_scan import KeyLookup, SuppressedGuids, split_lines
from ceip.datasubject.model import MAX_UNREADABLE_KEYS, ErasureRequest, Receipt, iso, served_status
from ceip.datasubject.purge_checkpoint import CheckpointStore
from ceip.datasubject.purge_state import NO_COUNTS, Counts, PassState, Phase
from ceip.datasubject.request_store import RequestPort
from ceip.machines.machine_key import MachineKeyer
from ceip.machines.suppression import MachineKeySet
from ceip.storage.gzip_members import CorruptGzip, inflate
from ceip.storage.keys import REPORTS_PREFIX
from ceip.storage.report_objects import ReportObjects, StoredObject

CHECKPOINT_SECONDS = 2.0
"""The full checkpoint is saved at most this often (and at each phase change and deadline stop); a
change in between is first recorded in the small progress record, so a crash loses no count."""
FULFIL_PAGE = 1000
"""Open requests read per page at the start and in the fulfil phase (a DynamoDB Scan's Limit)."""
PROGRESS_ENTRIES = 64
"""A full checkpoint replaces the progress record once it carries this many counters: the record
(rewritten before every change) stays small, and full saves stay few."""


class PurgeStatus(StrEnum):
    """How a run ended (in logs and in the Lambda's answer)."""

    FULFILLED = "fulfilled"
    NOTHING_PENDING = "nothing_pending"
    INTERRUPTED = "interrupted"
    """Stopped before the deadline; the next run resumes from the checkpoint."""
    UNVERIFIED = "unverified"
    """The re-scan still found lines of some machine: its request stays open."""
    OBJECTS_UNREADABLE = "objects_unreadable"
    """Some objects could not be read: no request can be proven, every served one stays open (the next
    pass serves them again; an operator repairs or removes the objects its receipts name)."""


@dataclass(frozen=True)
class ObjectPlan:
    """What purging one object does, decided from reads alone, and what it adds to the counts."""

    replace_with: bytes | None = None
    """The current version's new content, when some of its lines stay."""
    delete_current: bool = False
    """Nothing of the current version stays: it is deleted."""
    delete_versions: tuple[str | None, ...] = ()
    """Earlier versions deleted for good (the replaced one included)."""
    counts: Counts = field(default_factory=Counts)

    @property
    def changes(self) -> bool:
        return self.replace_with is not None or self.delete_current or bool(self.delete_versions)


_UNCHANGED = ObjectPlan(counts=NO_COUNTS)


@dataclass(frozen=True)
class PurgeOutcome:
    status: PurgeStatus
    requests: tuple[str, ...] = ()
    """The served requests whose machines had lines found (never one id per junk request)."""
    served: int = 0
    """Receipts written: every request the pass served."""
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
    suppressed_keys: KeyLookup
    now: Callable[[], datetime]
    deadline: Deadline = field(default_factory=lambda: Deadline(None))
    _scan: SuppressedGuids = field(init=False, repr=False)
    _saved_at: float = field(init=False, repr=False, default=0.0)

    def __post_init__(self) -> None:
        self._scan = SuppressedGuids(self.keyer.key, self.suppressed_keys)

    # ------------------------------------------------------------------ orchestration
    def run(self, resume_only: bool = False) -> PurgeOutcome:
        """Finish an interrupted pass if there is one; then serve every pending request in one pass."""
        saved = self.checkpoints.load()
        if saved is not None:
            state = PassState.from_dict(saved)
            state.catch_up(self.checkpoints.load_progress())
        elif resume_only:
            return PurgeOutcome(PurgeStatus.NOTHING_PENDING)
        else:
            cutoff = iso(self.now().replace(microsecond=0))
            state = PassState(pass_id=str(uuid.uuid4()), cutoff=cutoff, phase=Phase.START)
        try:
            if state.phase is Phase.START and not self._start(state):
                if state.saves:  # the walk was saved (on its clock or at a deadline): nothing to resume
                    self.checkpoints.clear()
                return PurgeOutcome(PurgeStatus.NOTHING_PENDING)
            if state.phase is Phase.PURGE:
                self._finish_in_flight(state)
                self._pass(state)
                state.phase = Phase.VERIFY
                self._save(state)
            if state.phase is Phase.VERIFY:
                self._verify(state)
                if state.legacy:
                    return self._verify_and_fulfil(state)
                # Not saved here: the fulfil loop saves on its clock (a crash before then redoes the rest of
                # the re-scan, which changes nothing), so a short resume writes no checkpoint.
                state.phase = Phase.FULFIL
                state.completed_at = iso(self.now())
            self._fulfil(state)
        except Interrupted:
            self._save(state)
            found = tuple(state.request_ids or dict.fromkeys(state.found_ids))
            return PurgeOutcome(PurgeStatus.INTERRUPTED, found, state.served, state.objects_scanned)
        return self._finish(state)

    def _start(self, state: PassState) -> bool:
        """Walk the open requests (from the saved cursor) until one received by the cutoff; then take them
        all by recording the cutoff once (one write, not one per request) and return True. False when
        none is pending. Nothing is written to the requests before that, so a walk the deadline stops is
        only saved (cutoff and cursor: the next run goes on from there, not from the first page)."""
        cutoff = datetime.fromisoformat(state.cutoff or "")
        saved_at = time.monotonic()
        while True:
            if self.deadline.passed():
                raise Interrupted
            page, cursor = self.requests.open_requests_page(state.cursor, FULFIL_PAGE)
            if any(request.received_at <= cutoff for request in page):
                break
            state.cursor = cursor
            if cursor is None:
                return False
            if time.monotonic() - saved_at >= CHECKPOINT_SECONDS:
                self._save(state)
                saved_at = time.monotonic()
        state.phase = Phase.PURGE
        state.cursor = None
        self.requests.set_pass_cutoff(cutoff)
        self._save(state)
        return True

    def _save(self, state: PassState) -> None:
        state.saves += 1
        self.checkpoints.save(state.as_dict())
        state.since_save = Counts()
        self._saved_at = time.monotonic()

    # ------------------------------------------------------------------ the pass
    def _pass(self, state: PassState) -> None:
        saved_at = time.monotonic()
        listing = self.objects.objects(REPORTS_PREFIX, state.last_key)
        for stored, bodies in self.objects.read_each((stored, stored.current) for stored in listing):
            if self.deadline.passed():
                raise Interrupted
            plan = self._plan(stored, self._inflate(bodies[0]) if bodies else None)
            if plan.changes:
                # Written down first: if the run dies during the change, the resume finishes it and
                # counts it once (_finish_in_flight).
                self.checkpoints.save_progress(state.progress(stored.key, plan.counts))
                self._apply(stored, plan)
            state.finish_object(stored.key, plan.counts)
            full = plan.changes and state.since_save.entries() >= PROGRESS_ENTRIES
            if full or time.monotonic() - saved_at >= CHECKPOINT_SECONDS:
                self._save(state)
                saved_at = time.monotonic()

    def _finish_in_flight(self, state: PassState) -> None:
        """Complete the change a crashed run had begun, and count what its record says, once."""
        if state.in_flight is None:
            return
        key = state.in_flight["key"]
        for stored in self.objects.objects(key, None):
            if stored.key == key:
                # What is left to do (possibly nothing); its counts were recorded before the change began.
                current = self._read(stored.key, stored.latest_version) if stored.has_current else None
                self._apply(stored, self._plan(stored, current))
        state.finish_object(key, Counts.from_dict(state.in_flight))
        self._save(state)

    def _plan(self, stored: StoredObject, data: bytes | None) -> ObjectPlan:
        """What removing suppressed machines' lines from one object and its versions takes (reads only);
        data is its current version inflated, None when it has none or that one is unreadable."""
        unreadable = 0
        if stored.has_current and data is None:
            unreadable += 1
        if data is not None and self._scan.any_in(data):
            lines, hits = self._split(data)
            if hits:
                kept = [line for line, key in lines if key not in self.suppressed_keys]
                # Every earlier version still holds the removed lines, including the one replaced (then
                # noncurrent when the bucket is versioned): delete them all.
                superseded = (stored.latest_version,) if kept and stored.latest_version else ()
                deleted = (*superseded, *stored.noncurrent_versions)
                counts = Counts(unreadable_objects=unreadable)
                for key, count in hits.items():
                    counts.rewritten[key] += 1
                    counts.removed[key] += count
                    if deleted:
                        counts.versions_deleted[key] += len(deleted)
                return ObjectPlan(
                    replace_with=gzip.compress(b"".join(kept), compresslevel=6, mtime=0) if kept else None,
                    delete_current=not kept,
                    delete_versions=deleted,
                    counts=counts,
                )
        if not stored.noncurrent_versions:  # the common case: nothing more to read, nothing to allocate
            return ObjectPlan(counts=Counts(unreadable_objects=unreadable)) if unreadable else _UNCHANGED
        old_versions: list[str] = []
        versions_deleted: Counter[str] = Counter()
        for version in stored.noncurrent_versions:
            old = self._read(stored.key, version)
            if old is None:
                unreadable += 1
                continue
            if not self._scan.any_in(old):
                continue
            _, old_hits = self._split(old)
            if old_hits:
                old_versions.append(version)
                versions_deleted.update(old_hits.keys())
        if not old_versions and not unreadable:
            return _UNCHANGED
        counts = Counts(versions_deleted=versions_deleted, unreadable_objects=unreadable)
        return ObjectPlan(delete_versions=tuple(old_versions), counts=counts)

    def _apply(self, stored: StoredObject, plan: ObjectPlan) -> None:
        if plan.replace_with is not None:
            self.objects.replace(stored.key, plan.replace_with)
        elif plan.delete_current:
            self.objects.delete_version(stored.key, stored.latest_version)
        for version in plan.delete_versions:
            self.objects.delete_version(stored.key, version)

    def _read(self, key: str, version: str | None) -> bytes | None:
        """The inflated object, or None when it is not gzip (counted as unreadable by the caller)."""
        return self._inflate(self.objects.read(key, version))

    @staticmethod
    def _inflate(raw: bytes) -> bytes | None:
        """Every gzip member (DuckDB reads them all, so must the proof); None when any is corrupt."""
        try:
            return inflate(raw)
        except CorruptGzip:
            return None

    def _split(self, data: bytes) -> tuple[list[tuple[bytes, str | None]], Counter[str]]:
        """Call it only where the scan said yes."""
        return split_lines(data, self.keyer.key, self.suppressed_keys)

    # ------------------------------------------------------------------ proof
    def _verify(self, state: PassState) -> None:
        """Re-scan every object and version; count lines of suppressed machines still present."""
        saved_at = time.monotonic()
        listing = self.objects.objects(REPORTS_PREFIX, state.verify_last_key)
        every_version = ((stored, stored.current + stored.noncurrent_versions) for stored in listing)
        for stored, bodies in self.objects.read_each(every_version):
            if self.deadline.passed():
                raise Interrupted
            unreadable = False
            for raw in bodies:
                data = self._inflate(raw)
                if data is None:
                    state.verify_unreadable += 1
                    unreadable = True
                    continue
                if self._scan.any_in(data):
                    state.remaining.update(self._split(data)[1])
            if unreadable and len(state.verify_unreadable_keys) < MAX_UNREADABLE_KEYS:
                state.verify_unreadable_keys.append(stored.key)
            state.verify_scanned += 1
            state.verify_last_key = stored.key
            if time.monotonic() - saved_at >= CHECKPOINT_SECONDS:
                self._save(state)
                saved_at = time.monotonic()

    def _fulfil(self, state: PassState) -> None:
        """Write each served request's receipt, page by page, resumable at the saved cursor: first the
        requests whose machines had lines found (few), then the rest (a flood's junk: receipts of zero)."""
        cutoff = datetime.fromisoformat(state.cutoff or "")
        found = state.found_keys()
        nothing = self._receipt(state, "")  # every machine with nothing found has this receipt
        saved_at = self._saved_at
        while state.sweep <= 2:
            first = state.sweep == 1
            while True:
                if self.deadline.passed():
                    raise Interrupted
                page, cursor = self.requests.open_requests_page(state.cursor, FULFIL_PAGE)
                # The set lookup first: in the first sweep it turns away almost every request of a flood.
                taken = [r for r in page if (r.machine_key in found) is first and r.received_at <= cutoff]
                # A request whose machine is not in this pass's suppression list was filed as the pass
                # began (its key not yet read): the next pass serves it.
                served = [r for r, member in zip(taken, self._members(taken), strict=True) if member]
                if first:
                    for request in served:
                        self._serve(state, request, self._receipt(state, request.machine_key))
                else:  # one receipt for all (nothing found, nothing left): a flood's million
                    write, status = self.requests.set_status, served_status(nothing)
                    for request in served:
                        write(request.request_id, status, nothing)
                        state.served += 1
                state.cursor = cursor
                if cursor is None:
                    break
                if time.monotonic() - saved_at >= CHECKPOINT_SECONDS:
                    self._save(state)
                    saved_at = time.monotonic()
            state.sweep += 1
            state.cursor = None

    def _members(self, requests: list[ErasureRequest]) -> list[bool]:
        keys = [r.machine_key for r in requests]
        if isinstance(self.suppressed_keys, MachineKeySet):
            return self.suppressed_keys.contains_each(keys)
        return [key in self.suppressed_keys for key in keys]

    def _receipt(self, state: PassState, key: str) -> Receipt:
        return Receipt(
            objects_scanned=state.objects_scanned,
            objects_rewritten=state.counts.rewritten[key],
            reports_removed=state.counts.removed[key],
            noncurrent_versions_deleted=state.counts.versions_deleted[key],
            verification_objects_scanned=state.verify_scanned,
            verification_remaining=state.remaining[key],
            verification_unreadable_objects=state.verify_unreadable,
            completed_at=state.completed_at or iso(self.now()),
            unreadable_object_keys=tuple(state.verify_unreadable_keys),
        )

    def _serve(self, state: PassState, request: ErasureRequest, receipt: Receipt) -> None:
        """A request whose machine had lines found (the first sweep)."""
        if receipt.verification_remaining:
            state.unverified += 1
        self.requests.set_status(request.request_id, served_status(receipt), receipt)
        state.served += 1
        state.found_ids.append(request.request_id)

    def _finish(self, state: PassState) -> PurgeOutcome:
        # The pass record first: if clearing the checkpoint fails, the resume only finishes again.
        self.requests.set_pass_cutoff(None)
        self.checkpoints.clear()
        return PurgeOutcome(
            _ended(unverified=bool(state.unverified), unreadable=bool(state.verify_unreadable)),
            tuple(dict.fromkeys(state.found_ids)),
            state.served,
            state.objects_scanned,
            sum(state.counts.removed.values()),
            state.counts.unreadable_objects,
        )

    def _verify_and_fulfil(self, state: PassState) -> PurgeOutcome:
        """A pass of the earlier code (its checkpoint lists the requests it marked in progress)."""
        scanned, remaining = state.verify_scanned, state.remaining
        completed = iso(self.now())
        fulfilled = True
        for request_id, key in zip(state.request_ids, state.machine_keys, strict=True):
            receipt = Receipt(
                objects_scanned=state.objects_scanned,
                objects_rewritten=state.counts.rewritten[key],
                reports_removed=state.counts.removed[key],
                noncurrent_versions_deleted=state.counts.versions_deleted[key],
                verification_objects_scanned=scanned,
                verification_remaining=remaining[key],
                verification_unreadable_objects=state.verify_unreadable,
                completed_at=completed,
                unreadable_object_keys=tuple(state.verify_unreadable_keys),
            )
            if remaining[key]:
                fulfilled = False
            self.requests.set_status(request_id, served_status(receipt), receipt)
        self.checkpoints.clear()
        return PurgeOutcome(
            _ended(unverified=not fulfilled, unreadable=bool(state.verify_unreadable)),
            tuple(state.request_ids),
            len(state.request_ids),
            state.objects_scanned,
            sum(state.counts.removed.values()),
            state.counts.unreadable_objects,
        )


def _ended(*, unverified: bool, unreadable: bool) -> PurgeStatus:
    if unverified:
        return PurgeStatus.UNVERIFIED
    return PurgeStatus.OBJECTS_UNREADABLE if unreadable else PurgeStatus.FULFILLED
