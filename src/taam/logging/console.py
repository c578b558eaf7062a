"""The console every entry point shows: rich log lines, plus the run's ``train.log``."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from rich.logging import RichHandler


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
