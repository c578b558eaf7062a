"""From a composed config to a run: what ``python src/train.py`` does with its config.

A resume continues from the run's own ``config.yaml`` (the command line may change only where
it logs, saves and runs); every config is validated against the schema and the devices are
checked before anything heavy is imported or anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from taam.run.rundir import resume_config
from taam.run.sweep import SweepJob, is_multirun, run_job
from taam.schema import check_devices, validate_train_config


def start(cfg: DictConfig, overrides: Sequence[str] = ()) -> Path | None:
    """One run, or one job of a sweep (whose failure is recorded and does not stop the sweep)."""
    if is_multirun():
        run_job(cfg, SweepJob.current(), train_fn=checked_train)
        return None
    return checked_train(resume_config(cfg, overrides) if cfg.resume else cfg)


def checked_train(cfg: DictConfig) -> Path:
    """Validate ``cfg`` (schema, then devices), then train it."""
    validate_train_config(cfg)
    check_devices(cfg.trainer)
    from taam.run.training import train  # torch, Lightning and transformers load only now

    return train(cfg)
