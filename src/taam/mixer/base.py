"""The mixer interface shared by every method.

A mixer owns π, the probability of drawing each language for the next sequence.
The training loop asks for ``probs()`` before each batch and hands the mixer the
per-language statistics of each update window through ``update(step, stats)``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from taam.errors import ConfigError


@dataclass(frozen=True)
class MixContext:
    """What a method may look at when it builds its mixer (all arrays in language order)."""

    languages: tuple[str, ...]
    unique_tokens: np.ndarray  # training tokens per language (one epoch)
    byte_premium: np.ndarray  # BP_i
    total_tokens: int  # planned token exposures of the whole run
    epoch_cap: float = 10.0
    seed: int = 0
    cache_dir: Path | None = None
    tokens_per_sequence: int | None = None  # the training sequence length (exposures per draw)

    @property
    def k(self) -> int:
        return len(self.languages)


@dataclass
class WindowStats:
    """Per-language sums over one update window, already reduced over all ranks.

    ``nats`` is Σ token NLL, ``bytes`` the UTF-8 bytes the predicted tokens decode to,
    ``tokens`` the predicted tokens and ``sequences`` the sequences drawn (n_i).
    ``expected_draws`` is E[n_i] = Σ_t B·π_t,i over the window's steps, under the π actually
    in force (after the epoch cap): the denominator of the importance weight n_i / E[n_i].

    ``signal`` says where the losses come from. ``train``: the window's own training batches,
    seen only for the languages drawn (a bandit's feedback). ``dev``: the fixed dev set, scored
    for every language at the end of the window (full information: no importance weight);
    ``sequences`` and ``expected_draws`` are then the training draws since the last dev
    evaluation, which a per-sequence reward still needs.

    ``relative_se`` (dev only): s_i, the standard error of ℓ_i relative to ℓ_i when the dev
    documents are a sample of the language's text (:meth:`from_documents`). It is how far the
    dev set's own choice of documents may move ℓ_i; evaluating the same set again does not
    shrink it.
    """

    nats: np.ndarray
    bytes: np.ndarray
    tokens: np.ndarray
    sequences: np.ndarray
    expected_draws: np.ndarray
    signal: str = "train"
    relative_se: np.ndarray | None = None

    @classmethod
    def from_matrix(
        cls, matrix: np.ndarray, expected_draws: np.ndarray, signal: str = "train"
    ) -> WindowStats:
        """From a ``[K, 4]`` array with columns (nats, bytes, tokens, sequences) and E[n_i]."""
        m = np.asarray(matrix, dtype=np.float64)
        expected = np.asarray(expected_draws, dtype=np.float64)
        return cls(m[:, 0], m[:, 1], m[:, 2], m[:, 3], expected_draws=expected, signal=signal)

    @classmethod
    def from_documents(
        cls, documents: np.ndarray, document_language: np.ndarray, draws: np.ndarray
    ) -> WindowStats:
        """A dev evaluation from per-document sums ``[D, 4]`` (nats, bytes, tokens, windows),
        the language of each document ``[D]`` and the training draws since the last one
        ``[K, 2]`` (n_i, E[n_i]).

        ℓ_i = Σ_d nats_d / Σ_d bytes_d over language i's D_i documents, a ratio estimator whose
        standard error, with documents as the sampled units (Cochran 1977, §6.3), is

            se(ℓ_i)² = D_i / (D_i − 1) · Σ_d (nats_d − ℓ_i·bytes_d)² / (Σ_d bytes_d)²

        and s_i = se(ℓ_i) / ℓ_i (:func:`ratio_relative_se`).
        """
        docs = np.asarray(documents, dtype=np.float64)
        lang = np.asarray(document_language, dtype=np.int64)
        k = len(draws)
        sums = np.zeros((k, docs.shape[1]))
        np.add.at(sums, lang, docs)
        relative_se = np.array(
            [ratio_relative_se(docs[lang == i, 0], docs[lang == i, 1]) for i in range(k)]
        )
        return cls(
            nats=sums[:, 0],
            bytes=sums[:, 1],
            tokens=sums[:, 2],
            sequences=np.asarray(draws[:, 0], dtype=np.float64),
            expected_draws=np.asarray(draws[:, 1], dtype=np.float64),
            signal="dev",
            relative_se=relative_se,
        )

    @property
    def full_information(self) -> bool:
        """Every language's loss observed whatever π drew (the dev signal)."""
        return self.signal == "dev"

    def nats_per_byte(self) -> np.ndarray:
        """ℓ_i = Σ NLL / Σ bytes (nan for a language absent from the window)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.bytes > 0, self.nats / self.bytes, np.nan)


def ratio_relative_se(nats: np.ndarray, sizes: np.ndarray) -> float:
    """s = se(ℓ) / ℓ of ℓ = Σ_d nats_d / Σ_d bytes_d, documents the sampled units (Cochran 1977,
    §6.3; see :meth:`WindowStats.from_documents`). Documents without bytes (no window scored) do
    not count; infinite with fewer than two documents: nothing to go by."""
    scored = np.asarray(sizes, dtype=np.float64) > 0
    nats = np.asarray(nats, dtype=np.float64)[scored]
    sizes = np.asarray(sizes, dtype=np.float64)[scored]
    n, b = len(sizes), sizes.sum()
    if n < 2 or b <= 0 or nats.sum() <= 0:
        return math.inf
    loss = nats.sum() / b
    residual = nats - loss * sizes
    return float(np.sqrt(n / (n - 1) * (residual**2).sum()) / b / loss)


class Mixer(ABC):
    """Owns π over ``languages``; adaptive mixers change it in :meth:`update`."""

    adaptive: bool = False  # π changes during the run
    uses_reward: bool = False  # learns from the ``reward`` group (whose tag then names the run)
    uses_prior: bool = False  # starts from or is the typological prior P⁰
    prior_report: dict | None = None  # P⁰ and its inputs (``prior.json``) where it uses P⁰
    floor: float | None = None  # the least π_i it guarantees each language (γ/K for EXP3)
    signals: tuple[str, ...] = ("train", "dev")  # the losses it can learn from (signal=...)

    def __init__(self, languages: tuple[str, ...] | list[str]) -> None:
        self.languages = tuple(languages)

    @property
    def k(self) -> int:
        return len(self.languages)

    @abstractmethod
    def probs(self) -> np.ndarray:
        """π: a probability vector over ``languages``."""

    def update(self, step: int, stats: WindowStats) -> dict[str, float]:
        """Consume one window's statistics; return the values to log for this update."""
        return {}

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (a stateless mixer accepts only ``{}``)."""
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state, got keys {sorted(state)}")

    def check_signal(self, signal: str) -> None:
        """Refuse a signal this mixer cannot learn from, naming the ones it can."""
        if self.adaptive and signal not in self.signals:
            raise ConfigError(
                f"{type(self).__name__} learns from the {' or '.join(self.signals)} signal as "
                f"published; use signal={self.signals[0]} (got signal={signal})."
            )

    def check_state_languages(self, state: Mapping) -> None:
        """A saved state belongs to these languages, in this order."""
        if tuple(state["languages"]) != self.languages:
            raise ValueError(
                f"mixer state is for languages {state['languages']}, this run has {self.languages}"
            )


@dataclass
class StaticMixer(Mixer):
    """A fixed π (uniform, natural, temperature, UniMax, prior)."""

    languages: tuple[str, ...]
    pi: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        self.languages = tuple(self.languages)
        pi = np.asarray(self.pi, dtype=np.float64)
        if pi.shape != (len(self.languages),) or np.any(pi < 0) or not pi.sum() > 0:
            raise ValueError(f"a static π needs one non-negative weight per language, got {pi}")
        self.pi = pi / pi.sum()

    def probs(self) -> np.ndarray:
        return self.pi.copy()
