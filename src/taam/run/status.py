"""A run's recorded outcome (``summary.json``) and the attempts that led to it.

``status`` is the run's outcome: ``completed``, ``stopped`` (every language at its epoch
cap), ``interrupted`` (SIGTERM/SIGINT, resumable) or ``failed``. Every process that works
on the run appends one entry to ``attempts`` (start, end, resume or not, its status, the
step reached, its error). A refused or failed resume only adds its entry: the outcome and
the rest of the summary stay what the last real attempt recorded.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from taam.io import write_json
from taam.run.identity import RunIdentity

SUMMARY = "summary.json"
FINISHED = ("completed", "stopped")  # trained to its end, or every language reached its cap


def outcome(run_dir: Path) -> str:
    """How a run stands, from its summary.json: completed / stopped / interrupted / failed;
    ``new`` where the directory does not exist, ``incomplete`` where no outcome is recorded
    yet (a run still training, or killed before it wrote one). The one place that decides."""
    if not run_dir.exists():
        return "new"
    return read_summary(run_dir).get("status", "incomplete")


def read_summary(run_dir: Path) -> dict[str, Any]:
    path = run_dir / SUMMARY
    try:
        return json.loads(path.read_text()) if path.exists() else {}
    except json.JSONDecodeError:  # a summary torn by a crash of an older version
        return {}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Attempt:
    """One process's attempt at a run: opened before anything is written, closed once. It is
    the one writer of ``summary.json``: the run's outcome (:meth:`record`, from the reporter)
    and the attempts list, this attempt's entry after the earlier ones."""

    def __init__(self, run_dir: Path, cfg: DictConfig, identity: RunIdentity) -> None:
        self.run_dir = run_dir
        self.cfg = cfg
        self.run = identity
        self.resume = bool(cfg.resume)
        self.previous = read_summary(run_dir)
        self.started_at = _now()
        self.outcome: dict[str, Any] | None = None  # what record() wrote, if anything

    def record(self, outcome: dict[str, Any]) -> dict[str, Any]:
        """Write the run's outcome (status, π, counts…) as this attempt's result."""
        self.outcome = outcome
        return self._write(outcome, self._entry(outcome.get("status"), outcome))

    def close(self, error: BaseException | None = None) -> dict[str, Any]:
        """Record how the attempt ended (``error`` None: as :meth:`record` or summary.json has it)."""
        current = self.outcome if self.outcome is not None else read_summary(self.run_dir)
        if error is None:
            return self._write(current, self._entry(current.get("status"), current))
        if self.resume and self.previous.get("status"):
            record = self.previous  # a refused or failed resume changes no outcome
        else:
            failed = {"status": "failed", "error": f"{type(error).__name__}: {error}"}
            record = self.identity() | current | failed
        entry = self._entry("failed", {}) | {"error": f"{type(error).__name__}: {error}"}
        return self._write(record, entry)

    def _entry(self, status: str | None, outcome: dict[str, Any]) -> dict[str, Any]:
        entry = {
            "started_at": self.started_at,
            "ended_at": _now(),
            "resume": self.resume,
            "status": status,
            "step": outcome.get("step"),
        }
        if outcome.get("error"):
            entry["note"] = outcome["error"]
        return entry

    def _write(self, record: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        summary = {**record, "attempts": [*self.previous.get("attempts", []), entry]}
        write_json(self.run_dir / SUMMARY, summary)
        return summary

    def identity(self) -> dict[str, Any]:
        """What a run that failed before its first summary is: method, reward, seed, languages."""
        cfg = self.cfg
        return {
            **self.run.record(),
            "languages": list(cfg.data.languages),
            "run_dir": str(self.run_dir),
        }
