"""The partner release: OpenDP's privacy maps agree with the plan, the thresholds, the derived values,
and the noise OpenDP draws."""

from __future__ import annotations

import statistics as stats
from datetime import date

import pytest

from ceip.aggregate import partner_release
from ceip.aggregate.bounds import OTHER, ContributionBounds
from ceip.aggregate.engine import USAGE_BUCKETS
from ceip.aggregate.partner_budget import PartnerPrivacy, Planned, Selection, plan
from ceip.aggregate.partner_release import (
    HISTOGRAM_NOISE_SIGMAS,
    PERFORMANCE_BINS,
    PRESELECTION_SHIFT,
    OpenDPNoise,
    ReleaseInputs,
    WindowRow,
    effective_threshold,
    fewest_machines_drawn,
    histogram_quantile,
    performance_bin_edges,
    release,
    selection_threshold,
    spent,
)
from tests.support.partner_noise import ExactNoise

PLAN = plan(ContributionBounds(), PartnerPrivacy())


def inputs(**overrides: object) -> ReleaseInputs:
    values: dict[str, object] = {
        "active": [("contoso.editor", 5000, 40000), ("contoso.tiny", 3, 9)],
        "problems": [
            ("contoso.editor", "crash.a", "program", 2500, 6000),
            ("contoso.editor", "crash.rare", "program", 2, 2),
            ("contoso.editor", OTHER, "program", 4000, 9000),
            ("contoso.tiny", "crash.t", "program", 3, 3),
        ],
        "features": [("contoso.editor", "editor.spellcheck", 4000, 30000)],
        "configuration": [
            ("contoso.editor", "os_family", "windows", 4000),
            ("contoso.editor", "os_family", "macos", 1000),
            ("contoso.editor", "os_version", "10.0.1-unique", 1),
        ],
        "usage": [("contoso.editor", "help_center_opens", "0", 0, 0, 5000)],
        "performance_bins": [("contoso.editor", "ui_response_ms", 7, 5000)],
        "windows": [],
        "usage_buckets": USAGE_BUCKETS,
    }
    values.update(overrides)
    return ReleaseInputs(**values)  # type: ignore[arg-type]


def test_opendps_privacy_map_charges_each_statistic_its_planned_share() -> None:
    # Given the default plan, every statistic as OpenDP would release it
    for planned in PLAN.planned:
        rho, delta = spent(planned)
        # Then OpenDP's own accounting agrees with the plan's arithmetic
        assert rho == pytest.approx(planned.rho, rel=1e-9), planned.statistic.name
        if planned.statistic.selection is Selection.THRESHOLD:
            assert 0 < delta <= planned.delta, planned.statistic.name
        else:
            assert delta == 0


def test_thresholds_rise_as_delta_falls_and_never_go_below_k() -> None:
    planned = PLAN.get("problems.machines")
    strict = type(planned)(planned.statistic, planned.rho, planned.sigma, planned.delta / 1000)
    assert selection_threshold(strict) > selection_threshold(planned) > planned.statistic.per_key
    assert effective_threshold(planned, 10**6) == 10**6


def test_the_release_never_publishes_folded_or_small_rows_and_derives_values_from_published_counts() -> None:
    # Given exact noise, so only the logic shows
    tables = release(inputs(), PLAN, ExactNoise())
    # Then the small product and its problem are absent, and so is the '(other)' row
    assert [row[0] for row in tables.rows["active"]] == ["contoso.editor"]
    problems = {row[1]: row for row in tables.rows["problems"]}
    assert set(problems) == {"crash.a"}
    *_, hits, machines, prevalence, per_machine = problems["crash.a"]
    assert (hits, machines) == (6000, 2500)
    assert prevalence == pytest.approx(2500 / 5000) and per_machine == pytest.approx(6000 / 2500)
    # and a configuration value only one machine has is not published; shares are among published values
    config = {row[2]: row for row in tables.rows["configuration"]}
    assert set(config) == {"windows", "macos"}
    assert config["windows"][4] == pytest.approx(0.8)
    # and every bucket of a metric whose machines reach K is published (fixed buckets: which ones
    # reveals nothing), a metric without machines is not
    usage = tables.rows["usage"]
    assert [row[2] for row in usage] == [name for name, _, _ in USAGE_BUCKETS]
    assert {row[1] for row in usage} == {"help_center_opens"}


def test_the_rolling_tables_publish_machines_and_prevalence_only() -> None:
    window = [
        WindowRow("active", "contoso.editor", "", "", 7, date(2026, 11, 22), 7, 9000.4),
        WindowRow("problem", "contoso.editor", "crash.a", "program", 7, date(2026, 11, 22), 7, 4500.0),
        WindowRow("feature", "contoso.editor", OTHER, "", 7, date(2026, 11, 22), 7, 8000.0),
    ]
    tables = release(inputs(windows=window), PLAN, ExactNoise())
    assert tables.rows["active_rolling"] == [("contoso.editor", 7, date(2026, 11, 22), 7, 9000)]
    (problem,) = tables.rows["problems_rolling"]
    assert problem[-2:] == (4500, pytest.approx(0.5))
    assert tables.rows["features_rolling"] == []


def test_histogram_quantiles_interpolate_inside_the_bin() -> None:
    counts = [0] * PERFORMANCE_BINS
    counts[7] = 100  # medians between 10^2 and 10^(7/3)
    low, high = performance_bin_edges(7)
    assert low == pytest.approx(100.0)
    assert histogram_quantile(counts, 0.5) == pytest.approx(low + (high - low) / 2)
    assert histogram_quantile([0] * PERFORMANCE_BINS, 0.5) == performance_bin_edges(PERFORMANCE_BINS - 1)[0]


def test_opendp_noise_has_the_planned_spread_and_is_never_the_same_twice() -> None:
    # Given 20,000 zeros noised as the problems' hits are
    planned = PLAN.get("problems.hits")
    noise = OpenDPNoise()
    first = noise.gaussian([0] * 20_000, planned)
    # Then the noise is centred with the planned standard deviation (within sampling error)
    assert abs(stats.fmean(first)) < 4 * planned.sigma / 20_000**0.5
    assert stats.pstdev(first) == pytest.approx(planned.sigma, rel=0.03)
    # and a second draw differs: the sampler is not seeded (OpenDP draws from a secure source)
    assert noise.gaussian([0] * 20_000, planned) != first


def test_opendp_threshold_keeps_large_counts_with_noise_and_drops_small_ones() -> None:
    planned = PLAN.get("problems.machines")
    threshold = effective_threshold(planned, 50)
    draws = [OpenDPNoise().threshold({"big": 10 * threshold, "small": 1}, planned, 50) for _ in range(20)]
    assert all(set(kept) == {"big"} for kept in draws)
    assert len({kept["big"] for kept in draws}) > 1


def test_the_threshold_sits_one_machine_above_the_plans_and_counts_its_noise_from_the_count() -> None:
    # Given a key at exactly the effective threshold and one far above it, drawn 400 times
    planned = PLAN.get("problems.machines")
    threshold = effective_threshold(planned, 50)
    assert threshold == selection_threshold(planned) + PRESELECTION_SHIFT
    big = 10 * threshold
    draws = [OpenDPNoise().threshold({"edge": threshold, "big": big}, planned, 50) for _ in range(400)]
    # Then the key at the threshold is published about half the time (count + noise >= threshold)
    assert 0.40 < sum("edge" in kept for kept in draws) / len(draws) < 0.62
    # and the values carry the count, not the shifted count, plus centred noise
    assert abs(stats.fmean(kept["big"] for kept in draws) - big) < 4 * planned.sigma / 400**0.5


def test_keys_too_rare_to_clear_the_threshold_never_reach_the_sampler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given OpenDP's threshold measurement replaced by one that records what it is given
    seen: list[dict[str, int]] = []

    def recording(sigma: float, threshold: int) -> object:
        def measure(counts: dict[str, int]) -> dict[str, int]:
            seen.append(dict(counts))
            return {key: value for key, value in counts.items() if value >= threshold}

        return measure

    monkeypatch.setattr(partner_release, "_threshold_measurement", recording)
    planned = PLAN.get("problems.machines")
    shift = effective_threshold(planned, 50) - selection_threshold(planned)
    counts = {f"made-up.{i}": 1 for i in range(10_000)} | {"real": 5000}
    # When they are thresholded
    kept = OpenDPNoise().threshold(counts, planned, 50)
    # Then only the key above the shift was drawn, shifted down, and it comes back at its count
    assert seen == [{"real": 5000 - shift}]
    assert kept == {"real": 5000}
    # and a day of made-up ids alone draws nothing
    assert OpenDPNoise().threshold({"made-up": 1}, planned, 50) == {}
    assert len(seen) == 1


def test_only_the_released_products_keys_are_drawn() -> None:
    # Given a noise that records the keys of every threshold
    class Recording(ExactNoise):
        def __init__(self) -> None:
            super().__init__()
            self.keys: dict[str, set[str]] = {}

        def threshold(self, counts: dict[str, int], planned: Planned, floor: int) -> dict[str, int]:
            self.keys[planned.statistic.name] = {key.split("\x1f")[0] for key in counts}
            return super().threshold(counts, planned, floor)

    window = [
        WindowRow("active", "contoso.tiny", "", "", 7, date(2026, 11, 22), 7, 3.0),
        WindowRow("problem", "contoso.tiny", "crash.t", "program", 7, date(2026, 11, 22), 7, 3.0),
    ]
    noise = Recording()
    # When the day with a product too small to publish is released
    release(inputs(windows=window), PLAN, noise)
    # Then its problems, features and configuration values were never drawn, in the days or windows
    assert noise.keys["active.machines"] == {"contoso.editor", "contoso.tiny"}
    for name in ("problems.machines", "features.machines", "configuration.machines"):
        assert noise.keys[name] <= {"contoso.editor"}, name
    assert noise.keys["problems_rolling.machines@7"] == set()


def test_the_fewest_machines_drawn_is_one_past_the_smallest_shift() -> None:
    # Given the default plan, whose thresholds all sit above K
    assert fewest_machines_drawn(PLAN) == PRESELECTION_SHIFT + 1
    # and a K far above every threshold: the least-shifted statistic is the one of the highest threshold
    high = plan(ContributionBounds(), PartnerPrivacy(min_machines=10**6))
    highest = max(
        selection_threshold(p) for p in high.planned if p.statistic.selection is Selection.THRESHOLD
    )
    assert fewest_machines_drawn(high) == 10**6 - highest + 1


def performance_inputs(bins: dict[int, int]) -> ReleaseInputs:
    return inputs(performance_bins=[("contoso.editor", "ui_response_ms", b, m) for b, m in bins.items()])


def test_percentiles_read_a_histogram_cleaned_of_bins_below_four_sigma() -> None:
    # Given 5,000 machines whose medians fall in bins 7 and 8, and 60 stragglers in bin 25 (10^8 ms)
    planned = PLAN.get("performance.machines")
    assert HISTOGRAM_NOISE_SIGMAS * planned.sigma > 60
    tables = release(performance_inputs({7: 3000, 8: 2000, 25: 60}), PLAN, ExactNoise())
    # Then the stragglers' bin reads as noise: machines and percentiles describe the other 5,000
    ((product, metric, machines, p50, p90),) = tables.rows["performance"]
    assert (product, metric, machines) == ("contoso.editor", "ui_response_ms", 5000)
    assert performance_bin_edges(7)[0] <= p50 < performance_bin_edges(8)[1]
    assert performance_bin_edges(8)[0] <= p90 < performance_bin_edges(8)[1]


def test_noisy_percentiles_of_a_product_of_2000_machines_stay_within_the_histograms_resolution() -> None:
    # Given 2,000 machines over five bins, released 200 times with OpenDP's noise
    bins = {5: 200, 6: 500, 7: 700, 8: 400, 9: 200}
    draws = [release(performance_inputs(bins), PLAN, OpenDPNoise()).rows["performance"] for _ in range(200)]
    rows = [row for rows in draws for row in rows if row[1] == "ui_response_ms"]
    assert len(rows) == 200
    # and the two metrics no machine reported almost never show a percentile made of noise alone
    assert sum(1 for rows in draws for row in rows if row[1] != "ui_response_ms") <= 3
    # Then p50 lies in bin 7 and p90 in bin 8 or 9 nearly always (the noise of 24 empty bins, clamped,
    # once put p90 orders of magnitude too high), and the machines are close to the truth. A bin of 200
    # machines is cleaned away now and then (200 is 2.1 sigma above the cutoff: once in 55 per bin), both
    # 200s about once in 3,000 draws (1,600 left, then the noise of three bins: once, in CI, 500 short)
    p50_in_bin = sum(performance_bin_edges(6)[0] <= r[3] < performance_bin_edges(8)[1] for r in rows)
    p90_in_bin = sum(performance_bin_edges(8)[0] <= r[4] < performance_bin_edges(9)[1] for r in rows)
    assert p50_in_bin >= 190 and p90_in_bin >= 190
    assert stats.median(abs(r[2] - 2000) for r in rows) < 100
    # Rows 350 or more short need both 200s cleaned away, or one and 2.3 sigma of noise: about 7 in 10,000
    # draws, so 5 of 200 happen about once in two million runs; a bin of 400 is never cleaned away
    assert sum(abs(r[2] - 2000) >= 350 for r in rows) <= 4
    assert all(abs(r[2] - 2000) < 700 for r in rows)
