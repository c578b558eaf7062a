"""Does the dev set rank the languages as the held-out text does? One row per split × language.

For the baseline's runs of a benchmark over splits (``splits=N``): each language's *lag*, its
adjusted loss relative to the mean over languages, ℓ_i / mean_j ℓ_j − 1, once on the held-out
text (the evaluation, ``final``) and once on the dev set (the last dev evaluation in
``metrics.csv``, what a dev-steered mixer saw last; ``dev_se_<lang>`` its relative standard
error). A mixer can only help the language that lags on held-out text if the dev lag predicts
the held-out lag: the summary gives how often the dev set names the held-out worst language and
the correlation of the two lags over run × language, pooled and within each language.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from taam.mixer.rewards import lag_standard_error
from taam.report.runs import RunRecord


def lags_pct(values: Mapping[str, float]) -> dict[str, float]:
    """Each language's lag in %: 100 · (ℓ_i / mean_j ℓ_j − 1)."""
    mean = statistics.fmean(values.values())
    return {x: 100 * (v / mean - 1) for x, v in values.items()}


def split_lags(runs: Sequence[RunRecord], languages: Sequence[str]) -> list[dict[str, Any]]:
    """Rows (split, seed, language, held-out and dev adjusted BPB, their lags in %, dev SE in %)
    of every run that has both a ``final`` held-out score and a dev evaluation."""
    rows = []
    for run in sorted(runs, key=lambda r: (r.data_seed or 0, r.seed or 0)):
        heldout = run.heldout_adjusted.get("final", {})
        dev_rows = [r for r in run.metrics if all(r.get(f"dev_bpb_{x}") for x in languages)]
        if not dev_rows or not all(x in heldout for x in languages):
            continue
        last = dev_rows[-1]
        dev = {x: float(last[f"dev_bpb_{x}"]) * run.premiums.get(x, 1.0) for x in languages}
        held_lag, dev_lag = lags_pct({x: heldout[x] for x in languages}), lags_pct(dev)
        for x in languages:
            se = last.get(f"dev_se_{x}")
            rows.append(
                {
                    "split": run.data_seed,
                    "seed": run.seed,
                    "language": x,
                    "heldout_adj": heldout[x],
                    "heldout_lag_pct": held_lag[x],
                    "dev_adj": dev[x],
                    "dev_lag_pct": dev_lag[x],
                    "dev_se_pct": None if se is None else 100 * float(se),
                }
            )
    return rows


def rows_by_run(rows: Sequence[dict[str, Any]]) -> dict[tuple, list[dict[str, Any]]]:
    """``scripts/score_splits.py`` rows grouped by run, (entry, split, seed) → its languages."""
    runs: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        runs.setdefault((row.get("entry"), row["split"], row["seed"]), []).append(row)
    return runs


def agreement(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """``runs``; ``worst_agree``: runs where the dev set's worst language is the held-out one;
    ``correlation``: Pearson r of dev and held-out lags over all rows; ``within_language``: the
    same after subtracting each language's mean lag (over runs) from both, i.e. whether the dev
    set follows the split beyond the languages' average lags (NaN where undefined)."""
    by_run = rows_by_run(rows)
    agree = sum(
        max(group, key=lambda r: r["heldout_lag_pct"])["language"]
        == max(group, key=lambda r: r["dev_lag_pct"])["language"]
        for group in by_run.values()
    )
    held = np.array([r["heldout_lag_pct"] for r in rows], dtype=float)
    dev = np.array([r["dev_lag_pct"] for r in rows], dtype=float)
    language = np.array([r["language"] for r in rows])
    held_within, dev_within = held.copy(), dev.copy()
    for lang in set(language):
        mine = language == lang
        held_within[mine] -= held[mine].mean()
        dev_within[mine] -= dev[mine].mean()
    return {
        "runs": len(by_run),
        "worst_agree": agree,
        "correlation": _pearson(held, dev),
        "within_language": _pearson(held_within, dev_within),
    }


def resolution(
    rows: Sequence[dict[str, Any]], kind: str, lag_pct: float = 1.0, z: float = 2.0
) -> dict[str, float]:
    """What a split of ``kind`` (``heldout`` or ``dev``) can resolve, from
    ``scripts/score_splits.py`` rows (``<kind>_adj``, ``<kind>_rel_se``: the relative SE of the
    language's BPB over its ``<kind>_documents``, and ``<kind>_lag_pct``/``<kind>_lag_se_pct``).

    A language's relative SE over n documents is σ/√n, so each row gives its per-document spread
    σ_x = s_x·√n_x. With every language at the same n, a lag's SE is c_i/√n, c_i the delta-method
    SE (:func:`taam.mixer.rewards.lag_standard_error`) with the σ in place of the s; with c the
    median over rows (``per_document_sd_pct``), n* = (z·c / lag)² documents per language tell a
    lag of ``lag_pct`` % from zero at ``z`` standard errors (``documents_needed``). The
    languages' own counts need not be equal (the sample's unseen text holds 126 Mandarin
    documents beside ~450 of the others): σ, not SE·√n of the lag, carries over to another n.
    ``between_splits_sd_pct`` is the lags' spread over splits (root mean square over languages of
    each language's SD of its split-mean lag)."""
    spreads = []
    for group in rows_by_run(rows).values():
        sigma = [
            float(r[f"{kind}_rel_se"]) * math.sqrt(float(r[f"{kind}_documents"])) for r in group
        ]
        adj = [float(r[f"{kind}_adj"]) for r in group]
        spreads += list(100 * lag_standard_error(np.array(adj), np.array(sigma)))
    spread = float(np.median(spreads))
    by_language: dict[str, dict[Any, list[float]]] = {}
    for row in rows:
        splits = by_language.setdefault(row["language"], {})
        splits.setdefault(row["split"], []).append(float(row[f"{kind}_lag_pct"]))
    variances = [
        statistics.variance([statistics.fmean(v) for v in splits.values()])
        for splits in by_language.values()
        if len(splits) > 1
    ]
    return {
        "documents": float(np.median([float(r[f"{kind}_documents"]) for r in rows])),
        "se_pct": float(np.median([float(r[f"{kind}_lag_se_pct"]) for r in rows])),
        "between_splits_sd_pct": math.sqrt(statistics.fmean(variances)) if variances else math.nan,
        "per_document_sd_pct": spread,
        "documents_needed": (z * spread / lag_pct) ** 2,
    }


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


def split_lags_figure(rows: Sequence[dict[str, Any]], languages: Sequence[str]) -> Figure:
    """Each split's lags: held-out filled, dev hollow, joined by a line per language."""
    splits = sorted({r["split"] for r in rows})
    fig = Figure(figsize=(max(5.0, 0.6 * len(splits) + 2), 3.6))
    ax = fig.subplots()
    for k, lang in enumerate(languages):
        colour = f"C{k}"
        mine = [r for r in rows if r["language"] == lang]
        x = [splits.index(r["split"]) + (k - (len(languages) - 1) / 2) * 0.2 for r in mine]
        held = [r["heldout_lag_pct"] for r in mine]
        dev = [r["dev_lag_pct"] for r in mine]
        for xi, h, d in zip(x, held, dev, strict=True):
            ax.plot([xi, xi], [d, h], color=colour, alpha=0.35, linewidth=1)
        ax.scatter(x, held, color=colour, s=22, label=f"{lang} held-out")
        ax.scatter(x, dev, facecolors="none", edgecolors=colour, s=22, label=f"{lang} dev")
    ax.axhline(0, color="black", linewidth=0.7)
    ax.set_xticks(range(len(splits)), [str(s) for s in splits])
    ax.set_xlabel("split (data seed)")
    ax.set_ylabel("lag, % of the mean over languages")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, ncol=len(languages))
    fig.tight_layout()
    return fig


def select_by_dev(
    rows: Sequence[dict[str, Any]], baseline: str = "uniform"
) -> list[dict[str, Any]]:
    """Model selection among trained mixtures, one row per (split, seed): the entry whose whole
    dev split has the lowest worst-language adjusted BPB, argmin_e max_i dev_adj(e, i), and its
    held-out worst-language adjusted BPB minus the baseline's (``dev_delta``).

    It bounds what a mixer steered by that dev split can be expected to find: it compares every
    mixture's *final* dev loss, where a mixer has only a running estimate. Beside it,
    ``oracle_delta`` picks by the held-out worst itself (in-sample: optimistic), and
    ``fixed_delta`` takes the entry with the best mean held-out worst over the *other* splits
    (a static mixture chosen as a researcher would; NaN with one split); ``delta_<entry>``
    is each entry's own difference. ``rows`` are
    ``scripts/score_splits.py`` rows: entry, split, seed, language, dev_adj, heldout_adj."""
    cells: dict[tuple, dict[str, dict[str, float]]] = {}  # (split, seed) → entry → worst
    for row in rows:
        worst = cells.setdefault((row["split"], row["seed"]), {}).setdefault(
            row["entry"], {"dev": -math.inf, "held": -math.inf}
        )
        worst["dev"] = max(worst["dev"], float(row["dev_adj"]))
        worst["held"] = max(worst["held"], float(row["heldout_adj"]))
    entries = sorted({row["entry"] for row in rows})
    missing = [
        f"{e} on split {k[0]} seed {k[1]}" for k, c in cells.items() for e in entries if e not in c
    ]
    if missing:
        raise ValueError(
            f"selection by dev compares the same entries on every split; missing: "
            f"{', '.join(missing)}. Finish those runs, or score only complete entries."
        )
    if baseline not in entries or len(entries) < 2:
        raise ValueError(
            f"selection by dev needs '{baseline}' and another entry scored on every split; "
            f"found {entries}: score them with "
            "scripts/score_splits.py <out_dir> entries=all."
        )
    out = []
    for key, cell in sorted(cells.items()):
        others = [c for k, c in cells.items() if k != key]
        base = cell[baseline]["held"]
        row = {"split": key[0], "seed": key[1], "baseline_worst": base}
        choices = {
            "dev": min(entries, key=lambda e: cell[e]["dev"]),
            "oracle": min(entries, key=lambda e: cell[e]["held"]),
            "fixed": min(entries, key=lambda e: statistics.fmean(c[e]["held"] for c in others))
            if others
            else None,
        }
        for name, entry in choices.items():
            row[f"{name}_choice"] = entry
            row[f"{name}_delta"] = math.nan if entry is None else cell[entry]["held"] - base
        row |= {f"delta_{e}": cell[e]["held"] - base for e in entries if e != baseline}
        out.append(row)
    return out


SELECTIONS = {  # select_by_dev's ways of choosing, as the figure labels them
    "dev": "chosen by the whole dev split",
    "fixed": "best held-out mean of the other splits",
    "oracle": "best on this split's held-out (in-sample)",
}


def selection_figure(selection: Sequence[dict[str, Any]]) -> Figure:
    """Per split, the held-out worst-language difference to the baseline (% of its value) of
    the mixture each way of choosing picks (:func:`select_by_dev`)."""
    fig = Figure(figsize=(max(5.0, 0.6 * len(selection) + 2), 3.4))
    ax = fig.subplots()
    x = np.arange(len(selection))
    for k, (name, label) in enumerate(SELECTIONS.items()):
        values = [100 * r[f"{name}_delta"] / r["baseline_worst"] for r in selection]
        ax.scatter(x + (k - 1) * 0.2, values, color=f"C{k}", s=24, label=label)
    ax.axhline(0, color="black", linewidth=0.7)
    ax.set_xticks(x, [str(r["split"]) for r in selection])
    ax.set_xlabel("split (data seed)")
    ax.set_ylabel("Δ worst adj. BPB vs baseline, %")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
