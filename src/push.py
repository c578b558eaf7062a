"""Upload a run to the Hugging Face Hub: ``final/`` as main, one branch per milestone.

python src/push.py run_dir=runs/<name> repo_id=user/name --dry-run
"""

import sys

from omegaconf import DictConfig

from taam.cli import entry
from taam.schema import validate_push_config


@entry("push", validate_push_config)
def push_run(cfg: DictConfig) -> None:
    from taam.publish.hub import (
        check_repo_id,
        console_logging,
        hub_api,
        plan_push,
        print_plan,
        push,
    )

    console_logging()
    repo_id = check_repo_id(cfg.repo_id)
    plan = plan_push(cfg.run_dir, repo_id)
    print_plan(plan, repo_id, dry_run=bool(cfg.dry_run))
    if not cfg.dry_run:
        api = hub_api()
        push(plan, repo_id, api, bool(cfg.private), int(cfg.retries), float(cfg.retry_delay_s))


def main() -> None:
    # `--dry-run` reads better on a command line; Hydra takes key=value.
    sys.argv = ["dry_run=true" if arg == "--dry-run" else arg for arg in sys.argv]
    push_run()


if __name__ == "__main__":
    main()
