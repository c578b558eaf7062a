"""The per-language statistics the mixer sees: nats, bytes, tokens, sequences per language."""

import math

import numpy as np
import pytest
import torch

from taam.data.sampler import MixtureSampler
from taam.data.shards import LanguageShard
from taam.data.tokenizer import token_byte_lengths, train_tokenizer
from taam.mixer.base import MixContext, WindowStats
from taam.mixer.static import uniform
from taam.model.build import build_model
from taam.model.module import TaamModule


def test_window_matches_a_direct_per_sequence_computation():
    texts = [
        "Dit is een zin over Debian.",
        "这是一个关于软件的句子。",
        "The installer asks questions.",
    ]
    tok = train_tokenizer(texts * 20, vocab_size=300)
    torch.manual_seed(0)
    model = build_model(tok, hidden_size=16, num_layers=1, num_heads=2, seq_len=16).eval()
    ids = [np.array(tok(t * 3)["input_ids"][:17]) for t in texts]
    shards = {
        lang: LanguageShard(x, 16) for lang, x in zip(["nld", "zho", "eng"], ids, strict=True)
    }
    sampler = MixtureSampler(shards, ["nld", "zho", "eng"], global_batch=6, seed=0)
    lengths = token_byte_lengths(tok)
    module = TaamModule(
        model,
        uniform(MixContext(("nld", "zho", "eng"), np.ones(3), np.ones(3), 1)),
        lengths,
        update_interval=1,
    )
    drawn = sampler.draw(np.array([0.5, 0.25, 0.25]))
    batch = {"tokens": torch.from_numpy(drawn.tokens), "language": torch.from_numpy(drawn.language)}
    with torch.no_grad():
        loss = module.step_loss(batch)
    stats = WindowStats.from_matrix(module.window.numpy(), sampler.close_window())

    expected = np.zeros((3, 4))
    for row, lang in zip(drawn.tokens, drawn.language, strict=True):
        x = torch.from_numpy(row)[None]
        with torch.no_grad():  # the model's own loss (it shifts labels inside) × 16 targets
            nats = float(model(input_ids=x, labels=x).loss) * 16
        expected[lang] += [nats, lengths[row[1:]].sum(), 16, 1]
    assert np.allclose(stats.nats, expected[:, 0], rtol=1e-5)
    assert np.array_equal(stats.bytes, expected[:, 1])
    assert np.array_equal(stats.tokens, expected[:, 2]) and np.array_equal(
        stats.sequences, expected[:, 3]
    )
    assert math.isclose(float(loss), stats.nats.sum() / stats.tokens.sum(), rel_tol=1e-5)
    # bytes are the UTF-8 bytes the targets decode to
    for lang_index, text_ids in enumerate(ids):
        decoded = tok.decode(text_ids[1:], skip_special_tokens=True)
        assert lengths[text_ids[1:]].sum() == len(decoded.encode())
        assert stats.bytes[lang_index] == len(decoded.encode()) * stats.sequences[lang_index]


def test_nats_per_byte_is_nan_for_absent_languages():
    stats = WindowStats.from_matrix(np.array([[10.0, 5.0, 4, 1], [0, 0, 0, 0]]), np.ones(2))
    assert stats.nats_per_byte()[0] == 2.0 and np.isnan(stats.nats_per_byte()[1])


def test_dev_standard_error_is_the_spread_of_the_loss_over_samples_of_documents():
    """ℓ_i = Σ nats / Σ bytes over a language's dev documents; its relative standard error
    (documents as the sampled units) matches the spread of ℓ_i over many dev sets drawn from
    the same population of documents."""
    rng = np.random.default_rng(0)
    population_bytes = rng.integers(200, 3000, 5000).astype(float)
    population_loss = rng.lognormal(np.log(1.4), 0.15, 5000)  # per-document nats per byte
    n_docs, draws = 30, np.zeros((2, 2))
    losses, estimates = [], []
    for _ in range(2000):
        pick = rng.choice(5000, n_docs)
        b = population_bytes[pick]
        docs = np.stack([population_loss[pick] * b, b, b / 3, np.ones(n_docs)], axis=1)
        docs = np.concatenate([docs, docs[:5]])  # language 1: 5 documents
        lang = np.array([0] * n_docs + [1] * 5)
        stats = WindowStats.from_documents(docs, lang, draws)
        losses.append(stats.nats_per_byte()[0])
        estimates.append(stats.relative_se[0])
    spread = np.std(losses) / np.mean(losses)
    assert np.mean(estimates) == pytest.approx(spread, rel=0.1)
    assert stats.signal == "dev" and stats.full_information
    assert stats.nats[0] == pytest.approx(docs[:n_docs, 0].sum())


def test_a_language_with_fewer_than_two_scored_documents_has_no_standard_error():
    docs = np.array([[10.0, 8.0, 4.0, 1.0], [12.0, 8.0, 4.0, 1.0], [9.0, 7.0, 3.0, 1.0]])
    docs = np.concatenate([docs, [[0.0, 0.0, 0.0, 0.0]]])  # a document with no window scored
    stats = WindowStats.from_documents(docs, np.array([0, 0, 1, 1]), np.zeros((2, 2)))
    assert np.isfinite(stats.relative_se[0]) and stats.relative_se[0] > 0
    assert stats.relative_se[1] == np.inf  # one scored document: its sampling error is unknown
    residual = docs[:2, 0] - 22 / 16 * docs[:2, 1]
    assert stats.relative_se[0] == pytest.approx(
        math.sqrt(2 * (residual**2).sum()) / 16 / (22 / 16)
    )
