"""Hydra multirun sweeps: one run directory per job, all inside one sweep folder.

    python src/train.py -m method=uniform,exp3,pstar reward=normalized_excess_loss,cross_lingual_deficit seed=1,2,3

writes into ``hydra.sweep.dir`` (default ``runs/sweeps/<date>_<time>/``)::

    sweep.json       the sweep's overrides, and each swept key with its values
    <run name>/      a run directory per job, named as a single run would be, plus
                     ``_<key>-<value>`` for each other swept key (e.g. ``_train.lr-0.001``)
    failures.jsonl   one line per failed job: job number, overrides, run directory, error
    failures/        the same, one ``<num>.json`` per failed job (each job writes its own file)

A method that learns from no reward runs once per seed, with the sweep's first reward; its jobs
for the other rewards are skipped with a log line. A failed job is logged, recorded in
``failures/<num>.json`` and its ``summary.json`` says ``failed``; the other jobs go on, and at
the end the sweep merges the per-job files into ``failures.jsonl`` (so do ``read_failures`` and
``summarize.py``) and exits with status 1 if any job failed (0 otherwise). Jobs may run one
after another (Hydra's basic launcher) or at once (``hydra/launcher=local`` or ``slurm``, see
``taam.run.launcher``): no two jobs write the same file.
"""

from __future__ import annotations

import json
import logging
import math
import re
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from taam.errors import TaamError
from taam.io import atomic_write_text, write_json
from taam.logging.console import setup_logging
from taam.run.identity import RunIdentity
from taam.run.launcher import (
    Requeue,
    pin_run_dir,
    requeued_run_dir,
    submitit_job_id,
    submitit_rank,
)
from taam.run.rundir import LAST_CKPT
from taam.run.status import outcome

log = logging.getLogger(__name__)

SWEEP_FILE = "sweep.json"
FAILURES_FILE = "failures.jsonl"
FAILURES_DIR = "failures"
NAMED_KEYS = ("method", "reward", "seed")  # the run name says these already


def is_multirun() -> bool:
    """Whether this process runs a job of ``python src/train.py -m ...``."""
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def swept_keys(overrides: Sequence[str], config_loader: Any = None) -> dict[str, list[str]]:
    """The keys that ``overrides`` sweep (``a,b``, ``range(...)``, ``glob(...)``) and their values.

    A later override of a key replaces an earlier one, as in Hydra's basic sweeper; ``glob``
    needs Hydra's config loader to list a group's options.
    """
    parser = OverridesParser.create(config_loader=config_loader)
    last = {o.get_key_element(): o for o in parser.parse_overrides(list(overrides))}
    return {
        key: list(o.sweep_string_iterator()) for key, o in last.items() if o.is_sweep_override()
    }


@dataclass(frozen=True)
class SweepJob:
    """One job of a sweep: its number, the sweep folder, its overrides and its reward choice."""

    num: int
    sweep_dir: Path
    overrides: tuple[str, ...]
    reward: str | None

    @classmethod
    def current(cls) -> SweepJob:
        """The job Hydra is running now."""
        hydra = HydraConfig.get()
        return cls(
            num=int(hydra.job.num),
            sweep_dir=Path(hydra.sweep.dir),
            overrides=tuple(hydra.overrides.task),
            reward=hydra.runtime.choices.get("reward"),
        )

    def swept(self, axes: dict[str, list[str]], skip: Sequence[str] = ()) -> list[str]:
        """This job's ``key=value`` overrides of the swept keys (except ``skip``), in order."""
        keys = set(axes) - set(skip)
        return [o for o in self.overrides if o.split("=", 1)[0] in keys]


def read_axes(sweep_dir: Path) -> dict[str, list[str]]:
    """The swept keys of ``sweep.json``; none for a job list without one (the benchmark's)."""
    path = sweep_dir / SWEEP_FILE
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["axes"]


def skip_reason(cfg: DictConfig, job: SweepJob, axes: dict[str, list[str]]) -> str | None:
    """Why the job would repeat an earlier one (a method without reward, under the sweep's
    second or later reward), or None when it runs."""
    rewards = axes.get("reward")
    if RunIdentity.of(cfg).reward or not rewards or job.reward == rewards[0]:
        return None
    return (
        f"method {cfg.method.name} learns from no reward, so it runs once per seed "
        f"(with reward={rewards[0]})"
    )


def job_run_dir(cfg: DictConfig, job: SweepJob, axes: dict[str, list[str]]) -> Path:
    """``<sweep>/<run name>``, with ``_<key>-<value>`` for swept keys the name does not show.

    Characters that a Hydra override cannot hold unquoted (``=``, ``,``, ``/``, brackets...)
    become ``-``, so that ``run_dir=<this path>`` works on the command line.
    """
    name = RunIdentity.of(cfg).name()
    for override in job.swept(axes, skip=NAMED_KEYS):
        name += "_" + re.sub(r"[^\w.+-]", "-", override)
    return job.sweep_dir / name


def checked_train(cfg: DictConfig) -> Path:
    """Validate ``cfg`` (schema, then devices), then train it (as ``src/train.py`` does)."""
    from taam.run.training import train  # lazily, as in src/train.py
    from taam.schema import check_devices, validate_train_config

    validate_train_config(cfg)
    check_devices(cfg.trainer)
    return train(cfg)


def run_job(
    cfg: DictConfig, job: SweepJob, train_fn: Callable[[DictConfig], Path] | None = None
) -> str:
    """Run one job; return its status: completed, stopped, interrupted, failed or skipped.

    A failure is logged and recorded, not raised, so that the launcher goes on with the other
    jobs. Under submitit, a pre-empted job is requeued and resumes its run directory.
    """
    setup_logging()  # console only: no earlier job's train.log gets this job's lines
    axes = read_axes(job.sweep_dir)
    label = " ".join(job.swept(axes)) or "no swept keys"
    reason = skip_reason(cfg, job, axes)
    if reason:
        log.info("job #%d (%s) skipped: %s", job.num, label, reason)
        return "skipped"
    job_id = submitit_job_id()
    if job_id is not None:
        resume_requeued(cfg, job, job_id)
    if not cfg.run_dir:
        cfg.run_dir = str(job_run_dir(cfg, job, axes))
    if job_id is not None and submitit_rank() == 0:
        pin_run_dir(job.sweep_dir, job.num, job_id, str(cfg.run_dir))
    log.info("job #%d (%s) → %s%s", job.num, label, cfg.run_dir, " (resumed)" if cfg.resume else "")
    train_fn = train_fn or checked_train
    try:
        with Requeue() as requeue:
            try:
                run_dir = train_fn(cfg)
            except SystemExit as stop:  # Interrupted: last.ckpt written, status interrupted
                if job_id is None:
                    raise  # one process runs the sweep: the signal stops it all, as before
                why = requeue.now() if requeue.pending else f"stopped with status {stop.code}"
                raise JobInterrupted(f"not requeued: {why}") from None
    except Exception as err:
        if job_id is None or submitit_rank() == 0:
            write_failure(job, cfg.run_dir, err)
        log.error(
            "job #%d (%s) failed: %s: %s; recorded in %s, the sweep goes on",
            job.num,
            label,
            type(err).__name__,
            err,
            job.sweep_dir / FAILURES_DIR,
            exc_info=not isinstance(err, TaamError),  # a bug gets its traceback
        )
        return "interrupted" if isinstance(err, JobInterrupted) else "failed"
    finally:
        setup_logging()  # detach this job's train.log
    return outcome(run_dir)


class JobInterrupted(TaamError):
    """A launcher's job stopped on a signal (last.ckpt saved) and was not requeued."""


def resume_requeued(cfg: DictConfig, job: SweepJob, job_id: str) -> None:
    """A requeued submitit job (the same job id) goes on in the run directory it had, resuming
    it if it was interrupted with a ``last.ckpt``."""
    run_dir = requeued_run_dir(job.sweep_dir, job.num, job_id)
    if run_dir is None:
        return
    cfg.run_dir = str(run_dir)
    if (run_dir / LAST_CKPT).is_file() and outcome(run_dir) in ("incomplete", "interrupted"):
        cfg.resume = True


def write_failure(job: SweepJob, run_dir: str, err: Exception) -> None:
    """``failures/<num>.json``: one file per failed job, so that jobs running at once never
    write the same file (merged into ``failures.jsonl`` by :func:`merge_failures`)."""
    entry = {
        "job": job.num,
        "overrides": list(job.overrides),
        "run_dir": run_dir,
        "error": f"{type(err).__name__}: {err}",
        "traceback": "".join(traceback.format_exception(err)),
    }
    write_json(job.sweep_dir / FAILURES_DIR / f"{job.num}.json", entry)


def read_failures(sweep_dir: Path) -> list[dict]:
    """Every failed job of the sweep, in job order: the per-job files, and the lines of an
    older ``failures.jsonl`` for jobs that have none."""
    entries: dict[int, dict] = {}
    path = sweep_dir / FAILURES_FILE
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line:
                entry = json.loads(line)
                entries[int(entry["job"])] = entry
    for file in (sweep_dir / FAILURES_DIR).glob("*.json"):
        entry = json.loads(file.read_text(encoding="utf-8"))
        entries[int(entry["job"])] = entry
    return [entries[num] for num in sorted(entries)]


def merge_failures(sweep_dir: Path) -> list[dict]:
    """Write ``failures.jsonl`` (one line per failed job, in job order) from the per-job files;
    return the failures. Nothing is written when no job failed."""
    failures = read_failures(sweep_dir)
    if failures:
        lines = "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in failures)
        atomic_write_text(sweep_dir / FAILURES_FILE, lines)
    return failures


class SweepCallback(Callback):
    """Hydra callback (``hydra.callbacks`` in train.yaml): sweep.json first, the verdict last."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        params = config.hydra.sweeper.get("params") or {}
        overrides = [f"{k}={v}" for k, v in params.items()] + list(config.hydra.overrides.task)
        axes = swept_keys(overrides, GlobalHydra.instance().config_loader())
        write_json(sweep_dir / SWEEP_FILE, {"overrides": overrides, "axes": axes})
        setup_logging()
        logging.getLogger("hydra").setLevel(logging.WARNING)  # each job logs its own line
        jobs = math.prod(len(values) for values in axes.values())
        log.info("sweep of %d jobs into %s", jobs, sweep_dir)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        failures = merge_failures(sweep_dir)
        if failures:
            log.error(
                "sweep %s: %d job(s) failed (see %s)",
                sweep_dir,
                len(failures),
                sweep_dir / FAILURES_FILE,
            )
            # SystemExit, not an exception: Hydra turns a callback's exceptions into warnings.
            raise SystemExit(1)
        log.info(
            "sweep finished: %s; compare its runs with `python src/summarize.py sweep_dir=%s`",
            sweep_dir,
            sweep_dir,
        )
