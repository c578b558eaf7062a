"""The per-language statistics the mixer sees: nats, bytes, tokens, sequences per language."""

import math

import numpy as np
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
