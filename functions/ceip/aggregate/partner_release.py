"""A day's partner tables, differentially private: noisy counts from the internal tables' exact, bounded
ones, keys chosen by DP partition selection, every derived value (prevalence, shares, percentiles)
computed from noisy counts only. The sensitivities and noise scales come from partner_budget.plan; the
noise, its calibration and the thresholds' privacy maps are OpenDP's (docs/adr/0014).

release() is deterministic given its inputs and a Noise; OpenDPNoise draws from OpenDP's
cryptographically secure sampler, so two releases of the same day differ, which is why a day's release
is drawn once and republished (service.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from types import SimpleNamespace
from typing import Any, Protocol

from ceip.aggregate.bounds import OTHER
from ceip.aggregate.partner_budget import Planned, ReleasePlan, Selection

PERFORMANCE_BINS_PER_DECADE = 3
"""Machine medians are counted in bins 10^((b-1)/3) <= v < 10^(b/3) (bin 0: v < 1): 29 bins up to the
wire format's largest value (1e9), each a factor 2.15 wide, so a percentile read off the noisy
histogram is within that factor before noise."""
PERFORMANCE_BINS = 1 + 9 * PERFORMANCE_BINS_PER_DECADE + 1
PARTNER_QUANTILES = (("p50", 0.5), ("p90", 0.9))
"""Published percentiles: the extremes (p99) would rest on a handful of machines."""
HISTOGRAM_NOISE_SIGMAS = 4.0
"""A performance bin's noisy count below this many standard deviations of its noise is read as 0: an
empty bin clears it with probability 3e-5, one of a histogram's 29 about once in 1,100 histograms (at
3 sigma, once in 26: a metric no machine reported would often show a percentile)."""

Row = tuple[Any, ...]


class Noise(Protocol):
    def threshold(self, counts: dict[str, int], planned: Planned, floor: int) -> dict[str, int]:
        """Noisy counts of the keys whose noisy count clears the threshold the plan's delta allows (and
        at least floor); the others are left out."""
        ...

    def gaussian(self, values: Sequence[int], planned: Planned) -> list[int]:
        """Each value plus discrete Gaussian noise of the plan's sigma."""
        ...


@dataclass(frozen=True, slots=True)
class WindowRow:
    scope: str
    """"active", "problem" or "feature"."""
    product_id: str
    item_id: str
    item_kind: str
    window_days: int
    window_start: date
    days_with_data: int
    machines: float
    """The window's HLL estimate of distinct machines."""


@dataclass(frozen=True, slots=True)
class ReleaseInputs:
    """The exact, bounded statistics the release reads, from the internal tables (never a GUID)."""

    active: list[tuple[str, int, int]]
    """product_id, machines, reports"""
    problems: list[tuple[str, str, str, int, int]]
    """product_id, problem_id, kind, machines, hits"""
    features: list[tuple[str, str, int, int]]
    """product_id, feature_id, machines, uses"""
    configuration: list[tuple[str, str, str, int]]
    """product_id, dimension, value, machines"""
    usage: list[tuple[str, str, str, int, int | None, int]]
    """product_id, metric, bucket, bucket_min, bucket_max, machines: every bucket of the fixed list"""
    performance_bins: list[tuple[str, str, int, int]]
    """product_id, metric, bin, machines"""
    windows: list[WindowRow]
    usage_buckets: tuple[tuple[str, int, int | None], ...] = ()
    """The fixed usage buckets (name, min, max), so empty ones get noise too."""


@dataclass(frozen=True, slots=True)
class PartnerTables:
    rows: dict[str, list[Row]] = field(default_factory=dict)
    thresholds: dict[str, int] = field(default_factory=dict)
    """The effective threshold of each selection statistic (plan delta, K floor)."""


PERFORMANCE_METRICS = ("ui_response_ms", "network_send_kbps", "network_receive_kbps")
USAGE_METRICS = ("help_center_opens", "desktop_folder_count")
_SEPARATOR = "\x1f"
"""Joins a key's parts into one map key: a control character no id or value may hold."""


def _key(*parts: object) -> str:
    return _SEPARATOR.join(str(part) for part in parts)


def _parts(key: str) -> list[str]:
    return key.split(_SEPARATOR)


def release(inputs: ReleaseInputs, plan: ReleasePlan, noise: Noise) -> PartnerTables:
    """Every partner table of a day. Items folded into OTHER stay internal: a fold depends on other
    machines' ids, so its count has no bounded sensitivity."""
    floor = plan.privacy.min_machines
    out = PartnerTables()

    def selected(name: str, counts: dict[str, int]) -> dict[str, int]:
        planned = plan.get(name)
        chosen = noise.threshold(counts, planned, floor)
        out.thresholds[name] = effective_threshold(planned, floor)
        return {key: value for key, value in chosen.items() if value >= floor}

    active = selected("active.machines", {_key(p): m for p, m, _ in inputs.active})
    products = {_parts(key)[0]: machines for key, machines in active.items()}
    exact_reports = {p: r for p, _, r in inputs.active}
    reports = _noisy_given(noise, plan.get("active.reports"), [exact_reports[p] for p in sorted(products)])
    out.rows["active"] = [
        (product, products[product], max(noisy, 0))
        for product, noisy in zip(sorted(products), reports, strict=True)
    ]

    out.rows["problems"] = _items_with_totals(
        noise,
        plan,
        selected,
        table="problems",
        products=products,
        exact={(p, i, k): (m, h) for p, i, k, m, h in inputs.problems if i != OTHER},
    )
    out.rows["features"] = _items_with_totals(
        noise,
        plan,
        selected,
        table="features",
        products=products,
        exact={(p, i): (m, u) for p, i, m, u in inputs.features if i != OTHER},
    )
    out.rows["configuration"] = _configuration(selected, products, inputs.configuration)
    out.rows["usage"] = _usage(noise, plan.get("usage.machines"), products, inputs, floor)
    out.rows["performance"] = _performance(noise, plan.get("performance.machines"), products, inputs, floor)
    out.rows.update(_rolling(selected, inputs.windows))
    return out


PRESELECTION_SHIFT = 1
"""The least the threshold, in machines, sits above the smallest one the plan's delta allows: keys of
that many machines or fewer never reach OpenDP's sampler, whose cost is per key (about 20 us), so ids
a client made up alone (one machine each) cost the release nothing (OpenDPNoise.threshold)."""


def fewest_machines_drawn(plan: ReleasePlan) -> int:
    """The fewest machines a key of a selection statistic must have to reach the sampler at all (a key
    with fewer is left out before it, OpenDPNoise.threshold): the release's inputs need no key below."""
    floor = plan.privacy.min_machines
    return 1 + min(
        _preselection_shift(planned, floor)
        for planned in plan.planned
        if planned.statistic.selection is Selection.THRESHOLD
    )


def prepare(plan: ReleasePlan) -> None:
    """Load OpenDP and find every statistic's threshold and measurement ahead of the release (all
    cached): the service runs this beside the machine tables' SQL."""
    for planned in plan.planned:
        if planned.statistic.selection is Selection.THRESHOLD:
            _threshold_measurement(planned.sigma, selection_threshold(planned))
        else:
            _gaussian_measurement(planned.sigma)


def effective_threshold(planned: Planned, floor: int) -> int:
    """The noisy count a key of a selection statistic must reach to be published."""
    return max(selection_threshold(planned) + PRESELECTION_SHIFT, floor)


def _preselection_shift(planned: Planned, floor: int) -> int:
    """By how much the counts are shifted down before OpenDP's threshold: what the effective threshold
    adds to the plan's (at least PRESELECTION_SHIFT)."""
    return effective_threshold(planned, floor) - selection_threshold(planned)


def _noisy_given(noise: Noise, planned: Planned, values: Sequence[int]) -> list[int]:
    return noise.gaussian(values, planned) if values else []


def _items_with_totals(
    noise: Noise,
    plan: ReleasePlan,
    selected: Callable[[str, dict[str, int]], dict[str, int]],
    *,
    table: str,
    products: dict[str, int],
    exact: dict[tuple[str, ...], tuple[int, int]],
) -> list[Row]:
    """problems or features: keys chosen by their noisy machines, then a noisy total (hits, uses) for
    each chosen key; prevalence and per-machine ratios from the noisy values."""
    # Only the released products' keys are drawn: each key's noise is its own, so leaving out keys that
    # would be dropped afterwards changes nothing but the work.
    machines = selected(
        f"{table}.machines", {_key(*key): m for key, (m, _) in exact.items() if key[0] in products}
    )
    chosen = sorted((tuple(_parts(key)), value) for key, value in machines.items())
    total_name = "problems.hits" if table == "problems" else "features.uses"
    totals = _noisy_given(noise, plan.get(total_name), [exact[key][1] for key, _ in chosen])
    rows: list[Row] = []
    for (key, noisy_machines), noisy_total in zip(chosen, totals, strict=True):
        # Clamped at 0 only: clamping at the machines (each has a hit) would bias every sum upward.
        total = max(noisy_total, 0)
        prevalence = min(noisy_machines / products[key[0]], 1.0)
        if table == "problems":
            rows.append((*key, total, noisy_machines, prevalence, total / noisy_machines))
        else:
            rows.append((*key, total, noisy_machines, prevalence))
    return rows


def _configuration(
    selected: Callable[[str, dict[str, int]], dict[str, int]],
    products: dict[str, int],
    exact: Iterable[tuple[str, str, str, int]],
) -> list[Row]:
    """Values chosen by their noisy machines; share among the chosen values of the dimension."""
    machines = selected("configuration.machines", {_key(p, d, v): m for p, d, v, m in exact if p in products})
    groups: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for key, value in machines.items():
        product, dimension, text = _parts(key)
        groups[(product, dimension)].append((text, value))
    rows: list[Row] = []
    for (product, dimension), values in sorted(groups.items()):
        total = sum(m for _, m in values)
        rows.extend((product, dimension, text, m, m / total) for text, m in sorted(values))
    return rows


def _usage(
    noise: Noise, planned: Planned, products: dict[str, int], inputs: ReleaseInputs, floor: int
) -> list[Row]:
    """Every bucket of every released product and metric gets noise (the buckets are fixed, so which
    are published reveals nothing); a group is published when its noisy total reaches the floor."""
    exact = {(p, metric, bucket): m for p, metric, bucket, _, _, m in inputs.usage}
    keys = [
        (product, metric, bucket)
        for product in sorted(products)
        for metric in USAGE_METRICS
        for bucket, _, _ in inputs.usage_buckets
    ]
    noisy = _noisy_given(noise, planned, [exact.get(key, 0) for key in keys])
    bounds = {name: (low, high) for name, low, high in inputs.usage_buckets}
    groups: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for (product, metric, bucket), value in zip(keys, noisy, strict=True):
        groups[(product, metric)].append((bucket, max(value, 0)))
    rows: list[Row] = []
    for (product, metric), buckets in groups.items():
        total = sum(m for _, m in buckets)
        if total < floor:
            continue
        rows.extend((product, metric, b, *bounds[b], m, m / total) for b, m in buckets)
    return rows


def _performance(
    noise: Noise, planned: Planned, products: dict[str, int], inputs: ReleaseInputs, floor: int
) -> list[Row]:
    """p50 and p90 of the machines' medians, read off a noisy histogram of fixed bins, cleaned first: a
    bin whose noisy count is below HISTOGRAM_NOISE_SIGMAS standard deviations is set to 0. Without it,
    29 bins of noise clamped at 0 added about 0.4 sigma of machines that are not there to every bin, up
    to 10^9, pulling p90 up by orders of magnitude for a product of a few hundred machines. Cleaning is
    post-processing of the noisy counts: it costs no privacy. `machines` counts the bins kept, so it
    is the population the percentiles describe; a group is published when that reaches the floor."""
    exact = {(p, metric, b): m for p, metric, b, m in inputs.performance_bins}
    keys = [
        (product, metric, b)
        for product in sorted(products)
        for metric in PERFORMANCE_METRICS
        for b in range(PERFORMANCE_BINS)
    ]
    noisy = _noisy_given(noise, planned, [exact.get(key, 0) for key in keys])
    cutoff = HISTOGRAM_NOISE_SIGMAS * planned.sigma
    histograms: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (product, metric, _), value in zip(keys, noisy, strict=True):
        histograms[(product, metric)].append(value if value >= cutoff else 0)
    rows: list[Row] = []
    for (product, metric), counts in histograms.items():
        total = sum(counts)
        if total < floor:
            continue
        rows.append((product, metric, total, *(histogram_quantile(counts, q) for _, q in PARTNER_QUANTILES)))
    return rows


def performance_bin_edges(b: int) -> tuple[float, float]:
    """[low, high) of bin b."""
    if b == 0:
        return 0.0, 1.0
    return 10 ** ((b - 1) / PERFORMANCE_BINS_PER_DECADE), 10 ** (b / PERFORMANCE_BINS_PER_DECADE)


def histogram_quantile(counts: Sequence[int], q: float) -> float:
    """The q-quantile of a histogram over performance bins, interpolated linearly inside its bin."""
    total = sum(counts)
    target = q * total
    seen = 0
    for b, count in enumerate(counts):
        if count and seen + count >= target:
            low, high = performance_bin_edges(b)
            return low + (high - low) * (target - seen) / count
        seen += count
    return performance_bin_edges(len(counts) - 1)[0]


def _rolling(
    selected: Callable[[str, dict[str, int]], dict[str, int]], windows: Sequence[WindowRow]
) -> dict[str, list[Row]]:
    """The rolling tables: machines over each window, noisy, keys chosen by them; prevalence against
    the window's noisy active machines. No hits or uses: partners sum the daily tables for those, so a
    window reveals nothing the days did not (W7(D) - W7(D-1) was the differencing attack on exact sums)."""
    tables: dict[str, list[Row]] = {"active_rolling": [], "problems_rolling": [], "features_rolling": []}
    for days in sorted({w.window_days for w in windows}):
        rows = [w for w in windows if w.window_days == days]
        meta = {w.product_id: (w.window_start, w.days_with_data) for w in rows if w.scope == "active"}
        active = _select_window(selected, "active_rolling", days, rows, "active", products=None)
        products = {_parts(key)[0]: value for key, value in active.items()}
        for product, value in sorted(products.items()):
            start, with_data = meta[product]
            tables["active_rolling"].append((product, days, start, with_data, value))
        for scope, table in (("problem", "problems_rolling"), ("feature", "features_rolling")):
            chosen = _select_window(selected, table, days, rows, scope, products=products)
            for key, value in sorted(chosen.items()):
                parts = _parts(key)
                product = parts[0]
                start, with_data = meta[product]
                prevalence = min(value / products[product], 1.0)
                item = tuple(parts[1:]) if scope == "problem" else (parts[1],)
                tables[table].append((product, *item, days, start, with_data, value, prevalence))
    return tables


def _select_window(
    selected: Callable[[str, dict[str, int]], dict[str, int]],
    table: str,
    days: int,
    rows: Sequence[WindowRow],
    scope: str,
    *,
    products: Collection[str] | None,
) -> dict[str, int]:
    """The window's keys of a scope chosen by their noisy machines; only the released products' keys
    are drawn (products: None for the products themselves)."""

    def key(w: WindowRow) -> str:
        if scope == "active":
            return _key(w.product_id)
        if scope == "problem":
            return _key(w.product_id, w.item_id, w.item_kind)
        return _key(w.product_id, w.item_id)

    counts = {
        key(w): round(w.machines)
        for w in rows
        if w.scope == scope and w.item_id != OTHER and (products is None or w.product_id in products)
    }
    return selected(f"{table}.machines@{days}", counts)


# -- OpenDP ----------------------------------------------------------------------------------------------
@cache
def _opendp() -> Any:
    """OpenDP's domains, metrics and measurements, loaded on first use (a 270 MB library: the CLI and
    the internal tables never need it). Not opendp.prelude, which loads the scikit-learn and NumPy
    extras too: 0.21 s against 0.13 s in a fresh interpreter."""
    # Loaded by the aggregation's partner step alone.
    import opendp.domains  # noqa: PLC0415
    import opendp.measurements  # noqa: PLC0415
    import opendp.metrics  # noqa: PLC0415
    from opendp.mod import enable_features  # noqa: PLC0415

    enable_features("contrib")
    return SimpleNamespace(
        m=opendp.measurements,
        atom_domain=opendp.domains.atom_domain,
        map_domain=opendp.domains.map_domain,
        vector_domain=opendp.domains.vector_domain,
        absolute_distance=opendp.metrics.absolute_distance,
        l02inf_distance=opendp.metrics.l02inf_distance,
        l2_distance=opendp.metrics.l2_distance,
    )


def _threshold_distance(planned: Planned) -> tuple[int, int, int]:
    """(L0, L2 rounded up, Linf) of a machine's change, as OpenDP's L0-p-inf metric takes it; OpenDP
    uses min(L2^2, L0 Linf^2), so rounding L2 up costs nothing."""
    s = planned.statistic
    return s.keys_per_machine, math.ceil(s.l2), s.per_key


@cache
def _threshold_measurement(sigma: float, threshold: int) -> Any:
    dp = _opendp()
    space = (
        dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int)),
        dp.l02inf_distance(dp.absolute_distance(T=int)),
    )
    return dp.m.make_gaussian_threshold(*space, scale=sigma, threshold=threshold)


@cache
def _selection_threshold(sigma: float, keys: int, l2: int, per_key: int, delta: float) -> int:
    """The smallest threshold whose privacy map (OpenDP's) spends at most delta."""
    distance = (keys, l2, per_key)

    def spent(threshold: int) -> float:
        return float(_threshold_measurement(sigma, threshold).map(distance)[1])

    low, high = per_key + 1, per_key + 1
    while spent(high) > delta:
        low, high = high, high * 2
    while low < high:
        middle = (low + high) // 2
        if spent(middle) > delta:
            low = middle + 1
        else:
            high = middle
    return high


def selection_threshold(planned: Planned) -> int:
    return _selection_threshold(planned.sigma, *_threshold_distance(planned), planned.delta)


def spent(planned: Planned) -> tuple[float, float]:
    """(rho, delta) that OpenDP's privacy map charges the statistic as released: for checking the plan."""
    distance = _threshold_distance(planned)
    if planned.delta:
        measurement = _threshold_measurement(planned.sigma, selection_threshold(planned))
        rho, delta = measurement.map(distance)
        return float(rho), float(delta)
    return float(_gaussian_measurement(planned.sigma).map(planned.statistic.l2)), 0.0


@cache
def _gaussian_measurement(sigma: float) -> Any:
    dp = _opendp()
    return dp.m.make_gaussian(dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=float), scale=sigma)


class OpenDPNoise:
    """Noise from OpenDP's discrete Gaussian samplers (cryptographically secure randomness)."""

    def threshold(self, counts: dict[str, int], planned: Planned, floor: int) -> dict[str, int]:
        """OpenDP's Gaussian threshold at the plan's threshold, on the counts shifted down by what the
        effective threshold adds to it: the keys left at zero or below are dropped before the sampler,
        the released values shifted back up. Subtracting a constant and dropping what falls to zero
        changes no key by more, and no more keys, than the machine that changed the counts did, so
        OpenDP's privacy map still holds; a key is published when count + noise >= the effective
        threshold, as without the shift (docs/adr/0014)."""
        shift = _preselection_shift(planned, floor)
        shifted = {key: count - shift for key, count in counts.items() if count > shift}
        if not shifted:
            return {}
        measurement = _threshold_measurement(planned.sigma, selection_threshold(planned))
        return {str(key): int(value) + shift for key, value in measurement(shifted).items()}

    def gaussian(self, values: Sequence[int], planned: Planned) -> list[int]:
        return [int(value) for value in _gaussian_measurement(planned.sigma)(list(values))]
