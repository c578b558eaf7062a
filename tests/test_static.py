"""Static methods: uniform, natural, temperature, UniMax and fixed (hand-computed allocations)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from taam.mixer.base import MixContext, StaticMixer, WindowStats
from taam.mixer.factory import build_mixer
from taam.mixer.static import fixed, natural, temperature, uniform, unimax, unimax_allocation

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
LANGS = ("eng", "nld", "zho")


def context(tokens, total_tokens: int = 900, epoch_cap: float = 2.0) -> MixContext:
    return MixContext(LANGS, np.array(tokens, dtype=float), np.ones(3), total_tokens, epoch_cap)


def test_unimax_caps_small_languages_and_redistributes():
    # Smallest first: 900/3 = 300 > 2 epochs of 10 → 20; then 880/2 = 440 > 2·100 → 200;
    # the largest takes the remaining 680 (< 2·1000).
    allocation = unimax_allocation(np.array([1000.0, 10.0, 100.0]), budget=900, max_epochs=2)
    assert allocation.tolist() == pytest.approx([680.0, 20.0, 200.0])
    mixer = unimax(context([1000, 10, 100]))
    assert mixer.probs() == pytest.approx(np.array([680, 20, 200]) / 900)


def test_unimax_without_a_binding_cap_is_uniform():
    allocation = unimax_allocation(np.array([100.0, 200.0, 300.0]), budget=300, max_epochs=10)
    assert allocation.tolist() == pytest.approx([100.0, 100.0, 100.0])


def test_unimax_explicit_max_epochs_overrides_the_context_cap():
    mixer = unimax(context([1000, 10, 100], epoch_cap=100.0), max_epochs=2)
    assert mixer.probs() == pytest.approx(np.array([680, 20, 200]) / 900)


def test_uniform_natural_and_temperature():
    ctx = context([600, 300, 100])
    assert uniform(ctx).probs() == pytest.approx(np.full(3, 1 / 3))
    assert natural(ctx).probs() == pytest.approx([0.6, 0.3, 0.1])
    assert temperature(ctx, tau=1.0).probs() == pytest.approx([0.6, 0.3, 0.1])
    root = np.sqrt([600, 300, 100])
    assert temperature(ctx, tau=2.0).probs() == pytest.approx(root / root.sum())
    assert temperature(ctx, tau=1e6).probs() == pytest.approx(np.full(3, 1 / 3), abs=1e-5)
    with pytest.raises(ValueError, match="τ"):
        temperature(ctx, tau=0.0)


def test_fixed_weights_are_normalised_in_the_language_order():
    mixer = fixed(context([600, 300, 100]), {"zho": 2.0, "eng": 1.0, "nld": 1.0})
    assert mixer.probs() == pytest.approx([0.25, 0.25, 0.5])
    with pytest.raises(ValueError, match="one weight for each"):
        fixed(context([600, 300, 100]), {"eng": 1.0, "nld": 1.0})


def test_a_static_pi_must_be_a_distribution():
    with pytest.raises(ValueError):
        StaticMixer(LANGS, np.array([1.0, -1.0, 1.0]))


@pytest.mark.parametrize(
    "overrides",
    [
        ["method=uniform"],
        ["method=natural"],
        ["method=temperature"],
        ["method=unimax"],
        ["method=fixed", "method.mixer.weights={eng: 0.3, nld: 0.4, zho: 0.3}"],
    ],
)
def test_static_method_configs_build(overrides):
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(config_name="simulate", overrides=overrides)
    mixer = build_mixer(cfg.method, cfg.reward, context([600, 300, 100], total_tokens=10**6))
    assert isinstance(mixer, StaticMixer) and not mixer.adaptive
    assert mixer.probs().sum() == pytest.approx(1.0)
    stats = WindowStats.from_matrix(np.ones((3, 4)), expected_draws=np.ones(3))
    assert mixer.update(10, stats) == {}  # nothing to learn
