"""Minimal pairs: formats from the fields, the BabyLM pipeline's scoring and tie rule, against
hand-computed log-probabilities and against plain transformers, and clear errors."""

from __future__ import annotations

import shutil

import datasets
import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from eval_support import (
    FIXTURES,
    direct_logprob,
    eval_config,
    save_checkpoint,
    sentence_ids,
    tiny_model,
)
from taam.errors import EvalError
from taam.evaluation.checkpoints import Checkpoint
from taam.evaluation.minimal_pairs import choice_credit, load_pair_sets, pair_credits
from taam.evaluation.runner import evaluate_checkpoint
from taam.evaluation.scoring import encode_with_bos, sequence_logprobs

SOURCES = {
    "eng": [str(FIXTURES / "multiblimp_eng.jsonl"), str(FIXTURES / "xcomps_eng.jsonl")],
    "nld": [str(FIXTURES / "blimp_nl.tsv")],
    "zho": [str(FIXTURES / "zhoblimp.parquet")],
}


def test_format_and_phenomenon_field_come_from_the_fields():
    sets = {p.name.rsplit("/", 1)[-1]: p for p in load_pair_sets(SOURCES)}
    assert {name: (p.language, p.benchmark) for name, p in sets.items()} == {
        "multiblimp_eng.jsonl": ("eng", "MultiBLiMP"),
        "xcomps_eng.jsonl": ("eng", "XCOMPS"),
        "blimp_nl.tsv": ("nld", "BLiMP"),
        "zhoblimp.parquet": ("zho", "BLiMP"),
    }
    assert sets["multiblimp_eng.jsonl"].phenomena == ("SV-#", "SV-#", "SV-P", "SV-P")
    assert sets["blimp_nl.tsv"].phenomena == ("agreement", "agreement", "verb_form", "verb_form")
    assert sets["zhoblimp.parquet"].phenomena[0] == "classifier_noun_agreement"
    assert sets["xcomps_eng.jsonl"].phenomena is None
    assert sets["blimp_nl.tsv"].good[1] == 'Hij zegt "hallo" tegen haar.'  # TSV quotes kept


@pytest.mark.parametrize(
    ("scores", "gold", "credit"),
    [((2.0, 1.0), 0, 1.0), ((1.0, 2.0), 0, 0.0), ((1.5, 1.5), 0, 0.5), ((3.0, 3.0, 3.0), 2, 1 / 3),
     ((3.0, 3.0, 1.0), 1, 0.5), ((1.0, 3.0, 3.0), 0, 0.0), ((-4.25, -4.25 - 1e-12), 0, 1.0)],
)  # fmt: skip
def test_a_k_way_tie_with_the_right_answer_earns_one_over_k(scores, gold, credit):
    assert choice_credit(scores, gold) == credit


def test_accuracies_match_hand_computed_log_probabilities(tmp_path):
    """Per language, file and phenomenon, from log-softmax sums computed here directly."""
    path = save_checkpoint(tmp_path / "final", seed=3, exposures_tokens=123)
    model = tiny_model(seed=3)  # the same weights, in memory
    pair_sets = load_pair_sets(SOURCES)
    rows = evaluate_checkpoint(
        Checkpoint("final", path, 123), {}, {}, pair_sets, eval_config([]), torch.device("cpu")
    )
    got = {(r["language"], r["file"], r["phenomenon"]): (r["value"], r["n"]) for r in rows}
    expected, per_language = {}, {}
    for p in pair_sets:
        credits = []
        for good, bad in zip(p.good, p.bad, strict=True):
            g, b = (direct_logprob(model, sentence_ids(s)) for s in (good, bad))
            credits.append(1.0 if g > b else 0.5 if good == bad else 0.0)
        expected[(p.language, p.name, "")] = (np.mean(credits), len(credits))
        for phenomenon in set(p.phenomena or ()):
            mine = [c for c, q in zip(credits, p.phenomena, strict=True) if q == phenomenon]
            expected[(p.language, p.name, phenomenon)] = (np.mean(mine), len(mine))
        per_language.setdefault(p.language, []).extend(credits)
    for lang, credits in per_language.items():
        expected[(lang, "", "")] = (np.mean(credits), len(credits))
    assert got.keys() == expected.keys()
    for key, (value, n) in expected.items():
        assert got[key] == (pytest.approx(value, abs=1e-12), n), key
    # The identical "pairs" are ties: 0.5 each (SV-P holds one tie and one scored pair).
    multiblimp = str(FIXTURES / "multiblimp_eng.jsonl")
    assert got[("eng", multiblimp, "SV-P")][0] in (0.25, 0.75)
    assert all(r["exposures_tokens"] == 123 and r["metric"] == "accuracy" for r in rows)


def test_scores_match_plain_transformers_as_the_babylm_pipeline_computes_them(tmp_path):
    """No project code on the reference side: AutoModelForCausalLM + AutoTokenizer, the
    sentence encoded without special tokens after one BOS, continuation log-probs summed."""
    path = save_checkpoint(tmp_path / "final", seed=4, exposures_tokens=1)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    tok = AutoTokenizer.from_pretrained(path)
    pairs = [pair for p in load_pair_sets(SOURCES) for pair in zip(p.good, p.bad, strict=True)]
    sentences = [sentence for pair in pairs for sentence in pair]  # good, bad, good, bad, …

    def reference(sentence: str) -> float:
        context, continuation = [tok.bos_token_id], tok.encode(sentence, add_special_tokens=False)
        whole = context + continuation
        with torch.no_grad():
            logprobs = torch.log_softmax(model(torch.tensor([whole[:-1]])).logits[0], dim=-1)
        picked = logprobs[-len(continuation) :].gather(-1, torch.tensor(continuation)[:, None])
        return float(picked.sum())

    ours = sequence_logprobs(model, encode_with_bos(tok, sentences), 256, 256, batch_size=5)
    theirs = np.array([reference(s) for s in sentences])
    assert ours == pytest.approx(theirs, rel=1e-5)
    expected = [1.0 if g > b else 0.0 for g, b in zip(theirs[0::2], theirs[1::2], strict=True)]
    expected = [0.5 if good == bad else e for (good, bad), e in zip(pairs, expected, strict=True)]
    assert list(pair_credits(ours[0::2], ours[1::2])) == expected


def test_a_folder_source_takes_every_pair_file_in_it(tmp_path):
    for name in ("multiblimp_eng.jsonl", "xcomps_eng.jsonl"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    (tmp_path / "notes.txt").write_text("not a pair file")
    names = [p.name for p in load_pair_sets({"eng": [str(tmp_path)]})]
    assert names == [str(tmp_path / "multiblimp_eng.jsonl"), str(tmp_path / "xcomps_eng.jsonl")]


def test_missing_fields_are_named(tmp_path):
    with pytest.raises(EvalError) as error:
        load_pair_sets({"eng": [str(FIXTURES / "missing_fields.jsonl")]})
    message = str(error.value)
    assert "has the fields good, bad, phenomenon" in message
    for field in (
        "sen/wrong_sen",
        "sentence_good/sentence_bad",
        "acceptable_sent/unacceptable_sent",
    ):
        assert field in message
    partial = tmp_path / "partial.jsonl"
    partial.write_text('{"sen": "A.", "wrong_sen": "B."}\n{"sen": "C."}\n')
    with pytest.raises(EvalError, match="record 2: needs text in both sen and wrong_sen"):
        load_pair_sets({"eng": [str(partial)]})


def test_empty_and_missing_files_are_refused(tmp_path):
    with pytest.raises(EvalError, match=r"empty\.jsonl is empty"):
        load_pair_sets({"eng": [str(FIXTURES / "empty.jsonl")]})
    header_only = tmp_path / "header_only.tsv"
    header_only.write_text("sentence_good\tsentence_bad\n")
    with pytest.raises(EvalError, match=r"header_only\.tsv is empty"):
        load_pair_sets({"nld": [str(header_only)]})
    with pytest.raises(EvalError, match=r"does not exist"):
        load_pair_sets({"nld": [str(tmp_path / "nowhere.jsonl")]})
    (tmp_path / "no_pairs").mkdir()
    with pytest.raises(EvalError, match=r"holds no \.jsonl/\.tsv/\.parquet files"):
        load_pair_sets({"nld": [str(tmp_path / "no_pairs")]})


def test_hub_sources_load_every_config_and_the_only_split(monkeypatch):
    calls = []

    def load_dataset(hub_id, name, split=None):
        calls.append((hub_id, name, split))
        rows = [{"sentence_good": f"{name} goed", "sentence_bad": f"{name} fout"}]
        data = datasets.Dataset.from_list(rows)
        return datasets.DatasetDict({"test": data}) if split is None else data

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    monkeypatch.setattr(datasets, "get_dataset_config_names", lambda hub_id: ["a", "b"])
    sets = load_pair_sets({"nld": [{"hub": "org/blimp_nl", "name": None, "split": None}]})
    assert [(p.name, p.good) for p in sets] == [
        ("org/blimp_nl/a", ("a goed",)),
        ("org/blimp_nl/b", ("b goed",)),
    ]
    assert calls == [("org/blimp_nl", "a", None), ("org/blimp_nl", "b", None)]
    load_pair_sets({"nld": [{"hub": "org/blimp_nl", "name": "c", "split": "test"}]})
    assert calls[-1] == ("org/blimp_nl", "c", "test")


def test_a_hub_dataset_with_several_splits_needs_one_named(monkeypatch):
    data = datasets.Dataset.from_list([{"sen": "A.", "wrong_sen": "B."}])
    both = datasets.DatasetDict({"train": data, "test": data})
    monkeypatch.setattr(datasets, "load_dataset", lambda hub_id, name, split=None: both)
    with pytest.raises(EvalError, match="has splits train, test; choose one with split"):
        load_pair_sets({"eng": [{"hub": "org/pairs", "name": "eng"}]})


def test_an_unreachable_hub_says_how_to_use_a_local_copy():
    """The tests run offline (HF_HUB_OFFLINE=1): the real datasets code path fails."""
    with pytest.raises(EvalError) as error:
        load_pair_sets({"eng": [{"hub": "jumelet/multiblimp", "name": "eng", "split": "train"}]})
    message = str(error.value)
    assert "could not load the Hub dataset jumelet/multiblimp" in message
    assert "to_parquet" in message and "++minimal_pairs" in message


def test_a_source_is_a_path_or_a_hub_dataset():
    with pytest.raises(
        EvalError, match=r"minimal_pairs\.eng: \{'path': 'x.jsonl'\} is not a source"
    ):
        load_pair_sets({"eng": [{"path": "x.jsonl"}]})
