"""Can the BabyLM pipeline use this run? Each export checked with transformers alone.

For every ``checkpoints/chck_*`` and ``final``: load with ``AutoModelForCausalLM`` and
``AutoTokenizer`` (no project code), confirm a BOS token, and score one minimal pair with
the evaluation's scorer (:mod:`taam.evaluation.scoring`), which scores as the pipeline does:
text encoded without special tokens, one BOS prefix, summed log-probability of every token
after BOS, no length normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.table import Table
from transformers import AutoModelForCausalLM, AutoTokenizer

from taam.errors import TaamError
from taam.evaluation.scoring import encode_with_bos, sequence_logprobs
from taam.publish.export import milestone_dirs

PAIR = ("The children are playing in the garden.", "The children is playing in the garden.")


@dataclass
class ExportCheck:
    name: str
    ok: bool
    bos_token: str | None
    logprob_good: float | None
    logprob_bad: float | None
    problem: str | None = None


def check_export(path: Path, pair: tuple[str, str] = PAIR) -> ExportCheck:
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path).eval()
    except (OSError, ValueError) as err:
        return ExportCheck(path.name, False, None, None, None, f"does not load: {err}")
    if tokenizer.bos_token_id is None:
        return ExportCheck(path.name, False, None, None, None, "no bos_token defined")
    context = model.config.max_position_embeddings
    sequences = encode_with_bos(tokenizer, list(pair))
    good, bad = sequence_logprobs(model, sequences, context, context, batch_size=len(pair))
    return ExportCheck(path.name, True, tokenizer.bos_token, float(good), float(bad))


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
