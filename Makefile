# The commands people type. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install demo test test-slow lint typecheck format bench clean

# Created once; re-run only when pyproject.toml changes, so a second `make` is quick.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python app.py

# `make test`: everything but the long load, crash and soak runs (marked `slow`); `make test-slow` runs those.
test: install
	OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -n 2 --timeout 600 -p no:cacheprovider -m "not slow and not calibration" $(PYTEST_ARGS)

test-slow: install
	OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -n 2 --timeout 1200 -p no:cacheprovider -m "slow and not calibration" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check adapters arena metrics db tests benchmarks app.py
	$(BIN)/ruff format --check adapters arena metrics db tests benchmarks app.py
	$(BIN)/mypy adapters arena metrics db

typecheck: install
	$(BIN)/mypy adapters arena metrics db

format: install
	$(BIN)/ruff format adapters arena metrics db tests benchmarks app.py
	$(BIN)/ruff check --fix adapters arena metrics db tests benchmarks app.py

bench: install
	for f in benchmarks/*.py; do OMP_NUM_THREADS=1 $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
