"""docs/examples/batch.json: one full batch (100 reports from 100 machines of one product), drawn by the
seeded client generator (reports.py), laid out one field per line so that a person can read and edit it.

100 distinct machines of one product are what the local stack needs to show partner rows after
`ceip aggregate --date today` (its demo budget, infra/local/stack.py). `make docs` rewrites the file;
tests/unit/test_published_documents.py fails when it drifts from what this module draws.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.workloads.reports import (
    CLIENT_CATALOGUE,
    CLIENT_MACHINES,
    CLIENT_REPORTS,
    draw_machine,
    draw_report,
)

PATH = Path(__file__).resolve().parents[2] / "docs" / "examples" / "batch.json"
SEED = 20261128
MADE_BEFORE = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
"""Reports are made one minute to six hours before this (fixed, so the file never changes by itself)."""
PRODUCT = "contoso.editor"
REPORTS = 100
SECTIONS = ("configuration", "performance", "usage")


def example_reports() -> list[dict[str, Any]]:
    """One report from each of REPORTS fresh machines of PRODUCT."""
    rng = random.Random(SEED)
    reports = []
    for _ in range(REPORTS):
        machine = draw_machine(rng, CLIENT_CATALOGUE, CLIENT_MACHINES, product_id=PRODUCT)
        made = MADE_BEFORE - timedelta(seconds=rng.randint(60, 6 * 3600))
        reports.append(draw_report(machine, made, rng, CLIENT_REPORTS))
    return reports


def _inline(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "))


def _report_text(report: dict[str, Any]) -> str:
    lines = []
    for key, value in report.items():
        if key in SECTIONS:
            inner = ",\n".join(f'        "{name}": {_inline(part)}' for name, part in value.items())
            lines.append(f'      "{key}": {{\n{inner}\n      }}')
        else:
            lines.append(f'      "{key}": {_inline(value)}')
    return "    {\n" + ",\n".join(lines) + "\n    }"


def example_body() -> str:
    """The file's text: a POST /v1/reports body."""
    reports = ",\n".join(_report_text(report) for report in example_reports())
    return '{\n  "reports": [\n' + reports + "\n  ]\n}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, default=PATH, help="where to write it")
    args = parser.parse_args()
    args.write.write_text(example_body(), encoding="utf-8")
    print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
