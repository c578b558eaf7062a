"""``python src/eval.py``: config, checkpoints, caching, outputs and errors on tiny run dirs."""

from __future__ import annotations

import csv
import json
import logging
import math
import subprocess
import sys
from pathlib import Path

import pytest

from eval_support import (
    FIXTURES,
    HELDOUT,
    PREMIUMS,
    direct_logprob,
    eval_config,
    make_run_dir,
    save_checkpoint,
    sentence_ids,
    tiny_model,
)
from taam.evaluation import EvalError, evaluate
from taam.evaluation import runner as runner_module
from taam.evaluation.checkpoints import list_checkpoints

ROOT = Path(__file__).resolve().parents[1]
PAIRS = f"++minimal_pairs.eng=[{FIXTURES / 'multiblimp_eng.jsonl'}]"
COLUMNS = [
    "checkpoint",
    "exposures_tokens",
    "language",
    "metric",
    "value",
    "file",
    "phenomenon",
    "n",
]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_config_defaults_presets_and_pair_overrides():
    cfg = eval_config(["run_dir=runs/x"])
    assert cfg.device == "auto" and cfg.minimal_pairs == {} and cfg.run_dirs == []
    babylm = eval_config(["eval_data=babylm"]).minimal_pairs
    assert set(babylm) == {"eng", "nld", "zho"}
    assert babylm.nld[1] == {"hub": "jmichaelov/blimp_nl", "name": None, "split": "test"}
    merged = eval_config(["eval_data=babylm", "++minimal_pairs.eng=[pairs/eng.jsonl]"])
    assert merged.minimal_pairs.eng == ["pairs/eng.jsonl"] and "zho" in merged.minimal_pairs
    assert eval_config(["run_dirs=[runs/a,runs/b]"]).run_dirs == ["runs/a", "runs/b"]


def test_checkpoints_are_ordered_by_millions_then_final(tmp_path):
    run = make_run_dir(tmp_path / "run", {"final": 3, "chck_10M": 2, "chck_2M": 1})
    (run / "checkpoints" / ".chck_20M.tmp").mkdir()  # an export in progress is not a checkpoint
    assert [c.name for c in list_checkpoints(run)] == ["chck_2M", "chck_10M", "final"]
    assert [c.exposures_tokens for c in list_checkpoints(run)] == [1, 2, 3]


def test_results_files_hold_bpb_and_accuracy_per_checkpoint(tmp_path):
    run = make_run_dir(tmp_path / "run")
    evaluate(eval_config([f"run_dir={run}", PAIRS]))
    rows = read_csv(run / "eval" / "results.csv")
    assert list(rows[0]) == COLUMNS
    value = {
        (r["checkpoint"], r["language"], r["metric"], r["phenomenon"]): r
        for r in rows
        if not r["file"]
    }
    model = tiny_model(seed=1)  # final/ is the second checkpoint: seed 1
    for lang, texts in HELDOUT.items():
        bits = -sum(direct_logprob(model, sentence_ids(t)) for t in texts) / math.log(2)
        bpb = bits / sum(len(t.encode("utf-8")) for t in texts)
        assert float(value[("final", lang, "bpb", "")]["value"]) == pytest.approx(bpb, rel=1e-5)
        adjusted = float(value[("final", lang, "bpb_adjusted", "")]["value"])
        assert adjusted == pytest.approx(bpb * PREMIUMS[lang], rel=1e-5)
        assert value[("final", lang, "bpb", "")]["exposures_tokens"] == "1500000"
    assert value[("chck_1M", "eng", "accuracy", "")]["n"] == "4"
    phenomena = {r["phenomenon"] for r in rows if r["file"] and r["checkpoint"] == "final"}
    assert phenomena == {"", "SV-#", "SV-P"}
    markdown = (run / "eval" / "results.md").read_text(encoding="utf-8")
    assert "| chck_1M | 1,000,000 | eng |" in markdown and "multiblimp_eng.jsonl" in markdown
    assert (run / "eval" / "curves.png").read_bytes()[:4] == b"\x89PNG"


@pytest.fixture
def evaluated(monkeypatch) -> list[str]:
    """The names of the checkpoints the runner scores (not served from its cache), in order."""
    names: list[str] = []
    original = runner_module.evaluate_checkpoint

    def spy(checkpoint, *args, **kwargs):
        names.append(checkpoint.name)
        return original(checkpoint, *args, **kwargs)

    monkeypatch.setattr(runner_module, "evaluate_checkpoint", spy)
    return names


def test_cached_checkpoints_are_skipped_and_new_ones_evaluated(tmp_path, evaluated, caplog):
    caplog.set_level(logging.INFO)
    run = make_run_dir(tmp_path / "run")
    cfg = eval_config([f"run_dir={run}", PAIRS])
    evaluate(cfg)
    first = (run / "eval" / "results.csv").read_text()
    assert evaluated == ["chck_1M", "final"]
    evaluate(cfg)
    assert evaluated == ["chck_1M", "final"]  # nothing new
    assert "cached, skipped: chck_1M, final" in caplog.text
    assert (run / "eval" / "results.csv").read_text() == first
    save_checkpoint(run / "checkpoints" / "chck_2M", seed=5, exposures_tokens=1_200_000)
    evaluate(cfg)
    assert evaluated == ["chck_1M", "final", "chck_2M"]
    checkpoints = [r["checkpoint"] for r in read_csv(run / "eval" / "results.csv")]
    assert list(dict.fromkeys(checkpoints)) == ["chck_1M", "chck_2M", "final"]
    save_checkpoint(run / "final", seed=6, exposures_tokens=1_500_000)  # new weights
    evaluate(cfg)
    assert evaluated[3:] == ["final"]
    evaluate(eval_config([f"run_dir={run}"]))  # other minimal pairs: a different cache key
    assert evaluated[4:] == ["chck_1M", "chck_2M", "final"]


def test_scoring_a_subset_of_checkpoints_keeps_the_other_rows(tmp_path, evaluated):
    run = make_run_dir(tmp_path / "run")
    evaluate(eval_config([f"run_dir={run}"]))
    before = read_csv(run / "eval" / "results.csv")
    evaluated.clear()  # count only what the subset runs score
    save_checkpoint(run / "final", seed=6, exposures_tokens=1_500_000)  # new final weights
    evaluate(eval_config([f"run_dir={run}", "checkpoints=[final]"]))
    after = read_csv(run / "eval" / "results.csv")
    assert evaluated == ["final"]
    milestone = [r for r in before if r["checkpoint"] == "chck_1M"]
    assert milestone and [r for r in after if r["checkpoint"] == "chck_1M"] == milestone
    old_final = {r["value"] for r in before if r["checkpoint"] == "final"}
    new_final = {r["value"] for r in after if r["checkpoint"] == "final"}
    assert new_final and new_final.isdisjoint(old_final)  # refreshed, not kept
    evaluate(eval_config([f"run_dir={run}", "checkpoints=[final]", "force=true"]))
    assert evaluated == ["final", "final"]  # force re-scores only the chosen checkpoints
    assert [r for r in read_csv(run / "eval" / "results.csv") if r["checkpoint"] == "chck_1M"] == (
        milestone
    )


def test_several_runs_are_compared_on_one_figure(tmp_path):
    a, b = make_run_dir(tmp_path / "a"), make_run_dir(tmp_path / "b", {"final": 7})
    written = evaluate(eval_config([f"run_dirs=[{a},{b}]", f"out_dir={tmp_path / 'cmp'}"]))
    assert tmp_path / "cmp" / "curves.png" in written and (b / "eval" / "results.md").is_file()
    rows = read_csv(tmp_path / "cmp" / "results.csv")
    assert next(iter(rows[0])) == "run" and {r["run"] for r in rows} == {"a", "b"}
    assert "| a | chck_1M |" in (tmp_path / "cmp" / "results.md").read_text()


def test_a_run_without_checkpoints_is_refused(tmp_path):
    run = make_run_dir(tmp_path / "run", {})
    with pytest.raises(
        EvalError, match=r"has no checkpoints: neither checkpoints/chck_<N>M/ nor final/"
    ):
        evaluate(eval_config([f"run_dir={run}"]))


def test_run_dir_or_run_dirs_exactly_one(tmp_path):
    with pytest.raises(EvalError, match="give exactly one of run_dir"):
        evaluate(eval_config([]))
    with pytest.raises(EvalError, match="does not exist"):
        evaluate(eval_config([f"run_dir={tmp_path / 'nowhere'}"]))
    run = make_run_dir(tmp_path / "run")
    with pytest.raises(EvalError, match="unknown checkpoint"):
        evaluate(eval_config([f"run_dir={run}", "checkpoints=[chck_9M]"]))


def test_an_empty_heldout_file_is_refused(tmp_path):
    run = make_run_dir(tmp_path / "run")
    (run / "heldout" / "nld.jsonl").write_text("")
    with pytest.raises(EvalError, match=r"nld\.jsonl is empty"):
        evaluate(eval_config([f"run_dir={run}"]))


@pytest.mark.slow
def test_eval_script_end_to_end(tmp_path):
    run = make_run_dir(tmp_path / "run")
    command = [
        sys.executable,
        str(ROOT / "src" / "eval.py"),
        f"run_dir={run}",
        PAIRS,
        "checkpoints=[final]",
    ]
    first = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr + first.stdout
    assert {p.name for p in (run / "eval").iterdir()} == {
        "cache",
        "curves.png",
        "results.csv",
        "results.md",
    }
    assert json.loads((run / "eval" / "cache" / "final.json").read_text())["rows"]
    second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0 and "cached, skipped: final" in second.stdout + second.stderr
    command = [sys.executable, str(ROOT / "src" / "eval.py"), f"run_dir={tmp_path}"]
    failed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert failed.returncode != 0 and "has no checkpoints" in failed.stderr
