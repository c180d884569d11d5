# The two commands a newcomer needs: `make run` and `make test`. Both set themselves up.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
RUN := $(UV) run --frozen

.PHONY: run test lint typecheck pytest fuzz bench faults clean

run: .venv/.synced  ## Start the whole service locally (embedded PostgreSQL/Redis unless configured)
	$(RUN) fitbit-subscriber dev

test: lint typecheck pytest  ## Everything CI runs

lint: .venv/.synced
	$(RUN) ruff check service tests migrations bench
	$(RUN) ruff format --check service tests migrations bench

typecheck: .venv/.synced
	$(RUN) mypy --strict service tests migrations bench

pytest: .venv/.synced
	$(RUN) pytest -q $(PYTEST_ARGS)

fuzz: .venv/.synced  ## Fuzz the API and the properties longer: FUZZ_EXAMPLES per operation
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} $(RUN) pytest -q --timeout=0 tests/fuzz $(PYTEST_ARGS)

bench: .venv/.synced  ## Benchmarks: ratios against same-run baselines (ONLY=freshness,calls,...)
	$(RUN) python -m bench.run $(if $(ONLY),--only $(ONLY))

faults: .venv/.synced  ## Fault scenarios on a private stack (ONLY=replay,kill-worker,...)
	$(RUN) python -m bench.faults $(if $(ONLY),--only $(ONLY))

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

clean:
	rm -rf .venv .tools .local .mypy_cache .ruff_cache .pytest_cache
