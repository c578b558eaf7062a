"""The mixer simulator: a mixer alone on preset learning curves, no model, no data.

Language i's loss after n of its sequences follows L_i(n) = a_i + b_i·(n + 1)^(−c_i) in
nats per English-equivalent byte, the unit the mixer compares (ℓ_i × BP_i). Every step
draws the languages of ``sequences_per_step`` sequences from π (a seeded numpy Generator);
each window of ``update_interval`` steps becomes a :class:`WindowStats` whose nats/bytes
ratio is L_i / BP_i at the exposures of its steps (times 1 + noise·z), so the mixer, which
multiplies by BP_i, sees L_i exactly as it would in training. The simulator counts one byte
per token: only the nats/bytes ratio matters to a mixer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from taam.identity import RunIdentity
from taam.io import atomic_directory, atomic_write_text, write_json
from taam.languages import byte_premiums
from taam.mixer.base import MixContext, Mixer, WindowStats
from taam.mixer.factory import build_mixer
from taam.mixer.log import MixerLog
from taam.plots import plot_pi

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LearningCurves:
    """L_i(n) = a_i + b_i·(n + 1)^(−c_i), vectorised over languages (n + 1: finite at n = 0)."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray

    @classmethod
    def from_config(cls, curves: DictConfig | dict, languages: tuple[str, ...]) -> LearningCurves:
        return cls(*(np.array([float(curves[lang][p]) for lang in languages]) for p in "abc"))

    def __call__(self, n: np.ndarray) -> np.ndarray:
        return self.a + self.b * (np.asarray(n, dtype=np.float64) + 1.0) ** -self.c


def simulate_mixer(
    mixer: Mixer,
    curves: LearningCurves,
    byte_premium: np.ndarray,
    steps: int,
    sequences_per_step: int,
    tokens_per_sequence: int,
    update_interval: int,
    rng: np.random.Generator,
    noise: float = 0.0,
    mixer_log: MixerLog | None = None,
) -> tuple[MixerLog, np.ndarray]:
    """Run ``steps`` simulated steps; return the mixer log and the sequences seen per language."""
    mixer_log = mixer_log or MixerLog(mixer.languages)
    k = mixer.k
    seen = np.zeros(k)  # sequences per language so far: the n of L_i(n)
    window = np.zeros((k, 4))  # WindowStats columns: nats, bytes, tokens, sequences
    pi = mixer.probs()
    for step in range(1, steps + 1):
        counts = rng.multinomial(sequences_per_step, pi)
        # nats per byte of this batch, measured before the model trains on it
        loss = curves(seen) / byte_premium * (1.0 + noise * rng.standard_normal(k))
        tokens = counts * tokens_per_sequence
        window += np.column_stack([loss * tokens, tokens, tokens, counts])
        seen += counts
        if step % update_interval == 0:
            record = mixer.update(step, WindowStats.from_matrix(window))
            pi = mixer.probs()
            mixer_log.append(step, int(seen.sum()) * tokens_per_sequence, record, pi=pi)
            window[:] = 0.0
    return mixer_log, seen


def simulate(cfg: DictConfig) -> Path:
    """Simulate ``cfg.method`` (with ``cfg.reward``) on ``cfg.simulation``; return the output dir.

    Writes ``mixer.csv``, ``summary.json``, ``plots/pi.png`` and, for methods that use the
    typological prior, ``prior.json``.
    """
    sim = cfg.simulation
    identity = RunIdentity.of(cfg)
    out = Path(cfg.output_dir or Path("runs/sim") / identity.name())
    if out.exists() and not cfg.overwrite:
        raise FileExistsError(
            f"{out} already exists; choose another output_dir=..., or overwrite=true to replace it"
        )
    languages = tuple(sim.curves)
    steps, per_step, seq_tokens = sim.steps, sim.sequences_per_step, sim.tokens_per_sequence
    context = MixContext(
        languages=languages,
        unique_tokens=np.array([float(sim.unique_tokens[lang]) for lang in languages]),
        byte_premium=np.array([bp.value for bp in byte_premiums(languages).values()]),
        total_tokens=steps * per_step * seq_tokens,
        seed=cfg.seed,
        cache_dir=Path(cfg.cache_dir) if cfg.cache_dir else None,
    )
    mixer = build_mixer(cfg.method, cfg.reward, context)
    start = time.perf_counter()
    mixer_log, seen = simulate_mixer(
        mixer,
        LearningCurves.from_config(sim.curves, languages),
        context.byte_premium,
        steps=steps,
        sequences_per_step=per_step,
        tokens_per_sequence=seq_tokens,
        update_interval=cfg.method.update_interval,
        rng=np.random.default_rng(cfg.seed),
        noise=sim.noise,
        mixer_log=MixerLog(languages, window=cfg.starve_window),
    )
    wall_clock = time.perf_counter() - start
    floor = mixer.floor
    half = len(mixer_log.rows) // 2
    summary = {
        "status": "completed",
        **identity.record(),
        "simulation": sim.name,
        "steps": steps,
        "updates": len(mixer_log.rows),
        "floor": floor,
        "final_pi": dict(zip(languages, mixer.probs().tolist(), strict=True)),
        "exposures_sequences": dict(zip(languages, seen.astype(int).tolist(), strict=True)),
        "exposures_tokens": dict(
            zip(languages, (seen * seq_tokens).astype(int).tolist(), strict=True)
        ),
        "time_at_floor": mixer_log.time_at_floor(),
        "time_at_floor_second_half": mixer_log.time_at_floor(since=half),
        "mean_pi_second_half": mixer_log.mean_pi(since=half),
        "wall_clock_s": wall_clock,
    }
    with atomic_directory(out) as tmp:
        mixer_log.write(tmp / "mixer.csv")
        plot_pi(tmp / "mixer.csv", tmp / "plots" / "pi.png", floor)
        if mixer.prior_report is not None:
            write_json(tmp / "prior.json", mixer.prior_report)
        atomic_write_text(tmp / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
        write_json(tmp / "summary.json", summary)
    log.info(
        "simulated %d steps in %.2f s: final π %s -> %s",
        steps,
        wall_clock,
        summary["final_pi"],
        out,
    )
    return out
