"""Run one mixer on simulated learning curves (no model, no data), e.g.

python src/simulate.py method=pstar reward=cross_lingual_deficit simulation=asymmetric
"""

import hydra
from omegaconf import DictConfig

from taam.simulator import simulate


@hydra.main(config_path="../configs", config_name="simulate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    simulate(cfg)


if __name__ == "__main__":
    main()
