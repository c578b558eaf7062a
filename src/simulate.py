"""Run mixers on simulated learning curves (no model, no data), e.g.

python src/simulate.py method=pstar reward=cross_lingual_deficit simulation=asymmetric seeds=10
python src/simulate.py compare=true seeds=10        # every method × preset vs the oracles
"""

import hydra
from omegaconf import DictConfig

from taam.simulation.compare import compare
from taam.simulation.run import simulate


@hydra.main(config_path="../configs", config_name="simulate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    if cfg.compare:
        compare(cfg)
    else:
        simulate(cfg)


if __name__ == "__main__":
    main()
