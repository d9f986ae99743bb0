# sealgate: `make demo` runs the sample API behind the gateway; `make test` runs the whole suite.
# Both set everything up first (venv, Python packages, Debian packages, local services), idempotently.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test bench lint setup system-packages services clean

demo: setup
	$(BIN)/sealgate demo

test: setup system-packages services
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy --strict src
	$(BIN)/pytest -q -p no:cacheprovider

bench: setup system-packages
	$(BIN)/python bench/micro_pipeline.py
	$(BIN)/python bench/tunnel_cost.py --load
	$(BIN)/python bench/pathological.py --repeat 1
	$(BIN)/python bench/load.py --variant core=bench/configs/core.yaml \
		--variant protected=bench/configs/protected.yaml \
		--variant protected-2w=bench/configs/protected.yaml

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy --strict src

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

system-packages:
	@scripts/install-system-packages.sh

services:
	@scripts/start-services.sh

clean:
	rm -rf $(VENV) .sealgate-demo build src/*.egg-info
