# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run   — the marketplace (without GIGBOT_BOT_TOKEN: the local sandbox)
#   make test  — the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run sandbox demo test lint migrate bench scale-test scale-bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the declared dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gigbot run

sandbox: $(STAMP)
	$(BIN)/gigbot sandbox --demo

migrate: $(STAMP)
	$(BIN)/gigbot migrate

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m bench

# Three Gigbot processes behind HAProxy on PostgreSQL, one killed (docs/scale-out.md).
# Needs GIGBOT_TEST_POSTGRES_URL and haproxy (apt-get install -y haproxy).
scale-test: $(STAMP)
	$(BIN)/python -m pytest -m scale -s tests/scale

# Throughput and p99 with 1, 2 and 3 processes on PostgreSQL, side by side.
scale-bench: $(STAMP)
	$(BIN)/python -m bench.scale_bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
