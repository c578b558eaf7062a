"""The simulator's parts: epoch cap, transfer, noise, oracles, regret, curve fitting, compare."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hydra import compose, initialize_config_dir

from taam.errors import ConfigError
from taam.mixer import prior as prior_module
from taam.mixer.base import StaticMixer
from taam.simulation.compare import compare
from taam.simulation.engine import simulate_mixer, window_stats
from taam.simulation.fit import fit_preset, power_law
from taam.simulation.outcomes import oracles, regret, simplex_grid, static_losses
from taam.simulation.world import LearningCurves, Memorisation, World, typological_transfer

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
LANGS = ("eng", "nld", "zho")
# Stand-in URIEL vectors (eng and nld close, zho far), so the transfer preset needs no lang2vec.
FAKE_URIEL = np.array([[1.0, 0.1, 0.0], [1.0, 0.3, 0.0], [0.1, 0.2, 1.0]])


@pytest.fixture(autouse=True)
def fake_uriel(monkeypatch):
    monkeypatch.setattr(prior_module, "uriel_features", lambda codes, feature_set: FAKE_URIEL)


def world(a=(1.0, 1.0, 1.0), c=(0.3, 0.3, 0.3), cap=10.0, unique=100.0, transfer=None, **kw):
    params = dict(steps=100, sequences_per_step=8, tokens_per_sequence=4, noise=0.0)
    return World(
        languages=LANGS,
        curves=LearningCurves(np.array(a), np.full(3, 2.0), np.array(c)),
        transfer=np.zeros((3, 3)) if transfer is None else transfer,
        byte_premium=np.ones(3),
        unique_sequences=np.full(3, unique),
        epoch_cap=cap,
        **(params | kw),
    )


def test_simplex_grid_covers_the_simplex():
    grid = simplex_grid(3, 0.02)
    assert len(grid) == math.comb(52, 2)  # (n + 2 choose 2) points for n = 50
    assert np.allclose(grid.sum(axis=1), 1.0) and grid.min() >= 0


def test_oracle_of_a_symmetric_world_is_uniform_and_caps_make_mixtures_infeasible():
    found = oracles(world(), step=0.02)
    assert found["mean"].pi == pytest.approx([0.34, 0.34, 0.32], abs=0.021)
    # 800 sequences, 100 per epoch, cap 3: no language may take more than 300 = 37.5%
    _, feasible = static_losses(np.array([[0.5, 0.25, 0.25], [0.36, 0.32, 0.32]]), world(cap=3))
    assert feasible.tolist() == [False, True]


def test_worst_language_oracle_feeds_the_slow_language():
    found = oracles(world(a=(1.0, 1.0, 1.5), c=(0.5, 0.5, 0.2)), step=0.02)
    assert found["worst"].pi[2] > 0.5 > found["mean"].pi[2]


def test_regret_as_a_fraction_of_uniforms_gap():
    assert regret(1.25, 1.0, 2.0) == (0.25, 0.25)
    assert math.isnan(regret(1.0, 1.0, 1.0)[1])


def test_the_epoch_cap_binds_as_in_training():
    """A mixer that wants only eng gets at most cap × one epoch of it, then the rest."""
    w = world(cap=3.0)  # 100 sequences per epoch: at most 300 of eng out of 800
    mixer = StaticMixer(LANGS, np.array([0.98, 0.01, 0.01]))
    t = simulate_mixer(mixer, w, update_interval=10, rng=np.random.default_rng(0))
    assert t.capped and 290 <= t.seen[0] <= 300 and t.seen.sum() == 800


def test_typological_transfer_follows_the_uriel_distances():
    tau = typological_transfer(LANGS, strength=0.5)
    assert np.allclose(tau, tau.T) and np.all(np.diag(tau) == 0)
    assert tau[0, 1] == tau.max() and tau[0, 2] < tau[0, 1]
    w = world(transfer=tau)
    assert w.loss(np.array([[100.0, 0.0, 0.0]]))[0, 1] < w.loss(np.zeros((1, 3)))[0, 1]


def test_window_noise_shrinks_with_the_sequences_seen():
    """σ/√n_i: a language drawn 16× as often has a 4× quieter window loss."""
    w = world(noise=0.5)
    rng = np.random.default_rng(1)
    counts = np.array([[160.0, 10.0, 10.0]])
    expected = counts[0]
    relative = []
    for _ in range(4000):
        stats = window_stats(counts, expected, np.zeros((1, 3)), w, rng)
        relative.append(stats.nats_per_byte() / w.loss(np.zeros(3)) - 1.0)
    sd = np.std(relative, axis=0)
    assert sd == pytest.approx(
        [0.5 / math.sqrt(160), 0.5 / math.sqrt(10), 0.5 / math.sqrt(10)], rel=0.05
    )


def write_run(run: Path, rows: list[dict], config: dict) -> Path:
    """A run directory holding only what the fit reads: metrics.csv and config.yaml."""
    run.mkdir()
    with open(run / "metrics.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    return run


def test_fit_recovers_known_learning_curves(tmp_path):
    truth = {"eng": (1.2, 6.0, 0.3), "nld": (1.3, 5.0, 0.25), "zho": (1.5, 4.0, 0.2)}
    rng = np.random.default_rng(0)
    rows, seq_len, per_window = [], 16, np.array([40, 40, 40])
    seen = np.zeros(3)
    for step in range(10, 2010, 10):
        row = {"step": step, "exposures_tokens": float((seen + per_window).sum() * seq_len)}
        for i, lang in enumerate(LANGS):
            nats = power_law(seen[i], *truth[lang]) * (1 + 0.002 * rng.standard_normal())
            bp = {"eng": 1.0, "nld": 1.0516, "zho": 0.9894}[lang]  # the registry's premiums
            row[f"bpb_{lang}"] = nats / bp / math.log(2)
            row[f"exposures_tokens_{lang}"] = (seen[i] + per_window[i]) * seq_len
            row[f"epochs_{lang}"] = (seen[i] + per_window[i]) / 1000
        seen += per_window
        rows.append(row)
    config = {
        "data": {"languages": list(LANGS)},
        "model": {"seq_len": seq_len},
        "train": {"max_steps": 2000, "global_batch": 12, "warmup_steps": 0},
    }
    preset = fit_preset([write_run(tmp_path / "run", rows, config)])
    for lang in LANGS:
        got = preset["curves"][lang]
        assert (got["a"], got["b"], got["c"]) == pytest.approx(truth[lang], rel=0.1)
    assert preset["unique_tokens"]["eng"] == 1000 * seq_len and preset["steps"] == 2000


def test_fit_recovers_the_held_out_curve_the_scoring_offset_and_the_memorisation_gap(tmp_path):
    """A run whose dev losses follow D_i = L_i·(1 + δ_i) and whose windows follow
    L_i·(1 − g(e)): the preset's curve is D_i (the objective's measure) and the training
    signal D_i·(1 − g(e))·(1 + o_i) with o_i = 1/(1 + δ_i) − 1."""
    truth = {"eng": (1.2, 6.0, 0.3), "nld": (1.3, 5.0, 0.25), "zho": (1.5, 4.0, 0.2)}
    offset = {"eng": -0.01, "nld": 0.02, "zho": 0.0}
    gap = Memorisation(b=0.03, p=0.6)
    bp = {"eng": 1.0, "nld": 1.0516, "zho": 0.9894}  # the registry's premiums
    rng = np.random.default_rng(0)
    rows, seq_len, per_window, per_epoch = [], 16, np.array([40, 40, 40]), 400.0
    seen = np.zeros(3)
    for step in range(10, 2010, 10):
        row = {"step": step, "exposures_tokens": float((seen + per_window).sum() * seq_len)}
        at = seen + per_window * 9 / 20  # the mean exposure of a window of 10 steps
        for i, lang in enumerate(LANGS):
            train = power_law(at[i], *truth[lang]) * (1 - gap(at[i] / per_epoch))
            train *= 1 + 0.002 * rng.standard_normal()
            row[f"bpb_{lang}"] = train / bp[lang] / math.log(2)
            row[f"exposures_tokens_{lang}"] = (seen[i] + per_window[i]) * seq_len
            row[f"epochs_{lang}"] = (seen[i] + per_window[i]) / per_epoch
            dev = power_law(seen[i] + per_window[i], *truth[lang]) * (1 + offset[lang])
            row[f"dev_bpb_{lang}"] = dev / bp[lang] / math.log(2) if step % 50 == 0 else ""
        seen += per_window
        rows.append(row)
    config = {
        "data": {"languages": list(LANGS)},
        "model": {"seq_len": seq_len},
        "method": {"update_interval": 10},
        "train": {"max_steps": 2000, "global_batch": 12, "warmup_steps": 0},
    }
    preset = fit_preset([write_run(tmp_path / "run", rows, config)])
    assert preset["memorisation"] == pytest.approx({"b": 0.03, "p": 0.6}, rel=0.1)
    expected = {lang: 1 / (1 + d) - 1 for lang, d in offset.items()}
    assert preset["train_offset"] == pytest.approx(expected, abs=0.003)
    assert preset["dev_noise"] < 0.002 and preset["noise"] == pytest.approx(
        0.002 * math.sqrt(40), rel=0.25
    )
    for lang in LANGS:
        got = preset["curves"][lang]
        a, b, c = truth[lang]
        dev_curve = (a * (1 + offset[lang]), b * (1 + offset[lang]), c)
        assert (got["a"], got["b"], got["c"]) == pytest.approx(dev_curve, rel=0.1)


def _compare_cfg(tmp_path, methods: dict, preset: str = "fitted", seeds: int = 1, steps: int = 200):
    """``simulate.py compare=true`` on one preset, shortened, with these comparison rows."""
    overrides = [
        f"output_dir={tmp_path / 'cmp'}",
        "cache_dir=null",
        "compare=true",
        f"seeds={seeds}",
        f"comparison.presets=[{preset}]",
        f"comparison.steps={steps}",
    ]
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(config_name="simulate", overrides=overrides)
        cfg.comparison.methods = methods
        return cfg


def test_compare_writes_a_table_against_the_oracles(tmp_path):
    methods = {"uniform": ["method=uniform"], "v1": ["method=exp3"]}
    cfg = _compare_cfg(tmp_path, methods, preset="symmetric", seeds=2, steps=300)
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        out = compare(cfg)
    table = (out / "compare.md").read_text()
    assert "oracle for the mean loss" in table and "| v1 |" in table and "| uniform |" in table
    assert (out / "plots" / "pi_symmetric.png").exists() and (out / "compare.json").exists()


def test_a_compare_row_observes_through_its_own_noise(tmp_path, monkeypatch):
    """A row's simulation.dev_noise reaches the world it runs in (it was once silently dropped);
    cache_dir=null caches nothing (it once became a folder named None)."""
    monkeypatch.chdir(tmp_path)
    cfg = _compare_cfg(
        tmp_path,
        {
            "noisy": ["method=pstar", "reward.margin=0"],
            "exact": ["method=pstar", "reward.margin=0", "simulation.dev_noise=0"],
        },
    )
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        out = compare(cfg)
    runs = json.loads((out / "compare.json").read_text())["fitted"]["methods"]
    assert runs["noisy"][0]["pi"] != runs["exact"][0]["pi"]
    assert not (tmp_path / "None").exists()


def test_a_compare_row_may_not_change_the_true_curves(tmp_path):
    cfg = _compare_cfg(tmp_path, {"other": ["method=uniform", "simulation.curves.eng.a=2.0"]})
    with (
        initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"),
        pytest.raises(ConfigError, match=r"changes simulation\.curves.*Make a preset"),
    ):
        compare(cfg)
    assert not (tmp_path / "cmp").exists()
