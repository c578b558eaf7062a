"""Data-preparation throughput: tokenisation and sharding in MB/s, and a projection.

    python bench/data_prep.py [--repeat 3]

Measures on the embedded sample (three languages): the shared BPE's training on the
balanced sample, and encoding + sharding with the Rust tokenizer's parallel batch encoding
(the path `taam.data.shards` uses) against one-document-at-a-time encoding (the peer).
Projects the time to prepare the full BabyLM 2026 budget (100M English-equivalent words,
equal shares): bytes_i = share × 5.43 × BP_i.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from taam.data.budget import BYTES_PER_ENGLISH_WORD
from taam.data.shards import encode_documents, write_shards
from taam.data.sources import load_sample
from taam.data.tokenizer import balanced_sample, train_tokenizer
from taam.languages import byte_premiums

LANGUAGES = ("eng", "nld", "zho")


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def sequential_encode(tokenizer, docs) -> None:
    backend = tokenizer.backend_tokenizer
    for doc in docs:
        backend.encode(doc.text, add_special_tokens=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--vocab-size", type=int, default=16384)
    args = parser.parse_args()
    docs = {lang: load_sample(lang) for lang in LANGUAGES}
    all_docs = [d for lang in LANGUAGES for d in docs[lang]]
    megabytes = sum(d.nbytes for d in all_docs) / 1e6

    train_s = best_of(1, lambda: train_tokenizer(balanced_sample(docs, 2_000_000), args.vocab_size))
    tokenizer = train_tokenizer(balanced_sample(docs, 2_000_000), args.vocab_size)
    dtype = np.dtype(np.uint16)
    batch_s = best_of(args.repeat, lambda: list(encode_documents(tokenizer, all_docs, dtype)))
    seq_s = best_of(args.repeat, lambda: sequential_encode(tokenizer, all_docs))
    with tempfile.TemporaryDirectory() as tmp:
        splits = {lang: {"train": docs[lang], "heldout": docs[lang][:5]} for lang in LANGUAGES}
        shard_s = best_of(
            args.repeat,
            lambda: write_shards(Path(tmp) / "shards", tokenizer, splits, {"bench": True}),
        )

    premium = byte_premiums(LANGUAGES)
    full_bytes = sum(100e6 / 3 * BYTES_PER_ENGLISH_WORD * premium[lang].value for lang in LANGUAGES)
    shard_rate = megabytes / shard_s
    result = {
        "bench": "data_prep",
        "cores": os.cpu_count(),
        "sample_mb": round(megabytes, 3),
        "tokenizer_training_s": round(train_s, 2),
        "encode_batch_mb_per_s": round(megabytes / batch_s, 2),
        "encode_sequential_mb_per_s": round(megabytes / seq_s, 2),
        "batch_over_sequential": round(seq_s / batch_s, 2),
        "encode_and_shard_mb_per_s": round(shard_rate, 2),
        "babylm_budget_mb": round(full_bytes / 1e6, 1),
        "projected_babylm_shard_minutes": round(full_bytes / 1e6 / shard_rate / 60, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
