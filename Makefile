# Two commands on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := postgres,aws,spark,snowflake,report,bench,dev

.PHONY: run test lint typecheck unit infra bench system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.all: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	touch $@ $(VENV)/.core

## Set up and run the main job on the embedded defaults (offline falls back to the snapshot).
run: $(VENV)/.core
	$(BIN)/etl-service run

## Set up everything (system packages too, when root) and run lint, types and the whole suite.
test: $(VENV)/.all system-deps lint typecheck
	$(BIN)/python -m pytest

system-deps:
	./scripts/system-deps.sh

lint: $(VENV)/.all
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.all
	$(BIN)/mypy

unit: $(VENV)/.all
	$(BIN)/python -m pytest -m unit -q

## infra/terraform: fmt -check, init and validate offline, apply to a moto server it starts,
## check every resource with boto3, destroy (INFRA_CREATE_RDS=true also applies the RDS instance).
infra: $(VENV)/.all
	$(BIN)/python -m pytest -m infra -q etl_service/tests/infra

bench: $(VENV)/.all system-deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .container-check infra/terraform/.terraform-check
