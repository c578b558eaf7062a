"""Run mixers on simulated learning curves (no model, no data), e.g.

python src/simulate.py method=pstar reward=cross_lingual_deficit simulation=asymmetric seeds=10
python src/simulate.py compare=true seeds=10        # every method × preset vs the oracles
"""

from omegaconf import DictConfig

from taam.cli import entry
from taam.schema import validate_simulate_config


@entry("simulate", validate_simulate_config)
def main(cfg: DictConfig) -> None:
    from taam.simulation.compare import compare
    from taam.simulation.run import simulate

    if cfg.compare:
        compare(cfg)
    else:
        simulate(cfg)


if __name__ == "__main__":
    main()
