"""Weights & Biases for a run (``logger=wandb``): metrics, mixer updates, tables, π chart, card.

The W&B run is named after the run directory, grouped by method (with its reward tag, so that
a group holds the seeds of one configuration), tagged with method, reward and seed, and
configured with the resolved Hydra config. Every mixer update, the module logs the window's
per-language loss, BPB, π, exposures and epochs with the mixer's record (raw and rescaled
reward, smoothed loss, at-floor flag); at the end this logger adds the budget ledger and the
prior as tables, mixer.csv as a table, the π-over-exposures chart, the summary and the model
card (``final/README.md``).

Without an API key (``WANDB_API_KEY`` unset) the run is kept offline under
``<run_dir>/wandb/offline-run-*`` and uploaded later with ``wandb sync``. Each run finishes its
W&B run, so a multirun gives one W&B run per job.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import wandb
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from taam.io import read_csv_rows
from taam.run.identity import RunIdentity

log = logging.getLogger(__name__)

MODES = ("auto", "online", "offline", "disabled")


def wandb_mode(setting: str) -> str:
    """``auto``: the ``WANDB_MODE`` environment variable if set, else online only with an API key."""
    if setting not in MODES:
        raise ValueError(f"logger.wandb.mode must be one of {', '.join(MODES)}, got '{setting}'")
    if setting != "auto":
        return setting
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    return "online" if os.environ.get("WANDB_API_KEY") else "offline"


def run_tags(run: RunIdentity) -> tuple[str, list[str]]:
    """The W&B group (the run name's method part) and tags (method, reward, signal, seed)."""
    tags = [run.method, run.reward, run.signal, f"seed{run.seed}"]
    return run.label, [tag for tag in tags if tag]


class WandbRunLogger(WandbLogger):
    """Lightning's W&B logger plus what a TAAM run adds (see the module docstring)."""

    @classmethod
    def for_run(cls, cfg: DictConfig, run_dir: Path, identity: RunIdentity) -> WandbRunLogger:
        settings = cfg.logger.wandb
        mode = wandb_mode(settings.mode)
        group, tags = run_tags(identity)
        if mode == "offline":
            log.info(
                "W&B offline (no WANDB_API_KEY, or WANDB_MODE=offline): upload the run later "
                "with `wandb sync %s/wandb/offline-run-*`",
                run_dir,
            )
        return cls(
            name=run_dir.name,
            save_dir=str(run_dir),
            project=settings.project,
            entity=settings.entity,
            group=group,
            tags=tags,
            job_type="train",
            mode=mode,
            config=OmegaConf.to_container(cfg, resolve=True),
            # Hard links or copies, not symlinks: the card stays in the W&B folder if the run moves.
            settings=wandb.Settings(symlink=False),
        )

    @rank_zero_only
    def log_run(self, run_dir: Path, status: str) -> None:
        """Tables, the π chart, the summary and the model card of the finished run; then finish."""
        run = self.experiment
        summary = _read_json(run_dir / "summary.json") or {}
        step = int(summary.get("step", 0))
        media = {**ledger_tables(run_dir / "ledger.json"), **prior_tables(run_dir / "prior.json")}
        media |= mixer_media(run_dir / "mixer.csv", summary.get("floor"))
        if media:
            self.log_metrics(media, step=step)
        run.summary.update({k: v for k, v in summary.items() if k not in ("run_dir", "languages")})
        card = run_dir / "final" / "README.md"
        if card.exists():
            run.save(str(card), base_path=str(run_dir), policy="now")
        offline = run.settings.mode == "offline"
        sync_dir = run.settings.sync_dir
        run.finish(exit_code=1 if status == "failed" else 0)
        if offline:
            log.info(
                "W&B run kept offline in %s: upload it with `wandb sync %s`", sync_dir, sync_dir
            )


def ledger_tables(path: Path) -> dict[str, wandb.Table]:
    """``ledger``: one row per language and a ``total`` row, every column of ledger.json."""
    ledger = _read_json(path)
    if ledger is None:
        return {}
    rows = {**ledger["languages"], "total": ledger["totals"]}
    columns = list(dict.fromkeys(k for row in rows.values() for k in row))
    data = [[lang, *(row.get(c) for c in columns)] for lang, row in rows.items()]
    return {"ledger": wandb.Table(columns=["language", *columns], data=data)}


def prior_tables(path: Path) -> dict[str, wandb.Table]:
    """``prior``: s_i and P⁰ per language; ``prior_distance``: the URIEL distance matrix."""
    prior = _read_json(path)
    if prior is None:
        return {}
    languages = prior["languages"]
    return {
        "prior": wandb.Table(
            columns=["language", "uriel_code", "s", "P0"],
            data=[
                [lang, code, prior["s"][lang], prior["P0"][lang]]
                for lang, code in zip(languages, prior["uriel_codes"], strict=True)
            ],
        ),
        "prior_distance": wandb.Table(
            columns=["language", *languages],
            data=[[lang, *row] for lang, row in zip(languages, prior["distance"], strict=True)],
        ),
    }


def mixer_media(path: Path, floor: float | None) -> dict[str, Any]:
    """``mixer``: mixer.csv as a table; ``pi_over_exposures``: π per language (and the floor)."""
    if not path.exists():
        return {}
    rows = read_csv_rows(path)
    if not rows:
        return {}
    languages = [c.removeprefix("pi_") for c in rows[0] if c.startswith("pi_")]
    ys = [[row[f"pi_{lang}"] for row in rows] for lang in languages]
    keys = [f"π {lang}" for lang in languages]
    if floor is not None:
        ys.append([floor] * len(rows))
        keys.append("floor γ/K")
    chart = wandb.plot.line_series(
        xs=[row["exposures_tokens"] for row in rows],
        ys=ys,
        keys=keys,
        title="π over token exposures",
        xname="token exposures",
    )
    table = wandb.Table(columns=list(rows[0]), data=[list(row.values()) for row in rows])
    return {"mixer": table, "pi_over_exposures": chart}


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
