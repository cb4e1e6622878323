"""Distinct machines over rolling windows with Apache DataSketches HLL sketches.

Each day stores, per sketch key (a product's problem, a product's feature, a product's active
machines), the exact total (hits, uses or reports) and an HLL sketch of the machines. A window's
distinct machines are the union of its days' sketches: a machine seen on several days counts once.

With lg_k = 12 the relative standard error of an estimate is about 1.04 / sqrt(4096) = 1.6 %; 99.7 % of
estimates fall within 3 standard errors (about 5 %). Up to about 300 machines per key the sketch
holds the hashes themselves and is exact in practice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from operator import attrgetter
from typing import Literal

from datasketches import hll_sketch, hll_union, tgt_hll_type

LG_K = 12
SKETCH_KEY_VERSION = 2
"""How machines are keyed in the stored sketches: 2, a keyed hash of the GUID under a salt derived from
the machine-key secret (sql/machine_sketch_keys.sql); 1 (files without the column), the GUID's first
60 bits. Keys of two versions never match, so days of another version are left out of the windows."""
HLL_TYPE = tgt_hll_type.HLL_8
RELATIVE_STANDARD_ERROR = 1.04 / (2**LG_K) ** 0.5
Scope = Literal["problem", "feature", "active"]


@dataclass(frozen=True, slots=True, order=True)
class SketchKey:
    scope: Scope
    product_id: str
    item_id: str = ""
    """problem_id or feature_id; empty for a product's active machines."""
    item_kind: str = ""
    """A problem's kind; empty otherwise."""


_ORDER = attrgetter(*(f.name for f in fields(SketchKey)))
"""SketchKey's order (the tuple of its fields, as order=True compares them) as a sort key."""


@dataclass(frozen=True, slots=True)
class DaySketch:
    key: SketchKey
    total: int
    """Exact: hits, uses or reports of the key that day."""
    sketch: bytes
    """Compact serialization of the HLL sketch of the key's machines that day."""


def sketch_of(machine_keys: Iterable[int]) -> bytes:
    """The serialized HLL sketch of some machines, given as integers (see sql/sketch_inputs.sql)."""
    sketch = hll_sketch(LG_K, HLL_TYPE)
    # deque(maxlen=0) drives the loop in C: this is the hot path for millions of machine-key pairs.
    deque(map(sketch.update, machine_keys), maxlen=0)
    return bytes(sketch.serialize_compact())


@dataclass(frozen=True, slots=True)
class WindowRow:
    key: SketchKey
    total: int
    machines: int
    """Estimated distinct machines over the window, rounded."""
    prevalence: float | None
    """machines / estimated active machines of the product over the window (None for active rows)."""


@dataclass(frozen=True, slots=True)
class Window:
    days: int
    start: date
    end: date
    days_with_data: tuple[date, ...]
    missing_days: tuple[date, ...]
    rows: tuple[WindowRow, ...] = field(default=())


def rolling_window(days: Sequence[date], sketches_by_day: Mapping[date, Sequence[DaySketch]]) -> Window:
    """Merge the sketches of `days` (oldest first). Days absent from the mapping are listed as missing:
    their machines are not in the estimate, and the caller must say so rather than treat them as zero."""
    return rolling_windows(days, [len(days)], sketches_by_day)[0]


def rolling_windows(
    days: Sequence[date], lengths: Sequence[int], sketches_by_day: Mapping[date, Sequence[DaySketch]]
) -> list[Window]:
    """The windows of each of `lengths` days that end with the last of `days` (oldest first, at least as
    many as the longest window), in the order of `lengths`.

    Windows ending on the same day are nested, so they share one merge per key: the union walks the
    days newest first and is read off as it passes each window's length. Each day's sketch is
    deserialized and merged once for all windows instead of once per window, and the keys are sorted
    once for all of them."""
    longest = max(lengths, default=0)
    if min(lengths, default=1) < 1 or longest > len(days):
        raise ValueError("every window needs 1 to len(days) days")
    newest_first = list(reversed(days[len(days) - longest :]))
    # Keyed by the tuple of SketchKey's fields (its order): hashed and compared in C, where a dataclass
    # runs Python for each (a day at the caps has tens of thousands of keys).
    parts: dict[tuple[str, ...], list[tuple[int, DaySketch]]] = {}
    for age, day in enumerate(newest_first):
        for item in sketches_by_day.get(day, ()):
            order = _ORDER(item.key)
            found = parts.get(order)
            if found is None:
                parts[order] = [(age, item)]
            else:
                found.append((age, item))
    ordered = sorted(set(lengths))
    estimates: dict[int, list[tuple[SketchKey, int, int]]] = {length: [] for length in ordered}
    for order in sorted(parts):
        entries = parts[order]
        union, total, merged = hll_union(LG_K), 0, 0
        estimate, estimated_at = 0, 0
        for length in ordered:
            while merged < len(entries) and entries[merged][0] < length:
                item = entries[merged][1]
                union.update(hll_sketch.deserialize(item.sketch))
                total += item.total
                merged += 1
            if merged > estimated_at:  # a longer window with no further day of this key: same estimate
                estimate, estimated_at = round(union.get_result().get_estimate()), merged
            if merged:
                estimates[length].append((entries[0][1].key, total, estimate))
    windows = {}
    for length in ordered:
        covered = newest_first[:length][::-1]
        windows[length] = _window(covered, sketches_by_day, estimates[length])
    return [windows[length] for length in lengths]


def _window(
    days: Sequence[date],
    sketches_by_day: Mapping[date, Sequence[DaySketch]],
    estimates: Sequence[tuple[SketchKey, int, int]],
) -> Window:
    """estimates: (key, total, machines) of each key seen in the window, in SketchKey's order."""
    present = tuple(day for day in days if day in sketches_by_day)
    missing = tuple(day for day in days if day not in sketches_by_day)
    active = {key.product_id: machines for key, _, machines in estimates if key.scope == "active"}
    rows = []
    for key, total, machines in estimates:
        prevalence = None
        if key.scope != "active":
            denominator = active.get(key.product_id, 0)
            prevalence = min(1.0, machines / denominator) if denominator else None
        rows.append(WindowRow(key, total, machines, prevalence))
    return Window(len(days), days[0], days[-1], present, missing, tuple(rows))
