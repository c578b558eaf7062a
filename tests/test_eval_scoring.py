"""Batched, windowed summed log-probabilities and held-out bits per byte, against direct
computations with torch.log_softmax."""

from __future__ import annotations

import math

import pytest
import torch

from eval_support import HELDOUT, direct_logprob, sentence_ids, tiny_model, tiny_tokenizer
from taam.errors import EvalError
from taam.evaluation.heldout import bits_per_byte
from taam.evaluation.scoring import encode_with_bos, sequence_logprobs, windows


@pytest.mark.parametrize("context", [1, 4, 7])
def test_windows_predict_every_token_once_with_enough_context(context):
    for stride in range(1, context + 1):
        for n in range(1, 30):
            targets = []
            for start, end, first in windows(n, context, stride):
                assert end - start - 1 <= context  # never more inputs than the context
                for t in range(first, end):
                    targets.append(t)
                    assert t - start >= min(t, context - stride + 1)  # tokens of context
            assert targets == list(range(1, n))


def test_windows_reject_a_stride_outside_the_context():
    with pytest.raises(EvalError, match="stride must be between 1 and the context"):
        windows(10, context=4, stride=5)


def test_encoding_has_exactly_one_bos_and_no_other_special_token():
    tok = tiny_tokenizer()
    ids = encode_with_bos(tok, ["The cat sleeps.", ""])
    assert ids[0] == sentence_ids("The cat sleeps.") and ids[1] == [tok.bos_token_id]
    assert ids[0].count(tok.bos_token_id) == 1 and tok.eos_token_id not in ids[0]


def test_batched_scores_match_one_sequence_at_a_time():
    model = tiny_model(seed=0)
    sequences = [sentence_ids(t) for docs in HELDOUT.values() for t in docs]
    scores = sequence_logprobs(model, sequences, context=256, stride=256, batch_size=4)
    expected = [direct_logprob(model, ids) for ids in sequences]
    assert scores == pytest.approx(expected, rel=1e-5)
    assert scores.dtype.name == "float64"


@pytest.mark.parametrize("stride", [16, 5])
def test_long_sequences_are_scored_in_windows(stride):
    """Each window is a separate forward pass; each token counted in exactly one of them."""
    model, context = tiny_model(seed=1), 16
    ids = sentence_ids(HELDOUT["eng"][1])
    assert len(ids) > 4 * context
    expected = 0.0
    for start, end, first in windows(len(ids), context, stride):
        with torch.no_grad():
            logits = model(torch.tensor([ids[start : end - 1]])).logits[0].double()
        logprobs = torch.log_softmax(logits, dim=-1)
        expected += sum(float(logprobs[t - start - 1, ids[t]]) for t in range(first, end))
    [score] = sequence_logprobs(model, [ids], context=context, stride=stride, batch_size=3)
    assert score == pytest.approx(expected, rel=1e-5)
    if stride == context:  # disjoint windows: a fresh context at every multiple of 16
        assert [w[0] for w in windows(len(ids), context, stride)][:3] == [0, 16, 32]


def test_identical_sequences_tie_exactly():
    model = tiny_model(seed=0)
    a, b = sentence_ids("The bird sings."), sentence_ids("Het boek.")
    scores = sequence_logprobs(model, [a, b, a, b, a], context=256, stride=256, batch_size=2)
    assert scores[0] == scores[2] == scores[4] and scores[1] == scores[3]


def test_bits_per_byte_is_pooled_bits_over_utf8_bytes():
    model = tiny_model(seed=2)
    texts = HELDOUT["zho"]
    nats = [direct_logprob(model, sentence_ids(t)) for t in texts]
    bits = -sum(nats) / math.log(2)
    utf8 = sum(len(t.encode("utf-8")) for t in texts)  # 3 bytes per Chinese character
    assert utf8 > sum(len(t) for t in texts)
    assert bits_per_byte(nats, texts) == pytest.approx(bits / utf8, rel=1e-12)
