"""Load a day's report objects into the engine chunk by chunk, fetching the next chunk meanwhile.

Fetching waits on S3 and parsing keeps every core busy, so they overlap (docs/adr/0003); /tmp holds
at most two chunks.

A chunk whose gzip DuckDB refuses is inflated object by object (staging's exact path) and loaded
again; DuckDB rolls back a failed INSERT, so nothing of the broken attempt is counted twice.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ceip.aggregate.engine import CorruptInput
from ceip.aggregate.staging import Staged, fetch_objects, inflate_parts
from ceip.storage.aggregate_s3 import ReportSource

Append = Callable[[Sequence[Path]], int]
"""Appends staged part files to an engine table and returns the rows added; raises CorruptInput."""


@dataclass(frozen=True, slots=True)
class Loaded:
    objects_read: int = 0
    """Objects fetched, corrupt ones included."""
    objects_corrupt: int = 0
    objects_vanished: int = 0
    bytes_read: int = 0
    lines: int = 0
    """Rows added: every non-empty line, unparseable ones included."""

    def plus(self, staged: Staged, lines: int) -> Loaded:
        return Loaded(
            self.objects_read + staged.objects_read,
            self.objects_corrupt + staged.objects_corrupt,
            self.objects_vanished + staged.objects_vanished,
            self.bytes_read + staged.bytes_read,
            self.lines + lines,
        )


def chunks(keys: Sequence[str], size: int) -> list[Sequence[str]]:
    """keys in order, cut into as few chunks of at most `size` as there can be, of even sizes: a
    short chunk loads a report at up to twice the cost of a full one (docs/adr/0003)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    count = -(-len(keys) // size)
    return [keys[len(keys) * number // count : len(keys) * (number + 1) // count] for number in range(count)]


def load_objects(
    keys: Sequence[str],
    source: ReportSource,
    append: Append,
    directory: Path,
    *,
    chunk_objects: int,
    fetch_workers: int,
    parse_threads: int,
) -> Loaded:
    """Fetch and append every key; each chunk is deleted from disk as soon as it is loaded."""
    parts = chunks(keys, chunk_objects)
    loaded = Loaded()

    def fetch(number: int) -> Staged:
        return fetch_objects(
            parts[number],
            source,
            directory / f"{number:05d}",
            name="part",
            workers=fetch_workers,
            files=parse_threads,
        )

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch") as prefetch:
        pending: Future[Staged] | None = prefetch.submit(fetch, 0) if parts else None
        try:
            for number in range(len(parts)):
                assert pending is not None
                staged = pending.result()
                pending = prefetch.submit(fetch, number + 1) if number + 1 < len(parts) else None
                staged, lines = _append(append, staged, directory / f"{number:05d}-exact", parse_threads)
                shutil.rmtree(directory / f"{number:05d}", ignore_errors=True)
                shutil.rmtree(directory / f"{number:05d}-exact", ignore_errors=True)
                loaded = loaded.plus(staged, lines)
        finally:
            if pending is not None:
                pending.cancel()
    return loaded


def _append(append: Append, staged: Staged, exact_dir: Path, threads: int) -> tuple[Staged, int]:
    """Append the fast way; if a gzip part is broken, inflate object by object and append that."""
    try:
        return staged, append(staged.files)
    except CorruptInput:
        exact = inflate_parts(staged, exact_dir, name="exact", workers=threads, files=threads)
        return exact, append(exact.files)
