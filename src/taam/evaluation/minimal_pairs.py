"""Minimal pairs in the BabyLM pipeline's formats: loading, and scoring as that pipeline does.

A pair is right when the model gives the acceptable sentence the higher summed
log-probability, log p(s) = Σ_{t≥1} log p(x_t | x_{<t}) with x_0 = BOS and the sentence encoded
without special tokens (no length normalisation). A k-way tie that includes the right answer
earns 1/k, so a tied pair counts 0.5. Ties are exact float64 equality (tolerance 0): identical
sentences are scored once and so tie exactly, and no tolerance turns two different sentences
into a tie by rounding.

The format is read from the fields: MultiBLiMP ``sen``/``wrong_sen``; BLiMP-NL and ZhoBLiMP
``sentence_good``/``sentence_bad``; XCOMPS ``acceptable_sent``/``unacceptable_sent``. A source is
a local ``.jsonl``/``.tsv``/``.parquet`` file, a folder of them, or a Hub dataset.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from taam.errors import EvalError

FORMATS = {  # benchmark → (acceptable field, unacceptable field)
    "MultiBLiMP": ("sen", "wrong_sen"),
    "BLiMP": ("sentence_good", "sentence_bad"),  # BLiMP-NL, ZhoBLiMP (and English BLiMP)
    "XCOMPS": ("acceptable_sent", "unacceptable_sent"),
}
# Fields that name the phenomenon a pair tests, most specific name first; the first present
# one labels the per-phenomenon accuracies.
PHENOMENON_FIELDS = ("phenomenon", "phenomena", "linguistics_term", "paradigm", "UID", "field")
SUFFIXES = (".jsonl", ".tsv", ".parquet")


@dataclass(frozen=True)
class PairSet:
    """The pairs of one file (or one Hub dataset config) in one language."""

    name: str  # the file path, or "<hub id>/<config>"
    language: str
    benchmark: str  # a key of FORMATS
    good: tuple[str, ...]
    bad: tuple[str, ...]
    phenomena: tuple[str, ...] | None  # one label per pair, when the file has such a field


def load_pair_sets(sources: Mapping[str, Sequence[Any]]) -> list[PairSet]:
    """Every configured source, as ``{language: [path | folder | {hub, name, split}, …]}``."""
    pair_sets = []
    for language, specs in sources.items():
        for spec in specs:
            if isinstance(spec, str):
                for path in _local_files(Path(spec), language):
                    pair_sets.append(to_pair_set(str(path), language, read_rows(path)))
            elif isinstance(spec, Mapping) and "hub" in spec:
                for name, rows in load_hub(spec["hub"], spec.get("name"), spec.get("split")):
                    pair_sets.append(to_pair_set(name, language, rows))
            else:
                raise EvalError(
                    f"minimal_pairs.{language}: {spec!r} is not a source; give a file or folder "
                    "path, or {hub: <dataset id>, name: <config or null>, split: <split>}."
                )
    return pair_sets


def _local_files(path: Path, language: str) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES)
        if not files:
            raise EvalError(
                f"folder {path} (minimal_pairs.{language}) holds no {'/'.join(SUFFIXES)} files."
            )
        return files
    if not path.is_file():
        raise EvalError(
            f"minimal-pair file {path} (listed under minimal_pairs.{language}) does not exist."
        )
    return [path]


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The records of a ``.jsonl`` (one object a line), ``.tsv`` (header row) or ``.parquet``."""
    try:
        return _read_rows(path)
    except UnicodeDecodeError as err:
        raise EvalError(f"{path} is not valid UTF-8 ({err.reason}); re-save it as UTF-8.") from None


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as f:
            rows = []
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise EvalError(
                        f"{path}:{lineno} is not valid JSON ({err.msg}); fix or remove that line."
                    ) from None
    elif path.suffix == ".tsv":
        with path.open(encoding="utf-8", newline="") as f:
            # TSV files of these benchmarks are unquoted: a quote mark is part of the sentence.
            rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    elif path.suffix == ".parquet":
        rows = pq.read_table(path).to_pylist()
    else:
        raise EvalError(
            f"{path}: unknown minimal-pair file type; use one of {', '.join(SUFFIXES)}."
        )
    if not rows:
        raise EvalError(f"{path} is empty: it holds no minimal pairs. Fill it or remove it.")
    return rows


def load_hub(
    hub_id: str, names: str | Sequence[str] | None, split: str | None
) -> list[tuple[str, list[dict[str, Any]]]]:
    """``(name, rows)`` per config of a Hub dataset; ``names`` null means all its configs.

    ``split`` null takes the dataset's only split. Works offline from the datasets cache.
    """
    import datasets  # only Hub sources need it, and it is slow to import

    try:
        if names is None:
            names = datasets.get_dataset_config_names(hub_id)
        names = [names] if isinstance(names, str) else list(names)
        loaded = []
        for name in names:
            dataset = datasets.load_dataset(hub_id, name, split=split)
            if isinstance(dataset, datasets.DatasetDict):
                dataset = _only_split(hub_id, name, dataset)
            loaded.append((f"{hub_id}/{name}", dataset.to_list()))
    except EvalError:
        raise
    except Exception as error:  # offline, gated or unknown: every cause gets the same way out
        raise EvalError(
            f"could not load the Hub dataset {hub_id} (config {names}, split {split}): {error}\n"
            "Without network (or for a gated dataset without a token) use a local copy: on a "
            "machine that reaches the Hub run\n"
            f"  python -c \"import datasets; datasets.load_dataset('{hub_id}', '<config>', "
            f"split='<split>').to_parquet('<config>.parquet')\"\n"
            "then copy the file(s) here and list them (or their folder) instead of the Hub id, "
            "e.g. '++minimal_pairs.nld=[data/blimp_nl]'."
        ) from error
    return loaded


def _only_split(hub_id: str, name: str, dataset: Any) -> Any:
    if len(dataset) != 1:
        raise EvalError(
            f"{hub_id}/{name} has splits {', '.join(dataset)}; choose one with split: <name>."
        )
    return next(iter(dataset.values()))


def to_pair_set(name: str, language: str, rows: Sequence[Mapping[str, Any]]) -> PairSet:
    """Detect the format from the fields and check every record has both sentences."""
    if not rows:
        raise EvalError(f"{name} is empty: it holds no minimal pairs. Fill it or remove it.")
    fields = list(rows[0])
    benchmark = next((b for b, pair in FORMATS.items() if set(pair) <= set(fields)), None)
    if benchmark is None:
        needed = "; ".join(f"{good}/{bad} ({b})" for b, (good, bad) in FORMATS.items())
        raise EvalError(
            f"{name} has the fields {', '.join(fields)}, but a minimal-pair file needs one of "
            f"these field pairs: {needed}. Rename its columns to one of them."
        )
    good_field, bad_field = FORMATS[benchmark]
    for number, row in enumerate(rows, start=1):
        if not (isinstance(row.get(good_field), str) and isinstance(row.get(bad_field), str)):
            raise EvalError(
                f"{name}, record {number}: needs text in both {good_field} and {bad_field}; it has "
                f"the fields {', '.join(k for k, v in row.items() if v is not None)}."
            )
    label = next((f for f in PHENOMENON_FIELDS if f in fields), None)
    return PairSet(
        name=name,
        language=language,
        benchmark=benchmark,
        good=tuple(row[good_field] for row in rows),
        bad=tuple(row[bad_field] for row in rows),
        phenomena=tuple(str(row.get(label, "")) for row in rows) if label else None,
    )


def choice_credit(scores: Sequence[float], gold: int) -> float:
    """1/k when the right answer is among the k choices with the highest score, else 0."""
    best = max(scores)
    tied = [i for i, score in enumerate(scores) if score == best]  # exact: tolerance 0
    return 1.0 / len(tied) if gold in tied else 0.0


def pair_credits(good: Sequence[float], bad: Sequence[float]) -> np.ndarray:
    """Per pair: 1 if log p(good) > log p(bad), 0.5 on a tie, 0 otherwise."""
    return np.array([choice_credit((g, b), gold=0) for g, b in zip(good, bad, strict=True)])


def accuracies(pair_set: PairSet, credits: np.ndarray) -> list[tuple[str, float, int]]:
    """``(phenomenon, accuracy, pairs)``: the whole file first (phenomenon ""), then each one."""
    rows = [("", float(credits.mean()), len(credits))]
    if pair_set.phenomena is not None:
        groups: dict[str, list[float]] = defaultdict(list)
        for phenomenon, credit in zip(pair_set.phenomena, credits, strict=True):
            groups[phenomenon].append(credit)
        rows += [(p, float(np.mean(c)), len(c)) for p, c in sorted(groups.items())]
    return rows
