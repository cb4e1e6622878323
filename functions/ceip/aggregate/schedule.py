"""The schedule of a day's run: which steps run beside which, what starts ahead, what closes behind.

Every thread that runs a whole step starts here; aggregate_day (service.py) calls the steps in order
and hands these methods the ones that overlap. The measurements behind each choice are in
docs/adr/0001-aggregation-schedule.md.

    ahead   DuckDB starts on a thread of its own while the objects are listed and the first chunk
            fetched; the earlier days' sketches come down on the history thread while the day loads,
            and OpenDP loads there while the machine tables are built.
    beside  performance, and the sketches, windows and rolling tables, each on a thread of its own
            while the calling thread builds the small daily tables; each publishes what it built.
    behind  DuckDB closes on the history thread while the day's files go up.

Inside a step, not here: the next chunk is fetched while one is parsed (loading.load_objects),
independent statements run side by side on cursors (Engine, docs/adr/0002), and store requests go
STORE_WORKERS at a time (parallel.map_in_threads).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Protocol, TypeVar

from ceip.aggregate.tables import DAILY_TABLES


class Closable(Protocol):
    def close(self) -> None: ...


T = TypeVar("T")
E = TypeVar("E", bound=Closable)
Small = TypeVar("Small")
Heavy = TypeVar("Heavy")
Rolling = TypeVar("Rolling")

STORE_WORKERS = 8
"""Store requests in flight at once: one after the other, a run would wait a second or two on S3."""
PUBLISHED_EARLY = ("active", "configuration", "usage", "problems", "features")
"""Daily tables built and published on the calling thread while the heavy one is computed beside them."""
BUILT_BESIDE = tuple(table for table in DAILY_TABLES if table not in PUBLISHED_EARLY)
"""performance, by far the heaviest daily table (it reads only `reports`): on a thread of its own."""


class DaySchedule:
    """The threads of one run beside the calling thread; enter it for the length of the run."""

    def __init__(self) -> None:
        self._history = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")

    def __enter__(self) -> DaySchedule:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._history.shutdown(wait=True)

    def started_ahead(self, work: Callable[[], T]) -> Future[T]:
        """work started on the history thread now, for a later step: the earlier days' sketches (a
        listing and up to 27 GETs) come down while the day loads; OpenDP loads and the thresholds are
        found while DuckDB builds the machine tables (during the load it would hold the GIL the fetch
        threads need: the 250k day's fetch took 0.25 s instead of 0.1 s)."""
        return self._history.submit(work)

    @contextlib.contextmanager
    def engine_starting(self, start: Callable[[], E]) -> Iterator[Callable[[], E]]:
        """start on a thread of its own while the block lists and fetches the first chunk (DuckDB's
        start costs tens of milliseconds every run); the callable yielded waits for the engine, which
        is closed if the block fails."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine") as starter:
            starting = starter.submit(start)
            try:
                yield starting.result
            except BaseException:
                with contextlib.suppress(Exception):
                    starting.result().close()
                raise

    def tables_side_by_side(
        self, *, small: Callable[[], Small], heavy: Callable[[], Heavy], rolling: Callable[[], Rolling]
    ) -> tuple[Small, Heavy, Rolling]:
        """heavy and rolling each on a thread of its own from the start, small on the calling thread:
        the small tables' fixed costs leave DuckDB's threads idle for the others to fill."""
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="aggregate") as beside:
            heavy_built = beside.submit(heavy)
            rolling_built = beside.submit(rolling)
            small_built = small()
            rolling_result = rolling_built.result()
            return small_built, heavy_built.result(), rolling_result

    def closed_while_uploading(self, engine: Closable, upload: Callable[[], T]) -> T:
        """engine closed on the history thread while upload runs: DuckDB hands back its memory (tens
        of milliseconds for a large day) while the files go up."""
        closing = self._history.submit(engine.close)
        try:
            return upload()
        finally:
            closing.result()
