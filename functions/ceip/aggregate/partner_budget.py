"""The privacy arithmetic of a day's partner release: what each noisy count may change by, how the day's
budget is split, and what consecutive days add up to. Pure: no data, no randomness, no OpenDP.

Accounting is zero-concentrated DP (zCDP, Bun and Steinke 2016): each noisy statistic costs
rho = sensitivity_l2^2 / (2 * sigma^2), costs add up across statistics and days, and a total converts to
(epsilon, delta)-DP at the end. The unit of privacy is one machine GUID; its contribution to a day is
bounded by bounds.ContributionBounds. docs/privacy-model.md states the guarantee these numbers give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from ceip.aggregate.bounds import ContributionBounds

CONFIGURATION_DIMENSIONS = 4
"""processor_count, network_connection_count, os_family, os_version (hardware features come on top)."""
USAGE_METRICS = 2
PERFORMANCE_METRICS = 3
PERIOD_DAYS = 28
"""The period the stated guarantee covers: one machine's reports over 28 consecutive days."""


class Selection(StrEnum):
    THRESHOLD = "threshold"
    """Keys come from clients (problem ids, configuration values): a key is published only when its noisy
    count clears a threshold (DP partition selection), which costs a delta of its own."""
    GIVEN = "given"
    """Keys are already public (the released products times fixed buckets, or the keys a threshold
    released): every key gets a noisy value."""


@dataclass(frozen=True, slots=True)
class Statistic:
    """One noisy vector of a day's release."""

    name: str
    window_days: int
    """1 for the daily tables; 7 or 28 for a rolling window."""
    keys_per_machine: int
    """L0: how many of the vector's entries one machine can change."""
    per_key: int
    """Linf: by how much it can change one entry."""
    selection: Selection
    weight: float
    """Share of the day's rho."""

    @property
    def l2(self) -> float:
        return math.sqrt(self.keys_per_machine) * self.per_key


@dataclass(frozen=True, slots=True)
class PartnerPrivacy:
    """The guarantee, stated for the unit of privacy: one machine's reports over any PERIOD_DAYS days."""

    epsilon: float = 16.0
    delta: float = 1e-6
    """Half goes to partition selection (shared by the threshold statistics of every release that reads
    the period), half to the conversion from zCDP."""
    min_machines: int = 50
    """K: a floor on the noisy machine count of anything published, whatever the threshold."""

    def __post_init__(self) -> None:
        if not 0 < self.epsilon <= 100:
            raise ValueError("epsilon must be in (0, 100]")
        if not 0 < self.delta <= 1e-3:
            raise ValueError("delta must be in (0, 1e-3]")
        if self.min_machines < 1:
            raise ValueError("min_machines must be at least 1")


def statistics(bounds: ContributionBounds) -> tuple[Statistic, ...]:
    """Every noisy vector a day's release draws, with its sensitivity from the bounds. The weights put
    most of the budget on machine counts (what prevalence is made of) and on the daily tables."""
    q, p, f = bounds.products, bounds.problems, bounds.features
    configuration_keys = q * (CONFIGURATION_DIMENSIONS + bounds.hardware_features)
    daily = (
        Statistic("active.machines", 1, q, 1, Selection.THRESHOLD, 0.05),
        Statistic("active.reports", 1, q, bounds.reports, Selection.GIVEN, 0.03),
        Statistic("problems.machines", 1, p, 1, Selection.THRESHOLD, 0.13),
        Statistic("problems.hits", 1, p, bounds.hits, Selection.GIVEN, 0.05),
        Statistic("features.machines", 1, f, 1, Selection.THRESHOLD, 0.11),
        Statistic("features.uses", 1, f, bounds.uses, Selection.GIVEN, 0.04),
        Statistic("configuration.machines", 1, configuration_keys, 1, Selection.THRESHOLD, 0.10),
        Statistic("usage.machines", 1, q * USAGE_METRICS, 1, Selection.GIVEN, 0.04),
        Statistic("performance.machines", 1, q * PERFORMANCE_METRICS, 1, Selection.GIVEN, 0.05),
    )
    # Over a window a machine may touch a different set of keys each day: the window's L0 is days x the
    # daily one (the union of its keys), each key still changed by one machine.
    rolling = tuple(
        Statistic(f"{table}.machines@{days}", days, days * keys, 1, Selection.THRESHOLD, weight)
        for days, weights in ((7, (0.03, 0.08, 0.06)), (28, (0.03, 0.11, 0.09)))
        for table, keys, weight in zip(
            ("active_rolling", "problems_rolling", "features_rolling"), (q, p, f), weights, strict=True
        )
    )
    return daily + rolling


def rho_for(epsilon: float, delta: float) -> float:
    """The largest zCDP rho that converts to (epsilon, delta)-DP by rho + 2 sqrt(rho ln(1/delta)) <=
    epsilon (Bun and Steinke 2016, Proposition 1.3), solved for rho."""
    log_term = math.log(1 / delta)
    return (math.sqrt(log_term + epsilon) - math.sqrt(log_term)) ** 2


def epsilon_for(rho: float, delta: float) -> float:
    """The epsilon that rho-zCDP guarantees at delta, by the same conversion as rho_for."""
    return rho + 2 * math.sqrt(rho * math.log(1 / delta))


def releases_reading(window_days: int, days: int = PERIOD_DAYS) -> int:
    """How many days' releases read some of a machine's reports of `days` consecutive days: the daily
    statistics of those days, and the windows of every day whose window overlaps them."""
    return days + window_days - 1


@dataclass(frozen=True, slots=True)
class Planned:
    statistic: Statistic
    rho: float
    """What this statistic of one day's release costs."""
    sigma: float
    """Standard deviation of the discrete Gaussian noise on each entry."""
    delta: float
    """What its threshold may spend in one day's release (0 for a statistic over given keys)."""


@dataclass(frozen=True, slots=True)
class ReleasePlan:
    privacy: PartnerPrivacy
    rho_per_day: float
    period_rho: float
    """What every release reading a period's reports costs together: <= rho_for(epsilon, delta / 2)."""
    period_selection_delta: float
    planned: tuple[Planned, ...]

    def get(self, name: str) -> Planned:
        for planned in self.planned:
            if planned.statistic.name == name:
                return planned
        raise KeyError(name)

    @property
    def period_epsilon(self) -> float:
        """The epsilon the period's releases guarantee together, at the stated delta."""
        return epsilon_for(self.period_rho, self.privacy.delta / 2)


def plan(bounds: ContributionBounds, privacy: PartnerPrivacy) -> ReleasePlan:
    """Split the period's (epsilon, delta) into one day's noise scales. Continual release composes by
    summing rho (zCDP) over the releases that read a period's reports, each costing at most its planned
    rho since its sensitivity is for a whole window; that is what a partner who keeps every file can use.
    So a day's rho is the period's divided by sum(weight x releases_reading(window))."""
    chosen = statistics(bounds)
    period_rho = rho_for(privacy.epsilon, privacy.delta / 2)
    factor = sum(s.weight * releases_reading(s.window_days) for s in chosen)
    rho_per_day = period_rho / factor
    threshold_releases = sum(
        releases_reading(s.window_days) for s in chosen if s.selection is Selection.THRESHOLD
    )
    per_threshold = privacy.delta / 2 / threshold_releases
    planned = tuple(
        Planned(
            s,
            rho=rho_per_day * s.weight,
            sigma=s.l2 / math.sqrt(2 * rho_per_day * s.weight),
            delta=per_threshold if s.selection is Selection.THRESHOLD else 0.0,
        )
        for s in chosen
    )
    return ReleasePlan(privacy, rho_per_day, period_rho, privacy.delta / 2, planned)
