"""Evaluate every checkpoint of one or more run directories, caching each checkpoint's results.

Per checkpoint and language: held-out bits per byte (``bpb``, ``bpb_adjusted``) and
minimal-pair ``accuracy`` (per language, per file, per phenomenon). All texts of a checkpoint
go through one batched scoring pass. Results land in ``<run>/eval/``: ``results.csv``,
``results.md``, ``curves.png`` and ``cache/<checkpoint>.json``. A cached checkpoint is reused
while its key holds: a hash of the scoring settings, the evaluated texts (held-out documents,
byte premiums, minimal pairs) and its weight files' names, sizes and modification times.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from taam.errors import EvalError
from taam.evaluation.checkpoints import (
    Checkpoint,
    list_checkpoints,
    load_checkpoint,
    pick_device,
    weights_fingerprint,
)
from taam.evaluation.curves import plot_curves
from taam.evaluation.heldout import bits_per_byte, read_heldout
from taam.evaluation.minimal_pairs import PairSet, accuracies, load_pair_sets, pair_credits
from taam.evaluation.report import write_results
from taam.evaluation.scoring import encode_with_bos, sequence_logprobs
from taam.io import write_json
from taam.logging.console import setup_logging

log = logging.getLogger(__name__)

CACHE_VERSION = 2  # bump when the meaning of cached rows changes (2: keyed by every setting)


def evaluate(cfg: DictConfig) -> list[Path]:
    """``python src/eval.py``: evaluate each run directory; compare them when there are several."""
    setup_logging()
    run_dirs = resolve_run_dirs(cfg)
    pair_sets = load_pair_sets(OmegaConf.to_container(cfg.minimal_pairs, resolve=True))
    device = pick_device(cfg.device)
    log.info(f"device {device}; {len(pair_sets)} minimal-pair file(s)")
    written, combined = [], []
    for run_dir in run_dirs:
        rows = evaluate_run(run_dir, pair_sets, cfg, device)
        written += write_outputs(run_dir / "eval", rows, run_dir.name)
        combined += [{"run": run_dir.name, **row} for row in rows]
    if len(run_dirs) > 1:
        out_dir = Path(cfg.out_dir) if cfg.out_dir else run_dirs[0] / "eval" / "comparison"
        written += write_outputs(out_dir, combined, f"{len(run_dirs)} runs")
    return written


def resolve_run_dirs(cfg: DictConfig) -> list[Path]:
    """``run_dir=<one>`` or ``run_dirs=[<a>,<b>]``, exactly one of the two."""
    if (cfg.run_dir is None) == (not cfg.run_dirs):
        raise EvalError(
            "give exactly one of run_dir=<run directory> (one run) or "
            "run_dirs=[<run a>,<run b>] (several runs, compared on one figure)."
        )
    paths = [Path(p) for p in ([cfg.run_dir] if cfg.run_dir is not None else cfg.run_dirs)]
    for path in paths:
        if not path.is_dir():
            raise EvalError(f"run directory {path} does not exist.")
    return paths


def evaluate_run(
    run_dir: Path, pair_sets: Sequence[PairSet], cfg: DictConfig, device: torch.device
) -> list[dict[str, Any]]:
    """Result rows of every checkpoint of ``run_dir``, evaluating only uncached ones.

    ``cfg.checkpoints`` limits what is scored, not what is reported: the other checkpoints
    keep their cached rows (scored with the same settings and weights), so scoring a subset
    adds or refreshes those rows and results.csv keeps the rest.
    """
    every = list_checkpoints(run_dir)
    selected = {c.name for c in _selected(every, cfg.checkpoints)}
    heldout, premiums = read_heldout(run_dir)
    # Everything besides the weights that can change a score: the windows, the batching (float
    # sums in another order) and the device type (other kernels).
    settings = {
        "context_length": cfg.context_length,
        "stride": cfg.stride,
        "batch_size": cfg.batch_size,
        "device": device.type,
    }
    data = _content_hash(settings, heldout, premiums, pair_sets)
    cache_dir = run_dir / "eval" / "cache"
    cached, todo = {}, []
    for checkpoint in every:
        key = _sha256([data, weights_fingerprint(checkpoint.path)])
        refresh = cfg.force and checkpoint.name in selected
        rows = None if refresh else _read_cache(cache_dir / f"{checkpoint.name}.json", key)
        if rows is not None:
            cached[checkpoint.name] = rows
        elif checkpoint.name in selected:
            todo.append((checkpoint, key))
    if cached:
        log.info(f"{run_dir.name}: cached, skipped: {', '.join(cached)}")
    if todo:
        log.info(f"{run_dir.name}: evaluating {', '.join(c.name for c, _ in todo)}")
        with _progress() as progress:
            for checkpoint, key in todo:
                rows = evaluate_checkpoint(
                    checkpoint, heldout, premiums, pair_sets, cfg, device, progress
                )
                write_json(cache_dir / f"{checkpoint.name}.json", {"key": key, "rows": rows})
                cached[checkpoint.name] = rows
    return [row for checkpoint in every for row in cached.get(checkpoint.name, [])]


def evaluate_checkpoint(
    checkpoint: Checkpoint,
    heldout: dict[str, list[str]],
    premiums: dict[str, float],
    pair_sets: Sequence[PairSet],
    cfg: DictConfig,
    device: torch.device,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Held-out BPB per language and minimal-pair accuracies, from one scoring pass."""
    model, tokenizer = load_checkpoint(checkpoint.path, device)
    max_positions = model.config.max_position_embeddings
    context = cfg.context_length or max_positions
    if context > max_positions:
        raise EvalError(
            f"context_length={context} exceeds the {max_positions} positions of {checkpoint.path}; "
            "leave context_length=null to use the model's own."
        )
    groups = [*heldout.values(), *(p.good for p in pair_sets), *(p.bad for p in pair_sets)]
    scores = sequence_logprobs(
        model,
        encode_with_bos(tokenizer, [text for group in groups for text in group]),
        context=context,
        stride=cfg.stride or context,
        batch_size=cfg.batch_size,
        progress=progress,
        description=checkpoint.name,
    )
    parts = iter(np.split(scores, np.cumsum([len(g) for g in groups])[:-1]))
    rows = []
    for lang, texts in heldout.items():
        bpb = bits_per_byte(next(parts), texts)
        rows.append(_row(checkpoint, lang, "bpb", bpb, len(texts)))
        rows.append(_row(checkpoint, lang, "bpb_adjusted", bpb * premiums[lang], len(texts)))
    good = [next(parts) for _ in pair_sets]
    credits = [pair_credits(g, next(parts)) for g in good]
    for lang in dict.fromkeys(p.language for p in pair_sets):
        # Language level: every pair of the language's files pooled (micro-average).
        pooled = np.concatenate(
            [c for p, c in zip(pair_sets, credits, strict=True) if p.language == lang]
        )
        rows.append(_row(checkpoint, lang, "accuracy", float(pooled.mean()), len(pooled)))
    for p, c in zip(pair_sets, credits, strict=True):
        rows += [
            _row(checkpoint, p.language, "accuracy", accuracy, n, p.name, phenomenon)
            for phenomenon, accuracy, n in accuracies(p, c)
        ]
    return rows


def write_outputs(out_dir: Path, rows: list[dict[str, Any]], title: str) -> list[Path]:
    """results.csv, results.md and curves.png in ``out_dir``."""
    paths = [*write_results(out_dir, rows, title), plot_curves(rows, out_dir / "curves.png", title)]
    log.info(f"wrote {', '.join(p.name for p in paths)} to {out_dir}")
    return paths


def _row(
    checkpoint: Checkpoint,
    language: str,
    metric: str,
    value: float,
    n: int,
    file: str = "",
    phenomenon: str = "",
) -> dict[str, Any]:
    return {
        "checkpoint": checkpoint.name,
        "exposures_tokens": checkpoint.exposures_tokens,
        "language": language,
        "metric": metric,
        "value": value,
        "file": file,
        "phenomenon": phenomenon,
        "n": n,
    }


def _selected(checkpoints: list[Checkpoint], names: Sequence[str] | None) -> list[Checkpoint]:
    if not names:
        return checkpoints
    unknown = set(names) - {c.name for c in checkpoints}
    if unknown:
        raise EvalError(
            f"unknown checkpoint(s) {', '.join(sorted(unknown))}; this run has "
            f"{', '.join(c.name for c in checkpoints)}."
        )
    return [c for c in checkpoints if c.name in names]


def _content_hash(
    settings: dict,
    heldout: dict[str, list[str]],
    premiums: dict[str, float],
    pair_sets: Sequence[PairSet],
) -> str:
    """What a checkpoint's results depend on besides its weights."""
    pairs = [dataclasses.asdict(p) for p in pair_sets]
    return _sha256([CACHE_VERSION, settings, heldout, premiums, pairs])


def _sha256(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode("utf-8")).hexdigest()


def _read_cache(path: Path, key: str) -> list[dict[str, Any]] | None:
    if not path.is_file():
        return None
    cached = json.loads(path.read_text(encoding="utf-8"))
    return cached["rows"] if cached.get("key") == key else None


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("windows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
