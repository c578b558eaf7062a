PYTHON ?= .venv/bin/python
PIP := $(PYTHON) -m pip
ARGS ?= method=pstar seed=1337
BENCH_PRESET ?= cpu

.PHONY: install train test test-fast lint format bench bench-gpu clean

install:  ## torch first (an existing one is kept; else the pinned CPU build), then TAAM
	test -x $(PYTHON) || python3 -m venv --system-site-packages .venv
	$(PYTHON) -c "import torch" 2>/dev/null || $(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[dev,cluster]"

train: install  ## the main job on the embedded sample (ARGS to change it)
	$(PYTHON) src/train.py $(ARGS)

test: install  ## every test, slow end-to-end ones included
	$(PYTHON) -m pytest -q

test-fast:
	$(PYTHON) -m pytest -q -m "not slow"

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
