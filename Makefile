# The course's commands. `make book` and `make test` set everything up on a fresh
# machine: a virtual environment in .venv, installed from requirements-lock.txt.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CH ?= 01
OPEN ?= 1
# `make grade`: submissions executed at once (default: one per core); UNSAFE=1 grades
# without a sandbox where none can be made; GRADE_OPTS passes other options, such as
# GRADE_OPTS="--memory-mb 4096 --cell-timeout 60" (see `python -m grading grade --help`).
JOBS ?= $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 1)
UNSAFE ?= 0
GRADE_OPTS ?=
HTML := _build/html
# Notebooks executed for the website: static frames of interactive figures, no progress bars.
WEBSITE := NNLIB_WEBSITE=1 NNLIB_PROGRESS=0
# Tests on every core (pytest-xdist). Each file stays whole on one worker: a notebook's
# cells share one kernel, and a test module builds its module-scoped fixtures once.
PARALLEL := -n auto --dist loadfile

.PHONY: help setup site book lab test lint unit notebooks grading-test site-test browser-test \
        bench release grade lock clean pretrain

help:
	@echo "make book    build the course website into $(HTML) and open it (OPEN=0: don't)"
	@echo "make test    run every test: lint, unit, notebooks, grading, book, browser"
	@echo "make lab     open the notebooks in JupyterLab"
	@echo "make bench   time and measure the memory of every notebook"
	@echo "make pretrain  retrain chapter 10's checkpoint into src/nnlib/pretrained/ (a few minutes)"
	@echo "make release CH=01   write the student version of chapter 01's exercises"
	@echo "make grade   CH=01   autograde grading/submitted/*/ch01/ into grading/grades.csv"
	@echo "             JOBS=N  N submissions at once (default: cores); each in a sandbox"

$(STAMP): requirements-lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-lock.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $@

setup: $(STAMP)

# Build the website; `make book` also opens it where a desktop browser is at hand.
site: setup
	@# Notebooks that `make notebooks` executed come from the cache; the rest run here.
	$(WEBSITE) $(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The course website: file://$(CURDIR)/$(HTML)/index.html"

book: site
	@if [ -n "$${CI:-}" ] || [ "$(OPEN)" = 0 ]; then exit 0; \
	elif [ "$$(uname)" = Darwin ]; then open "$(HTML)/index.html"; \
	elif [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ] && command -v xdg-open >/dev/null; then \
	  xdg-open "$(HTML)/index.html" >/dev/null 2>&1 || true; fi

lab: setup
	$(BIN)/jupyter lab notebooks/

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Unit tests and doctests: fast. The slow tests execute notebooks through nbgrader and
# real kernels (grading, exercises, bench) and run in grading-test.
unit: setup
	$(BIN)/pytest -m "not browser and not slow" -q $(PARALLEL)

grading-test: setup
	$(BIN)/pytest -m "slow" -q $(PARALLEL)

# nbval executes each notebook for the website; notebooks/conftest.py stores the results
# in the book's execution cache, so `make site` does not execute them again.
notebooks: setup
	$(WEBSITE) $(BIN)/pytest --nbval-lax -o addopts="" -q $(PARALLEL) notebooks/

site-test: setup
	$(BIN)/pytest -m browser -o addopts="" -q tests/test_site.py

test: lint unit grading-test notebooks site site-test
	@echo "make test: every check passed"

bench: setup
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_fit.py

# Chapter 10's checkpoint: CNN pretrained on MNIST-1D digits 0-4, with its metadata.
pretrain: setup
	PYTHONPATH=src NNLIB_PROGRESS=0 $(BIN)/python scripts/pretrain.py

release: setup
	$(BIN)/python -m grading release $(CH)

grade: setup
	$(BIN)/python -m grading grade $(CH) --jobs $(JOBS) $(if $(filter 1,$(UNSAFE)),--unsafe) $(GRADE_OPTS)

lock: setup
	{ echo "# Exact versions of everything the course was tested with (Python 3.11)."; \
	  echo "# Regenerate with 'make lock' after changing pyproject.toml."; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^nnlib' | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; \
	} > requirements-lock.txt

clean:
	rm -rf _build grading/source grading/release grading/autograded grading/feedback \
	       grading/gradebook.db grading/grades.csv
