"""Online Data Mixing (ODM; Albalak et al. 2023) as in the official code.

Source: alon-albalak/online-data-mixing, ``megatron/data/data_sampling_utils.py``, the
``group_update`` of ``Exp3WeightUpdater`` (``variant=exp3``, ``method=odm``) and of
``SmoothedMeanWeightUpdater`` (``variant=smoothed_mean``, ``method=odm_smoothed``, the updater
the repository's README names as the paper's method) and ``NaiveValidationWeightUpdater.update``
(``variant=validation``, ``method=odm_validation``, on the dev signal), called by ``train_mixed_minibatch``
(``megatron/training.py``) after every iteration through ``DynamicDataSamplingWeight``, whose
``UpdateScheduler`` updates at iteration s when s > warm-up and s % frequency == 0.

At an update at step s (the training iteration, counted from 1), for the languages present in
the batch, with ℓ_i their mean loss and p_i their probability in force, K languages:

    ε' = ε;  ε = min(1/K, √(ln K / (K·s)))          (ε = 1/K before the first update)
    exp3:           R_i ← R_i + (ℓ_i / 10) / p_i       ("scale down reward", the official /10)
                    π_i = (1 − K·ε)·exp(ε'·R_i) / Σ_j exp(ε'·R_j) + ε
    smoothed_mean:  R_i ← 0.9·R_i + 0.1·exp(ℓ_i)       (no importance weight)
                    π_i = (1 − K·ε)·R_i / Σ_j R_j + ε  (group_update's linear normalisation)
    validation:     R_i ← R_i + (ℓ_i − min_j ℓ_j) / (max_j ℓ_j − min_j ℓ_j)   (every language)
                    π_i = (1 − K·ε)·exp(ε'·R_i) / Σ_j exp(ε'·R_j) + ε

then π is renormalised. Steps without an update change nothing (the official scheduler drops
their batches). The initial weights (``init=natural``: natural shares) are π until the first
update.

One mixer update corresponds to one official ``group_update(iteration=s)``: its batch is the
window's sequences, i.e. exactly one step's batch when ``method.update_interval = 1`` (the
default of both configs). With a window of W > 1 steps the W·B sequences of the window form
the batch of that one call (the official code would only see step s's batch). p_i is the π
actually in force over the window, E[n_i] / Σ_j E[n_j] (= the mixer's π unless the epoch cap
removed a language). The loss is the mean next-token NLL in nats per token (``loss=token``,
the official ``lm_loss``) or, with ``loss=byte``, nats per English-equivalent byte (ℓ·BP_i).

``variant=validation`` learns from the dev signal only (``signal=dev``): ℓ_i is the loss of the
whole fixed dev set of language i, scored every ``signal.every`` steps, where the official code
scores the next batch of a cycling validation loader per domain at every update; that is the one
departure. ``exp3`` and ``smoothed_mean`` learn from the training batch only (``signal=train``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from taam.mixer.base import MixContext, Mixer, WindowStats
from taam.mixer.exp3 import at_floor, initial_log_weights, softmax

VARIANTS = ("exp3", "smoothed_mean", "validation")
LOSSES = ("token", "byte")


def odm_epsilon(t: int, k: int) -> float:
    """ε_t = min(1/K, √(ln K / (K·t))); 1/K for t < 1 (before any update)."""
    if t < 1:
        return 1.0 / k
    return min(1.0 / k, math.sqrt(math.log(k) / (k * t)))


def window_loss(stats: WindowStats, loss: str, byte_premium: np.ndarray) -> np.ndarray:
    """Per language: nats per token (``token``) or per English-equivalent byte (``byte``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if loss == "token":
            return np.where(stats.tokens > 0, stats.nats / stats.tokens, np.nan)
        return stats.nats_per_byte() * byte_premium


def min_max_normalised(loss: np.ndarray) -> np.ndarray:
    """(ℓ_i − min_j ℓ_j) / (max_j ℓ_j − min_j ℓ_j); the official code divides by zero when all
    losses are equal, here every language then gains 0 (π unchanged by the step)."""
    spread = loss.max() - loss.min()
    return (loss - loss.min()) / spread if spread > 0 else np.zeros_like(loss)


def in_force(stats: WindowStats) -> np.ndarray:
    """The π in force over the window: E[n_i] / Σ_j E[n_j]."""
    expected = np.asarray(stats.expected_draws, dtype=np.float64)
    return expected / expected.sum()


class OdmMixer(Mixer):
    """ODM: EXP3 (or the smoothed mean) over languages with the official ε schedule."""

    adaptive = True

    def __init__(
        self,
        languages: tuple[str, ...] | list[str],
        byte_premium: np.ndarray,
        init_weights: np.ndarray | None = None,
        variant: str = "exp3",
        warmup_steps: int = 0,
        update_frequency: int = 1,
        reward_scale: float = 0.1,
        smoothing_factor: float = 0.9,
        loss: str = "token",
    ) -> None:
        super().__init__(languages)
        if variant not in VARIANTS:
            raise ValueError(f"unknown ODM variant '{variant}'; use {' or '.join(VARIANTS)}")
        if loss not in LOSSES:
            raise ValueError(f"unknown ODM loss '{loss}'; use {' or '.join(LOSSES)}")
        if update_frequency < 1 or warmup_steps < 0:
            raise ValueError(
                f"need update_frequency ≥ 1 and warmup_steps ≥ 0, got {update_frequency}, "
                f"{warmup_steps}"
            )
        if not 0 <= smoothing_factor < 1 or reward_scale <= 0:
            raise ValueError(
                f"need 0 ≤ smoothing_factor < 1 and reward_scale > 0, got {smoothing_factor}, "
                f"{reward_scale}"
            )
        self.variant, self.loss = variant, loss
        self.signals = ("dev",) if variant == "validation" else ("train",)
        self.byte_premium = np.asarray(byte_premium, dtype=np.float64)
        self.warmup_steps, self.update_frequency = warmup_steps, update_frequency
        self.reward_scale, self.smoothing_factor = reward_scale, smoothing_factor
        init = np.zeros(self.k) if init_weights is None else np.asarray(init_weights, float)
        self.pi = softmax(init)  # the official _probabilities: the initial weights, normalised
        self.estimate = np.zeros(self.k)  # R: cumulative (exp3) or smoothed (smoothed_mean)
        self.eps = 1.0 / self.k
        self.updates = 0

    @classmethod
    def from_context(cls, context: MixContext, init: str = "natural", **params) -> OdmMixer:
        """Hydra ``_partial_`` target: ``init`` uniform or natural sets the π before any update."""
        w, _ = initial_log_weights(context, init, None)
        return cls(context.languages, context.byte_premium, w, **params)

    @property
    def floor(self) -> float:
        """ε of the last update: the least π_i (1/K before any update)."""
        return self.eps

    def probs(self) -> np.ndarray:
        return self.pi.copy()

    def requires_update(self, step: int) -> bool:
        """The official ``UpdateScheduler.requires_update``."""
        return step > self.warmup_steps and step % self.update_frequency == 0

    def update(self, step: int, stats: WindowStats) -> dict[str, float]:
        loss = window_loss(stats, self.loss, self.byte_premium)
        present = (np.asarray(stats.sequences) > 0) & np.isfinite(loss)
        gained = np.full(self.k, np.nan)
        if self.requires_update(step):
            prev_eps, self.eps = self.eps, odm_epsilon(step, self.k)
            if self.variant in ("exp3", "validation"):
                if self.variant == "exp3":
                    p = in_force(stats)
                    gained[present] = loss[present] * self.reward_scale / p[present]
                else:
                    gained[present] = min_max_normalised(loss[present])
                self.estimate = np.where(
                    present, self.estimate + np.nan_to_num(gained), self.estimate
                )
                # exp(ε'·R_i) / Σ_j exp(ε'·R_j), shifted: the same value without overflow
                share = softmax(prev_eps * self.estimate)
            else:
                gained[present] = np.exp(loss[present])
                a = self.smoothing_factor
                smoothed = a * self.estimate + (1 - a) * np.nan_to_num(gained)
                self.estimate = np.where(present, smoothed, self.estimate)
                total = np.sum(prev_eps * self.estimate)
                share = (
                    prev_eps * self.estimate / total if total > 0 else np.full(self.k, 1 / self.k)
                )
            weights = share * (1 - self.k * self.eps) + self.eps
            self.pi = weights / weights.sum()
            self.updates += 1
        return self.record(loss, gained)

    def record(self, loss: np.ndarray, gained: np.ndarray) -> dict[str, float]:
        """π, the loss (raw reward), what it added to R (reward), R, at-floor flags."""
        floor = at_floor(self.pi, self.eps)
        row: dict[str, float] = {}
        for i, lang in enumerate(self.languages):
            row[f"pi_{lang}"] = float(self.pi[i])
            row[f"reward_raw_{lang}"] = float(loss[i])
            row[f"reward_{lang}"] = float(gained[i])
            # ODM smooths no loss: its R is the running sum (exp3) or EMA (smoothed_mean) of the
            # reward column, so mixer.csv keeps it without a column in another unit.
            row[f"loss_smoothed_nats_per_eng_byte_{lang}"] = math.nan
            row[f"at_floor_{lang}"] = int(floor[i])
        return row

    def state_dict(self) -> dict:
        return {
            "languages": list(self.languages),
            "pi": self.pi.tolist(),
            "estimate": self.estimate.tolist(),
            "eps": self.eps,
            "updates": self.updates,
        }

    def load_state_dict(self, state: Mapping) -> None:
        self.check_state_languages(state)
        self.pi = np.array(state["pi"], dtype=np.float64)
        self.estimate = np.array(state["estimate"], dtype=np.float64)
        self.eps = float(state["eps"])
        self.updates = int(state["updates"])
