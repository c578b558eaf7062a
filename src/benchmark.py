"""The mixing benchmark in one command: ``python src/benchmark.py [data=...] [seeds=3] [steps=...]``.

Trains every method entry × seed, scores held-out BPB at every checkpoint and writes the paired
comparison against the baseline into ``out_dir`` (see ``taam.report.benchmark``). Re-running it skips
finished jobs and scored checkpoints.
"""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from taam.errors import exit_on_user_error
from taam.logging.console import setup_logging
from taam.report.benchmark import run_benchmark

TRAIN_SCRIPT = Path(__file__).with_name("train.py")


@hydra.main(config_path="../configs", config_name="benchmark", version_base="1.3")
def main(cfg: DictConfig) -> None:
    setup_logging()
    with exit_on_user_error():
        run_benchmark(cfg, TRAIN_SCRIPT)


if __name__ == "__main__":
    main()
