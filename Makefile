# Two commands for a fresh machine with Python 3.11+ and Node 20+:
#   make demo   - set up, then run the supply-chain scenario on the embedded chain
#   make test   - set up, then lint, type-check and run every test (incl. Anvil, Ganache, brownie)
# Set-up is idempotent: each step reruns only when its inputs change.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BVENV := .venv-brownie
SVENV := .venv-slither
BIN := $(VENV)/bin
NODE_BIN := $(CURDIR)/node_modules/.bin
export PATH := $(NODE_BIN):$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/build/solcx

.PHONY: demo serve-demo chromium screenshots web-benchmark test setup lint typecheck slither pytest forge coverage-readme mutation compile artifacts gas-table benchmark benchmark-index clean

# --rpc embedded: a PROVENANCE_RPC exported for your own node does not send the demo there.
demo: setup
	$(BIN)/provenance --rpc embedded demo

# The demo, then its verification pages on http://127.0.0.1:8000 until Ctrl-C.
serve-demo: setup
	$(BIN)/provenance --rpc embedded demo --serve

test: setup $(BVENV)/.installed chromium lint typecheck slither forge pytest

setup: $(VENV)/.installed node_modules/.installed build/solcx/solc-v0.8.37

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# py-solc-x and brownie look for `solc-v<version>` here; it is the project's solcjs wrapper.
build/solcx/solc-v0.8.37: bin/solc
	mkdir -p build/solcx
	ln -sf ../../bin/solc $@

# slither-analyzer pins web3 and eth-* versions of its own: it gets its own environment too.
$(SVENV)/.installed: requirements-slither.txt
	$(PYTHON) -m venv $(SVENV)
	$(SVENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-slither.txt
	touch $@

# Static analysis of contracts/ through the Foundry build (crytic-compile picks the Foundry project; the
# platform forge binary goes first on PATH because the npm wrapper hides forge's exit code). Test code
# (tests/, contracts/mocks/) and OpenZeppelin are left out. Any Low, Medium or High finding fails; each
# accepted one is suppressed in place with its reason (`slither-disable-...` comments).
slither: setup $(SVENV)/.installed
	set -o pipefail; PATH="$(CURDIR)/$(dir $(FORGE)):$$PATH" $(SVENV)/bin/slither . \
	    --filter-paths 'node_modules|contracts/mocks|tests/' --exclude-dependencies --exclude-informational \
	    --fail-low 2>&1 | grep -v -e 'will be promoted to keyword' -e '^ *[0-9]* |' -e '^ *|' \
	    -e '^ *-->' -e '^ *\^' -e '^$$'

# eth-brownie pins every dependency exactly: it gets its own environment.
$(BVENV)/.installed: requirements-brownie.txt
	$(PYTHON) -m venv $(BVENV)
	$(BVENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-brownie.txt
	$(BVENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

lint: setup
	$(BIN)/ruff check provenance tests scripts brownie_hooks.py
	$(BIN)/ruff format --check provenance tests scripts brownie_hooks.py

typecheck: setup
	$(BIN)/mypy

pytest: setup $(BVENV)/.installed chromium
	$(BIN)/pytest

# The browser tests' Chromium: Debian's package, installed when run as root (else one line says
# what to install). Not part of `setup`: `make demo` needs no browser.
chromium:
	bash scripts/ensure_chromium.sh

# Foundry (tests/foundry/, foundry.toml): unit, scenario and invariant tests, then `forge coverage` of
# the unit and scenario suites, printed and gated (95 % lines, 90 % branches per contract).
# FOUNDRY_PROFILE=deep make forge runs the longer invariant campaign.
# The platform binary itself: the npm wrapper (node_modules/.bin/forge, forge 1.7.1) always exits 0,
# even when tests fail, which would hide every failure from `make test`.
# (a relative path: make's wildcard splits a project path that contains spaces)
FORGE := $(firstword $(wildcard node_modules/@foundry-rs/forge-*/bin/forge) node_modules/.bin/forge)

forge: setup
	$(FORGE) test --offline
	$(BIN)/python scripts/coverage_report.py

# Rewrite the README's coverage table from a fresh `forge coverage` run.
coverage-readme: setup
	$(BIN)/python scripts/coverage_report.py --write

# Mutation score of the Foundry suites (slither-mutate; hours on 2 cores; not part of `make test`).
mutation: setup $(SVENV)/.installed
	$(BIN)/python scripts/mutation_score.py --write

compile: setup
	$(BIN)/provenance compile

gas-table: setup
	$(BIN)/python scripts/gas_table.py

benchmark: setup
	$(BIN)/python scripts/benchmark.py

# The resolver's throughput and latency (requests to 127.0.0.1 only); rewrites the README table.
web-benchmark: setup
	$(BIN)/python scripts/web_benchmark.py

# The README's screenshots of the verification page, from the browser tests' harness.
screenshots: setup chromium
	$(BIN)/python scripts/screenshots.py

# Index sync throughput and peak RSS at 10k, 50k and 100k events (docs/index.md).
benchmark-index: setup
	$(BIN)/python scripts/benchmark_index.py

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
