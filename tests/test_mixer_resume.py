"""Resume between two window boundaries continues bit-identically (window sums and E[n_i]
are in last.ckpt): a run killed after step 7 (checkpoint every 7 steps, windows of 5) and
resumed equals the uninterrupted 15-step run in π, exposures and final weights. With the dev
signal (evaluated at steps 5, 10 and 15) the kill falls between two dev evaluations: the
training draws since the last one and the dev cost travel in last.ckpt as well."""

from __future__ import annotations

import csv
import json

import lightning as L
import pytest
import torch
from safetensors.torch import load_file

from taam.run.training import train
from tests_support import compose_config

pytestmark = pytest.mark.slow


class Killed(RuntimeError):
    pass


class KillAfter(L.Callback):
    """Raise after the step ``step`` (after last.ckpt of that step is written)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if module.sampler.step == self.step:
            raise Killed(f"killed after step {self.step}")


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    "method",
    [
        ["method=pstar", "reward=normalized_excess_loss", "signal=train"],
        ["method=pstar", "reward=cross_lingual_deficit", "signal=train"],
        ["method=exp3", "reward=normalized_excess_loss", "signal=train"],
        ["method=odm"],
        ["method=pstar", "signal.every=5"],  # the default: v2 on the dev signal
        ["method=pstar", "objective=mean", "signal.every=5"],
        ["method=odm_validation", "signal.every=5"],
    ],
    ids=[
        "pstar-nel",
        "pstar-cld",
        "exp3-nel",
        "odm",
        "pstar-dev",
        "pstar-nel-dev",
        "odm-validation",
    ],
)
def test_mid_window_resume_is_bit_identical(tiny_overrides, tmp_path, method):
    assert_resume_is_bit_identical([*tiny_overrides, *method], tmp_path, steps=15)


def test_horizon_resume_is_bit_identical(tiny_overrides, tmp_path):
    """The forecast's history (every dev loss and exposure so far) travels in last.ckpt: killed
    after step 7, between the dev evaluations at 5 and 10, the resumed run fits the same curves
    at step 15 (three evaluations) and moves π as the uninterrupted run does."""
    method = ["method=horizon", "signal.every=5", "method.mixer.points=3", "method.mixer.margin=0"]
    assert_resume_is_bit_identical([*tiny_overrides, *method], tmp_path, steps=20)


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
    ref_mixer, res_mixer = rows(reference / "mixer.csv"), rows(resumed / "mixer.csv")
    assert res_mixer == ref_mixer and len(ref_mixer) == windows  # π after every window
    assert len({r["pi_eng"] for r in ref_mixer}) > 1  # π really moved
    ref, res = (json.loads((d / "summary.json").read_text()) for d in (reference, resumed))
    assert res["pi"] == ref["pi"] and res["per_language"] == ref["per_language"]  # exposures
    if ref["dev_signal"] is not None:
        assert ref["dev_signal"]["evaluations"] == res["dev_signal"]["evaluations"] == windows
        assert {r["signal"] for r in ref_mixer} == {"dev"}
    a, b = (load_file(d / "final" / "model.safetensors") for d in (reference, resumed))
    assert all(torch.equal(a[k], b[k]) for k in a)
