"""Paired comparison of methods against a baseline, seed by seed (and split by split).

Run s of a method and run s of the baseline share the seed, the data and the held-out text, so
their difference d_s = x_s(method) − x_s(baseline) removes what the seed does to both. Per
method, over the n independent units u (below):

    d̄ = (1/n) Σ_u d_u,   95% interval d̄ ± t_{0.975, n−1} · sd(d) / √n

for x = the worst language's adjusted BPB (max_i BPB_i × BP_i), the mean adjusted BPB over
languages, and each language's adjusted BPB. A unit is a win where d_u < −tie, a loss where
d_u > tie and a tie otherwise (lower BPB is better).

The unit: with one data split (every run scored on the same held-out text) each seed; in a
benchmark over splits (data seeds, ``splits=N``) each split, d_u its mean over its seeds. Seeds
of one split share its held-out, dev and training documents, so over splits they are not
independent draws; the split is, and the interval over splits is the one for a claim about the
method rather than about one held-out text.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from scipy import stats

from taam.report.comparison import job_row
from taam.report.runs import RunRecord


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): mean ± t_{(1+c)/2, n−1} · sd / √n; NaN bounds for fewer than 2 values."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = stats.t.ppf((1 + confidence) / 2, len(values) - 1) * statistics.stdev(values)
    half /= math.sqrt(len(values))
    return mean, mean - half, mean + half


def wins_ties_losses(differences: Sequence[float], tie: float) -> tuple[int, int, int]:
    """Differences to the baseline (lower is better) below −tie, within ±tie, above +tie."""
    wins = sum(d < -tie for d in differences)
    losses = sum(d > tie for d in differences)
    return wins, len(differences) - wins - losses, losses


def compared_columns(languages: Sequence[str]) -> list[str]:
    """The per-run quantities that are differenced: worst, mean and per-language adjusted BPB."""
    return ["bpb_adj_worst", "bpb_adj_mean", *(f"bpb_adj_final_{lang}" for lang in languages)]


def seed_differences(
    groups: Mapping[str, Sequence[RunRecord]], baseline: str, languages: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per method × shared (split, seed): d_s of every compared column (``d_<column>``)."""

    def pair(run: RunRecord) -> tuple[int | None, int | None]:
        return (run.data_seed, run.seed)

    def order(run: RunRecord) -> tuple[int, int]:
        return (-1 if run.data_seed is None else run.data_seed, run.seed or 0)

    base = {pair(run): job_row(run, languages) for run in groups[baseline]}
    rows = []
    for label, runs in groups.items():
        for run in sorted(runs, key=order):
            if pair(run) not in base:
                continue
            job = job_row(run, languages)
            row: dict[str, Any] = {
                "method": label,
                "split": run.data_seed,
                "seed": run.seed,
                "run": run.name,
            }
            for column in compared_columns(languages):
                x, x0 = job[column], base[pair(run)][column]
                row[f"d_{column}"] = None if x is None or x0 is None else x - x0
            rows.append(row)
    return rows


def unit_differences(
    pairs: Sequence[Mapping[str, Any]], column: str, by_split: bool = False
) -> list[float]:
    """The paired differences of ``column`` (``d_<name>``) as independent units: one per pair
    (seed), or with ``by_split`` one per split, its mean over seeds (a method whose pairs all
    fall in one split then has one unit and no interval, never an interval over seeds)."""
    values = [d for d in pairs if d[column] is not None]
    if not by_split:
        return [d[column] for d in values]
    by_split_values: dict[Any, list[float]] = {}
    for d in values:
        by_split_values.setdefault(d["split"], []).append(d[column])
    return [statistics.fmean(v) for v in by_split_values.values()]


def paired_rows(
    groups: Mapping[str, Sequence[RunRecord]],
    baseline: str,
    languages: Sequence[str],
    tie: float = 0.0,
    confidence: float = 0.95,
    by_split: bool = False,
) -> list[dict[str, Any]]:
    """One row per method, ranked by its mean worst-language adjusted BPB (best first);
    ``by_split``: the unit of the interval and of W/T/L is the split (see the module docstring).

    Columns: the method's own means (adjusted worst and mean BPB, raw worst BPB, final π and
    time at the floor per language), then for each compared column the paired difference's
    mean and interval (``d_<column>``, ``_low``, ``_high``), and wins/ties/losses on the
    worst-language difference.
    """
    if baseline not in groups:
        raise KeyError(f"baseline '{baseline}' has no finished runs; methods: {list(groups)}")
    differences = seed_differences(groups, baseline, languages)
    rows = []
    for label, runs in groups.items():
        jobs = [job_row(run, languages) for run in runs]
        row: dict[str, Any] = {"method": label, "seeds": len(runs)}
        for column in ["bpb_adj_worst", "bpb_adj_mean", "bpb_worst", *_run_columns(languages)]:
            values = [job[column] for job in jobs if job[column] is not None]
            row[column] = statistics.fmean(values) if values else None
        mine = [d for d in differences if d["method"] == label]
        row["paired_seeds"] = len(mine)
        row["paired_splits"] = len({d["split"] for d in mine})
        for column in compared_columns(languages):
            values = unit_differences(mine, f"d_{column}", by_split)
            mean, low, high = t_interval(values, confidence) if values else (None,) * 3
            row |= {f"d_{column}": mean, f"d_{column}_low": low, f"d_{column}_high": high}
        worst = unit_differences(mine, "d_bpb_adj_worst", by_split)
        row["wins"], row["ties"], row["losses"] = wins_ties_losses(worst, tie)
        rows.append(row)
    return sorted(
        rows, key=lambda r: math.inf if r["bpb_adj_worst"] is None else r["bpb_adj_worst"]
    )


def paired_columns(languages: Sequence[str]) -> list[str]:
    intervals = [f"d_{c}{s}" for c in compared_columns(languages) for s in ("", "_low", "_high")]
    own = ["bpb_adj_worst", "bpb_adj_mean", "bpb_worst", *_run_columns(languages)]
    return [
        "method",
        "seeds",
        "paired_seeds",
        "paired_splits",
        *own,
        *intervals,
        "wins",
        "ties",
        "losses",
    ]


def _run_columns(languages: Sequence[str]) -> list[str]:
    return [
        *(f"pi_{lang}" for lang in languages),
        *(f"share_{lang}" for lang in languages),
        *(f"time_at_floor_{lang}" for lang in languages),
    ]
