"""Train one TAAM run: ``python src/train.py method=pstar seed=1337``.

A sweep: ``python src/train.py -m method=uniform,exp3,pstar seed=1,2,3`` (see ``taam.run.sweep``).
A resume: ``python src/train.py run_dir=runs/<name> resume=true`` continues from the run's own
config. The command line and the config are checked before torch, Lightning or transformers
load, so a typo is reported in about a second.
"""

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from taam.cli import entry
from taam.run.launch import start


@entry("train")
def main(cfg: DictConfig) -> None:
    start(cfg, HydraConfig.get().overrides.task)


if __name__ == "__main__":
    main()
