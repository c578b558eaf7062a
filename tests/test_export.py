"""Milestone names, atomic HF exports and the model card."""

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from taam.data.tokenizer import train_tokenizer
from taam.export import babylm_milestones, export_hf, milestone_name
from taam.model import build_model
from taam.model_card import model_card

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


def test_model_card_has_the_published_fields():
    card = model_card(STATE, ["chck_1M", "chck_2M", "chck_600M"], repo_id="me/babylm-pstar")
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
