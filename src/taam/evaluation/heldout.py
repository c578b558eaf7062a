"""Held-out bits per byte (BPB): a tokenizer-independent loss, comparable across runs.

Each held-out document d is scored as BOS + its token ids (as in training) and

    BPB_L = Σ_d Σ_t −log₂ p(x_t | context) / Σ_d bytes_UTF-8(d)

pooled over the language's documents (every token after BOS predicted once; byte-level BPE
tokens decode to exactly the text's bytes). The byte-premium-adjusted value divides by
English-equivalent bytes instead, bytes / BP_L, so BPB_adj = BPB × BP_L: bits per
English-equivalent byte, comparable across scripts (DESIGN.md, the mixer's ℓ^adj in bits).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from taam.errors import EvalError


def read_heldout(run_dir: Path) -> tuple[dict[str, list[str]], dict[str, float]]:
    """The held-out texts and the byte premium of every language in the run's ledger."""
    ledger_path = run_dir / "ledger.json"
    if not ledger_path.is_file():
        raise EvalError(
            f"{run_dir} has no ledger.json: it is not a TAAM run directory. Point run_dir at a "
            "directory written by `python src/train.py`."
        )
    languages = json.loads(ledger_path.read_text(encoding="utf-8"))["languages"]
    texts = {lang: _read_texts(run_dir / "heldout" / f"{lang}.jsonl") for lang in languages}
    return texts, {lang: float(entry["byte_premium"]) for lang, entry in languages.items()}


def _read_texts(path: Path) -> list[str]:
    if not path.is_file():
        raise EvalError(
            f"{path} is missing: the run's ledger lists this language but its held-out "
            "documents were not copied. Re-run training to completion for this run directory."
        )
    with path.open(encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    if not texts:
        raise EvalError(f"{path} is empty: there are no held-out documents to score.")
    return texts


def bits_per_byte(logprobs_nats: Sequence[float], texts: Sequence[str]) -> float:
    """Σ −log p / ln 2 over all documents ÷ Σ UTF-8 bytes (see the module docstring)."""
    bits = -float(np.sum(logprobs_nats)) / math.log(2)
    return bits / sum(len(text.encode("utf-8")) for text in texts)
