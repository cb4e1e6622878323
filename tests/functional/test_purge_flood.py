"""A flood of junk erasure requests (machines with no reports) beside a few real ones, on the in-memory
twins: the real ones get exact receipts, the checkpoint does not grow with the requests, and a deadline
that expires during the fulfil phase is resumed to the end."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ceip.datasubject.model import ErasureRequest, RequestStatus
from ceip.datasubject.purge import Deadline, Purger
from ceip.datasubject.purge_checkpoint import MemoryCheckpoint
from ceip.datasubject.request_store import MemoryRequestStore
from ceip.machines.machine_key import MachineKeyer
from ceip.machines.suppression import MachineKeySet
from ceip.storage.keys import REPORTS_PREFIX
from ceip.storage.report_objects import MemoryReportObjects

SECRET = b"flood-test-secret-0123456789abcdef0123456789abcd"
DAY = datetime(2026, 11, 28, tzinfo=UTC)
KEYER = MachineKeyer(SECRET)


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
