"""Hydra multirun sweeps (one run directory per job, reward-free methods once, failures recorded
by jobs running at once) and their comparison tables (``src/summarize.py``)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from taam.data.sources import DataError
from taam.io import write_json
from taam.run.sweep import (
    FAILURES_DIR,
    FAILURES_FILE,
    SWEEP_FILE,
    SweepJob,
    job_run_dir,
    merge_failures,
    read_failures,
    run_job,
    skip_reason,
    swept_keys,
    write_failure,
)
from tests_support import ROOT, compose_config

AXES = {
    "method": ["uniform", "exp3"],
    "reward": ["normalized_excess_loss", "cross_lingual_deficit"],
    "seed": ["1", "2"],
}


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def job(sweep_dir: Path, method: str, reward: str, *extra: str, num: int = 0) -> SweepJob:
    overrides = (f"method={method}", f"reward={reward}", "seed=1", *extra)
    return SweepJob(num=num, sweep_dir=sweep_dir, overrides=overrides, reward=reward)


def test_swept_keys_are_the_keys_with_several_values_last_override_wins():
    axes = swept_keys(["method=uniform,exp3", "seed=range(1,3)", "train.lr=0.1", "seed=1,2,3"])
    assert axes == {"method": ["uniform", "exp3"], "seed": ["1", "2", "3"]}


def test_a_method_without_reward_runs_only_with_the_first_reward(tmp_path):
    uniform = compose_config(["method=uniform"])
    assert skip_reason(uniform, job(tmp_path, "uniform", "normalized_excess_loss"), AXES) is None
    reason = skip_reason(uniform, job(tmp_path, "uniform", "cross_lingual_deficit"), AXES)
    assert "learns from no reward" in reason and "reward=normalized_excess_loss" in reason
    exp3 = compose_config(["method=exp3"])
    assert skip_reason(exp3, job(tmp_path, "exp3", "cross_lingual_deficit"), AXES) is None
    no_reward_axis = {"method": ["uniform"]}
    assert (
        skip_reason(uniform, job(tmp_path, "uniform", "cross_lingual_deficit"), no_reward_axis)
        is None
    )


def test_run_dirs_of_a_sweep_name_the_swept_keys_the_run_name_lacks(tmp_path):
    cfg = compose_config(["method=exp3", "reward=cross_lingual_deficit", "seed=1"])
    plain = job_run_dir(cfg, job(tmp_path, "exp3", "cross_lingual_deficit"), AXES)
    assert plain.parent == tmp_path and plain.name.endswith("_Exp3-cld-dev_seed1")
    axes = {**AXES, "train.lr": ["0.001", "0.003"], "data.source.nld": ["/a/b", "/c"]}
    extra = job(tmp_path, "exp3", "cross_lingual_deficit", "train.lr=0.001", "data.source.nld=/a/b")
    named = job_run_dir(cfg, extra, axes)
    assert named.name.endswith("_Exp3-cld-dev_seed1_train.lr-0.001_data.source.nld--a-b")


def test_a_failed_job_is_recorded_and_the_next_one_runs(tmp_path):
    write_json(tmp_path / SWEEP_FILE, {"overrides": [], "axes": AXES})

    def failing(cfg):
        raise DataError("the budget is too small")

    def passing(cfg):
        run_dir = Path(cfg.run_dir)
        run_dir.mkdir()
        write_json(run_dir / "summary.json", {"status": "completed"})
        return run_dir

    cfg = compose_config(["method=exp3", "reward=normalized_excess_loss", "seed=1"])
    assert run_job(cfg, job(tmp_path, "exp3", "normalized_excess_loss", num=4), failing) == "failed"
    assert [p.name for p in (tmp_path / FAILURES_DIR).iterdir()] == ["4.json"]  # its own file
    [failure] = read_failures(tmp_path)
    assert failure["job"] == 4 and failure["error"] == "DataError: the budget is too small"
    assert (
        failure["run_dir"].endswith("_Exp3-nel-dev_seed1") and "Traceback" in failure["traceback"]
    )

    cfg = compose_config(["method=exp3", "reward=cross_lingual_deficit", "seed=1"])
    assert (
        run_job(cfg, job(tmp_path, "exp3", "cross_lingual_deficit", num=5), passing) == "completed"
    )
    cfg = compose_config(["method=uniform", "reward=cross_lingual_deficit", "seed=1"])
    assert (
        run_job(cfg, job(tmp_path, "uniform", "cross_lingual_deficit", num=6), failing) == "skipped"
    )
    assert len(read_failures(tmp_path)) == 1
    merge_failures(tmp_path)
    assert [json.loads(line) for line in (tmp_path / FAILURES_FILE).read_text().splitlines()] == [
        failure
    ]


def test_failures_of_jobs_running_at_once_are_merged_whole_in_job_order(tmp_path):
    """Jobs of a parallel launcher fail at the same time: no lost, torn or interleaved line."""
    long = "x" * 200_000  # far above the size the OS writes atomically

    def fail(num: int) -> None:
        try:
            raise RuntimeError(f"job {num} {long}")
        except RuntimeError as err:
            write_failure(job(tmp_path, "exp3", "cross_lingual_deficit", num=num), "r", err)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fail, reversed(range(24))))
    assert merge_failures(tmp_path) == read_failures(tmp_path)
    lines = (tmp_path / FAILURES_FILE).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["job"] for line in lines] == list(range(24))
    assert all(
        json.loads(line)["error"] == f"RuntimeError: job {n} {long}" for n, line in enumerate(lines)
    )


def test_a_sweep_of_an_older_version_keeps_its_failures_file(tmp_path):
    (tmp_path / FAILURES_FILE).write_text(json.dumps({"job": 3, "error": "E"}) + "\n")
    assert read_failures(tmp_path) == [{"job": 3, "error": "E"}]
    assert merge_failures(tmp_path) == [{"job": 3, "error": "E"}]
    assert not merge_failures(tmp_path / "nothing-failed")


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    """One tokeniser and shard cache for the sweeps of this module (same data, same key)."""
    return tmp_path_factory.mktemp("cache")


def sweep(tiny: list[str], cache: Path, sweep_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """``python src/train.py -m <tiny overrides> <args>`` into ``sweep_dir`` (``args`` win)."""
    tiny = [o for o in tiny if not o.startswith("paths.cache_dir=")]
    command = [sys.executable, str(ROOT / "src/train.py"), "-m", *tiny, *args]
    command += [f"paths.cache_dir={cache}", f"hydra.sweep.dir={sweep_dir}"]
    return subprocess.run(command, capture_output=True, text=True)


def summarize(sweep_dir: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, str(ROOT / "src/summarize.py"), f"sweep_dir={sweep_dir}"]
    return subprocess.run(command, capture_output=True, text=True)


@pytest.mark.slow
def test_a_sweep_gives_a_run_dir_per_job_and_one_summary(tiny_overrides, shared_cache, tmp_path):
    sweep_dir = tmp_path / "sweep"
    done = sweep(
        tiny_overrides,
        shared_cache,
        sweep_dir,
        "method=odm,exp3",  # ODM learns from its own loss reward, not the reward group
        "reward=normalized_excess_loss,cross_lingual_deficit",
        "seed=1,2",
        "++method.mixer.warmup_steps=0",  # ++: a key only some methods have
    )
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stdout + done.stderr
    assert log.count("skipped: method ODM learns from no reward") == 2
    runs = sorted(p.name.split("_", 1)[1] for p in sweep_dir.iterdir() if p.is_dir())
    assert runs == [
        "Exp3-cld-dev_seed1",
        "Exp3-cld-dev_seed2",
        "Exp3-nel-dev_seed1",
        "Exp3-nel-dev_seed2",
        "ODM-train_seed1",
        "ODM-train_seed2",
    ]
    assert not (sweep_dir / "failures.jsonl").exists()
    assert json.loads((sweep_dir / "sweep.json").read_text())["axes"]["seed"] == ["1", "2"]
    summaries = {
        p.name: json.loads((p / "summary.json").read_text())
        for p in sweep_dir.iterdir()
        if p.is_dir()
    }
    assert {s["status"] for s in summaries.values()} == {"completed"}

    done = summarize(sweep_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    jobs = read_csv(sweep_dir / "summary.csv")
    assert sorted(r["run"] for r in jobs) == sorted(summaries)
    for row in jobs:
        summary = summaries[row["run"]]
        assert row["bpb_source"] == "training" and row["status"] == "completed"
        assert float(row["pi_zho"]) == pytest.approx(summary["pi"]["zho"])
        assert float(row["bpb_worst"]) == max(
            float(row[f"bpb_final_{lang}"]) for lang in ("eng", "nld", "zho")
        )
    by_method = {r["label"]: r for r in read_csv(sweep_dir / "summary_by_method.csv")}
    assert set(by_method) == {"Exp3-cld-dev", "Exp3-nel-dev", "ODM-train"}
    assert all(r["seeds"] == "2" for r in by_method.values())
    cld = [float(r["pi_zho"]) for r in jobs if "_Exp3-cld-dev_" in r["run"]]
    assert float(by_method["Exp3-cld-dev"]["pi_zho_mean"]) == pytest.approx(sum(cld) / 2)
    table = (sweep_dir / "summary.md").read_text()
    assert "## By configuration (mean ± sd over seeds)" in table and "| Exp3-cld-dev | 2 |" in table
    for png in ("pi_by_method.png", "bpb_by_method.png"):
        assert (sweep_dir / "plots" / png).stat().st_size > 10_000


@pytest.mark.slow
def test_a_parallel_sweep_records_its_failures_and_summarize_tabulates_it(
    tiny_overrides, shared_cache, tmp_path
):
    """Four jobs, two at a time in worker processes (hydra/launcher=local), two of them failing."""
    sweep_dir = tmp_path / "sweep"
    args = ["hydra/launcher=local", "hydra.launcher.n_jobs=2", "seed=1,2"]
    done = sweep(tiny_overrides, shared_cache, sweep_dir, *args, "train.max_steps=100000,20")
    assert done.returncode == 1  # the sweep's exit status says that a job failed
    assert "2 job(s) failed" in done.stdout + done.stderr
    failures = [json.loads(line) for line in (sweep_dir / FAILURES_FILE).read_text().splitlines()]
    assert [f["job"] for f in failures] == sorted(f["job"] for f in failures)  # in job order
    swept = [
        sorted(o for o in f["overrides"] if o.startswith(("seed=", "train.max_steps=")))
        for f in failures
    ]
    assert swept == [
        ["seed=1", "train.max_steps=100000"],
        ["seed=2", "train.max_steps=100000"],
    ]
    assert all(f["error"].startswith("DataError: the run plans") for f in failures)
    runs = sorted(p for p in sweep_dir.iterdir() if (p / "summary.json").exists())
    for failure, seed in zip(failures, (1, 2), strict=True):
        failed = Path(failure["run_dir"])
        assert failed.name.endswith(f"_seed{seed}_train.max_steps-100000")
        assert not failed.exists()  # the start failed before training: no directory is left
    assert [p.name.endswith("_train.max_steps-20") for p in runs] == [True, True]
    assert [json.loads((p / "summary.json").read_text())["status"] for p in runs] == [
        "completed",
        "completed",
    ]

    merged = (sweep_dir / FAILURES_FILE).read_text()
    (sweep_dir / FAILURES_FILE).unlink()  # as if the launching process had died
    done = summarize(sweep_dir)
    assert done.returncode == 0 and "2 job(s) failed" in done.stdout
    assert (sweep_dir / FAILURES_FILE).read_text() == merged  # merged again from the jobs' files
    statuses = {r["run"]: r["status"] for r in read_csv(sweep_dir / "summary.csv")}
    assert statuses == {p.name: "completed" for p in runs}
