"""Summed log-probabilities of token sequences under a causal LM: batched and windowed.

A sequence is x_0 … x_{n-1} with x_0 = BOS (the BabyLM pipeline's convention: the text is
encoded without special tokens and exactly one BOS is put in front). Its score is

    log p(x_1 … x_{n-1} | x_0) = Σ_{t=1}^{n-1} log p(x_t | x_{<t})        (nats)

with the log-softmax computed in float64 from the model's logits and summed in float64.

A sequence longer than the context C (by default the model's max positions) is cut into
windows of C inputs that start every ``stride`` tokens; each window scores only the targets
no earlier window scored, so every token is predicted exactly once, with at least C − stride
tokens of context (all of them inside the first window). ``stride = C`` (the default) gives
disjoint windows: the context restarts at each window, as in training, where sequences are
fixed-length chunks of the token stream.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from rich.progress import Progress
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from taam.errors import EvalError


def encode_with_bos(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> list[list[int]]:
    """[BOS] + ids of each text encoded without special tokens (as the BabyLM pipeline does)."""
    if tokenizer.bos_token_id is None:
        raise EvalError(
            f"tokenizer {tokenizer.name_or_path} defines no bos_token; the BabyLM pipeline "
            "prefixes one BOS to every text. Export the model with a tokenizer that has one."
        )
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"] if texts else []
    return [[tokenizer.bos_token_id, *row] for row in ids]


def windows(n_tokens: int, context: int, stride: int) -> list[tuple[int, int, int]]:
    """Windows ``(start, end, first_target)`` covering targets 1 … n_tokens − 1 once each.

    A window feeds x[start : end − 1] and predicts x[start + 1 : end]; it counts only the
    targets from ``first_target`` on (the earlier ones were scored by the previous window).
    """
    if not 1 <= stride <= context:
        raise EvalError(f"stride must be between 1 and the context ({context}), got {stride}.")
    spans, scored, start = [], 0, 0  # targets 1 … scored are done
    while scored < n_tokens - 1:
        end = min(start + context + 1, n_tokens)
        spans.append((start, end, scored + 1))
        scored = end - 1
        start += stride
    return spans


@torch.inference_mode()
def sequence_logprobs(
    model: PreTrainedModel,
    sequences: Sequence[Sequence[int]],
    context: int,
    stride: int,
    batch_size: int,
    progress: Progress | None = None,
    description: str = "scoring",
) -> np.ndarray:
    """Σ_{t≥1} log p(x_t | context) per sequence (nats, float64), see the module docstring.

    Identical sequences are scored once and share the result, so two identical sentences tie
    exactly (the tie rule needs no tolerance).
    """
    if batch_size < 1 or context < 2 or not 1 <= stride <= context:
        raise EvalError(
            f"need batch_size ≥ 1, context ≥ 2 and 1 ≤ stride ≤ context; got batch_size="
            f"{batch_size}, context={context}, stride={stride} (nothing would be scored)."
        )
    unique = list(dict.fromkeys(tuple(s) for s in sequences))
    jobs = [
        (i, *span) for i, seq in enumerate(unique) for span in windows(len(seq), context, stride)
    ]
    # Longest first: rows of a batch have similar lengths (little padding) and the memory
    # peak comes with the first batch rather than at the end.
    jobs.sort(key=lambda job: job[2] - job[1], reverse=True)
    device = next(model.parameters()).device
    totals = np.zeros(len(unique), dtype=np.float64)
    task = progress.add_task(description, total=len(jobs)) if progress is not None else None
    for first in range(0, len(jobs), batch_size):
        batch = jobs[first : first + batch_size]
        inputs, targets, attention, scored = _batch_tensors(unique, batch)
        logits = model(input_ids=inputs.to(device), attention_mask=attention.to(device)).logits
        logprobs = torch.log_softmax(logits.double(), dim=-1)
        picked = logprobs.gather(-1, targets.to(device).unsqueeze(-1)).squeeze(-1)
        per_window = torch.where(scored.to(device), picked, 0.0).sum(-1).cpu().numpy()
        np.add.at(totals, [job[0] for job in batch], per_window)
        if task is not None:
            progress.advance(task, len(batch))
    index = {seq: i for i, seq in enumerate(unique)}
    return totals[[index[tuple(s)] for s in sequences]]


def _batch_tensors(
    sequences: Sequence[tuple[int, ...]], batch: Sequence[tuple[int, int, int, int]]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded inputs, targets, attention mask and the mask of the targets to count."""
    width = max(end - start for _, start, end, _ in batch) - 1
    inputs = torch.zeros(len(batch), width, dtype=torch.long)  # pad id 0: masked out, never read
    targets = torch.zeros_like(inputs)
    attention = torch.zeros_like(inputs)
    scored = torch.zeros(len(batch), width, dtype=torch.bool)
    for row, (i, start, end, first_target) in enumerate(batch):
        tokens = torch.tensor(sequences[i][start:end], dtype=torch.long)
        n = end - start - 1
        inputs[row, :n], targets[row, :n], attention[row, :n] = tokens[:-1], tokens[1:], 1
        scored[row, first_target - start - 1 : n] = True  # column c predicts x[start + 1 + c]
    return inputs, targets, attention, scored
