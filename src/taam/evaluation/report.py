"""The evaluation's tables: ``results.csv`` (long format) and ``results.md`` (for people)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from taam.io import atomic_write_text, write_csv
from taam.report.markdown import markdown_table

COLUMNS = [
    "checkpoint",
    "exposures_tokens",
    "language",
    "metric",
    "value",
    "file",
    "phenomenon",
    "n",
]
METRICS = ("bpb", "bpb_adjusted", "accuracy")
TEXT = {"run", "checkpoint", "language", "file"}  # left-aligned in results.md; numbers right

Row = Mapping[str, Any]


def write_results(out_dir: Path, rows: Sequence[Row], title: str) -> list[Path]:
    """``results.csv`` with a leading ``run`` column when the rows come from several runs."""
    columns = ["run", *COLUMNS] if rows and "run" in rows[0] else COLUMNS
    return [
        write_csv(out_dir / "results.csv", rows, columns),
        atomic_write_text(out_dir / "results.md", results_markdown(rows, title)),
    ]


def results_markdown(rows: Sequence[Row], title: str) -> str:
    """One row per (run ×) checkpoint × language with a column per metric; then the accuracy
    per minimal-pair file at each run's last checkpoint."""
    lead = ["run"] if rows and "run" in rows[0] else []
    summary: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        if row["file"]:  # per-file and per-phenomenon accuracies: second table and results.csv
            continue
        cells = summary.setdefault(
            (row.get("run"), row["checkpoint"], row["language"]),
            {**row, "exposures_tokens": f"{row['exposures_tokens']:,}"},
        )
        cells[row["metric"]] = _number(row["value"])
        if row["metric"] == "accuracy":
            cells["pairs"] = row["n"]
    last = {row.get("run"): row["checkpoint"] for row in rows}  # rows come in checkpoint order
    per_file = [
        {**row, "accuracy": _number(row["value"]), "pairs": row["n"]}
        for row in rows
        if row["file"] and not row["phenomenon"] and row["checkpoint"] == last[row.get("run")]
    ]
    lines = [
        f"# Evaluation: {title}",
        "",
        "Held-out bits per byte (`bpb`, lower is better) and its byte-premium-adjusted value "
        "(`bpb_adjusted` = bpb × BP: bits per English-equivalent byte); minimal-pair accuracy "
        "(higher is better, chance 0.5, a tie counts 0.5). Per-phenomenon accuracies are in "
        "results.csv.",
        "",
        *markdown_table(
            [*lead, "checkpoint", "exposures_tokens", "language", *METRICS, "pairs"],
            summary.values(),
            TEXT,
        ),
    ]
    if per_file:
        lines += [
            "",
            "## Minimal pairs per file, last checkpoint",
            "",
            *markdown_table(
                [*lead, "checkpoint", "language", "file", "accuracy", "pairs"], per_file, TEXT
            ),
        ]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return f"{value:.4f}"
