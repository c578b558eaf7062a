"""Shared test setup: an offline environment and the overrides of a tiny run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def tiny_overrides(tmp_path: Path) -> list[str]:
    """A run small enough for a unit test: the sample, a 2-layer model, a few steps."""
    return [
        f"paths.runs_dir={tmp_path / 'runs'}",
        f"paths.cache_dir={tmp_path / 'cache'}",
        "data.budget.total_words_m=0.03",
        "data.tokenizer.vocab_size=512",
        "model.seq_len=32",
        "model.hidden_size=32",
        "model.intermediate_size=64",
        "train.global_batch=8",
        "train.max_steps=20",
        "train.warmup_steps=2",
        "train.checkpoint_every_steps=10",
        "method.update_interval=5",
        "train.plots=false",
    ]
