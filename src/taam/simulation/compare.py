"""``python src/simulate.py compare=true seeds=10``: every method × preset against the oracles.

For each preset of ``comparison.presets`` and each method of ``comparison.methods`` (a row label
and its config overrides, ``signal=dev|train`` among them), run ``seeds`` seeds and write
``compare.md`` (the table: the signal an adaptive method learnt from, final π, its mean
distance from uniform, mean and worst loss, regret against both oracles in absolute terms and
as a fraction of uniform's gap, time at the floor, reward SNR; mean ± sd over seeds),
``compare.json`` and one π plot per preset (mean π over seeds, every method).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import numpy as np
from hydra import compose
from matplotlib.figure import Figure
from omegaconf import DictConfig

from taam.errors import ConfigError
from taam.io import atomic_directory, atomic_write_text, write_json
from taam.report.markdown import markdown_table
from taam.report.plots import save_figure
from taam.simulation.outcomes import oracles, outcome, regret, static_losses
from taam.simulation.run import cache_dir, refuse_existing, run_seed
from taam.simulation.world import World, world_from_config

log = logging.getLogger(__name__)

# What a comparison row may change in its preset: how the mixer observes the losses, not the
# losses themselves (``method_world``).
OBSERVATION_KEYS = frozenset({"noise", "dev_noise", "memorisation", "train_offset"})


def _pm(values, digits: int = 4) -> str:
    v = np.asarray(values, dtype=np.float64)
    if not np.isfinite(v).any():
        return "–"
    return f"{np.nanmean(v):.{digits}f} ± {np.nanstd(v):.{digits}f}"


def compare_preset(cfg: DictConfig, preset: str) -> tuple[dict, World]:
    """Every method on ``preset`` for ``cfg.seeds`` seeds: per-method outcomes and the oracles."""
    # null, not the string "None" (which would cache URIEL vectors in a folder named None)
    base = [f"simulation={preset}", f"cache_dir={cfg.cache_dir or 'null'}"]
    sim = compose(config_name="simulate", overrides=base).simulation
    world = world_from_config(sim, cfg.train.epoch_cap, cache_dir(cfg), cfg.comparison.steps)
    best = oracles(world, cfg.comparison.oracle_step)
    uniform = static_losses(np.full((1, world.k), 1.0 / world.k), world)[0][0]
    reference = {"mean": float(uniform.mean()), "worst": float(uniform.max())}
    methods = {}
    for label, overrides in cfg.comparison.methods.items():
        method_cfg = compose(config_name="simulate", overrides=[*base, *overrides])
        seen_by = method_world(cfg, label, world, sim, method_cfg.simulation)
        mixers, runs = zip(
            *(run_seed(method_cfg, seen_by, cfg.seed + s) for s in range(cfg.seeds)), strict=True
        )
        results = [outcome(t, world) for t in runs]
        for r in results:
            for objective in ("mean", "worst"):
                r[f"regret_{objective}"] = regret(
                    r[objective], best[objective].value, reference[objective]
                )
        signal = runs[0].signal if mixers[0].adaptive else None
        pi = np.mean([t.pi for t in runs], axis=0)
        methods[label] = {"results": results, "pi": pi, "signal": signal}
        log.info("%s / %s: %d seeds done", preset, label, cfg.seeds)
    return {"oracles": best, "uniform": reference, "methods": methods}, world


def method_world(
    cfg: DictConfig, label: str, world: World, preset: DictConfig, sim: DictConfig
) -> World:
    """The world a method row runs in: the preset's ``world``, or one built with the row's
    ``simulation.*`` overrides where it has any.

    A row may change only what the mixer observes (OBSERVATION_KEYS: the noise of its training
    and dev losses, the memorisation gap, the scoring offset); the oracles and uniform are the
    preset's, so a row that changed the true learning curves would be scored against another
    world's oracles and is refused.
    """
    changed = sorted(
        key
        for key in set(preset) | set(sim)
        if key not in OBSERVATION_KEYS and preset.get(key) != sim.get(key)
    )
    if changed:
        raise ConfigError(
            f"comparison.methods.{label} changes simulation.{changed[0]}, which changes the "
            f"true learning curves the preset's oracles are computed on; only "
            f"{', '.join(sorted(OBSERVATION_KEYS))} may differ in a row. Make a preset for it "
            f"(configs/simulation/) instead."
        )
    if sim == preset:
        return world
    return world_from_config(sim, cfg.train.epoch_cap, cache_dir(cfg), cfg.comparison.steps)


LEGEND = [
    "Losses are the final true losses (BP-adjusted, no noise). Oracle: the best static π on a",
    "grid over the simplex (`comparison.oracle_step`) for the mean or the worst-language loss.",
    "regret = a method's loss − the oracle's; frac = regret / (uniform's loss − the oracle's)",
    "(0: as good as the oracle, 1: no better than uniform, < 0: better than any static π);",
    "closed worst = 1 − frac worst, the share of uniform's worst-language gap closed.",
    "mean abs(π − 1/K): of the final π (the symmetric control wants 0). floor: the share of the",
    "second half's updates with a language at the floor (the language most there). reward SNR:",
    "sd over languages of the mean reward over within-language noise (second half).",
]


def preset_lines(preset: str, found: dict, world: World) -> list[str]:
    """The markdown section of one preset: its oracles and the method table."""
    best, uniform = found["oracles"], found["uniform"]
    langs = world.languages
    lines = [f"### {preset}", ""]
    for objective in ("mean", "worst"):
        o = best[objective]
        gap = (uniform[objective] - o.value) / o.value
        where = (
            f"{100 * gap:.2f}% above"
            if gap >= 0
            else "below every grid point: 1/K is off the grid, uniform is the oracle here"
        )
        lines.append(
            f"- oracle for the {objective} loss: π = {_fmt_pi(o.pi)}, {o.value:.4f} "
            f"(uniform {uniform[objective]:.4f}, {where})"
        )
    lines.append("")
    rows = []
    for label, m in found["methods"].items():
        r = m["results"]
        floor = np.array([x["floor_time"] for x in r])  # [seeds, K]
        pi = np.array([x["pi"] for x in r])  # [seeds, K]
        rows.append(
            {
                "method": label,
                "signal": m["signal"] or "–",
                "π (" + "/".join(langs) + ")": _fmt_pi(pi.mean(axis=0)),
                "mean abs(π − 1/K)": _pm(np.abs(pi - 1 / world.k).mean(axis=1), 3),
                "mean loss": _pm([x["mean"] for x in r]),
                "worst loss": _pm([x["worst"] for x in r]),
                "regret mean": _pm([x["regret_mean"][0] for x in r]),
                "frac mean": _pm([x["regret_mean"][1] for x in r], 2),
                "regret worst": _pm([x["regret_worst"][0] for x in r]),
                "frac worst": _pm([x["regret_worst"][1] for x in r], 2),
                "closed worst": _pm([1 - x["regret_worst"][1] for x in r], 2),
                "floor (2nd half, max lang)": _pm(floor.max(axis=1), 2),
                "reward SNR": _pm([x["snr"] for x in r], 2),
            }
        )
    columns = list(rows[0])
    lines += markdown_table(columns, rows, text_columns={"method", "signal", columns[2]})
    return [*lines, ""]


def _fmt_pi(pi: np.ndarray) -> str:
    return "/".join(f"{p:.3f}" for p in pi)


def plot_preset(preset: str, found: dict, world: World, out_png: Path) -> Path:
    """Mean π over seeds against updates, one panel per method."""
    methods = found["methods"]
    cols = 3
    rows = -(-len(methods) // cols)
    fig = Figure(figsize=(4 * cols, 2.8 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (label, m) in zip(axes, methods.items(), strict=False):
        for i, lang in enumerate(world.languages):
            ax.plot(m["pi"][:, i], label=lang)
        ax.set_title(label, fontsize=9)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    for ax in axes[len(methods) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{preset}: mean π over seeds per mixer update")
    fig.tight_layout()
    return save_figure(fig, out_png)


def compare(cfg: DictConfig) -> Path:
    """Run the comparison; write ``compare.md``, ``compare.json`` and ``plots/pi_<preset>.png``."""
    out = Path(cfg.output_dir or Path("runs/sim") / f"{datetime.now():%Y-%m-%d_%H%M%S}_compare")
    refuse_existing(out, cfg.overwrite)
    lines = [f"# Simulated comparison: {cfg.seeds} seeds per cell (mean ± sd)", "", *LEGEND, ""]
    report = {}
    with atomic_directory(out) as tmp:
        for preset in cfg.comparison.presets:
            found, world = compare_preset(cfg, preset)
            lines += preset_lines(preset, found, world)
            plot_preset(preset, found, world, tmp / "plots" / f"pi_{preset}.png")
            report[preset] = _json(found, world)
        atomic_write_text(tmp / "compare.md", "\n".join(lines))
        write_json(tmp / "compare.json", report)
    log.info("comparison written to %s", out / "compare.md")
    return out


def _json(found: dict, world: World) -> dict:
    def per_seed(r: dict) -> dict:
        return {
            "pi": r["pi"].tolist(),
            "loss": r["loss"].tolist(),
            "mean": r["mean"],
            "worst": r["worst"],
            "floor_time_second_half": r["floor_time"].tolist(),
            "reward_snr": r["snr"],
            "regret_mean": list(r["regret_mean"]),
            "regret_worst": list(r["regret_worst"]),
        }

    return {
        "languages": list(world.languages),
        "oracles": {
            k: {"pi": o.pi.tolist(), "value": o.value} for k, o in found["oracles"].items()
        },
        "uniform": found["uniform"],
        "methods": {k: [per_seed(r) for r in m["results"]] for k, m in found["methods"].items()},
        "signals": {k: m["signal"] for k, m in found["methods"].items()},
    }
