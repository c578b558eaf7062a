"""Compare the runs of a sweep: ``python src/summarize.py sweep_dir=runs/sweeps/<date_time>``.

Writes summary.md, summary.csv, summary_by_method.csv and plots/ (see
``taam.report.comparison``). Seeds are averaged only within one configuration: runs that differ
in more than their seed are separate rows, labelled with the keys that differ, unless those keys
are pooled (``'pool=[data.seed]'``: one row over data splits). A sweep's failed
jobs (one file each under ``failures/``) are merged into its ``failures.jsonl`` first.
"""

from pathlib import Path

from omegaconf import DictConfig

from taam.cli import entry
from taam.schema import validate_summarize_config


@entry("summarize", validate_summarize_config)
def main(cfg: DictConfig) -> None:
    from taam.report.comparison import comparability_warning, summarize
    from taam.run.sweep import FAILURES_FILE, merge_failures

    failures = []
    if cfg.sweep_dir and Path(cfg.sweep_dir).is_dir():  # the jobs' own failure files, merged
        failures = merge_failures(Path(cfg.sweep_dir))
    runs, written = summarize(cfg.sweep_dir, list(cfg.run_dirs), cfg.out_dir, list(cfg.pool))
    if warning := comparability_warning(runs, list(cfg.pool)):
        print(warning)
    print(f"{len(runs)} runs compared; wrote:")
    for path in written:
        print(f"  {path}")
    if failures:
        print(f"{len(failures)} job(s) failed: {Path(cfg.sweep_dir) / FAILURES_FILE}")


if __name__ == "__main__":
    main()
