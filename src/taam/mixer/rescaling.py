"""Reward rescaling: how a raw reward r_i becomes the number the policy adds to its weights.

* ``none``: r_i unchanged.
* ``reservoir`` (Graves et al. 2017, §3): a uniform reservoir sample of the whole history of
  raw rewards (all languages pooled) gives the percentiles q_lo, q_hi, and
  r ↦ clip((r − q_lo) / (q_hi − q_lo), 0, 1). The history never forgets the start, so a
  shrinking late signal is not stretched over [0, 1].
* ``forgetting``: the same percentiles over a *biased* reservoir (Aggarwal 2006, "On biased
  reservoir sampling in the presence of stream evolution", VLDB, Algorithm 2.1 with bias rate
  1/size): every new reward enters; with probability (fill fraction) it replaces a random
  member. A reward of age a survives with probability ≈ exp(−a/size), so the percentiles track
  the recent spread of a reward that shrinks over training (v1's default; docs/mixer.md).
* ``rolling``: the same percentiles over the last ``size`` raw rewards only (the published
  accounting; it stretches whatever spread the recent window has, noise included).
* ``standardise``: per language, z_i = (r_i − μ_i) / σ_i with μ_i, σ_i the running mean and
  standard deviation of language i's own raw rewards (Welford). It keeps only how a language's
  reward moves against its own past, so a persistent gap between languages is removed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque

import numpy as np


class Rescaling(ABC):
    """Maps raw rewards (NaN = no reward) to the policy's rewards; learns from every call."""

    @abstractmethod
    def __call__(self, raw: np.ndarray) -> np.ndarray:
        """Observe the finite entries of ``raw`` and return them rescaled (NaN stays NaN)."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:  # noqa: B027 (stateless by default)
        """Restore what :meth:`state_dict` returned."""


class NoRescaling(Rescaling):
    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(raw, dtype=np.float64).copy()


class _Percentiles(Rescaling):
    """clip((r − q_low) / (q_high − q_low), 0, 1) against a sample of past raw rewards."""

    def __init__(self, low: float = 20.0, high: float = 80.0) -> None:
        if not 0 <= low < high <= 100:
            raise ValueError(f"need 0 ≤ low < high ≤ 100 percentiles, got {low}, {high}")
        self.low, self.high = low, high

    @abstractmethod
    def observe(self, values: np.ndarray) -> None:
        """Add finite raw rewards to the sample."""

    @abstractmethod
    def sample(self) -> np.ndarray:
        """The raw rewards the percentiles are taken over."""

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.float64)
        self.observe(raw[np.isfinite(raw)])
        return self.scale(raw)

    def scale(self, raw: np.ndarray) -> np.ndarray:
        """(r − q_low) / (q_high − q_low) clipped to [0, 1] (0.5 while the sample is flat)."""
        sample = self.sample()
        if sample.size == 0:
            return np.where(np.isfinite(raw), 0.5, np.nan)
        q_low, q_high = np.percentile(sample, [self.low, self.high])
        if q_high <= q_low:  # too little spread to rank anything yet
            return np.where(np.isfinite(raw), 0.5, np.nan)
        return np.clip((raw - q_low) / (q_high - q_low), 0.0, 1.0)


class RollingPercentiles(_Percentiles):
    """Percentiles of the last ``size`` raw rewards (the published rescaling)."""

    def __init__(self, size: int = 300, low: float = 20.0, high: float = 80.0) -> None:
        super().__init__(low, high)
        if size < 1:
            raise ValueError(f"the rolling history needs size ≥ 1, got {size}")
        self.history: deque[float] = deque(maxlen=size)

    def observe(self, values: np.ndarray) -> None:
        self.history.extend(values.tolist())

    def sample(self) -> np.ndarray:
        return np.fromiter(self.history, float)

    def state_dict(self) -> dict:
        return {"history": list(self.history)}

    def load_state_dict(self, state: dict) -> None:
        self.history.clear()
        self.history.extend(float(r) for r in state["history"])


class ReservoirPercentiles(_Percentiles):
    """Percentiles of a uniform reservoir sample of every raw reward so far (Graves et al. 2017).

    Reservoir sampling (Vitter's algorithm R) keeps each of the ``seen`` rewards with
    probability size/seen, seeded so a run's trajectory is reproducible and resumable.
    """

    def __init__(
        self, size: int = 1000, low: float = 20.0, high: float = 80.0, seed: int = 0
    ) -> None:
        super().__init__(low, high)
        if size < 1:
            raise ValueError(f"the reservoir needs size ≥ 1, got {size}")
        self.size = size
        self.reservoir: list[float] = []
        self.seen = 0
        self.rng = np.random.default_rng(seed)

    def observe(self, values: np.ndarray) -> None:
        for value in values.tolist():
            self.seen += 1
            if len(self.reservoir) < self.size:
                self.reservoir.append(value)
            else:
                slot = int(self.rng.integers(self.seen))
                if slot < self.size:
                    self.reservoir[slot] = value

    def sample(self) -> np.ndarray:
        return np.array(self.reservoir, dtype=np.float64)

    def state_dict(self) -> dict:
        return {
            "reservoir": list(self.reservoir),
            "seen": self.seen,
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict) -> None:
        self.reservoir = [float(r) for r in state["reservoir"]]
        self.seen = int(state["seen"])
        self.rng.bit_generator.state = state["rng"]


class ForgettingReservoir(ReservoirPercentiles):
    """Percentiles of a reservoir biased to recent rewards (Aggarwal 2006, bias rate 1/size)."""

    def __init__(
        self, size: int = 15, low: float = 20.0, high: float = 80.0, seed: int = 0
    ) -> None:
        super().__init__(size, low, high, seed)

    def observe(self, values: np.ndarray) -> None:
        for value in values.tolist():
            self.seen += 1
            fill = len(self.reservoir) / self.size
            if self.rng.random() < fill:  # replace a random member
                self.reservoir[int(self.rng.integers(len(self.reservoir)))] = value
            else:  # the reservoir grows (until full: then fill = 1 and every reward replaces)
                self.reservoir.append(value)


class Standardise(Rescaling):
    """z_i = (r_i − μ_i) / σ_i per language, μ_i and σ_i over language i's raw rewards so far."""

    def __init__(self, min_count: int = 5) -> None:
        self.min_count = min_count
        self.count: np.ndarray | None = None
        self.mean: np.ndarray | None = None
        self.m2: np.ndarray | None = None  # Σ (r − μ)², Welford's running sum of squares

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.float64)
        if self.count is None:
            self.count, self.mean, self.m2 = (np.zeros(raw.shape) for _ in range(3))
        ok = np.isfinite(raw)
        self.count = self.count + ok
        delta = np.where(ok, raw - self.mean, 0.0)
        self.mean = self.mean + np.where(ok, delta / np.maximum(self.count, 1), 0.0)
        self.m2 = self.m2 + np.where(ok, delta * (raw - self.mean), 0.0)
        sd = np.sqrt(self.m2 / np.maximum(self.count - 1, 1))
        ready = ok & (self.count >= self.min_count) & (sd > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (raw - self.mean) / sd
        return np.where(ready, z, np.where(ok, 0.0, np.nan))

    def state_dict(self) -> dict:
        if self.count is None:
            return {}
        return {"count": self.count.tolist(), "mean": self.mean.tolist(), "m2": self.m2.tolist()}

    def load_state_dict(self, state: dict) -> None:
        if state:
            self.count, self.mean, self.m2 = (
                np.array(state[k], dtype=np.float64) for k in ("count", "mean", "m2")
            )


def make_rescaling(kind: str, **params) -> Rescaling:
    """``none``, ``reservoir``, ``forgetting``, ``rolling`` or ``standardise``, with its parameters."""
    kinds = {
        "none": NoRescaling,
        "reservoir": ReservoirPercentiles,
        "forgetting": ForgettingReservoir,
        "rolling": RollingPercentiles,
        "standardise": Standardise,
    }
    if kind not in kinds:
        raise ValueError(f"unknown rescale '{kind}'; use one of {', '.join(kinds)}")
    return kinds[kind](**params)
