"""map_in_threads: results in order, the first error raised, the caller working, no deadlock when the
shared pool is busy or calls nest."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from ceip.aggregate import parallel
from ceip.aggregate.parallel import map_in_threads


@pytest.fixture
def one_thread_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadPoolExecutor]:
    """A shared pool of a single thread, so that tests can keep it busy."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-shared")
    monkeypatch.setattr(parallel, "_shared", pool)
    yield pool
    pool.shutdown(wait=True)


def test_results_come_back_in_the_order_of_the_items() -> None:
    # Given items whose work takes longer the earlier they come
    items = list(range(20))

    def slow_for_small(n: int) -> int:
        time.sleep((20 - n) / 2000)
        return n * n

    # When they are mapped on four threads
    results = map_in_threads(slow_for_small, items, 4)

    # Then each result sits at its item's place
    assert results == [n * n for n in items]


def test_the_caller_works_and_helpers_come_from_the_shared_pool() -> None:
    # Given a function that notes the thread it runs on and waits a little
    seen: set[str] = set()
    lock = threading.Lock()

    def note(_: int) -> None:
        with lock:
            seen.add(threading.current_thread().name)
        time.sleep(0.01)

    # When twelve items are mapped on three threads
    map_in_threads(note, list(range(12)), 3)

    # Then the calling thread was one of them and the others were the shared pool's
    assert threading.current_thread().name in seen
    assert len(seen) <= 3
    assert all(name == threading.current_thread().name or name.startswith("worker") for name in seen)


def test_the_first_error_is_raised_and_stops_the_other_threads() -> None:
    # Given a function that fails on one item
    done: list[int] = []

    def fail_on_three(n: int) -> int:
        if n == 3:
            raise ValueError("item 3")
        time.sleep(0.005)
        done.append(n)
        return n

    # When many items are mapped
    with pytest.raises(ValueError, match="item 3"):
        map_in_threads(fail_on_three, list(range(200)), 4)

    # Then the threads stopped soon after, and none still runs once the call has raised
    settled = len(done)
    time.sleep(0.05)
    assert len(done) == settled
    assert settled < 50


def test_a_busy_shared_pool_leaves_the_caller_to_do_the_work(one_thread_pool: ThreadPoolExecutor) -> None:
    # Given a shared pool whose only thread is held
    release = threading.Event()
    blocker = one_thread_pool.submit(release.wait)

    # When items are mapped on four threads
    results = map_in_threads(lambda n: n + 1, list(range(10)), 4)

    # Then the caller got through them alone, and the queued helpers were not waited for
    assert results == list(range(1, 11))
    assert not blocker.done()
    release.set()
    blocker.result(timeout=5)


def test_nested_calls_do_not_deadlock_on_a_small_pool(one_thread_pool: ThreadPoolExecutor) -> None:
    # Given a function that itself maps over items, and a shared pool of one thread
    def inner_sum(n: int) -> int:
        return sum(map_in_threads(lambda m: m * n, list(range(5)), 3))

    # When the outer call maps it on three threads
    results = map_in_threads(inner_sum, list(range(6)), 3)

    # Then every call finished with the right result
    assert results == [10 * n for n in range(6)]


def test_no_items_give_no_results() -> None:
    assert map_in_threads(lambda n: n, [], 8) == []
