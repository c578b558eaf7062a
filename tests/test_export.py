"""Milestone names, atomic HF exports and the model card."""

import json
from dataclasses import replace

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from taam.data.tokenizer import train_tokenizer
from taam.model.build import build_model
from taam.publish.export import babylm_milestones, export_hf, milestone_name
from taam.publish.model_card import RunFacts, describe_source, model_card, source_licence

LANGS = ("eng", "nld", "zho")
STATE = {
    "step": 20000,
    "method": "Pstar",
    "reward": "normalized_excess_loss",
    "seed": 1337,
    "languages": ["eng", "nld", "zho"],
    "budget_words_m": 100.0,
    "pi": {"eng": 0.159, "nld": 0.258, "zho": 0.583},
    "exposures_tokens": 655360000,
    "wall_clock_s": 10117.4,
    "run_dir": "runs/2026-06-01_Pstar_seed1337",
    "per_language": {
        lang: {"exposures_tokens": n, "unique_tokens_seen": n // 10, "epochs": e}
        for lang, n, e in [
            ("eng", 104_202_240, 2.56),
            ("nld", 168_951_808, 4.12),
            ("zho", 382_205_952, 9.4),
        ]
    },
}


def test_babylm_milestones_follow_the_pipeline_revisions():
    assert babylm_milestones(655.36) == [*range(1, 10), *range(10, 101, 10), *range(200, 601, 100)]
    assert len(babylm_milestones(655.36)) == 24  # as the published card lists
    assert babylm_milestones(2.05) == [1, 2]
    assert babylm_milestones(5000)[-1] == 1000
    assert milestone_name(100) == "chck_100M"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tok = train_tokenizer(["hello world, hallo wereld, 你好世界"] * 30, vocab_size=280)
    folder = tmp_path_factory.mktemp("tok")
    tok.save_pretrained(folder)
    torch.manual_seed(0)
    return build_model(tok, hidden_size=16, num_layers=1, num_heads=2, seq_len=16), folder


def test_export_loads_with_transformers_alone(tiny, tmp_path):
    model, tok_dir = tiny
    out = export_hf(model, tok_dir, tmp_path / "chck_1M", {"step": 3}, card="# card\n")
    assert {"model.safetensors", "config.json", "generation_config.json", "tokenizer.json"} <= {
        p.name for p in out.iterdir()
    }
    assert json.loads((out / "taam_state.json").read_text()) == {"step": 3}
    loaded = AutoModelForCausalLM.from_pretrained(out)
    assert AutoTokenizer.from_pretrained(out).bos_token == "<s>"
    assert torch.equal(loaded.model.embed_tokens.weight, model.model.embed_tokens.weight)


def test_a_crash_during_an_export_keeps_the_previous_one(tiny, tmp_path, monkeypatch):
    model, tok_dir = tiny
    target = tmp_path / "final"
    export_hf(model, tok_dir, target, {"step": 1})

    def crash(self, path, **kwargs):
        (path / "model.safetensors").write_bytes(b"half a file")
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(type(model), "save_pretrained", crash)
    with pytest.raises(KeyboardInterrupt):
        export_hf(model, tok_dir, target, {"step": 2})
    assert json.loads((target / "taam_state.json").read_text()) == {"step": 1}
    AutoModelForCausalLM.from_pretrained(target)  # still a whole checkpoint
    assert [p.name for p in tmp_path.iterdir()] == ["final"]  # no temporary left behind


def facts(**changes) -> RunFacts:
    """The facts of the published full-scale run (experiment=babylm2026)."""
    return replace(
        RunFacts(
            architecture="Llama-style decoder: 12 layers, hidden size 768",
            parameters=97_812_224,
            tokenizer="byte-level BPE, 16,384 tokens",
            sources={lang: describe_source(f"hf:BabyLM-community/babylm-{lang}") for lang in LANGS},
            licences={lang: source_licence(f"hf:BabyLM-community/babylm-{lang}") for lang in LANGS},
            words={"eng": 33_333_000.0, "nld": 33_332_000.0, "zho": 33_331_000.0},
            budget=100e6,
            budget_unit="bytes",
            epoch_cap=10.0,
        ),
        **changes,
    )


def test_the_card_claims_no_model_licence_the_author_did_not_choose():
    card = model_card(STATE, ["chck_1M"], facts(), repo_id=None)
    assert "license:" not in card.split("---")[1]
    assert "not chosen (set `card.license`" in card


def test_model_card_has_the_published_fields():
    card = model_card(
        STATE,
        ["chck_1M", "chck_2M", "chck_600M"],
        facts(license="apache-2.0"),
        repo_id="me/babylm-pstar",
    )
    front = card.split("---")[1]
    assert "- en\n- nl\n- zh" in front and "babylm-2026" in front and "license: apache-2.0" in front
    for needle in [
        "`Pstar`",
        "`1337`",
        "eng=0.159, nld=0.258, zho=0.583",
        "`655360000`",
        "10117.4 s",
        "runs/2026-06-01_Pstar_seed1337",
        "chck_1M, chck_2M, chck_600M",
        'revision="chck_2M"',
        'AutoModelForCausalLM.from_pretrained("me/babylm-pstar")',
        "normalized_excess_loss",
        "cross_lingual_deficit",
        "@inproceedings{taam2026",
    ]:
        assert needle in card, needle


def test_model_card_says_what_the_run_was():
    card = model_card(STATE, [], facts())
    for needle in [
        "97,812,224",  # parameters
        "Llama-style decoder: 12 layers",
        "byte-level BPE, 16,384 tokens",
        "[`BabyLM-community/babylm-zho`](https://huggingface.co/datasets/BabyLM-community/babylm-zho)",
        "| zho | the Hugging Face dataset",  # a row per language: source, licence, words, exposures
        "| 33,331,000 | 382,205,952 | 9.40 |",
        "with a budget of\n100,000,000 English-equivalent words",
        "It keeps the BabyLM 2026 Multilingual Track's budget and epoch rules.",
        "at most 9.40 epochs of any language",
        "@article{auer2002exp3",  # Pstar: EXP3, Exp3.S, URIEL; every run: the byte premium
        "@inproceedings{graves2017automated",
        "@inproceedings{littell2017uriel",
        "@inproceedings{arnett2024bit",
    ]:
        assert needle in card, needle
    assert "albalak2023odm" not in card and "This model:" not in card  # no authors: no entry


def test_a_run_on_the_sample_over_the_budget_is_called_what_it_is():
    sample = facts(
        sources={lang: describe_source("sample") for lang in LANGS},
        licences={lang: source_licence("sample") for lang in LANGS},
        words={"eng": 90e6, "nld": 90e6, "zho": 90e6},
        budget=270e6,
    )
    card = model_card({**STATE, "method": "ODM", "reward": None}, [], sample)
    assert "from the embedded sample: Debian 12 documentation" in card
    assert "| GPL-2 / GPL-2+ / CC-BY-SA-3.0 |" in card
    assert "does NOT keep the BabyLM 2026 Multilingual Track's rules" in card
    assert (
        "words of training and dev text (the run's budget: 270,000,000 English-equivalent words; "
        in card
    )
    assert "the track allows 100,000,000): NOT met" in card
    assert "@article{albalak2023odm" in card and "littell2017uriel" not in card


def test_the_model_bibtex_entry_comes_from_the_card_config():
    authored = facts(authors=("Luna, Amos", "Doe, Jane"), citation={"year": 2026})
    card = model_card(STATE, [], authored, repo_id="me/babylm-pstar")
    entry = card.split("This model:")[1].split("```")[1]
    assert entry.startswith("bibtex\n@misc{luna-taam-pstar,")
    assert "author       = {Luna, Amos and Doe, Jane}" in entry
    assert "year         = {2026}" in entry
    assert "\\url{https://huggingface.co/me/babylm-pstar}" in entry
