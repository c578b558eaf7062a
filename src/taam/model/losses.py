"""Next-token cross-entropy through the LM head, without materialising the full logits.

For a batch of N target positions and a vocabulary of V tokens the logits are N × V: at the
BabyLM scale (32,768 tokens × 16,384) that is 2 GiB in fp32, and autograd would keep them for
the backward pass. :class:`LinearCrossEntropy` fuses the head and the loss instead: it walks
the rows in chunks, and for each chunk computes the logits, the per-token NLL

    ℓ_n = logsumexp_v(z_nv) − z_{n,y_n},    z = h Wᵀ,

and at once the gradients of the mean loss L = (1/N) Σ ℓ_n,

    ∂L/∂z_n = (softmax(z_n) − onehot(y_n)) / N,   ∂L/∂h = (∂L/∂z) W,   ∂L/∂W = (∂L/∂z)ᵀ h,

so only one chunk of logits ever exists. The backward pass scales the stored gradients by
the incoming gradient of L. The per-token NLL comes back (detached) for the per-language
statistics.

:func:`next_token_loss` is the training step's forward pass (decoder, head, loss) and
:func:`compile_next_token_loss` compiles it as one graph: ``fullgraph=True`` turns any graph
break into an error, and the chunk loop, whose trip count depends only on shapes, unrolls.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import PreTrainedModel

# Rows per chunk: chunk × V logits in fp32 stay around 256 MiB at V = 16,384.
DEFAULT_CHUNK_ELEMENTS = 64 * 1024 * 1024


class LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx, hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, chunk_rows: int
    ):
        n = hidden.shape[0]
        compute = _compute_dtype(hidden)  # bf16 under autocast, else the input's dtype
        acc = torch.promote_types(compute, torch.float32)  # softmax and sums in fp32 at least
        nll = torch.empty(n, dtype=acc, device=hidden.device)
        grad_hidden = torch.empty_like(hidden)
        grad_weight = torch.zeros(weight.shape, dtype=acc, device=weight.device)
        w = weight.to(compute)
        # Every matmul below runs in `compute` by choice; autocast would leave the in-place
        # addmm_ in fp32, several times slower on a GPU.
        with torch.autocast(hidden.device.type, enabled=False):
            for start in range(0, n, chunk_rows):
                rows = slice(start, min(start + chunk_rows, n))
                h, y = hidden[rows].to(compute), targets[rows]
                index = torch.arange(len(y), device=y.device)
                logits = (h @ w.T).to(acc)
                logits -= torch.logsumexp(logits, dim=-1, keepdim=True)  # now log-softmax
                nll[rows] = -logits[index, y]
                grad_logits = logits.exp_()  # softmax, in place
                grad_logits[index, y] -= 1.0
                grad_logits /= n
                grad_compute = grad_logits.to(compute)
                grad_hidden[rows] = grad_compute @ w
                grad_weight += grad_compute.T @ h
        ctx.save_for_backward(grad_hidden, grad_weight.to(weight.dtype))
        loss = nll.mean()
        ctx.mark_non_differentiable(nll)
        return loss, nll

    @staticmethod
    def backward(ctx, grad_loss: torch.Tensor, grad_nll: torch.Tensor):
        grad_hidden, grad_weight = ctx.saved_tensors
        return (
            grad_hidden * grad_loss.to(grad_hidden.dtype),
            grad_weight * grad_loss.to(grad_weight.dtype),
            None,
            None,
        )


def _compute_dtype(hidden: torch.Tensor) -> torch.dtype:
    device = hidden.device.type
    if torch.is_autocast_enabled(device):
        return torch.get_autocast_dtype(device)
    return hidden.dtype


def linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean NLL with gradients, per-token NLL detached) for ``hidden [N, d] @ weight [V, d]ᵀ``."""
    chunk_rows = max(1, chunk_elements // weight.shape[0])
    return LinearCrossEntropy.apply(hidden, weight, targets, chunk_rows)


def next_token_loss(
    model: PreTrainedModel, tokens: torch.Tensor, chunk_elements: int = DEFAULT_CHUNK_ELEMENTS
) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean NLL, per-token NLL [B, T] detached) of ``tokens[:, 1:]`` given ``tokens[:, :-1]``.

    The decoder's hidden states go through the LM head and the loss chunk by chunk
    (:func:`linear_cross_entropy`), so the full fp32 logits never exist.
    """
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    # With a cache object (use_cache), transformers skips its packed-sequence check of the
    # position ids: eager, that check reads the device (a host sync per step); compiled, it
    # builds an explicit T × T mask, which rules out SDPA's flash kernel. Nothing is cached
    # beyond the keys and values autograd keeps anyway.
    hidden = model.base_model(input_ids=inputs, use_cache=True).last_hidden_state
    head = model.get_output_embeddings().weight
    loss, nll = linear_cross_entropy(hidden.flatten(0, 1), head, targets.flatten(), chunk_elements)
    return loss, nll.view_as(targets)


@torch.no_grad()
def next_token_nll(
    model: PreTrainedModel, tokens: torch.Tensor, chunk_elements: int = DEFAULT_CHUNK_ELEMENTS
) -> torch.Tensor:
    """Per-token NLL ``[B, T]`` of ``tokens[:, 1:]``, forward only (held-out scoring).

    The same ℓ_n = logsumexp_v(z_nv) − z_{n,y_n} as :class:`LinearCrossEntropy`, chunk by
    chunk, without the gradients that its forward pass computes for training (which would make
    scoring cost as much as a training step).
    """
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    hidden = model.base_model(input_ids=inputs, use_cache=True).last_hidden_state.flatten(0, 1)
    weight = model.get_output_embeddings().weight
    compute = _compute_dtype(hidden)
    acc = torch.promote_types(compute, torch.float32)
    flat = targets.flatten()
    nll = torch.empty(len(flat), dtype=acc, device=hidden.device)
    chunk_rows = max(1, chunk_elements // weight.shape[0])
    w = weight.to(compute)
    with torch.autocast(hidden.device.type, enabled=False):
        for start in range(0, len(flat), chunk_rows):
            rows = slice(start, min(start + chunk_rows, len(flat)))
            logits = (hidden[rows].to(compute) @ w.T).to(acc)
            picked = logits.gather(1, flat[rows, None]).squeeze(1)
            nll[rows] = torch.logsumexp(logits, dim=-1) - picked
    return nll.view_as(targets)


def compile_next_token_loss(backend: str = "inductor") -> Callable[..., tuple[torch.Tensor, ...]]:
    """:func:`next_token_loss` as one compiled graph, forward and backward (no graph breaks)."""
    return torch.compile(next_token_loss, fullgraph=True, backend=backend)
