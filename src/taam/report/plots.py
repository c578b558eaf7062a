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
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter

from taam.io import atomic_write_bytes

if TYPE_CHECKING:
    from taam.report.runs import RunRecord


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
    for metric, name, label in (
        ("loss_nats_per_token", "loss", "training loss (nats/token)"),
        ("bpb", "bpb", "training bits per byte"),
    ):
        fig = Figure(figsize=(7, 4))
        ax = fig.subplots()
        curves = {
            lang: [
                (float(r["exposures_tokens"]), float(r[f"{metric}_{lang}"]))
                for r in rows
                if r.get(f"{metric}_{lang}")
            ]
            for lang in languages
        }
        if not any(curves.values()):
            raise ValueError(f"{metrics_csv} has no {metric}_<lang> column to plot")
        for lang, points in curves.items():
            if points:
                ax.plot(*zip(*points, strict=True), label=lang)
        _exposure_axis(ax)
        ax.set_ylabel(label)
        ax.legend()
        ax.grid(alpha=0.3)
        _title(fig, title)
        written.append(save_figure(fig, Path(out_dir) / f"{name}.png"))
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
    labels = [f"{label} ({_seeds(runs)})" for label, runs in groups.items()]
    fig = Figure(figsize=(4.2 * len(languages), 3.6 + _LEGEND_ROW * _legend_rows(labels)))
    axes = fig.subplots(1, len(languages), squeeze=False)[0]
    styles = _method_styles(groups)
    for ax, lang in zip(axes, languages, strict=True):
        for label, runs in groups.items():
            curve = _mean_curve([run.training_curve(f"bpb_{lang}") for run in runs])
            if curve:
                colour, linestyle = styles[label]
                ax.plot(
                    *zip(*curve, strict=True),
                    color=colour,
                    linestyle=linestyle,
                    label=f"{label} ({_seeds(runs)})",
                )
        ax.set_title(lang)
        _exposure_axis(ax)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("training bits per byte")
    _title(fig, title, rect=_method_legend(fig, axes[0]))
    return fig


_LEGEND_ROW = 0.19  # inches of figure height per legend row below the panels


def _method_styles(labels: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Label → (colour, line style): ten colours, then the same ten dashed, dotted...: no two
    methods share a line style."""
    return {
        label: (f"C{i % 10}", ("-", "--", ":", "-.")[i // 10 % 4]) for i, label in enumerate(labels)
    }


def _legend_rows(labels: Sequence[str]) -> int:
    """Short labels share a row, four at a time; long ones (sweep keys) get a row each."""
    columns = 1 if max(map(len, labels), default=0) > 40 else 4
    return math.ceil(len(labels) / columns)


def _method_legend(fig: Figure, ax) -> tuple[float, float, float, float]:
    """The methods' legend below the panels; return the rectangle left for the panels (for
    ``tight_layout``). The figure's height must include ``_LEGEND_ROW`` per legend row."""
    handles, labels = ax.get_legend_handles_labels()
    rows = _legend_rows(labels)
    columns = math.ceil(len(labels) / rows) if rows else 1
    fig.legend(handles, labels, loc="lower center", ncol=columns, fontsize="small", frameon=False)
    return (0, (_LEGEND_ROW * rows + 0.1) / fig.get_figheight(), 1, 1)


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


def paired_differences(
    per_seed: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
    baseline: str,
    languages: Sequence[str],
) -> Figure:
    """One panel per quantity (worst language, then each language's adjusted BPB): each
    method's paired difference to the baseline, a dot per pair (seed, or split × seed) and the
    mean with its interval (over seeds, or over splits: ``taam.report.paired``)."""
    panels = [("bpb_adj_worst", "worst language"), *((f"bpb_adj_final_{x}", x) for x in languages)]
    methods = [row["method"] for row in rows if row["method"] != baseline]
    fig = Figure(figsize=(3.4 * len(panels), 0.45 * len(methods) + 1.6))
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    for ax, (column, title) in zip(axes, panels, strict=True):
        for y, method in enumerate(methods):
            dots = [d[f"d_{column}"] for d in per_seed if d["method"] == method]
            ax.scatter(dots, [y] * len(dots), color="grey", s=10, alpha=0.6, zorder=2)
            row = next(r for r in rows if r["method"] == method)
            mean, low, high = row[f"d_{column}"], row[f"d_{column}_low"], row[f"d_{column}_high"]
            if mean is not None:
                if not math.isnan(low):
                    ax.plot([low, high], [y, y], color="C0", linewidth=2, zorder=1)
                ax.plot([mean], [y], "o", color="C0", zorder=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(title)
        ax.set_xlabel(f"Δ adjusted BPB vs {baseline}")
        ax.grid(alpha=0.3, axis="x")
    axes[0].set_yticks(range(len(methods)), methods)
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig


def pi_band_by_method(
    groups: Mapping[str, Sequence[RunRecord]], languages: Sequence[str]
) -> Figure:
    """One panel per method: π per language over exposures, the mean over seeds as a line and
    the seeds' min–max as a band; the floor γ/K dashed."""
    columns = min(len(groups), 4)
    nrows = math.ceil(len(groups) / columns)
    fig = Figure(figsize=(3.6 * columns, 3.0 * nrows))
    axes = fig.subplots(nrows, columns, squeeze=False, sharey=True).ravel()
    colours = _colours(languages)
    for ax, (label, runs) in zip(axes[: len(groups)], groups.items(), strict=True):
        for lang in languages:
            curves = [
                [(r["exposures_tokens"], r[f"pi_{lang}"]) for r in run.mixer if r.get(f"pi_{lang}")]
                for run in runs
            ]
            band = _band(curves)
            if band:
                xs, means, lows, highs = zip(*band, strict=True)
                ax.plot(xs, means, color=colours[lang], linewidth=1.2)
                ax.fill_between(xs, lows, highs, color=colours[lang], alpha=0.2, linewidth=0)
        _floor_line(ax, runs[0].floor)
        ax.set_title(f"{label} ({_seeds(runs)})", fontsize="medium")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    for ax in axes[-columns:]:
        ax.set_xlabel("token exposures")
    _language_legend(fig, colours)
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    return fig


def heldout_by_method(
    groups: Mapping[str, Sequence[RunRecord]], languages: Sequence[str]
) -> Figure:
    """One panel per language: held-out adjusted BPB at each checkpoint over exposures, a line
    per method (mean over seeds)."""
    fig = Figure(figsize=(4.2 * len(languages), 3.8 + _LEGEND_ROW * _legend_rows(list(groups))))
    axes = fig.subplots(1, len(languages), squeeze=False)[0]
    styles = _method_styles(groups)
    for ax, lang in zip(axes, languages, strict=True):
        for label, runs in groups.items():
            curves = [
                sorted(
                    (run.checkpoint_exposures[ckpt], scores[lang])
                    for ckpt, scores in run.heldout_adjusted.items()
                    if lang in scores
                )
                for run in runs
            ]
            curve = _mean_curve(curves)
            if curve:
                colour, linestyle = styles[label]
                ax.plot(
                    *zip(*curve, strict=True),
                    color=colour,
                    linestyle=linestyle,
                    marker="o",
                    markersize=3,
                    label=label,
                )
        ax.set_title(lang)
        _exposure_axis(ax)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("held-out adjusted BPB (BPB × BP)")
    fig.tight_layout(rect=_method_legend(fig, axes[0]))
    return fig


def _band(
    curves: Sequence[Sequence[tuple[float, float]]],
) -> list[tuple[float, float, float, float]]:
    """(x, mean, min, max) over seeds at each x that every seed logged."""
    by_x: dict[float, list[float]] = {}
    for curve in curves:
        for x, y in curve:
            by_x.setdefault(x, []).append(y)
    return [
        (x, math.fsum(ys) / len(ys), min(ys), max(ys))
        for x, ys in sorted(by_x.items())
        if len(ys) == len(curves)
    ]
