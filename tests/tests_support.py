"""Helpers the tests import: Hydra composition of the project's configs, a run's files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from safetensors.torch import save_file
from transformers import LlamaConfig

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def compose_config(overrides: list[str], config_name: str = "train"):
    """The config ``python src/<entry>.py <overrides>`` would see."""
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        return compose(config_name=config_name, overrides=overrides)


def tiny_run_overrides(base: Path, cache: Path | None = None, max_steps: int = 20) -> list[str]:
    """A run small enough for a unit test: the sample, a 2-layer model, a few steps."""
    return [
        "method=uniform",  # no prior to compute; a test that needs a method names it
        f"paths.runs_dir={base / 'runs'}",
        f"paths.cache_dir={cache or base / 'cache'}",
        "data.budget.total_words_m=0.03",
        "data.tokenizer.vocab_size=512",
        "model.seq_len=32",
        "model.hidden_size=32",
        "model.intermediate_size=64",
        "train.global_batch=8",
        f"train.max_steps={max_steps}",
        "train.warmup_steps=2",
        "train.checkpoint_every_steps=10",
        "method.update_interval=5",
        "train.plots=false",
    ]


def write_run_files(run_dir: Path, languages: tuple[str, ...] = ("eng", "nld")) -> None:
    """The config.yaml and ledger.json a run writes, which the model card reads."""
    cfg = compose_config([f"data.languages=[{','.join(languages)}]"])
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    rows = {lang: {"english_equivalent_words": 135_000.0} for lang in languages}
    (run_dir / "ledger.json").write_text(json.dumps({"unit": "bytes", "languages": rows}))


def write_export(folder: Path, state: Mapping, parameters: int) -> None:
    """An export whose weights are one tensor of ``parameters`` values, with its state file."""
    folder.mkdir(parents=True)
    LlamaConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2).save_pretrained(folder)
    save_file({"w": torch.zeros(parameters, dtype=torch.uint8)}, folder / "model.safetensors")
    (folder / "taam_state.json").write_text(json.dumps(dict(state)))
