"""Hugging Face causal LMs built from a config: Llama-style (default) or GPT-2-style.

Whatever the training loop does for speed, the weights stay a plain
``AutoModelForCausalLM`` that the BabyLM pipeline loads.
"""

from __future__ import annotations

from transformers import (
    AutoModelForCausalLM,
    GPT2Config,
    LlamaConfig,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

ARCHITECTURES = ("llama", "gpt2")


def model_config(
    tokenizer: PreTrainedTokenizerBase,
    arch: str = "llama",
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 2,
    intermediate_size: int | None = None,
    seq_len: int = 128,
    tie_word_embeddings: bool = True,
    dropout: float = 0.0,
) -> PretrainedConfig:
    """A transformers config whose vocabulary and special ids come from ``tokenizer``."""
    ids = {
        "vocab_size": len(tokenizer),
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "tie_word_embeddings": tie_word_embeddings,
    }
    if arch == "llama":
        return LlamaConfig(
            hidden_size=hidden_size,
            intermediate_size=intermediate_size or 4 * hidden_size,
            num_hidden_layers=num_layers,
            num_attention_heads=num_heads,
            num_key_value_heads=num_heads,
            max_position_embeddings=seq_len,
            attention_dropout=dropout,
            **ids,
        )
    if arch == "gpt2":
        return GPT2Config(
            n_embd=hidden_size,
            n_inner=intermediate_size,
            n_layer=num_layers,
            n_head=num_heads,
            n_positions=seq_len,
            resid_pdrop=dropout,
            embd_pdrop=dropout,
            attn_pdrop=dropout,
            **ids,
        )
    raise ValueError(f"model.arch must be one of {', '.join(ARCHITECTURES)}, got '{arch}'.")


def build_model(tokenizer: PreTrainedTokenizerBase, **config) -> PreTrainedModel:
    """A freshly initialised causal LM (SDPA attention) for ``tokenizer``."""
    return AutoModelForCausalLM.from_config(
        model_config(tokenizer, **config), attn_implementation="sdpa"
    )


def count_parameters(model: PreTrainedModel) -> int:
    """Parameters of ``model``, tied weights counted once."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
