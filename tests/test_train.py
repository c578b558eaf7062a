"""End-to-end runs on the embedded sample (tiny model, a few dozen steps)."""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from taam.mixer.rewards import lag_standard_error
from taam.publish.export_check import check_run
from taam.run.rundir import RunDirError
from taam.run.training import train
from tests_support import ROOT, compose_config

pytestmark = pytest.mark.slow


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_uniform_run_leaves_the_run_directory(tiny_overrides):
    run_dir = train(compose_config([*tiny_overrides, "method=uniform", "seed=1"]))
    assert run_dir.name.endswith("_Uniform_seed1")
    for name in [
        "config.yaml",
        "ledger.json",
        "mixer.csv",
        "metrics.csv",
        "summary.json",
        "last.ckpt",
    ]:
        assert (run_dir / name).is_file(), name
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["step"] == 20
    assert summary["exposures_tokens"] == 20 * 8 * 32
    assert sum(v["exposures_tokens"] for v in summary["per_language"].values()) == 20 * 8 * 32
    ledger = json.loads((run_dir / "ledger.json").read_text())
    assert set(ledger["languages"]) == {"eng", "nld", "zho"} and ledger["within_budget"]
    metrics = read_csv(run_dir / "metrics.csv")
    assert [int(r["step"]) for r in metrics] == [5, 10, 15, 20]
    for lang in ("eng", "nld", "zho"):
        assert {f"loss_nats_per_token_{lang}", f"bpb_{lang}", f"pi_{lang}"} <= set(metrics[0])
    assert len(read_csv(run_dir / "mixer.csv")) == 4

    tok = AutoTokenizer.from_pretrained(run_dir / "final")
    model = AutoModelForCausalLM.from_pretrained(run_dir / "final")
    assert tok.bos_token_id is not None
    for prompt in ["The installer", "Het installatieprogramma", "安装程序"]:
        ids = tok(prompt, return_tensors="pt")["input_ids"]
        assert ids[0, 0] == tok.bos_token_id
        out = model.generate(ids, max_new_tokens=8, do_sample=False)
        assert out.shape[1] > ids.shape[1]
        assert tok.decode(out[0], skip_special_tokens=True).startswith(prompt)


def test_second_run_reuses_the_shards_and_same_seed_same_data(tiny_overrides, caplog):
    caplog.set_level(logging.INFO)
    first = train(
        compose_config([*tiny_overrides, "method=natural", "seed=2", "run_dir=${paths.runs_dir}/a"])
    )
    assert "tokenising" in caplog.text
    caplog.clear()
    second = train(
        compose_config([*tiny_overrides, "method=natural", "seed=2", "run_dir=${paths.runs_dir}/b"])
    )
    assert "reusing cached shards" in caplog.text and "tokenising" not in caplog.text
    a = torch.load(first / "last.ckpt", weights_only=False)["state_dict"]
    b = torch.load(second / "last.ckpt", weights_only=False)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)  # same seed: same data order, same weights


def test_existing_run_dir_is_refused_and_untouched(tiny_overrides, tmp_path):
    run_dir = tmp_path / "runs" / "taken"
    run_dir.mkdir(parents=True)
    (run_dir / "notes.txt").write_text("keep me")
    with pytest.raises(RunDirError, match=r"already exists and is not a TAAM run; nothing was"):
        train(compose_config([*tiny_overrides, f"run_dir={run_dir}"]))
    assert [p.name for p in run_dir.iterdir()] == ["notes.txt"]


def test_a_run_crossing_two_milestones_passes_the_compatibility_check(tiny_overrides):
    overrides = [
        *tiny_overrides,
        "data.budget.total_words_m=0.12",
        "model.seq_len=64",
        "train.global_batch=64",
        "train.max_steps=500",  # 500 × 64 × 64 = 2,048,000 token exposures
        "train.checkpoint_every_steps=250",
        "method.update_interval=25",
    ]
    run_dir = train(compose_config(overrides))
    names = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert names == ["chck_1M", "chck_2M"]
    state = json.loads((run_dir / "checkpoints/chck_1M/taam_state.json").read_text())
    assert 1_000_000 <= state["exposures_tokens"] < 1_000_000 + 64 * 64
    assert set(state["per_language"]["zho"]) == {"exposures_tokens", "unique_tokens_seen", "epochs"}
    assert "chck_1M, chck_2M" in (run_dir / "final/README.md").read_text()
    for name in names:  # every milestone (a Hub branch) carries its own card
        card = (run_dir / "checkpoints" / name / "README.md").read_text()
        step = json.loads((run_dir / "checkpoints" / name / "taam_state.json").read_text())["step"]
        assert f"- **Step**: `{step}`" in card and "| GPL-2 / GPL-2+ / CC-BY-SA-3.0 |" in card
        assert "Llama-style decoder: 2 layers, hidden size 32" in card
    checks = check_run(run_dir)
    assert [c.name for c in checks] == ["chck_1M", "chck_2M", "final"]
    assert all(c.ok and c.bos_token == "<s>" for c in checks)
    assert all(c.logprob_good < 0 and c.logprob_bad < 0 for c in checks)
    cli = subprocess.run(
        [sys.executable, str(ROOT / "src/check_export.py"), f"run_dir={run_dir}"],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0 and "chck_2M" in cli.stdout


def test_pstar_moves_pi_away_from_the_prior_and_repeats_exactly(tiny_overrides):
    overrides = [
        *tiny_overrides,
        "method=pstar",
        "method.mixer.warmup_steps=20",  # the dev evaluation at step 10 only smooths
        "signal.every=10",
        "train.max_steps=60",
        "seed=7",
    ]
    cfg = compose_config([*overrides, "run_dir=${paths.runs_dir}/one"])
    first = train(cfg)
    second = train(compose_config([*overrides, "run_dir=${paths.runs_dir}/two"]))
    rows = read_csv(first / "mixer.csv")
    assert rows == read_csv(second / "mixer.csv")  # same config and seed: same π trajectory
    prior = json.loads((first / "prior.json").read_text())["P0"]
    gamma, k = cfg.reward.policy.gamma, 3
    start = {lang: (1 - gamma) * p + gamma / k for lang, p in prior.items()}
    assert all(
        abs(float(rows[0][f"pi_{lang}"]) - start[lang]) < 1e-9 for lang in start
    )  # π⁰ from P⁰
    moved = max(abs(float(rows[-1][f"pi_{lang}"]) - start[lang]) for lang in start)
    assert moved > 0.02
    # The policy took the lag beyond one standard error of the dev set (reward.margin = 1):
    # reward_<lang> is the soft threshold of reward_raw_<lang> by se(r) from dev_se_<lang>.
    se_rows = {r["step"]: r for r in read_csv(first / "metrics.csv") if r.get("dev_se_eng")}
    for row in (r for r in rows if r["signal"] == "dev"):
        raw = columns(row, "reward_raw", start)
        se = lag_standard_error(
            columns(row, "loss_smoothed_nats_per_eng_byte", start),
            columns(se_rows[row["step"]], "dev_se", start),
        )
        expected = np.sign(raw) * np.maximum(np.abs(raw) - cfg.reward.margin * se, 0.0)
        assert columns(row, "reward", start) == pytest.approx(expected, abs=1e-12)
        assert (np.abs(columns(row, "reward", start)) < np.abs(raw)).all()


def columns(row: dict, key: str, languages) -> np.ndarray:
    return np.array([float(row[f"{key}_{lang}"]) for lang in languages])


def test_gpt2_style_model_trains_and_exports(tiny_overrides):
    run_dir = train(
        compose_config(
            [*tiny_overrides, "model=gpt2_tiny", "model.seq_len=32", "train.max_steps=10"]
        )
    )
    model = AutoModelForCausalLM.from_pretrained(run_dir / "final")
    assert model.config.model_type == "gpt2"
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"
