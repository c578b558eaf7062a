"""What a simulated run achieved, and the static-mixture oracles it is measured against.

Outcome: the final true loss per language L_i(m_i) (BP-adjusted, no noise), their mean, the
worst language, the time at the floor in the second half, and the reward's signal-to-noise
ratio (:func:`taam.mixer.log.reward_snr`). Oracles: the best static π for the mean loss and for the worst-language loss, by grid
search over the simplex; a π whose exposures break the epoch cap is infeasible. Regret is
the outcome minus the oracle's, also as a fraction of uniform's own gap (0 = the oracle,
1 = no better than uniform).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from taam.mixer.log import reward_snr
from taam.simulation.engine import Trajectory
from taam.simulation.world import World


def simplex_grid(k: int, step: float) -> np.ndarray:
    """Every π on the simplex with coordinates in multiples of ``step`` (1/step an integer)."""
    n = round(1.0 / step)
    if not np.isclose(n * step, 1.0):
        raise ValueError(f"the oracle grid step must divide 1, got {step}")
    points = [c for c in itertools.product(range(n + 1), repeat=k - 1) if sum(c) <= n]
    grid = np.array([[*c, n - sum(c)] for c in points], dtype=np.float64)
    return grid / n


def static_losses(pi: np.ndarray, world: World) -> tuple[np.ndarray, np.ndarray]:
    """(final losses [P, K], feasible [P]) of static mixtures ``pi`` [P, K] at expected exposures."""
    seen = np.atleast_2d(pi) * world.total_sequences
    return world.loss(seen), np.all(seen <= world.cap(), axis=1)


@dataclass(frozen=True)
class Oracle:
    """The best feasible static π for one objective and its value."""

    pi: np.ndarray
    value: float


def oracles(world: World, step: float = 0.02) -> dict[str, Oracle]:
    """Best static π for ``mean`` (mean_i L_i) and ``worst`` (max_i L_i) over the grid."""
    grid = simplex_grid(world.k, step)
    losses, feasible = static_losses(grid, world)
    found = {}
    for name, value in (("mean", losses.mean(axis=1)), ("worst", losses.max(axis=1))):
        value = np.where(feasible, value, np.inf)
        best = int(np.argmin(value))
        found[name] = Oracle(pi=grid[best], value=float(value[best]))
    return found


def outcome(trajectory: Trajectory, world: World) -> dict:
    """Final π, losses, mean, worst, time at floor (second half), reward SNR for one run."""
    final = world.loss(trajectory.seen)
    half = len(trajectory.pi) // 2
    return {
        "pi": trajectory.pi[-1],
        "loss": final,
        "mean": float(final.mean()),
        "worst": float(final.max()),
        "floor_time": trajectory.at_floor[half:].mean(axis=0),
        "snr": reward_snr(trajectory.reward_raw),
        "capped": trajectory.capped,
    }


def regret(value: float, oracle: float, uniform: float) -> tuple[float, float]:
    """(value − oracle, (value − oracle) / (uniform − oracle)); NaN fraction when uniform is optimal."""
    gap = uniform - oracle
    return value - oracle, (value - oracle) / gap if gap > 0 else float("nan")
