"""method=horizon: the power-law fit and its error, the minimax allocation, the margin, the
forecast that serves a language whose lag is still to come, and the state round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from taam.mixer.base import MixContext, WindowStats
from taam.mixer.factory import build_mixer
from taam.mixer.horizon import HorizonMixer, fit_power_law, minimax_allocation
from taam.simulation.outcomes import simplex_grid
from tests_support import assert_resume_is_bit_identical

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
LANGS = ("eng", "nld", "zho")


def test_fit_recovers_a_power_law_and_its_error_grows_with_extrapolation():
    n = np.array([1e3, 2e3, 4e3, 8e3, 16e3])
    exact = fit_power_law(n, 3.0 * n**-0.2)
    assert (exact.scale, exact.rho) == pytest.approx((3.0, 0.2))
    assert exact.log_se(1e5) == pytest.approx(0.0, abs=1e-12)
    noisy = fit_power_law(n, 3.0 * n**-0.2 * np.exp([0.01, -0.01, 0.02, 0.0, -0.015]))
    assert 0 < noisy.log_se(4e3) < noisy.log_se(1e5) < noisy.log_se(1e6)


def test_a_rising_curve_is_fitted_as_one_that_barely_improves():
    n = np.array([1e3, 2e3, 4e3])
    fit = fit_power_law(n, 1.0 + 1e-3 * np.log(n))
    assert fit.rho == pytest.approx(1e-3)


def test_minimax_allocation_matches_a_grid_search():
    scale, rho = np.array([2.0, 3.2, 2.4]), np.array([0.10, 0.15, 0.12])
    seen, remaining = np.array([1e3, 2e3, 1.5e3]), 9e4
    pi = minimax_allocation(scale, rho, seen, remaining, floor=0.05, upper=np.ones(3))
    end = scale * (seen + pi * remaining) ** -rho
    assert pi.sum() == pytest.approx(1.0) and np.all(pi >= 0.05)
    assert end.max() - end.min() < 1e-9  # interior: every forecast ends at the same level
    grid = simplex_grid(3, 0.01)
    best = (scale * (seen + grid * remaining) ** -rho).max(axis=1).min()
    assert end.max() <= best + 1e-12


def test_minimax_allocation_respects_the_floor_and_the_cap():
    scale, rho = np.array([1.0, 5.0, 1.0]), np.array([0.1, 0.1, 0.1])
    seen = np.full(3, 1e3)
    pi = minimax_allocation(scale, rho, seen, 1e4, floor=0.1, upper=np.array([1.0, 0.5, 1.0]))
    assert pi == pytest.approx([0.25, 0.5, 0.25])  # nld capped, the rest shared equally
    pi = minimax_allocation(scale, rho, seen, 1e4, floor=0.1, upper=np.array([1.0, 1.0, 1.0]))
    assert pi == pytest.approx([0.1, 0.8, 0.1])  # nld cannot catch up: the others at the floor


def mixer(**params) -> HorizonMixer:
    defaults = {
        "byte_premium": np.ones(3),
        "total_sequences": 30_000,
        "cap_sequences": np.full(3, 1e9),
        "points": 3,
        "window": 0.0,
        "warmup_steps": 0,
    }
    return HorizonMixer(LANGS, **{**defaults, **params})


def evaluation(loss: np.ndarray, draws: np.ndarray, se: float | None = None) -> WindowStats:
    """A dev evaluation at nats/byte ``loss`` after ``draws`` training sequences per language."""
    nbytes = np.full(3, 1e4)
    return WindowStats(
        loss * nbytes,
        nbytes,
        nbytes,
        draws.astype(float),
        draws.astype(float),
        signal="dev",
        relative_se=None if se is None else np.full(3, se),
    )


def feed(m: HorizonMixer, curves, evaluations: int, per_eval: int = 1000, noise=None) -> None:
    """``evaluations`` dev evaluations, ``per_eval`` training draws each from the current π."""
    for e in range(evaluations):
        draws = np.round(m.probs() * per_eval)
        seen = m.seen + draws
        loss = np.array([c(n) for c, n in zip(curves, seen, strict=True)])
        if noise is not None:
            loss = loss * (1 + noise[e])
        m.update((e + 1) * 50, evaluation(loss, draws, se=None if noise is None else 0.01))


def test_identical_curves_keep_pi_uniform():
    m = mixer()
    feed(m, [lambda n: 3.0 * n**-0.2] * 3, evaluations=8)
    assert m.probs() == pytest.approx(np.full(3, 1 / 3), abs=1e-3)


def test_the_language_that_will_lag_gets_data_before_it_lags():
    """zho starts ahead but learns slowly: under uniform it ends worst. A mixer that steers by
    today's lag would give it less; the forecast gives it more while it still leads."""
    curves = [lambda n: 3.0 * n**-0.2, lambda n: 3.0 * n**-0.2, lambda n: 1.2 * n**-0.08]
    m = mixer()
    feed(m, curves, evaluations=4)
    today = [c(n) for c, n in zip(curves, m.seen, strict=True)]
    assert np.argmin(today) == 2  # zho leads now
    at_end_uniform = [c(n + 30_000 / 3) for c, n in zip(curves, m.seen, strict=True)]
    assert np.argmax(at_end_uniform) == 2  # and would lag at the end of a uniform run
    assert m.probs()[2] > 0.4


def test_a_lag_within_the_margin_moves_nothing():
    rng = np.random.default_rng(0)
    curves = [lambda n: 3.0 * n**-0.2] * 3
    noise = 0.01 * rng.standard_normal((8, 3))
    careful, rash = mixer(margin=2.0), mixer(margin=0.0)
    feed(careful, curves, 8, noise=noise)
    feed(rash, curves, 8, noise=noise)
    assert careful.probs() == pytest.approx(np.full(3, 1 / 3))
    assert np.abs(rash.probs() - 1 / 3).max() > 0.05


def test_state_round_trip_continues_exactly():
    curves = [lambda n: 3.0 * n**-0.2, lambda n: 3.3 * n**-0.2, lambda n: 1.2 * n**-0.08]
    whole, first = mixer(), mixer()
    feed(whole, curves, 6)
    feed(first, curves, 3)
    second = mixer()
    second.load_state_dict(json.loads(json.dumps(first.state_dict())))
    feed(second, curves, 3)
    assert second.probs().tolist() == whole.probs().tolist()
    assert second.state_dict() == whole.state_dict()


def test_the_method_config_builds_it_from_the_run_context():
    context = MixContext(
        LANGS, np.full(3, 1e6), np.ones(3), total_tokens=4_096_000, tokens_per_sequence=128
    )
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(config_name="train", overrides=["method=horizon"])
    m = build_mixer(cfg.method, None, context)
    assert isinstance(m, HorizonMixer) and m.adaptive and not m.uses_reward
    assert m.total_sequences == 32_000 and m.cap_sequences == pytest.approx(np.full(3, 78_125))
    assert m.floor == pytest.approx(
        cfg.method.mixer.floor_share / 3
    ) and m.probs() == pytest.approx(np.full(3, 1 / 3))


def test_the_floor_scales_with_the_number_of_languages():
    """f = γ/K: the default keeps eleven languages adaptive (an absolute 0.1 would not fit)."""
    langs = [f"l{i}" for i in range(11)]
    m = HorizonMixer(langs, np.ones(11), total_sequences=30_000, cap_sequences=np.full(11, 1e9))
    assert m.floor == pytest.approx(0.3 / 11) and m.probs() == pytest.approx(np.full(11, 1 / 11))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="floor_share"):
        mixer(floor_share=1.5)
    with pytest.raises(ValueError, match="points"):
        mixer(points=2)
    with pytest.raises(ValueError, match="margin"):
        mixer(margin=-1)


@pytest.mark.slow
def test_horizon_resume_is_bit_identical(tiny_overrides, tmp_path):
    """The forecast's history (every dev loss and exposure so far) travels in last.ckpt: killed
    after step 7, between the dev evaluations at 5 and 10, the resumed run fits the same curves
    at step 15 (three evaluations) and moves π as the uninterrupted run does."""
    method = ["method=horizon", "signal.every=5", "method.mixer.points=3", "method.mixer.margin=0"]
    assert_resume_is_bit_identical([*tiny_overrides, *method], tmp_path, steps=20)
