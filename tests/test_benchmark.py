"""``python src/benchmark.py`` end to end on a tiny benchmark, its jobs trained in parallel by the
local launcher: paired differences equal those computed by hand from each run's results, every
run scored on the same held-out documents, a re-run trains and scores nothing again, and one
with other settings is refused rather than credited with the old runs. Its
settings are checked before any work."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from scipy import stats

from taam.report.benchmark import (
    LAG_SPREAD_PCT,
    RESOLVED_LAG_PCT,
    BenchmarkError,
    _documents_line,
    check_same_heldout,
    heldout_documents,
    plan,
    run_benchmark,
    stages,
)
from taam.schema import validate_train_config
from tests_support import CONFIGS, ROOT, compose_config

LANGS = ["eng", "nld", "zho"]


def final_adjusted(run: Path) -> dict[str, float]:
    """Language → held-out BPB × BP of ``final``, read straight from eval/results.csv."""
    with (run / "eval" / "results.csv").open(newline="", encoding="utf-8") as f:
        return {
            r["language"]: float(r["value"])
            for r in csv.DictReader(f)
            if r["checkpoint"] == "final" and r["metric"] == "bpb_adjusted" and not r["file"]
        }


def heldout_hashes(run: Path) -> dict[str, str]:
    return {
        lang: hashlib.sha256((run / "heldout" / f"{lang}.jsonl").read_bytes()).hexdigest()
        for lang in LANGS
    }


@pytest.mark.slow
def test_a_tiny_benchmark_pairs_seeds_on_the_same_heldout_text(tiny_overrides, tmp_path):
    out = tmp_path / "bench"
    cfg = compose_config(
        [
            f"out_dir={out}",
            "seeds=2",
            "only=[uniform,temperature]",
            "also_against=[temperature]",
            "steps=20",
        ],
        "benchmark",
    )
    cfg.overrides = [o for o in tiny_overrides if not o.startswith("train.max_steps")]
    local = ["hydra/launcher=local", "hydra.launcher.n_jobs=2"]  # two worker processes
    rows = run_benchmark(cfg, CONFIGS, local)

    runs = {(m, s): out / f"{m}_seed{s}" for m in ("uniform", "temperature") for s in (1, 2)}
    assert len({str(heldout_hashes(run)) for run in runs.values()}) == 1  # identical documents
    worst = {key: max(final_adjusted(run).values()) for key, run in runs.items()}
    mean = {key: statistics.fmean(final_adjusted(run).values()) for key, run in runs.items()}
    d_worst = [worst["temperature", s] - worst["uniform", s] for s in (1, 2)]
    d_mean = [mean["temperature", s] - mean["uniform", s] for s in (1, 2)]
    row = next(r for r in rows if r["method"] == "temperature")
    assert row["d_bpb_adj_worst"] == pytest.approx(statistics.fmean(d_worst), abs=1e-12)
    assert row["d_bpb_adj_mean"] == pytest.approx(statistics.fmean(d_mean), abs=1e-12)
    half = stats.t.ppf(0.975, 1) * statistics.stdev(d_worst) / math.sqrt(2)
    assert row["d_bpb_adj_worst_low"] == pytest.approx(statistics.fmean(d_worst) - half)
    assert row["wins"] + row["ties"] + row["losses"] == 2
    with (out / "comparison.csv").open(newline="", encoding="utf-8") as f:
        table = {r["method"]: r for r in csv.DictReader(f)}
    assert float(table["temperature"]["d_bpb_adj_worst"]) == pytest.approx(
        statistics.fmean(d_worst)
    )
    assert float(table["uniform"]["d_bpb_adj_worst"]) == 0.0
    with (out / "comparison_vs_temperature.csv").open(newline="", encoding="utf-8") as f:
        versus = {r["method"]: r for r in csv.DictReader(f)}  # the same pairs, the other way
    assert float(versus["uniform"]["d_bpb_adj_worst"]) == pytest.approx(-statistics.fmean(d_worst))
    assert [r["method"] for r in rows] == sorted(
        ("uniform", "temperature"), key=lambda m: statistics.fmean(worst[m, s] for s in (1, 2))
    )  # ranked by the worst language's adjusted BPB
    text = (out / "comparison.md").read_text(encoding="utf-8")
    assert "data seed 0" in text and f"{statistics.fmean(d_worst):+.3f}" in text
    ledger = json.loads((runs["uniform", 1] / "ledger.json").read_text(encoding="utf-8"))
    counts = ", ".join(f"{x} {r['heldout_documents']}" for x, r in ledger["languages"].items())
    fewest = min(r["heldout_documents"] for r in ledger["languages"].values())
    assert f"Held-out documents per language: {counts}. On {fewest} documents a language's" in text
    assert "`data.heldout_unused=true` also holds out" in text  # the runs did not
    assert {p.name for p in (out / "plots").iterdir()} >= {
        "paired_differences.png",
        "pi_mean_by_method.png",
        "heldout_by_method.png",
    }

    logs = {p.name: p.stat().st_size for p in (out / "logs").iterdir()}
    scored = {p: p.stat().st_mtime_ns for p in out.glob("*/eval/cache/*.json")}
    assert run_benchmark(cfg, CONFIGS, local) == rows  # the same table again ...
    assert {p.name: p.stat().st_size for p in (out / "logs").iterdir()} == logs  # no training
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/eval/cache/*.json")} == scored

    cfg.overrides = [*cfg.overrides, "train.lr=0.0123"]  # the same out_dir, another setting
    with pytest.raises(BenchmarkError, match=r"4 run\(s\).*train.lr: 0.003 → 0.0123"):
        run_benchmark(cfg, CONFIGS, local)
    listed = ",".join(f"'{o}'" for o in cfg.overrides)  # and from the command line (hydra.main)
    command = [sys.executable, "src/benchmark.py", f"out_dir={out}", "seeds=2", "steps=20"]
    command += ["only=[uniform,temperature]", f"overrides=[{listed}]"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "were trained with other settings than this benchmark gives them" in done.stderr
    assert {p.name: p.stat().st_size for p in (out / "logs").iterdir()} == logs  # nothing ran


def test_the_data_group_is_chosen_as_in_train_py(tmp_path):
    cfg = compose_config([f"out_dir={tmp_path}", "seeds=1", "data=babylm"], "benchmark")
    assert cfg.data.source.eng.startswith("hf:")  # the group composed, not a string
    [job, *_] = plan(cfg, ["data=babylm", "data.budget.total_words_m=10"])
    assert job.overrides[1:3] == ("data=babylm", "data.budget.total_words_m=10")
    train = compose_config(list(job.overrides))
    assert train.data.budget.total_words_m == 10 and train.data.source.nld.startswith("hf:")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("seeds=0", "seeds=0: the number of training seeds, an integer ≥ 1"),
        ("steps=-10", "steps=-10: train.max_steps of every job, an integer ≥ 1 or null"),
        ("steps=1.5", "steps=1.5: train.max_steps of every job, an integer ≥ 1 or null"),
        ("seeds=two", "seeds=two: the number of training seeds, an integer ≥ 1"),
        ("confidence=1.5", "confidence=1.5: the interval's level, between 0 and 1"),
        ("tie=-1", "tie=-1: a difference counted as a tie, a number ≥ 0"),
    ],
)
def test_out_of_range_settings_are_refused_before_any_work(tmp_path, setting, message):
    out = tmp_path / "bench"
    cfg = compose_config([f"out_dir={out}", setting], "benchmark")
    with pytest.raises(BenchmarkError) as caught:
        run_benchmark(cfg, CONFIGS)
    assert str(caught.value) == message + "."
    assert not out.exists()  # nothing trained, nothing written


def test_every_baseline_is_trained_even_when_only_leaves_it_out(tmp_path):
    cfg = compose_config(
        [f"out_dir={tmp_path}", "seeds=1", "only=[pstar]", "also_against=[unimax]"],
        "benchmark",
    )
    assert [job.entry for job in plan(cfg)] == ["uniform", "unimax", "pstar"]
    cfg.also_against = ["nope"]
    with pytest.raises(BenchmarkError, match="nope"):
        plan(cfg)


def test_doremi_trains_after_the_uniform_runs_it_reads(tmp_path):
    """DoReMi's overrides name the uniform run of its seed: a second launch, after the first."""
    cfg = compose_config([f"out_dir={tmp_path}", "seeds=2", "only=[doremi,pstar]"], "benchmark")
    first, later = stages(plan(cfg), tmp_path)
    assert [job.entry for job in first] == ["uniform", "uniform", "pstar", "pstar"]
    assert [job.name for job in later] == ["doremi_seed1", "doremi_seed2"]
    assert stages([j for j in plan(cfg) if j.entry != "doremi"], tmp_path) == [first]


def test_every_entry_composes_into_a_valid_train_config(tmp_path):
    """Each entry of configs/benchmark.yaml is a train config the schema accepts, with the
    signal it says (the published baselines pin signal=train)."""
    cfg = compose_config([f"out_dir={tmp_path}", "seeds=1"], "benchmark")
    signals = {}
    for job in plan(cfg):
        train_cfg = compose_config(list(job.overrides))
        if job.entry != "doremi":  # its reference run does not exist here
            validate_train_config(train_cfg)
        signals[job.entry] = train_cfg.signal.name
    assert signals["pstar"] == signals["odm-validation"] == signals["group-dro-dev"] == "dev"
    assert signals["odm"] == signals["group-dro"] == signals["doremi"] == "train"


def test_the_readme_variant_entries_compose_into_valid_train_configs(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^python src/benchmark\.py (\"\+methods\..*)$", readme, re.M)
    assert len(commands) >= 2
    for command in commands:
        [entry] = shlex.split(command)
        name = entry.removeprefix("+methods.").split("=", 1)[0]
        cfg = compose_config(
            [f"out_dir={tmp_path}", "seeds=1", f"only=[{name}]", entry], "benchmark"
        )
        [job] = [job for job in plan(cfg) if job.entry == name]
        validate_train_config(compose_config(list(job.overrides)))


def test_splits_train_every_entry_and_seed_on_each_data_seed(tmp_path):
    cfg = compose_config(
        [f"out_dir={tmp_path}", "seeds=2", "splits=2", "only=[pstar]"], "benchmark"
    )
    jobs = plan(cfg)
    assert [job.name for job in jobs] == [
        f"{entry}_split{split}_seed{seed}"
        for split in (0, 1)
        for entry in ("uniform", "pstar")
        for seed in (1, 2)
    ]
    for job in jobs:  # the data seed is the split's, as train.py composes it
        assert compose_config(list(job.overrides)).data.seed == job.split
    for data, overrides in (
        (["data=sample", "data.seed=3"], []),
        (["data=sample"], ["data.seed=3"]),
    ):
        cfg.overrides = overrides
        with pytest.raises(BenchmarkError, match=r"data\.seed \(on the command line or in overr"):
            plan(cfg, data)
    cfg.overrides = []
    cfg.only = ["doremi"]  # its reference run is named without the split
    with pytest.raises(BenchmarkError, match=r"\['doremi'\] read another entry's runs.*only="):
        plan(cfg)
    cfg.splits = 1
    with pytest.raises(BenchmarkError, match="splits=1: the number of data splits"):
        plan(cfg)


def test_runs_of_one_split_on_other_held_out_text_are_refused():
    same = {"data_seed": 0, "heldout_sha256": {"eng": "a"}}
    assert check_same_heldout({"u1": same, "p1": same}) == {0: {"eng": "a"}}
    other = {"data_seed": 0, "heldout_sha256": {"eng": "b"}}
    with pytest.raises(BenchmarkError, match="2 distinct held-out sets"):
        check_same_heldout({"u1": same, "p1": other})
    assert heldout_documents(
        [{"languages": {"eng": {"heldout_documents": n}}} for n in (21, 19, 21)]
    ) == {"eng": [19, 21]}


def test_the_documents_line_cautions_where_the_text_cannot_resolve_a_one_percent_lag():
    few = _documents_line({"eng": [21], "zho": [19, 25]}, heldout_unused=False)
    assert few.startswith("Held-out documents per language: eng 21, zho 19–25. On 19 documents")
    assert f"{LAG_SPREAD_PCT / math.sqrt(19):.1f}%" in few and "heldout_unused=true" in few
    held_all = _documents_line({"eng": [450], "zho": [126]}, heldout_unused=True)
    assert "On 126 documents" in held_all and "heldout_unused" not in held_all  # already on
    enough = math.ceil((2 * LAG_SPREAD_PCT / RESOLVED_LAG_PCT) ** 2)
    assert (
        _documents_line({"eng": [enough]}, False)
        == f"Held-out documents per language: eng {enough}."
    )
