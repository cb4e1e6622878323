"""A flood of junk erasure requests under moto (DynamoDB and S3 as the purge meets them): one run serves
the real requests with their receipts and the junk with receipts of nothing, in pages, and writes to
DynamoDB once before its first checkpoint and once per receipt after it (ADR 0012)."""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from ceip.datasubject import api, purge_app
from ceip.datasubject.model import ErasureRequest, RequestStatus, iso
from ceip.datasubject.purge import FULFIL_PAGE, Deadline, Purger
from ceip.datasubject.purge_checkpoint import CheckpointStore
from ceip.datasubject.request_store import RequestStore, _to_item
from ceip.datasubject.settings import datasubject_settings
from ceip.datasubject.wiring import build_purger
from ceip.ingest import app as ingest_app
from ceip.machines.keyer import machine_keyer
from ceip.machines.suppression import KEY_ATTRIBUTE, dynamodb_client
from tests.conftest import MACHINE_KEY_SECRET_ID, PRIVACY_REQUESTS_TABLE, SUPPRESSION_TABLE
from tests.functional.test_privacy_requests_api import call, erasure_event, status_event
from tests.support.clock import Clock
from tests.support.events import http_event
from tests.support.faults import Faults
from tests.support.reports import make_report

START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
JUNK = 2_500
"""Three pages of the fulfil's walk (the table also holds the real requests and the pass record)."""
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
_rng = random.Random(16)


def guid() -> str:
    return str(uuid.UUID(int=_rng.getrandbits(128), version=4))


REAL = [guid() for _ in range(3)]
"""Machines with reports that ask for erasure."""
KEPT = [guid() for _ in range(2)]


class FirstSaveWatch:
    """The purge's checkpoints, noting DynamoDB's calls so far when the first checkpoint is saved."""

    def __init__(self, inner: CheckpointStore, calls: Counter[str]) -> None:
        self.inner = inner
        self.calls = calls
        self.at_first_save: Counter[str] | None = None

    def load(self) -> dict[str, Any] | None:
        return self.inner.load()

    def save(self, state: dict[str, Any]) -> None:
        if self.at_first_save is None:
            self.at_first_save = Counter(self.calls)
        self.inner.save(state)

    def load_progress(self) -> dict[str, Any] | None:
        return self.inner.load_progress()

    def save_progress(self, progress: dict[str, Any]) -> None:
        self.inner.save_progress(progress)

    def clear(self) -> None:
        self.inner.clear()


@pytest.fixture
def flood(s3: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Reports of five machines over a day, the three real erasure requests (filed through the API) and
    2,500 junk ones for GUIDs that sent nothing, written straight to both tables."""
    clock = Clock(START)
    for module in (ingest_app, api, purge_app):
        monkeypatch.setattr(module, "utc_now", clock)
    for hour in range(3):
        clock.now = START + timedelta(hours=hour)
        for machine in (*REAL, *KEPT):
            made = iso(clock.now - timedelta(minutes=5))
            batch = {"reports": [make_report(machine_id=machine, created_at=made) for _ in range(2)]}
            assert ingest_app.lambda_handler(http_event(batch), lambda_context)["statusCode"] == 202
    clock.now = START + timedelta(hours=5)
    real_ids = []
    for machine in REAL:
        status, _, filed = call(erasure_event(machine), lambda_context)
        assert status == 202
        real_ids.append(filed["request_id"])
    # The items RequestStore.create writes, without its transaction (20 ms a call under moto).
    keyer = machine_keyer(MACHINE_KEY_SECRET_ID)
    received = START + timedelta(hours=6)
    junk = [
        ErasureRequest(guid(), keyer.key(guid()), RequestStatus.RECEIVED, received, received)
        for _ in range(JUNK)
    ]
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for start in range(0, JUNK, 25):
        batch = junk[start : start + 25]
        dynamodb.batch_write_item(
            RequestItems={
                PRIVACY_REQUESTS_TABLE: [{"PutRequest": {"Item": _to_item(r)}} for r in batch],
                SUPPRESSION_TABLE: [
                    {
                        "PutRequest": {
                            "Item": {
                                KEY_ATTRIBUTE: {"S": r.machine_key},
                                "request_id": {"S": r.request_id},
                                "suppressed_at": {"S": iso(r.received_at)},
                            }
                        }
                    }
                    for r in batch
                ],
            }
        )
    clock.now = START + timedelta(days=1)
    return {"real": real_ids, "junk": {r.request_id for r in junk}}


def watched_purger() -> tuple[Purger, Faults, FirstSaveWatch]:
    """The purge as purge_app builds it, its DynamoDB calls counted (retries included) from the start."""
    calls = Faults(dynamodb_client())  # no failure planned: it only counts
    purger = build_purger(datasubject_settings(), Deadline(None), now=lambda: START + timedelta(days=1))
    watch = FirstSaveWatch(purger.checkpoints, calls.attempts)
    purger.checkpoints = watch
    return purger, calls, watch


def test_one_run_serves_a_flood_with_receipts_and_writes_once_before_its_first_checkpoint(
    flood: dict[str, Any], lambda_context: Any
) -> None:
    # Given 3 real erasure requests and 2,500 junk ones pending
    purger, calls, watch = watched_purger()
    # When one purge runs
    outcome = purger.run()
    during = Counter(calls.attempts)  # before the test's own reads
    # Then every request is served in that run; the outcome names the real ones only
    assert outcome.status == "fulfilled" and outcome.served == 3 + JUNK
    assert set(outcome.requests) == set(flood["real"])
    # And each real request is fulfilled with its machine's 6 reports removed and none left
    for request_id in flood["real"]:
        _, _, status = call(status_event(request_id), lambda_context)
        assert status["status"] == "fulfilled"
        assert status["receipt"]["reports_removed"] == 6
        assert status["receipt"]["verification_remaining"] == 0
    # And each junk request is fulfilled with a receipt of nothing, over every object scanned
    stored = {r.request_id: r for r in RequestStore(PRIVACY_REQUESTS_TABLE, SUPPRESSION_TABLE).all_requests()}
    junk = [stored[request_id] for request_id in flood["junk"]]
    assert {r.status for r in junk} == {RequestStatus.FULFILLED}
    receipts = {r.receipt for r in junk}
    assert len(receipts) == 1
    (nothing,) = receipts
    assert nothing is not None
    assert (nothing.reports_removed, nothing.objects_rewritten, nothing.verification_remaining) == (0, 0, 0)
    assert nothing.objects_scanned == outcome.objects_scanned == 15
    # And before the first checkpoint DynamoDB saw one write, the pass record, not one per request
    assert watch.at_first_save is not None
    assert {op: n for op, n in watch.at_first_save.items() if op in WRITES} == {"UpdateItem": 1}
    # And in all, one UpdateItem per receipt plus the pass record set and removed; the requests read in
    # pages: one for the start, two walks of the table, and one page of the suppression list
    assert {op: n for op, n in during.items() if op in WRITES} == {"UpdateItem": 3 + JUNK + 2}
    items = 3 + JUNK + 1  # the pass record is an item of the table too
    assert during["Scan"] == 1 + 1 + 2 * math.ceil(items / FULFIL_PAGE)
    assert purger.requests.pass_cutoff() is None
    assert purger.checkpoints.load() is None
