"""From sources to shards: the data half of a run, with its budget ledger.

sources → budget selection → tokenizer (balanced sample) → per-language shards, all cached
under a content key so that a second run with the same data skips tokenisation.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from taam.data import budget as budget_rules
from taam.data.shards import ShardSet, dataset_key, write_shards
from taam.data.sources import Document, load_source
from taam.data.tokenizer import balanced_sample, train_tokenizer
from taam.errors import DataError
from taam.languages import byte_premiums, check_code

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "heldout")  # dev: inside the budget, steers the mixer; heldout: scores
SHARD_LAYOUT = 2  # part of the cache key: shards cached by an older layout are not reused


@dataclass
class PreparedData:
    shards: ShardSet
    ledger: dict
    tokenizer_dir: Path


def prepare_data(cfg: Mapping, seq_len: int, cache_dir: str | Path) -> PreparedData:
    """Select, tokenise and shard the data described by the ``data`` config group."""
    languages = [check_code(lang) for lang in cfg["languages"]]
    if len(set(languages)) != len(languages):
        raise DataError(f"data.languages lists a language twice: {languages}")
    missing = [lang for lang in languages if lang not in cfg["source"]]
    if missing:
        raise DataError(
            f"data.source has no entry for {', '.join(missing)}; add data.source.<lang>=sample, "
            f"a folder, or hf:<dataset id or saved copy>."
        )
    premiums = byte_premiums(languages, cfg.get("byte_premium") or {})
    documents = {lang: load_source(lang, str(cfg["source"][lang])) for lang in languages}
    tok_cfg = dict(cfg["tokenizer"])
    tokenizer, count_tokens = None, None
    if cfg["budget"]["unit"] == "tokens":  # counting in model tokens needs the tokenizer first
        tokenizer = _train(documents, tok_cfg)
        backend = tokenizer.backend_tokenizer

        def count_tokens(text: str) -> int:
            return len(backend.encode(text, add_special_tokens=False).ids)

    selection = select(cfg, documents, premiums, count_tokens)
    check_training_split(selection)
    texts = {
        f"{lang}/{split}": [d.text for d in getattr(sel, split)]
        for lang, sel in selection.languages.items()
        for split in SPLITS
    }
    trained_on = "candidates" if tokenizer else "selection"
    key = dataset_key(texts, {**tok_cfg, "trained_on": trained_on, "layout": SHARD_LAYOUT})
    root = Path(cache_dir).expanduser() / key
    with cache_key_lock(root):  # one process tokenises a key; the others wait, then reuse it
        if (root / "meta.json").exists():
            log.info("data: reusing cached shards %s (skipping tokenisation)", root)
        else:
            log.info("data: tokenising into %s", root)
            tokenizer = tokenizer or _train(
                {k: v.train for k, v in selection.languages.items()}, tok_cfg
            )
            splits = {
                lang: {split: getattr(sel, split) for split in SPLITS}
                for lang, sel in selection.languages.items()
            }
            meta = {"key": key, "languages": languages, "tokenizer": tok_cfg}
            write_shards(root, tokenizer, splits, meta)
    shards = ShardSet(root, languages, seq_len)
    counts = shards.meta["tokens"]
    tokens = {lang: counts[lang]["train"] for lang in languages}
    dev_tokens = {lang: counts[lang].get("dev", 0) for lang in languages}
    ledger = budget_rules.build_ledger(selection, premiums, tokens, dev_tokens)
    ledger["data_key"] = key
    ledger["data_seed"] = int(cfg["seed"])
    ledger["heldout_sha256"] = {
        lang: heldout_hash(sel.heldout) for lang, sel in selection.languages.items()
    }
    # The dev split steers the mixer; the held-out split only scores: both hashed, never shared.
    ledger["dev_sha256"] = {
        lang: heldout_hash(sel.dev) for lang, sel in selection.languages.items()
    }
    return PreparedData(shards=shards, ledger=ledger, tokenizer_dir=shards.tokenizer_dir)


def select(
    cfg: Mapping,
    documents: Mapping[str, list[Document]],
    premiums: Mapping,
    count_tokens: Callable[[str], int] | None = None,
) -> budget_rules.Selection:
    """The budget selection the ``data`` config describes (held-out, dev and training split)."""
    budget = cfg["budget"]
    return budget_rules.select_documents(
        documents,
        premiums,
        total_words=float(budget["total_words_m"]) * 1e6,
        unit=budget["unit"],
        allocation=budget.get("allocation", "equal"),
        heldout_fraction=float(cfg["heldout_fraction"]),
        seed=int(cfg["seed"]),
        count_tokens=count_tokens,
        dev_fraction=float(cfg.get("dev_fraction", 0.0)),
        heldout_unused=bool(cfg.get("heldout_unused", False)),
    )


def heldout_hash(documents: Sequence[Document]) -> str:
    """SHA-256 of a split's texts in order: equal hashes, identical text (held-out or dev)."""
    digest = hashlib.sha256()
    for doc in documents:
        digest.update(hashlib.sha256(doc.text.encode("utf-8")).digest())
    return digest.hexdigest()


def check_training_split(selection: budget_rules.Selection) -> None:
    """Every language needs training text: say which has none before anything is tokenised."""
    for lang, sel in selection.languages.items():
        if not sel.train:
            held = sum(d.nbytes for d in sel.heldout)
            raise budget_rules.DataError(
                f"language '{lang}' gets no training text: its whole share of the budget went "
                f"to held-out text ({len(sel.heldout)} document(s), {held:,} bytes); raise "
                f"data.budget.total_words_m or give {lang} smaller documents."
            )


@contextmanager
def cache_key_lock(root: Path) -> Iterator[None]:
    """Hold ``<root>.lock`` exclusively: concurrent runs with the same data key take turns."""
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.with_name(root.name + ".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("data: another process is tokenising %s; waiting for it", root.name)
            fcntl.flock(lock, fcntl.LOCK_EX)
        remove_stale_temporaries_of(root)
        yield


def remove_stale_temporaries_of(root: Path) -> None:
    """The ``.<key>.*.tmp`` folders a killed tokenisation left (we hold the key's lock)."""
    for stale in root.parent.glob(f".{root.name}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)


def _train(documents: Mapping, tok_cfg: Mapping):
    return train_tokenizer(
        balanced_sample(documents, tok_cfg["sample_bytes_per_language"]), tok_cfg["vocab_size"]
    )


DEV_COUNTED = ("documents", "bytes", "words", "tokens", "english_equivalent_words")


def ledger_table(ledger: Mapping) -> Table:
    """The ledger as a rich table: one row per language and their total (training text), then
    the dev split and the total the budget counts (training + dev: dev text steers training)."""
    counted = budget_rules.unit_name(ledger["unit"])
    table = Table(title=f"Budget ledger: budget {ledger['budget']:,.0f} {counted}")
    for column in (
        "language",
        "documents",
        "bytes",
        "words",
        "tokens",
        "byte premium",
        "eng-equiv words",
        "budget share",  # the language's part of the budget, in the title's unit
    ):
        table.add_column(column, justify="right")
    totals = ledger["totals"]
    has_dev = bool(totals.get("dev_documents"))  # then the budget is shared: see "budgeted"
    rows = [
        *list(ledger["languages"].items()),
        (
            "training",
            {**totals, "byte_premium": None, "share": None if has_dev else totals["share"]},
        ),
    ]
    if has_dev:
        dev = {k: totals[f"dev_{k}"] for k in DEV_COUNTED}
        both = {k: totals[k] + dev[k] for k in DEV_COUNTED}
        rows += [
            ("dev split", {**dev, "byte_premium": None, "share": None}),
            ("budgeted", {**both, "byte_premium": None, "share": totals["share"]}),
        ]
    for lang, r in rows:
        table.add_row(
            lang,
            f"{r['documents']:,}",
            f"{r['bytes']:,}",
            f"{r['words']:,}",
            f"{r['tokens']:,}",
            "" if r["byte_premium"] is None else f"{r['byte_premium']:.4f}",
            f"{r['english_equivalent_words']:,.0f}",
            "" if r["share"] is None else f"{r['share']:,.0f}",
        )
    return table


def print_ledger(ledger: Mapping) -> None:
    # Logs and pipes get 120 columns (rich would assume 80 and truncate the numbers).
    Console(width=None if sys.stdout.isatty() else 120).print(ledger_table(ledger))
