"""Run one mixer in a :class:`~taam.simulation.world.World`, as training would.

Every step draws the B languages of a batch from π with the epoch cap applied as in
:class:`~taam.data.sampler.MixtureSampler` (a language that cannot take a whole batch more
leaves π, the rest renormalised), accumulates E[n_i] = Σ_t B·π_t,i, and every
``update_interval`` steps closes a training window (its loss: the draws' training loss, with
the memorisation gap). A window with no cap in reach is drawn in one vectorised call.

The mixer learns as ``taam.model.module.TaamModule`` has it learn: with the training signal
from every window; with the dev signal (:class:`DevSignal`) from a dev evaluation at the
windows that end on a multiple of ``every`` steps, every language's held-out loss with the
run's fixed dev-set bias and the evaluation's noise (full information), n_i and E[n_i] the
training draws since the previous evaluation. Windows in between only log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from taam.mixer.base import Mixer, WindowStats
from taam.mixer.log import MixerLog
from taam.simulation.world import World


@dataclass(frozen=True)
class DevSignal:
    """``signal=dev``: a fixed set of ``sequences`` per language scored every ``every`` steps."""

    every: int
    sequences: int

    def __post_init__(self) -> None:
        if self.every < 1 or self.sequences < 1:
            raise ValueError(
                f"signal=dev needs every ≥ 1 and sequences ≥ 1, got {self.every}, {self.sequences}"
            )


@dataclass
class Trajectory:
    """What a simulated run produced."""

    log: MixerLog
    seen: np.ndarray  # sequences per language at the end
    pi: np.ndarray  # [updates, K]: π after each mixer update
    at_floor: np.ndarray  # [updates, K] bool (all False for static mixers)
    reward_raw: np.ndarray  # [updates, K]: the raw reward (NaN where none)
    capped: bool  # some language reached the epoch cap
    steps: np.ndarray  # [windows]: the step each training window ended at
    losses: np.ndarray  # [windows, K]: the window's training loss, nats per Eng.-equiv. byte
    signal: str = "train"  # what the mixer learnt from
    update_steps: np.ndarray | None = None  # [updates]: the step of each mixer update
    dev_bias: np.ndarray | None = None  # [K]: the run's fixed relative dev-set bias δ_i


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
    """Σ over the window's steps of the training loss per draw (held-out less the memorisation
    gap), with noise σ/√n_i, as WindowStats."""
    n = counts.sum(axis=0)
    true = (counts * world.train_loss(before)).sum(axis=0) / np.maximum(n, 1)
    noisy = true * (1.0 + world.noise * rng.standard_normal(world.k) / np.sqrt(np.maximum(n, 1)))
    tokens = n * world.tokens_per_sequence  # one byte per token: only nats/bytes matters
    nats = noisy / world.byte_premium * tokens  # the mixer multiplies by BP_i again
    return WindowStats(nats=nats, bytes=tokens, tokens=tokens, sequences=n, expected_draws=expected)


def dev_stats(
    seen: np.ndarray,
    draws: np.ndarray,
    bias: np.ndarray,
    dev: DevSignal,
    world: World,
    rng: np.random.Generator,
) -> WindowStats:
    """A dev evaluation after ``seen``: L_i·(1 + δ_i + σ_dev·z) for every language, on S·T
    tokens each; n_i and E[n_i] (``draws``, [K, 2]) the training draws since the last one.
    It carries the relative standard error a real run estimates from its dev documents: the sd
    of δ_i (with the evaluation noise σ_dev added, which a real run does not separate from it)."""
    loss = world.loss(seen) * (1.0 + bias + world.dev_noise * rng.standard_normal(world.k))
    tokens = np.full(world.k, float(dev.sequences * world.tokens_per_sequence))
    se = np.hypot(world.dev_bias_sd(dev.sequences), world.dev_noise)
    return WindowStats(
        nats=loss / world.byte_premium * tokens,
        bytes=tokens,
        tokens=tokens,
        sequences=draws[:, 0].copy(),
        expected_draws=draws[:, 1].copy(),
        signal="dev",
        relative_se=np.full(world.k, se),
    )


def simulate_mixer(
    mixer: Mixer,
    world: World,
    update_interval: int,
    rng: np.random.Generator,
    mixer_log: MixerLog | None = None,
    dev: DevSignal | None = None,
) -> Trajectory:
    """Run ``world.steps`` steps (whole windows); return the trajectory.

    ``dev``: learn from dev evaluations (drawn bias δ_i first, once per run); None: from the
    training windows.
    """
    if dev is not None and dev.every % update_interval:
        raise ValueError(
            f"signal.every ({dev.every}) must be a multiple of the update interval "
            f"({update_interval}), as in training"
        )
    mixer_log = mixer_log or MixerLog(mixer.languages)
    bias = None if dev is None else world.dev_bias_sd(dev.sequences) * rng.standard_normal(world.k)
    signal = "train" if dev is None else "dev"
    seen, draws = np.zeros(world.k), np.zeros((world.k, 2))
    pis, floors, raws, ends, updates, losses, capped = [], [], [], [], [], [], False
    for start in range(0, world.steps - update_interval + 1, update_interval):
        step = start + update_interval
        counts, expected, before, hit = draw_window(
            mixer.probs(), seen, world, update_interval, rng
        )
        capped |= hit
        stats = window_stats(counts, expected, before, world, rng)
        seen = seen + stats.sequences
        ends.append(step)
        losses.append(stats.nats_per_byte() * world.byte_premium)
        if dev is not None:
            draws += np.stack([stats.sequences, stats.expected_draws], axis=1)
            if step % dev.every:
                continue  # a window between dev evaluations only logs
            stats = dev_stats(seen, draws, bias, dev, world, rng)
            draws = np.zeros_like(draws)
        record = mixer.update(step, stats)
        pi = mixer.probs()
        tokens = int(seen.sum()) * world.tokens_per_sequence
        mixer_log.append(step, tokens, record, pi=pi, signal=signal)
        updates.append(step)
        pis.append(pi)
        floors.append([bool(record.get(f"at_floor_{lang}", 0)) for lang in mixer.languages])
        raws.append([record.get(f"reward_raw_{lang}", np.nan) for lang in mixer.languages])
    k = world.k
    return Trajectory(
        log=mixer_log,
        seen=seen,
        pi=np.array(pis).reshape(-1, k),
        at_floor=np.array(floors, dtype=bool).reshape(-1, k),
        reward_raw=np.array(raws, dtype=np.float64).reshape(-1, k),
        capped=capped,
        steps=np.array(ends),
        losses=np.array(losses),
        signal=signal,
        update_steps=np.array(updates),
        dev_bias=bias,
    )
