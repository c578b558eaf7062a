"""A job under one of Hydra's launcher plugins, and its requeue after pre-emption.

``hydra/launcher=local`` (joblib: jobs in parallel on this machine) and ``hydra/launcher=slurm``
(submitit: each job an sbatch array task) run the same task function as the basic launcher;
this module holds what differs when submitit runs the job.

Pre-emption under submitit (``slurm``, or ``submitit_local`` standing in for it): SLURM sends
the timeout signal (USR2, ``--signal=USR2@<signal_delay_s>``) before the time limit.
Submitit's own handler would checkpoint and requeue at once, inside whatever step is running;
:class:`Requeue` takes the signal instead and turns it into a SIGTERM to this process, so that
TAAM's usual path runs (finish the step, write ``last.ckpt``, record ``interrupted``). Then it
calls submitit's handler, which resubmits the same job (up to ``max_num_timeout`` times for
timeouts) and requeues it. The requeued job finds its run directory in ``<sweep>/.jobs/<num>.json``
(written under the same submitit job id) and resumes it with ``resume=true``: exactly, as any
resume. Lightning's own SLURM auto-requeue (which would save an ``hpc_ckpt`` mid-step and call
``scontrol requeue`` a second time) stays off: it installs its handler only where none is set,
and :class:`Requeue` sets one on SIGUSR1 too.
"""

from __future__ import annotations

import json
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from taam.io import write_json

log = logging.getLogger(__name__)

JOBS_DIR = ".jobs"  # <sweep>/.jobs/<num>.json: the run directory a submitit job claimed


def _submitit() -> ModuleType | None:
    """submitit when it runs this process (``python -m submitit.core._submit``), else None.
    It comes with the ``cluster`` extra, and only the launchers need it: TAAM imports it here,
    lazily, and never outside a submitit job."""
    if not os.environ.get("SUBMITIT_EXECUTOR"):
        return None
    import submitit

    return submitit


def submitit_job_id() -> str | None:
    """The submitit job id (``<array>_<task>`` under SLURM) when submitit runs this process."""
    submitit = _submitit()
    return None if submitit is None else str(submitit.JobEnvironment().job_id)


def submitit_rank() -> int:
    submitit = _submitit()
    return 0 if submitit is None else int(submitit.JobEnvironment().global_rank)


def pin_path(sweep_dir: Path, num: int) -> Path:
    return sweep_dir / JOBS_DIR / f"{num}.json"


def requeued_run_dir(sweep_dir: Path, num: int, job_id: str) -> Path | None:
    """The run directory this job worked in before it was requeued (same job id), else None."""
    path = pin_path(sweep_dir, num)
    if not path.exists():
        return None
    pin = json.loads(path.read_text(encoding="utf-8"))
    return Path(pin["run_dir"]) if pin.get("job_id") == job_id else None


def pin_run_dir(sweep_dir: Path, num: int, job_id: str, run_dir: str) -> None:
    write_json(pin_path(sweep_dir, num), {"job": num, "job_id": job_id, "run_dir": run_dir})


class Requeue:
    """While a submitit job trains: the timeout signal becomes a SIGTERM (TAAM saves
    ``last.ckpt`` and stops); :meth:`now` then hands over to submitit, which requeues the job.
    Outside submitit it does nothing."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._submitit_handler: Callable[..., Any] | None = None
        self._before: dict[int, Any] = {}

    def __enter__(self) -> Requeue:
        submitit = _submitit()
        if submitit is None:
            return self
        usr = submitit.JobEnvironment._usr_sig()
        self._submitit_handler = signal.getsignal(usr)  # SignalHandler.checkpoint_and_try_requeue
        for signum in {usr, signal.SIGUSR1}:  # SIGUSR1: Lightning's auto-requeue stays off
            self._before[signum] = signal.getsignal(signum)
            signal.signal(signum, self._on_signal)
        return self

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            log.warning("%s: saving last.ckpt, then requeueing", signal.Signals(signum).name)
        self.signum = signum
        os.kill(os.getpid(), signal.SIGTERM)  # the run's pre-emption path: step, last.ckpt, stop

    @property
    def pending(self) -> bool:
        return self.signum is not None and callable(self._submitit_handler)

    def now(self) -> str:
        """Requeue through submitit (it exits the process); return why not if it does not."""
        submitit = _submitit()
        assert submitit is not None and self._submitit_handler is not None
        assert self.signum is not None
        try:
            self._submitit_handler(self.signum, None)
        except submitit.core.utils.UncompletedJobError as err:
            return str(err)
        return "this task is not rank 0"  # submitit requeues from rank 0 only

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._before.items():
            signal.signal(signum, handler)
        self._before = {}
