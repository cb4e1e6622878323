"""Objects the purge cannot read keep the requests open: the status says why, the team sees which
objects, and the next run, once every object reads, fulfils them."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ceip.cli import main
from ceip.datasubject.model import ErasureRequest, RequestStatus, StatusReason
from ceip.datasubject.purge import Deadline, Purger
from ceip.datasubject.purge_checkpoint import MemoryCheckpoint
from ceip.datasubject.request_store import MemoryRequestStore
from ceip.machines.machine_key import MachineKeyer
from ceip.storage.keys import REPORTS_PREFIX
from ceip.storage.report_objects import MemoryReportObjects
from tests.conftest import REPORTS_BUCKET
from tests.functional import test_purge
from tests.functional.test_privacy_requests_api import call, erasure_event, status_event
from tests.functional.test_purge import START, purger

KEYER = MachineKeyer(b"unreadable-test-secret-0123456789abcdef0123456789")
DAY = datetime(2026, 11, 28, tzinfo=UTC)
ERASED, JUNK = str(uuid.UUID(int=7)), str(uuid.UUID(int=8))
GOOD = f"{REPORTS_PREFIX}dt=2026-11-28/hr=01/good.ndjson.gz"
CORRUPT = f"{REPORTS_PREFIX}dt=2026-11-28/hr=02/corrupt.ndjson.gz"
# The fixtures of the purge suite, shared by name.
clock, population = test_purge.clock, test_purge.population


def twins(objects: dict[str, bytes]) -> tuple[Purger, MemoryRequestStore, dict[str, str]]:
    requests = {
        m: ErasureRequest(str(uuid.uuid4()), KEYER.key(m), RequestStatus.RECEIVED, DAY, DAY)
        for m in (ERASED, JUNK)
    }
    store = MemoryRequestStore(requests.values())
    run = Purger(
        objects=MemoryReportObjects(objects),
        requests=store,
        checkpoints=MemoryCheckpoint(),
        keyer=KEYER,
        suppressed_keys=frozenset(r.machine_key for r in requests.values()),
        now=lambda: DAY + timedelta(hours=3),
        deadline=Deadline(None),
    )
    return run, store, {m: r.request_id for m, r in requests.items()}


def test_an_unreadable_object_keeps_every_served_request_open_until_a_run_reads_everything() -> None:
    # Given an object of the erased machine and a corrupt object (a member cut short) that could hold it
    line = f'{{"machine_id":"{ERASED}","n":1}}\n'.encode()
    objects = {GOOD: gzip.compress(line * 2), CORRUPT: gzip.compress(line)[:-6]}
    run, store, ids = twins(objects)
    # When the purge runs
    outcome = run.run()
    # Then it removes what it can read, but fulfils nothing: both requests stay open, saying why
    assert outcome.status == "objects_unreadable" and outcome.reports_removed == 2
    for request_id in ids.values():
        request = store.by_id[request_id]
        assert request.status is RequestStatus.IN_PROGRESS
        assert request.status_reason is StatusReason.OBJECTS_UNREADABLE
        assert request.receipt is not None
        assert request.receipt.verification_unreadable_objects == 1
        assert request.receipt.unreadable_object_keys == (CORRUPT,)
    assert store.by_id[ids[ERASED]].receipt.reports_removed == 2  # type: ignore[union-attr]
    # When an operator removes the corrupt object and the next daily run comes
    objects_now = run.objects
    assert isinstance(objects_now, MemoryReportObjects)
    objects_now.delete_version(CORRUPT, None)
    again = run.run()
    # Then every object reads, and both requests are fulfilled with nothing left and nothing unreadable
    assert again.status == "fulfilled"
    for request_id in ids.values():
        request = store.by_id[request_id]
        assert request.status is RequestStatus.FULFILLED and request.status_reason is None
        assert request.receipt is not None and request.receipt.verification_unreadable_objects == 0


def test_the_status_api_and_the_cli_say_why_the_request_is_open_without_any_guid(
    s3: Any, lambda_context: Any, clock: Any, population: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an erasure request and a corrupt object among the reports
    s3.put_object(Bucket=REPORTS_BUCKET, Key=CORRUPT, Body=b"\x1f\x8b\x08 not really gzip")
    clock.now = START + timedelta(days=3)
    _, _, filed = call(erasure_event(population["x"]), lambda_context)
    # When the purge runs
    assert purger().run().status == "objects_unreadable"
    # Then the public status is in_progress, says objects_unreadable and counts it, without object keys
    _, _, status = call(status_event(filed["request_id"]), lambda_context)
    assert (status["status"], status["status_reason"]) == ("in_progress", "objects_unreadable")
    assert status["receipt"]["verification_unreadable_objects"] == 1
    assert CORRUPT not in json.dumps(status)
    # And the team's CLI names the object, and neither shows a GUID
    assert main(["privacy", "requests", filed["request_id"]]) == 0
    assert main(["privacy", "requests", filed["request_id"], "--json"]) == 0
    out = capsys.readouterr().out
    assert f"Repair or remove: {CORRUPT}" in out and "open because: objects_unreadable" in out
    assert all(population[m] not in out + json.dumps(status) for m in ("x", "y", "z"))
    # When the object is deleted (a delete marker), its version still cannot be read: still open
    s3.delete_object(Bucket=REPORTS_BUCKET, Key=CORRUPT)
    assert purger().run().status == "objects_unreadable"
    # When every version of it is deleted, the next run fulfils the request
    for version in s3.list_object_versions(Bucket=REPORTS_BUCKET, Prefix=CORRUPT)["Versions"]:
        s3.delete_object(Bucket=REPORTS_BUCKET, Key=CORRUPT, VersionId=version["VersionId"])
    assert purger().run().status == "fulfilled"
    _, _, status = call(status_event(filed["request_id"]), lambda_context)
    assert status["status"] == "fulfilled" and "status_reason" not in status
