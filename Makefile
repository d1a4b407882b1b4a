# The two commands: `make run` and `make test`. Everything else is for development and CI.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-pg lint format venv migrate seed clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

## run: migrate, load the demo district and start the four apps on 127.0.0.1 (Ctrl-C stops them)
run: venv
	$(BIN)/plp dev

## test: lint, type-check and run the whole suite on the embedded default (SQLite)
test: lint
	env -u PLP_TEST_DATABASE_URL $(BIN)/pytest

## test-pg: the same suite against PostgreSQL (throwaway databases per test session)
test-pg: venv
	PLP_TEST_DATABASE_URL=$${PLP_TEST_DATABASE_URL:-$(PG_TEST_URL)} $(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: venv
	$(BIN)/plp migrate

seed: venv
	$(BIN)/plp seed demo

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
