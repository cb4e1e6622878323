"""`ceip aggregate` against the local stack: post reports over HTTP, aggregate today, read the numbers."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest

from tests.local.conftest import RunningStack
from tests.support.reports import EXAMPLE_BATCH, make_report

pytestmark = pytest.mark.local
PRODUCT = "contoso.aggregate-cli-test"


def post(stack: RunningStack, reports: list[dict[str, object]]) -> int:
    request = urllib.request.Request(
        stack.url + "/v1/reports",
        data=json.dumps({"reports": reports}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def test_aggregate_today_prints_where_the_tables_are_and_the_right_numbers(local_stack: RunningStack) -> None:
    # Given three machines of a product no other test uses, five reports between them, one resent
    machines = [str(uuid.uuid4()) for _ in range(3)]
    product = {"id": PRODUCT, "version": "1.0"}
    reports = [make_report(machine_id=machines[i % 3], product=product) for i in range(5)]
    assert post(local_stack, reports) == 202
    assert post(local_stack, reports[:2]) == 202  # a client retry with the same report ids
    today = datetime.now(UTC).date().isoformat()
    # When an operator aggregates today, for scripts and for people
    as_json = local_stack.cli("aggregate", "--date", "today", "--json")
    as_text = local_stack.cli("aggregate", "--date", "today")
    # Then the product's numbers count each report once and the tables' location is printed
    assert as_json.returncode == 0, as_json.stderr
    (summary,) = [json.loads(line) for line in as_json.stdout.splitlines()]
    (active,) = [a for a in summary["active"] if a["product_id"] == PRODUCT]
    assert (active["machines"], active["reports"]) == (3, 5)
    assert summary["dt"] == today
    assert summary["internal"] == f"s3://ceip-local-aggregatesbucket/aggregates/internal/<table>/dt={today}/"
    assert summary["input"]["duplicates_within_day"] >= 2
    assert as_text.returncode == 0, as_text.stderr
    assert f"{PRODUCT}: 3 machines, 5 reports" in as_text.stdout
    assert f"s3://ceip-local-aggregatesbucket/aggregates/partner/<table>/dt={today}/" in as_text.stdout
    assert "manifest s3://ceip-local-aggregatesbucket/aggregates/manifest/" in as_text.stdout
    # and no GUID reached the console
    for machine in machines:
        assert machine not in as_text.stdout + as_json.stdout + local_stack.console()


def test_the_readme_example_batch_shows_a_partner_row_once_today_is_aggregated(
    local_stack: RunningStack,
) -> None:
    # Given the README's steps: the example batch (100 machines of one product) posted to the stack,
    # whose aggregation runs on the local demo budget (infra/local/stack.py)
    example = json.loads(EXAMPLE_BATCH.read_bytes())["reports"]
    (product,) = {r["product"]["id"] for r in example}
    assert post(local_stack, example) == 202
    # When today is aggregated and the partner active table printed
    # (a fresh drawing: other tests on this stack may have aggregated today, and a rerun republishes)
    built = local_stack.cli("aggregate", "--date", "today", "--new-partner-release")
    today = datetime.now(UTC).date().isoformat()
    shown = local_stack.cli(
        "aggregate", "show", "active", "--partner", "--date", today, "--format", "json", "--limit", "0"
    )
    # Then the product has a partner row, with at least K machines
    assert built.returncode == 0, built.stderr
    assert shown.returncode == 0, shown.stderr
    (row,) = [r for r in json.loads(shown.stdout) if r.get("product_id") == product]
    assert row["machines"] >= 10


def test_a_multi_day_backfill_shows_progress_and_a_summary(local_stack: RunningStack) -> None:
    result = local_stack.cli("aggregate", "--date", "2026-01-01", "--until", "2026-01-03")
    assert result.returncode == 0, result.stderr
    assert "3/3" in result.stderr
    assert "3 days, 0 reports aggregated" in result.stdout
    assert result.stdout.count("manifest s3://") == 3


def test_an_inverted_range_is_refused(local_stack: RunningStack) -> None:
    result = local_stack.cli("aggregate", "--date", "2026-01-03", "--until", "2026-01-01")
    assert result.returncode != 0
    assert "before the first" in result.stderr
