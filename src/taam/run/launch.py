"""From a composed config to a run: what ``python src/train.py`` does with its config.

A resume continues from the run's own ``config.yaml`` (the command line may change only where
it logs, saves and runs); every config is validated against the schema and the devices are
checked before anything heavy is imported or anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from taam.run.rundir import resume_config
from taam.run.status import outcome, read_summary
from taam.run.sweep import SweepJob, is_multirun, run_job
from taam.schema import check_devices, validate_train_config

log = logging.getLogger(__name__)


def start(cfg: DictConfig, overrides: Sequence[str] = ()) -> Path | None:
    """One run, or one job of a sweep (whose failure is recorded and does not stop the sweep).
    Resuming a run that has completed does nothing and says so (a requeued job may do it)."""
    if is_multirun():
        run_job(cfg, SweepJob.current(), train_fn=checked_train)
        return None
    if not cfg.resume:
        return checked_train(cfg)
    cfg = resume_config(cfg, overrides)
    run_dir = Path(cfg.run_dir)
    if outcome(run_dir) == "completed":
        steps = read_summary(run_dir).get("step", cfg.train.max_steps)
        log.warning(
            "%s already completed (%s of %s steps); nothing to do: its exports, summary and logs "
            "are as they were. To train longer, start a new run.",
            run_dir,
            steps,
            cfg.train.max_steps,
        )
        return run_dir
    return checked_train(cfg)


def checked_train(cfg: DictConfig) -> Path:
    """Validate ``cfg`` (schema, then devices), then train it."""
    validate_train_config(cfg)
    check_devices(cfg.trainer)
    from taam.run.training import train  # torch, Lightning and transformers load only now

    return train(cfg)
