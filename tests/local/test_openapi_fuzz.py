"""Schemathesis against docs/openapi.json over real HTTP: every answer must match the published document.

All of schemathesis' checks run (server errors, status codes, content types, headers, response schemas,
schema-valid data accepted, schema-violating data rejected, undeclared methods answered 405 with Allow,
response time), on the examples, coverage and fuzzing phases of each operation. `make test` runs a
bounded, derandomized pass; `make fuzz` sets FUZZ_EXAMPLES and a fresh FUZZ_SEED for a longer one.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import Case, CheckResult, GenerationMode, HookContext, Response

from tests.local.conftest import RunningStack

pytestmark = pytest.mark.local

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
"""Fuzzing examples per operation (the coverage phase adds its own systematic cases)."""
SEED = int(os.environ.get("FUZZ_SEED", "20261129"))
LONG_RUN = "FUZZ_EXAMPLES" in os.environ
MAX_RESPONSE_SECONDS = 5.0
"""Generous: the machine is shared; a handler stuck on a bad input would still exceed it."""

schema = schemathesis.openapi.from_path(
    OPENAPI,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": EXAMPLES,
                # A fixed seed alone is not enough: derandomize too, so every run sends the same cases.
                "deterministic": not LONG_RUN,
                "database": "none",
            },
            "checks": {"enabled": True, "max_response_time": MAX_RESPONSE_SECONDS},
            "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}},
        }
    ),
)


@schema.hook
def map_case(context: HookContext, case: Case) -> Case:
    """Two rules of wire format v1 that JSON Schema cannot state, applied to schema-valid batches only:
    created_at at most one day ahead of the server clock (the schema has no "now"), and each feature id
    or problem id+kind at most once in its list (uniqueItems compares whole items, counts included).
    Without this, a schema-valid batch could be refused for a reason the document only states in words.
    """
    meta = case.meta
    if meta is None or meta.generation.mode is not GenerationMode.POSITIVE or not isinstance(case.body, dict):
        return case
    for entry in case.body.get("reports") or ():
        if isinstance(entry, dict):
            _within_stated_rules(entry)
    return case


def _within_stated_rules(report: dict[str, Any]) -> None:
    created = report.get("created_at")
    if isinstance(created, str) and created[:4].isdigit() and int(created[:4]) >= datetime.now(UTC).year:
        report["created_at"] = "2000" + created[4:]
    performance = report.get("performance")
    if isinstance(performance, dict) and isinstance(performance.get("problems"), list):
        performance["problems"] = _first_of_each(performance["problems"], ("id", "kind"))
    usage = report.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("features"), list):
        usage["features"] = _first_of_each(usage["features"], ("id",))


def _first_of_each(items: list[Any], key: tuple[str, ...]) -> list[Any]:
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for item in items:
        identity = tuple(item.get(k) for k in key) if isinstance(item, dict) else (id(item),)
        if identity not in seen:
            seen.add(identity)
            kept.append(item)
    return kept


SENT: Counter[tuple[str, str]] = Counter()
"""Requests sent, by operation and generation mode: the run's size, reported at the end."""


@schema.hook
def after_call(context: HookContext, case: Case, response: Response) -> None:
    mode = case.meta.generation.mode.value if case.meta is not None else "explicit"
    SENT[(case.operation.label, mode)] += 1


CHECKS_RUN: set[str] = set()


@schema.hook
def after_validate(context: HookContext, case: Case, response: Response, results: list[CheckResult]) -> None:
    CHECKS_RUN.update(result.name for result in results)


@pytest.fixture(scope="module", autouse=True)
def report_run_size(request: pytest.FixtureRequest) -> Iterator[None]:
    started = time.monotonic()
    yield
    by_operation = ", ".join(
        f"{operation} {mode}={count}" for (operation, mode), count in sorted(SENT.items())
    )
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if terminal is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            terminal.write_line(
                f"\nschemathesis: {sum(SENT.values())} requests in {time.monotonic() - started:.1f} s "
                f"(seed {SEED}, {EXAMPLES} fuzzing examples per operation): {by_operation}; "
                f"{len(CHECKS_RUN)} checks ran: {', '.join(sorted(CHECKS_RUN))}"
            )


@schema.parametrize()
def test_every_answer_matches_the_published_document(case: Case, local_stack: RunningStack) -> None:
    # Given a request that schemathesis derived from docs/openapi.json (valid, or violating it on purpose)
    # When it is sent to the local stack
    # Then every check passes: no 5xx, and status, headers and body are as documented
    case.call_and_validate(base_url=local_stack.url)


def test_sequences_of_calls_match_the_published_document(local_stack: RunningStack) -> None:
    # Given schemathesis' state machine over the document's links (a filed request's id, then its status)
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"base_url": local_stack.url}

    # When it runs bounded scenarios against the local stack, then every step passes every check
    Workflow.run(
        settings=hypothesis.settings(
            max_examples=max(5, EXAMPLES // 4),
            stateful_step_count=5,
            derandomize=not LONG_RUN,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
