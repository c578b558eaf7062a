"""taam.comparison on hand-made run directories: held-out BPB preferred, seeds averaged."""

from __future__ import annotations

import pytest

from taam.comparison import (
    ComparisonError,
    find_runs,
    job_row,
    load_runs,
    markdown,
    method_rows,
    summarize,
)
from taam.evaluation.report import COLUMNS
from taam.io import write_csv, write_json

LANGS = ["eng", "zho"]


def make_run(folder, name, seed, bpb_eng, pi_zho, heldout=None, status="completed"):
    """A run directory with summary.json, mixer.csv, metrics.csv (two windows) and, given
    ``heldout`` (checkpoint → language → BPB), eval/results.csv."""
    run = folder / name
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
            {"checkpoint": ckpt, "exposures_tokens": 0, "language": lang, "metric": "bpb"}
            | {"value": value, "file": "", "phenomenon": "", "n": 3}
            for ckpt, scores in heldout.items()
            for lang, value in scores.items()
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
    assert (first["bpb_worst"], first["worst_language"]) == (4.0, "zho")
    assert second["run"] == trained.name and second["bpb_source"] == "training"
    assert (second["bpb_final_eng"], second["bpb_best_eng"]) == (5.5, 4.5)
    assert (second["bpb_worst"], second["worst_language"]) == (5.5, "eng")

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
