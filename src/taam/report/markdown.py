"""Markdown tables, as results.md and summary.md show them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any


def markdown_table(
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    text_columns: Collection[str],
    headers: Mapping[str, str] | None = None,
) -> list[str]:
    """The lines of a table: a header, left-aligned ``text_columns``, right-aligned numbers."""
    headers = headers or {}
    return [
        "| " + " | ".join(headers.get(c, c) for c in columns) + " |",
        "|" + "|".join("---" if c in text_columns else "---:" for c in columns) + "|",
        *("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows),
    ]
