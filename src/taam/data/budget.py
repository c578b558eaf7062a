"""The BabyLM 2026 multilingual budget and its ledger.

Rule: the total budget is counted in English-equivalent words, where a language's words
are adjusted by its byte premium. BabyBabelLM fixes 1M English words = 5.43 MB of UTF-8,
so for language i

    English-equivalent words_i = bytes_i / (5.43 × BP_i).

The budget is split across languages (equal shares by default) and documents are picked
in a seeded order until each share is filled. The ledger shows bytes, whitespace words,
model tokens and English-equivalent words for every language, whichever unit is counted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from taam.data.sources import Document
from taam.errors import DataError
from taam.languages import BytePremium

BYTES_PER_ENGLISH_WORD = 5.43  # BabyBabelLM: 1M English words = 5.43 MB of UTF-8
UNITS = ("bytes", "words", "tokens")


def english_equivalent_words(nbytes: float, byte_premium: float) -> float:
    """bytes / (5.43 × BP): the words an English text of the same content would have."""
    return nbytes / (BYTES_PER_ENGLISH_WORD * byte_premium)


def whitespace_words(text: str) -> int:
    return len(text.split())


@dataclass
class LanguageSelection:
    """The documents one language contributes: training, dev (steers the mixer) and held-out."""

    train: list[Document]
    heldout: list[Document]
    share: float  # this language's share of the budget, in the budget unit
    dev: list[Document] = field(default_factory=list)  # inside the share: it steers training


@dataclass
class Selection:
    unit: str
    total: float  # the budget, in the unit (words, not millions)
    languages: dict[str, LanguageSelection] = field(default_factory=dict)


def split_shares(languages: Sequence[str], total: float, allocation: str | Mapping) -> np.ndarray:
    """Each language's share of ``total``: ``equal`` or weights per language (normalised)."""
    if allocation == "equal":
        weights = np.ones(len(languages))
    else:
        missing = [lang for lang in languages if lang not in allocation]
        if missing:
            raise DataError(
                f"data.budget.allocation has no weight for {', '.join(missing)}; give one per "
                f"language or use allocation=equal."
            )
        weights = np.array([float(allocation[lang]) for lang in languages])
        if np.any(weights < 0) or weights.sum() <= 0:
            raise DataError(f"data.budget.allocation weights must be non-negative, got {weights}.")
    return total * weights / weights.sum()


def select_documents(
    documents: Mapping[str, list[Document]],
    premiums: Mapping[str, BytePremium],
    total_words: float,
    unit: str = "bytes",
    allocation: str | Mapping = "equal",
    heldout_fraction: float = 0.05,
    seed: int = 0,
    count_tokens: Callable[[str], int] | None = None,
    dev_fraction: float = 0.0,
    heldout_unused: bool = False,
) -> Selection:
    """Fill each language's share with documents taken in a seeded random order.

    The held-out split is taken first from that order (``heldout_fraction`` of the share,
    outside the budget: it only scores the finished model). The dev split comes next
    (``dev_fraction`` of the share, *inside* the budget: text that steers the mixer steers
    training), then the training documents fill the rest of the share. The held-out split
    does not depend on ``dev_fraction``. A document that would overflow the share is skipped,
    so a share is never exceeded. With ``heldout_unused`` every document left over once the
    share is full joins the held-out split: still outside the budget and never trained on, it
    measures a lag to about 1% (one standard error) where a 5% split gives 2.5% (where the
    corpus holds more than the budget takes; the documents skipped for overflowing the share
    are among them, so it leans long); the training and dev splits do not change.
    """
    if not 0 <= dev_fraction < 1:
        raise DataError(f"data.dev_fraction must lie in [0, 1), got {dev_fraction}.")
    if unit not in UNITS:
        raise DataError(f"data.budget.unit must be one of {', '.join(UNITS)}, got '{unit}'.")
    if unit == "tokens" and count_tokens is None:
        raise ValueError("the tokens unit needs a tokenizer to count with")
    measure = _measure(unit, count_tokens)
    languages = list(documents)
    shares = split_shares(languages, total_words, allocation)
    selection = Selection(unit=unit, total=total_words)
    for lang_index, (lang, share) in enumerate(zip(languages, shares, strict=True)):
        docs = documents[lang]
        sizes = np.array([measure(d, premiums[lang].value) for d in docs])
        available = sizes.sum()
        heldout_target = heldout_fraction * share
        if available < share + heldout_target:
            raise DataError(
                f"the budget asks {share:,.0f} {unit_name(unit)} of '{lang}' (+{heldout_target:,.0f} "
                f"held out) but its data holds only {available:,.0f} ({sum(d.nbytes for d in docs):,} "
                f"bytes in {len(docs)} documents). Lower data.budget.total_words_m to at most "
                f"{available / (1 + heldout_fraction) * len(languages) / 1e6:.4f} with equal shares, "
                f"or add data for '{lang}'."
            )
        order = np.random.default_rng([seed, lang_index]).permutation(len(docs))
        heldout, dev, train, unused, held, used = [], [], [], [], 0.0, 0.0
        for i in order:
            if held < heldout_target:
                heldout.append(docs[i])
                held += sizes[i]
            elif used < dev_fraction * share and used + sizes[i] <= share:
                dev.append(docs[i])
                used += sizes[i]
            elif used + sizes[i] <= share:
                train.append(docs[i])
                used += sizes[i]
            else:
                unused.append(docs[i])
        if heldout_unused:
            heldout += unused
        selection.languages[lang] = LanguageSelection(train, heldout, share, dev)
    return selection


def _measure(
    unit: str, count_tokens: Callable[[str], int] | None
) -> Callable[[Document, float], float]:
    if unit == "bytes":
        return lambda doc, bp: english_equivalent_words(doc.nbytes, bp)
    if unit == "words":
        return lambda doc, bp: whitespace_words(doc.text)
    return lambda doc, bp: count_tokens(doc.text)


def unit_name(unit: str) -> str:
    """What a budget in ``unit`` counts, in words a reader understands."""
    return {"bytes": "English-equivalent words", "words": "whitespace words", "tokens": "tokens"}[
        unit
    ]


def build_ledger(
    selection: Selection,
    premiums: Mapping[str, BytePremium],
    tokens: Mapping[str, int],
    dev_tokens: Mapping[str, int] | None = None,
) -> dict:
    """Per language and in total: bytes, whitespace words, model tokens, BP,
    English-equivalent words, share; and whether the selection keeps the budget.

    The budget counts the training *and* the dev split (``dev_*`` columns; ``tokens`` has the
    dev split's tokens as ``dev_tokens``): both are text the run learns from.
    """
    dev_tokens = dev_tokens or {}
    rows = {}
    for lang, sel in selection.languages.items():
        nbytes = sum(d.nbytes for d in sel.train)
        dev_bytes = sum(d.nbytes for d in sel.dev)
        bp = premiums[lang]
        rows[lang] = {
            "documents": len(sel.train),
            "bytes": nbytes,
            "words": sum(whitespace_words(d.text) for d in sel.train),
            "tokens": int(tokens[lang]),
            "byte_premium": bp.value,
            "byte_premium_source": bp.source,
            "english_equivalent_words": english_equivalent_words(nbytes, bp.value),
            "share": sel.share,
            "heldout_documents": len(sel.heldout),
            "heldout_bytes": sum(d.nbytes for d in sel.heldout),
            "dev_documents": len(sel.dev),
            "dev_bytes": dev_bytes,
            "dev_words": sum(whitespace_words(d.text) for d in sel.dev),
            "dev_tokens": int(dev_tokens.get(lang, 0)),
            "dev_english_equivalent_words": english_equivalent_words(dev_bytes, bp.value),
        }
    counted = {"bytes": "english_equivalent_words", "words": "words", "tokens": "tokens"}[
        selection.unit
    ]
    columns = ("documents", "bytes", "words", "tokens", "english_equivalent_words")
    totals = {
        key: sum(r[key] for r in rows.values())
        for key in (*columns, *(f"dev_{c}" for c in columns), "share")
    }
    used = totals[counted] + totals[f"dev_{counted}"]
    return {
        "unit": selection.unit,
        "budget": selection.total,
        "counted_column": counted,
        "used": used,
        "within_budget": bool(used <= selection.total * (1 + 1e-9)),
        "languages": rows,
        "totals": totals,
    }


def check_ledger(ledger: Mapping) -> None:
    """Stop before training if the ledger breaks the budget."""
    if not ledger["within_budget"]:
        raise DataError(
            f"the budget ledger breaks the budget: {ledger['used']:,.0f} {ledger['counted_column']} "
            f"used for a budget of {ledger['budget']:,.0f}. Lower the selection or raise "
            f"data.budget.total_words_m (the BabyLM 2026 rule allows 100M)."
        )
