"""Helpers the tests import: Hydra composition of the project's configs, a run's files."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from safetensors.torch import load_file, save_file
from transformers import LlamaConfig

from taam.run.training import train

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


class Killed(RuntimeError):
    pass


class KillAfter(L.Callback):
    """Raise after the step ``step`` (after last.ckpt of that step is written)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if module.sampler.step == self.step:
            raise Killed(f"killed after step {self.step}")


def csv_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def assert_resume_is_bit_identical(overrides: list[str], tmp_path, steps: int) -> None:
    """Kill after step 7 (checkpoint every 7 steps, windows of 5), resume, and compare with the
    uninterrupted run of ``steps`` steps: π after every window, exposures, dev evaluations and
    the final weights."""
    base = [
        *overrides,
        "method.mixer.warmup_steps=0",
        f"train.max_steps={steps}",
        "method.update_interval=5",
        "train.checkpoint_every_steps=7",  # not a window boundary
        "model.num_layers=1",
        "seed=3",
    ]
    reference = train(compose_config([*base, f"run_dir={tmp_path / 'runs' / 'reference'}"]))
    killed_dir = tmp_path / "runs" / "killed"
    with pytest.raises(Killed):
        train(compose_config([*base, f"run_dir={killed_dir}"]), callbacks=[KillAfter(7)])
    ckpt = torch.load(killed_dir / "last.ckpt", weights_only=False)
    assert ckpt["global_step"] == 7 and 7 % 5 != 0  # saved in the middle of a window
    resumed = train(compose_config([*base, f"run_dir={killed_dir}", "resume=true"]))

    windows = steps // 5
    ref_mixer, res_mixer = csv_rows(reference / "mixer.csv"), csv_rows(resumed / "mixer.csv")
    assert res_mixer == ref_mixer and len(ref_mixer) == windows  # π after every window
    assert len({r["pi_eng"] for r in ref_mixer}) > 1  # π really moved
    ref, res = (json.loads((d / "summary.json").read_text()) for d in (reference, resumed))
    assert res["pi"] == ref["pi"] and res["per_language"] == ref["per_language"]  # exposures
    if ref["dev_signal"] is not None:
        assert ref["dev_signal"]["evaluations"] == res["dev_signal"]["evaluations"] == windows
        assert {r["signal"] for r in ref_mixer} == {"dev"}
    a, b = (load_file(d / "final" / "model.safetensors") for d in (reference, resumed))
    assert all(torch.equal(a[k], b[k]) for k in a)
