"""Hydra's launchers on a cluster without one: the sbatch settings of ``hydra/launcher=slurm``,
Lightning's SLURM ranks and its auto-requeue kept off, and submitit's local executor standing in
for SLURM: a pre-empted job writes its checkpoint, is requeued and ends as if never stopped."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import submitit
import torch
from hydra.utils import instantiate
from safetensors.torch import load_file

from taam.report.benchmark import launch
from taam.run.launcher import Requeue
from tests_support import CONFIGS, ROOT, compose_config


def test_the_slurm_launcher_asks_sbatch_for_the_site_values(monkeypatch, tmp_path):
    monkeypatch.setenv("TAAM_SLURM_PARTITION", "gpu-h100")  # site values from the environment
    monkeypatch.setenv("TAAM_SLURM_ACCOUNT", "babylm")
    submitted = {}

    def map_array(self, fn, *args):  # what submitit would sbatch, without sbatch
        submitted["sbatch"] = self._executor._make_submission_file_text("<command>", "uid")
        submitted["executor"] = self._executor
        submitted["jobs"] = list(zip(*args, strict=True))
        return []

    monkeypatch.setattr(submitit.AutoExecutor, "map_array", map_array)
    monkeypatch.setattr(submitit.SlurmExecutor, "affinity", classmethod(lambda cls: 1))  # "srun"
    launcher = [
        "hydra/launcher=slurm",
        "hydra.launcher.nodes=2",  # and the command line
        "hydra.launcher.gpus_per_node=4",
        "hydra.launcher.timeout_min=600",
    ]
    launch([["seed=1"], ["seed=2"]], tmp_path / "sweep", CONFIGS, launcher)
    lines = set(submitted["sbatch"].splitlines())
    assert {
        "#SBATCH --partition=gpu-h100",
        "#SBATCH --account=babylm",
        "#SBATCH --nodes=2",
        "#SBATCH --gpus-per-node=4",
        "#SBATCH --ntasks-per-node=4",  # one task per GPU, as Lightning's SLURM environment expects
        "#SBATCH --cpus-per-task=8",
        "#SBATCH --mem=64GB",
        "#SBATCH --time=600",
        "#SBATCH --signal=USR2@300",  # the pre-emption signal, 5 minutes before the limit
        "#SBATCH --job-name=taam-benchmark",
    } <= lines
    assert f"--output {tmp_path}/sweep/.submitit/%j/%j_%t_log.out" in submitted["sbatch"]  # logs
    assert submitted["executor"].max_num_timeout == 20  # requeues after a timeout
    assert [job[0] for job in submitted["jobs"]] == [["seed=1"], ["seed=2"]]


def test_lightning_takes_ranks_from_slurm_and_leaves_the_requeue_to_submitit(monkeypatch):
    slurm = {
        "SUBMITIT_EXECUTOR": "slurm",
        "SLURM_JOB_ID": "4242",
        "SLURM_JOB_NAME": "taam",
        "SLURM_NTASKS": "8",
        "SLURM_NTASKS_PER_NODE": "4",
        "SLURM_NNODES": "2",
        "SLURM_NODELIST": "gpu[07-08]",
        "SLURM_PROCID": "5",
        "SLURM_LOCALID": "1",
        "SLURM_NODEID": "1",
    }
    for key, value in slurm.items():
        monkeypatch.setenv(key, value)
    for key in ("MASTER_ADDR", "MASTER_PORT"):  # Lightning's SLURMEnvironment writes them into
        monkeypatch.setenv(key, "")  # os.environ: restored after the test, or a later DDP test
        monkeypatch.delenv(key)  # in this process would rendezvous at gpu07
    trainer_cfg = compose_config(["trainer=ddp", "trainer.num_nodes=2"]).trainer
    with Requeue() as requeue:
        trainer = instantiate(trainer_cfg, accelerator="cpu", devices=4, precision="32-true")
        env = trainer._accelerator_connector.cluster_environment
        assert type(env).__name__ == "SLURMEnvironment"
        assert (env.global_rank(), env.local_rank(), env.node_rank(), env.world_size()) == (
            5,
            1,
            1,
            8,
        )
        assert env.main_address == "gpu07"
        trainer._signal_connector.register_signal_handlers()  # what fit() does first
        try:  # Lightning found a handler on SIGUSR1 and added no auto-requeue of its own
            assert signal.getsignal(signal.SIGUSR1) == requeue._on_signal
            assert signal.getsignal(signal.SIGUSR2) == requeue._on_signal
        finally:
            trainer._signal_connector.teardown()
    assert signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL  # restored after the job
    trainer = instantiate(trainer_cfg, accelerator="cpu", devices=4, precision="32-true")
    trainer._signal_connector.register_signal_handlers()  # without Requeue: Lightning's own
    try:
        assert type(signal.getsignal(signal.SIGUSR1)).__name__ == "_HandlersCompose"
    finally:
        trainer._signal_connector.teardown()


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


ADAPTIVE = [
    "method=pstar",
    "method.mixer.warmup_steps=10",
    "signal.every=10",
    "train.max_steps=80",
    "train.checkpoint_every_steps=20",
    "seed=4",
]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the job's process in /proc")
def test_a_preempted_submitit_job_is_requeued_and_resumes_exactly(tiny_overrides, tmp_path):
    base = [*tiny_overrides, *ADAPTIVE]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    train = [sys.executable, str(ROOT / "src" / "train.py")]
    reference = tmp_path / "reference"
    subprocess.run(
        [*train, *base, f"run_dir={reference}"], check=True, env=env, capture_output=True
    )

    sweep_dir = tmp_path / "sweep"
    launcher = ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10"]
    command = [*train, "-m", *launcher, *base, f"hydra.sweep.dir={sweep_dir}"]
    sweep = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 180
    while not list(sweep_dir.glob("*_Pstar-*_seed4/last.ckpt")) and time.time() < deadline:
        assert sweep.poll() is None, sweep.stdout.read().decode()[-3000:]
        time.sleep(0.02)
    [controller] = [int(p.name) for p in (sweep_dir / ".submitit").iterdir() if p.name.isdigit()]
    [task] = children(controller)  # the job's process
    os.kill(task, signal.SIGUSR2)  # what SLURM sends signal_delay_s before the time limit
    output = sweep.communicate(timeout=180)[0].decode()
    assert sweep.returncode == 0, output[-3000:]

    [run] = sweep_dir.glob("*_Pstar-*_seed4")
    summary = json.loads((run / "summary.json").read_text())
    first, second = summary["attempts"]
    assert first["status"] == "interrupted" and second["resume"] is True
    assert summary["status"] == "completed" and summary["step"] == 80
    logs = "".join(p.read_text() for p in (sweep_dir / ".submitit").glob("*/*_log.*"))
    assert "Requeued job" in logs and "(resumed)" in logs

    assert read_csv(run / "mixer.csv") == read_csv(reference / "mixer.csv")  # same π trajectory
    assert read_csv(run / "metrics.csv") == read_csv(reference / "metrics.csv")
    a, b = (load_file(d / "final" / "model.safetensors") for d in (reference, run))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert len({row["pi_zho"] for row in read_csv(reference / "mixer.csv")}) > 1  # π moved
    assert not (sweep_dir / "failures.jsonl").exists()
