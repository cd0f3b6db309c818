# The two commands:  `make run` (dashboard on the embedded SQLite database, demo
# data built on first start) and `make test` (the whole test suite).
# Both create ./.venv and install the project into it on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m pip install -q --disable-pip-version-check uv || true
	$(PYTHON) -m uv venv -q $(VENV) -p $(PYTHON) || $(PYTHON) -m venv $(VENV)
	( $(PYTHON) -m uv pip install -q -p $(BIN)/python -e '.[test]' ) \
		|| $(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python app.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) data build *.egg-info
