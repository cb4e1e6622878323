"""What the Lambdas are built from matches pyproject's runtime dependencies: functions/requirements.txt
(`sam build` of the zip functions) is all of them but OpenDP, and AggregateFunction's image
(functions/aggregate.Dockerfile) installs functions/requirements-aggregate.txt, which adds exactly OpenDP."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
IMAGE_ONLY = "opendp"
"""Too big for a zip function (its native library is 263 MB unpacked): only the aggregation image has it."""


def normalized(requirements: list[str]) -> set[str]:
    return {r.replace(" ", "").lower() for r in requirements}


def requirement_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def project_dependencies() -> list[str]:
    dependencies: list[str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return dependencies


def name_of(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()


def test_zip_function_requirements_are_the_project_dependencies_but_opendp() -> None:
    # Given both declarations of the runtime dependencies
    project = project_dependencies()
    lambda_requirements = requirement_lines(FUNCTIONS / "requirements.txt")
    # Then the zip functions get every one of them except the image-only one
    assert IMAGE_ONLY in {name_of(r) for r in project}
    assert normalized(lambda_requirements) == normalized([r for r in project if name_of(r) != IMAGE_ONLY])


def test_the_aggregation_requirements_add_exactly_opendp_to_the_zip_functions() -> None:
    # Given the image's requirements
    first, *rest = requirement_lines(FUNCTIONS / "requirements-aggregate.txt")
    # Then they are the zip functions' plus the project's own OpenDP pin, nothing else
    assert first == "-r requirements.txt"
    assert normalized(rest) == normalized([r for r in project_dependencies() if name_of(r) == IMAGE_ONLY])


def test_the_aggregation_image_installs_its_requirements_and_runs_the_aggregate_handler() -> None:
    # Given the Dockerfile the template names for AggregateFunction
    dockerfile = (FUNCTIONS / "aggregate.Dockerfile").read_text(encoding="utf-8")
    instructions = [line.strip() for line in dockerfile.splitlines() if line.strip() and line[0] != "#"]
    # Then it starts from Lambda's Python 3.12 base (the zip functions' runtime)
    assert instructions[0] == "FROM public.ecr.aws/lambda/python:3.12"
    # and installs requirements-aggregate.txt without keeping pip's cache, after copying both files
    copied = next(line for line in instructions if line.startswith("COPY requirements"))
    assert "requirements.txt" in copied and "requirements-aggregate.txt" in copied
    install = next(line for line in instructions if "pip install" in line)
    assert "--no-cache-dir" in install and "requirements-aggregate.txt" in install
    assert '--target "${LAMBDA_TASK_ROOT}"' in install
    # and copies the ceip package and runs the aggregation handler
    assert any(re.fullmatch(r"COPY ceip/? \$\{LAMBDA_TASK_ROOT\}/ceip/?", line) for line in instructions)
    assert json.loads(instructions[-1].removeprefix("CMD ")) == ["ceip.aggregate.app.lambda_handler"]


def test_the_image_build_context_leaves_out_bytecode() -> None:
    ignored = requirement_lines(FUNCTIONS / ".dockerignore")
    assert "**/__pycache__" in ignored and "**/*.py[co]" in ignored
