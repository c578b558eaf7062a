"""Per-language token shards: a flat memory-mapped token array plus document offsets.

Layout of one prepared dataset (``<cache>/<key>/``)::

    tokenizer/            the shared tokenizer (AutoTokenizer loads it)
    <lang>/train.bin      all training documents, each as BOS ids EOS, concatenated
    <lang>/dev.jsonl      the dev texts (the mixer's held-out signal, scored as evaluation scores)
    <lang>/heldout.jsonl  the held-out texts (evaluation scores text, with any tokenizer)
    meta.json             token counts of both splits, dtype, the key's inputs

A training *sequence* of language i is the window ``tokens[s·T : s·T + T + 1]``: T inputs
and T next-token targets; consecutive sequences overlap by one token so every token but
the first is a target exactly once per epoch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.progress import Progress
from transformers import PreTrainedTokenizerFast

from taam.data.sources import Document
from taam.io import atomic_directory, write_json

ENCODE_BATCH = 1024  # documents per encode_batch call (the Rust side runs them in parallel)


def dataset_key(selection_texts: Mapping[str, Sequence[str]], tokenizer_config: Mapping) -> str:
    """Content key: the selected texts in order plus the tokenizer settings."""
    digest = hashlib.sha256(json.dumps(dict(tokenizer_config), sort_keys=True).encode())
    for lang, texts in selection_texts.items():
        digest.update(lang.encode())
        for text in texts:
            digest.update(hashlib.sha256(text.encode()).digest())
    return digest.hexdigest()[:16]


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 2**16 else np.dtype(np.uint32)


def encode_documents(
    tokenizer: PreTrainedTokenizerFast,
    docs: Sequence[Document],
    dtype: np.dtype,
    on_batch: Callable[[int], None] | None = None,
) -> Iterator[np.ndarray]:
    """BOS + ids + EOS per document, a batch of documents at a time.

    Streaming keeps memory bounded by one batch, not the whole split. ``on_batch(n)`` is told
    the number of documents each encoded batch held (progress).
    """
    backend = tokenizer.backend_tokenizer
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    for start in range(0, len(docs), ENCODE_BATCH):
        batch = [d.text for d in docs[start : start + ENCODE_BATCH]]
        if on_batch is not None:
            on_batch(len(batch))
        pieces = []
        for enc in backend.encode_batch(batch, add_special_tokens=False):
            ids = np.empty(len(enc.ids) + 2, dtype=dtype)
            ids[0], ids[1:-1], ids[-1] = bos, enc.ids, eos
            pieces.append(ids)
        yield np.concatenate(pieces)


def write_shards(
    root: Path,
    tokenizer: PreTrainedTokenizerFast,
    splits: Mapping[str, Mapping[str, Sequence[Document]]],
    meta: Mapping,
) -> Path:
    """Tokenise every language's splits into ``root`` (written atomically as a whole)."""
    with atomic_directory(root) as tmp:
        dtype = token_dtype(len(tokenizer))
        tokenizer.save_pretrained(tmp / "tokenizer")
        counts: dict[str, dict[str, int]] = {}
        with Progress(*Progress.get_default_columns(), transient=True) as progress:
            for lang, by_split in splits.items():
                (tmp / lang).mkdir()
                counts[lang] = {}
                for split, docs in by_split.items():
                    task = progress.add_task(f"tokenising {lang}/{split}", total=len(docs))
                    counts[lang][split] = _write_split(
                        tmp / lang,
                        split,
                        tokenizer,
                        docs,
                        dtype,
                        lambda n, t=task: progress.advance(t, n),
                    )
        write_json(tmp / "meta.json", {**meta, "dtype": dtype.name, "tokens": counts})
    return root


def _write_split(
    folder: Path,
    split: str,
    tokenizer: PreTrainedTokenizerFast,
    docs: Sequence[Document],
    dtype: np.dtype,
    advance: Callable[[int], None],
) -> int:
    """One language's split: the training tokens, streamed to ``train.bin`` a batch at a time,
    or the dev or held-out texts in ``<split>.jsonl`` (both are scored document by document, as
    the evaluation scores text); returns the split's token count."""
    batches = encode_documents(tokenizer, docs, dtype, on_batch=advance)
    if split != "train":
        with (folder / f"{split}.jsonl").open("w", encoding="utf-8") as f:
            f.writelines(json.dumps({"text": d.text}, ensure_ascii=False) + "\n" for d in docs)
        return sum(len(tokens) for tokens in batches)
    count = 0
    with (folder / "train.bin").open("wb") as out:
        for tokens in batches:
            tokens.tofile(out)
            count += len(tokens)
    return count


@dataclass
class LanguageShard:
    """One language's training tokens, cut into overlapping windows of T + 1."""

    tokens: np.ndarray  # memory-mapped
    seq_len: int

    @property
    def num_sequences(self) -> int:
        return max(0, (len(self.tokens) - 1) // self.seq_len)

    @property
    def unique_tokens(self) -> int:
        """Target tokens in one epoch (each sequence predicts T tokens)."""
        return self.num_sequences * self.seq_len

    def sequence(self, index: int) -> np.ndarray:
        start = index * self.seq_len
        return self.tokens[start : start + self.seq_len + 1]


class ShardSet:
    """The prepared dataset at ``root``: per-language shards and the tokenizer."""

    def __init__(self, root: str | Path, languages: Sequence[str], seq_len: int) -> None:
        self.root = Path(root)
        self.meta = json.loads((self.root / "meta.json").read_text())
        self.languages = tuple(languages)
        dtype = np.dtype(self.meta["dtype"])
        self.train = {
            lang: LanguageShard(
                np.memmap(self.root / lang / "train.bin", dtype=dtype, mode="r"), seq_len
            )
            for lang in self.languages
        }

    @property
    def tokenizer_dir(self) -> Path:
        return self.root / "tokenizer"

    def dev_texts(self, lang: str) -> list[str]:
        """The language's dev documents (none for data prepared with ``dev_fraction=0``)."""
        return read_dev_texts(self.root, lang)

    def unique_tokens(self) -> np.ndarray:
        return np.array([self.train[lang].unique_tokens for lang in self.languages], dtype=np.int64)


def read_dev_texts(root: Path, lang: str) -> list[str]:
    """``<root>/<lang>/dev.jsonl``: the dev documents of prepared data at ``root``."""
    with (root / lang / "dev.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]
