"""Score every checkpoint of a run: ``python src/eval.py run_dir=runs/<run>``.

Several runs on one figure: ``python src/eval.py 'run_dirs=[runs/a,runs/b]' out_dir=runs/cmp``.
Minimal pairs: ``eval_data=babylm`` (Hub) and/or ``'++minimal_pairs.eng=[pairs.jsonl]'``.
"""

import hydra
from omegaconf import DictConfig

from taam.errors import exit_on_user_error
from taam.evaluation import evaluate


@hydra.main(config_path="../configs", config_name="eval", version_base="1.3")
def main(cfg: DictConfig) -> None:
    with exit_on_user_error():
        evaluate(cfg)


if __name__ == "__main__":
    main()
