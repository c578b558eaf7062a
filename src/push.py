"""Upload a run to the Hugging Face Hub: ``final/`` as main, one branch per milestone.

python src/push.py run_dir=runs/<name> repo_id=user/name --dry-run
"""

import logging
import sys

import hydra
from omegaconf import DictConfig

from taam.errors import exit_on_user_error
from taam.hub import hub_api, plan_push, print_plan, push

# `--dry-run` reads better on a command line; Hydra takes key=value.
sys.argv = ["dry_run=true" if arg == "--dry-run" else arg for arg in sys.argv]


@hydra.main(config_path="../configs", config_name="push", version_base="1.3")
def main(cfg: DictConfig) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with exit_on_user_error():
        plan = plan_push(cfg.run_dir, cfg.repo_id)
        print_plan(plan, cfg.repo_id)
        if not cfg.dry_run:
            push(plan, cfg.repo_id, hub_api(), private=bool(cfg.private))


if __name__ == "__main__":
    main()
