"""Claiming a run directory: atomically, for one process at a time, never losing a run.

A new run creates its directory with ``mkdir`` (no ``exist_ok``): of two processes, one wins.
Every run then holds an exclusive ``flock`` on the directory itself while it works (released
by the kernel if the process dies; no lock file is left behind), so two resumes cannot
interleave. A TAAM run directory
that holds no training state (no ``last.ckpt``, export or milestone: its attempt failed or
was killed before training) may be claimed again by the same command. Temporaries a killed write left
are removed once the lock is held.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from taam.io import remove_stale_temporaries
from taam.run.checkpoint_io import checkpoint_step
from taam.run.identity import flat_config
from taam.run.rundir import LAST_CKPT, RESUME_MAY_CHANGE, RunDirError, saved_config
from taam.run.status import outcome


def holds_training_state(path: Path) -> bool:
    """Whether ``path`` has anything training produced: last.ckpt, final/ or a milestone."""
    milestones = path / "checkpoints"
    return (
        (path / LAST_CKPT).exists()
        or (path / "final").exists()
        or (milestones.is_dir() and any(milestones.iterdir()))
    )


@dataclass(frozen=True)
class Claim:
    """A run directory held by this process; ``new``: claimed for a new run, not a resume."""

    path: Path
    new: bool

    def discard(self) -> None:
        """Remove a new run's directory after a start that failed before training, so that
        nothing of it stays under runs/ (a directory with training state is never removed)."""
        if self.new and not holds_training_state(self.path):
            shutil.rmtree(self.path, ignore_errors=True)


@contextmanager
def claim_run_dir(path: str | Path, resume: bool, cfg: DictConfig | None = None) -> Iterator[Claim]:
    """Hold ``path`` for this process while the block runs (creating it for a new run).
    ``cfg``: the new run's config; a directory left by a killed start of another config is
    refused, not reused."""
    path = Path(path)
    if not resume:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:
            _check_reusable(path, cfg)
    elif not path.is_dir():
        raise RunDirError(f"cannot resume {path}: it does not exist; point run_dir at the run.")
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirError(
                f"run directory {path} is in use by another process; wait for it to end or "
                f"choose another run_dir."
            ) from None
        if resume:
            _check_resumable(path)
        elif holds_training_state(path):  # another process trained here before we locked
            _check_reusable(path, cfg)
        remove_stale_temporaries(path)
        yield Claim(path, new=not resume)
    finally:
        os.close(fd)


def _check_reusable(path: Path, cfg: DictConfig | None) -> None:
    """A new run may take an existing directory only if it is empty or a TAAM run that failed
    (or was killed) before training: ``train.log`` but no training state, not completed."""
    entries = list(path.iterdir())
    if not entries:
        return
    status = outcome(path)
    if holds_training_state(path):
        go_on = "" if status == "completed" else "Pass resume=true to continue it, or c"
        raise RunDirError(
            f"run directory {path} already holds a run (status: {status}); nothing "
            f"was overwritten. {go_on or 'C'}hoose another with run_dir=<path> (or another seed)."
        )
    if not (path / "train.log").exists() or status not in ("incomplete", "failed"):
        raise RunDirError(
            f"run directory {path} already exists and is not a TAAM run; nothing was "
            f"overwritten. Choose another with run_dir=<path>."
        )
    if cfg is not None and (path / "config.yaml").is_file():
        earlier = flat_config(saved_config(path), RESUME_MAY_CHANGE)
        if earlier != flat_config(cfg, RESUME_MAY_CHANGE):
            raise RunDirError(
                f"run directory {path} holds a start of another config that never trained; "
                f"nothing was overwritten. Remove it, or choose another with run_dir=<path>."
            )


def _check_resumable(path: Path) -> None:
    if (path / LAST_CKPT).exists():
        checkpoint_step(path / LAST_CKPT)  # a corrupt file is refused before anything changes
        return
    if not holds_training_state(path):
        raise RunDirError(
            f"cannot resume {path}: it has no {LAST_CKPT} because it never started training; "
            f"run the same command without resume=true to start it again."
        )
    raise RunDirError(
        f"cannot resume {path}: it has no {LAST_CKPT}. Start a new run without resume=true, "
        f"or point run_dir at the run to continue."
    )
