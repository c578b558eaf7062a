"""Figures of a run directory, written as PNG files (matplotlib, Agg backend: no display)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from taam.io import atomic_write_bytes


def plot_pi(mixer_csv_path: str | Path, out_png: str | Path, floor: float | None = None) -> Path:
    """π per language over token exposures from ``mixer.csv``; the floor γ/K as a dashed line."""
    with open(mixer_csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{mixer_csv_path} has no mixer updates to plot")
    languages = [c.removeprefix("pi_") for c in rows[0] if c.startswith("pi_")]
    exposures = [int(r["exposures_tokens"]) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    for lang in languages:
        ax.plot(exposures, [float(r[f"pi_{lang}"]) for r in rows], label=lang)
    if floor is not None:
        ax.axhline(
            floor, color="grey", linestyle="--", linewidth=1, label=f"floor γ/K = {floor:.3g}"
        )
    ax.set_xlabel("token exposures")
    ax.set_ylabel("π (sampling probability)")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return atomic_write_bytes(out_png, buffer.getvalue())


def plot_metrics(metrics_csv: str | Path, out_dir: str | Path, languages) -> list[Path]:
    """Per-language training loss (nats/token) and BPB over token exposures from metrics.csv."""
    with open(metrics_csv, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r.get("exposures_tokens")]
    if not rows:
        raise ValueError(f"{metrics_csv} has no per-language metrics to plot")
    written = []
    for metric, label in (
        ("loss", "training loss (nats/token)"),
        ("bpb", "training bits per byte"),
    ):
        fig, ax = plt.subplots(figsize=(7, 4))
        for lang in languages:
            points = [
                (float(r["exposures_tokens"]), float(r[f"{metric}_{lang}"]))
                for r in rows
                if r.get(f"{metric}_{lang}")
            ]
            if points:
                ax.plot(*zip(*points, strict=True), label=lang)
        ax.set_xlabel("token exposures")
        ax.set_ylabel(label)
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120)
        plt.close(fig)
        written.append(atomic_write_bytes(Path(out_dir) / f"{metric}.png", buffer.getvalue()))
    return written
