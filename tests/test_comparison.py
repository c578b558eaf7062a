"""taam.report.comparison on hand-made run directories: held-out BPB preferred, seeds averaged."""

from __future__ import annotations

import statistics

import pytest
from omegaconf import OmegaConf

from taam.evaluation.report import COLUMNS
from taam.io import write_csv, write_json
from taam.report.comparison import (
    ComparisonError,
    comparability_warning,
    job_row,
    markdown,
    method_rows,
    summarize,
)
from taam.report.runs import find_runs, load_runs, unaveraged

LANGS = ["eng", "zho"]
PREMIUMS = {"eng": 1.0, "zho": 0.8}  # zho: fewer bytes per English-equivalent word


def make_run(folder, name, seed, bpb_eng, pi_zho, heldout=None, status="completed", config=None):
    """A run directory with summary.json, ledger.json, mixer.csv, metrics.csv (two windows),
    given ``heldout`` (checkpoint → language → BPB) eval/results.csv (BPB and BPB × BP), and
    given ``config`` (a dict) config.yaml."""
    run = folder / name
    write_json(
        run / "ledger.json", {"languages": {k: {"byte_premium": v} for k, v in PREMIUMS.items()}}
    )
    if config is not None:
        (run / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    write_json(
        run / "summary.json",
        {
            "status": status,
            "method": "Pstar",
            "reward": "cross_lingual_deficit",
            "seed": seed,
            "languages": LANGS,
            "step": 20,
            "exposures_tokens": 2000,
            "pi": {"eng": 1 - pi_zho, "zho": pi_zho},
            "per_language": {
                "eng": {"exposures_tokens": 1500},
                "zho": {"exposures_tokens": 500},
            },
            "floor": 0.05,
            "time_at_floor": {"eng": 0.5, "zho": 0.0},
        },
    )
    write_csv(
        run / "mixer.csv",
        [
            {"step": 10, "exposures_tokens": 1000, "pi_eng": 0.5, "pi_zho": 0.5},
            {"step": 20, "exposures_tokens": 2000, "pi_eng": 1 - pi_zho, "pi_zho": pi_zho},
        ],
        ["step", "exposures_tokens", "pi_eng", "pi_zho"],
    )
    write_csv(
        run / "metrics.csv",
        [
            {"step": 10, "exposures_tokens": 1000, "bpb_eng": bpb_eng - 1, "bpb_zho": 6.0},
            {"step": 20, "exposures_tokens": 2000, "bpb_eng": bpb_eng, "bpb_zho": 5.0},
        ],
        ["step", "exposures_tokens", "bpb_eng", "bpb_zho"],
    )
    if heldout:
        rows = [
            {"checkpoint": ckpt, "exposures_tokens": 0, "language": lang, "metric": metric}
            | {"value": value * bp, "file": "", "phenomenon": "", "n": 3}
            for ckpt, scores in heldout.items()
            for lang, value in scores.items()
            for metric, bp in (("bpb", 1.0), ("bpb_adjusted", PREMIUMS[lang]))
        ]
        write_csv(run / "eval" / "results.csv", rows, COLUMNS)
    return run


def test_heldout_bpb_is_preferred_and_training_bpb_is_the_fallback(tmp_path):
    heldout = {"chck_1M": {"eng": 3.0, "zho": 4.5}, "final": {"eng": 3.5, "zho": 4.0}}
    evaluated = make_run(tmp_path, "a_Pstar-cld_seed1", 1, 5.0, 0.6, heldout)
    trained = make_run(tmp_path, "a_Pstar-cld_seed2", 2, 5.5, 0.4)
    runs = load_runs(find_runs(tmp_path))
    first, second = (job_row(run, LANGS) for run in runs)
    assert first["run"] == evaluated.name and first["bpb_source"] == "held-out"
    assert (first["bpb_final_eng"], first["bpb_best_eng"]) == (3.5, 3.0)
    # Worst on adjusted BPB (eng 3.5 > zho 4.0 × 0.8 = 3.2), not on raw BPB (zho 4.0).
    assert (first["bpb_adj_worst"], first["worst_language"]) == (3.5, "eng")
    assert first["bpb_worst"] == 4.0 and first["bpb_adj_final_zho"] == pytest.approx(3.2)
    assert second["run"] == trained.name and second["bpb_source"] == "training"
    assert (second["bpb_final_eng"], second["bpb_best_eng"]) == (5.5, 4.5)
    assert (second["bpb_worst"], second["worst_language"]) == (5.5, "eng")
    assert second["bpb_adj_final_zho"] == pytest.approx(4.0)  # training BPB × the ledger's BP
    assert (first["share_eng"], first["share_zho"]) == (0.75, 0.25)  # of the 2,000 exposures

    [row] = method_rows(runs, LANGS)
    assert row["label"] == "Pstar-cross_lingual_deficit"  # no config.yaml: the reward's name
    assert row["seeds"] == 2 and row["bpb_source"] == "held-out/training"
    assert row["pi_zho_mean"] == pytest.approx(0.5)
    assert row["pi_zho_sd"] == pytest.approx(0.1414, abs=1e-4)
    assert row["time_at_floor_eng_mean"] == 0.5


def test_failed_jobs_are_listed_but_not_averaged(tmp_path):
    make_run(tmp_path, "b_Pstar-cld_seed1", 1, 5.0, 0.6)
    make_run(tmp_path, "b_Pstar-cld_seed2", 2, 9.0, 0.9, status="failed")
    runs, written = summarize(str(tmp_path), [], None)
    [row] = method_rows(runs, LANGS)
    assert row["seeds"] == 1 and row["failed"] == 1 and row["pi_zho_mean"] == 0.6
    table = markdown(runs, "b")
    assert "| b_Pstar-cld_seed2 | Pstar-cross_lingual_deficit | 2 | failed |" in table
    assert {p.name for p in written} >= {"summary.md", "summary.csv", "pi_by_method.png"}


def test_summarize_says_what_to_point_at(tmp_path):
    with pytest.raises(ComparisonError, match="exactly one of sweep_dir"):
        summarize(None, [], None)
    with pytest.raises(ComparisonError, match="holds no run directories"):
        summarize(str(tmp_path), [], None)
    with pytest.raises(ComparisonError, match="out_dir"):
        summarize(None, [str(tmp_path)], None)


def test_runs_that_differ_in_more_than_their_seed_are_never_averaged(tmp_path):
    def config(seed, max_steps):
        return {
            "seed": seed,
            "run_dir": f"runs/{seed}-{max_steps}",  # naming only: not part of the identity
            "method": {
                "name": "Pstar",
                "mixer": {"_target_": "taam.mixer.exp3.Exp3Mixer.from_context"},
            },
            "reward": {"name": "cross_lingual_deficit", "tag": "cld"},
            "signal": {"name": "dev"},
            "data": {"languages": LANGS},
            "train": {"max_steps": max_steps, "lr": 0.003},
        }

    for seed, max_steps, bpb in ((1, 60, 5.0), (2, 60, 5.2), (1, 120, 4.0), (2, 120, 4.2)):
        make_run(
            tmp_path,
            f"{max_steps}_Pstar-cld_seed{seed}",
            seed,
            bpb,
            0.5,
            None,
            config=config(seed, max_steps),
        )
    runs, _ = summarize(str(tmp_path), [], None)
    rows = {row["label"]: row for row in method_rows(runs, LANGS)}
    assert set(rows) == {
        "Pstar-cld-dev [train.max_steps=60]",
        "Pstar-cld-dev [train.max_steps=120]",
    }
    assert rows["Pstar-cld-dev [train.max_steps=60]"]["seeds"] == 2
    assert rows["Pstar-cld-dev [train.max_steps=60]"]["bpb_final_eng_mean"] == pytest.approx(5.1)
    assert rows["Pstar-cld-dev [train.max_steps=120]"]["bpb_final_eng_mean"] == pytest.approx(4.1)
    assert unaveraged(runs) == {"Pstar-cld-dev": ["train.max_steps"]}
    summary = (tmp_path / "summary.md").read_text()
    assert "| Pstar-cld-dev [train.max_steps=60] | 2 |" in summary
    assert (
        "Not averaged (the runs differ in more than their seed): Pstar-cld-dev: train.max_steps."
        in summary
    )


def test_a_benchmark_over_splits_pools_the_data_seed_into_one_row(tmp_path):
    """Runs that differ only in data.seed (a benchmark over splits) make one row when
    ``data.seed`` is pooled, and stay apart (each split its own row) when it is not."""

    def config(seed, data_seed):
        return {
            "seed": seed,
            "run_dir": f"runs/{data_seed}-{seed}",
            "method": {
                "name": "Pstar",
                "mixer": {"_target_": "taam.mixer.exp3.Exp3Mixer.from_context"},
            },
            "reward": {"name": "cross_lingual_deficit", "tag": "cld"},
            "signal": {"name": "dev"},
            "data": {"languages": LANGS, "seed": data_seed},
            "train": {"max_steps": 60},
        }

    bpbs = {(0, 1): 5.0, (0, 2): 5.2, (1, 1): 4.0, (2, 1): 4.4}
    for (data_seed, seed), bpb in bpbs.items():
        run = f"pstar_split{data_seed}_seed{seed}"
        make_run(tmp_path, run, seed, bpb, 0.5, None, config=config(seed, data_seed))
    runs = load_runs(find_runs(tmp_path))
    apart = method_rows(runs, LANGS)
    assert len(apart) == 3 and unaveraged(runs) == {"Pstar-cld-dev": ["data.seed"]}
    (row,) = method_rows(runs, LANGS, pooled=("data.seed",))
    assert row["label"] == "Pstar-cld-dev" and row["seeds"] == 4
    assert row["bpb_final_eng_mean"] == pytest.approx(statistics.fmean(bpbs.values()))
    assert unaveraged(runs, pooled=("data.seed",)) == {}
    summarize(str(tmp_path), [], None, pooled=["data.seed"])  # python src/summarize.py pool=[…]
    summary = (tmp_path / "summary.md").read_text()
    assert "mean ± sd over seeds and data.seed" in summary and "Not averaged" not in summary
    with pytest.raises(ComparisonError, match=r"\['data.sed'\] is in no run's config.yaml"):
        summarize(str(tmp_path), [], None, pooled=["data.sed"])


def test_runs_of_other_lengths_or_scored_on_other_text_are_flagged(tmp_path):
    """Rows of one table must be comparable: a 500-step run beside a 60-step one, or held-out
    BPB beside training-window BPB, gets a caution in summary.md (and on the console)."""

    def config(seed: int, max_steps: int) -> dict:
        return {
            "seed": seed,
            "method": {"name": "Uniform", "mixer": {"_target_": "taam.mixer.base.StaticMixer"}},
            "reward": {"name": "cross_lingual_deficit", "tag": "cld"},
            "data": {"languages": LANGS},
            "train": {"max_steps": max_steps},
        }

    heldout = {"final": {"eng": 3.5, "zho": 4.0}}
    make_run(tmp_path, "c_Uniform_seed1", 1, 5.0, 0.6, heldout, config=config(1, 500))
    make_run(tmp_path, "c_Uniform_seed2", 2, 5.1, 0.5, heldout, config=config(2, 500))
    assert comparability_warning(load_runs(find_runs(tmp_path))) is None

    make_run(tmp_path, "c_Uniform_seed3", 3, 6.0, 0.5, config=config(3, 60))  # not scored
    runs = load_runs(find_runs(tmp_path))
    warning = comparability_warning(runs)
    assert "train.max_steps (500, 60)" in warning
    assert "held-out text for some runs and training windows for others" in warning
    assert f"**{warning}**" in markdown(runs, "c")
