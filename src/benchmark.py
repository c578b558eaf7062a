"""The mixing benchmark in one command: ``python src/benchmark.py [data=...] [seeds=3] [steps=...]``.

Trains every method entry × seed (through the Hydra launcher given, e.g.
``hydra/launcher=local`` or ``hydra/launcher=slurm``), scores held-out BPB at every checkpoint and
writes the paired comparison against the baseline into ``out_dir`` (see
``taam.report.benchmark``). Re-running it skips finished jobs and scored checkpoints.
"""

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from taam.cli import CONFIG_DIR, entry

LAUNCHER = ("hydra/launcher=", "hydra.launcher.", "+hydra.launcher.", "++hydra.launcher.")
DATA = ("data.", "+data.", "++data.")


@entry("benchmark")
def main(cfg: DictConfig) -> None:
    from taam.logging.console import setup_logging
    from taam.report.benchmark import run_benchmark  # torch loads once the command line is good

    setup_logging()
    hydra_cfg = HydraConfig.get()
    launcher = [o for o in hydra_cfg.overrides.hydra if o.startswith(LAUNCHER)]
    data = [f"data={hydra_cfg.runtime.choices['data']}"]
    data += [o for o in hydra_cfg.overrides.task if o.startswith(DATA)]
    run_benchmark(cfg, CONFIG_DIR, launcher, data)


if __name__ == "__main__":
    main()
