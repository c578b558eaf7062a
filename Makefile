PYTHON ?= .venv/bin/python
PIP := $(PYTHON) -m pip
# The main job; ARGS add overrides to it (a key given twice: the last one wins).
MAIN := method=pstar seed=1337
ARGS ?=
# More pytest options for make test / test-fast, e.g. PYTEST_ARGS=--durations=15
PYTEST_ARGS ?=
# torch for a new .venv; TORCH_INDEX=https://download.pytorch.org/whl/cpu gets the CPU-only build
# where the default index serves a CUDA build (stock Linux).
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
BENCH_PRESET ?= cpu

.PHONY: install train test test-fast lint format bench bench-gpu clean

install: .venv/.taam-installed  ## an isolated .venv; torch first (kept if the venv has one), then TAAM

# TAAM is installed editable: only a change to pyproject.toml (its dependencies) installs again.
.venv/.taam-installed: pyproject.toml
	test -x $(PYTHON) || python3 -m venv .venv
	$(PYTHON) -c "import torch" 2>/dev/null || $(PIP) install -q "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) install -q -e ".[dev,cluster]"
	touch $@

train: install  ## the main job on the embedded sample (ARGS add overrides to it)
	$(PYTHON) src/train.py $(MAIN) $(ARGS)

test: install  ## every test, slow end-to-end ones included
	$(PYTHON) -m pytest -q -n 2 --dist loadfile $(PYTEST_ARGS)

test-fast:
	$(PYTHON) -m pytest -q -n 2 --dist loadfile -m "not slow" $(PYTEST_ARGS)

lint:
	$(PYTHON) -m ruff check src tests bench scripts
	$(PYTHON) -m ruff format --check src tests bench scripts

format:
	$(PYTHON) -m ruff check --fix src tests bench scripts
	$(PYTHON) -m ruff format src tests bench scripts

bench: install  ## throughput against a plain HF loop (CPU preset here; --preset gpu on a GPU) and data prep
	$(PYTHON) bench/throughput.py --preset $(BENCH_PRESET)
	$(PYTHON) bench/data_prep.py

bench-gpu:  ## on one H100/H200: checks the GPU, then peer vs TAAM at BabyLM scale (JSON + table, ≤ 5 min)
	timeout 300 $(PYTHON) bench/throughput.py --preset gpu --timeout 290

clean:
	rm -rf runs .cache .pytest_cache .ruff_cache
