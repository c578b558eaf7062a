import pytest
import torch
import torch.nn.functional as F

from taam.model.losses import linear_cross_entropy


@pytest.mark.parametrize("chunk_elements", [7 * 50, 10**9])  # several chunks, and one
def test_matches_full_logits_cross_entropy(chunk_elements):
    torch.manual_seed(0)
    hidden = torch.randn(23, 8, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(50, 8, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 50, (23,))

    reference = F.cross_entropy(hidden @ weight.T, targets, reduction="none")
    (reference.mean() * 3).backward()
    ref_grads = hidden.grad.clone(), weight.grad.clone()
    hidden.grad = weight.grad = None

    loss, nll = linear_cross_entropy(hidden, weight, targets, chunk_elements=chunk_elements)
    (loss * 3).backward()  # the incoming gradient scales the stored ones
    assert torch.allclose(nll.double(), reference.detach(), atol=1e-5)
    assert torch.allclose(loss.double(), reference.mean(), atol=1e-5)
    assert torch.allclose(hidden.grad, ref_grads[0], atol=1e-5)
    assert torch.allclose(weight.grad, ref_grads[1], atol=1e-5)
    assert not nll.requires_grad


def test_under_bf16_autocast_matches_within_bf16_precision():
    torch.manual_seed(1)
    hidden = torch.randn(64, 16, requires_grad=True)
    weight = torch.randn(40, 16, requires_grad=True)
    targets = torch.randint(0, 40, (64,))
    reference = F.cross_entropy(hidden @ weight.T, targets)
    reference.backward()
    ref_grads = hidden.grad.clone(), weight.grad.clone()
    hidden.grad = weight.grad = None
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, _ = linear_cross_entropy(hidden, weight, targets, chunk_elements=40 * 16)
    loss.backward()
    assert hidden.grad.dtype == torch.float32 and weight.grad.dtype == torch.float32
    assert torch.allclose(loss, reference, rtol=2e-2)
    assert torch.allclose(hidden.grad, ref_grads[0], atol=2e-3, rtol=5e-2)
    assert torch.allclose(weight.grad, ref_grads[1], atol=2e-3, rtol=5e-2)


def test_forward_only_nll_equals_the_training_loss_per_token():
    """next_token_nll (dev scoring) gives the training step's per-token NLL, in small chunks
    too, and builds no graph."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from taam.model.losses import next_token_loss, next_token_nll

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=97,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=16,
    )
    model = LlamaForCausalLM(config).eval()
    tokens = torch.randint(0, 97, (3, 13))
    _, expected = next_token_loss(model, tokens)
    for chunk in (97 * 5, 1 << 20):  # 5 rows per chunk; one chunk
        nll = next_token_nll(model, tokens, chunk_elements=chunk)
        assert nll.shape == (3, 12) and not nll.requires_grad
        torch.testing.assert_close(nll, expected, rtol=1e-6, atol=1e-6)
