"""Run directories read for comparison: :class:`RunRecord` and the grouping of seeds.

Reads each run directory's summary.json, config.yaml, ledger.json, mixer.csv, metrics.csv and,
where ``src/eval.py`` has scored it, eval/results.csv. Seeds belong together only when the whole
configuration is the same except the seed (and keys that only name or place a run:
:data:`NOT_IDENTITY`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from taam.errors import ComparisonError
from taam.io import read_csv_rows
from taam.mixer.factory import mixer_class
from taam.run.identity import RunIdentity, flat_config
from taam.run.rundir import saved_config
from taam.run.status import FINISHED, outcome, read_summary

# Keys that name, place or display a run, and the seed: the rest of the config is its identity.
# DoReMi's reference_run names the uniform run of the same seed: like run_dir, a place.
NOT_IDENTITY = (
    "seed",
    "run_dir",
    "resume",
    "paths",
    "logger",
    "train.plots",
    "hydra",
    "method.mixer.reference_run",
)


@dataclass
class RunRecord:
    """What the comparison needs of one run directory."""

    path: Path
    method: str
    reward: str | None
    label: str  # the method part of the run name: Method[-<reward tag>][-<signal>]
    seed: int | None
    status: str  # completed / stopped / failed, or incomplete (no summary.json yet)
    languages: list[str]
    summary: dict
    mixer: list[dict[str, float | None]]
    metrics: list[dict[str, float | None]]
    heldout: dict[str, dict[str, float]]  # checkpoint → language → held-out BPB
    heldout_adjusted: dict[str, dict[str, float]]  # checkpoint → language → BPB × BP
    checkpoint_exposures: dict[str, float]  # checkpoint → token exposures
    premiums: dict[str, float]  # language → byte premium (ledger.json)
    identity: dict[str, Any]  # the flattened config minus NOT_IDENTITY (see identity_of)
    data_seed: int | None = None  # the data split (ledger.json): held-out, dev and training text

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def floor(self) -> float | None:
        return self.summary.get("floor")

    def training_curve(self, column: str) -> list[tuple[float, float]]:
        """(exposures, value) of a metrics.csv column, where the window logged it."""
        return [
            (row["exposures_tokens"], row[column])
            for row in self.metrics
            if row.get(column) is not None and row.get("exposures_tokens") is not None
        ]


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any((path / f).exists() for f in ("summary.json", "config.yaml"))


def find_runs(folder: str | Path) -> list[Path]:
    """The run directories directly inside ``folder`` (a sweep folder, or ``runs/``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ComparisonError(f"{folder} is not a folder; point sweep_dir at a sweep's folder.")
    runs = sorted(p for p in folder.iterdir() if is_run_dir(p))
    if not runs:
        raise ComparisonError(
            f"{folder} holds no run directories (folders with summary.json or config.yaml); "
            f"point sweep_dir at runs/sweeps/<date_time>, or list runs with run_dirs=[...]."
        )
    return runs


def load_run(path: str | Path) -> RunRecord:
    path = Path(path)
    summary = read_summary(path)
    config = saved_config(path) if (path / "config.yaml").exists() else None
    method = summary.get("method") or config.method.name
    reward = summary["reward"] if "reward" in summary else _config_reward(config)
    tag = config.reward.get("tag", reward) if config is not None and reward else reward
    signal = summary["signal"] if "signal" in summary else _config_signal(config)
    results = _read_results(path / "eval" / "results.csv")
    ledger = _read_json(path / "ledger.json")
    return RunRecord(
        path=path,
        method=method,
        reward=reward,
        label="-".join(part for part in (method, tag if reward else None, signal) if part),
        seed=summary.get("seed", config.seed if config is not None else None),
        status=outcome(path),
        languages=list(summary.get("languages") or config.data.languages),
        summary=summary,
        mixer=_read_csv(path / "mixer.csv"),
        metrics=_read_csv(path / "metrics.csv"),
        heldout=results["bpb"],
        heldout_adjusted=results["bpb_adjusted"],
        checkpoint_exposures=results["exposures"],
        premiums={
            lang: float(row["byte_premium"]) for lang, row in ledger.get("languages", {}).items()
        },
        identity=identity_of(config),
        data_seed=ledger.get("data_seed"),
    )


def load_runs(paths: Sequence[str | Path]) -> list[RunRecord]:
    """Runs in table order: by method, reward and seed."""
    runs = [load_run(p) for p in paths]
    return sorted(runs, key=lambda r: (r.method, r.reward or "", r.seed or 0, r.name))


def languages_of(runs: Sequence[RunRecord]) -> list[str]:
    return list(dict.fromkeys(lang for run in runs for lang in run.languages))


def identity_of(config: DictConfig | None) -> dict[str, Any]:
    """A run's configuration flattened to ``dotted.key → value``, minus :data:`NOT_IDENTITY`;
    the ``reward`` group too where the method learns from no reward (it cannot matter)."""
    if config is None:
        return {}
    ignored = (*NOT_IDENTITY, *(() if mixer_class(config.method).uses_reward else ("reward",)))
    return flat_config(config, ignored)


def differing_keys(runs: Sequence[RunRecord]) -> list[str]:
    """The identity keys whose values are not the same in every run of ``runs``."""
    keys = sorted({key for run in runs for key in run.identity})
    return [k for k in keys if len({repr(run.identity.get(k)) for run in runs}) > 1]


def group_by_method(
    runs: Sequence[RunRecord], pooled: Sequence[str] = ()
) -> dict[str, list[RunRecord]]:
    """Row label → its finished runs (the seeds of one configuration), in table order.

    The label is the method × reward label; where runs of that label differ in other config
    keys, each configuration gets its own row, labelled ``<label> [key=value, ...]`` with the
    keys that differ. Runs are never averaged across configurations, except over the keys in
    ``pooled`` (``data.seed`` in a benchmark over splits, which varies it by design).
    """
    by_identity: dict[str, dict[str, list[RunRecord]]] = {}
    for run in runs:
        if run.status in FINISHED:
            key = repr(sorted((k, v) for k, v in run.identity.items() if k not in pooled))
            by_identity.setdefault(run.label, {}).setdefault(key, []).append(run)
    groups: dict[str, list[RunRecord]] = {}
    for label, configurations in by_identity.items():
        if len(configurations) == 1:
            groups[label] = next(iter(configurations.values()))
            continue
        keys = [
            k for k in differing_keys([g[0] for g in configurations.values()]) if k not in pooled
        ]
        for group in configurations.values():
            named = ", ".join(f"{k}={group[0].identity.get(k)}" for k in keys)
            groups[f"{label} [{named}]"] = group
    return groups


def unaveraged(runs: Sequence[RunRecord], pooled: Sequence[str] = ()) -> dict[str, list[str]]:
    """Method × reward label → the config keys (not ``pooled``) that split its seeds into
    separate rows."""
    split: dict[str, list[RunRecord]] = {}
    for run in runs:
        if run.status in FINISHED:
            split.setdefault(run.label, []).append(run)
    return {
        label: keys
        for label, group in split.items()
        if (keys := [k for k in differing_keys(group) if k not in pooled])
    }


def _config_reward(config: DictConfig | None) -> str | None:
    return None if config is None else RunIdentity.of(config).reward


def _config_signal(config: DictConfig | None) -> str | None:
    return None if config is None else RunIdentity.of(config).signal


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _read_csv(path: Path) -> list[dict[str, float | str | None]]:
    return read_csv_rows(path) if path.exists() else []


def _read_results(path: Path) -> dict[str, dict]:
    """From the language-level rows of results.csv: ``bpb`` and ``bpb_adjusted`` as checkpoint
    → language → value, and ``exposures`` as checkpoint → token exposures."""
    results: dict[str, dict] = {"bpb": {}, "bpb_adjusted": {}, "exposures": {}}
    if not path.exists():
        return results
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["metric"] in ("bpb", "bpb_adjusted") and not row["file"]:
                scores = results[row["metric"]].setdefault(row["checkpoint"], {})
                scores[row["language"]] = float(row["value"])
                results["exposures"][row["checkpoint"]] = float(row["exposures_tokens"])
    return results
