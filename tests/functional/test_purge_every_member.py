"""Objects of several gzip members (as Firehose writes them): the purge removes and the re-scan finds a
suppressed machine's line in any member, and the export returns reports from every member."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta

from ceip.datasubject.export import collect
from ceip.datasubject.model import ErasureRequest, RequestStatus
from ceip.datasubject.purge import Deadline, Purger
from ceip.datasubject.purge_checkpoint import MemoryCheckpoint
from ceip.datasubject.request_store import MemoryRequestStore
from ceip.machines.machine_key import MachineKeyer
from ceip.storage.keys import REPORTS_PREFIX
from ceip.storage.report_objects import MemoryReportObjects

SECRET = b"members-test-secret-0123456789abcdef0123456789ab"
KEYER = MachineKeyer(SECRET)
DAY = datetime(2026, 11, 28, tzinfo=UTC)
ERASED, OTHER = str(uuid.UUID(int=1)), str(uuid.UUID(int=2))
KEY = f"{REPORTS_PREFIX}dt=2026-11-28/hr=00/firehose-1.gz"


def line(machine: str, n: int) -> bytes:
    return f'{{"machine_id":"{machine}","n":{n},"received_at":"2026-11-28T00:0{n}:00.000Z"}}\n'.encode()


def two_members() -> bytes:
    """The erased machine appears only in the second member, after another machine's line."""
    return gzip.compress(line(OTHER, 1)) + gzip.compress(line(OTHER, 2) + line(ERASED, 3))


class IgnoresWrites(MemoryReportObjects):
    """A store whose changes are lost (a rewrite that never landed): only the re-scan can notice."""

    def replace(self, key: str, body: bytes) -> None:
        pass

    def delete_version(self, key: str, version: str | None) -> None:
        pass


def purger(objects: MemoryReportObjects) -> tuple[Purger, MemoryRequestStore, str]:
    request = ErasureRequest(str(uuid.uuid4()), KEYER.key(ERASED), RequestStatus.RECEIVED, DAY, DAY)
    store = MemoryRequestStore([request])
    return (
        Purger(
            objects=objects,
            requests=store,
            checkpoints=MemoryCheckpoint(),
            keyer=KEYER,
            suppressed_keys=frozenset({request.machine_key}),
            now=lambda: DAY + timedelta(hours=3),
            deadline=Deadline(None),
        ),
        store,
        request.request_id,
    )


def test_a_line_in_the_second_member_is_removed_and_the_request_fulfilled() -> None:
    # Given an object whose second gzip member holds the erased machine's line
    objects = MemoryReportObjects({KEY: two_members()})
    run, store, request_id = purger(objects)
    # When the purge runs
    outcome = run.run()
    # Then the object keeps the other machine's two lines (from both members) and loses the erased one
    assert outcome.status == "fulfilled" and outcome.reports_removed == 1
    assert gzip.decompress(objects.contents()[KEY]) == line(OTHER, 1) + line(OTHER, 2)
    receipt = store.by_id[request_id].receipt
    assert receipt is not None and (receipt.reports_removed, receipt.verification_remaining) == (1, 0)
    assert store.by_id[request_id].status is RequestStatus.FULFILLED


def test_the_re_scan_finds_a_line_left_in_the_second_member_and_keeps_the_request_open() -> None:
    # Given the same object in a store where the rewrite is lost
    run, store, request_id = purger(IgnoresWrites({KEY: two_members()}))
    # When the purge runs
    outcome = run.run()
    # Then verification reads the second member, finds the line, and the request is not fulfilled
    assert outcome.status == "unverified"
    request = store.by_id[request_id]
    assert request.status is RequestStatus.IN_PROGRESS
    assert request.receipt is not None and request.receipt.verification_remaining == 1


def test_the_export_returns_the_machines_reports_from_every_member() -> None:
    # Given objects of two members each, the machine's reports in both members of one
    objects = MemoryReportObjects(
        {
            KEY: two_members(),
            KEY.replace("firehose-1", "firehose-2"): gzip.compress(line(ERASED, 4))
            + gzip.compress(line(ERASED, 5)),
        }
    )
    # When its reports are collected
    collected = collect([ERASED.upper()], objects)
    (reports,) = collected.reports.values()
    # Then all three are there, in time order, and the other machine's are not
    assert (collected.objects_scanned, collected.objects_unreadable) == (2, 0)
    assert [r["n"] for r in reports] == [3, 4, 5]
    assert {r["machine_id"] for r in reports} == {ERASED}
    assert json.dumps(reports).count(OTHER) == 0
