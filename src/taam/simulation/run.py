"""``python src/simulate.py``: one method on one preset, one or more seeds, written to a run dir."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from taam.errors import ConfigError, RunDirError
from taam.io import atomic_directory, atomic_write_text, write_json
from taam.mixer.base import MixContext, Mixer, StaticMixer
from taam.mixer.doremi import DoremiMixer
from taam.mixer.factory import build_mixer, mixer_class
from taam.mixer.log import MixerLog
from taam.report.plots import plot_pi
from taam.run.identity import RunIdentity
from taam.simulation.engine import DevSignal, Trajectory, simulate_mixer
from taam.simulation.outcomes import outcome
from taam.simulation.world import World, world_from_config

log = logging.getLogger(__name__)


def cache_dir(cfg: DictConfig) -> Path | None:
    return Path(cfg.cache_dir) if cfg.cache_dir else None


def mix_context(world: World, seed: int, cache: Path | None) -> MixContext:
    """The :class:`MixContext` a method sees in ``world`` (tokens, BP, budget, cap)."""
    return MixContext(
        languages=world.languages,
        unique_tokens=world.unique_sequences * world.tokens_per_sequence,
        byte_premium=world.byte_premium,
        total_tokens=world.total_sequences * world.tokens_per_sequence,
        epoch_cap=world.epoch_cap,
        seed=seed,
        cache_dir=cache,
        tokens_per_sequence=world.tokens_per_sequence,
    )


def dev_signal(cfg: DictConfig) -> DevSignal | None:
    """``signal=dev``: the dev evaluations the config asks for; ``signal=train``: None."""
    signal = cfg.signal
    if signal.name == "train":
        return None
    if signal.name != "dev":
        raise ConfigError(f"signal.name must be dev or train, got {signal.name}")
    every, interval = signal.get("every"), int(cfg.method.update_interval)
    if not every or int(every) % interval or int(signal.sequences) < 1:
        raise ConfigError(
            f"signal=dev needs signal.every, a multiple of method.update_interval ({interval}), "
            f"and signal.sequences ≥ 1; got every={every}, sequences={signal.sequences}."
        )
    return DevSignal(every=int(every), sequences=int(signal.sequences))


def run_seed(
    cfg: DictConfig, world: World, seed: int, window: int = 50
) -> tuple[Mixer, Trajectory]:
    """Build ``cfg.method`` (with ``cfg.reward``) and run it in ``world`` with ``seed``, learning
    from ``cfg.signal`` as training would (a mixer refuses a signal it cannot learn from).

    DoReMi without a ``reference_run`` gets its reference here: uniform π in the same world with
    the same seed and windows, its training window losses by step (as a training run reads them
    from the uniform run's metrics.csv).
    """
    context = mix_context(world, seed, cache_dir(cfg))
    if mixer_class(cfg.method) is DoremiMixer and not cfg.method.mixer.get("reference_run"):
        mixer = doremi_against_uniform(cfg, world, seed, context)
    else:
        mixer = build_mixer(cfg.method, cfg.reward, context)
    mixer.check_signal(str(cfg.signal.name))
    trajectory = simulate_mixer(
        mixer,
        world,
        update_interval=cfg.method.update_interval,
        rng=np.random.default_rng(seed),
        mixer_log=MixerLog(world.languages, window=window),
        dev=dev_signal(cfg),
    )
    return mixer, trajectory


def doremi_against_uniform(
    cfg: DictConfig, world: World, seed: int, context: MixContext
) -> DoremiMixer:
    """A DoReMi mixer whose reference is the uniform run of ``seed`` in ``world``."""
    uniform = StaticMixer(world.languages, np.full(world.k, 1.0 / world.k))
    interval = int(cfg.method.update_interval)
    ref = simulate_mixer(uniform, world, interval, np.random.default_rng(seed))
    reference = dict(zip(ref.steps.tolist(), ref.losses, strict=True))
    params = {k: v for k, v in cfg.method.mixer.items() if k not in ("_target_", "_partial_")}
    params.pop("reference_run", None)
    params.pop("update_interval", None)  # the reference above is simulated with this run's window
    # the simulator has no vocabulary: a language absent before its first score scores 0
    return DoremiMixer(context.languages, context.byte_premium, reference, **params)


def refuse_existing(out: Path, overwrite: bool) -> None:
    """An existing output is kept unless ``overwrite=true`` (one-line error, nothing written)."""
    if out.exists() and not overwrite:
        raise RunDirError(
            f"{out} already exists; choose another output_dir=..., or overwrite=true to replace it."
        )


def simulate(cfg: DictConfig) -> Path:
    """Simulate ``cfg.method`` on ``cfg.simulation`` for ``cfg.seeds`` seeds from ``cfg.seed``.

    Writes ``mixer.csv`` and ``plots/pi.png`` of the first seed, ``summary.json`` (per seed
    and mean ± sd), ``config.yaml`` and, for methods with the typological prior, ``prior.json``.
    """
    identity = RunIdentity.of(cfg)
    # runs/sim/<date>_<preset>_<Method>…_seed<seed>: two presets of one method never collide
    named = replace(identity, preset=cfg.simulation.name).name()
    out = Path(cfg.output_dir or Path("runs/sim") / named)
    refuse_existing(out, cfg.overwrite)
    world = world_from_config(cfg.simulation, cfg.train.epoch_cap, cache_dir(cfg))
    start = time.perf_counter()
    runs = [run_seed(cfg, world, cfg.seed + s, cfg.starve_window) for s in range(cfg.seeds)]
    wall_clock = time.perf_counter() - start
    mixer, first = runs[0]
    results = [outcome(t, world) for _, t in runs]
    langs = world.languages
    half = len(first.log.rows) // 2
    summary = {
        "status": "completed",
        **identity.record(),
        "simulation": cfg.simulation.name,
        "seeds": cfg.seeds,
        "dev_signal": _dev_record(cfg, world, runs),
        "steps": world.steps,
        "updates": len(first.log.rows),
        "floor": mixer.floor,
        # final_pi … mean_pi_second_half, mixer.csv and plots/pi.png: the first seed's run;
        # outcome: mean ± sd over all seeds
        "first_seed": int(cfg.seed),
        "final_pi": dict(zip(langs, first.pi[-1].tolist(), strict=True)),
        "exposures_sequences": dict(zip(langs, first.seen.astype(int).tolist(), strict=True)),
        "time_at_floor": first.log.time_at_floor(),
        "time_at_floor_second_half": first.log.time_at_floor(since=half),
        "mean_pi_second_half": first.log.mean_pi(since=half),
        "outcome": _mean_sd(results, langs),
        "wall_clock_s": wall_clock,
    }
    with atomic_directory(out) as tmp:
        first.log.write(tmp / "mixer.csv")
        plot_pi(tmp / "mixer.csv", tmp / "plots" / "pi.png", summary["floor"], out.name)
        if mixer.prior_report is not None:
            write_json(tmp / "prior.json", mixer.prior_report)
        atomic_write_text(tmp / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
        write_json(tmp / "summary.json", summary)
    outcome_ = summary["outcome"]
    log.info(
        "simulated %d × %d steps in %.2f s -> %s; final π %s, worst loss %.4f ± %.4f, mean loss "
        "%.4f ± %.4f (mean ± sd over seeds)",
        cfg.seeds,
        world.steps,
        wall_clock,
        out,
        " ".join(f"{x} {outcome_['pi'][x]['mean']:.3f}" for x in langs),
        outcome_["worst_loss"]["mean"],
        outcome_["worst_loss"]["sd"],
        outcome_["mean_loss"]["mean"],
        outcome_["mean_loss"]["sd"],
    )
    return out


def _dev_record(cfg: DictConfig, world: World, runs: list) -> dict | None:
    """signal=dev: the dev set (S, T, sd of its bias) and each seed's drawn bias δ_i."""
    dev = dev_signal(cfg)
    if dev is None:
        return None
    return {
        "every": dev.every,
        "sequences": dev.sequences,
        "tokens_per_sequence": world.tokens_per_sequence,
        "bias_sd": world.dev_bias_sd(dev.sequences),
        "noise": world.dev_noise,
        "bias": [dict(zip(world.languages, t.dev_bias.tolist(), strict=True)) for _, t in runs],
    }


def _mean_sd(results: list[dict], languages: tuple[str, ...]) -> dict:
    """Mean and sd over seeds of the final π, losses, mean/worst loss, floor time and SNR."""

    def stats(values) -> dict[str, float]:
        v = np.asarray(values, dtype=np.float64)
        return {"mean": float(np.mean(v)), "sd": float(np.std(v))}

    return {
        "pi": {lang: stats([r["pi"][i] for r in results]) for i, lang in enumerate(languages)},
        "loss": {lang: stats([r["loss"][i] for r in results]) for i, lang in enumerate(languages)},
        "mean_loss": stats([r["mean"] for r in results]),
        "worst_loss": stats([r["worst"] for r in results]),
        "floor_time_second_half": {
            lang: stats([r["floor_time"][i] for r in results]) for i, lang in enumerate(languages)
        },
        "reward_snr": stats([r["snr"] for r in results]),
    }
