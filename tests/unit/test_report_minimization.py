"""What of a valid report ingest stores: the entries the aggregation can count, cut by its own rule."""

from __future__ import annotations

import dataclasses

import pytest

from ceip.aggregate.bounds import ContributionBounds
from ceip.reports.minimization import StoredEntries, minimized
from ceip.reports.model import Report
from tests.support.reports import make_report


def report_with(problems: int, features: int, hardware: int) -> Report:
    return Report.model_validate(
        make_report(
            performance={
                "problems": [
                    {"id": f"crash.{i:03d}", "kind": "program" if i % 2 else "device", "count": 1 + i % 5}
                    for i in range(problems)
                ]
            },
            usage={"features": [{"id": f"feature.{i:03d}", "count": 1 + i % 7} for i in range(features)]},
            configuration={
                "hardware_features": {f"hw.{i:03d}": bool(i % 2) for i in reversed(range(hardware))}
            },
        )
    )


def test_a_report_within_the_bounds_is_stored_as_it_came() -> None:
    report = report_with(problems=16, features=48, hardware=8)
    assert minimized(report, StoredEntries()) is report


def test_the_most_hit_problems_and_most_used_features_are_kept_ties_by_id() -> None:
    # Given a report past every bound
    report = report_with(problems=40, features=60, hardware=20)
    # When it is minimized with the default bounds
    kept = minimized(report, StoredEntries())
    # Then 16 problems are kept: every one hit 5 times, then those hit 4 times by id and kind
    assert kept.performance is not None and report.performance is not None
    expected = sorted(report.performance.problems, key=lambda p: (-p.count, p.id, p.kind))[:16]
    assert kept.performance.problems == expected
    assert {p.count for p in kept.performance.problems} == {5, 4}
    # and 48 features likewise, and the first 8 hardware names in name order
    assert kept.usage is not None and report.usage is not None
    assert kept.usage.features == sorted(report.usage.features, key=lambda f: (-f.count, f.id))[:48]
    assert kept.configuration is not None and kept.configuration.hardware_features is not None
    assert list(kept.configuration.hardware_features) == [f"hw.{i:03d}" for i in range(8)]
    # and the rest of the report is untouched
    assert kept.model_dump(exclude={"performance", "usage", "configuration"}) == report.model_dump(
        exclude={"performance", "usage", "configuration"}
    )
    assert kept.performance.ui_response_ms == report.performance.ui_response_ms


def test_the_stored_entries_default_to_the_aggregations_bounds() -> None:
    # Ingest and the aggregation read the same template parameters; their defaults must agree too
    bounds, stored = ContributionBounds(), StoredEntries()
    assert (stored.problems, stored.features, stored.hardware_features) == (
        bounds.problems,
        bounds.features,
        bounds.hardware_features,
    )


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(StoredEntries)])
def test_a_bound_below_one_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        StoredEntries(**{field: 0})
