"""The model card (``README.md``) of an export: what the Hub shows for a TAAM run.

A card says what the run actually was: the model, the tokenizer, where each language's text
came from and under which licence, the budget and whether the run keeps the BabyLM 2026
Multilingual Track's rules, the exposures per language, and the works it builds on.
The facts come from the export's ``taam_state.json`` (:func:`model_card`'s ``state``) and
from the run directory's ``config.yaml`` and ``ledger.json`` (:class:`RunFacts`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf
from safetensors import safe_open
from transformers import PretrainedConfig

from taam.data.budget import unit_name
from taam.languages import hub_language

# The track's rules a run can be checked against (BabyLM 2026 Multilingual Track).
TRACK = "BabyLM 2026 Multilingual Track"
TRACK_BUDGET_WORDS = 100e6  # English-equivalent words over all languages
TRACK_MAX_EPOCHS = 10.0

SAMPLE_SOURCE = "the embedded sample: Debian 12 documentation (`taam/sample_data`)"
SAMPLE_LICENCE = "GPL-2 / GPL-2+ / CC-BY-SA-3.0"

CITATION = """@inproceedings{taam2026,
  title     = {Typology-Aware Adaptive Mixing for Multilingual BabyLMs},
  author    = {Luna, Amos and collaborators},
  year      = {2026},
  booktitle = {Proceedings of the BabyLM Workshop at EMNLP 2026}
}"""

# The published works a run relies on, keyed by what uses them.
REFERENCES = {
    "exp3": """@article{auer2002exp3,
  title   = {The Nonstochastic Multiarmed Bandit Problem},
  author  = {Auer, Peter and Cesa-Bianchi, Nicol{\\`o} and Freund, Yoav and Schapire, Robert E.},
  journal = {SIAM Journal on Computing},
  volume  = {32},
  number  = {1},
  pages   = {48--77},
  year    = {2002}
}""",
    "exp3s": """@inproceedings{graves2017automated,
  title     = {Automated Curriculum Learning for Neural Networks},
  author    = {Graves, Alex and Bellemare, Marc G. and Menick, Jacob and Munos, R{\\'e}mi and Kavukcuoglu, Koray},
  booktitle = {Proceedings of the 34th International Conference on Machine Learning},
  series    = {PMLR},
  volume    = {70},
  pages     = {1311--1320},
  year      = {2017}
}""",
    "odm": """@article{albalak2023odm,
  title   = {Efficient Online Data Mixing For Language Model Pre-Training},
  author  = {Albalak, Alon and Pan, Liangming and Raffel, Colin and Wang, William Yang},
  journal = {arXiv preprint arXiv:2312.02406},
  year    = {2023}
}""",
    "uriel": """@inproceedings{littell2017uriel,
  title     = {{URIEL} and lang2vec: Representing Languages as Typological, Geographical, and Phylogenetic Vectors},
  author    = {Littell, Patrick and Mortensen, David R. and Lin, Ke and Kairis, Katherine and Turner, Carlisle and Levin, Lori},
  booktitle = {Proceedings of the 15th Conference of the European Chapter of the Association for Computational Linguistics: Volume 2, Short Papers},
  pages     = {8--14},
  year      = {2017}
}""",
    "byte_premium": """@inproceedings{arnett2024bit,
  title     = {A Bit of a Problem: Measurement Disparities in Dataset Sizes across Languages},
  author    = {Arnett, Catherine and Chang, Tyler A. and Bergen, Benjamin K.},
  booktitle = {Proceedings of the 3rd Annual Meeting of the Special Interest Group on Under-resourced Languages @ LREC-COLING 2024},
  year      = {2024}
}""",
}
# method name (lower case) → the works its mixer implements; the byte premium counts every budget.
METHOD_REFERENCES = {
    "exp3": ("exp3", "exp3s"),
    "pstar": ("exp3", "exp3s", "uriel"),
    "prior": ("uriel",),
    "odm": ("odm", "exp3"),
}


@dataclass(frozen=True)
class RunFacts:
    """What a card says about the run besides the export's state."""

    architecture: str
    parameters: int
    tokenizer: str
    sources: dict[str, str]  # language → where its training text came from
    licences: dict[str, str]  # language → the licence of that text
    words: dict[str, float]  # language → English-equivalent words selected for training
    budget: float  # data.budget.total_words_m × 10⁶, in what budget_unit counts
    budget_unit: str  # what the selection counted: bytes (English-equivalent words), words, tokens
    epoch_cap: float
    license: str | None = None  # card.license: the model's Hub licence id; None = not chosen
    authors: tuple[str, ...] = ()  # card.authors: the model's own BibTeX entry needs them
    citation: Mapping[str, str] | None = None  # card.citation: extra fields of that entry

    @classmethod
    def read(cls, run_dir: str | Path, model_config: PretrainedConfig, parameters: int):
        """From ``config.yaml`` and ``ledger.json`` of ``run_dir`` and the exported model."""
        run_dir = Path(run_dir)
        cfg = OmegaConf.to_container(OmegaConf.load(run_dir / "config.yaml"), resolve=True)
        ledger = json.loads((run_dir / "ledger.json").read_text(encoding="utf-8"))
        card = cfg.get("card") or {}
        data = cfg["data"]
        own_licences = card.get("data_licences") or {}
        languages = list(data["languages"])
        return cls(
            architecture=describe_architecture(model_config),
            parameters=parameters,
            tokenizer=(
                f"byte-level BPE, {model_config.vocab_size:,} tokens, trained on the run's own "
                f"training text (the same number of bytes per language); one BOS prepended"
            ),
            sources={lang: describe_source(str(data["source"][lang])) for lang in languages},
            licences={
                lang: own_licences.get(lang) or source_licence(str(data["source"][lang]))
                for lang in languages
            },
            words={  # training + dev text: the dev split steers training, so it is budgeted
                lang: float(row["english_equivalent_words"])
                + float(row.get("dev_english_equivalent_words", 0.0))
                for lang, row in ((g, ledger["languages"][g]) for g in languages)
            },
            budget=float(data["budget"]["total_words_m"]) * 1e6,
            budget_unit=str(ledger["unit"]),
            epoch_cap=float(cfg["train"]["epoch_cap"]),
            license=card.get("license") or None,
            authors=tuple(card.get("authors") or ()),
            citation=card.get("citation") or None,
        )


def describe_architecture(config: PretrainedConfig) -> str:
    """``Llama-style decoder: 2 layers, hidden size 64, ...`` from a transformers config."""
    style = {"llama": "Llama", "gpt2": "GPT-2"}.get(config.model_type, config.model_type)
    mlp = getattr(config, "intermediate_size", None) or getattr(config, "n_inner", None)
    parts = [
        f"{config.num_hidden_layers} layers",
        f"hidden size {config.hidden_size}",
        f"{config.num_attention_heads} attention heads",
        *([f"MLP {mlp}"] if mlp else []),
        f"context {config.max_position_embeddings} tokens",
    ]
    if getattr(config, "tie_word_embeddings", False):
        parts.append("tied input/output embeddings")
    return f"{style}-style decoder: {', '.join(parts)}"


def describe_source(source: str) -> str:
    """A ``data.source.<lang>`` spec in words."""
    if source == "sample":
        return SAMPLE_SOURCE
    if source.startswith("hf:/") or source.startswith("hf:."):
        return f"a saved copy of a Hugging Face dataset (`{source[3:]}`)"
    if source.startswith("hf:"):
        return f"the Hugging Face dataset [`{source[3:]}`](https://huggingface.co/datasets/{source[3:]})"
    return f"local files (`{source}`)"


def source_licence(source: str) -> str:
    """The licence the card can state for a source; else where to find it."""
    if source == "sample":
        return SAMPLE_LICENCE
    if source.startswith("hf:") and not source.startswith(("hf:/", "hf:.")):
        return "see the dataset's card"
    return "not recorded (set card.data_licences.<lang>)"


def export_parameters(export_dir: str | Path) -> int:
    """Parameters stored in an export's safetensors (tied weights are stored once)."""
    total = 0
    for path in sorted(Path(export_dir).glob("*.safetensors")):
        with safe_open(path, framework="pt") as f:
            for key in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
                shape = f.get_slice(key).get_shape()
                count = 1
                for dim in shape:
                    count *= dim
                total += count
    return total


def branch_summary(branches: Sequence[str]) -> str:
    if len(branches) <= 6:
        return ", ".join(branches)
    return f"{', '.join(branches[:2])}, ..., {branches[-1]}"


def track_rules(facts: RunFacts, state: Mapping) -> tuple[bool, str]:
    """Whether the run keeps the track's budget (≤ 100M English-equivalent words) and epoch
    limit (≤ 10 epochs per language), as a verdict and the lines that justify it."""
    words = sum(facts.words.values())
    epochs = max(row["epochs"] for row in state["per_language"].values())
    budget_ok = words <= TRACK_BUDGET_WORDS
    epochs_ok = epochs <= TRACK_MAX_EPOCHS and facts.epoch_cap <= TRACK_MAX_EPOCHS
    lines = (
        f"- Budget: {words:,.0f} English-equivalent words of training and dev text "
        f"(the run's budget: {_budget(facts)}; the track allows {TRACK_BUDGET_WORDS:,.0f}): "
        f"{'met' if budget_ok else 'NOT met'}.\n"
        f"- Epochs: at most {epochs:.2f} epochs of any language so far (the run's cap is "
        f"{facts.epoch_cap:g}; the track allows {TRACK_MAX_EPOCHS:g}): "
        f"{'met' if epochs_ok else 'NOT met'}.\n"
    )
    return budget_ok and epochs_ok, lines


def model_bibtex(facts: RunFacts, state: Mapping, repo_id: str | None) -> str | None:
    """The trained model's own BibTeX entry from ``card.authors`` and ``card.citation``
    (extra or overriding fields); ``None`` while no author is set."""
    if not facts.authors:
        return None
    fields = {
        "title": f"TAAM {state['method']} (seed {state['seed']}): a multilingual causal LM on "
        f"{', '.join(state['languages'])}",
        "author": " and ".join(facts.authors),
        **({"howpublished": f"\\url{{https://huggingface.co/{repo_id}}}"} if repo_id else {}),
        **{k: str(v) for k, v in (facts.citation or {}).items() if k != "key"},
    }
    surname = facts.authors[0].split(",")[0].split()[-1].lower()
    key = (facts.citation or {}).get("key") or f"{surname}-taam-{state['method'].lower()}"
    body = ",\n".join(f"  {name:<12} = {{{value}}}" for name, value in fields.items())
    return f"@misc{{{key},\n{body}\n}}"


def model_card(
    state: Mapping, branches: Sequence[str], facts: RunFacts, repo_id: str | None = None
) -> str:
    """The card of an export from its ``taam_state.json`` facts (method, seed, π, exposures
    per language, wall-clock, run dir), the run's facts and the repo's checkpoint branches."""
    repo = repo_id or "<user>/<repo>"
    languages = state["languages"]
    reward = state.get("reward")
    reward_line = f"- **Reward**: `{reward}`\n" if reward else ""
    if state.get("objective"):
        reward_line += f"- **Objective**: `{state['objective']}` (the loss the reward serves)\n"
    if state.get("signal"):
        reward_line += (
            f"- **Signal**: `{state['signal']}` ("
            + (
                "the loss of a held-out dev split, part of the training budget"
                if state["signal"] == "dev"
                else "the training batches' loss, the published behaviour"
            )
            + ")\n"
        )
    meets, rule_lines = track_rules(facts, state)
    verdict = (
        f"It keeps the {TRACK}'s budget and epoch rules."
        if meets
        else f"It does NOT keep the {TRACK}'s rules (see below)."
    )
    example = branches[len(branches) // 2] if branches else "chck_1M"
    branch_text = (
        f"This repo exposes `{len(branches)}` intermediate checkpoints as branches named by the "
        f"BabyLM 2026 convention: `{branch_summary(branches)}`. The BabyLM evaluation pipeline "
        f"(babylm-org/babylm-eval, `multilingual/`) loads each revision by name:\n\n"
        f"```bash\nbash scripts/zeroshot_model_fast_all.sh --model_name {repo}\n```\n"
        if branches
        else "No BabyLM milestone checkpoint existed when this card was written; `src/push.py` "
        "writes it again with the repo's branches.\n"
    )
    own = model_bibtex(facts, state, repo_id)
    own_text = f"This model:\n\n```bibtex\n{own}\n```\n\n" if own else ""
    used = [*METHOD_REFERENCES.get(state["method"].lower(), ()), "byte_premium"]
    works = "\n".join(REFERENCES[k] for k in used)
    hub_languages = "\n".join(f"- {hub_language(code)}" for code in languages)
    return f"""---
language:
{hub_languages}
tags:
- babylm-2026
- multilingual
- typology
- taam
- {state["method"].lower()}
{_license_front_matter(facts)}---
# TAAM (Typology-Aware Adaptive Mixing): `{state["method"]}`, seed `{state["seed"]}`

A causal language model ({facts.parameters / 1e6:.2f}M parameters) trained on
{", ".join(languages)} from {_sources_summary(facts)}, with a budget of
{_budget(facts)} and the sampling mix over languages chosen by the TAAM mixer
`{state["method"]}`.
{verdict}

## The run

- **Method**: `{state["method"]}`
{reward_line}- **Seed**: `{state["seed"]}`
- **Repo**: `{repo}`
- **Step**: `{state["step"]}`
- **π** (probability of sampling each language, at this step): `{_pi(state)}`
- **Total token exposures**: `{state["exposures_tokens"]}`
- **Training wall-clock**: `{state["wall_clock_s"]:.1f} s`
- **Licence of the model**: {_license_line(facts)}
- **Source run dir**: `{state["run_dir"]}`

## Model

- **Architecture**: {facts.architecture}
- **Parameters**: {facts.parameters:,}
- **Tokenizer**: {facts.tokenizer}

## Training data

| language | source | licence | English-equivalent words | token exposures | epochs |
|---|---|---|---:|---:|---:|
{_data_rows(facts, state)}

English-equivalent words (training and dev text) are a language's UTF-8 bytes / (5.43 × its
byte premium); no language is shown more than {facts.epoch_cap:g} times its unique tokens.

## {TRACK} rules

{rule_lines}
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
(v1, the relative drop of a language's smoothed loss, for the mean loss) and
`cross_lingual_deficit` (v2, how far a language's loss lags the cross-lingual mean, for the
language that lags). With `signal=dev` the losses are those of a held-out dev split (counted in
the budget); with `signal=train`, those of the training batches. The default (v2 on the dev
signal, acting only on a lag beyond one standard error of the dev set, every language kept at
70% of its uniform share or more), judged at 500 steps on every document the runs never saw,
was 0.6% better than uniform sampling on the lagging language of a second corpus over twenty
data splits (an interval that reaches +0.05%), 0.5% better on the lagging language of the
project's sample on one split (5 seeds, the interval below 0) and tied with it over ten splits.
On the sample that gain was the typological prior's, as the start: Mandarin, which it gives the
most data, lags there (−0.3% against a uniform start over ten splits); the adaptation steered by
the dev split did not help there (from a uniform start it never beat uniform sampling).
What the project has and has not shown: TAAM's docs/mixer.md, "What TAAM claims, and what it
does not".

## Citation

{own_text}The TAAM method:

```bibtex
{CITATION}
```

The works this run builds on:

```bibtex
{works}
```
"""


def _license_front_matter(facts: RunFacts) -> str:
    """``license: <id>`` when the author chose one; no licence is claimed on their behalf."""
    return f"license: {facts.license}\n" if facts.license else ""


def _license_line(facts: RunFacts) -> str:
    if facts.license:
        return (
            f"`{facts.license}` (chosen by the author; the training text's own licences are below)"
        )
    return (
        "not chosen (set `card.license`, e.g. `card.license=cc-by-sa-4.0`); it should respect "
        "the licences of the training text below"
    )


def _budget(facts: RunFacts) -> str:
    return f"{facts.budget:,.0f} {unit_name(facts.budget_unit)}"


def _pi(state: Mapping) -> str:
    return ", ".join(f"{lang}={state['pi'][lang]:.3f}" for lang in state["languages"])


def _sources_summary(facts: RunFacts) -> str:
    distinct = list(dict.fromkeys(facts.sources.values()))
    if len(distinct) == 1:
        return distinct[0]
    return "; ".join(f"{lang}: {src}" for lang, src in facts.sources.items())


def _data_rows(facts: RunFacts, state: Mapping) -> str:
    rows = []
    for lang in state["languages"]:
        counts = state["per_language"][lang]
        rows.append(
            f"| {lang} | {facts.sources[lang]} | {facts.licences[lang]} | "
            f"{facts.words[lang]:,.0f} | {counts['exposures_tokens']:,} | {counts['epochs']:.2f} |"
        )
    return "\n".join(rows)
