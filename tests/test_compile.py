"""``train.compile=true``: decoder, LM head and chunked loss compile as one graph, unchanged.

Graph breaks are decided by Dynamo's tracing, whatever the backend, so ``aot_eager`` (no
code generation) stands in for Inductor here and keeps the tests to seconds on a CPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from taam.data.tokenizer import token_byte_lengths, train_tokenizer
from taam.mixer.base import MixContext
from taam.mixer.static import uniform
from taam.model.build import build_model
from taam.model.losses import compile_next_token_loss, next_token_loss
from taam.model.module import TaamModule

TEXTS = ["The installer asks questions.", "Dit is een zin over Debian.", "这是一个关于软件的句子。"]


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXTS * 20, vocab_size=300)


@pytest.fixture
def model(tokenizer):
    torch.manual_seed(0)
    return build_model(tokenizer, hidden_size=32, num_layers=2, num_heads=2, seq_len=16)


@pytest.fixture
def tokens(tokenizer):
    return torch.randint(0, len(tokenizer), (4, 17), generator=torch.Generator().manual_seed(1))


def test_one_graph_no_breaks_and_flash_eligible_attention(model, tokens):
    torch._dynamo.reset()
    with torch.autocast("cpu", dtype=torch.bfloat16):  # what bf16-mixed runs on a GPU
        explained = torch._dynamo.explain(next_token_loss)(model, tokens)
    assert explained.graph_break_count == 0, explained.break_reasons
    assert explained.graph_count == 1
    # No explicit mask, causal flag set: SDPA may pick its flash kernel.
    attention = [
        node
        for node in explained.graphs[0].graph.nodes
        if node.target is torch.nn.functional.scaled_dot_product_attention
    ]
    assert len(attention) == model.config.num_hidden_layers
    assert all(n.kwargs["attn_mask"] is None and n.kwargs["is_causal"] for n in attention)


@pytest.mark.parametrize("bf16", [False, True], ids=["fp32", "bf16-autocast"])
def test_compiled_forward_and_backward_match_eager(model, tokens, tokenizer, bf16):
    chunk = 16 * len(tokenizer)  # 16 rows a chunk: the loop runs 4 times over 64 targets
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)
    with autocast:
        loss, nll = next_token_loss(model, tokens, chunk)
    loss.backward()
    expected = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)

    torch._dynamo.reset()
    with autocast:
        compiled = compile_next_token_loss(backend="aot_eager")(model, tokens, chunk)
    compiled[0].backward()
    assert torch.allclose(compiled[0], loss, atol=1e-6)
    assert torch.allclose(compiled[1], nll, atol=1e-6) and compiled[1].shape == (4, 16)
    for name, p in model.named_parameters():
        assert torch.allclose(p.grad, expected[name], atol=1e-6), name


def test_train_compile_uses_the_compiled_loss(model, tokenizer):
    mixer = uniform(MixContext(("eng", "nld", "zho"), np.ones(3), np.ones(3), 1))
    lengths = token_byte_lengths(tokenizer)
    plain = TaamModule(model, mixer, lengths, update_interval=1)
    compiled = TaamModule(model, mixer, lengths, update_interval=1, compile_model=True)
    assert plain.next_token_loss is next_token_loss
    assert compiled.next_token_loss.__wrapped__ is next_token_loss
