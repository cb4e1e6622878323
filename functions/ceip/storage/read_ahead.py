"""Reading objects ahead of a loop that must handle them one at a time, in order.

The purge decides object by object, in key order, and its checkpoint names the last object done: the
decisions stay sequential. What each decision waits for is not: an S3 GET (tens of milliseconds).
Those run on a few threads, a batch of objects per task so that small objects do not drown in
handoffs between threads, while the loop works through earlier ones.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def read_ahead(
    items: Iterable[T], function: Callable[[T], R], *, workers: int, batch: int, depth: int
) -> Generator[tuple[T, R], None, None]:
    """(item, function(item)) for every item, in the items' order, computed ahead on up to `workers`
    threads.

    Batches of `batch` items are read ahead, two at first and one more each time the loop finds the
    batch it needs unfinished, up to `depth`: slow reads (S3) earn as many threads as they need, while
    fast ones (a local store) keep to one or two and spare the GIL. The items themselves are drawn
    from `items` on the caller's thread. An error of function is raised where its item's turn comes,
    and closing the iterator early (a deadline) cancels what was not started."""
    if workers < 1 or batch < 1 or depth < 1:
        raise ValueError("workers, batch and depth must be at least 1")
    source = iter(items)
    ahead = min(2, depth)

    def run(chunk: list[T]) -> list[R]:
        return [function(item) for item in chunk]

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="read-ahead") as pool:
        pending: deque[tuple[list[T], Future[list[R]]]] = deque()
        exhausted = False

        def top_up() -> None:
            nonlocal exhausted
            while not exhausted and len(pending) < ahead:
                chunk = list(islice(source, batch))
                if not chunk:
                    exhausted = True
                    return
                pending.append((chunk, pool.submit(run, chunk)))

        try:
            top_up()
            while pending:
                chunk, future = pending.popleft()
                if not future.done() and ahead < depth:
                    ahead += 1  # the loop is waiting on reads: read further ahead
                top_up()
                results = future.result()
                yield from zip(chunk, results, strict=True)
        finally:
            for _, future in pending:
                future.cancel()
