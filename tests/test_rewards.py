"""Rewards: the v1/v2 formulas on hand-computed cases, percentile rescaling and clipping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from taam.mixer.rewards import CrossLingualDeficit, NormalizedExcessLoss, SmoothedLoss

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
NAN = np.nan
ALL = np.array([True, True, True])


def test_normalized_excess_loss_is_the_relative_drop():
    before = np.array([2.0, 1.0, NAN])  # zho never seen before: no drop to measure
    after = np.array([1.5, 1.1, 3.0])
    raw = NormalizedExcessLoss().raw(before, after, ALL)
    assert raw[:2] == pytest.approx([0.25, -0.1])
    assert np.isnan(raw[2])


def test_normalized_excess_loss_skips_absent_languages():
    raw = NormalizedExcessLoss().raw(np.ones(3), np.full(3, 0.5), np.array([True, False, True]))
    assert raw[0] == 0.5 and np.isnan(raw[1]) and raw[2] == 0.5


def test_cross_lingual_deficit_is_the_lag_behind_the_mean():
    after = np.array([1.0, 2.0, 3.0])  # mean 2
    raw = CrossLingualDeficit().raw(after, after, ALL)
    assert raw == pytest.approx([-0.5, 0.0, 0.5])


def test_cross_lingual_deficit_means_over_every_language_seen():
    after = np.array([1.0, 2.0, 3.0])
    raw = CrossLingualDeficit().raw(after, after, np.array([False, False, True]))
    assert raw[2] == pytest.approx(0.5)  # the mean still counts eng and nld
    assert np.isnan(raw[:2]).all()
    raw = CrossLingualDeficit().raw(after, np.array([1.0, NAN, 3.0]), ALL)
    assert raw[0] == pytest.approx(-0.5) and np.isnan(raw[1])


def test_rescaling_uses_the_20th_and_80th_percentiles_and_clips():
    reward = NormalizedExcessLoss()
    reward.history.extend([0.0, 1.0, 2.0, 3.0, 4.0])  # q20 = 0.8, q80 = 3.2 (linear)
    scaled = reward.scale(np.array([2.0, -5.0, 9.0, NAN]))
    assert scaled[:3] == pytest.approx([(2.0 - 0.8) / 2.4, 0.0, 1.0])
    assert np.isnan(scaled[3])


def test_call_adds_finite_raw_rewards_to_a_rolling_history():
    reward = CrossLingualDeficit(history=4)
    after = np.array([1.0, 2.0, 3.0])
    _raw, scaled = reward(after, after, np.array([True, True, False]))
    assert list(reward.history) == pytest.approx([-0.5, 0.0])
    assert scaled[:2] == pytest.approx([0.0, 1.0]) and np.isnan(scaled[2])
    reward(after, after, ALL)
    assert len(reward.history) == 4  # oldest dropped
    assert np.all((scaled[:2] >= 0) & (scaled[:2] <= 1))


def test_a_flat_history_gives_the_neutral_reward():
    reward = NormalizedExcessLoss()
    _, scaled = reward(np.ones(3), np.full(3, 0.9), ALL)  # three equal raw rewards
    assert scaled == pytest.approx([0.5, 0.5, 0.5])


def test_state_round_trip():
    reward = NormalizedExcessLoss(history=10)
    reward.history.extend([0.1, 0.3, 0.2])
    copy = NormalizedExcessLoss(history=10)
    copy.load_state_dict(reward.state_dict())
    x = np.array([0.15, 0.25, 0.35])
    assert copy.scale(x).tolist() == reward.scale(x).tolist()


def test_odm_loss_reward_is_the_smoothed_loss_unscaled():
    reward = SmoothedLoss()
    _raw, used = reward(np.ones(3), np.array([2.0, 3.0, 4.0]), np.array([True, False, True]))
    assert used[[0, 2]].tolist() == [2.0, 4.0] and np.isnan(used[1])
    assert not reward.history


@pytest.mark.parametrize(
    ("name", "cls", "tag"),
    [
        ("normalized_excess_loss", NormalizedExcessLoss, "nel"),
        ("cross_lingual_deficit", CrossLingualDeficit, "cld"),
    ],
)
def test_reward_configs_instantiate(name, cls, tag):
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(config_name="simulate", overrides=[f"reward={name}"])
    assert cfg.reward.name == name and cfg.reward.tag == tag
    reward = instantiate(cfg.reward.fn)
    assert isinstance(reward, cls) and (reward.low, reward.high) == (20, 80)
