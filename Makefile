# ceip developer commands. Each target bootstraps .venv from pyproject.toml when missing or stale.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000
PYTEST_ARGS ?=

.PHONY: run test lint unit bench docs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: the local stack in the foreground (moto server + template resources + gateway on 127.0.0.1:$(PORT))
run: $(STAMP)
	PORT=$(PORT) $(BIN)/python -m infra.local

## test: lint, then the whole suite (unit, functional, local)
test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: ruff, mypy and cfn-lint, zero findings
lint: $(STAMP)
	$(BIN)/ruff check functions infra tests benchmarks
	$(BIN)/ruff format --check functions infra tests benchmarks
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml

## docs: regenerate docs/openapi.json and docs/report.schema.json from the code
docs: $(STAMP)
	$(BIN)/python -m ceip.api.openapi --write docs

## bench: performance benchmarks (not part of the test suite); figures go to docs/benchmarks.md
bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .ceip
