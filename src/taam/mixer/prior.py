"""The typological prior P⁰ from URIEL feature vectors (lang2vec).

For each configured feature set f, d_f(i, j) is the cosine distance between the
languages' URIEL vectors, over the dimensions known for both. Then

    d(i, j) = mean_f d_f(i, j)
    s_i     = mean_{j≠i} d(i, j)         how far language i stands from the rest of the mix
    P⁰_i   ∝ exp(s_i / T)

lang2vec ships feature vectors only (loading them takes seconds), so the vectors are
cached as JSON per (languages, feature set) under ``cache_dir`` when one is given.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from taam.io import write_json
from taam.languages import LanguageError, check_code, uriel_code
from taam.mixer.base import MixContext, StaticMixer

DEFAULT_FEATURE_SETS = ("syntax_knn", "phonology_knn", "inventory_knn", "fam", "geo")
DEFAULT_TEMPERATURE = 0.1


def _lang2vec():
    """The ``lang2vec.lang2vec`` module, imported only when a prior is needed (it is slow)."""
    if "lang2vec" not in sys.modules:
        # lang2vec installs a script bin/lang2vec.py; under a console script such as
        # .venv/bin/pytest, bin/ is sys.path[0] and that script would shadow the package.
        path = [p for p in sys.path if not Path(p, "lang2vec.py").is_file()]
        spec = importlib.machinery.PathFinder.find_spec("lang2vec", path)
        if spec is None or spec.loader is None:
            raise ImportError("the typological prior needs lang2vec: pip install 'lang2vec>=1.1.2'")
        package = importlib.util.module_from_spec(spec)
        sys.modules["lang2vec"] = package
        spec.loader.exec_module(package)
    return importlib.import_module("lang2vec.lang2vec")


def uriel_features(uriel_codes: Sequence[str], feature_set: str) -> np.ndarray:
    """``[K, D]`` URIEL vectors of one feature set, NaN where a value is missing (``--``)."""
    l2v = _lang2vec()
    if feature_set not in l2v.FEATURE_SETS:
        raise ValueError(
            f"unknown URIEL feature set '{feature_set}'; lang2vec knows {sorted(l2v.FEATURE_SETS)}"
        )
    for code in uriel_codes:
        # lang2vec raises a bare Exception (or prints and returns junk) for unknown codes.
        if code not in l2v.URIEL_LANGUAGES:
            raise LanguageError(
                f"URIEL (lang2vec) has no typological entry for '{code}', so the typological "
                f"prior cannot be computed. Use a language URIEL knows (list: "
                f"lang2vec.lang2vec.URIEL_LANGUAGES) or a method without the prior "
                f"(e.g. method=exp3 or method=uniform)."
            )
    table = l2v.get_features(list(uriel_codes), feature_set)
    rows = [[np.nan if v == "--" else float(v) for v in table[c]] for c in uriel_codes]
    return np.asarray(rows, dtype=np.float64)


def cached_uriel_features(
    uriel_codes: Sequence[str], feature_set: str, cache_dir: Path | None
) -> np.ndarray:
    """:func:`uriel_features`, read from / written to ``cache_dir/uriel`` when given."""
    if cache_dir is None:
        return uriel_features(uriel_codes, feature_set)
    path = Path(cache_dir) / "uriel" / f"{feature_set}-{'-'.join(uriel_codes)}.json"
    if path.exists():
        cached = json.loads(path.read_text())
        return np.array(cached["vectors"], dtype=np.float64)  # None (missing) -> nan
    vectors = uriel_features(uriel_codes, feature_set)
    rows = [[None if np.isnan(v) else v for v in row] for row in vectors.tolist()]
    write_json(path, {"languages": list(uriel_codes), "feature_set": feature_set, "vectors": rows})
    return vectors


def cosine_distances(vectors: np.ndarray) -> np.ndarray:
    """d_f(i, j) = 1 − cos(x_i, x_j) over the dimensions known (not NaN) for both; NaN if none."""
    k = len(vectors)
    d = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            known = ~np.isnan(vectors[i]) & ~np.isnan(vectors[j])
            x, y = vectors[i, known], vectors[j, known]
            norm = np.linalg.norm(x) * np.linalg.norm(y)
            d[i, j] = d[j, i] = 1.0 - float(x @ y) / norm if norm > 0 else np.nan
    return d


@dataclass
class TypologicalPrior:
    """P⁰ with everything that produced it (written to ``prior.json``)."""

    languages: tuple[str, ...]
    uriel_codes: tuple[str, ...]
    feature_sets: tuple[str, ...]
    temperature: float
    distances: dict[str, np.ndarray] = field(repr=False)  # per feature set, d_f
    distance: np.ndarray = field(repr=False)  # d = mean_f d_f
    s: np.ndarray = field(repr=False)
    p0: np.ndarray = field(repr=False)

    def report(self) -> dict:
        """JSON-ready dict: languages, feature sets, T, d_f per set, d, s_i and P⁰."""
        return {
            "languages": list(self.languages),
            "uriel_codes": list(self.uriel_codes),
            "feature_sets": list(self.feature_sets),
            "temperature": self.temperature,
            "distance_per_feature_set": {f: _matrix(d) for f, d in self.distances.items()},
            "distance": _matrix(self.distance),
            "s": dict(zip(self.languages, self.s.tolist(), strict=True)),
            "P0": dict(zip(self.languages, self.p0.tolist(), strict=True)),
        }


def _matrix(d: np.ndarray) -> list[list[float | None]]:
    return [[None if np.isnan(v) else v for v in row] for row in d.tolist()]


def prior_from_features(
    languages: Sequence[str],
    features: Mapping[str, np.ndarray],
    temperature: float = DEFAULT_TEMPERATURE,
    uriel_codes: Sequence[str] | None = None,
) -> TypologicalPrior:
    """P⁰_i ∝ exp(s_i / T), s_i = mean_{j≠i} mean_f d_f(i, j), from ``[K, D_f]`` vectors per set."""
    k = len(languages)
    if k < 2:
        raise ValueError("the typological prior needs at least two languages")
    if not temperature > 0:
        raise ValueError(f"prior temperature T must be positive, got {temperature}")
    distances = {f: cosine_distances(np.asarray(x, dtype=np.float64)) for f, x in features.items()}
    stacked = np.stack(list(distances.values()))
    off_diagonal = ~np.eye(k, dtype=bool)
    undefined = np.isnan(stacked).all(axis=0) & off_diagonal
    if undefined.any():
        i, j = np.argwhere(undefined)[0]
        raise LanguageError(
            f"no configured URIEL feature set has known values shared by '{languages[i]}' and "
            f"'{languages[j]}'; add a feature set with coverage for both (e.g. fam or geo)."
        )
    # A set whose vectors share no known dimension for a pair is left out of that pair's mean.
    distance = np.nanmean(np.where(off_diagonal, stacked, 0.0), axis=0)
    s = distance.sum(axis=1) / (k - 1)  # the diagonal is 0
    logits = s / temperature
    p0 = np.exp(logits - logits.max())
    return TypologicalPrior(
        languages=tuple(languages),
        uriel_codes=tuple(uriel_codes or languages),
        feature_sets=tuple(features),
        temperature=float(temperature),
        distances=distances,
        distance=distance,
        s=s,
        p0=p0 / p0.sum(),
    )


def typological_prior(
    languages: Sequence[str],
    feature_sets: Sequence[str] = DEFAULT_FEATURE_SETS,
    temperature: float = DEFAULT_TEMPERATURE,
    cache_dir: Path | str | None = None,
) -> TypologicalPrior:
    """P⁰ for ``languages`` (ISO 639-3) from their URIEL vectors (``zho`` looked up as ``cmn``)."""
    if not feature_sets:
        raise ValueError("the typological prior needs at least one URIEL feature set")
    codes = tuple(uriel_code(check_code(code)) for code in languages)
    cache = Path(cache_dir) if cache_dir is not None else None
    features = {f: cached_uriel_features(codes, f, cache) for f in feature_sets}
    return prior_from_features(languages, features, temperature, uriel_codes=codes)


@dataclass
class PriorMixer(StaticMixer):
    """The static ``prior`` method: π = P⁰ for the whole run."""

    prior_report: dict = field(default_factory=dict, repr=False)
    uses_prior = True  # the training loop writes prior_report to prior.json


def prior_mixer(context: MixContext, prior: Mapping | None = None) -> PriorMixer:
    """Hydra ``_partial_`` target of ``method=prior``; ``prior``: feature_sets, temperature."""
    p = typological_prior(context.languages, **(prior or {}), cache_dir=context.cache_dir)
    return PriorMixer(context.languages, p.p0, prior_report=p.report())
