# The two commands of the quick start. Each creates what it needs on a fresh machine.
#   make demo   installs the package into .venv and runs the main job
#   make test   installs the package, its test tools and the interop peers, then runs every check
#               (the whole suite on asyncio, the client/server/acceptance tests again on uvloop)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install tools

$(BIN)/fleet: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/fleet

demo: install
	$(BIN)/fleet demo --duration 60

tools:
	bash scripts/install-tools.sh

# pytest-xdist worker processes of both pytest runs (`make test TEST_WORKERS=0`: one process);
# worksteal hands the tests left to whichever worker is free, so long tests do not pile up
TEST_WORKERS ?= 2
PYTEST_PARALLEL := --numprocesses=$(TEST_WORKERS) --dist=worksteal

# the suite starts ~300 `fleet` processes and pytest workers: let them reuse compiled
# modules even where the environment turns bytecode files off
test: export PYTHONDONTWRITEBYTECODE :=
test: install tools
	$(BIN)/ruff check fleet tests bench
	$(BIN)/ruff format --check fleet tests bench
	$(BIN)/mypy --strict fleet
	$(BIN)/pytest $(PYTEST_PARALLEL)
	# the same tests again on uvloop (the `fast` extra) where the loop carries the traffic:
	# the CoAP client and server, the end-to-end runs and the commands as users start them
	# (--loop auto is uvloop when installed; tests/conftest.py --event-loop)
	$(BIN)/pytest $(PYTEST_PARALLEL) -q --event-loop=uvloop tests/client tests/server \
		tests/acceptance tests/cli tests/demo tests/runner/test_loops.py
