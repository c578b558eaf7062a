"""Rewards: what an adaptive mixer learns from, computed from smoothed per-language losses.

A reward sees ℓ̃, the EMA-smoothed loss per language in nats per English-equivalent byte
(kept by the mixer), before and after the current window, and n_i, the sequences of each
language the window drew. It returns the raw reward r_i (NaN for a language it cannot score)
and the reward the policy uses, r_i after rescaling (:mod:`taam.mixer.rescaling`).

Accounting: a reward values *one more sequence* of language i. A window's loss drop grows
with the draws n_i, so the delta reward (v1) is divided by n_i; the published window-level
accounting (``accounting=window``) is kept to reproduce the card and is rich-get-richer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

import numpy as np

from taam.mixer.rescaling import make_rescaling

ACCOUNTINGS = ("sequence", "window")


class Reward(ABC):
    """Raw reward r_i from (ℓ̃ before, ℓ̃ after, n_i), then rescaled."""

    def __init__(self, rescale: str = "reservoir", rescale_params: Mapping | None = None) -> None:
        self.rescale = rescale
        self.rescaling = make_rescaling(rescale, **(rescale_params or {}))

    @abstractmethod
    def raw(self, before: np.ndarray, after: np.ndarray, draws: np.ndarray) -> np.ndarray:
        """r_i per language; NaN where language i has no reward this window (n_i = 0 among them)."""

    def __call__(
        self,
        before: np.ndarray,
        after: np.ndarray,
        draws: np.ndarray,
        relative_se: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(raw r, the r the policy uses): r shrunk by its standard error where the reward does
        that (``relative_se``: s_i of the dev losses, see :class:`CrossLingualDeficit`), then
        rescaled; the rescaling learns from what it is given."""
        raw = self.raw(before, after, np.asarray(draws, dtype=np.float64))
        return raw, self.rescaling(self.shrink(raw, after, relative_se))

    def shrink(
        self, raw: np.ndarray, loss: np.ndarray, relative_se: np.ndarray | None
    ) -> np.ndarray:
        """The reward the evidence supports; a delta reward is taken as it is."""
        return raw

    def state_dict(self) -> dict:
        return {"rescaling": self.rescaling.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.rescaling.load_state_dict(state["rescaling"])


class NormalizedExcessLoss(Reward):
    """v1, delta-based learning progress, per sequence drawn (``accounting=sequence``):

        r_i = (ℓ̃_i(prev) − ℓ̃_i(now)) / ℓ̃_i(prev) / n_i

    Diminishing returns make the per-sequence progress fall as a language is drawn more, so
    the policy's rest point is interior: marginal progress equal across languages. With
    ``accounting=window`` (the published v1) the division by n_i is dropped; that reward grows
    with the draws and drives EXP3 to a corner even on identical learning curves.
    """

    def __init__(self, accounting: str = "sequence", **rescale) -> None:
        super().__init__(**rescale)
        if accounting not in ACCOUNTINGS:
            raise ValueError(f"unknown accounting '{accounting}'; use sequence or window")
        self.accounting = accounting

    def raw(self, before: np.ndarray, after: np.ndarray, draws: np.ndarray) -> np.ndarray:
        # A language needs a previous smoothed loss (it was seen before) to show a drop.
        ok = (draws > 0) & np.isfinite(before) & (before > 0)
        per = draws if self.accounting == "sequence" else np.ones_like(draws)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(ok, (before - after) / before / np.where(ok, per, 1.0), np.nan)


class CrossLingualDeficit(Reward):
    """v2, level-based: r_i = (ℓ̃_i − mean_j ℓ̃_j) / mean_j ℓ̃_j, the lag behind the mean.

    The mean runs over every language with a smoothed loss so far, drawn or not. A level
    reward already values one sequence (it does not grow with n_i). A deficit that never
    closes (different asymptotes) needs a policy with an interior fixed point: see the
    regularisation λ of :class:`~taam.mixer.exp3.Exp3Mixer`.

    ``margin`` = z > 0 (the dev signal): the policy takes the lag beyond z standard errors,

        r̃_i = sign(r_i) · max(0, |r_i| − z·se(r_i))

    (soft thresholding, the lower confidence bound on |r_i|), so a lag the dev documents
    cannot tell from their own sampling error moves nothing; se(r_i) from
    :func:`lag_standard_error`. Without standard errors (the training signal) r̃ = r.
    """

    def __init__(self, margin: float = 0.0, **rescale) -> None:
        super().__init__(**rescale)
        if not margin >= 0:
            raise ValueError(f"margin must be ≥ 0 (standard errors), got {margin}")
        self.margin = margin

    def raw(self, before: np.ndarray, after: np.ndarray, draws: np.ndarray) -> np.ndarray:
        known = np.isfinite(after)
        if not known.any():
            return np.full_like(after, np.nan)
        mean = after[known].mean()
        return np.where((draws > 0) & known, (after - mean) / mean, np.nan)

    def shrink(
        self, raw: np.ndarray, loss: np.ndarray, relative_se: np.ndarray | None
    ) -> np.ndarray:
        if self.margin == 0 or relative_se is None:
            return raw
        excess = np.abs(raw) - self.margin * lag_standard_error(loss, relative_se)
        return np.sign(raw) * np.maximum(excess, 0.0)


def lag_standard_error(loss: np.ndarray, relative_se: np.ndarray) -> np.ndarray:
    """se(r_i) of the lag r_i = ℓ_i / ℓ̄ − 1, ℓ̄ the mean over the K' languages with a loss,
    from independent relative errors s_j of the ℓ_j (the delta method):

        se(r_i)² = (1 + r_i)² · [(1 − w_i)²·s_i² + Σ_{j≠i} w_j²·s_j²],   w_j = ℓ_j / Σ_k ℓ_k

    Infinite where any s_j is: a mean over a language nothing is known about is unknown.
    """
    known = np.isfinite(loss)
    if not np.isfinite(relative_se[known]).all():
        return np.where(known, np.inf, np.nan)
    ell = np.where(known, loss, 0.0)
    s = np.where(known, relative_se, 0.0)
    w = ell / ell.sum()
    ratio = ell / ell[known].mean()
    others = (w**2 * s**2).sum() - w**2 * s**2
    with np.errstate(invalid="ignore"):
        se = ratio * np.sqrt((1 - w) ** 2 * s**2 + others)
    return np.where(known, se, np.nan)
