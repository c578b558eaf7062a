"""DoReMi (Xie et al. 2023, Algorithm 1) against a reference run, and its published weights.

Source: sangmichaelxie/doremi, ``doremi/trainer.py``, ``DoReMiTrainer.update_domain_weights``
(``doremi_optimizer=doremiv1``) and ``write_weights``; initial buffers in ``doremi/train.py``.
At every update, with λ_i the excess loss of domain i over the reference model,

    λ_i = max(ℓ_i − ℓ_i^ref, 0)            (a domain absent from the batch keeps its last λ_i,
                                             ln |V| before it has one, as the official buffer)
    log α' = log α + η·λ,  α' ← α' / Σ α'   (η = 1)
    α = (1 − c)·α' + c/K                    (c = 1e-3, the paper; the code's default is 1e-4)
    ᾱ = mean of α over the initial weights and every update (``avg_domain_weights``)

ᾱ is the published result: a second, static run trains on it (``method=fixed``; print the
override with ``python -m taam.mixer.doremi <doremi run dir>``).

Departures (docs/mixer.md): the reference is the project's own uniform run of the same seed and
data, not a separately trained small reference model, and the proxy is the model being trained
(no proxy/main size split at this scale); ℓ is the training loss of the window, in nats per
English-equivalent byte, and ℓ^ref the reference run's logged loss of its window ending at the
same step (metrics.csv ``bpb_<lang>``); the excess is clipped per window mean, not per token
(the reference run's per-token losses are not logged); α is the sampling distribution instead
of the weights of a reweighted loss.
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from taam.mixer.base import MixContext, Mixer, WindowStats


class ReferenceLosses:
    """ℓ^ref per step of a finished reference run: nats per English-equivalent byte."""

    def __init__(self, run_dir: str | Path, languages: tuple[str, ...], byte_premium) -> None:
        self.run_dir = Path(run_dir)
        metrics = self.run_dir / "metrics.csv"
        config = self.run_dir / "config.yaml"
        if not metrics.is_file() or not config.is_file():
            raise FileNotFoundError(
                f"DoReMi's reference run {self.run_dir} has no metrics.csv and config.yaml; train "
                f"it first (the uniform run of the same seed and data), then set "
                f"method.mixer.reference_run to its run directory."
            )
        cfg = OmegaConf.load(config)
        self.update_interval = int(cfg.method.update_interval)
        self.vocab_size = int(cfg.data.tokenizer.vocab_size)
        missing = [lang for lang in languages if lang not in cfg.data.languages]
        if missing:
            raise ValueError(f"the reference run {self.run_dir} has no data for {missing}")
        bp = np.asarray(byte_premium, dtype=np.float64)
        self.by_step: dict[int, np.ndarray] = {}
        with metrics.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                values = [row.get(f"bpb_{lang}") or "" for lang in languages]
                if not any(values):
                    continue  # a row of other metrics (evaluation, …)
                bpb = np.array([float(v) if v else np.nan for v in values])
                self.by_step[int(float(row["step"]))] = bpb * math.log(2) * bp

    def at(self, step: int) -> np.ndarray:
        if step not in self.by_step:
            raise ValueError(
                f"the reference run {self.run_dir} logged no window ending at step {step}; "
                f"DoReMi needs the reference's method.update_interval ({self.update_interval}) "
                f"and at least as many steps."
            )
        return self.by_step[step]


class DoremiMixer(Mixer):
    """π = α, DoReMi's domain weights, updated on the excess loss over a reference run."""

    adaptive = True
    signals = ("train",)  # the reference run logs training losses only

    def __init__(
        self,
        languages: tuple[str, ...] | list[str],
        byte_premium: np.ndarray,
        reference: ReferenceLosses | Mapping[int, np.ndarray],
        eta: float = 1.0,
        smoothing: float = 1e-3,
        initial_score: float = 0.0,
    ) -> None:
        super().__init__(languages)
        if eta <= 0 or not 0 <= smoothing <= 1:
            raise ValueError(f"need η > 0 and 0 ≤ c ≤ 1, got {eta}, {smoothing}")
        self.byte_premium = np.asarray(byte_premium, dtype=np.float64)
        self.reference = reference
        self.eta, self.smoothing = eta, smoothing
        self.alpha = np.full(self.k, 1.0 / self.k)
        self.scores = np.full(self.k, float(initial_score))  # the official perdomain_scores
        self.average = self.alpha.copy()  # avg_domain_weights, over update_counter weights
        self.counter = 1

    @classmethod
    def from_context(
        cls,
        context: MixContext,
        reference_run: str | None = None,
        update_interval: int | None = None,
        **params,
    ) -> DoremiMixer:
        """Hydra ``_partial_`` target; the initial score is ln |V| of the reference's tokenizer.
        ``update_interval``: this run's window, which must be the reference's (a shorter
        reference window has rows at every step of ours too, with the loss of a shorter window)."""
        if not reference_run:
            raise ValueError(
                "method=doremi needs method.mixer.reference_run=<run dir of the uniform run of "
                "the same seed and data>"
            )
        reference = ReferenceLosses(reference_run, context.languages, context.byte_premium)
        if update_interval is not None and int(update_interval) != reference.update_interval:
            raise ValueError(
                f"method.update_interval={update_interval}, but the reference run "
                f"{reference.run_dir} logged windows of {reference.update_interval} steps; the "
                f"excess loss compares windows of the same length: set "
                f"method.update_interval={reference.update_interval} or train a reference with "
                f"{update_interval}."
            )
        params.setdefault("initial_score", math.log(reference.vocab_size))
        return cls(context.languages, context.byte_premium, reference, **params)

    @property
    def floor(self) -> float:
        """c/K: the smoothing towards uniform keeps every α_i above it."""
        return self.smoothing / self.k

    def probs(self) -> np.ndarray:
        return self.alpha.copy()

    def reference_at(self, step: int) -> np.ndarray:
        if isinstance(self.reference, ReferenceLosses):
            return self.reference.at(step)
        return np.asarray(self.reference[step], dtype=np.float64)

    def update(self, step: int, stats: WindowStats) -> dict[str, float]:
        loss = stats.nats_per_byte() * self.byte_premium
        reference = self.reference_at(step)
        ok = (np.asarray(stats.sequences) > 0) & np.isfinite(loss) & np.isfinite(reference)
        excess = np.where(ok, np.maximum(np.nan_to_num(loss - reference), 0.0), np.nan)
        self.scores = np.where(ok, excess, self.scores)
        log_alpha = np.log(self.alpha) + self.eta * self.scores
        log_alpha -= log_alpha.max() + np.log(np.exp(log_alpha - log_alpha.max()).sum())
        self.alpha = (1 - self.smoothing) * np.exp(log_alpha) + self.smoothing / self.k
        self.counter += 1
        self.average = (self.average * (self.counter - 1) + self.alpha) / self.counter
        row: dict[str, float] = {}
        for i, lang in enumerate(self.languages):
            row[f"pi_{lang}"] = float(self.alpha[i])
            row[f"reward_raw_{lang}"] = float(loss[i] - reference[i])
            row[f"reward_{lang}"] = float(self.scores[i])
            row[f"loss_smoothed_nats_per_eng_byte_{lang}"] = float(loss[i])
            row[f"at_floor_{lang}"] = int(self.alpha[i] <= 1.1 * self.floor)
        return row

    def published_weights(self) -> dict[str, float]:
        """ᾱ: the weights DoReMi publishes for the second, static run."""
        return dict(zip(self.languages, self.average.tolist(), strict=True))

    def state_dict(self) -> dict:
        return {
            "languages": list(self.languages),
            "alpha": self.alpha.tolist(),
            "scores": self.scores.tolist(),
            "average": self.average.tolist(),
            "counter": self.counter,
        }

    def load_state_dict(self, state: Mapping) -> None:
        self.check_state_languages(state)
        self.alpha = np.array(state["alpha"], dtype=np.float64)
        self.scores = np.array(state["scores"], dtype=np.float64)
        self.average = np.array(state["average"], dtype=np.float64)
        self.counter = int(state["counter"])


def published_weights(run_dir: str | Path) -> dict[str, float]:
    """ᾱ of a finished DoReMi run from its mixer.csv: (α_0 + Σ_t α_t) / (1 + updates), α_0 uniform.

    The same average the mixer keeps (``avg_domain_weights``), read back from the π logged after
    each update.
    """
    path = Path(run_dir) / "mixer.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path} has no mixer updates")
    languages = [c[len("pi_") :] for c in rows[0] if c.startswith("pi_")]
    pis = np.array([[float(r[f"pi_{lang}"]) for lang in languages] for r in rows])
    average = (1.0 / len(languages) + pis.sum(axis=0)) / (1 + len(pis))
    return dict(zip(languages, average.tolist(), strict=True))


def fixed_override(weights: Mapping[str, float]) -> str:
    """The train.py override that trains on ``weights`` (``method=fixed``)."""
    inner = ",".join(f"{lang}:{w:.6f}" for lang, w in weights.items())
    return f"method=fixed 'method.mixer.weights={{{inner}}}' method.name=DoReMi-final"


if __name__ == "__main__":  # python -m taam.mixer.doremi <doremi run dir>
    if len(sys.argv) != 2:
        sys.exit("usage: python -m taam.mixer.doremi <doremi run dir>")
    print(fixed_override(published_weights(sys.argv[1])))
