"""The data module alone, from the Hydra compose API: prepared shards, draws and cursors."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import AutoTokenizer

from taam.data.datamodule import TaamDataModule
from taam.data.prepare import heldout_hash
from taam.data.sources import Document
from taam.errors import DataError
from taam.mixer.factory import build_mixer
from tests_support import compose_config


def data_module(overrides: list[str]) -> tuple[TaamDataModule, object]:
    cfg = compose_config(overrides)
    dm = TaamDataModule.from_config(cfg)
    dm.prepare_data()
    dm.setup("fit")
    dm.connect(build_mixer(cfg.method, cfg.reward, dm.mix_context()))
    return dm, cfg


def draw(dm: TaamDataModule, steps: int) -> list[dict]:
    loader = iter(dm.train_dataloader())
    return [dm.on_before_batch_transfer(next(loader), 0) for _ in range(steps)]


def test_the_data_module_draws_batches_without_a_model(tiny_overrides):
    dm, cfg = data_module([*tiny_overrides, "method=natural"])
    batches = draw(dm, 6)
    seq_len, batch = int(cfg.model.seq_len), int(cfg.train.global_batch)
    assert all(b["tokens"].shape == (batch, seq_len + 1) for b in batches)
    languages = np.concatenate([b["language"].numpy() for b in batches])
    assert set(languages) == {0, 1, 2}  # natural π gives every language its share
    assert dm.sampler.step == 6 and dm.sampler.drawn.sum() == 6 * batch
    context = dm.mix_context()
    assert context.languages == ("eng", "nld", "zho")
    assert context.total_tokens == dm.planned_exposures() == 20 * batch * seq_len
    assert set(dm.ledger["languages"]) == {"eng", "nld", "zho"}


def test_the_cursors_resume_the_same_batches(tiny_overrides):
    first, _ = data_module([*tiny_overrides, "method=uniform"])
    draw(first, 3)
    state = first.state_dict()
    expected = draw(first, 3)
    second, _ = data_module([*tiny_overrides, "method=uniform"])
    second.load_state_dict(state)
    resumed = draw(second, 3)
    for a, b in zip(expected, resumed, strict=True):
        assert np.array_equal(a["tokens"], b["tokens"])
        assert np.array_equal(a["language"], b["language"])


def test_a_plan_beyond_the_epoch_cap_is_refused(tiny_overrides):
    with pytest.raises(DataError, match=r"lower train.max_steps to at most \d+"):
        data_module([*tiny_overrides, "train.max_steps=100000"])


def test_the_dev_set_is_fixed_scored_as_the_evaluation_scores_and_never_trained_on(
    tiny_overrides,
):
    """Up to signal.sequences windows per language, evenly spaced over its dev documents, the
    same for every training seed. Each document is [BOS] + its tokens (no EOS, as the BabyLM
    evaluation encodes text); all its windows together score every token once; padding is not
    scored; the ledger holds the dev text's hash (budget tests: dev ∩ train = ∅)."""
    dm, cfg = data_module([*tiny_overrides, "seed=1"])
    seq_len = int(cfg.model.seq_len)
    tokenizer = AutoTokenizer.from_pretrained(dm.tokenizer_dir)
    dev = dm.dev_set(5, tokenizer)
    assert dev.tokens.shape == (15, seq_len + 1) and dev.scored.shape == (15, seq_len)
    assert np.bincount(dev.language).tolist() == [5, 5, 5]
    other, _ = data_module([*tiny_overrides, "seed=2"])
    assert np.array_equal(other.dev_set(5, tokenizer).tokens, dev.tokens)

    every = dm.dev_set(10_000, tokenizer)  # every window of every dev document
    for i, lang in enumerate(dm.languages):
        texts = dm.prepared.shards.dev_texts(lang)
        ids = [t for text in texts for t in tokenizer(text, add_special_tokens=False)["input_ids"]]
        mine = every.language == i
        assert every.scored[mine].sum() == len(ids)  # each text token scored exactly once
        assert (every.tokens[mine][:, 0] == tokenizer.bos_token_id).sum() >= len(texts)
        docs = [Document(text, "dev") for text in texts]
        assert dm.ledger["dev_sha256"][lang] == heldout_hash(docs)  # the ledger names this text
    assert dm.ledger["dev_sha256"] != dm.ledger["heldout_sha256"]


def test_a_missing_dev_split_is_refused_with_the_fix(tiny_overrides):
    dm, _ = data_module([*tiny_overrides, "data.dev_fraction=0", "signal=train"])
    with pytest.raises(DataError, match=r"raise data\.dev_fraction .* signal=train"):
        dm.dev_set(4, AutoTokenizer.from_pretrained(dm.tokenizer_dir))


def test_a_dev_split_of_one_document_is_flagged(tiny_overrides, caplog):
    """With one dev document a language's dev loss has no standard error (the margin then
    keeps π at its anchor): the run says so and names the fix."""
    dm, _ = data_module([*tiny_overrides, "data.dev_fraction=0.0001"])
    with caplog.at_level("WARNING", logger="taam.data.datamodule"):
        dev = dm.dev_set(8, AutoTokenizer.from_pretrained(dm.tokenizer_dir))
    assert np.bincount(dev.document_language).tolist() == [1, 1, 1]
    assert caplog.text.count("fewer than two dev documents") == 3
    assert "raise data.dev_fraction" in caplog.text
