"""``metrics.csv`` in the run directory: a Lightning logger that survives resumes.

Lightning's own CSVLogger deletes an existing metrics file; this one keeps the rows up
to the resumed step. New rows are appended; the file is rewritten atomically when the
columns change (a new metric appears) or when a resume drops rows past its checkpoint.
"""

from __future__ import annotations

import csv
from pathlib import Path

from lightning.pytorch.loggers.logger import Logger, rank_zero_experiment
from lightning.pytorch.utilities import rank_zero_only

from taam.io import write_csv


class RunCSVLogger(Logger):
    def __init__(self, path: str | Path, resume_step: int | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.rows: list[dict] = []
        self.columns: list[str] = []
        self.flushed = 0  # rows already in the file under the current columns
        if resume_step is not None and self.path.exists():
            with self.path.open(newline="") as f:
                self.rows = [r for r in csv.DictReader(f) if int(float(r["step"])) <= resume_step]

    @property
    def name(self) -> str:
        return "csv"

    @property
    def version(self) -> str:
        return "0"

    @property
    @rank_zero_experiment
    def experiment(self) -> RunCSVLogger:
        return self

    @rank_zero_only
    def log_hyperparams(self, params, *args, **kwargs) -> None:
        """The resolved config is written as config.yaml by the run; nothing to add here."""

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.rows.append({"step": step, **{k: float(v) for k, v in metrics.items()}})

    @rank_zero_only
    def save(self) -> None:
        if self.flushed == len(self.rows):
            return
        columns = ["step", *sorted({k for row in self.rows for k in row} - {"step"})]
        if columns != self.columns or self.flushed == 0:
            write_csv(self.path, self.rows, columns)
            self.columns = columns
        else:
            with self.path.open("a", newline="", encoding="utf-8") as f:
                csv.DictWriter(f, fieldnames=columns).writerows(self.rows[self.flushed :])
        self.flushed = len(self.rows)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        self.save()
