"""Minimax at the horizon (``method=horizon``): π for the rest of the run chosen from forecast
learning curves, so that the language that will lag at the end gets the data now.

A mixer that steers by today's lag (v2, Group DRO) fails where the lags cross: a language that
learns slowly but starts ahead gets less data early and ends behind. This one forecasts. Per
language, a power law in its own exposure n_i (sequences drawn so far),

    ℓ_i(n) = A_i·n^(−ρ_i)                           (log ℓ = log A_i − ρ_i·log n, least squares)

is fitted to its recent losses on the signal (the last ``window`` share of them, at least
``points``; dev: every language at each dev evaluation). A forecast lag the evidence cannot tell
from noise is shrunk away (``margin``, :meth:`HorizonMixer.evidence_scales`). With R sequences
still to draw and the floor f = s/K (``floor_share`` s: the share of uniform every language
keeps), the policy solves

    min_π max_i ℓ̂_i(n_i + π_i·R)   s.t.  Σ_i π_i = 1,  f ≤ π_i ≤ u_i

(u_i: what the epoch cap leaves), whose solution equalises the forecast end losses where the
bounds allow: π_i(λ) = clip((N_i(λ) − n_i)/R, f, u_i), N_i(λ) = (A_i/λ)^(1/ρ_i), with the
level λ found by bisection so that Σ π_i(λ) = 1. π then moves a share ``rate`` of the way to
that solution at each update: π ← (1 − rate)·π + rate·π*.

This is not a published method (docs/mixer.md, "A mixer that forecasts"): the minimax objective
of Group DRO (Sagawa et al. 2020) solved on a power law in each language's own data (the form
of Kaplan et al. 2020 and Hoffmann et al. 2022), fitted online from the run's dev losses rather
than from pilot runs. A pure power law (no asymptote) is fitted because a three-parameter curve
is not identifiable from a handful of noisy points; over the recent points ρ_i is the local
elasticity −d log ℓ / d log n.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from taam.errors import ConfigError
from taam.mixer.base import MixContext, Mixer, WindowStats
from taam.mixer.exp3 import at_floor

# The least elasticity a fit may report: a flat or rising curve (noise) is taken as one that
# barely improves, so the language needs a very large exposure to move, not a negative one.
MIN_ELASTICITY = 1e-3


@dataclass(frozen=True)
class PowerLawFit:
    """ℓ = A·n^(−ρ) fitted by least squares on log ℓ against log n, with what its forecast's
    standard error needs: the points' mean log n, Σ(log n − mean)², their count and the
    residual sd s of log ℓ."""

    scale: float  # A
    rho: float  # ρ ≥ MIN_ELASTICITY
    centre: float
    spread: float
    count: int
    residual_sd: float

    def log_se(self, n: np.ndarray | float) -> np.ndarray:
        """se of the fitted mean log ℓ at exposure n (the curve's uncertainty, not a new
        observation's prediction interval): s·√(1/m + (log n − x̄)²/Σ(x − x̄)²)."""
        lever = (np.log(n) - self.centre) ** 2 / self.spread if self.spread > 0 else np.inf
        return self.residual_sd * np.sqrt(1.0 / self.count + lever)


def fit_power_law(exposure: np.ndarray, loss: np.ndarray) -> PowerLawFit:
    """Least squares of log ℓ = log A − ρ·log n (at least three points); ρ clipped at
    MIN_ELASTICITY."""
    if len(exposure) < 3:
        raise ValueError(
            f"a power law and its residual need at least 3 points, got {len(exposure)}"
        )
    x, y = np.log(exposure), np.log(loss)
    dx = x - x.mean()
    spread = float((dx**2).sum())
    slope = float((dx * (y - y.mean())).sum() / spread) if spread > 0 else 0.0
    rho = max(-slope, MIN_ELASTICITY)
    # with ρ clipped the line still passes through the points' centre of mass
    log_scale = float(y.mean() + rho * x.mean())
    residual = y - (log_scale - rho * x)
    dof = len(x) - 2  # callers fit at least three points
    return PowerLawFit(
        scale=float(np.exp(log_scale)),
        rho=rho,
        centre=float(x.mean()),
        spread=spread,
        count=len(x),
        residual_sd=float(np.sqrt((residual**2).sum() / dof)),
    )


def minimax_allocation(
    scale: np.ndarray,
    rho: np.ndarray,
    seen: np.ndarray,
    remaining: float,
    floor: float,
    upper: np.ndarray,
    iterations: int = 200,
) -> np.ndarray:
    """π minimising max_i A_i·(n_i + π_i·R)^(−ρ_i) on {Σπ = 1, floor ≤ π_i ≤ u_i}.

    Σ_i π_i(λ) falls as the level λ rises, so bisection on log λ finds Σ = 1. Where even the
    upper bounds sum below 1 (every language near its cap) the bounds are returned rescaled.
    """
    upper = np.maximum(upper, floor)
    if upper.sum() <= 1.0:
        return upper / upper.sum()

    def shares(log_level: float) -> np.ndarray:
        needed = np.exp((np.log(scale) - log_level) / rho)  # N_i(λ) = (A_i/λ)^(1/ρ_i)
        return np.clip((needed - seen) / remaining, floor, upper)

    end_all = scale * (seen + remaining) ** -rho  # every sequence to one language: its best
    start = scale * np.maximum(seen, 1.0) ** -rho  # no more sequences: its worst
    lo, hi = np.log(end_all.min()) - 1.0, np.log(start.max()) + 1.0
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if shares(mid).sum() > 1.0:
            lo = mid  # the level is too ambitious: it needs more than the whole remainder
        else:
            hi = mid
    pi = shares(hi)
    return pi / pi.sum()


class HorizonMixer(Mixer):
    """π from the forecast end-of-run losses (module docstring); uniform until it can fit."""

    adaptive = True

    def __init__(
        self,
        languages: tuple[str, ...] | list[str],
        byte_premium: np.ndarray,
        total_sequences: int,
        cap_sequences: np.ndarray,
        floor_share: float = 0.3,
        rate: float = 0.5,
        points: int = 5,
        window: float = 0.5,
        margin: float = 2.0,
        warmup_steps: int = 100,
    ) -> None:
        super().__init__(languages)
        if not 0 < floor_share <= 1 or not 0 < rate <= 1:
            raise ValueError(
                f"need 0 < floor_share ≤ 1 (the floor as a share of uniform, 1/K) and 0 < rate ≤ 1, "
                f"got {floor_share}, {rate}"
            )
        if not 0 <= window <= 1:
            raise ValueError(f"window is a share of the losses so far, in [0, 1]; got {window}")
        if not margin >= 0:
            raise ValueError(f"margin must be ≥ 0 (standard errors), got {margin}")
        if points < 3 or warmup_steps < 0 or total_sequences < 1:
            raise ValueError(
                f"need points ≥ 3 (a line and its residual), warmup_steps ≥ 0 and a run of at "
                f"least one sequence, got {points}, {warmup_steps}, {total_sequences}"
            )
        self.byte_premium = np.asarray(byte_premium, dtype=np.float64)
        self.total_sequences = int(total_sequences)
        self.cap_sequences = np.asarray(cap_sequences, dtype=np.float64)
        self.floor_share, self.rate, self.points, self.margin = floor_share, rate, points, margin
        self.window, self.warmup_steps = window, warmup_steps
        self.level_se = np.zeros(self.k)  # s_i of the dev set (0: the training signal has none)
        self.pi = np.full(self.k, 1.0 / self.k)
        self.seen = np.zeros(self.k)  # n_i: sequences drawn so far
        self.history: list[list[tuple[float, float]]] = [[] for _ in range(self.k)]
        self.updates = 0

    @classmethod
    def from_context(cls, context: MixContext, **params) -> HorizonMixer:
        """The run's length and each language's epoch cap, in sequences, from the context."""
        per_sequence = context.tokens_per_sequence
        if not per_sequence:
            raise ConfigError(
                "method=horizon needs the run's sequence length (MixContext.tokens_per_sequence)"
            )
        cap = context.epoch_cap * np.asarray(context.unique_tokens, dtype=np.float64)
        return cls(
            context.languages,
            context.byte_premium,
            total_sequences=context.total_tokens // per_sequence,
            cap_sequences=cap / per_sequence,
            **params,
        )

    @property
    def floor(self) -> float:
        """The least π_i any language gets, f = s/K (it scales with K, as EXP3's floor γ/K)."""
        return self.floor_share / self.k

    def probs(self) -> np.ndarray:
        return self.pi.copy()

    def forecast(self) -> list[PowerLawFit] | None:
        """One fit per language on its recent losses: the last ``window`` share of them, at
        least ``points``; None until each language has ``points``.

        The residual sd is pooled over languages, s² = Σ_i RSS_i / Σ_i (m_i − 2): the same dev
        procedure scores every language, and one language's few degrees of freedom can give an
        s near 0 by chance, which would let noise through the margin."""
        if any(len(h) < self.points for h in self.history):
            return None
        fits = [
            fit_power_law(*np.array(h[-max(self.points, round(self.window * len(h))) :]).T)
            for h in self.history
        ]
        dof = np.array([f.count - 2 for f in fits])
        rss = np.array([f.residual_sd for f in fits]) ** 2 * dof
        pooled = float(np.sqrt(rss.sum() / dof.sum()))
        return [replace(f, residual_sd=pooled) for f in fits]

    def evidence_scales(self, fits: list[PowerLawFit], remaining: float) -> np.ndarray:
        """A_i moved so that each forecast end loss under the uniform plan (R/K sequences more
        for every language) keeps only the part of its lag that the evidence supports (the
        margin, as v2's on the dev signal):

            d_i = log ℓ̂_i(n_i + R/K) − mean_j log ℓ̂_j(·),   d̃_i = sign(d_i)·max(0, |d_i| − z·se_i)

        se_i² = the fit's prediction error at the horizon (slope noise grows with the distance
        extrapolated) + s_i², the dev set's own relative error (a fixed bias in the level, which
        no number of evaluations removes). Where every lag is within the margin the shrunk
        forecasts are equal under the uniform plan, so π* is uniform: the null the evidence must
        overturn."""
        scale = np.array([f.scale for f in fits])
        rho = np.array([f.rho for f in fits])
        horizon = self.seen + remaining / self.k  # the end under uniform from now on
        log_end = np.log(scale) - rho * np.log(horizon)
        se = np.hypot([f.log_se(n) for f, n in zip(fits, horizon, strict=True)], self.level_se)
        lag = log_end - log_end.mean()
        kept = np.sign(lag) * np.maximum(np.abs(lag) - self.margin * se, 0.0)
        return scale * np.exp(kept - lag)

    def update(self, step: int, stats: WindowStats) -> dict[str, float]:
        """Record (n_i, ℓ_i) for each language scored, refit, and move π towards π*."""
        self.seen = self.seen + np.asarray(stats.sequences, dtype=np.float64)
        loss = stats.nats_per_byte() * self.byte_premium
        for i in np.flatnonzero(np.isfinite(loss) & (loss > 0) & (self.seen > 0)):
            self.history[i].append((float(self.seen[i]), float(loss[i])))
        if stats.relative_se is not None:
            self.level_se = np.where(np.isfinite(stats.relative_se), stats.relative_se, np.inf)
        fits = self.forecast() if step >= self.warmup_steps else None
        end = np.full(self.k, np.nan)
        remaining = self.total_sequences - self.seen.sum()
        if fits is not None and remaining > 0:
            scale, rho = self.evidence_scales(fits, remaining), np.array([f.rho for f in fits])
            upper = np.minimum(np.maximum(self.cap_sequences - self.seen, 0.0) / remaining, 1.0)
            target = minimax_allocation(scale, rho, self.seen, remaining, self.floor, upper)
            self.pi = (1 - self.rate) * self.pi + self.rate * target
            end = scale * (self.seen + self.pi * remaining) ** -rho
        self.updates += 1
        return self.record(loss, end)

    def record(self, loss: np.ndarray, end: np.ndarray) -> dict[str, float]:
        """Per language: π, the loss scored (raw reward column) and its forecast end loss."""
        floor = at_floor(self.pi, self.floor)
        row: dict[str, float] = {}
        for i, lang in enumerate(self.languages):
            row[f"pi_{lang}"] = float(self.pi[i])
            row[f"reward_raw_{lang}"] = float(loss[i])
            row[f"reward_{lang}"] = float(end[i])
            row[f"at_floor_{lang}"] = int(floor[i])
        return row

    def state_dict(self) -> dict:
        return {
            "languages": list(self.languages),
            "pi": self.pi.tolist(),
            "seen": self.seen.tolist(),
            "history": [[list(p) for p in h] for h in self.history],
            "level_se": self.level_se.tolist(),
            "updates": self.updates,
        }

    def load_state_dict(self, state: Mapping) -> None:
        self.check_state_languages(state)
        self.pi = np.array(state["pi"], dtype=np.float64)
        self.seen = np.array(state["seen"], dtype=np.float64)
        self.history = [[(float(n), float(v)) for n, v in h] for h in state["history"]]
        self.level_se = np.array(state["level_se"], dtype=np.float64)
        self.updates = int(state["updates"])
