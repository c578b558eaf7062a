"""The typological prior P⁰: hand-computed distances, caching, errors and the real URIEL default."""

from __future__ import annotations

import math

import numpy as np
import pytest

from taam.languages import LanguageError
from taam.mixer import prior as prior_module
from taam.mixer.base import MixContext
from taam.mixer.prior import (
    PriorMixer,
    cosine_distances,
    prior_from_features,
    prior_mixer,
    typological_prior,
)

LANGS = ("eng", "nld", "zho")
# Two small feature sets; URIEL's missing-value marker becomes NaN.
FEATURES = {
    "a": np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]),
    "b": np.array([[1.0, 0.0, np.nan], [1.0, 0.0, 3.0], [0.0, 1.0, 1.0]]),
}


def test_cosine_distance_uses_dimensions_known_for_both():
    d = cosine_distances(FEATURES["b"])
    assert d[0, 1] == pytest.approx(0.0)  # eng·nld over dims 0, 1 only: identical
    assert d[0, 2] == pytest.approx(1.0)  # orthogonal over dims 0, 1
    assert d[1, 2] == pytest.approx(1 - 3 / math.sqrt(20))
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)


def test_prior_on_a_hand_computed_case():
    p = prior_from_features(LANGS, FEATURES, temperature=0.5)
    # d(i, j) = mean over the two sets of the cosine distances
    d_en_nl = ((1 - 1 / math.sqrt(2)) + 0.0) / 2
    d_en_zh = (1.0 + 1.0) / 2
    d_nl_zh = ((1 - 1 / math.sqrt(2)) + (1 - 3 / math.sqrt(20))) / 2
    assert p.distance[0, 1] == pytest.approx(d_en_nl)
    assert p.distance[0, 2] == pytest.approx(d_en_zh)
    assert p.distance[1, 2] == pytest.approx(d_nl_zh)
    s = np.array([(d_en_nl + d_en_zh) / 2, (d_en_nl + d_nl_zh) / 2, (d_en_zh + d_nl_zh) / 2])
    assert p.s == pytest.approx(s)
    expected = np.exp(s / 0.5) / np.exp(s / 0.5).sum()
    assert p.p0 == pytest.approx(expected)
    assert p.p0.argmax() == 2

    report = p.report()
    assert set(report) >= {"languages", "feature_sets", "temperature", "distance", "s", "P0"}
    assert report["distance_per_feature_set"]["b"][0][1] == pytest.approx(0.0)
    assert report["P0"]["zho"] == pytest.approx(expected[2])


def test_temperature_flattens_the_prior():
    sharp = prior_from_features(LANGS, FEATURES, temperature=0.05).p0
    flat = prior_from_features(LANGS, FEATURES, temperature=50.0).p0
    assert sharp.max() > flat.max()
    assert flat == pytest.approx(np.full(3, 1 / 3), abs=0.01)


def test_a_pair_without_shared_known_values_is_an_error():
    features = {"x": np.array([[1.0, np.nan], [np.nan, 1.0], [1.0, 1.0]])}
    with pytest.raises(LanguageError, match=r"'eng' and\s+'nld'"):
        prior_from_features(LANGS, features)


def test_zho_is_looked_up_as_cmn_and_vectors_are_cached(monkeypatch, tmp_path):
    calls = []

    def fake(codes, feature_set):
        calls.append((tuple(codes), feature_set))
        return FEATURES[feature_set]

    monkeypatch.setattr(prior_module, "uriel_features", fake)
    first = typological_prior(LANGS, ["a", "b"], temperature=0.5, cache_dir=tmp_path)
    assert calls == [(("eng", "nld", "cmn"), "a"), (("eng", "nld", "cmn"), "b")]
    assert (tmp_path / "uriel" / "b-eng-nld-cmn.json").exists()
    again = typological_prior(LANGS, ["a", "b"], temperature=0.5, cache_dir=tmp_path)
    assert len(calls) == 2  # served from the cache, NaN included
    assert again.p0.tolist() == first.p0.tolist()
    assert first.report()["uriel_codes"] == ["eng", "nld", "cmn"]


def test_prior_mixer_is_static_and_carries_its_report(monkeypatch):
    monkeypatch.setattr(prior_module, "uriel_features", lambda codes, f: FEATURES[f])
    context = MixContext(LANGS, np.ones(3), np.ones(3), total_tokens=1000)
    mixer = prior_mixer(context, {"feature_sets": ["a", "b"], "temperature": 0.5})
    assert isinstance(mixer, PriorMixer) and mixer.uses_prior and not mixer.adaptive
    assert mixer.probs() == pytest.approx(list(mixer.prior_report["P0"].values()))


@pytest.mark.slow
def test_a_language_unknown_to_uriel_is_a_clear_error():
    with pytest.raises(LanguageError, match=r"'qqq'.*method=exp3"):
        typological_prior(("eng", "qqq"))


@pytest.mark.slow
def test_real_uriel_default_gives_mandarin_the_largest_share(tmp_path):
    p = typological_prior(LANGS, cache_dir=tmp_path)
    assert p.feature_sets == ("syntax_knn", "phonology_knn", "inventory_knn", "fam", "geo")
    assert p.p0.argmax() == LANGS.index("zho")
    assert p.s.argmax() == LANGS.index("zho")
    assert p.distance[0, 1] < p.distance[0, 2]  # Dutch is closer to English than Mandarin is
