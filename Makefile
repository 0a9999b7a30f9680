# Two commands do all the set-up on a fresh machine (each creates .venv and installs on first use):
#   make check   - the main job: check the embedded reference gateway against the contract
#   make test    - the test suite
#   make examples - regenerate reports/examples (a passing and a failing run's reports)
# The venv gets the harness with the `reference` and `test` extras (`dev`); the harness alone is `pip install .`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: check serve test lint format selftest bench examples clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

check: $(STAMP)
	$(BIN)/gateway-contracts check --config contracts/targets/reference.toml --report-dir reports/latest

serve: $(STAMP)
	$(BIN)/reference-gateway serve

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check gateway_contracts reference_server contracts tests benchmarks
	$(BIN)/ruff format --check gateway_contracts reference_server contracts tests benchmarks
	$(BIN)/mypy --strict

format: $(STAMP)
	$(BIN)/ruff format gateway_contracts reference_server contracts tests benchmarks
	$(BIN)/ruff check --fix gateway_contracts reference_server contracts tests benchmarks

# Every mutant of the reference gateway against check (and fuzz), plus the reference itself: the mutation score.
selftest: $(STAMP)
	$(BIN)/reference-gateway selftest --report-dir reports/selftest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

examples: $(STAMP)
	$(BIN)/python -m reference_server.examples

clean:
	rm -rf $(VENV) data reports/latest reports/selftest
