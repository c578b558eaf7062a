"""Figures of a run directory and of a comparison of runs, written as PNG files.

Figures are plain ``matplotlib.figure.Figure`` objects, not pyplot state: no backend or display
is needed to write them, and a notebook shows the same figures with ``display(fig)``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter

from taam.io import atomic_write_bytes

if TYPE_CHECKING:
    from taam.comparison import RunRecord


def save_figure(fig: Figure, out_png: str | Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    return atomic_write_bytes(out_png, buffer.getvalue())


def plot_pi(
    mixer_csv_path: str | Path,
    out_png: str | Path,
    floor: float | None = None,
    title: str | None = None,
) -> Path:
    """π per language over token exposures from ``mixer.csv``; the floor γ/K as a dashed line;
    ``title``: the run's name."""
    with open(mixer_csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{mixer_csv_path} has no mixer updates to plot")
    languages = [c.removeprefix("pi_") for c in rows[0] if c.startswith("pi_")]
    exposures = [int(r["exposures_tokens"]) for r in rows]
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for lang in languages:
        ax.plot(exposures, [float(r[f"pi_{lang}"]) for r in rows], label=lang)
    _floor_line(ax, floor)
    _exposure_axis(ax)
    ax.set_ylabel("π (sampling probability)")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.grid(alpha=0.3)
    _title(fig, title)
    return save_figure(fig, out_png)


def plot_metrics(
    metrics_csv: str | Path, out_dir: str | Path, languages, title: str | None = None
) -> list[Path]:
    """Per-language training loss (nats/token) and BPB over token exposures from metrics.csv;
    ``title``: the run's name."""
    with open(metrics_csv, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r.get("exposures_tokens")]
    if not rows:
        raise ValueError(f"{metrics_csv} has no per-language metrics to plot")
    written = []
    for metric, label in (
        ("loss", "training loss (nats/token)"),
        ("bpb", "training bits per byte"),
    ):
        fig = Figure(figsize=(7, 4))
        ax = fig.subplots()
        for lang in languages:
            points = [
                (float(r["exposures_tokens"]), float(r[f"{metric}_{lang}"]))
                for r in rows
                if r.get(f"{metric}_{lang}")
            ]
            if points:
                ax.plot(*zip(*points, strict=True), label=lang)
        _exposure_axis(ax)
        ax.set_ylabel(label)
        ax.legend()
        ax.grid(alpha=0.3)
        _title(fig, title)
        written.append(save_figure(fig, Path(out_dir) / f"{metric}.png"))
    return written


def pi_by_method(
    groups: Mapping[str, Sequence[RunRecord]], languages: Sequence[str], title: str | None = None
) -> Figure:
    """One panel per method (× reward): π per language over exposures, a thin line per seed,
    the floor γ/K dashed; ``title``: the sweep's name."""
    fig = Figure(figsize=(4.2 * len(groups), 3.6))
    axes = fig.subplots(1, len(groups), squeeze=False, sharey=True)[0]
    colours = _colours(languages)
    for ax, (label, runs) in zip(axes, groups.items(), strict=True):
        for run in runs:
            exposures = [row["exposures_tokens"] for row in run.mixer]
            for lang in languages:
                values = [row.get(f"pi_{lang}") for row in run.mixer]
                ax.plot(exposures, values, color=colours[lang], alpha=0.8, linewidth=1)
        if runs[0].floor is not None:
            _floor_line(ax, runs[0].floor)
            ax.legend(loc="upper right", fontsize="small")
        ax.set_title(f"{label} ({_seeds(runs)})")
        _exposure_axis(ax)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("π (sampling probability)")
    _language_legend(fig, colours)
    _title(fig, title, rect=(0, 0, 0.9, 1))
    return fig


def bpb_by_method(
    groups: Mapping[str, Sequence[RunRecord]], languages: Sequence[str], title: str | None = None
) -> Figure:
    """One panel per language: training BPB over exposures, a line per method (mean of seeds);
    ``title``: the sweep's name."""
    fig = Figure(figsize=(4.2 * len(languages), 3.6))
    axes = fig.subplots(1, len(languages), squeeze=False)[0]
    for ax, lang in zip(axes, languages, strict=True):
        for label, runs in groups.items():
            curve = _mean_curve([run.training_curve(f"bpb_{lang}") for run in runs])
            if curve:
                ax.plot(*zip(*curve, strict=True), label=f"{label} ({_seeds(runs)})")
        ax.set_title(lang)
        _exposure_axis(ax)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("training bits per byte")
    axes[-1].legend(fontsize="small")
    _title(fig, title)
    return fig


def _mean_curve(curves: Sequence[Sequence[tuple[float, float]]]) -> list[tuple[float, float]]:
    """The mean over seeds at each exposure count that every seed logged (same windows)."""
    by_x: dict[float, list[float]] = {}
    for curve in curves:
        for x, y in curve:
            by_x.setdefault(x, []).append(y)
    return [
        (x, math.fsum(ys) / len(ys)) for x, ys in sorted(by_x.items()) if len(ys) == len(curves)
    ]


def _exposure_axis(ax) -> None:
    """Token exposures with SI prefixes (``100k``, ``1.2M``), so that close ticks stay apart."""
    ax.set_xlabel("token exposures")
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))


def _title(fig: Figure, title: str | None, rect=(0, 0, 1, 1)) -> None:
    """The run's or sweep's name above the panels, then a layout that leaves room for it."""
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=rect)


def _floor_line(ax, floor: float | None) -> None:
    if floor is not None:
        ax.axhline(
            floor, color="grey", linestyle="--", linewidth=1, label=f"floor γ/K = {floor:.3g}"
        )


def _colours(languages: Sequence[str]) -> dict[str, str]:
    return {lang: f"C{i}" for i, lang in enumerate(languages)}


def _language_legend(fig: Figure, colours: Mapping[str, str]) -> None:
    handles = [
        fig.axes[0].plot([], [], color=colour, label=lang)[0] for lang, colour in colours.items()
    ]
    fig.legend(handles=handles, loc="center right", title="π of")


def _seeds(runs: Sequence[RunRecord]) -> str:
    return f"{len(runs)} seed{'s' if len(runs) != 1 else ''}"
