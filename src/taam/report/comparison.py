"""Compare runs (a sweep's, or any): the tables and figures of ``python src/summarize.py``.

Reads each run directory's summary.json, config.yaml, ledger.json, mixer.csv, metrics.csv and,
where ``src/eval.py`` has scored it, eval/results.csv. Per job: final π, final and best BPB,
the byte-premium-adjusted BPB (BPB × BP) and the time at the floor per language, and the worst
language, chosen on adjusted BPB (the unit the budget equalises; raw BPB stays a secondary
column). BPB is the held-out bits per byte of the ``final`` checkpoint where the evaluation has
run (source ``held-out``), else the last training window's (source ``training``); best BPB is
the lowest over the evaluated checkpoints, or over the training windows.

Seeds are averaged only over runs whose whole configuration is the same except the seed (and
keys that only name or place a run: :data:`NOT_IDENTITY`); runs of one method that differ in
anything else are separate rows, labelled with the keys that differ. Per row: the mean ± sd over
seeds of the jobs that completed or stopped. Writes into the sweep folder::

    summary.md  summary.csv  summary_by_method.csv  plots/pi_by_method.png  plots/bpb_by_method.png
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from taam.errors import ComparisonError
from taam.io import atomic_write_text, write_csv
from taam.report.markdown import markdown_table
from taam.report.plots import bpb_by_method, pi_by_method, save_figure
from taam.report.runs import (
    NOT_IDENTITY,
    RunRecord,
    differing_keys,
    find_runs,
    group_by_method,
    is_run_dir,
    languages_of,
    load_runs,
    unaveraged,
)
from taam.run.status import FINISHED

TEXT = ("run", "method", "status", "bpb_source")  # left-aligned in summary.md; numbers right
HELDOUT, TRAINING = "held-out", "training"


# -- tables ------------------------------------------------------------------------------
def metric_columns(languages: Sequence[str]) -> list[str]:
    return [
        *(f"pi_{lang}" for lang in languages),
        *(f"share_{lang}" for lang in languages),
        *(f"bpb_adj_final_{lang}" for lang in languages),
        "bpb_adj_worst",
        "bpb_adj_mean",
        *(f"bpb_final_{lang}" for lang in languages),
        *(f"bpb_best_{lang}" for lang in languages),
        "bpb_worst",
        *(f"time_at_floor_{lang}" for lang in languages),
    ]


def adjusted_final(
    run: RunRecord, languages: Sequence[str], source: str
) -> dict[str, float | None]:
    """BPB × BP per language at the end: the evaluation's ``bpb_adjusted`` of ``final``, or the
    last training window's BPB × the ledger's byte premium."""
    if source == HELDOUT:
        return {lang: run.heldout_adjusted.get("final", {}).get(lang) for lang in languages}
    final, _ = _bpb(run, languages, TRAINING)
    return {
        lang: final[lang] * run.premiums[lang]
        if final[lang] is not None and lang in run.premiums
        else None
        for lang in languages
    }


def job_row(run: RunRecord, languages: Sequence[str]) -> dict[str, Any]:
    """One job: identity, status, and the metric columns (None where a value is missing).

    The worst language is the one with the highest adjusted BPB; ``bpb_worst`` is the highest
    raw BPB (secondary: raw BPB favours scripts with more bytes per word)."""
    source = HELDOUT if "final" in run.heldout else TRAINING
    final, best = _bpb(run, languages, source)
    adjusted = adjusted_final(run, languages, source)
    at_floor = run.summary.get("time_at_floor") or {}
    pi = run.summary.get("pi") or {}
    shares = exposure_shares(run.summary)
    known = {lang: v for lang, v in adjusted.items() if v is not None}
    worst = max(known, key=known.get) if known else None
    raw = [v for v in final.values() if v is not None]
    row: dict[str, Any] = {
        "run": run.name,
        "method": run.method,
        "reward": run.reward or "",
        "seed": run.seed,
        "status": run.status,
        "steps": run.summary.get("step"),
        "exposures_tokens": run.summary.get("exposures_tokens"),
        "bpb_source": source if run.status in FINISHED else "",
    }
    for lang in languages:
        row[f"pi_{lang}"] = pi.get(lang)
        row[f"share_{lang}"] = shares.get(lang)
        row[f"bpb_adj_final_{lang}"] = adjusted[lang]
        row[f"bpb_final_{lang}"] = final[lang]
        row[f"bpb_best_{lang}"] = best[lang]
        row[f"time_at_floor_{lang}"] = at_floor.get(lang)
    row["bpb_adj_worst"] = known[worst] if worst else None
    row["bpb_adj_mean"] = statistics.fmean(known.values()) if len(known) == len(languages) else None
    row["bpb_worst"] = max(raw) if raw else None
    row["worst_language"] = worst or ""
    return row


def exposure_shares(summary: dict) -> dict[str, float]:
    """Language → its fraction of the run's token exposures: what π did over the whole run
    (the final π alone hides an early skew)."""
    total = summary.get("exposures_tokens")
    per_language = summary.get("per_language") or {}
    if not total:
        return {}
    return {lang: v["exposures_tokens"] / total for lang, v in per_language.items()}


def method_rows(
    runs: Sequence[RunRecord], languages: Sequence[str], pooled: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """One row per configuration (see :func:`group_by_method`): seeds (and the ``pooled``
    keys' values) averaged (``<column>_mean``, ``<column>_sd``)."""
    rows = []
    for label, group in group_by_method(runs, pooled).items():
        jobs = [job_row(run, languages) for run in group]
        row: dict[str, Any] = {
            "method": group[0].method,
            "reward": group[0].reward or "",
            "label": label,
            "seeds": len(group),
            "failed": sum(r.label == group[0].label and r.status == "failed" for r in runs),
            "bpb_source": "/".join(sorted({job["bpb_source"] for job in jobs})),
        }
        for column in metric_columns(languages):
            values = [job[column] for job in jobs if job[column] is not None]
            row[f"{column}_mean"] = statistics.fmean(values) if values else None
            row[f"{column}_sd"] = statistics.stdev(values) if len(values) > 1 else None
        rows.append(row)
    return rows


def job_columns(languages: Sequence[str]) -> list[str]:
    identity = ["run", "method", "reward", "seed", "status", "steps", "exposures_tokens"]
    return [*identity, "bpb_source", *metric_columns(languages), "worst_language"]


def method_columns(languages: Sequence[str]) -> list[str]:
    stats = [f"{c}_{s}" for c in metric_columns(languages) for s in ("mean", "sd")]
    return ["method", "reward", "label", "seeds", "failed", "bpb_source", *stats]


def markdown(runs: Sequence[RunRecord], title: str, pooled: Sequence[str] = ()) -> str:
    """summary.md: the method × reward table (mean ± sd over seeds and ``pooled``), then every
    job."""
    languages = languages_of(runs)
    headers = _headers(languages)
    by_method = [
        {
            "method": row["label"],
            "seeds": f"{row['seeds']}" + (f" ({row['failed']} failed)" if row["failed"] else ""),
            "bpb_source": row["bpb_source"],
            **{c: _mean_sd(row[f"{c}_mean"], row[f"{c}_sd"], c) for c in metric_columns(languages)},
        }
        for row in method_rows(runs, languages, pooled)
    ]
    jobs = []
    for run in runs:
        row = job_row(run, languages)
        cells = {c: _number(row[c], c) for c in metric_columns(languages)}
        jobs.append({**row, **cells, "method": run.label})
    lines = [
        f"# Runs compared: {title}",
        "",
        "π: final sampling probability. BPB: bits per byte (lower is better), held-out at the "
        "`final` checkpoint where `src/eval.py` has run (source `held-out`), else the last "
        "training window's (source `training`); adj: BPB × byte premium (bits per "
        "English-equivalent byte); worst adj: the highest adjusted BPB over languages; worst "
        "BPB: the highest raw BPB; best: the lowest over evaluated checkpoints or training "
        "windows. Floor: fraction of mixer updates with π at the floor γ/K (adaptive methods).",
        *_split_note(runs, pooled),
        *(["", f"**{w}**"] if (w := comparability_warning(runs, pooled)) else []),
        "",
        f"## By configuration (mean ± sd over {' and '.join(['seeds', *pooled])})",
        "",
        *markdown_table(
            ["method", "seeds", "bpb_source", *metric_columns(languages)], by_method, TEXT, headers
        ),
        "",
        "## Every job",
        "",
        *markdown_table(
            ["run", "method", "seed", "status", "bpb_source", *metric_columns(languages)],
            jobs,
            TEXT,
            headers,
        ),
    ]
    return "\n".join(lines) + "\n"


def write_summary(
    runs: Sequence[RunRecord], out_dir: str | Path, title: str, pooled: Sequence[str] = ()
) -> list[Path]:
    """summary.md, summary.csv, summary_by_method.csv and plots/ in ``out_dir``; a row per
    configuration averages its seeds and the values of the ``pooled`` keys."""
    out_dir = Path(out_dir)
    languages = languages_of(runs)
    written = [
        atomic_write_text(out_dir / "summary.md", markdown(runs, title, pooled)),
        write_csv(
            out_dir / "summary.csv",
            [job_row(run, languages) for run in runs],
            job_columns(languages),
        ),
        write_csv(
            out_dir / "summary_by_method.csv",
            method_rows(runs, languages, pooled),
            method_columns(languages),
        ),
    ]
    groups = {label: g for label, g in group_by_method(runs, pooled).items() if g[0].mixer}
    if groups:
        plots = out_dir / "plots"
        pi_fig = pi_by_method(groups, languages, title)
        bpb_fig = bpb_by_method(groups, languages, title)
        written.append(save_figure(pi_fig, plots / "pi_by_method.png"))
        written.append(save_figure(bpb_fig, plots / "bpb_by_method.png"))
    return written


def summarize(
    sweep_dir: str | None,
    run_dirs: Sequence[str],
    out_dir: str | None,
    pooled: Sequence[str] = (),
) -> tuple[list[RunRecord], list[Path]]:
    """``python src/summarize.py``: the runs of ``sweep_dir`` (or ``run_dirs``), compared; the
    ``pooled`` config keys are averaged like the seed (``pool=[data.seed]``)."""
    if bool(sweep_dir) == bool(run_dirs):
        raise ComparisonError(
            "give exactly one of sweep_dir=<folder> (a sweep, or any folder of run "
            "directories) or run_dirs=[<run>,<run>,...] (then also out_dir=<folder>)."
        )
    if run_dirs and not out_dir:
        raise ComparisonError("with run_dirs=[...], say where the tables go: out_dir=<folder>.")
    paths = find_runs(sweep_dir) if sweep_dir else [Path(p) for p in run_dirs]
    missing = [str(p) for p in paths if not is_run_dir(p)]
    if missing:
        raise ComparisonError(f"not run directories (no summary.json or config.yaml): {missing}")
    runs = load_runs(paths)
    known = {key for run in runs for key in run.identity}
    unknown = [key for key in pooled if key not in known]
    if unknown:
        raise ComparisonError(
            f"pool={list(pooled)}: {unknown} is in no run's config.yaml among the keys that tell "
            f"runs apart ({', '.join(NOT_IDENTITY)} are always pooled); pool flat config keys "
            "that the runs set, e.g. 'pool=[data.seed]'."
        )
    out = Path(out_dir or sweep_dir)
    return runs, write_summary(runs, out, title=out.name, pooled=pooled)


# What makes rows of one table comparable: the same length of training, the same text, and
# BPB measured on the same kind of text. Pooled keys (pool=[data.seed]) are meant to differ.
COMPARABLE = ("train.max_steps", "data.languages", "data.budget.total_words_m", "data.seed")


def comparability_warning(runs: Sequence[RunRecord], pooled: Sequence[str] = ()) -> str | None:
    """A warning when the compared runs differ in what makes their numbers comparable."""
    finished = [r for r in runs if r.status in FINISHED]
    differ = [k for k in differing_keys(finished) if k in COMPARABLE and k not in pooled]
    problems = [
        f"{k} ({', '.join(sorted({repr(r.identity.get(k)) for r in finished}))})" for k in differ
    ]
    sources = {HELDOUT if "final" in r.heldout else TRAINING for r in finished}
    if len(sources) > 1:
        problems.append("BPB from held-out text for some runs and training windows for others")
    if not problems:
        return None
    return (
        "Caution: these runs are not comparable as they stand; they differ in "
        + "; ".join(problems)
        + ". Compare runs of one length and data, all scored by src/eval.py."
    )


def _split_note(runs: Sequence[RunRecord], pooled: Sequence[str] = ()) -> list[str]:
    split = unaveraged(runs, pooled)
    if not split:
        return []
    named = "; ".join(f"{label}: {', '.join(keys)}" for label, keys in split.items())
    return ["", f"Not averaged (the runs differ in more than their seed): {named}."]


# -- reading -----------------------------------------------------------------------------
def _bpb(
    run: RunRecord, languages: Sequence[str], source: str
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Final and best BPB per language from the held-out evaluation or the training windows."""
    final: dict[str, float | None] = {}
    best: dict[str, float | None] = {}
    for lang in languages:
        if source == HELDOUT:
            values = [scores[lang] for scores in run.heldout.values() if lang in scores]
            final[lang] = run.heldout["final"].get(lang)
        else:
            values = [y for _, y in run.training_curve(f"bpb_{lang}")]
            final[lang] = values[-1] if values else None
        best[lang] = min(values) if values else None
    return final, best


# -- markdown ----------------------------------------------------------------------------
def _headers(languages: Sequence[str]) -> dict[str, str]:
    headers = {
        "bpb_source": "BPB source",
        "bpb_worst": "worst BPB",
        "bpb_adj_worst": "worst adj",
        "bpb_adj_mean": "mean adj",
    }
    for lang in languages:
        headers |= {
            f"pi_{lang}": f"π {lang}",
            f"share_{lang}": f"share {lang}",
            f"bpb_final_{lang}": f"BPB {lang}",
            f"bpb_adj_final_{lang}": f"adj {lang}",
            f"bpb_best_{lang}": f"best BPB {lang}",
            f"time_at_floor_{lang}": f"floor {lang}",
        }
    return headers


def _decimals(column: str) -> int:
    return 2 if column.startswith("time_at_floor") else 3


def _number(value: float | None, column: str) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.{_decimals(column)}f}"


def _mean_sd(mean: float | None, sd: float | None, column: str) -> str:
    if sd is None:
        return _number(mean, column)
    return f"{_number(mean, column)} ± {_number(sd, column)}"
