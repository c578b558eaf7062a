"""Run one mixer in a :class:`~taam.simulation.world.World`, as training would.

Every step draws the B languages of a batch from π with the epoch cap applied as in
:class:`~taam.data.sampler.MixtureSampler` (a language that cannot take a whole batch more
leaves π, the rest renormalised), accumulates E[n_i] = Σ_t B·π_t,i, and every
``update_interval`` steps hands the mixer one :class:`WindowStats`. A window with no cap in
reach is drawn in one vectorised call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from taam.mixer.base import Mixer, WindowStats
from taam.mixer.log import MixerLog
from taam.simulation.world import World


@dataclass
class Trajectory:
    """What a simulated run produced."""

    log: MixerLog
    seen: np.ndarray  # sequences per language at the end
    pi: np.ndarray  # [updates, K]: π after each update
    at_floor: np.ndarray  # [updates, K] bool (all False for static mixers)
    reward_raw: np.ndarray  # [updates, K]: the raw reward (NaN where none)
    capped: bool  # some language reached the epoch cap
    steps: np.ndarray  # [updates]: the step each window ended at
    losses: np.ndarray  # [updates, K]: the window's loss, nats per English-equivalent byte


def capped_pi(pi: np.ndarray, seen: np.ndarray, world: World) -> np.ndarray:
    """π without the languages that cannot take a whole batch more, renormalised."""
    available = seen + world.sequences_per_step <= world.cap()
    pi = np.where(available, pi, 0.0)
    if pi.sum() <= 0:
        raise RuntimeError("every simulated language reached the epoch cap; lower steps")
    return pi / pi.sum()


def draw_window(
    pi: np.ndarray, seen: np.ndarray, world: World, steps: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Draw ``steps`` batches: (counts [steps, K], E[n] [K], exposures before each step, capped)."""
    b = world.sequences_per_step
    if np.all(seen + (steps + 1) * b <= world.cap()):  # no cap in reach: one call
        counts = rng.multinomial(b, pi, size=steps)
        expected = steps * b * pi
        capped = False
    else:
        counts, expected, now, capped = np.zeros((steps, world.k)), np.zeros(world.k), seen, True
        for t in range(steps):
            p = capped_pi(pi, now, world)
            counts[t] = rng.multinomial(b, p)
            expected += b * p
            now = now + counts[t]
    before = seen + np.vstack([np.zeros(world.k), np.cumsum(counts, axis=0)[:-1]])
    return counts, expected, before, capped


def window_stats(
    counts: np.ndarray,
    expected: np.ndarray,
    before: np.ndarray,
    world: World,
    rng: np.random.Generator,
) -> WindowStats:
    """Σ over the window's steps of the true loss per draw, with noise σ/√n_i, as WindowStats."""
    n = counts.sum(axis=0)
    true = (counts * world.loss(before)).sum(axis=0) / np.maximum(n, 1)
    noisy = true * (1.0 + world.noise * rng.standard_normal(world.k) / np.sqrt(np.maximum(n, 1)))
    tokens = n * world.tokens_per_sequence  # one byte per token: only nats/bytes matters
    nats = noisy / world.byte_premium * tokens  # the mixer multiplies by BP_i again
    return WindowStats(nats=nats, bytes=tokens, tokens=tokens, sequences=n, expected_draws=expected)


def simulate_mixer(
    mixer: Mixer,
    world: World,
    update_interval: int,
    rng: np.random.Generator,
    mixer_log: MixerLog | None = None,
) -> Trajectory:
    """Run ``world.steps`` steps (whole windows); return the trajectory."""
    mixer_log = mixer_log or MixerLog(mixer.languages)
    seen = np.zeros(world.k)
    pis, floors, raws, ends, losses, capped = [], [], [], [], [], False
    for start in range(0, world.steps - update_interval + 1, update_interval):
        counts, expected, before, hit = draw_window(
            mixer.probs(), seen, world, update_interval, rng
        )
        capped |= hit
        stats = window_stats(counts, expected, before, world, rng)
        seen = seen + stats.sequences
        ends.append(start + update_interval)
        losses.append(stats.nats_per_byte() * world.byte_premium)
        record = mixer.update(start + update_interval, stats)
        pi = mixer.probs()
        mixer_log.append(
            start + update_interval, int(seen.sum()) * world.tokens_per_sequence, record, pi=pi
        )
        pis.append(pi)
        floors.append([bool(record.get(f"at_floor_{lang}", 0)) for lang in mixer.languages])
        raws.append([record.get(f"reward_raw_{lang}", np.nan) for lang in mixer.languages])
    return Trajectory(
        log=mixer_log,
        seen=seen,
        pi=np.array(pis),
        at_floor=np.array(floors, dtype=bool),
        reward_raw=np.array(raws, dtype=np.float64),
        capped=capped,
        steps=np.array(ends),
        losses=np.array(losses),
    )
