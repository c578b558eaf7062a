"""Online Data Mixing (ODM; Albalak et al. 2023, Algorithm 1) as a variant of EXP3.

ODM differs from :class:`~taam.mixer.exp3.Exp3Mixer` in three places:

* exploration decays: ε_t = min(1/K, √(ln K / (K·t))) and γ_t = K·ε_t, so the floor is ε_t
  (for K = 3 the first rounds are uniform: ε_t = 1/K until t > K·ln K);
* the reward is the smoothed loss itself (:class:`~taam.mixer.rewards.SmoothedLoss`);
* the weights are not a running sum: R̂_i ← α·R̂_i + (1 − α)·r̂_i for the languages in the
  window and w = w₀ + ε_{t−1}·R̂, with w₀ = log natural shares (init=natural).
"""

from __future__ import annotations

import math

import numpy as np

from taam.mixer.exp3 import Exp3Mixer


def odm_epsilon(t: int, k: int) -> float:
    """ε_t = min(1/K, √(ln K / (K·t))); ε_0 = 1/K (pure exploration before any update)."""
    if t < 1:
        return 1.0 / k
    return min(1.0 / k, math.sqrt(math.log(k) / (k * t)))


class OdmMixer(Exp3Mixer):
    """ODM: EXP3 with decaying exploration ε_t and an EMA (α) of importance-weighted rewards."""

    uses_reward = False  # ODM brings its own loss reward; the reward group does not apply

    def __init__(self, *args, reward_ema: float = 0.9, **kwargs) -> None:
        """:class:`Exp3Mixer`'s arguments except γ, η and α: EXP3's fixed γ, η and Exp3.S are
        replaced by K·ε_t, ε_{t−1}·R̂ and the EMA α = ``reward_ema`` of the rewards."""
        replaced = sorted({"gamma", "eta", "alpha"} & set(kwargs))
        if replaced:
            raise ValueError(f"ODM sets its own exploration and step size; drop {replaced}")
        super().__init__(*args, **kwargs)
        if not 0 <= reward_ema < 1:
            raise ValueError(f"ODM's reward EMA α must lie in [0, 1), got {reward_ema}")
        self.reward_ema = reward_ema
        self.w0 = self.w.copy()
        self.reward_hat = np.zeros(self.k)  # R̂

    def exploration(self) -> float:
        """γ_t = K·ε_t, t the coming round (updates done + 1)."""
        return self.k * odm_epsilon(self.updates + 1, self.k)

    def learn(self, r_hat: np.ndarray, drawn: np.ndarray) -> None:
        """R̂_i ← α·R̂_i + (1 − α)·r̂_i for drawn i; w = w₀ + ε_t·R̂ (used in round t + 1)."""
        ema = self.reward_ema * self.reward_hat + (1 - self.reward_ema) * r_hat
        self.reward_hat = np.where(drawn, ema, self.reward_hat)
        self.w = self.w0 + odm_epsilon(self.updates + 1, self.k) * self.reward_hat

    def state_dict(self) -> dict:
        return super().state_dict() | {
            "w0": self.w0.tolist(),
            "reward_hat": self.reward_hat.tolist(),
        }

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.w0 = np.array(state["w0"], dtype=np.float64)
        self.reward_hat = np.array(state["reward_hat"], dtype=np.float64)
