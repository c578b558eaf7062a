"""The run directory: where it is, its creation or resumption.

A new run gets a fresh directory (never an existing, non-empty one); a resumed run must have
``last.ckpt`` and the languages, data and method it was started with.
"""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from taam.errors import RunDirError
from taam.io import atomic_write_text
from taam.run.identity import RunIdentity

LAST_CKPT = "last.ckpt"
RUN_DIR_ENV = "TAAM_RUN_DIR"  # rank 0's run directory, inherited by the DDP ranks it launches


def global_rank() -> int:
    """This process's rank as the launcher (Lightning, torchrun, SLURM) tells it."""
    for var in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        if var in os.environ:
            return int(os.environ[var])
    return 0


def resolve_run_dir(cfg: DictConfig, rank: int = 0) -> Path:
    """``run_dir`` if given, else ``<runs_dir>/<run name>`` (rank 0's choice on other ranks)."""
    if cfg.run_dir:
        return Path(cfg.run_dir)
    if rank > 0 and RUN_DIR_ENV in os.environ:
        return Path(os.environ[RUN_DIR_ENV])
    return Path(cfg.paths.runs_dir) / RunIdentity.of(cfg).name()


def check_resume(run_dir: Path, cfg: DictConfig, data_key: str) -> None:
    """A resumed run must keep its languages, data and tokenizer (data key), method, and the
    reward where the method learns from one."""
    saved = OmegaConf.load(run_dir / "config.yaml")
    saved_key = OmegaConf.load(run_dir / "ledger.json").get("data_key")
    problems = []
    if list(saved.data.languages) != list(cfg.data.languages):
        problems.append(f"languages {list(saved.data.languages)} → {list(cfg.data.languages)}")
    if saved_key != data_key:
        problems.append(f"data/tokenizer {saved_key} → {data_key}")
    if saved.method.name != cfg.method.name:
        problems.append(f"method {saved.method.name} → {cfg.method.name}")
    elif RunIdentity.of(cfg).reward and saved.reward.name != cfg.reward.name:
        problems.append(f"reward {saved.reward.name} → {cfg.reward.name}")
    if problems:
        raise RunDirError(
            f"cannot resume {run_dir}: the config changed ({'; '.join(problems)}). Resume with the "
            f"run's own settings (see {run_dir / 'config.yaml'}) or start a new run."
        )


def write_config(run_dir: Path, cfg: DictConfig) -> None:
    """``config.yaml``: the resolved config, with the run directory the run really used."""
    resolved = OmegaConf.to_container(cfg, resolve=True)
    resolved["run_dir"] = str(run_dir)
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(resolved))
