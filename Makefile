# The two commands a fresh machine needs: `make demo` and `make test`. Both run `make setup` first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOCBA := $(VENV)/bin/hocba
CODE := services contracts cli sandbox docs

.PHONY: setup deps secrets stack hsm migrate broker demo test lint unit bench up clean

setup: deps secrets stack hsm migrate broker  ## idempotent: venv, dependencies, RabbitMQ + PostgreSQL, databases, topology

deps: $(VENV)/.installed

# A git worktree that borrows its main checkout's venv (.venv a symlink) never reinstalls into it: the editable
# install would then point at the worktree, and every other checkout using that venv would import the worktree's code
# (or nothing, once the worktree is removed).
$(VENV)/.installed: pyproject.toml
	@if [ -L $(VENV) ]; then echo "deps: $(VENV) is another checkout's venv: not reinstalling into it"; exit 0; fi; \
	test -x $(PY) || $(PYTHON) -m venv $(VENV); \
	$(PY) -m pip install -q --upgrade pip && \
	$(PY) -m pip install -q -e '.[dev]' && \
	touch $@

.env secrets: | deps
	@$(PY) sandbox/dev_env.py .env

stack: deps
	$(PY) sandbox/local_stack.py

hsm: secrets stack  ## the SoftHSM2 token that holds the school seals (dev and CI)
	$(PY) sandbox/hsm.py

migrate: stack
	$(HOCBA) db upgrade

broker: stack
	$(HOCBA) broker setup

demo: setup
	$(HOCBA) demo

lint: deps
	$(VENV)/bin/ruff check $(CODE) tests
	$(VENV)/bin/ruff format --check $(CODE) tests
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy services contracts cli sandbox

# PROCESSES pytest processes at once, each taking whole test files as it goes (tests/parallel.py); PROCESSES=1 is
# the plain serial run.
PROCESSES ?= 3
test: setup lint
	@mkdir -p var
	$(PY) -m tests.parallel --processes $(PROCESSES) --junitxml=var/junit.xml --durations=15 $(PYTEST_ARGS)

# The suite in another order: shuffled by pytest-randomly (SEED=<n> replays one; the seed is printed) or reversed.
ORDER_OPTS := -o addopts="-ra --strict-markers -p no:cacheprovider -p no:pytest_nameko"
test-shuffled: setup
	$(PY) -m pytest $(ORDER_OPTS) -p randomly $(if $(SEED),--randomly-seed=$(SEED)) $(PYTEST_ARGS)

test-reversed: setup
	HOCBA_TEST_ORDER=reversed $(PY) -m pytest $(PYTEST_ARGS)

RUNS ?= 10
chaos: setup  ## RUNS random seeds of the chaos test (make test runs the fixed ones); each seed is printed to replay
	HOCBA_CHAOS_RUNS=$(RUNS) $(PY) -m pytest tests/e2e/test_pipeline_chaos.py -v -s $(PYTEST_ARGS) \
		| grep --line-buffered -E '^\[chaos\]|PASSED|FAILED|ERROR|passed|failed'; exit $${PIPESTATUS[0]}

unit: deps  ## tests/unit: pure rules and contracts, no RabbitMQ, PostgreSQL or outside process needed (≈ 15 s)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

bench: setup
	$(HOCBA) bench backbone

up: setup
	$(HOCBA) up

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .hypothesis
