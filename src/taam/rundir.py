"""The run directory: its name, its creation, and the console/file logging of a run."""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from pathlib import Path

from rich.logging import RichHandler

from taam.errors import TaamError

LAST_CKPT = "last.ckpt"


class RunDirError(TaamError, RuntimeError):
    """The run directory cannot be used as asked; the message says what to do."""


def run_name(
    method: str, seed: int, reward_tag: str | None = None, date: dt.date | None = None
) -> str:
    """``<date>_<Method>_seed<seed>``, with ``-<reward tag>`` after the method where one applies."""
    date = date or dt.date.today()
    method_part = f"{method}-{reward_tag}" if reward_tag else method
    return f"{date.isoformat()}_{method_part}_seed{seed}"


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
