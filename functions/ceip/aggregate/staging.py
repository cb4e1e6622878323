"""Fetch a day's report objects into a few local part files that DuckDB reads in parallel.

Fast path: each object is appended as it is, still gzip, to the part file of the worker thread that
fetched it. Concatenated gzip members are one valid gzip stream, so DuckDB inflates and parses a part
file in one go, and nothing is decompressed twice. Memory holds a few objects at a time. (Ingest ends
every object with a newline, so no line runs on into the next object's first one.)

Exact path, when DuckDB finds a part file is not valid gzip: every object is inflated on its own
(CRC and length checked), the corrupt ones are skipped and counted, and the rest are written as plain
NDJSON. An object that does not even start like gzip is skipped on the fast path already.

A storage failure is raised, never skipped: retrying the run is the right answer to it.
"""

from __future__ import annotations

import gzip
import itertools
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ceip.aggregate.parallel import map_in_threads
from ceip.storage.aggregate_s3 import ReportSource

GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Part:
    path: Path
    objects: tuple[StoredObject, ...] = field(default=())
    """Where each object sits in a gzip part file (empty for a plain one)."""


@dataclass(frozen=True, slots=True)
class Staged:
    parts: tuple[Part, ...]
    objects_read: int
    """Objects fetched, corrupt ones included."""
    objects_corrupt: int
    objects_vanished: int
    bytes_read: int

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(part.path for part in self.parts)


def inflate(data: bytes) -> bytes | None:
    """The decompressed object, or None when it is not a complete gzip stream (CRC and length checked)."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return None


class _PartWriter:
    """A fixed number of append-only part files, objects dealt to them in turn: DuckDB inflates a gzip
    file on one thread, so the files set how parallel parsing is (docs/adr/0003). Each file has its
    own lock; fetch threads rarely wait on one (a write is a memory copy)."""

    def __init__(self, directory: Path, name: str, suffix: str, *, files: int) -> None:
        if files < 1:
            raise ValueError("at least one part file")
        directory.mkdir(parents=True, exist_ok=True)
        self._paths = [directory / f"{name}-{number:03d}{suffix}" for number in range(files)]
        self._handles: list[BinaryIO] = []
        self._objects: list[list[StoredObject]] = [[] for _ in range(files)]
        self._offsets = [0] * files
        self._locks = [threading.Lock() for _ in range(files)]
        self._turn = itertools.count()
        try:
            for path in self._paths:
                self._handles.append(path.open("wb"))
        except BaseException:
            self._close_handles()
            raise

    def append(self, key: str, data: bytes) -> None:
        number = next(self._turn) % len(self._paths)  # itertools.count: atomic under the GIL
        with self._locks[number]:
            self._objects[number].append(StoredObject(key, self._offsets[number], len(data)))
            self._handles[number].write(data)
            self._offsets[number] += len(data)

    def close(self) -> tuple[Part, ...]:
        """The part files that received an object (empty ones are deleted)."""
        self._close_handles()
        parts = []
        for path, objects in zip(self._paths, self._objects, strict=True):
            if objects:
                parts.append(Part(path, tuple(objects)))
            else:
                path.unlink(missing_ok=True)
        return tuple(parts)

    def _close_handles(self) -> None:
        for handle in self._handles:
            handle.close()


def fetch_objects(
    keys: Sequence[str], source: ReportSource, directory: Path, *, name: str, workers: int, files: int
) -> Staged:
    """Fetch every key on `workers` threads into `files` gzip part files under directory (the fast
    path)."""
    writer = _PartWriter(directory, name, ".ndjson.gz", files=files)
    counts = {"read": 0, "corrupt": 0, "vanished": 0, "bytes": 0}

    def fetch(key: str) -> tuple[str, int]:
        data = source.get(key)
        if data is None:
            return "vanished", 0
        if not data.startswith(GZIP_MAGIC):
            return "corrupt", len(data)
        writer.append(key, data)
        return "read", len(data)

    try:
        for outcome, size in map_in_threads(fetch, keys, workers):
            counts[outcome] += 1
            counts["bytes"] += size
    finally:
        parts = writer.close()
    return Staged(
        parts=parts,
        objects_read=counts["read"] + counts["corrupt"],
        objects_corrupt=counts["corrupt"],
        objects_vanished=counts["vanished"],
        bytes_read=counts["bytes"],
    )


def inflate_parts(staged: Staged, directory: Path, *, name: str, workers: int, files: int) -> Staged:
    """The exact path: inflate each staged object alone into plain NDJSON part files, skipping
    corrupt ones."""
    writer = _PartWriter(directory, name, ".ndjson", files=files)
    corrupt = 0

    def inflate_one(item: tuple[Path, StoredObject]) -> bool:
        path, stored = item
        with path.open("rb") as handle:
            handle.seek(stored.offset)
            text = inflate(handle.read(stored.length))
        if text is None:
            return False
        if text and not text.endswith(b"\n"):
            text += b"\n"  # the next object's first line must not run on
        writer.append(stored.key, text)
        return True

    items = [(part.path, stored) for part in staged.parts for stored in part.objects]
    try:
        corrupt = sum(1 for ok in map_in_threads(inflate_one, items, workers) if not ok)
    finally:
        parts = writer.close()
    for part in staged.parts:
        part.path.unlink(missing_ok=True)
    return Staged(
        parts=tuple(Part(part.path) for part in parts),
        objects_read=staged.objects_read,
        objects_corrupt=staged.objects_corrupt + corrupt,
        objects_vanished=staged.objects_vanished,
        bytes_read=staged.bytes_read,
    )
