# Every target builds .venv from pyproject.toml first, so a fresh machine with only
# Python 3.11+ and make needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit integration install clean bench bench-quick mutate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tocsin demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

# The suite on TEST_WORKERS pytest-xdist processes, each with its own embedded Valkey (most
# tests wait on real web and worker processes rather than the CPU). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
test: lint typecheck
	$(BIN)/pytest -n $(TEST_WORKERS)

# Benchmarks (docs/BENCHMARKS.md): each prints its figures, its last line is the key figure,
# and it exits non-zero when a target is missed; every benchmark runs even if one fails.
BENCHES := bench.ack_latency bench.escalation_timing bench.declare_to_page bench.metrics_scrape \
           bench.closed_memory bench.alerts_in

bench: $(STAMP)
	@status=0; for b in $(BENCHES); do $(BIN)/python -m $$b || status=1; echo; done; exit $$status

bench-quick: $(STAMP)
	@status=0; for b in $(BENCHES); do $(BIN)/python -m $$b --quick || status=1; echo; done; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mutants

# Mutation testing (docs/MUTATION.md), not part of `make test`: mutmut mutates the modules listed
# in pyproject's [tool.mutmut] in a copy under mutants/, runs the tests that reach each mutant,
# then lists the survivors. It starts afresh: mutmut's cache does not notice changed tests.
# MUTANTS narrows the run by mutant name, e.g. `make mutate MUTANTS='bot.domain.*'`.
MUTANTS ?=
mutate: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	@echo "Survivors (show one with: $(BIN)/mutmut show NAME):"
	@$(BIN)/mutmut results

# The reliability suite at length (tests/reliability; `make test` runs its bounded version):
# 200 worker SIGKILLs, a 2-minute Slack outage, 200 incidents a minute at Slack's real limits.
.PHONY: soak
soak: $(STAMP)
	TOCSIN_SOAK=1 $(BIN)/pytest tests/reliability -p no:cacheprovider -o timeout=1800 -s
