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
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from datasketches import hll_sketch, hll_union, tgt_hll_type

LG_K = 12
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


def union_estimate(sketches: Iterable[bytes]) -> float:
    union = hll_union(LG_K)
    for serialized in sketches:
        union.update(hll_sketch.deserialize(serialized))
    return float(union.get_result().get_estimate())


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
    present = tuple(day for day in days if day in sketches_by_day)
    missing = tuple(day for day in days if day not in sketches_by_day)
    totals: dict[SketchKey, int] = {}
    parts: dict[SketchKey, list[bytes]] = {}
    for day in present:
        for item in sketches_by_day[day]:
            totals[item.key] = totals.get(item.key, 0) + item.total
            parts.setdefault(item.key, []).append(item.sketch)
    machines = {key: round(union_estimate(serialized)) for key, serialized in parts.items()}
    active = {key.product_id: count for key, count in machines.items() if key.scope == "active"}
    rows = []
    for key in sorted(parts):
        denominator = active.get(key.product_id, 0)
        prevalence = None
        if key.scope != "active":
            prevalence = min(1.0, machines[key] / denominator) if denominator else None
        rows.append(WindowRow(key, totals[key], machines[key], prevalence))
    return Window(len(days), days[0], days[-1], present, missing, tuple(rows))
