# ceip developer commands. Each target bootstraps .venv from pyproject.toml when missing or stale.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000
PYTEST_ARGS ?=

TOOLS := .tools
# checkov stays offline: no Prisma Cloud guideline download, no PyPI version check.
CHECKOV := CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(TOOLS)/checkov/bin/checkov
SAM_TRANSFORM := AWS_EC2_METADATA_DISABLED=true $(TOOLS)/sam/bin/python tools/sam_transform.py

.PHONY: run test lint unit bench docs clean checkov sam-transform sam-build load
.PHONY: fuzz

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

## lint: ruff, mypy, the package graph (import-linter), cfn-lint, checkov and the SAM transform, zero findings
lint: $(STAMP) $(TOOLS)/checkov/.installed $(TOOLS)/sam/.installed
	$(BIN)/ruff check functions infra tests benchmarks tools
	$(BIN)/ruff format --check functions infra tests benchmarks tools
	$(BIN)/mypy
	cd functions && ../$(BIN)/lint-imports ../pyproject.toml --no-cache
	$(BIN)/cfn-lint template.yaml
	$(CHECKOV) --file template.yaml --framework cloudformation --skip-download --compact --quiet
	$(SAM_TRANSFORM)

# Tools that pin their own dependencies (boto3, pydantic), each in its own virtual environment under
# .tools/, built from tools/<name>-requirements.txt and rebuilt when those pins change.
$(TOOLS)/%/.installed: tools/%-requirements.txt
	@test -x $(TOOLS)/$*/bin/python || $(PYTHON) -m venv $(TOOLS)/$*
	$(TOOLS)/$*/bin/python -m pip install --quiet --quiet -r $<
	@touch $@

## checkov: security scan of template.yaml; skips live in the template beside their reasons (docs/security.md)
checkov: $(TOOLS)/checkov/.installed
	$(CHECKOV) --file template.yaml --framework cloudformation --skip-download --compact

## sam-transform: SAM's transform of template.yaml, offline (aws-sam-translator)
sam-transform: $(TOOLS)/sam/.installed
	$(SAM_TRANSFORM)

## sam-build: `sam build` of the zip functions into .aws-sam/ (aws-sam-cli); needs PyPI for their dependencies. Not in `make test`.
# sam build installs them with the functions' runtime, python3.12: pyenv's, where there is one, else PATH's.
# The image functions (PackageType Image; tests/unit/test_template.py holds this list to the template) need a
# Docker engine to build, which this machine lacks: they are excluded (`sam build --exclude`). A deployable
# build is a plain `sam build` where Docker runs (`sam build AggregateFunction` builds that image alone).
PY312_PREFIX = $(shell pyenv prefix 3.12 2>/dev/null)
IMAGE_FUNCTIONS := AggregateFunction
sam-build: $(TOOLS)/sam-cli/.installed
	PATH="$(if $(PY312_PREFIX),$(PY312_PREFIX)/bin:)$$PATH" SAM_CLI_TELEMETRY=0 \
		$(TOOLS)/sam-cli/bin/sam build --template-file template.yaml $(addprefix --exclude ,$(IMAGE_FUNCTIONS))
	@echo "sam-build: built the zip functions only; $(IMAGE_FUNCTIONS) is a container image and needs Docker." \
		"Where a Docker engine runs: 'sam build $(IMAGE_FUNCTIONS)' builds the image alone, a plain 'sam build' all to deploy."

## docs: regenerate docs/examples/batch.json (seeded generator), then docs/openapi.json and docs/report.schema.json from the code
docs: $(STAMP)
	$(BIN)/python -m benchmarks.workloads.example_batch --write docs/examples/batch.json
	$(BIN)/python -m ceip.openapi --write docs

## bench: performance benchmarks (not part of the test suite); figures go to docs/benchmarks.md
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## load: zero-loss load test on a stack of its own; LOAD_ARGS="--reports N --stack .ceip/local.json ..." (docs/load.md)
load: $(STAMP)
	$(BIN)/python -m benchmarks.load $(LOAD_ARGS)

## fuzz: schemathesis from docs/openapi.json on a stack of its own, FUZZ_EXAMPLES (1000) per operation, fresh seed printed
FUZZ_EXAMPLES ?= 1000
fuzz: $(STAMP)
	@seed=$(FUZZ_SEED); seed=$${seed:-$$(( (RANDOM << 15) | RANDOM ))}; echo "fuzz seed $$seed (replay: make fuzz FUZZ_SEED=$$seed)"; \
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$$seed $(BIN)/python -m pytest -q -p no:cacheprovider \
		--hypothesis-seed=$$seed tests/local/test_openapi_fuzz.py

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache .ceip
