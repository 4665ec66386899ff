# `make demo` and `make test` each do their own set-up on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo review test lint services clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/intake demo

# The review queue on the demo's data, for this machine only (plain http on 127.0.0.1):
# a demo officer with a new password, printed once. Stop it with Ctrl+C.
PORT ?= 8000
review: $(STAMP)
	$(BIN)/intake users demo
	@echo "Open http://127.0.0.1:$(PORT)/ and sign in as the demo officer."
	INTAKE_REVIEW_SECURE_COOKIES=false $(BIN)/intake serve --host 127.0.0.1 --port $(PORT)

services:
	bash scripts/test-services

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) services lint
	$(BIN)/pytest -q

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
