"""DaySchedule: what runs beside what in a day's run, the engine closed on every way out."""

from __future__ import annotations

import threading
import time

import pytest

from ceip.aggregate import schedule, tables
from ceip.aggregate.schedule import DaySchedule

MEET = 5.0
"""Seconds a side waits for the other at a barrier before the test fails: they did not overlap."""


class FakeEngine:
    def __init__(self) -> None:
        self.closed_on: str | None = None

    def close(self) -> None:
        self.closed_on = threading.current_thread().name


def test_the_engine_starts_on_its_own_thread_while_the_caller_lists_and_loads() -> None:
    # Given a start that cannot finish until the caller's listing has begun
    listing_started = threading.Event()
    engine = FakeEngine()
    started_on: list[str] = []

    def start() -> FakeEngine:
        started_on.append(threading.current_thread().name)
        assert listing_started.wait(MEET)
        return engine

    # When the caller lists, then waits for the engine to append
    with DaySchedule() as run, run.engine_starting(start) as started_engine:
        listing_started.set()
        appended_to = started_engine()

    # Then the engine started on a thread of its own, beside the listing, and was not closed
    assert appended_to is engine
    assert started_on[0].startswith("engine")
    assert engine.closed_on is None


def test_a_failed_load_closes_the_engine_that_was_starting() -> None:
    # Given an engine being started while the load fails
    engine = FakeEngine()

    # When the block raises
    with (
        DaySchedule() as run,
        pytest.raises(RuntimeError, match="load failed"),
        run.engine_starting(lambda: engine),
    ):
        raise RuntimeError("load failed")

    # Then the engine was closed before the error went on
    assert engine.closed_on is not None


def test_the_earlier_sketches_come_down_on_the_history_thread_while_the_day_loads() -> None:
    # Given a fetch that cannot finish until the caller is loading
    loading = threading.Event()

    def fetch() -> str:
        assert loading.wait(MEET)
        return threading.current_thread().name

    # When it is started ahead and the caller loads meanwhile
    with DaySchedule() as run:
        fetched = run.started_ahead(fetch)
        loading.set()
        fetched_on = fetched.result()

    # Then it ran on the history thread, beside the load
    assert fetched_on.startswith("history")


def test_heavy_rolling_and_small_tables_are_built_at_the_same_time() -> None:
    # Given three lanes that each wait until all three are under way
    everyone = threading.Barrier(3, timeout=MEET)

    def lane(name: str) -> tuple[str, str]:
        everyone.wait()
        return name, threading.current_thread().name

    # When they are built side by side
    with DaySchedule() as run:
        small, heavy, rolling = run.tables_side_by_side(
            small=lambda: lane("small"), heavy=lambda: lane("heavy"), rolling=lambda: lane("rolling")
        )

    # Then all three overlapped, the small tables on the calling thread, and each result is its own
    assert small == ("small", threading.current_thread().name)
    assert heavy[0] == "heavy"
    assert heavy[1].startswith("aggregate")
    assert rolling[0] == "rolling"
    assert rolling[1].startswith("aggregate")
    assert heavy[1] != rolling[1]


def test_a_failing_lane_is_raised_after_the_others_have_finished() -> None:
    # Given a rolling lane that fails while the heavy one is still computing
    finished: list[str] = []

    def heavy() -> None:
        time.sleep(0.05)
        finished.append("heavy")

    def rolling() -> None:
        raise ValueError("rolling failed")

    # When they are built side by side
    with DaySchedule() as run, pytest.raises(ValueError, match="rolling failed"):
        run.tables_side_by_side(small=lambda: finished.append("small"), heavy=heavy, rolling=rolling)

    # Then the error came out only once nothing of the step still ran
    assert sorted(finished) == ["heavy", "small"]


def test_the_engine_closes_on_the_history_thread_while_the_files_go_up() -> None:
    # Given an upload that cannot finish until the engine is closing
    closing = threading.Event()

    class SlowEngine(FakeEngine):
        def close(self) -> None:
            closing.set()
            super().close()

    engine = SlowEngine()

    def upload() -> str:
        assert closing.wait(MEET)
        return "uploaded"

    # When the engine is closed behind the upload
    with DaySchedule() as run:
        uploaded = run.closed_while_uploading(engine, upload)
        # Then the close has finished by the time the upload's result is back
        assert engine.closed_on is not None

    assert uploaded == "uploaded"
    assert engine.closed_on.startswith("history")


def test_a_failed_upload_still_waits_for_the_engine_to_close() -> None:
    # Given an engine whose close takes a while
    class SlowEngine(FakeEngine):
        def close(self) -> None:
            time.sleep(0.05)
            super().close()

    engine = SlowEngine()

    def upload() -> None:
        raise OSError("store down")

    # When the upload fails
    with DaySchedule() as run, pytest.raises(OSError, match="store down"):
        run.closed_while_uploading(engine, upload)

    # Then the engine was closed before the error went on
    assert engine.closed_on is not None


def test_every_daily_table_is_in_exactly_one_lane() -> None:
    # Given the two daily lanes
    early, beside = schedule.PUBLISHED_EARLY, schedule.BUILT_BESIDE

    # Then together they are the daily tables, none twice, and performance is alone beside the others
    assert sorted(early + beside) == sorted(tables.DAILY_TABLES)
    assert beside == ("performance",)
