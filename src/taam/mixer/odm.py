"""Online Data Mixing (ODM; Albalak et al. 2023) as in the official ``Exp3WeightUpdater``.

One round t per update window. With the loss as reward (:class:`~taam.mixer.rewards.SmoothedLoss`,
β = 0 by default: the window's loss itself) and ε_t = min(1/K, √(ln K / (K·t))), ε_0 = 1/K:

    R_i ← R_i + r_i · n_i / E[n_i]                    cumulative importance-weighted loss
    π = (1 − K·ε_t)·softmax(ε_{t−1}·R) + ε_t           after round t

The initial weights (init=natural: natural shares) set only the first π; from the first
update on π depends on R alone. The official code updates after every batch with one domain
per batch (R_i += ℓ/π_i); a window of n_i draws from π contributes its importance-weighted
mean, which has the same expectation per round.

``reward_ema = α > 0`` is the smoothed variant of the paper's Algorithm 1:
R_i ← α·R_i + (1 − α)·r̂_i for the languages drawn, so R tracks the recent loss instead of
summing it.
"""

from __future__ import annotations

import math

import numpy as np

from taam.mixer.exp3 import Exp3Mixer, softmax


def odm_epsilon(t: int, k: int) -> float:
    """ε_t = min(1/K, √(ln K / (K·t))); ε_0 = 1/K (pure exploration before any update)."""
    if t < 1:
        return 1.0 / k
    return min(1.0 / k, math.sqrt(math.log(k) / (k * t)))


class OdmMixer(Exp3Mixer):
    """ODM: EXP3 on the cumulative importance-weighted loss with decaying exploration ε_t."""

    uses_reward = False  # ODM brings its own loss reward; the reward group does not apply

    def __init__(self, *args, beta: float = 0.0, reward_ema: float = 0.0, **kwargs) -> None:
        """:class:`Exp3Mixer`'s arguments but γ, η, λ, the anchor and α: ODM replaces EXP3's
        fixed exploration and step by K·ε_t and ε_{t−1}·R. β = 0 (the window's own loss, as
        the official code) unless given."""
        replaced = sorted({"gamma", "eta", "lam", "anchor", "alpha"} & set(kwargs))
        if replaced:
            raise ValueError(f"ODM sets its own exploration and step size; drop {replaced}")
        super().__init__(*args, beta=beta, **kwargs)
        if not 0 <= reward_ema < 1:
            raise ValueError(f"ODM's reward EMA α must lie in [0, 1), got {reward_ema}")
        self.reward_ema = reward_ema
        self.total_reward = np.zeros(self.k)  # R
        self.rounds = 0  # t: weight updates so far

    def exploration(self) -> float:
        """K·ε_t after round t (γ of the EXP3 form; the floor is ε_t)."""
        return self.k * odm_epsilon(self.rounds, self.k)

    def probs(self) -> np.ndarray:
        """softmax(w⁰) before the first update, then (1 − K·ε_t)·softmax(ε_{t−1}·R) + ε_t."""
        if self.rounds == 0:
            return softmax(self.w0)
        return super().probs()

    def learn(self, r_hat: np.ndarray, drawn: np.ndarray) -> None:
        """R ← R + r̂ (or its EMA for the drawn languages); w = ε_{t−1}·R for round t."""
        if self.reward_ema > 0:
            ema = self.reward_ema * self.total_reward + (1 - self.reward_ema) * r_hat
            self.total_reward = np.where(drawn, ema, self.total_reward)
        else:
            self.total_reward = self.total_reward + r_hat
        self.rounds += 1
        self.w = odm_epsilon(self.rounds - 1, self.k) * self.total_reward

    def state_dict(self) -> dict:
        return super().state_dict() | {
            "total_reward": self.total_reward.tolist(),
            "rounds": self.rounds,
        }

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.total_reward = np.array(state["total_reward"], dtype=np.float64)
        self.rounds = int(state["rounds"])
