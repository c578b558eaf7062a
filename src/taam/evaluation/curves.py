"""Learning curves of the evaluation: per-language held-out BPB and minimal-pair accuracy
against token exposures, one line per run (a plain matplotlib Figure: no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from taam.report.plots import save_figure

PANELS = (("bpb", "held-out bits per byte"), ("accuracy", "minimal-pair accuracy"))


def plot_curves(rows: Sequence[Mapping[str, Any]], out_png: Path, title: str) -> Path:
    """A grid: one row per metric (accuracy only when pairs were scored), one column per
    language; language-level values only (rows without a file)."""
    rows = [r for r in rows if not r["file"]]
    runs = list(dict.fromkeys(r.get("run", title) for r in rows))
    languages = list(dict.fromkeys(r["language"] for r in rows))
    panels = [(m, label) for m, label in PANELS if any(r["metric"] == m for r in rows)]
    exposures = [r["exposures_tokens"] for r in rows]
    size = (3.6 * len(languages), 3.0 * len(panels))
    fig = Figure(figsize=size)
    axes = fig.subplots(len(panels), len(languages), squeeze=False, sharex=True)
    for i, (metric, label) in enumerate(panels):
        for j, lang in enumerate(languages):
            ax = axes[i][j]
            for run in runs:
                points = sorted(
                    (r["exposures_tokens"], r["value"])
                    for r in rows
                    if r.get("run", title) == run
                    and r["language"] == lang
                    and r["metric"] == metric
                )
                if points:
                    ax.plot(*zip(*points, strict=True), marker="o", markersize=3, label=run)
            if not ax.lines:
                ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
            elif metric == "accuracy":
                ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)  # chance
                ax.set_ylim(0, 1)
            if max(exposures) > 10 * min(exposures):  # BabyLM milestones grow ×10 per decade
                ax.set_xscale("log")
            ax.grid(alpha=0.3)
            ax.set_title(lang if i == 0 else "")
            ax.set_ylabel(label if j == 0 else "")
            ax.set_xlabel("token exposures" if i == len(panels) - 1 else "")
    legend = {}  # run → its line, from whichever panel has it
    for ax in axes.flat:
        handles, labels = ax.get_legend_handles_labels()
        legend.update(zip(labels, handles, strict=True))
    ncol = min(len(legend), 3)
    fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=ncol, fontsize="small")
    fig.suptitle(title)
    legend_rows = -(-len(legend) // ncol)
    fig.tight_layout(rect=(0, 0.3 * legend_rows / size[1], 1, 1))  # ~0.3 inch per legend row
    return save_figure(fig, out_png)
