# The two commands of the README: `make demo` runs the gateway's main job on the bundled samples with a local
# broker; `make test` runs every check and test. Both bootstrap the virtual environment first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONNECTORS := $(wildcard connectors/*/pyproject.toml)

.PHONY: bootstrap demo test lint unit integration bench bench-detect bench-deliver bench-stats bench-dashboard broker-start broker-stop clean

bootstrap: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml $(CONNECTORS)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]" $(foreach c,$(dir $(CONNECTORS)),-e ./$(c))
	@touch $@

demo: bootstrap
	$(BIN)/gateway demo

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/gateway schemas check
	$(BIN)/gateway schemas codegen --check

unit: bootstrap
	$(BIN)/pytest tests/unit connectors -q

integration: bootstrap
	$(BIN)/pytest tests/integration -q

test: lint
	$(BIN)/pytest -q --durations=15

bench: bootstrap
	$(BIN)/python bench/ingest.py

bench-detect: bootstrap
	$(BIN)/python bench/detect.py

bench-deliver: bootstrap
	$(BIN)/python bench/deliver.py

bench-stats: bootstrap
	$(BIN)/python bench/stats.py

bench-dashboard: broker-start
	$(BIN)/python bench/dashboard.py --bootstrap 127.0.0.1:19092

broker-start: bootstrap
	$(BIN)/gateway kafka-local start

broker-stop: bootstrap
	$(BIN)/gateway kafka-local stop

clean:
	-$(BIN)/gateway kafka-local stop
	-$(BIN)/gateway kafka-local stop --name test
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis bench/out samples/generated .gateway-state
