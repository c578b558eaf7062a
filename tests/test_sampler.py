import numpy as np
import pytest

from taam.data.sampler import DataExhausted, MixtureSampler
from taam.data.shards import LanguageShard


def shards(sizes=(101, 201, 51), seq_len=4):
    # Token values encode (language, position) so each drawn sequence can be identified.
    return {
        lang: LanguageShard(np.arange(n * seq_len + 1) + 100_000 * i, seq_len)
        for i, (lang, n) in enumerate(zip(["eng", "nld", "zho"], sizes, strict=True))
    }


def make(seed=0, batch=12, cap=10.0, **kw):
    return MixtureSampler(shards(**kw), ["eng", "nld", "zho"], batch, seed, cap)


def test_batch_languages_are_a_pure_function_of_seed_step_pi():
    pi = np.array([0.2, 0.3, 0.5])
    a, b = make(seed=7), make(seed=7)
    assert np.array_equal(a.languages_for(5, pi), b.languages_for(5, pi))
    assert not np.array_equal(a.languages_for(5, pi), a.languages_for(6, pi))
    for _ in range(4):  # history does not matter, only (seed, step, π)
        a.draw(pi)
    assert np.array_equal(a.languages_for(5, pi), make(seed=7).languages_for(5, pi))


def test_same_seed_same_data_order():
    pi = np.array([0.3, 0.3, 0.4])
    a, b = make(seed=3), make(seed=3)
    for _ in range(30):
        x, y = a.draw(pi), b.draw(pi)
        assert np.array_equal(x.tokens, y.tokens) and np.array_equal(x.language, y.language)


def test_exact_exposures_epochs_and_unique_tokens():
    s = make(seed=1, batch=10)
    pi = np.array([0.5, 0.25, 0.25])
    seen = [set(), set(), set()]
    for _ in range(40):
        batch = s.draw(pi)
        for row, lang in zip(batch.tokens, batch.language, strict=True):
            seen[lang].add(int(row[0]))
    counts = np.array([sum(1 for _ in x) for x in seen])
    assert s.drawn.sum() == 400
    assert np.array_equal(s.exposures_tokens(), s.drawn * 4)
    assert np.allclose(s.epochs(), s.drawn / np.array([101, 201, 51]))
    # within an epoch every sequence is new: unique sequences seen = min(drawn, size)
    assert np.array_equal(counts, np.minimum(s.drawn, [101, 201, 51]))
    assert np.array_equal(s.unique_tokens_seen(), counts * 4)


def test_sequences_are_consecutive_windows_with_one_token_overlap():
    s = make(seed=2, batch=4)
    tokens = s.draw(np.array([1.0, 0, 0])).tokens
    assert tokens.shape == (4, 5)
    assert np.all(np.diff(tokens, axis=1) == 1) and np.all(tokens[:, 0] % 4 == 0)


def test_ranks_slice_the_same_global_batch():
    pi = np.array([0.2, 0.5, 0.3])
    full = make(seed=9, batch=8).draw(pi)
    parts = []
    for rank in range(2):
        s = make(seed=9, batch=8)
        s.set_rank(rank, 2)
        parts.append(s.draw(pi))
    assert np.array_equal(np.concatenate([p.tokens for p in parts]), full.tokens)
    with pytest.raises(ValueError, match="not divisible by 3"):
        make(batch=8).set_rank(0, 3)


def test_epoch_cap_removes_a_language_and_stops_when_all_are_done():
    s = make(seed=0, batch=10, cap=1.0, sizes=(30, 30, 30))
    pi = np.array([0.8, 0.1, 0.1])
    draws_after_eng_capped = []  # B·π_eng in force at each step after eng left π
    with pytest.raises(DataExhausted):
        for _ in range(20):
            s.draw(pi)
            in_force = s.close_window()  # a one-step window: B·π of this draw
            assert np.all(s.drawn <= 30)
            if s.capped_at.get("eng", s.step) < s.step:
                draws_after_eng_capped.append(in_force[0])
    assert set(s.capped_at) == {"eng", "nld", "zho"}
    assert draws_after_eng_capped and not any(draws_after_eng_capped)


def test_state_round_trip_continues_identically():
    pi = np.array([0.4, 0.4, 0.2])
    a = make(seed=5)
    for _ in range(7):
        a.draw(pi)
    b = make(seed=5)
    b.load_state_dict(a.state_dict())
    for _ in range(5):
        assert np.array_equal(a.draw(pi).tokens, b.draw(pi).tokens)
