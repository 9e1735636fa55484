# Permanence — two commands for a new user: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT
# Test processes (pytest-xdist): one per core; `make test TEST_WORKERS=0` runs in one process.
# Whole files go to one worker (--dist loadfile): what a file builds once for its tests (the
# seeded demo of tests/cases/test_demo.py, the copy of tests/seeded.py) is built once.
TEST_WORKERS ?= auto

.PHONY: run test install install-test lint format migrate demo clean backup restore

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# XStatic-Bootstrap only ships an sdist that needs pkg_resources at build time: build it
# without isolation, against a setuptools that still has it.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip "setuptools>=69,<81" wheel
	$(BIN)/python -m pip install -q --no-build-isolation "XStatic-Bootstrap>=5.3,<5.4"
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: $(VENV)/.installed
	@bash scripts/run.sh

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	PERMANENCE_TESTING=1 $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate

demo: $(VENV)/.installed
	$(BIN)/python manage.py seed_demo

# make backup [FILE=path]: a consistent copy while the app runs (var/backups/ by default).
backup: $(VENV)/.installed
	$(BIN)/python manage.py backup $(if $(FILE),--output "$(FILE)")

# make restore FILE=path: replaces the whole database (stop `make run` first).
restore: $(VENV)/.installed
	@test -n "$(FILE)" || (echo "Usage : make restore FILE=var/backups/permanence-….backup"; exit 2)
	$(BIN)/python manage.py restore "$(FILE)"

clean:
	rm -rf $(VENV) var .pytest_cache
