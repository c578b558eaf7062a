"""The mixer simulator end to end: the symmetric control, the published starvation, outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from taam.mixer import prior as prior_module
from taam.simulation.run import simulate

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
# Stand-in URIEL vectors (Mandarin far from English and Dutch), so pstar runs without lang2vec.
FAKE_URIEL = np.array([[1.0, 0.1, 0.0], [1.0, 0.3, 0.0], [0.1, 0.2, 1.0]])


@pytest.fixture(autouse=True)
def fake_uriel(monkeypatch):
    monkeypatch.setattr(prior_module, "uriel_features", lambda codes, feature_set: FAKE_URIEL)


def run(tmp_path: Path, *overrides: str) -> tuple[Path, dict]:
    """Simulate with the default config (pstar, asymmetric) plus ``overrides``."""
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(
            config_name="simulate",
            overrides=[f"output_dir={tmp_path / 'sim'}", "cache_dir=null", *overrides],
        )
    out = simulate(cfg)
    return out, json.loads((out / "summary.json").read_text())


# a small symmetric world: 1 000 steps of 128 sequences, 100 mixer updates
SMALL = ["simulation=symmetric", "simulation.steps=1000"]


@pytest.mark.parametrize(
    "overrides",
    [
        ["method=exp3", "reward=normalized_excess_loss"],
        ["method=exp3", "reward=cross_lingual_deficit"],
        ["method=pstar", "reward=cross_lingual_deficit"],
        ["method=odm"],
        ["method=odm_smoothed"],
        ["method=group_dro"],
        ["method=doremi"],
    ],
    # pstar-v1 (EXP3, λ = 0, from P⁰) is not here: at this size it has not undone P⁰, and at the
    # preset's size a single seed wanders ±0.1 (see the 10-seed table in docs/mixer.md)
    ids=["exp3-v1", "exp3-v2", "pstar-v2", "odm", "odm-smoothed", "group-dro", "doremi"],
)
def test_symmetric_control_every_adaptive_method_stays_near_uniform(tmp_path, overrides):
    """Identical learning curves: final π within 0.05 of 1/K, no language at the floor > 10%."""
    _, summary = run(tmp_path, *SMALL, "seeds=3", *overrides)
    pi = summary["outcome"]["pi"]
    assert all(abs(pi[lang]["mean"] - 1 / 3) <= 0.05 for lang in pi), pi
    floor = summary["outcome"]["floor_time_second_half"]
    assert all(floor[lang]["mean"] <= 0.1 for lang in floor), floor


def test_published_window_accounting_starves_a_language_even_when_all_are_identical(tmp_path):
    published = ["reward.accounting=window", "reward.rescale=rolling"]
    out, summary = run(tmp_path, *SMALL, "simulation.steps=3000", *published, "seeds=2")
    floor = summary["outcome"]["floor_time_second_half"]
    assert max(floor[lang]["mean"] for lang in floor) > 0.5
    for name in ("mixer.csv", "summary.json", "plots/pi.png", "prior.json", "config.yaml"):
        assert (out / name).exists()


def test_same_seed_gives_an_identical_mixer_csv(tmp_path):
    a, _ = run(tmp_path / "a", "seed=7", "simulation.steps=500")
    b, _ = run(tmp_path / "b", "seed=7", "simulation.steps=500")
    c, _ = run(tmp_path / "c", "seed=8", "simulation.steps=500")
    assert (a / "mixer.csv").read_bytes() == (b / "mixer.csv").read_bytes()
    assert (a / "mixer.csv").read_bytes() != (c / "mixer.csv").read_bytes()


def test_an_existing_output_dir_is_kept_unless_overwrite(tmp_path):
    run(tmp_path, "simulation.steps=100")
    with pytest.raises(FileExistsError, match="overwrite=true"):
        run(tmp_path, "simulation.steps=100")
    _, summary = run(tmp_path, "simulation.steps=200", "overwrite=true")
    assert summary["steps"] == 200


def test_odm_runs_with_its_own_reward(tmp_path):
    out, summary = run(tmp_path, "method=odm", "simulation.steps=500")
    assert summary["reward"] is None and summary["method"] == "ODM"
    assert not (out / "prior.json").exists()
    assert sum(summary["final_pi"].values()) == pytest.approx(1.0)
    assert summary["floor"] < 1 / 3  # ε_t has decayed below 1/K


def test_static_methods_run(tmp_path):
    _, summary = run(tmp_path, "method=uniform", "simulation.steps=500")
    assert summary["final_pi"] == pytest.approx(dict.fromkeys(("eng", "nld", "zho"), 1 / 3))
    assert summary["floor"] is None


@pytest.mark.slow
def test_entry_script_with_the_real_prior(tmp_path):
    out = tmp_path / "sim"
    overrides = [f"output_dir={out}", f"cache_dir={tmp_path}", "simulation.steps=500"]
    subprocess.run([sys.executable, "src/simulate.py", *overrides], cwd=ROOT, check=True)
    prior = json.loads((out / "prior.json").read_text())
    assert max(prior["P0"], key=prior["P0"].get) == "zho"
