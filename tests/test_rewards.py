"""Rewards: the v1/v2 formulas and accountings on hand-computed cases, and every rescaling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from taam.mixer.rescaling import ReservoirPercentiles, RollingPercentiles, Standardise
from taam.mixer.rewards import CrossLingualDeficit, NormalizedExcessLoss, lag_standard_error

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
NAN = np.nan
ALL = np.array([4.0, 4.0, 4.0])  # sequences drawn per language


def test_normalized_excess_loss_is_the_relative_drop_per_sequence():
    before = np.array([2.0, 1.0, NAN])  # zho never seen before: no drop to measure
    after = np.array([1.5, 1.1, 3.0])
    raw = NormalizedExcessLoss().raw(before, after, np.array([5.0, 2.0, 4.0]))
    assert raw[:2] == pytest.approx([0.25 / 5, -0.1 / 2])
    assert np.isnan(raw[2])


def test_window_accounting_is_the_published_whole_window_drop():
    before, after = np.array([2.0, 1.0, 4.0]), np.array([1.5, 1.1, 3.0])
    raw = NormalizedExcessLoss(accounting="window").raw(before, after, np.array([5.0, 2.0, 4.0]))
    assert raw == pytest.approx([0.25, -0.1, 0.25])


def test_normalized_excess_loss_skips_absent_languages():
    raw = NormalizedExcessLoss().raw(np.ones(3), np.full(3, 0.5), np.array([1.0, 0.0, 1.0]))
    assert raw[0] == 0.5 and np.isnan(raw[1]) and raw[2] == 0.5


def test_cross_lingual_deficit_is_the_lag_behind_the_mean():
    after = np.array([1.0, 2.0, 3.0])  # mean 2
    raw = CrossLingualDeficit().raw(after, after, ALL)
    assert raw == pytest.approx([-0.5, 0.0, 0.5])


def test_cross_lingual_deficit_means_over_every_language_seen():
    after = np.array([1.0, 2.0, 3.0])
    raw = CrossLingualDeficit().raw(after, after, np.array([0.0, 0.0, 3.0]))
    assert raw[2] == pytest.approx(0.5)  # the mean still counts eng and nld
    assert np.isnan(raw[:2]).all()
    raw = CrossLingualDeficit().raw(after, np.array([1.0, NAN, 3.0]), ALL)
    assert raw[0] == pytest.approx(-0.5) and np.isnan(raw[1])


def test_rolling_percentiles_use_the_20th_and_80th_and_clip():
    scaling = RollingPercentiles(size=300)
    scaling.history.extend([0.0, 1.0, 2.0, 3.0, 4.0])  # q20 = 0.8, q80 = 3.2 (linear)
    scaled = scaling.scale(np.array([2.0, -5.0, 9.0, NAN]))
    assert scaled[:3] == pytest.approx([(2.0 - 0.8) / 2.4, 0.0, 1.0])
    assert np.isnan(scaled[3])


def test_rolling_history_forgets_the_oldest():
    reward = CrossLingualDeficit(rescale="rolling", rescale_params={"size": 4})
    after = np.array([1.0, 2.0, 3.0])
    _raw, scaled = reward(after, after, np.array([1.0, 1.0, 0.0]))
    assert list(reward.rescaling.history) == pytest.approx([-0.5, 0.0])
    assert scaled[:2] == pytest.approx([0.0, 1.0]) and np.isnan(scaled[2])
    reward(after, after, ALL)
    assert len(reward.rescaling.history) == 4  # oldest dropped


def test_reservoir_keeps_a_uniform_sample_of_the_whole_history():
    """Algorithm R: after 10 000 rewards 0..9999 the 1000 kept ones span the whole range."""
    scaling = ReservoirPercentiles(size=1000, seed=0)
    scaling(np.arange(10_000, dtype=float))
    kept = scaling.sample()
    assert len(kept) == 1000 and scaling.seen == 10_000
    assert np.mean(kept < 5000) == pytest.approx(0.5, abs=0.05)  # early values not forgotten
    assert np.percentile(kept, 20) == pytest.approx(2000, abs=300)


def test_per_language_standardisation():
    scaling = Standardise(min_count=3)
    for value in ([1.0, 10.0, NAN], [3.0, 30.0, NAN], [2.0, 20.0, 5.0]):
        z = scaling(np.array(value))
    assert z[:2] == pytest.approx([0.0, 0.0])  # each language against its own mean (2, 20)
    assert z[2] == 0.0  # too few rewards for zho yet: neutral
    z = scaling(np.array([4.0, 20.0, NAN]))
    mean, sd = np.mean([1, 3, 2, 4]), np.std([1, 3, 2, 4], ddof=1)
    assert z[0] == pytest.approx((4.0 - mean) / sd) and np.isnan(z[2])


def test_a_flat_history_gives_the_neutral_reward():
    reward = NormalizedExcessLoss(rescale="reservoir")
    _, scaled = reward(np.ones(3), np.full(3, 0.9), ALL)  # three equal raw rewards
    assert scaled == pytest.approx([0.5, 0.5, 0.5])


@pytest.mark.parametrize("rescale", ["none", "reservoir", "forgetting", "rolling", "standardise"])
def test_state_round_trip(rescale):
    reward = NormalizedExcessLoss(rescale=rescale)
    rng = np.random.default_rng(0)
    for _ in range(20):
        reward(np.ones(3), 1 - 0.1 * rng.random(3), ALL)
    copy = NormalizedExcessLoss(rescale=rescale)
    copy.load_state_dict(json.loads(json.dumps(reward.state_dict())))
    after = np.array([0.95, 0.9, 0.97])
    assert copy(np.ones(3), after, ALL)[1].tolist() == reward(np.ones(3), after, ALL)[1].tolist()


def test_unknown_rescaling_or_accounting_is_refused():
    with pytest.raises(ValueError, match="rescale"):
        NormalizedExcessLoss(rescale="minmax")
    with pytest.raises(ValueError, match="accounting"):
        NormalizedExcessLoss(accounting="batch")


@pytest.mark.parametrize(
    ("name", "cls", "tag", "rescale"),
    [
        ("normalized_excess_loss", NormalizedExcessLoss, "nel", "forgetting"),
        ("cross_lingual_deficit", CrossLingualDeficit, "cld", "none"),
    ],
)
def test_reward_configs_instantiate(name, cls, tag, rescale):
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(config_name="simulate", overrides=[f"reward={name}"])
    assert cfg.reward.name == name and cfg.reward.tag == tag
    reward = instantiate(cfg.reward.fn)
    assert isinstance(reward, cls) and reward.rescale == rescale
    assert set(cfg.reward.policy) >= {"eta", "lam"}


def test_forgetting_reservoir_follows_a_shrinking_reward_that_the_reservoir_clips():
    """A reward that decays 100× (v1 over a run): late rewards are all 0 under the uniform
    reservoir but mostly strictly inside (0, 1) under the forgetting one (Aggarwal 2006)."""
    from taam.mixer.rescaling import ForgettingReservoir, ReservoirPercentiles

    rng = np.random.default_rng(0)
    rewards = [np.exp(-t / 20) * (1 + 0.3 * rng.standard_normal(3)) for t in range(100)]
    late = {}
    for name, rescaling in (
        ("reservoir", ReservoirPercentiles()),
        ("forgetting", ForgettingReservoir()),
    ):
        out = np.array([rescaling(r) for r in rewards])[50:]
        late[name] = ((out > 0) & (out < 1)).mean()
    assert late["reservoir"] < 0.1 and late["forgetting"] > 0.5, late


def rescaled_inside(out) -> float:
    """Fraction of the second half's rescaled rewards strictly inside (0, 1) (mixer.csv)."""
    import csv

    with open(out / "mixer.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    half = rows[len(rows) // 2 :]
    langs = ("eng", "nld", "zho")
    values = [float(r[f"reward_{g}"]) for r in half for g in langs if r[f"reward_{g}"]]
    return sum(0 < v < 1 for v in values) / len(values)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_forgetting_reservoir_keeps_v1_responding_where_the_reservoir_froze(tmp_path, seed):
    """Issue #23, `python src/simulate.py method=pstar reward=normalized_excess_loss
    simulation=fitted signal=train seed=S`: the whole-history reservoir clips most of the second
    half's v1 rewards to 0 (π stops responding); v1's default, the forgetting reservoir, keeps at
    least half of them strictly inside (0, 1). (Real URIEL prior: lang2vec ships its data.)"""
    from hydra import compose, initialize_config_dir

    from taam.simulation.run import simulate
    from tests_support import CONFIGS

    def inside(name: str, *extra: str) -> float:
        overrides = [
            "method=pstar",
            "reward=normalized_excess_loss",
            "signal=train",
            "simulation=fitted",
            f"seed={seed}",
            f"output_dir={tmp_path / name}",
            f"cache_dir={tmp_path / 'cache'}",
            *extra,
        ]
        with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
            return rescaled_inside(simulate(compose(config_name="simulate", overrides=overrides)))

    assert inside("reservoir", "reward.rescale=reservoir") < 0.45
    assert inside("default") >= 0.5


def test_the_lag_standard_error_matches_the_spread_of_the_lag():
    """se(r_i) by the delta method against Monte Carlo: independent relative errors s_j on ℓ_j."""
    rng = np.random.default_rng(1)
    loss, s = np.array([1.9, 2.1, 2.0]), np.array([0.02, 0.04, 0.01])
    noisy = loss * (1 + s * rng.standard_normal((100_000, 3)))
    lags = noisy / noisy.mean(axis=1, keepdims=True) - 1
    assert lag_standard_error(loss, s) == pytest.approx(lags.std(axis=0), rel=0.03)
    assert np.isinf(lag_standard_error(loss, np.array([0.02, np.inf, 0.01]))).all()
    se = lag_standard_error(np.array([1.9, NAN, 2.0]), s)  # nld not seen: the mean is over two
    assert np.isnan(se[1]) and np.isfinite(se[[0, 2]]).all()


def test_the_margin_takes_only_the_lag_beyond_its_standard_errors():
    after = np.array([1.9, 2.1, 2.0])  # lags −0.05, +0.05, 0
    s = np.array([0.01, 0.01, 0.01])
    se = lag_standard_error(after, s)
    raw, r = CrossLingualDeficit(margin=2.0, rescale="none")(after, after, ALL, s)
    assert raw == pytest.approx([-0.05, 0.05, 0.0])
    assert r == pytest.approx(np.sign(raw) * np.maximum(np.abs(raw) - 2 * se, 0))
    assert r[0] < 0 < r[1] and r[2] == 0
    # Lags the dev documents cannot resolve move nothing; without standard errors (the
    # training signal) or with margin 0 the lag is taken as it is.
    _, r = CrossLingualDeficit(margin=1.0, rescale="none")(after, after, ALL, s * 10)
    assert (r == 0).all()
    for reward, se_given in (
        (CrossLingualDeficit(margin=1.0, rescale="none"), None),
        (CrossLingualDeficit(margin=0.0, rescale="none"), s * 10),
    ):
        assert reward(after, after, ALL, se_given)[1] == pytest.approx(raw)
    with pytest.raises(ValueError, match="margin must be ≥ 0"):
        CrossLingualDeficit(margin=-1.0)
