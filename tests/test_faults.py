"""Nothing lost, nothing mislabelled: SIGKILL at exact windows, SIGTERM, NaN weights, failed resumes.

A reference run is trained once; each fault test kills or stops a copy of it at a chosen
point, resumes it, and compares its π trajectory, metrics and final weights with the
reference bit for bit.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from taam.errors import TaamError
from taam.run.rundir import RunDirError
from taam.run.training import train
from tests_support import ROOT, compose_config, tiny_run_overrides

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).with_name("fault_driver.py")
STEPS = 40


def overrides(base: Path, cache: Path | None = None) -> list[str]:
    return [
        *tiny_run_overrides(base, cache, max_steps=STEPS),
        "method=pstar",
        "method.mixer.warmup_steps=10",
        "signal.every=10",  # dev evaluations at 10, 20, 30, 40: the kills fall on and between them
        "seed=4",
    ]


def uniform(base: Path) -> list[str]:
    """The same run with method=uniform (whose mixer has no warm-up to override)."""
    kept = [o for o in overrides(base) if not o.startswith("method")]
    return [*kept, "method=uniform"]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env(), capture_output=True, text=True, **kwargs)


def train_cmd(args: list[str]) -> list[str]:
    return [sys.executable, str(ROOT / "src/train.py"), *args]


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def step_of(ckpt: Path) -> int:
    return torch.load(ckpt, weights_only=False, map_location="cpu")["global_step"]


def temporaries(folder: Path) -> list[Path]:
    return [*folder.rglob("*.tmp"), *folder.rglob(".*.old")]


def assert_same_run(run_dir: Path, reference: Path) -> None:
    assert read_csv(run_dir / "mixer.csv") == read_csv(reference / "mixer.csv")
    assert read_csv(run_dir / "metrics.csv") == read_csv(reference / "metrics.csv")
    a, b = (load_file(d / "final" / "model.safetensors") for d in (reference, run_dir))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["step"] == STEPS
    assert temporaries(run_dir) == []


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="module")
def reference(base) -> Path:
    run_dir = base / "runs" / "reference"
    run(train_cmd([*overrides(base), f"run_dir={run_dir}"]), check=True)
    assert len({row["pi_zho"] for row in read_csv(run_dir / "mixer.csv")}) > 1  # π moved
    return run_dir


@pytest.mark.parametrize(
    ("when", "ckpt_step"),
    [
        ("before-rename:last.ckpt:2", 10),  # the step-20 checkpoint is written, not yet renamed
        ("after-rename:last.ckpt:2", 20),  # renamed, nothing after it done
        ("before-rename:final:1", STEPS),  # final/ export complete in its temporary folder
    ],
)
def test_sigkill_at_a_window_then_resume_matches_the_reference(base, reference, when, ckpt_step):
    run_dir = base / "runs" / when.replace(":", "_")
    args = [*overrides(base), f"run_dir={run_dir}"]
    killed = run([sys.executable, str(DRIVER), when, *args])
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert step_of(run_dir / "last.ckpt") == ckpt_step
    assert not (run_dir / "summary.json").exists()  # nothing claims an outcome yet
    assert not (run_dir / "final").exists()
    resumed = run(train_cmd([*args, "resume=true"]))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_same_run(run_dir, reference)


def test_sigkill_during_tokenisation_leaves_a_reusable_run_and_no_partial_cache(tmp_path):
    cache = tmp_path / "cache"
    run_dir = tmp_path / "runs" / "tok"
    args = [*overrides(tmp_path, cache), f"run_dir={run_dir}", "train.max_steps=10"]
    killed = run([sys.executable, str(DRIVER), "call:taam.data.shards:_write_split:3", *args])
    assert killed.returncode == -signal.SIGKILL
    assert temporaries(cache) and not (list(cache.glob("*/meta.json")))  # a torn, uncommitted key
    refused = run(train_cmd([*args, "resume=true"]))
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: cannot resume {run_dir}: it has no last.ckpt because it never started "
        f"training; run the same command without resume=true to start it again."
    )
    again = run(train_cmd(args))  # the same command now works: the directory is reused
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"
    assert temporaries(cache) == [] and len(list(cache.glob("*/meta.json"))) == 1


def test_sigterm_saves_the_step_reached_exits_143_and_resume_matches(base, reference):
    run_dir = base / "runs" / "sigterm"
    args = [*overrides(base), f"run_dir={run_dir}"]
    proc = subprocess.Popen(
        train_cmd(args), env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 300
    while not (run_dir / "metrics.csv").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    stderr = proc.communicate()[1]
    assert proc.returncode == 128 + signal.SIGTERM, stderr[-2000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert (
        "resume with: python src/train.py" in summary["error"] and "resume=true" in summary["error"]
    )
    assert 0 < summary["step"] < STEPS
    assert step_of(run_dir / "last.ckpt") == summary["step"]  # saved at the step reached
    assert not (run_dir / "final").exists()
    resumed = run(train_cmd([*args, "resume=true"]))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_same_run(run_dir, reference)
    attempts = json.loads((run_dir / "summary.json").read_text())["attempts"]
    assert [(a["status"], a["resume"]) for a in attempts] == [
        ("interrupted", False),
        ("completed", True),
    ]


def test_weights_that_went_nan_are_never_checkpointed_or_exported(base):
    """lr=1e6: the window's loss can still be finite when the weights already are not."""
    cfg = compose_config(
        [
            *uniform(base),
            "run_dir=${paths.runs_dir}/nan",
            "train.lr=1e6",
            "train.checkpoint_every_steps=2",
            "train.max_steps=30",
        ]
    )
    with pytest.raises(TaamError, match="non-finite"):
        train(cfg)
    run_dir = Path(cfg.paths.runs_dir) / "nan"
    if (run_dir / "last.ckpt").exists():
        ckpt = torch.load(run_dir / "last.ckpt", weights_only=False)
        assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values())
    assert not (run_dir / "final").exists()
    for export in (run_dir / "checkpoints").glob("chck_*"):
        assert all(
            torch.isfinite(v).all() for v in load_file(export / "model.safetensors").values()
        )
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "failed"


def copy_of(reference: Path, name: str) -> Path:
    run_dir = reference.with_name(name)
    shutil.copytree(reference, run_dir)
    return run_dir


def test_a_refused_resume_changes_neither_outcome_nor_config(base, reference):
    run_dir = copy_of(reference, "refused")
    config = (run_dir / "config.yaml").read_text()
    cfg = compose_config([*uniform(base), f"run_dir={run_dir}", "resume=true"])
    with pytest.raises(RunDirError, match="method Pstar → Uniform"):
        train(cfg)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and "error" not in summary
    assert (run_dir / "config.yaml").read_text() == config
    assert summary["attempts"][-1]["status"] == "failed"
    assert "method Pstar → Uniform" in summary["attempts"][-1]["error"]


def test_a_corrupt_last_ckpt_is_one_line_and_changes_nothing(base, reference):
    run_dir = copy_of(reference, "corrupt")
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["status"] = "interrupted"  # a completed run is not resumed at all: nothing to read
    (run_dir / "summary.json").write_text(json.dumps(summary))
    data = (run_dir / "last.ckpt").read_bytes()
    (run_dir / "last.ckpt").write_bytes(data[: len(data) // 2])
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    result = run(train_cmd([*overrides(base), f"run_dir={run_dir}", "resume=true"]))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"error: {run_dir / 'last.ckpt'} cannot be read (")
    assert "Traceback" not in result.stderr
    after = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    assert after == before  # not even train.log: it was refused before anything was opened
