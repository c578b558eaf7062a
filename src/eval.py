"""Score every checkpoint of a run: ``python src/eval.py run_dir=runs/<run>``.

Several runs on one figure: ``python src/eval.py 'run_dirs=[runs/a,runs/b]' out_dir=runs/cmp``.
Minimal pairs: ``eval_data=babylm`` (Hub) and/or ``'++minimal_pairs.eng=[pairs.jsonl]'``.
"""

from omegaconf import DictConfig

from taam.cli import entry
from taam.schema import validate_eval_config


@entry("eval", validate_eval_config)
def main(cfg: DictConfig) -> None:
    from taam.evaluation import evaluate  # torch and transformers load once the config is good

    evaluate(cfg)


if __name__ == "__main__":
    main()
