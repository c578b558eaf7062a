"""Can the BabyLM pipeline use this run? Each export checked with transformers alone.

For every ``checkpoints/chck_*`` and ``final``: load with ``AutoModelForCausalLM`` and
``AutoTokenizer`` (no project code), confirm a BOS token, and score one minimal pair the
way the pipeline does: text encoded without special tokens, one BOS prefix, summed
log-probability of every token after BOS, no length normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from rich.table import Table
from transformers import AutoModelForCausalLM, AutoTokenizer

from taam.errors import TaamError
from taam.export import milestone_dirs

PAIR = ("The children are playing in the garden.", "The children is playing in the garden.")


@dataclass
class ExportCheck:
    name: str
    ok: bool
    bos_token: str | None
    logprob_good: float | None
    logprob_bad: float | None
    problem: str | None = None


def sentence_logprob(model, tokenizer, text: str) -> float:
    """Σ log p(token | prefix) over ``text``'s tokens, after exactly one BOS."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    x = torch.tensor([[tokenizer.bos_token_id, *ids]])
    with torch.no_grad():
        logprobs = torch.log_softmax(model(input_ids=x).logits.double(), dim=-1)
    return float(logprobs[0, :-1].gather(1, x[0, 1:, None]).sum())


def check_export(path: Path, pair: tuple[str, str] = PAIR) -> ExportCheck:
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path).eval()
    except (OSError, ValueError) as err:
        return ExportCheck(path.name, False, None, None, None, f"does not load: {err}")
    if tokenizer.bos_token_id is None:
        return ExportCheck(path.name, False, None, None, None, "no bos_token defined")
    good, bad = (sentence_logprob(model, tokenizer, s) for s in pair)
    return ExportCheck(path.name, True, tokenizer.bos_token, good, bad)


def check_run(run_dir: str | Path) -> list[ExportCheck]:
    run_dir = Path(run_dir)
    exports = milestone_dirs(run_dir) + (
        [run_dir / "final"] if (run_dir / "final").is_dir() else []
    )
    if not exports:
        raise TaamError(
            f"{run_dir} has no exports (checkpoints/chck_*M or final/); train it first or point "
            f"run_dir at a finished run."
        )
    return [check_export(path) for path in exports]


def checks_table(checks: list[ExportCheck]) -> Table:
    table = Table(title="BabyLM pipeline compatibility")
    for column in ("export", "loads", "BOS", "log p(good)", "log p(bad)", "problem"):
        table.add_column(column)
    for c in checks:
        table.add_row(
            c.name,
            "yes" if c.ok else "NO",
            c.bos_token or "",
            _number(c.logprob_good),
            _number(c.logprob_bad),
            c.problem or "",
        )
    return table


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"
