# The two commands:  `make run` (dashboard on the embedded SQLite database, demo
# data built on first start) and `make test` (the whole test suite).
# Both create ./.venv and install the project into it on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install clean check-install lock

# Installs from the lock file (uv.lock: exact versions of everything, the same as CI and
# the image) with `uv sync --frozen`; uv is fetched with pip when missing. Without uv
# (no network for it) it falls back to pip and the ranges in pyproject.toml.
UV := $(PYTHON) -m uv

$(STAMP): pyproject.toml $(wildcard uv.lock)
	$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q --disable-pip-version-check uv || true
	if $(UV) --version >/dev/null 2>&1 && [ -f uv.lock ]; then \
		UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync -q --frozen --compile-bytecode --extra test --python $(PYTHON); \
	else \
		echo "no uv or no uv.lock: installing from the ranges in pyproject.toml" >&2; \
		( $(UV) venv -q $(VENV) -p $(PYTHON) || $(PYTHON) -m venv $(VENV) ) && \
		( $(UV) pip install -q --compile-bytecode -p $(BIN)/python -e '.[test]' \
		  || $(BIN)/python -m pip install -q -e '.[test]' ); \
	fi
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

check-install:
	.ci/check_install.sh

# the lead regenerates the lock after merging every branch's pyproject.toml
lock:
	$(UV) lock
