"""The partner release's privacy arithmetic: sensitivities from the bounds, the split, the period."""

from __future__ import annotations

import math

import opendp.prelude as dp
import pytest

from ceip.aggregate.bounds import ContributionBounds
from ceip.aggregate.partner_budget import (
    PERIOD_DAYS,
    PartnerPrivacy,
    Selection,
    epsilon_for,
    plan,
    releases_reading,
    rho_for,
    statistics,
)

dp.enable_features("contrib")


def test_the_weights_split_the_whole_budget_and_every_statistic_gets_some() -> None:
    chosen = statistics(ContributionBounds())
    assert math.isclose(sum(s.weight for s in chosen), 1.0)
    assert all(s.weight > 0 for s in chosen)
    assert len({s.name for s in chosen}) == len(chosen)


def test_sensitivities_follow_the_contribution_bounds() -> None:
    # Given bounds unlike the defaults
    bounds = ContributionBounds(products=2, reports=10, problems=5, features=7, hardware_features=3, hits=4)
    by_name = {s.name: s for s in statistics(bounds)}
    # Then a machine changes as many entries as the bounds let it, each by at most its clip
    assert (by_name["problems.machines"].keys_per_machine, by_name["problems.machines"].per_key) == (5, 1)
    assert (by_name["problems.hits"].keys_per_machine, by_name["problems.hits"].per_key) == (5, 4)
    assert (by_name["active.reports"].keys_per_machine, by_name["active.reports"].per_key) == (2, 10)
    assert by_name["configuration.machines"].keys_per_machine == 2 * (4 + 3)
    assert by_name["problems.hits"].l2 == pytest.approx(math.sqrt(5) * 4)
    # and a window's L0 is its days times the daily one (a machine may touch new keys every day)
    assert by_name["problems_rolling.machines@28"].keys_per_machine == 28 * 5
    assert by_name["problems_rolling.machines@7"].selection is Selection.THRESHOLD


@pytest.mark.parametrize(("epsilon", "delta"), [(1.0, 1e-6), (16.0, 5e-7), (100.0, 1e-9)])
def test_rho_for_and_epsilon_for_are_inverse_and_no_looser_than_opendps_conversion(
    epsilon: float, delta: float
) -> None:
    rho = rho_for(epsilon, delta)
    assert epsilon_for(rho, delta) == pytest.approx(epsilon)
    # OpenDP's own conversion (optimal) never gives a larger epsilon for that rho
    measurement = dp.c.make_fix_delta(
        dp.c.make_zCDP_to_approxDP(
            dp.m.make_gaussian(dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale=1.0)
        ),
        delta,
    )
    d_in = math.sqrt(2 * rho)  # a sensitivity for which the Gaussian of scale 1 costs exactly rho
    opendp_epsilon, opendp_delta = measurement.map(d_in)
    assert opendp_delta == delta
    assert opendp_epsilon <= epsilon * (1 + 1e-9)


def test_the_period_guarantee_is_the_configured_one() -> None:
    # Given the defaults
    privacy = PartnerPrivacy()
    release = plan(ContributionBounds(), privacy)
    # Then the releases reading one machine's 28 days sum to the period's rho, which gives epsilon
    total = sum(p.rho * releases_reading(p.statistic.window_days) for p in release.planned)
    assert total == pytest.approx(release.period_rho)
    assert release.period_epsilon == pytest.approx(privacy.epsilon)
    # and the thresholds of those releases share half the delta
    spent = sum(p.delta * releases_reading(p.statistic.window_days) for p in release.planned)
    assert spent == pytest.approx(privacy.delta / 2)
    assert releases_reading(1) == PERIOD_DAYS and releases_reading(28) == 55


def test_each_statistics_noise_gives_exactly_its_share_of_rho() -> None:
    release = plan(ContributionBounds(), PartnerPrivacy())
    for planned in release.planned:
        assert planned.statistic.l2**2 / (2 * planned.sigma**2) == pytest.approx(planned.rho)
        assert planned.rho == pytest.approx(release.rho_per_day * planned.statistic.weight)


def test_a_larger_budget_means_less_noise() -> None:
    bounds = ContributionBounds()
    small = plan(bounds, PartnerPrivacy(epsilon=4.0)).get("problems.machines").sigma
    large = plan(bounds, PartnerPrivacy(epsilon=32.0)).get("problems.machines").sigma
    assert large < small


@pytest.mark.parametrize(
    "arguments", [{"epsilon": 0}, {"epsilon": 101}, {"delta": 0}, {"delta": 0.01}, {"min_machines": 0}]
)
def test_privacy_parameters_out_of_range_are_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PartnerPrivacy(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["products", "reports", "problems", "features", "hits", "uses"])
def test_a_bound_below_one_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        ContributionBounds(**{name: 0})  # type: ignore[arg-type]
