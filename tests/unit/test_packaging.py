"""functions/requirements.txt (what `sam build` installs) matches pyproject's runtime dependencies."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def normalized(requirements: list[str]) -> set[str]:
    return {r.replace(" ", "").lower() for r in requirements}


def test_lambda_requirements_match_project_dependencies() -> None:
    # Given both declarations of the runtime dependencies
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (ROOT / "functions" / "requirements.txt").read_text().splitlines()
    lambda_requirements = [line for line in lines if line.strip() and not line.startswith("#")]
    aggregate = (ROOT / "functions" / "requirements-aggregate.txt").read_text().splitlines()
    aggregate_only = [line for line in aggregate if line.strip() and not line.startswith(("#", "-r"))]
    # Then the zip functions get all of them but OpenDP, which only AggregateFunction's image adds
    assert normalized(lambda_requirements) | normalized(aggregate_only) == normalized(project)
    assert normalized(aggregate_only) == {"opendp>=0.16,<0.17"}
    assert "-r requirements.txt" in aggregate
