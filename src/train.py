"""Train one TAAM run: ``python src/train.py method=pstar seed=1337``.

A sweep: ``python src/train.py -m method=uniform,exp3,pstar seed=1,2,3`` (see ``taam.run.sweep``).
The config is checked against the schema before torch, Lightning or transformers load, so a
typo is reported in about a second.
"""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from taam.errors import exit_on_user_error
from taam.run.sweep import SweepJob, is_multirun, run_job
from taam.schema import check_devices, validate_train_config


def checked_train(cfg: DictConfig) -> Path:
    """Validate ``cfg`` (schema, then devices), then run it."""
    validate_train_config(cfg)
    check_devices(cfg.trainer)
    from taam.run.training import train

    return train(cfg)


@hydra.main(config_path="../configs", config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> None:
    if is_multirun():  # a failed job is recorded and the sweep goes on; its exit status says so
        run_job(cfg, SweepJob.current(), train_fn=checked_train)
        return
    with exit_on_user_error():
        checked_train(cfg)


if __name__ == "__main__":
    main()
