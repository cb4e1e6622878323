"""Each in-memory twin against its AWS adapter under moto: the same calls give the same answers on the
points the services depend on (conditional writes, missing keys, listing order, clearing)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ceip.datasubject.model import ErasureRequest, Receipt, RequestStatus
from ceip.datasubject.purge_checkpoint import CheckpointStore, MemoryCheckpoint, S3Checkpoint
from ceip.datasubject.request_store import ConcurrentFiling, MemoryRequestStore, RequestPort, RequestStore
from ceip.machines.machine_key import MachineKeyer
from ceip.machines.suppression import KEY_ATTRIBUTE, MemorySuppression, SuppressionCheck, SuppressionLookup
from ceip.storage.aggregate_s3 import AggregateStore, MemoryStore, S3AggregateStore
from ceip.storage.report_objects import MemoryReportObjects, ReportObjects, S3ReportObjects
from tests.conftest import PRIVACY_REQUESTS_TABLE, REPORTS_BUCKET, SUPPRESSION_TABLE

UNVERSIONED_BUCKET = "ceip-test-twins"
SECRET = b"twin-contract-machine-key-secret-0123456789abcdef"
RECEIVED = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
SIDES = ("twin", "aws")


def request(request_id: str, machine_key: str = "key-1") -> ErasureRequest:
    return ErasureRequest(request_id, machine_key, RequestStatus.RECEIVED, RECEIVED, RECEIVED)


def receipt() -> Receipt:
    return Receipt(10, 1, 3, 0, 10, 0, 0, "2026-11-29T06:00:00Z")


@pytest.fixture(params=SIDES)
def requests(request: pytest.FixtureRequest, s3: Any) -> RequestPort:
    if request.param == "twin":
        return MemoryRequestStore()
    return RequestStore(PRIVACY_REQUESTS_TABLE, SUPPRESSION_TABLE)


def test_request_store_refuses_a_filing_that_lost_the_race_and_reads_missing_as_none(
    requests: RequestPort,
) -> None:
    # Given one request filed for a machine
    requests.create(request("r1"), replaces=None)
    # When a second filing still believes the machine has none, and a third replaces the first
    with pytest.raises(ConcurrentFiling):
        requests.create(request("r2"), replaces=None)
    requests.create(request("r3"), replaces="r1")
    # Then the machine points at the third; unknown ids and machines read as None
    assert requests.latest_request_id("key-1") == "r3"
    assert requests.get("r2") is None
    assert requests.latest_request_id("key-other") is None


def test_request_store_keeps_receipts_and_leaves_fulfilled_requests_out_of_the_open_ones(
    requests: RequestPort,
) -> None:
    # Given two requests of two machines
    requests.create(request("r1", "key-1"), replaces=None)
    requests.create(request("r2", "key-2"), replaces=None)
    # When one is fulfilled with a receipt and the other is in progress
    requests.set_status("r1", RequestStatus.FULFILLED, receipt())
    requests.set_status("r2", RequestStatus.IN_PROGRESS)
    # Then only the second is open, and the first carries its receipt
    assert [(r.request_id, r.status) for r in requests.open_requests()] == [("r2", RequestStatus.IN_PROGRESS)]
    fulfilled = requests.get("r1")
    assert fulfilled is not None
    assert fulfilled.receipt == receipt()


@pytest.fixture(params=SIDES)
def checkpoints(request: pytest.FixtureRequest, s3: Any) -> CheckpointStore:
    return MemoryCheckpoint() if request.param == "twin" else S3Checkpoint(REPORTS_BUCKET)


def test_checkpoint_round_trips_both_records_and_clears_them(checkpoints: CheckpointStore) -> None:
    # Given no pass so far
    assert checkpoints.load() is None
    assert checkpoints.load_progress() is None
    # When a checkpoint and a progress record are saved
    state = {"pass_id": "p", "request_ids": ["r1"], "remaining": {"k": 2}, "last_key": None}
    checkpoints.save(state)
    checkpoints.save_progress({"pass_id": "p", "base": 1})
    # Then both read back as saved, and clearing removes both
    assert checkpoints.load() == state
    assert checkpoints.load_progress() == {"pass_id": "p", "base": 1}
    checkpoints.clear()
    assert (checkpoints.load(), checkpoints.load_progress()) == (None, None)


KEYS = ("reports/dt=2026-11-28/hr=01/b", "reports/dt=2026-11-28/hr=00/a", "reports/dt=2026-11-29/hr=00/c")


@pytest.fixture(params=SIDES)
def report_objects(request: pytest.FixtureRequest, s3: Any) -> ReportObjects:
    bodies = {key: key.encode() for key in KEYS} | {"other/x": b"x"}
    if request.param == "twin":
        return MemoryReportObjects(bodies)
    s3.create_bucket(Bucket=UNVERSIONED_BUCKET)
    for key, body in bodies.items():
        s3.put_object(Bucket=UNVERSIONED_BUCKET, Key=key, Body=body)
    return S3ReportObjects(UNVERSIONED_BUCKET, client=s3)


def listed(objects: ReportObjects, start_after: str | None = None) -> list[tuple[str, str | None, bool]]:
    return [(o.key, o.latest_version, o.has_current) for o in objects.objects("reports/", start_after)]


def test_report_objects_list_in_key_order_after_the_resume_point_and_see_changes(
    report_objects: ReportObjects,
) -> None:
    # Given three objects under the prefix (written out of order) and one beside it
    ordered = sorted(KEYS)
    assert listed(report_objects) == [(key, None, True) for key in ordered]
    assert listed(report_objects, ordered[0]) == [(key, None, True) for key in ordered[1:]]
    # When one is replaced and another deleted (an unversioned bucket: the current one)
    report_objects.replace(ordered[0], b"new")
    report_objects.delete_version(ordered[1], None)
    # Then the listing and the reads show exactly that, in the order asked
    assert [key for key, _, _ in listed(report_objects)] == [ordered[0], ordered[2]]
    reads = [(o, (None,)) for o in report_objects.objects("reports/", None)]
    assert [(o.key, bodies) for o, bodies in report_objects.read_each(reversed(reads))] == [
        (ordered[2], [ordered[2].encode()]),
        (ordered[0], [b"new"]),
    ]


@pytest.fixture(params=SIDES)
def aggregate_store(request: pytest.FixtureRequest, s3: Any) -> AggregateStore:
    if request.param == "twin":
        return MemoryStore()
    s3.create_bucket(Bucket=UNVERSIONED_BUCKET)
    return S3AggregateStore(UNVERSIONED_BUCKET, client=s3)


def test_aggregate_store_lists_sorted_reads_missing_as_none_and_deletes_absent_keys(
    aggregate_store: AggregateStore,
) -> None:
    # Given two files written out of order, one of them twice
    aggregate_store.put("internal/t/b.parquet", b"1", content_type="application/octet-stream")
    aggregate_store.put("internal/t/a.parquet", b"2", content_type="application/octet-stream")
    aggregate_store.put("internal/t/b.parquet", b"3", content_type="application/octet-stream")
    # When one is deleted together with a key that never existed
    aggregate_store.delete(["internal/t/a.parquet", "internal/t/never.parquet"])
    # Then the listing is sorted, the last write wins and a missing key reads as None
    assert aggregate_store.list_keys("internal/") == ["internal/t/b.parquet"]
    assert aggregate_store.get("internal/t/b.parquet") == b"3"
    assert aggregate_store.get("internal/t/a.parquet") is None


MACHINES = ("3f2b6c1e-8d4a-4b7e-9c2d-1a5e6f7b8c9d", "7a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b")


@pytest.fixture(params=SIDES)
def suppression(request: pytest.FixtureRequest, s3: Any) -> SuppressionCheck:
    if request.param == "twin":
        return MemorySuppression({MACHINES[0]})
    import boto3

    keyer = MachineKeyer(SECRET)
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=SUPPRESSION_TABLE, Item={KEY_ATTRIBUTE: {"S": keyer.key(MACHINES[0])}}
    )
    return SuppressionLookup(SUPPRESSION_TABLE, keyer)


def test_suppression_answers_the_suppressed_subset_of_what_it_is_asked(suppression: SuppressionCheck) -> None:
    # Given one suppressed machine among two (the fixture)
    # When it is asked about both, about the other alone and about nothing
    answers = [suppression.suppressed(ids) for ids in (MACHINES, MACHINES[1:], ())]
    # Then only the suppressed one comes back
    assert answers == [{MACHINES[0]}, set(), set()]
