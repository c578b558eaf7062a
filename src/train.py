"""Train one TAAM run: ``python src/train.py method=pstar seed=1337``."""

import sys

import hydra
from omegaconf import DictConfig

from taam.errors import TaamError
from taam.training import train


@hydra.main(config_path="../configs", config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        train(cfg)
    except TaamError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
