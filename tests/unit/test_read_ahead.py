"""read_ahead: objects fetched on threads, handed to the purge's loop one by one and in order."""

from __future__ import annotations

import random
import threading
import time
from contextlib import closing

import pytest

from ceip.storage.read_ahead import read_ahead


class Recorder:
    """A read that notes which items it was asked for, from any thread."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, n: int) -> int:
        with self._lock:
            self.started.append(n)
        return n


def test_results_come_in_the_items_order_whatever_order_the_threads_finish_in() -> None:
    # Given reads that take uneven times on several threads
    rng = random.Random(3)
    delays = {n: rng.random() / 500 for n in range(200)}

    def slow_square(n: int) -> int:
        time.sleep(delays[n])
        return n * n

    # When they are read ahead
    pairs = list(read_ahead(range(200), slow_square, workers=4, batch=3, depth=5))
    # Then every item arrives once, in order, with its own result
    assert pairs == [(n, n * n) for n in range(200)]


def test_no_more_than_depth_batches_are_read_ahead_of_the_loop() -> None:
    # Given a loop that has taken only the first item
    record = Recorder()
    with closing(read_ahead(range(1_000), record, workers=2, batch=4, depth=3)) as pairs:
        assert next(pairs) == (0, 0)
        time.sleep(0.05)
        # Then at most the current batch and depth more were read (none of the rest of the listing)
        assert len(record.started) <= 4 * (3 + 1)


def test_an_error_is_raised_when_its_items_turn_comes_and_earlier_items_are_handed_over() -> None:
    def fail_on_seven(n: int) -> int:
        if n == 7:
            raise OSError("storage unavailable")
        return n

    seen: list[int] = []

    def consume() -> None:
        for item, _ in read_ahead(range(20), fail_on_seven, workers=3, batch=2, depth=2):
            seen.append(item)

    with pytest.raises(OSError, match="storage unavailable"):
        consume()
    assert seen == [0, 1, 2, 3, 4, 5]  # the batch holding 7 (6 and 7) fails as a whole


def test_stopping_early_does_not_read_the_rest() -> None:
    # Given a long listing, and a loop that stops after a few items (a deadline)
    record = Recorder()
    with closing(read_ahead(range(100_000), record, workers=2, batch=10, depth=2)) as pairs:
        for item, _ in pairs:
            if item == 5:
                break
    # Then the reads stop with the loop, a few batches in
    assert len(record.started) <= 10 * 4


def test_empty_input_and_bad_sizes() -> None:
    assert list(read_ahead([], lambda n: n, workers=2, batch=2, depth=2)) == []
    with pytest.raises(ValueError):
        list(read_ahead([1], lambda n: n, workers=0, batch=1, depth=1))
