# Two commands: `make run` builds every figure on the default config, `make test` runs the
# test suite. Both create .venv with the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all
CONFIG ?= config/default.yaml

.PHONY: run test lint report clean-venv

$(STAMP): envs/requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r envs/requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/landscapes check-config $(CONFIG)
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src scripts tests benchmarks cluster
	$(BIN)/snakemake --lint

report: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --report results/$$($(BIN)/python -c "import yaml,sys; print(yaml.safe_load(open('$(CONFIG)'))['run_name'])")/report.html

clean-venv:
	rm -rf $(VENV)
