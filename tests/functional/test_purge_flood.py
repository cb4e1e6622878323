"""A flood of junk erasure requests (machines with no reports) beside a few real ones, on the in-memory
twins: the real ones get exact receipts, the checkpoint does not grow with the requests, and a deadline
that expires during the start's page walk or the fulfil phase is resumed to the end."""

from __future__ import annotations

import dataclasses
import gzip
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from ceip.datasubject.model import ErasureRequest, RequestStatus
from ceip.datasubject.purge import FULFIL_PAGE, Deadline, Purger
from ceip.datasubject.purge_checkpoint import MemoryCheckpoint
from ceip.datasubject.request_store import MemoryRequestStore
from ceip.machines.machine_key import MachineKeyer
from ceip.machines.suppression import MachineKeySet
from ceip.storage.keys import REPORTS_PREFIX
from ceip.storage.report_objects import MemoryReportObjects

SECRET = b"flood-test-secret-0123456789abcdef0123456789abcd"
DAY = datetime(2026, 11, 28, tzinfo=UTC)
KEYER = MachineKeyer(SECRET)
FULFILLED = RequestStatus.FULFILLED


def day(machines: list[str]) -> dict[str, bytes]:
    """Three objects per machine, two reports each."""
    objects = {}
    for m, machine in enumerate(machines):
        for o in range(3):
            line = f'{{"machine_id":"{machine}","n":{o}}}\n'.encode()
            objects[f"{REPORTS_PREFIX}dt=2026-11-28/hr=0{o}/{m:04d}.ndjson.gz"] = gzip.compress(line * 2)
    return objects


def request(machine_key: str, n: int) -> ErasureRequest:
    received = DAY + timedelta(seconds=n % 3600)
    return ErasureRequest(str(uuid.UUID(int=n)), machine_key, RequestStatus.RECEIVED, received, received)


def flood(
    junk: int, deadline: Callable[[], int] | None = None
) -> tuple[Purger, MemoryRequestStore, list[str]]:
    machines = [str(uuid.UUID(int=10**6 + m)) for m in range(20)]
    real = machines[:3]
    junk_keys = [KEYER.key(str(uuid.UUID(int=2 * 10**6 + j))) for j in range(junk)]
    requests = [request(KEYER.key(m), n) for n, m in enumerate(real)]
    requests += [request(k, 100 + j) for j, k in enumerate(junk_keys)]
    store = MemoryRequestStore(requests)
    purger = Purger(
        objects=MemoryReportObjects(day(machines)),
        requests=store,
        checkpoints=MemoryCheckpoint(),
        keyer=KEYER,
        suppressed_keys=MachineKeySet.of(r.machine_key for r in requests),
        now=lambda: DAY + timedelta(days=1, hours=3),
        deadline=Deadline(deadline, reserve_ms=1),
    )
    return purger, store, [r.request_id for r in requests[:3]]


def test_a_flood_of_junk_requests_is_served_with_the_real_ones_receipts_exact() -> None:
    # Given 3 real erasures and 5,000 junk ones
    purger, store, real = flood(5_000)
    # When one pass runs
    outcome = purger.run()
    # Then all are fulfilled; the real receipts count their 6 reports, the junk ones 0
    assert outcome.status == "fulfilled" and outcome.served == 5_003
    assert set(outcome.requests) == set(real)
    receipts = {r.request_id: r.receipt for r in store.by_id.values() if r.status is RequestStatus.FULFILLED}
    assert len(receipts) == 5_003
    assert all(receipts[i] is not None and receipts[i].reports_removed == 6 for i in real)  # type: ignore[union-attr]
    assert {r.reports_removed for i, r in receipts.items() if i not in real} == {0}  # type: ignore[union-attr]
    assert store.pass_cutoff() is None


def test_the_checkpoint_does_not_grow_with_the_number_of_requests() -> None:
    sizes = []
    for junk in (10, 5_000):
        purger, _, _ = flood(junk)
        purger.run()
        checkpoints = purger.checkpoints
        assert isinstance(checkpoints, MemoryCheckpoint)
        sizes.append(checkpoints.saved_bytes / checkpoints.saves)
    assert sizes[1] < sizes[0] * 1.2


def test_a_deadline_during_the_fulfil_of_many_requests_is_resumed_to_the_end() -> None:
    # Given a budget that runs out after the pass and re-scan (60 objects each) and a few fulfil pages
    budget = iter([100_000] * 130 + [0] * 10**6)
    purger, store, real = flood(20_000, lambda: next(budget))
    first = purger.run()
    assert first.status == "interrupted"
    left = [r for r in store.by_id.values() if r.status is RequestStatus.RECEIVED]
    assert 0 < len(left) < 20_003
    # When the resume runs without a deadline
    purger.deadline = Deadline(None)
    second = purger.run(resume_only=True)
    # Then every request is fulfilled once, the real ones with their 6 reports
    assert second.status == "fulfilled"
    assert all(r.status is RequestStatus.FULFILLED for r in store.by_id.values())
    assert all(store.by_id[i].receipt.reports_removed == 6 for i in real)  # type: ignore[union-attr]


class RecordingRequestStore(MemoryRequestStore):
    """The twin, remembering the cursor of every page read."""

    def __init__(self, requests: list[ErasureRequest]) -> None:
        super().__init__(requests)
        self.cursors: list[str | None] = []

    def open_requests_page(self, cursor: str | None, limit: int) -> tuple[list[ErasureRequest], str | None]:
        self.cursors.append(cursor)
        return super().open_requests_page(cursor, limit)


def behind_fulfilled(
    open_real: int, deadline: Callable[[], int]
) -> tuple[Purger, RecordingRequestStore, list[str]]:
    """5,000 requests an earlier pass fulfilled, filed before `open_real` open ones of machines with
    reports: the start's walk reads five pages holding no open request before it finds one."""
    machines = [str(uuid.UUID(int=10**6 + m)) for m in range(20)]
    earlier = [
        dataclasses.replace(request(KEYER.key(str(uuid.UUID(int=3 * 10**6 + n))), 100 + n), status=FULFILLED)
        for n in range(5_000)
    ]
    earlier = [dataclasses.replace(r, received_at=r.received_at - timedelta(days=2)) for r in earlier]
    real = [request(KEYER.key(m), n) for n, m in enumerate(machines[:open_real])]
    store = RecordingRequestStore(earlier + real)
    purger = Purger(
        objects=MemoryReportObjects(day(machines)),
        requests=store,
        checkpoints=MemoryCheckpoint(),
        keyer=KEYER,
        suppressed_keys=frozenset(r.machine_key for r in earlier + real),
        now=lambda: DAY + timedelta(days=1, hours=3),
        deadline=Deadline(deadline, reserve_ms=1),
    )
    return purger, store, [r.request_id for r in real]


@pytest.mark.parametrize("pages_in_budget", [0, 2])
def test_a_deadline_during_the_start_walk_saves_the_walk_and_the_resume_goes_on_from_it(
    pages_in_budget: int,
) -> None:
    # Given 3 open requests behind 5,000 fulfilled ones, and a budget that runs out after a few pages
    budget = iter([100_000] * pages_in_budget + [0] * 10**6)
    purger, store, real = behind_fulfilled(3, lambda: next(budget))
    # When the daily run starts
    first = purger.run()
    # Then it stops, having written nothing to the requests or the objects, and saved where its walk is
    assert first.status == "interrupted" and first.served == 0
    assert store.pass_cutoff() is None
    assert all(store.by_id[i].status is RequestStatus.RECEIVED for i in real)
    objects = purger.objects
    assert isinstance(objects, MemoryReportObjects) and not objects.replaced and not objects.deleted
    checkpoints = purger.checkpoints
    assert isinstance(checkpoints, MemoryCheckpoint) and checkpoints.load() is not None
    read_first = len(store.cursors)
    assert read_first == pages_in_budget
    # When the 15-minute resume runs without a deadline
    purger.deadline = Deadline(None)
    second = purger.run(resume_only=True)
    # Then its walk goes on after the pages already read, and the pass serves the 3 with their 6 reports
    assert store.cursors[read_first] == (str(pages_in_budget * FULFIL_PAGE) if pages_in_budget else None)
    assert second.status == "fulfilled" and second.served == 3
    receipts = [store.by_id[i].receipt for i in real]
    assert [r.reports_removed if r else None for r in receipts] == [6, 6, 6]
    assert store.pass_cutoff() is None and checkpoints.load() is None


def test_a_walk_stopped_by_the_deadline_that_then_finds_nothing_pending_leaves_no_checkpoint() -> None:
    # Given only fulfilled requests, and a daily run whose budget ran out after two pages of its walk
    budget = iter([100_000] * 2 + [0] * 10**6)
    purger, store, _ = behind_fulfilled(0, lambda: next(budget))
    assert purger.run().status == "interrupted"
    # When the resume walks the rest
    purger.deadline = Deadline(None)
    outcome = purger.run(resume_only=True)
    # Then nothing was pending: no pass began, no object was read into a change, the checkpoint is gone
    assert outcome.status == "nothing_pending" and outcome.objects_scanned == 0
    assert store.pass_cutoff() is None
    checkpoints = purger.checkpoints
    assert isinstance(checkpoints, MemoryCheckpoint) and checkpoints.load() is None
    assert purger.run(resume_only=True).status == "nothing_pending"
