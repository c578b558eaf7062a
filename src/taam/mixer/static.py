"""Static methods: π is fixed for the whole run.

* ``uniform``: π_i = 1/K.
* ``natural``: π_i ∝ unique tokens n_i.
* ``temperature``: π_i ∝ n_i^(1/τ) (τ = 3.33 by default).
* ``unimax``: the UniMax allocation of Chung et al. (2023) with an epoch cap.
* ``fixed``: π_i ∝ given weights w_i (a mixture found by search, e.g. a real-text oracle).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from taam.mixer.base import MixContext, StaticMixer


def uniform(context: MixContext) -> StaticMixer:
    return StaticMixer(context.languages, np.full(context.k, 1.0 / context.k))


def natural(context: MixContext) -> StaticMixer:
    return StaticMixer(context.languages, context.unique_tokens.astype(np.float64))


def temperature(context: MixContext, tau: float = 3.33) -> StaticMixer:
    if tau <= 0:
        raise ValueError(f"temperature τ must be positive, got {tau}")
    return StaticMixer(context.languages, context.unique_tokens.astype(np.float64) ** (1.0 / tau))


def unimax_allocation(unique_tokens: np.ndarray, budget: float, max_epochs: float) -> np.ndarray:
    """UniMax (Chung et al. 2023, Algorithm 1): token budget per language.

    Visit languages from the smallest to the largest; each gets an equal share of
    what is left, capped at ``max_epochs`` × its size; the rest goes to the larger ones.
    """
    sizes = np.asarray(unique_tokens, dtype=np.float64)
    allocation = np.zeros_like(sizes)
    remaining = float(budget)
    order = np.argsort(sizes, kind="stable")
    for rank, i in enumerate(order):
        share = remaining / (len(sizes) - rank)
        allocation[i] = min(share, max_epochs * sizes[i])
        remaining -= allocation[i]
    return allocation


def unimax(context: MixContext, max_epochs: float | None = None) -> StaticMixer:
    """π_i = UniMax allocation_i / Σ allocation, with the budget = the run's exposures."""
    cap = context.epoch_cap if max_epochs is None else max_epochs
    allocation = unimax_allocation(context.unique_tokens, context.total_tokens, cap)
    return StaticMixer(context.languages, allocation)


def fixed(context: MixContext, weights: Mapping[str, float]) -> StaticMixer:
    """π_i = w_i / Σ_j w_j for the weights given per language (one for each, none other)."""
    if set(weights) != set(context.languages):
        raise ValueError(
            f"method.mixer.weights needs one weight for each of {list(context.languages)}, got "
            f"{dict(weights)}"
        )
    return StaticMixer(context.languages, np.array([weights[lang] for lang in context.languages]))
