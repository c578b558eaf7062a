"""Helpers for the evaluation tests (no tests here): a tiny tokenizer, tiny Llama models with
fixed seeds, run directories laid out as training leaves them, and direct log-probabilities."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, LlamaConfig, PreTrainedModel

from taam.data.tokenizer import train_tokenizer
from tests_support import compose_config

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "eval"
PREMIUMS = {"eng": 1.0, "nld": 1.0516, "zho": 0.9894}
HELDOUT = {
    "eng": [
        "The cat sleeps on the mat. The dogs run in the park.",
        "I am ready. The bird sings in the morning, and the children play outside. " * 4,
    ],
    "nld": ["De kat slaapt op de mat.", "Ik heb het boek gelezen. Wij lopen naar huis. " * 3],
    "zho": ["我们买了三本书。他把书放在桌子上。", "今天天气很好。她被老师表扬了。" * 3],
}


@cache
def tiny_tokenizer():
    """A byte-level BPE with BOS/EOS/PAD trained on the test texts (300 tokens)."""
    texts = [text for docs in HELDOUT.values() for text in docs]
    return train_tokenizer(texts * 5, vocab_size=300)


def tiny_model(seed: int, max_positions: int = 256) -> PreTrainedModel:
    """A 2-layer Llama with random weights; a wide init makes its preferences distinct."""
    tok = tiny_tokenizer()
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        initializer_range=0.2,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    return AutoModelForCausalLM.from_config(config).eval()


def save_checkpoint(path: Path, seed: int, exposures_tokens: int) -> Path:
    """An HF-format checkpoint directory as training exports it (with taam_state.json)."""
    tiny_model(seed).save_pretrained(path)
    tiny_tokenizer().save_pretrained(path)
    (path / "taam_state.json").write_text(json.dumps({"exposures_tokens": exposures_tokens}))
    return path


def make_run_dir(root: Path, checkpoints: dict[str, int] | None = None) -> Path:
    """ledger.json, heldout/<lang>.jsonl and checkpoints (name → exposures; seed = position)."""
    if checkpoints is None:
        checkpoints = {"chck_1M": 1_000_000, "final": 1_500_000}
    root.mkdir(parents=True)
    ledger = {"languages": {lang: {"byte_premium": bp} for lang, bp in PREMIUMS.items()}}
    (root / "ledger.json").write_text(json.dumps(ledger))
    (root / "heldout").mkdir()
    for lang, docs in HELDOUT.items():
        lines = [json.dumps({"text": d}, ensure_ascii=False) for d in docs]
        (root / "heldout" / f"{lang}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for seed, (name, exposures) in enumerate(checkpoints.items()):
        parent = root if name == "final" else root / "checkpoints"
        save_checkpoint(parent / name, seed, exposures)
    return root


def eval_config(overrides: list[str]):
    """The config ``python src/eval.py <overrides>`` would see."""
    return compose_config(overrides, config_name="eval")


def direct_logprob(model: PreTrainedModel, ids: list[int]) -> float:
    """Σ_{t≥1} log p(x_t | x_{<t}) over the whole sequence in one forward pass (float64)."""
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double()
    logprobs = torch.log_softmax(logits, dim=-1)
    return float(logprobs[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].sum())


def sentence_ids(text: str) -> list[int]:
    """BOS + the text encoded without special tokens (the BabyLM pipeline's encoding)."""
    tok = tiny_tokenizer()
    return [tok.bos_token_id, *tok(text, add_special_tokens=False)["input_ids"]]
