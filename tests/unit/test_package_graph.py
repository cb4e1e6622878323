"""The layer contract in pyproject.toml covers the whole package, and the handlers stay thin.

import-linter (in `make lint`) checks the imports against the contract; these tests check the contract
itself: a new top-level package or module that no layer names would escape it unnoticed.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from infra.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "functions" / "ceip"


def contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    found: list[dict[str, object]] = config["contracts"]
    return found


def layered_modules() -> set[str]:
    (layers,) = [c for c in contracts() if c["type"] == "layers"]
    names: set[str] = set()
    for layer in layers["layers"]:  # type: ignore[attr-defined]
        names.update(part.strip() for part in str(layer).replace(":", "|").split("|"))
    return names


def top_level_modules() -> set[str]:
    found = {f"ceip.{p.name}" for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    found |= {f"ceip.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return found


def test_every_top_level_package_and_module_is_in_a_layer() -> None:
    # Given the packages and modules directly under ceip
    modules = top_level_modules()
    # When the layer contract is read
    layered = layered_modules()
    # Then each one sits in exactly the layers named, none missing and none stale
    assert modules - layered == set(), "add it to [tool.importlinter] layers in pyproject.toml"
    assert layered - modules == set(), "a layer names a package that no longer exists"


def test_cycles_are_forbidden_below_every_package() -> None:
    # Given the contracts
    acyclic = [c for c in contracts() if c["type"] == "acyclic_siblings"]
    # Then one of them covers the whole package tree
    assert [c["ancestors"] for c in acyclic] == [["ceip"]]


def test_no_handler_module_builds_an_aws_adapter_itself() -> None:
    # Given the handler modules template.yaml names (zip functions' Handler, the image's ImageConfig command)
    handlers = sorted({function.handler for function in Template.load().functions()})
    assert len(handlers) == 5
    assert "ceip.aggregate.app.lambda_handler" in handlers
    adapters = ("S3ObjectWriter", "SuppressionLookup", "RequestStore", "DynamoTicketStore", "S3ReportSource")
    for handler in handlers:
        source = PACKAGE.parent / (handler.rsplit(".", 1)[0].replace(".", "/") + ".py")
        # When its imports are read
        imported = {
            alias.name
            for node in ast.walk(ast.parse(source.read_text()))
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        # Then the adapters come from its composition root (wiring), not from the handler
        assert imported.isdisjoint(adapters), handler
