"""Train one TAAM run: ``python src/train.py method=pstar seed=1337``.

A sweep: ``python src/train.py -m method=uniform,exp3,pstar seed=1,2,3`` (see ``taam.sweep``).
"""

import hydra
from omegaconf import DictConfig

from taam.errors import exit_on_user_error
from taam.sweep import SweepJob, is_multirun, run_job
from taam.training import train


@hydra.main(config_path="../configs", config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> None:
    if is_multirun():  # a failed job is recorded and the sweep goes on; its exit status says so
        run_job(cfg, SweepJob.current())
        return
    with exit_on_user_error():
        train(cfg)


if __name__ == "__main__":
    main()
