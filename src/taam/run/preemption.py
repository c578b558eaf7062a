"""SIGTERM and SIGINT as pre-emption: finish the step, write ``last.ckpt``, exit 128 + signal.

SLURM and Kubernetes send SIGTERM before they stop a job. Lightning's handler (registered at
fit start) only sets a flag, and its loop raises ``SIGTERMException`` once the current
optimiser step is complete (on every rank under DDP). :class:`Preemption` routes SIGINT
(Ctrl-C) to the same handler, and on that exception writes ``last.ckpt`` at the step reached;
the run is recorded as ``interrupted`` and :class:`Interrupted` ends the process with
status 143 (SIGTERM) or 130 (SIGINT).
"""

from __future__ import annotations

import shlex
import signal
from pathlib import Path
from types import FrameType

import lightning as L
from lightning.pytorch.utilities.exceptions import SIGTERMException

from taam.run.callbacks import ResumeCheckpoint


class Interrupted(SystemExit):
    """The run stopped on a signal and was saved; the exit status is 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


def resume_command(run_dir: Path) -> str:
    """The command that continues ``run_dir``: a resume reads the run's own config.yaml."""
    return shlex.join(["python", "src/train.py", f"run_dir={run_dir}", "resume=true"])


class Preemption(L.Callback):
    """On SIGTERM or SIGINT: stop after the current step and save ``last.ckpt`` there."""

    def __init__(self, checkpoint: ResumeCheckpoint) -> None:
        self.checkpoint = checkpoint
        self.signum: int | None = None
        self._lightning_handler = None
        self._sigint_before = None

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._lightning_handler = signal.getsignal(signal.SIGTERM)
        if not callable(self._lightning_handler):  # not the main thread: Lightning set none
            return
        self._sigint_before = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signum = self.signum or signum
        self._lightning_handler(signal.SIGTERM, frame)  # sets trainer.received_sigterm

    def on_exception(
        self, trainer: L.Trainer, module: L.LightningModule, exception: BaseException
    ) -> None:
        if isinstance(exception, SIGTERMException):
            self.signum = self.signum or signal.SIGTERM  # another rank's SIGTERM, broadcast
            if self.checkpoint.saved_step != module.sampler.step:
                self.checkpoint.save(trainer, module)

    def teardown(self, trainer: L.Trainer, module: L.LightningModule, stage: str) -> None:
        if self._sigint_before is not None:
            signal.signal(signal.SIGINT, self._sigint_before)
            self._sigint_before = None


def preempted_signal(trainer: L.Trainer) -> int:
    """The signal that stopped ``trainer`` (SIGTERM unless Preemption saw another)."""
    found = [cb.signum for cb in trainer.callbacks if isinstance(cb, Preemption) and cb.signum]
    return found[0] if found else signal.SIGTERM


def interrupted_note(trainer: L.Trainer, step: int, run_dir: Path) -> str:
    """What summary.json and the console say about an interrupted run: where, and how to go on."""
    name = signal.Signals(preempted_signal(trainer)).name
    return f"interrupted by {name} at step {step}; resume with: {resume_command(run_dir)}"
