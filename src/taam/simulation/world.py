"""A simulated world: learning curves, cross-lingual transfer, epoch cap and noise.

Language i's loss, in nats per English-equivalent byte (ℓ_i × BP_i, what the mixer compares),
after m_i effective sequences follows

    L_i(m) = a_i + b_i·(m + 1)^(−c_i),        m_i = n_i + Σ_{j≠i} τ_ij·n_j

with n_j the sequences of language j seen so far and τ the transfer matrix (0 = none).
L_i is the held-out loss: what the evaluation measures, on text the model has not seen.

Two signals measure it (``taam.simulation.engine``):

- a **training window** is the loss of the window's own draws: L_i at each of its steps, less
  the memorisation gap, averaged over the draws, times 1 + σ·z/√n_i (σ: the relative sd of one
  sequence's loss). The gap is relative and grows with the epochs of language i seen so far,
  e_i = n_i / U_i (U_i sequences in one epoch):

      train_i = L_i·(1 − g(e_i)),   g(e) = b·max(0, e − 1)^p

  In the first epoch every sequence drawn is new (the sampler walks a permutation per
  epoch), so the training loss is a held-out estimate; in epoch e each sequence drawn has
  been seen ⌈e⌉ − 1 times, max(0, e − 1) its continuous version, p < 1 each further pass
  memorising less. b and p are fitted to a real run (``taam.simulation.fit``).
- a **dev evaluation** scores a fixed set of S sequences of T tokens per language:
  L_i·(1 + δ_i + σ_dev·z), with δ_i drawn once per run, sd(δ_i) = σ_tok/√(S·T) = σ/√S
  (σ_tok = σ·√T, the per-token sd that gives one sequence of T tokens its relative sd σ: a
  fixed set of S sequences is off by the mean of S sequences' deviations for the whole run),
  and σ_dev the small evaluation-to-evaluation noise (the model's own step-to-step wobble).
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
class Memorisation:
    """The training loss's memorisation gap g(e) = b·max(0, e − 1)^p (relative; b = 0: none)."""

    b: float = 0.0
    p: float = 1.0

    def __post_init__(self) -> None:
        if self.b < 0 or self.b >= 1 or self.p <= 0:
            raise ValueError(f"memorisation needs 0 ≤ b < 1 and p > 0, got b={self.b}, p={self.p}")

    @classmethod
    def from_config(cls, node: DictConfig | dict | None) -> Memorisation:
        return cls(float(node["b"]), float(node["p"])) if node else cls()

    def __call__(self, epochs: np.ndarray) -> np.ndarray:
        """g(e): the relative amount by which the training loss lies below the held-out loss."""
        e = np.maximum(np.asarray(epochs, dtype=np.float64) - 1.0, 0.0)
        return self.b * e**self.p


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
    memorisation: Memorisation = Memorisation()  # the training loss's gap below L_i
    dev_noise: float = 0.0  # σ_dev: relative std of one dev evaluation around L_i(1 + δ_i)
    # o_i: training windows are scored as the token stream (EOS and BOS targets, whose nats
    # have no bytes; windows that cut documents), held-out text document by document: the
    # training loss is L_i·(1 − g(e_i))·(1 + o_i). None: no offset.
    train_offset: np.ndarray | None = None

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
        """True held-out L_i(m_i) for exposures ``seen`` (no noise)."""
        return self.curves(self.effective(seen))

    def train_loss(self, seen: np.ndarray) -> np.ndarray:
        """The training loss L_i·(1 − g(e_i))·(1 + o_i) of the draws at exposures ``seen``
        (no noise)."""
        seen = np.asarray(seen, dtype=np.float64)
        loss = self.loss(seen) * (1.0 - self.memorisation(seen / self.unique_sequences))
        return loss if self.train_offset is None else loss * (1.0 + self.train_offset)

    def dev_bias_sd(self, sequences: int) -> float:
        """sd(δ_i) = σ_tok/√(S·T) = σ/√S: a fixed dev set of S sequences of T tokens."""
        if sequences < 1:
            raise ValueError(f"a dev set needs at least one sequence, got {sequences}")
        token_sd = self.noise * np.sqrt(self.tokens_per_sequence)
        return float(token_sd / np.sqrt(sequences * self.tokens_per_sequence))

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
        memorisation=Memorisation.from_config(sim.get("memorisation")),
        dev_noise=float(sim.get("dev_noise", 0.0) or 0.0),
        train_offset=(
            np.array([float(sim.train_offset[lang]) for lang in languages])
            if sim.get("train_offset")
            else None
        ),
    )
