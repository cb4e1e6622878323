"""`make load`, reduced: concurrent clients with resent requests lose nothing and count nothing twice."""

from __future__ import annotations

import pytest
from benchmarks.load.run import LoadConfig, run_load
from benchmarks.load.stack import own_stack
from benchmarks.load.traffic import Repeat

pytestmark = pytest.mark.local


def test_under_concurrent_load_with_retries_accepted_stored_and_aggregated_agree() -> None:
    # Given a stack of its own, 4 clients and 1,000 reports in batches of 20, a fifth of them resent
    config = LoadConfig(reports=1_000, concurrency=4, batch_size=20, repeat_share=0.2)
    with own_stack() as stack:
        # When they are sent, and the day is aggregated through `ceip aggregate`
        result = run_load(config, stack)
    print(result.render())  # shown by pytest when an assertion below fails
    # Then every resend happened: abandoned ones before their answer, the others after it
    assert result.planned_repeats == {Repeat.ABANDONED: 5, Repeat.AFTER_ANSWER: 5}
    assert result.outcome.abandoned == 5
    assert result.outcome.repeats_after_answer == 5
    # and every request was answered 202: no 5xx, no broken connection, no handler failure
    assert dict(result.outcome.statuses) == {202: 50 + 5}
    assert not result.outcome.transport_errors
    assert result.handler_failures == 0
    # and accepted, stored and aggregated are one number, with no report lost or counted twice
    assert result.sent == result.accepted == result.stored.distinct == result.aggregated.reports == 1_000
    assert result.outcome.accepted_ids == set(result.stored.ids)
    assert result.aggregated.total("reports_aggregated") == 1_000
    assert result.aggregated.total("duplicates_dropped") == result.stored.duplicate_copies
    assert result.counted_twice == 0
    assert result.failures() == []
