"""An adaptive mixer that drives a language to the epoch cap mid-window keeps a finite π.

Before E[n_i] = Σ_t B·π_t,i the mixer divided by the last batch's π, 0 for a capped
language: r̂ = ∞, π = NaN and ``ValueError: Probabilities contain NaN`` at the next draw.
"""

from __future__ import annotations

import numpy as np

from taam.data.sampler import MixtureSampler
from taam.data.shards import LanguageShard
from taam.mixer.base import WindowStats
from taam.mixer.exp3 import Exp3Mixer
from taam.mixer.rewards import CrossLingualDeficit

LANGS = ("eng", "nld", "zho")
LOSS = np.array([1.0, 1.1, 2.0])  # zho lags: the level reward pushes π towards it


def test_a_language_capped_mid_window_gets_a_finite_update_and_the_run_goes_on():
    sizes, batch, interval = (400, 400, 20), 8, 5
    shards = {
        lang: LanguageShard(np.arange(n * 4 + 1), 4) for lang, n in zip(LANGS, sizes, strict=True)
    }
    sampler = MixtureSampler(shards, LANGS, batch, seed=0, epoch_cap=2.0)  # zho: 40 sequences
    mixer = Exp3Mixer(LANGS, CrossLingualDeficit(rescale="none"), np.ones(3), eta=2.0)
    window = np.zeros((3, 4))
    for _ in range(60):
        drawn = sampler.draw(mixer.probs())
        n = np.bincount(drawn.language, minlength=3)
        window += np.column_stack([LOSS * n * 10, n * 10, n * 10, n])
        if sampler.step % interval == 0:
            expected = sampler.close_window()
            mixer.update(sampler.step, WindowStats.from_matrix(window, expected))
            window[:] = 0.0
            assert np.isfinite(mixer.w).all() and np.isfinite(mixer.probs()).all()
    capped_at = sampler.capped_at["zho"]
    assert capped_at % interval != 0  # it left π in the middle of a window
    assert sampler.step == 60 and sampler.drawn[2] <= 40
    assert mixer.probs()[2] > 1 / 3  # the mixer still wants zho; the sampler keeps it out


def test_expected_draws_accumulate_the_pi_in_force_and_survive_resume():
    shards = {lang: LanguageShard(np.arange(50 * 4 + 1), 4) for lang in LANGS}
    sampler = MixtureSampler(shards, LANGS, 10, seed=1, epoch_cap=10.0)
    sampler.draw(np.array([0.5, 0.25, 0.25]))
    restored = MixtureSampler(shards, LANGS, 10, seed=1, epoch_cap=10.0)
    restored.load_state_dict(sampler.state_dict())
    for s in (sampler, restored):
        s.draw(np.array([0.2, 0.2, 0.6]))
    assert sampler.close_window().tolist() == restored.close_window().tolist() == [7.0, 4.5, 8.5]
    assert sampler.close_window().tolist() == [0.0, 0.0, 0.0]  # a new window starts empty
