"""Rewards: what an adaptive mixer learns from, computed from smoothed per-language losses.

A reward sees ℓ̃, the EMA-smoothed loss per language in nats per English-equivalent byte
(kept by the mixer), before and after the current window, and which languages the window
held. It returns the raw reward r_i (NaN for a language it cannot score) and the reward
the policy uses: r_i rescaled into [0, 1] against a rolling history of raw rewards
between its 20th and 80th percentiles, then clipped (Graves et al. 2017).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque

import numpy as np


class Reward(ABC):
    """Raw reward r_i from (ℓ̃ before, ℓ̃ after, present) plus the percentile rescaling."""

    def __init__(
        self, history: int = 300, low: float = 20.0, high: float = 80.0, rescale: bool = True
    ) -> None:
        if history < 1 or not 0 <= low < high <= 100:
            raise ValueError(
                f"need history ≥ 1 and 0 ≤ low < high ≤ 100, got {history}, {low}, {high}"
            )
        self.low, self.high, self.rescale = low, high, rescale
        self.history: deque[float] = deque(maxlen=history)  # raw rewards, all languages pooled

    @abstractmethod
    def raw(self, before: np.ndarray, after: np.ndarray, present: np.ndarray) -> np.ndarray:
        """r_i per language; NaN where language i has no reward this window."""

    def __call__(
        self, before: np.ndarray, after: np.ndarray, present: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(raw r, rescaled r ∈ [0, 1]); the raw rewards join the history first."""
        raw = self.raw(before, after, present)
        if not self.rescale:
            return raw, raw.copy()
        self.history.extend(raw[np.isfinite(raw)].tolist())
        return raw, self.scale(raw)

    def scale(self, raw: np.ndarray) -> np.ndarray:
        """(r − q_low) / (q_high − q_low) clipped to [0, 1], q from the history (0.5 if flat)."""
        if not self.history:
            return np.where(np.isfinite(raw), 0.5, np.nan)
        q_low, q_high = np.percentile(np.fromiter(self.history, float), [self.low, self.high])
        if q_high <= q_low:  # too little spread to rank anything yet
            return np.where(np.isfinite(raw), 0.5, np.nan)
        return np.clip((raw - q_low) / (q_high - q_low), 0.0, 1.0)

    def state_dict(self) -> dict:
        return {"history": list(self.history)}

    def load_state_dict(self, state: dict) -> None:
        self.history.clear()
        self.history.extend(float(r) for r in state["history"])


class NormalizedExcessLoss(Reward):
    """v1, delta-based: r_i = (ℓ̃_i(prev) − ℓ̃_i(now)) / ℓ̃_i(prev), the relative loss drop.

    Learning progress: it rewards the languages whose loss falls fastest, so under
    typological asymmetry it drives the hardest language down to the floor γ/K.
    """

    def raw(self, before: np.ndarray, after: np.ndarray, present: np.ndarray) -> np.ndarray:
        # A language needs a previous smoothed loss (it was seen before) to show a drop.
        ok = present & np.isfinite(before) & (before > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(ok, (before - after) / before, np.nan)


class CrossLingualDeficit(Reward):
    """v2, level-based: r_i = (ℓ̃_i − mean_j ℓ̃_j) / mean_j ℓ̃_j, the lag behind the mean.

    The mean runs over every language with a smoothed loss so far, present or not.
    """

    def raw(self, before: np.ndarray, after: np.ndarray, present: np.ndarray) -> np.ndarray:
        known = np.isfinite(after)
        if not known.any():
            return np.full_like(after, np.nan)
        mean = after[known].mean()
        return np.where(present & known, (after - mean) / mean, np.nan)


class SmoothedLoss(Reward):
    """ODM's loss reward (Albalak et al. 2023): r_i = ℓ̃_i itself, not rescaled by default."""

    def __init__(self, history: int = 300, rescale: bool = False) -> None:
        super().__init__(history=history, rescale=rescale)

    def raw(self, before: np.ndarray, after: np.ndarray, present: np.ndarray) -> np.ndarray:
        return np.where(present & np.isfinite(after), after, np.nan)
