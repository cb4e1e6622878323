"""Running one function over many items on a few threads: S3 round trips wait, and zlib releases the GIL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_in_threads(function: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """function over items on a few threads, results in order.

    Each thread pulls the next item itself: one future per item costs more in handoffs between
    threads than reading a small object does. The first error stops every thread and is raised."""
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

    threads = max(1, min(workers, len(items)))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="worker") as pool:
        futures = [pool.submit(work) for _ in range(threads)]
    for future in futures:
        future.result()
    return results
