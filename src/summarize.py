"""Compare the runs of a sweep: ``python src/summarize.py sweep_dir=runs/sweeps/<date_time>``.

Writes summary.md, summary.csv, summary_by_method.csv and plots/ (see ``taam.report.comparison``). Seeds
are averaged only within one configuration: runs that differ in more than their seed are
separate rows, labelled with the keys that differ.
"""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from taam.errors import exit_on_user_error
from taam.report.comparison import summarize
from taam.run.sweep import FAILURES_FILE, merge_failures


@hydra.main(config_path="../configs", config_name="summarize", version_base="1.3")
def main(cfg: DictConfig) -> None:
    failures = []
    if cfg.sweep_dir and Path(cfg.sweep_dir).is_dir():  # the jobs' own failure files, merged
        failures = merge_failures(Path(cfg.sweep_dir))
    with exit_on_user_error():
        runs, written = summarize(cfg.sweep_dir, list(cfg.run_dirs), cfg.out_dir)
    print(f"{len(runs)} runs compared; wrote:")
    for path in written:
        print(f"  {path}")
    if failures:
        print(f"{len(failures)} job(s) failed: {Path(cfg.sweep_dir) / FAILURES_FILE}")


if __name__ == "__main__":
    main()
