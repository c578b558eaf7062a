"""A real 2-process DDP run on CPU (gloo): every rank must hold the same π at every update,
with the training signal (window sums all-reduced) and the dev signal (each rank scores its
slice of the dev set, the sums all-reduced)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

from tests_support import ROOT

pytestmark = pytest.mark.slow

RUN = ["method=pstar", "method.mixer.warmup_steps=10", "train.max_steps=60", "seed=5"]


def read(path) -> np.ndarray:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return np.array([[float(r[k]) for k in ("step", "pi_eng", "pi_nld", "pi_zho")] for r in rows])


def run(overrides: list[str]) -> None:
    cmd = [sys.executable, str(ROOT / "src/train.py"), *overrides]
    subprocess.run(
        cmd, check=True, capture_output=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=ROOT
    )


@pytest.mark.parametrize(
    "signal", [["signal=train"], ["signal.every=10", "signal.sequences=7"]], ids=["train", "dev"]
)
def test_two_ranks_hold_the_same_pi_trajectory(tiny_overrides, tmp_path, signal):
    ddp_dir, single_dir = tmp_path / "runs" / "ddp", tmp_path / "runs" / "single"
    run([*tiny_overrides, *RUN, *signal, "trainer=ddp_cpu", f"run_dir={ddp_dir}"])
    rank0, rank1 = read(ddp_dir / "ranks/pi_rank0.csv"), read(ddp_dir / "ranks/pi_rank1.csv")
    assert len(rank0) == 60 // 5
    assert np.array_equal(rank0, rank1)  # bit-identical: the statistics were all-reduced first
    assert len({tuple(row[1:]) for row in rank0}) > 2  # and π moved

    # The same global batches on one process give the same trajectory (up to float summation order).
    run([*tiny_overrides, *RUN, *signal, f"run_dir={single_dir}"])
    with open(single_dir / "mixer.csv", newline="") as f:
        single = np.array(
            [
                [float(r[k]) for k in ("step", "pi_eng", "pi_nld", "pi_zho")]
                for r in csv.DictReader(f)
            ]
        )
    updated = np.isin(rank0[:, 0], single[:, 0])  # the dev signal updates every 10 steps
    assert np.allclose(rank0[updated], single, rtol=1e-3, atol=1e-4)
    if "signal=train" not in signal:  # per-document dev sums: the same standard errors
        ddp_se, single_se = (
            dev_columns(d / "metrics.csv", "dev_se_") for d in (ddp_dir, single_dir)
        )
        assert ddp_se.shape == single_se.shape and np.isfinite(ddp_se).all() and (ddp_se > 0).all()
        assert np.allclose(ddp_se, single_se, rtol=1e-3)


def dev_columns(path, prefix: str) -> np.ndarray:
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get(f"{prefix}eng")]
    return np.array([[float(r[f"{prefix}{lang}"]) for lang in ("eng", "nld", "zho")] for r in rows])
