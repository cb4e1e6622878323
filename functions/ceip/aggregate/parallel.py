"""Running one function over many items on a few threads: S3 round trips wait, and zlib releases the GIL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

SHARED_THREADS = 32
"""Threads of the one pool every call borrows from: threads started afresh for some forty calls cost
the caller 20 to 60 ms a run (docs/adr/0005)."""

_shared: ThreadPoolExecutor | None = None
_shared_lock = threading.Lock()


def _shared_pool() -> ThreadPoolExecutor:
    global _shared  # noqa: PLW0603  # one pool per process, made on first use
    with _shared_lock:
        if _shared is None:
            _shared = ThreadPoolExecutor(max_workers=SHARED_THREADS, thread_name_prefix="worker")
        return _shared


def map_in_threads(function: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """function over items on up to `workers` threads (the caller's among them), results in order.

    Each thread pulls the next item itself (a future per item costs more than reading a small
    object: docs/adr/0003). The caller works too, and helpers come from a shared pool: if the pool
    is busy, the caller gets through the items alone, so calls made from inside `function` cannot
    deadlock. The first error stops every thread and is raised; nothing of the call still runs when
    it returns or raises."""
    results: list[R] = [None] * len(items)  # type: ignore[list-item]  # every slot is filled or we raise
    next_index = iter(range(len(items)))
    lock = threading.Lock()
    failed = threading.Event()

    def work() -> None:
        while not failed.is_set():
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            try:
                results[index] = function(items[index])
            except BaseException:
                failed.set()
                raise

    helpers: list[Future[None]] = [
        _shared_pool().submit(work) for _ in range(max(1, min(workers, len(items))) - 1)
    ]
    try:
        work()
    finally:
        # A helper that has not started finds nothing left to do: cancelled, it is not waited for.
        started = [helper for helper in helpers if not helper.cancel()]
        wait(started)
    for helper in started:
        helper.result()
    return results
