"""One shared byte-level BPE tokenizer for all languages.

Trained on a balanced sample (the same number of UTF-8 bytes per language) so that no
language's script dominates the merges. Byte-level with no normaliser, so any text
round-trips exactly. ``tokenizer(text)`` prefixes BOS, as the BabyLM evaluation does
(it encodes without special tokens and adds exactly one BOS).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from taam.data.sources import Document

BOS, EOS, PAD = "<s>", "</s>", "<pad>"
SPECIAL_TOKENS = [PAD, BOS, EOS]


def balanced_sample(
    documents: Mapping[str, Sequence[Document]], bytes_per_language: int
) -> list[str]:
    """Up to ``bytes_per_language`` bytes of each language: the same amount for all,
    limited by the smallest language."""
    per_language = min(
        bytes_per_language, *(sum(d.nbytes for d in docs) for docs in documents.values())
    )
    texts = []
    for docs in documents.values():
        taken = 0
        for doc in docs:
            if taken >= per_language:
                break
            texts.append(doc.text)
            taken += doc.nbytes
    return texts


def train_tokenizer(texts: Sequence[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE with BOS/EOS/PAD; BOS is added in front of every encoded text."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    bos_id = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)]
    )
    return wrap(tok)


def wrap(tok: Tokenizer) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        clean_up_tokenization_spaces=False,
        model_max_length=1_000_000_000,
    )


def token_byte_lengths(tokenizer: PreTrainedTokenizerFast) -> np.ndarray:
    """UTF-8 bytes each token id stands for (0 for special tokens), indexed by id.

    Byte-level BPE maps every byte to one printable character; counting those characters
    gives the token's byte length, so Σ over a sequence's targets = the bytes it decodes to.
    """
    alphabet = set(pre_tokenizers.ByteLevel.alphabet())
    lengths = np.zeros(len(tokenizer), dtype=np.int64)
    special = set(tokenizer.all_special_ids)
    for token, index in tokenizer.get_vocab().items():
        if index not in special:
            lengths[index] = sum(1 for ch in token if ch in alphabet)
    return lengths
