"""Shared test setup: an offline environment and the overrides of a tiny run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

if "PYTEST_XDIST_WORKER" in os.environ:  # two workers on two cores: one thread each (before
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # torch loads; subprocesses inherit it)
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tests_support import tiny_run_overrides


@pytest.fixture
def tiny_overrides(tmp_path: Path) -> list[str]:
    """A run small enough for a unit test: the sample, a 2-layer model, a few steps."""
    return tiny_run_overrides(tmp_path)
