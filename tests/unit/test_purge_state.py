"""The purge's saved records: a checkpoint and a progress record written before the state moved into
its own module (bytes captured from that code) load, resume and are written again byte for byte; and
what a served request's receipt makes of its status."""

from __future__ import annotations

import json
from collections import Counter

from ceip.datasubject.model import Receipt, RequestStatus, StatusReason, served_status
from ceip.datasubject.purge_checkpoint import encode
from ceip.datasubject.purge_state import Counts, PassState, Phase

CHECKPOINT = (
    b'{"pass_id": "p-1", "request_ids": ["r1", "r2"], "machine_keys": ["k1", "k2"], "last_key": '
    b'"reports/dt=2026-11-28/hr=03/a.ndjson.gz", "objects_scanned": 12, "rewritten": {"k1": 2}, '
    b'"removed": {"k1": 7}, "versions_deleted": {"k1": 1}, "unreadable_objects": 1, "phase": "verify", '
    b'"verify_last_key": "reports/dt=2026-11-28/hr=01/b.ndjson.gz", "verify_scanned": 5, '
    b'"remaining": {"k2": 1}, "verify_unreadable": 1, "saves": 3}'
)
PROGRESS = (
    b'{"pass_id": "p-1", "base": 3, "last_key": "reports/dt=2026-11-28/hr=03/a.ndjson.gz", '
    b'"objects_scanned": 12, "since_save": {"rewritten": {"k2": 1}, "removed": {"k2": 4}, '
    b'"versions_deleted": {}, "unreadable_objects": 0}, "in_flight": {"key": '
    b'"reports/dt=2026-11-28/hr=04/c.ndjson.gz", "rewritten": {"k2": 1}, "removed": {"k2": 4}, '
    b'"versions_deleted": {}, "unreadable_objects": 0}}'
)


def test_a_checkpoint_written_before_the_split_loads_and_is_written_again_byte_for_byte() -> None:
    # Given a checkpoint as the earlier code saved it, in the verify phase
    # When it is loaded and saved again
    state = PassState.from_dict(json.loads(CHECKPOINT))
    # Then the phase is the enum's, and the bytes are those read
    assert state.phase is Phase.VERIFY
    assert state.counts.removed == Counter({"k1": 7})
    assert encode(state.as_dict()) == CHECKPOINT


def test_a_progress_record_of_the_same_save_is_applied_and_written_again_byte_for_byte() -> None:
    # Given the checkpoint and the progress record written after it (it names save 3)
    state = PassState.from_dict(json.loads(CHECKPOINT))
    state.last_key, state.objects_scanned = "reports/dt=2026-11-28/hr=02/z.ndjson.gz", 11
    # When the record is caught up with
    state.catch_up(json.loads(PROGRESS))
    # Then the state is where the record says, the change in flight is known, and the record the state
    # writes for that change is the one read
    assert (state.last_key, state.objects_scanned) == ("reports/dt=2026-11-28/hr=03/a.ndjson.gz", 12)
    assert state.counts.removed == Counter({"k1": 7, "k2": 4})
    assert state.in_flight is not None
    in_flight = Counts.from_dict(state.in_flight)
    state.since_save = Counts.from_dict(json.loads(PROGRESS)["since_save"])
    assert encode(state.progress(state.in_flight["key"], in_flight)) == PROGRESS


def test_a_progress_record_of_another_save_or_pass_is_ignored() -> None:
    # Given the checkpoint, and progress records naming an older save and another pass
    for stale in ({"base": 2}, {"pass_id": "p-0"}):
        state = PassState.from_dict(json.loads(CHECKPOINT))
        # When one is caught up with
        state.catch_up(json.loads(PROGRESS) | stale)
        # Then nothing changes
        assert state.in_flight is None
        assert encode(state.as_dict()) == CHECKPOINT


def test_a_new_pass_starts_in_the_purge_phase_and_saves_it_as_the_earlier_code_did() -> None:
    # Given a new pass
    state = PassState("p-2", ["r1"], ["k1"])
    # When it is saved
    saved = json.loads(encode(state.as_dict()))
    # Then its phase is written as the plain string, and a checkpoint without a phase reads as purge
    assert saved["phase"] == "purge"
    del saved["phase"]
    assert PassState.from_dict(saved).phase is Phase.PURGE


def test_a_request_is_fulfilled_only_when_every_object_was_read_and_none_holds_the_machine() -> None:
    # Given receipts: clean, with reports left, with an unreadable object
    def receipt(remaining: int, unreadable: int) -> Receipt:
        keys = ("reports/dt=2026-11-28/hr=02/x.ndjson.gz",) if unreadable else ()
        return Receipt(5, 1, 2, 0, 5, remaining, unreadable, "2026-11-28T03:00:00Z", keys)

    clean, left, unreadable = receipt(0, 0), receipt(1, 0), receipt(0, 1)
    # Then only the clean one fulfils; the others stay in progress, each with its reason
    assert [served_status(r) for r in (clean, left, unreadable)] == [
        RequestStatus.FULFILLED,
        RequestStatus.IN_PROGRESS,
        RequestStatus.IN_PROGRESS,
    ]
    assert [r.open_reason for r in (clean, left, receipt(2, 3), unreadable)] == [
        None,
        StatusReason.REPORTS_REMAINING,
        StatusReason.REPORTS_REMAINING,
        StatusReason.OBJECTS_UNREADABLE,
    ]
    # And the receipt, keys included, survives its stored form; an older receipt reads with none
    assert Receipt.from_dict(unreadable.as_dict()) == unreadable
    older = {k: v for k, v in clean.as_dict().items() if k != "unreadable_object_keys"}
    assert Receipt.from_dict(older) == clean
