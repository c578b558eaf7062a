"""The run directory: where it is, its creation or resumption, and the run's logging.

A new run gets a fresh directory (never an existing, non-empty one); a resumed run must have
``last.ckpt`` and the languages, data and method it was started with.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from rich.logging import RichHandler

from taam.errors import RunDirError
from taam.identity import RunIdentity
from taam.io import atomic_write_text

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


def setup_logging(run_dir: Path | None = None, level: int = logging.INFO) -> None:
    """Rich console logging, plus ``train.log`` in the run directory.

    Library chatter (Lightning's tips and device banners, per-file save progress bars) is
    turned down so that the run's own lines and the step progress bar stay readable.
    """
    import transformers  # lazily: entry scripts check their config before the heavy imports

    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    warnings.filterwarnings("ignore", message=r".*pkg_resources is deprecated.*")
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_taam", False):
            root.removeHandler(handler)
    console = RichHandler(show_path=False, rich_tracebacks=False, markup=False)
    console._taam = True
    root.addHandler(console)
    if run_dir is not None:
        file = logging.FileHandler(run_dir / "train.log", encoding="utf-8")
        file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        file._taam = True
        root.addHandler(file)
