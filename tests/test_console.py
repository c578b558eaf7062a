"""What a run prints: the ledger's labels, steps out of max_steps, exposures, π and the
per-language loss in the progress bar, one line on resume; no Epoch 0/-2, v_num or FLOPs."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
from pathlib import Path

import lightning as L
import pytest
from omegaconf import OmegaConf

from taam.run.identity import flat_config
from taam.run.preemption import Interrupted
from taam.run.training import train
from tests_support import compose_config

pytestmark = pytest.mark.slow


class SigtermAt(L.Callback):
    """Pre-empt the run as SLURM would: SIGTERM to this process once ``step`` steps are done."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGTERM)


def test_the_console_shows_steps_exposures_pi_and_losses_and_says_when_it_resumes(
    tiny_overrides, capsys, caplog
):
    caplog.set_level(logging.INFO)
    first = [*tiny_overrides, "method=exp3", "run_dir=${paths.runs_dir}/console"]
    first += ["train.max_steps=20"]
    with pytest.raises(Interrupted):  # pre-empted after step 10: last.ckpt there
        train(compose_config(first), callbacks=[SigtermAt(10)])
    out = " ".join(capsys.readouterr().out.split())  # a narrow terminal wraps the metrics
    assert "Budget ledger: budget 30,000 English-equivalent words" in out
    assert "budget share" in out and "unit: bytes" not in out
    assert re.search(r"train .*10/20 ", out), out
    assert re.search(r"exposures: 2\.56k π: eng 0\.\d\d nld 0\.\d\d zho 0\.\d\d", out), out
    assert re.search(r"loss: eng \d+\.\d\d nld \d+\.\d\d zho \d+\.\d\d", out), out
    for absent in ("Epoch", "v_num", "FLOPs"):
        assert absent not in out, absent
    assert "resuming" not in caplog.text

    caplog.clear()
    train(compose_config([*first, "resume=true"]))
    out = " ".join(capsys.readouterr().out.split())
    assert re.search(r"train .*20/20 ", out), out  # the run's own step count
    assert "resuming console from step 10 (exposures 2.56k: eng " in caplog.text


def test_resume_with_only_the_run_dir_continues_from_the_runs_own_config(tiny_overrides):
    """`python src/train.py run_dir=<run> resume=true`: nothing else on the command line."""
    from taam.run.launch import start

    first = [
        *tiny_overrides,
        "method=exp3",
        "run_dir=${paths.runs_dir}/alone",
        "train.max_steps=20",
    ]
    with pytest.raises(Interrupted):
        train(compose_config(first), callbacks=[SigtermAt(10)])
    run_dir = Path(compose_config(first).run_dir)
    saved = flat_config(OmegaConf.load(run_dir / "config.yaml"), ("resume",))
    alone = [f"run_dir={run_dir}", "resume=true"]  # the default config would be Pstar, 500 steps
    assert start(compose_config(alone), alone) == run_dir
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["status"], summary["step"], summary["method"]) == ("completed", 20, "Exp3")
    assert [a["status"] for a in summary["attempts"]] == ["interrupted", "completed"]
    assert flat_config(OmegaConf.load(run_dir / "config.yaml"), ("resume",)) == saved
