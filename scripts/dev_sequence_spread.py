"""How far a fixed dev set of S sequences can sit from its language's held-out loss.

    PYTHONPATH=src python scripts/dev_sequence_spread.py RUN_DIR

Scores the run's own dev set (``signal.sequences`` per language, as training picks it) with the
run's final model and prints, per language, the relative sd of one sequence's contribution to
the dev loss Σ nats / Σ bytes (delta method), σ_seq, and the sd of the set's bias it implies,
σ_seq/√S; beside it the raw per-token relative sd and what it would imply if the tokens of a
sequence were independent, σ_tok/√(S·T). The simulator draws the dev bias with σ/√S, σ its
preset's per-sequence noise (``taam.simulation.world``); this checks that σ against the dev set.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import torch
from omegaconf import OmegaConf
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

from taam.data.datamodule import TaamDataModule
from taam.data.tokenizer import token_byte_lengths


def main(run: str) -> None:
    cfg = OmegaConf.load(f"{run}/config.yaml")
    data = TaamDataModule.from_config(cfg)
    data.prepare_data()
    tokens, language = data.dev_set(int(cfg.signal.sequences))
    model = AutoModelForCausalLM.from_pretrained(f"{run}/final").eval()
    tokenizer = PreTrainedTokenizerFast.from_pretrained(f"{run}/final")
    byte_lengths = torch.as_tensor(token_byte_lengths(tokenizer), dtype=torch.float64)
    x = torch.from_numpy(tokens)
    with torch.no_grad():
        logits = model(x[:, :-1]).logits.double()
    nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), x[:, 1:], reduction="none")
    nats, nbytes = nll.sum(1).numpy(), byte_lengths[x[:, 1:]].sum(1).numpy()
    length = x.shape[1] - 1
    for i, lang in enumerate(data.languages):
        rows = language == i
        s = int(rows.sum())
        ratio = nats[rows].sum() / nbytes[rows].sum()
        seq_sd = np.std(nats[rows] - ratio * nbytes[rows], ddof=1) / (ratio * nbytes[rows].mean())
        per_token = nll[torch.from_numpy(rows)].numpy().ravel()
        token_sd = per_token.std(ddof=1) / per_token.mean()
        print(
            f"{lang}: S={s} T={length} dev bits/byte {ratio / math.log(2):.4f}; one sequence's "
            f"relative sd {seq_sd:.4f} -> bias sd {seq_sd / math.sqrt(s):.4f}; one token's "
            f"{token_sd:.3f} -> {token_sd / math.sqrt(s * length):.4f} if tokens were independent"
        )


if __name__ == "__main__":
    main(sys.argv[1])
