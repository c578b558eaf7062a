"""EXP3 and ODM: π and its floor, the unbiased importance-weighted estimate, state round trips."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

from taam.errors import ConfigError
from taam.mixer import prior as prior_module
from taam.mixer.base import MixContext, WindowStats
from taam.mixer.exp3 import Exp3Mixer, softmax
from taam.mixer.factory import build_mixer, mixer_class
from taam.mixer.odm import odm_epsilon
from taam.mixer.rewards import CrossLingualDeficit, NormalizedExcessLoss

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
LANGS = ("eng", "nld", "zho")
BP = np.array([1.0, 1.0516, 0.9894])


def window(rng: np.random.Generator, pi: np.ndarray, loss: np.ndarray, n: int = 32) -> WindowStats:
    """A window of ``n`` sequences drawn from π, 100 bytes each, at nats/byte ``loss``."""
    seqs = rng.multinomial(n, pi).astype(float)
    nbytes = seqs * 100.0
    return WindowStats(loss * nbytes, nbytes, nbytes / 4, seqs, expected_draws=n * pi)


def run(mixer: Exp3Mixer, rng: np.random.Generator, updates: int, start: int = 0) -> list:
    """Feed ``updates`` windows of slowly falling, language-dependent losses; return the π's."""
    trajectory = []
    for u in range(start, start + updates):
        loss = np.array([1.0, 1.1, 1.6]) + 2.0 / math.sqrt(u + 1) + 0.01 * rng.standard_normal(3)
        mixer.update((u + 1) * 10, window(rng, mixer.probs(), loss))
        trajectory.append(mixer.probs().tolist())
    return trajectory


def test_probs_mix_softmax_with_the_floor():
    mixer = Exp3Mixer(LANGS, NormalizedExcessLoss(), BP, np.array([0.0, 1.0, -3.0]), gamma=0.1)
    expected = 0.9 * softmax(np.array([0.0, 1.0, -3.0])) + 0.1 / 3
    assert mixer.probs() == pytest.approx(expected)
    assert mixer.floor == pytest.approx(0.1 / 3)


def test_importance_weighted_estimate_is_unbiased():
    """Draw N sequences i.i.d. from π many times: the mean of r̂_i = r_i·n_i/E[n_i] is r_i."""
    rng = np.random.default_rng(0)
    pi = np.array([0.6, 0.3, 0.1])
    r = np.array([0.2, 0.5, 0.9])
    trials = 20000
    estimates = np.array(
        [Exp3Mixer.importance_weighted(r, rng.multinomial(8, pi), 8 * pi) for _ in range(trials)]
    )
    stderr = estimates.std(axis=0) / math.sqrt(trials)
    assert np.all(np.abs(estimates.mean(axis=0) - r) < 4 * stderr)


def test_importance_weighted_estimate_is_zero_for_absent_or_unscored_languages():
    r_hat = Exp3Mixer.importance_weighted(
        np.array([0.5, 0.5, np.nan]), np.array([4, 0, 4]), np.full(3, 8 / 3)
    )
    assert r_hat.tolist() == [0.75, 0.0, 0.0]


def test_importance_weight_uses_the_pi_in_force_and_never_divides_by_zero():
    """zho was capped after 2 of 10 steps of B = 8 at π = 1/3: E[n] = 2·8/3, not 0 (the last π)."""
    expected = np.array([8 / 3 * 2 + 4 * 8, 8 / 3 * 2 + 4 * 8, 8 / 3 * 2])
    sequences = np.array([37.0, 38.0, 5.0])
    r_hat = Exp3Mixer.importance_weighted(np.ones(3), sequences, expected)
    assert r_hat == pytest.approx(sequences / expected) and np.isfinite(r_hat).all()
    capped_all_window = Exp3Mixer.importance_weighted(np.ones(3), sequences, [40.0, 40.0, 0.0])
    assert capped_all_window[2] == 0.0


def test_the_floor_is_never_violated():
    rng = np.random.default_rng(1)
    mixer = Exp3Mixer(LANGS, NormalizedExcessLoss(), BP, gamma=0.1, eta=5.0)
    for step in range(500):  # huge η and adversarial random losses push π to the extremes
        mixer.update(step, window(rng, mixer.probs(), rng.uniform(0.5, 3.0, 3)))
        pi = mixer.probs()
        assert pi.min() >= 0.1 / 3 - 1e-15 and pi.sum() == pytest.approx(1.0)
    assert mixer.probs().min() == pytest.approx(0.1 / 3)


def test_loss_is_byte_premium_adjusted_and_smoothed():
    mixer = Exp3Mixer(LANGS, CrossLingualDeficit(), BP, beta=0.9)
    first = WindowStats.from_matrix(
        [[20.0, 10.0, 3, 1], [0, 0, 0, 0], [30.0, 10.0, 3, 1]], expected_draws=np.ones(3)
    )
    record = mixer.update(0, first)
    assert record["loss_smoothed_nats_per_eng_byte_eng"] == pytest.approx(
        2.0
    )  # first value: ℓ·BP itself
    assert math.isnan(record["loss_smoothed_nats_per_eng_byte_nld"])
    assert record["loss_smoothed_nats_per_eng_byte_zho"] == pytest.approx(3.0 * 0.9894)
    second = WindowStats.from_matrix(
        [[10.0, 10.0, 3, 1], [0, 0, 0, 0], [30.0, 10.0, 3, 1]], expected_draws=np.ones(3)
    )
    record = mixer.update(10, second)
    assert record["loss_smoothed_nats_per_eng_byte_eng"] == pytest.approx(0.9 * 2.0 + 0.1 * 1.0)


def test_update_follows_the_exp3_rule_and_records_pi_after_it():
    reward = CrossLingualDeficit(rescale="rolling")
    mixer = Exp3Mixer(LANGS, reward, np.ones(3), gamma=0.1, eta=0.5)
    stats = WindowStats.from_matrix(
        [[10.0, 10.0, 1, 2], [20.0, 10.0, 1, 2], [30.0, 10.0, 1, 4]], expected_draws=[3, 2, 3]
    )
    record = mixer.update(0, stats)
    # ℓ̃ = (1, 2, 3): raw (−0.5, 0, 0.5); history = these → q20 = −0.3, q80 = 0.3
    r = np.clip((np.array([-0.5, 0.0, 0.5]) + 0.3) / 0.6, 0, 1)
    assert [record[f"reward_{lang}"] for lang in LANGS] == pytest.approx(r)
    r_hat = r * np.array([2, 2, 4]) / np.array([3, 2, 3])
    assert mixer.w == pytest.approx(0.5 * r_hat)
    assert [record[f"pi_{lang}"] for lang in LANGS] == pytest.approx(mixer.probs())
    quantities = ("pi", "reward_raw", "reward", "loss_smoothed_nats_per_eng_byte", "at_floor")
    assert set(record) == {f"{q}_{lang}" for lang in LANGS for q in quantities}


def test_no_weight_update_during_warmup():
    rng = np.random.default_rng(2)
    mixer = Exp3Mixer(LANGS, CrossLingualDeficit(rescale="reservoir"), BP, warmup_steps=50)
    for step in range(0, 50, 10):
        record = mixer.update(step, window(rng, mixer.probs(), np.array([1.0, 2.0, 3.0])))
        assert mixer.w.tolist() == [0.0, 0.0, 0.0]
    assert not math.isnan(record["loss_smoothed_nats_per_eng_byte_zho"])
    mixer.update(50, window(rng, mixer.probs(), np.array([1.0, 2.0, 3.0])))
    assert mixer.w[2] > 0


def test_exp3s_weight_sharing():
    mixer = Exp3Mixer(LANGS, CrossLingualDeficit(), BP, np.array([0.0, 2.0, -1.0]), alpha=0.2)
    r_hat = np.array([0.3, 0.0, 1.0])
    v = mixer.w + mixer.eta * r_hat
    e = np.exp(v)
    expected = np.log(0.8 * e + 0.2 / 2 * (e.sum() - e))
    mixer.learn(r_hat)
    assert mixer.w == pytest.approx(expected)


def test_state_round_trip_gives_the_same_trajectory():
    cls = Exp3Mixer
    mixer = cls(LANGS, NormalizedExcessLoss(), BP, np.log([0.5, 0.3, 0.2]), warmup_steps=20)
    run(mixer, np.random.default_rng(3), 40)
    state = mixer.state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    as_json = json.dumps(state)
    expected = run(mixer, np.random.default_rng(4), 30, start=40)  # the original carries on
    buffer.seek(0)
    for saved in (torch.load(buffer, weights_only=True), json.loads(as_json)):
        restored = cls(LANGS, NormalizedExcessLoss(), BP, warmup_steps=20)
        restored.load_state_dict(saved)
        assert restored.state_dict() == state
        assert run(restored, np.random.default_rng(4), 30, start=40) == expected


def test_state_for_other_languages_is_refused():
    mixer = Exp3Mixer(LANGS, NormalizedExcessLoss(), BP)
    other = Exp3Mixer(("eng", "deu", "zho"), NormalizedExcessLoss(), BP)
    with pytest.raises(ValueError, match="languages"):
        other.load_state_dict(mixer.state_dict())


def test_odm_exploration_schedule():
    assert odm_epsilon(0, 3) == pytest.approx(1 / 3)
    assert odm_epsilon(1, 3) == pytest.approx(1 / 3)  # √(ln 3 / 3) > 1/3
    assert odm_epsilon(100, 3) == pytest.approx(math.sqrt(math.log(3) / 300))


FAKE_FEATURES = {"syntax_knn": np.array([[1.0, 0.0], [1.0, 0.2], [0.0, 1.0]])}


@pytest.mark.parametrize("method", ["exp3", "pstar", "odm", "odm_smoothed", "group_dro", "prior"])
def test_method_configs_build_their_mixers(method, monkeypatch):
    monkeypatch.setattr(prior_module, "uriel_features", lambda codes, f: FAKE_FEATURES[f])
    overrides = [f"method={method}"]
    if method in ("pstar", "prior"):
        overrides.append("method.mixer.prior.feature_sets=[syntax_knn]")
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(config_name="simulate", overrides=overrides)
    context = MixContext(LANGS, np.array([6.0, 3.0, 1.0]), BP, total_tokens=1000)
    mixer = build_mixer(cfg.method, cfg.reward, context)
    per_step = method in ("odm", "odm_smoothed", "group_dro")  # one update per official call
    assert type(mixer) is mixer_class(cfg.method)
    assert cfg.method.update_interval == (1 if per_step else 10)
    assert mixer.adaptive == (method != "prior")
    assert mixer.uses_reward == (method in ("exp3", "pstar"))
    if method in ("exp3", "pstar"):  # γ, η and λ come from the reward's policy
        policy = cfg.reward.policy
        assert (mixer.gamma, mixer.eta, mixer.lam) == (policy.gamma, policy.eta, policy.lam)
    assert mixer.uses_prior == (method in ("pstar", "prior"))
    if mixer.uses_prior:
        p0 = np.array(list(mixer.prior_report["P0"].values()))
        gamma = cfg.reward.policy.gamma if mixer.adaptive else 0.0  # π = (1 − γ)·P⁰ + γ/K
        assert mixer.probs() == pytest.approx((1 - gamma) * p0 + gamma / 3)
        assert p0.argmax() == 2
    if method == "exp3":
        assert mixer.probs() == pytest.approx(np.full(3, 1 / 3))
    if method.startswith("odm"):  # the natural shares until the first update
        assert mixer.probs() == pytest.approx([0.6, 0.3, 0.1])
        assert mixer.variant == ("exp3" if method == "odm" else "smoothed_mean")


def test_a_policy_setting_on_the_method_is_refused_not_silently_overridden():
    """γ, η, λ and the anchor come from reward.policy; the same key on method.mixer would lose
    to it without a word (the simulator does not run the schema), so it is refused."""
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(config_name="simulate", overrides=["method=exp3", "+method.mixer.gamma=0.2"])
    context = MixContext(LANGS, np.ones(3), BP, total_tokens=1000)
    with pytest.raises(ConfigError, match=r"use reward\.policy\.gamma=\.\.\. instead"):
        build_mixer(cfg.method, cfg.reward, context)
