"""Upload a run to the Hugging Face Hub: ``final/`` as main, one branch per milestone.

python src/push.py run_dir=runs/<name> repo_id=user/name --dry-run
"""

import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from taam.errors import TaamError, exit_on_user_error
from taam.publish.hub import check_repo_id, console_logging, hub_api, plan_push, print_plan, push

# `--dry-run` reads better on a command line; Hydra takes key=value.
sys.argv = ["dry_run=true" if arg == "--dry-run" else arg for arg in sys.argv]


def required(cfg: DictConfig, key: str, example: str) -> str:
    if OmegaConf.is_missing(cfg, key) or not cfg[key]:
        raise TaamError(f"{key} is missing; pass {key}={example}.")
    return str(cfg[key])


@hydra.main(config_path="../configs", config_name="push", version_base="1.3")
def main(cfg: DictConfig) -> None:
    console_logging()
    with exit_on_user_error():
        run_dir = required(cfg, "run_dir", "runs/<name>")
        repo_id = check_repo_id(required(cfg, "repo_id", "<user or org>/<name>"))
        plan = plan_push(run_dir, repo_id)
        print_plan(plan, repo_id, dry_run=bool(cfg.dry_run))
        if not cfg.dry_run:
            api = hub_api()
            push(plan, repo_id, api, bool(cfg.private), int(cfg.retries), float(cfg.retry_delay_s))


if __name__ == "__main__":
    main()
