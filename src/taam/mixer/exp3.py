"""EXP3 over languages (the adaptive methods ``exp3`` and ``pstar``).

Log-weights w give the policy

    π = (1 − γ)·softmax(w) + γ/K                 no language falls below the floor γ/K

With the training signal, each update window, language i drew n_i sequences, E[n_i] = Σ_t B·π_t,i expected under the
π in force at each step (after the epoch cap). Its loss ℓ_i = nats_i / bytes_i × BP_i (nats
per English-equivalent byte) is smoothed, ℓ̃_i ← β·ℓ̃_i + (1 − β)·ℓ_i, the reward turns ℓ̃
into r_i, and

    r̂_i = r_i · n_i / E[n_i]   (0 if n_i = 0 or E[n_i] = 0)   (Auer et al. 2002)
    w_i ← (1 − λ)·w_i + λ·a_i + η·r̂_i

E[r̂_i] = r_i only when r_i does not itself depend on n_i; the rewards here do (through ℓ̃,
and v1 per sequence through the rescaling of drop/n_i), so r̂ is an importance-weighted reward,
not a proven unbiased estimate (docs/mixer.md, "Policies"). With the dev signal the loss is the
dev set's, scored for every language, and r̂ = r (full information, Hedge).

λ = 0 is EXP3. λ > 0 is a KL-regularised (mirror-descent) step towards the anchor a: for a
constant reward its fixed point is w = a + (η/λ)·r, i.e. π = (1 − γ)·softmax(a + κ·r) + γ/K
with κ = η/λ (effective tilt (1 − γ)·κ near uniform), so a level reward that never closes (v2)
moves π by a bounded amount instead of to a corner. ``anchor=init``: a = the initial
log-weights (log P⁰ for pstar, so π ∝ P⁰·exp(κ·r)); ``anchor=uniform``: a = 0, so the start
(P⁰) is forgotten at rate λ and identical languages end at 1/K. Optional Exp3.S weight sharing
with α (Graves et al. 2017) follows. The EMA of the loss lives here, in the mixer; rewards only
read ℓ̃ before and after the window.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from taam.mixer.base import MixContext, Mixer, WindowStats
from taam.mixer.prior import typological_prior
from taam.mixer.rewards import Reward

# π_i counts as "at the floor" when π_i ≤ (1 + FLOOR_TOLERANCE)·γ/K: its adaptive share
# (1 − γ)·softmax(w)_i is then under a tenth of the floor itself, i.e. the policy has
# given up on the language and only exploration still draws it.
FLOOR_TOLERANCE = 0.1


def at_floor(pi: np.ndarray, floor: float, tolerance: float = FLOOR_TOLERANCE) -> np.ndarray:
    """π_i ≤ (1 + tolerance)·floor, per language."""
    return np.asarray(pi) <= floor * (1.0 + tolerance)


def softmax(w: np.ndarray) -> np.ndarray:
    e = np.exp(w - w.max())
    return e / e.sum()


def initial_log_weights(
    context: MixContext, init: str, prior: Mapping | None
) -> tuple[np.ndarray, dict | None]:
    """w at start: 0 (uniform), log natural shares (natural) or log P⁰ (prior); plus its report."""
    if init == "uniform":
        return np.zeros(context.k), None
    if init == "natural":
        tokens = np.asarray(context.unique_tokens, dtype=np.float64)
        if np.any(tokens <= 0):
            raise ValueError(f"init=natural needs unique tokens > 0 per language, got {tokens}")
        return np.log(tokens / tokens.sum()), None
    if init == "prior":
        p = typological_prior(context.languages, **(prior or {}), cache_dir=context.cache_dir)
        return np.log(p.p0), p.report()
    raise ValueError(f"unknown init '{init}'; use uniform, natural or prior")


class Exp3Mixer(Mixer):
    """EXP3 with a structural floor γ/K, importance-weighted rewards and optional Exp3.S."""

    adaptive = True
    uses_reward = True

    def __init__(
        self,
        languages: tuple[str, ...] | list[str],
        reward: Reward,
        byte_premium: np.ndarray,
        init_weights: np.ndarray | None = None,
        gamma: float = 0.1,
        eta: float = 0.2,
        lam: float = 0.0,
        anchor: str = "init",
        beta: float = 0.9,
        alpha: float = 0.0,
        warmup_steps: int = 0,
        prior_report: dict | None = None,
    ) -> None:
        super().__init__(languages)
        if not 0 < gamma <= 1:
            raise ValueError(f"γ must lie in (0, 1], got {gamma}")
        if not 0 <= beta < 1 or not 0 <= alpha < 1 or eta < 0 or not 0 <= lam < 1:
            raise ValueError(
                f"need 0 ≤ β < 1, 0 ≤ α < 1, η ≥ 0 and 0 ≤ λ < 1, got {beta}, {alpha}, {eta}, {lam}"
            )
        self.reward = reward
        self.byte_premium = np.asarray(byte_premium, dtype=np.float64)
        self.gamma, self.eta, self.lam, self.beta, self.alpha = gamma, eta, lam, beta, alpha
        self.warmup_steps = warmup_steps
        if anchor not in ("init", "uniform"):
            raise ValueError(f"unknown anchor '{anchor}'; use init or uniform")
        init = np.zeros(self.k) if init_weights is None else init_weights
        self.w = np.array(init, dtype=np.float64)
        # a: where the λ step pulls w (the initial weights, or 0 = uniform)
        self.w0 = self.w.copy() if anchor == "init" else np.zeros(self.k)
        self.loss = np.full(self.k, np.nan)  # ℓ̃, NaN until a language is first seen
        self.updates = 0
        self.prior_report = prior_report
        self.uses_prior = prior_report is not None

    @classmethod
    def from_context(
        cls,
        context: MixContext,
        reward: Reward,
        init: str = "uniform",
        prior: Mapping | None = None,
        **params,
    ) -> Exp3Mixer:
        """Hydra ``_partial_`` target: ``init`` is uniform, natural or prior (P⁰ from ``prior``)."""
        w, report = initial_log_weights(context, init, prior)
        return cls(
            context.languages, reward, context.byte_premium, w, prior_report=report, **params
        )

    def exploration(self) -> float:
        """γ for the coming window (constant for EXP3)."""
        return self.gamma

    @property
    def floor(self) -> float:
        """The structural floor γ/K."""
        return self.exploration() / self.k

    def probs(self) -> np.ndarray:
        """π = (1 − γ)·softmax(w) + γ/K."""
        gamma = self.exploration()
        return (1.0 - gamma) * softmax(self.w) + gamma / self.k

    def smooth(self, stats: WindowStats) -> np.ndarray:
        """ℓ̃_i ← β·ℓ̃_i + (1 − β)·ℓ_i·BP_i (first time: ℓ̃_i = ℓ_i·BP_i); return who was seen."""
        loss = stats.nats_per_byte() * self.byte_premium
        seen = np.isfinite(loss)
        ema = np.where(np.isnan(self.loss), loss, self.beta * self.loss + (1 - self.beta) * loss)
        self.loss = np.where(seen, ema, self.loss)
        return seen

    @staticmethod
    def importance_weighted(
        r: np.ndarray, sequences: np.ndarray, expected_draws: np.ndarray
    ) -> np.ndarray:
        """r̂_i = r_i · n_i / E[n_i]; 0 where n_i = 0, E[n_i] = 0 (capped) or r_i is undefined.

        Only for the bandit's feedback (the training signal): with the dev signal every r_i is
        observed and the policy steps on r itself (Hedge's full-information update).
        """
        n = np.asarray(sequences, dtype=np.float64)
        expected = np.asarray(expected_draws, dtype=np.float64)
        ok = (n > 0) & (expected > 0) & np.isfinite(r)
        return np.where(ok, np.nan_to_num(r) * n / np.where(ok, expected, 1.0), 0.0)

    def learn(self, r_hat: np.ndarray) -> None:
        """w ← (1 − λ)·w + λ·a + η·r̂ (a = ``self.w0``), then Exp3.S sharing (α).

        Sharing: e^{w_i} ← (1−α)e^{w_i} + α/(K−1)·Σ_{j≠i} e^{w_j}.
        """
        w = (1 - self.lam) * self.w + self.lam * self.w0 + self.eta * r_hat
        if self.alpha > 0 and self.k > 1:
            top = w.max()
            e = np.exp(w - top)  # shifted so the sum cannot overflow
            w = top + np.log((1 - self.alpha) * e + self.alpha / (self.k - 1) * (e.sum() - e))
        self.w = w

    def update(self, step: int, stats: WindowStats) -> dict[str, float]:
        """Smooth the losses, score them, move w (after warm-up); return the mixer.csv record."""
        before = self.loss.copy()
        self.smooth(stats)
        raw, r = self.reward(before, self.loss, stats.sequences, stats.relative_se)
        if step >= self.warmup_steps:
            if stats.full_information:
                r_hat = np.nan_to_num(r)  # 0 for a language the reward cannot score yet
            else:
                r_hat = self.importance_weighted(r, stats.sequences, stats.expected_draws)
            self.learn(r_hat)
        self.updates += 1
        return self.record(raw, r)

    def record(self, raw: np.ndarray, r: np.ndarray) -> dict[str, float]:
        """Per language: π after the update, raw and rescaled reward, ℓ̃, at-floor flag (1/0)."""
        pi = self.probs()
        floor = at_floor(pi, self.floor)
        row: dict[str, float] = {}
        for i, lang in enumerate(self.languages):
            row[f"pi_{lang}"] = float(pi[i])
            row[f"reward_raw_{lang}"] = float(raw[i])
            row[f"reward_{lang}"] = float(r[i])
            row[f"loss_smoothed_nats_per_eng_byte_{lang}"] = float(self.loss[i])
            row[f"at_floor_{lang}"] = int(floor[i])
        return row

    def state_dict(self) -> dict:
        """Plain Python values (NaN as None), so torch.save and JSON both round-trip exactly."""
        return {
            "languages": list(self.languages),
            "w": self.w.tolist(),
            "w0": self.w0.tolist(),
            "loss": _nan_to_none(self.loss),
            "updates": self.updates,
            "reward": self.reward.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.check_state_languages(state)
        self.w = np.array(state["w"], dtype=np.float64)
        self.w0 = np.array(state["w0"], dtype=np.float64)
        self.loss = _none_to_nan(state["loss"])
        self.updates = int(state["updates"])
        self.reward.load_state_dict(state["reward"])


def _nan_to_none(x: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else v for v in x.tolist()]


def _none_to_nan(x: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in x], dtype=np.float64)
