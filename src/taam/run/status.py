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
    """One process's attempt at a run: opened before anything is written, closed once."""

    def __init__(self, run_dir: Path, cfg: DictConfig) -> None:
        self.run_dir = run_dir
        self.cfg = cfg
        self.resume = bool(cfg.resume)
        self.previous = read_summary(run_dir)
        self.started_at = _now()

    def close(self, error: BaseException | None = None) -> dict[str, Any]:
        """Record how the attempt ended (``error`` None: as ``summary.json`` now says)."""
        current = read_summary(self.run_dir)
        if error is None:
            record = current
        elif self.resume and self.previous.get("status"):
            record = self.previous  # a refused or failed resume changes no outcome
        else:
            failed = {"status": "failed", "error": f"{type(error).__name__}: {error}"}
            record = self.identity() | current | failed
        entry = {
            "started_at": self.started_at,
            "ended_at": _now(),
            "resume": self.resume,
            "status": "failed" if error is not None else current.get("status"),
            "step": current.get("step") if error is None else None,
        }
        if error is not None:
            entry["error"] = f"{type(error).__name__}: {error}"
        elif current.get("error"):
            entry["note"] = current["error"]
        summary = {**record, "attempts": [*self.previous.get("attempts", []), entry]}
        write_json(self.run_dir / SUMMARY, summary)
        return summary

    def identity(self) -> dict[str, Any]:
        """What a run that failed before its first summary is: method, reward, seed, languages."""
        cfg = self.cfg
        return {
            **RunIdentity.of(cfg).record(),
            "languages": list(cfg.data.languages),
            "run_dir": str(self.run_dir),
        }
