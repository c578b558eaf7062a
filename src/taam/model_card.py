"""The model card (``README.md``) of an export: what the Hub shows for a TAAM run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from taam.languages import hub_language

LICENSE = "apache-2.0"
CITATION = """@inproceedings{taam2026,
  title     = {Typology-Aware Adaptive Mixing for Multilingual BabyLMs},
  author    = {Luna, Amos and collaborators},
  year      = {2026},
  booktitle = {Proceedings of the BabyLM Workshop at EMNLP 2026}
}"""


def branch_summary(branches: Sequence[str]) -> str:
    if len(branches) <= 6:
        return ", ".join(branches)
    return f"{', '.join(branches[:2])}, ..., {branches[-1]}"


def model_card(state: Mapping, branches: Sequence[str], repo_id: str | None = None) -> str:
    """The card of an export from its ``taam_state.json`` facts (method, seed, π, exposures,
    wall-clock, run dir) and the repo's checkpoint branches."""
    return _card(
        method=state["method"],
        seed=state["seed"],
        languages=state["languages"],
        final_pi=state["pi"],
        exposures_tokens=state["exposures_tokens"],
        wall_clock_s=state["wall_clock_s"],
        run_dir=state["run_dir"],
        branches=branches,
        repo_id=repo_id,
        reward=state.get("reward"),
        budget_words_m=state["budget_words_m"],
    )


def _card(
    *,
    method: str,
    seed: int,
    languages: Sequence[str],
    final_pi: Mapping[str, float],
    exposures_tokens: int,
    wall_clock_s: float,
    run_dir: str,
    branches: Sequence[str],
    repo_id: str | None,
    reward: str | None,
    budget_words_m: float,
) -> str:
    """Front matter, run facts, checkpoint branches, usage with ``revision=``, method, citation."""
    repo = repo_id or "<user>/<repo>"
    langs = "\n".join(f"- {hub_language(code)}" for code in languages)
    pi = ", ".join(f"{lang}={final_pi[lang]:.3f}" for lang in languages)
    reward_line = f"- **Reward**: `{reward}`\n" if reward else ""
    example = branches[len(branches) // 2] if branches else "chck_1M"
    branch_text = (
        f"This repo exposes `{len(branches)}` intermediate checkpoints as branches named by the "
        f"BabyLM 2026 convention: `{branch_summary(branches)}`. The BabyLM evaluation pipeline "
        f"(babylm-org/babylm-eval, `multilingual/`) loads each revision by name:\n\n"
        f"```bash\nbash scripts/zeroshot_model_fast_all.sh --model_name {repo}\n```\n"
        if branches
        else "This run reached no BabyLM milestone, so the repo has only `main`.\n"
    )
    return f"""---
language:
{langs}
tags:
- babylm-2026
- multilingual
- typology
- taam
- {method.lower()}
license: {LICENSE}
---
# TAAM (Typology-Aware Adaptive Mixing): `{method}`, seed `{seed}`

A causal language model trained for the BabyLM 2026 Multilingual Track on
{", ".join(languages)} under a budget of {budget_words_m:g}M English-equivalent words (word
counts adjusted by each language's byte premium), with the sampling mix over languages
chosen by the TAAM mixer.

- **Method**: `{method}`
{reward_line}- **Seed**: `{seed}`
- **Repo**: `{repo}`
- **Final π** (probability of sampling each language): `{pi}`
- **Total token exposures**: `{exposures_tokens}`
- **Training wall-clock**: `{wall_clock_s:.1f} s`
- **Source run dir**: `{run_dir}`

## Intermediate checkpoints

{branch_text}
## Usage

```python
from transformers import AutoModelForCausalLM, AutoTokenizer

tok = AutoTokenizer.from_pretrained("{repo}")
model = AutoModelForCausalLM.from_pretrained("{repo}")  # final checkpoint (main)
# an intermediate checkpoint:
# model = AutoModelForCausalLM.from_pretrained("{repo}", revision="{example}")
```

## Method

TAAM starts from a typological prior over languages (cosine distances between
URIEL/lang2vec feature vectors: languages far from the rest of the mix get more
weight), adapts the sampling distribution π online with EXP3 driven by per-language
losses in nats per English-equivalent byte, and counts the data budget in
byte-premium-adjusted words. Two reward variants exist: `normalized_excess_loss`
(v1, the relative drop of a language's smoothed loss) and `cross_lingual_deficit`
(v2, how far a language's loss lags the cross-lingual mean). Under typological
asymmetry v1 drives the hardest language to the exploration floor γ/K; v2 keeps it
above the floor.

## Citation

```bibtex
{CITATION}
```
"""
