"""A simulated world: learning curves, cross-lingual transfer, epoch cap and noise.

Language i's loss, in nats per English-equivalent byte (ℓ_i × BP_i, what the mixer compares),
after m_i effective sequences follows

    L_i(m) = a_i + b_i·(m + 1)^(−c_i),        m_i = n_i + Σ_{j≠i} τ_ij·n_j

with n_j the sequences of language j seen so far and τ the transfer matrix (0 = none).
A window's measured loss is the true loss at each of its steps, averaged over the draws,
times 1 + σ·z/√n_i: the per-sequence relative noise σ shrinks with the sequences seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from taam.languages import byte_premiums
from taam.mixer.prior import typological_prior


@dataclass(frozen=True)
class LearningCurves:
    """L_i(m) = a_i + b_i·(m + 1)^(−c_i), vectorised over languages (m + 1: finite at m = 0)."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray

    @classmethod
    def from_config(cls, curves: DictConfig | dict, languages: tuple[str, ...]) -> LearningCurves:
        return cls(*(np.array([float(curves[lang][p]) for lang in languages]) for p in "abc"))

    def __call__(self, m: np.ndarray) -> np.ndarray:
        return self.a + self.b * (np.asarray(m, dtype=np.float64) + 1.0) ** -self.c


def typological_transfer(
    languages: tuple[str, ...], strength: float, cache_dir: Path | None = None
) -> np.ndarray:
    """τ_ij = strength·(1 − d_ij / max d), d the prior's mean URIEL distance; τ_ii = 0.

    The closest pair transfers most, the most distant pair nothing: a similarity scale
    fixed by the same distances that give P⁰.
    """
    d = typological_prior(languages, cache_dir=cache_dir).distance
    tau = strength * (1.0 - d / d.max())
    np.fill_diagonal(tau, 0.0)
    return tau


@dataclass(frozen=True)
class World:
    """Everything a simulated run needs besides the mixer."""

    languages: tuple[str, ...]
    curves: LearningCurves
    transfer: np.ndarray  # τ, [K, K], zero diagonal
    byte_premium: np.ndarray
    unique_sequences: np.ndarray  # one epoch per language, in sequences
    steps: int
    sequences_per_step: int  # B
    tokens_per_sequence: int
    noise: float  # σ: relative std of one sequence's loss
    epoch_cap: float

    @property
    def k(self) -> int:
        return len(self.languages)

    @property
    def total_sequences(self) -> int:
        return self.steps * self.sequences_per_step

    def effective(self, seen: np.ndarray) -> np.ndarray:
        """m = n + τ·n (rows of ``seen`` may be a batch of exposure vectors)."""
        seen = np.asarray(seen, dtype=np.float64)
        return seen + seen @ self.transfer.T

    def loss(self, seen: np.ndarray) -> np.ndarray:
        """True L_i(m_i) for exposures ``seen`` (no noise)."""
        return self.curves(self.effective(seen))

    def cap(self) -> np.ndarray:
        """The most sequences each language may show: epoch cap × one epoch."""
        return self.epoch_cap * self.unique_sequences


def world_from_config(
    sim: DictConfig, epoch_cap: float, cache_dir: Path | None = None, steps: int | None = None
) -> World:
    """The ``configs/simulation/*.yaml`` preset as a :class:`World` (``steps`` overrides)."""
    languages = tuple(sim.curves)
    k = len(languages)
    strength = float(sim.get("transfer", 0.0) or 0.0)
    transfer = (
        typological_transfer(languages, strength, cache_dir) if strength > 0 else np.zeros((k, k))
    )
    per_seq = int(sim.tokens_per_sequence)
    return World(
        languages=languages,
        curves=LearningCurves.from_config(sim.curves, languages),
        transfer=transfer,
        byte_premium=np.array([bp.value for bp in byte_premiums(languages).values()]),
        unique_sequences=np.array([float(sim.unique_tokens[lang]) / per_seq for lang in languages]),
        steps=int(steps or sim.steps),
        sequences_per_step=int(sim.sequences_per_step),
        tokens_per_sequence=per_seq,
        noise=float(sim.noise),
        epoch_cap=float(epoch_cap),
    )
