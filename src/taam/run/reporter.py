"""What a run leaves for people and tools: mixer.csv, metrics.csv, summary.json, plots,
the export state file and the model card, and what it hands to loggers such as W&B."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import lightning as L
from omegaconf import DictConfig
from transformers import PreTrainedModel

from taam.data.datamodule import TaamDataModule
from taam.data.sampler import MixtureSampler
from taam.logging.csv_logger import RunCSVLogger
from taam.mixer.base import Mixer, WindowStats
from taam.mixer.log import MixerLog
from taam.model.build import count_parameters
from taam.publish.export import milestone_dirs
from taam.publish.model_card import RunFacts, model_card
from taam.report.plots import plot_metrics, plot_pi
from taam.run.identity import RunIdentity
from taam.run.status import Attempt

log = logging.getLogger(__name__)


@runtime_checkable
class RunContentsLogger(Protocol):
    """A logger that also keeps the finished run's files (the W&B logger)."""

    def log_run(self, run_dir: Path, status: str) -> None:
        """Tables, files and summary of the finished run directory; the logger closes after it."""


class RunReporter(L.Callback):
    """Collects mixer updates and metrics during a run and writes the run's outputs (rank 0)."""

    def __init__(
        self,
        run_dir: Path,
        cfg: DictConfig,
        identity: RunIdentity,
        mixer: Mixer,
        data: TaamDataModule,
        resume_step: int | None = None,
        loggers: Sequence[object] = (),
        attempt: Attempt | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.attempt = attempt  # rank 0's: it writes summary.json
        self.cfg = cfg
        self.identity = identity
        self.mixer = mixer
        self.data = data
        self.csv_logger = RunCSVLogger(run_dir / "metrics.csv", resume_step=resume_step)
        self.contents_loggers = [lg for lg in loggers if isinstance(lg, RunContentsLogger)]
        mixer_csv = run_dir / "mixer.csv"
        if resume_step is not None and mixer_csv.exists():
            self.mixer_log = MixerLog.read(mixer_csv, mixer.languages, up_to_step=resume_step)
        else:
            self.mixer_log = MixerLog(mixer.languages)
        self.wall_clock = 0.0  # seconds trained before this process (a resumed run adds on)
        self.started: float | None = None

    @property
    def sampler(self) -> MixtureSampler:
        return self.data.sampler

    def on_update(self, step: int, stats: WindowStats, record: dict[str, float]) -> None:
        """One window closed: a row of mixer.csv (π after the update)."""
        exposures = int(self.sampler.exposures_tokens().sum())
        signal = stats.signal if self.mixer.adaptive else ""  # a static π learns from nothing
        self.mixer_log.append(step, exposures, record, pi=self.mixer.probs(), signal=signal)

    def flush(self) -> None:
        """Write mixer.csv as it stands (called with every last.ckpt; its header alone before
        the first update, so every run has one)."""
        self.mixer_log.write(self.run_dir / "mixer.csv")

    def state(self) -> dict:
        """π and exact counts per language now: ``taam_state.json`` of every export."""
        return {
            "step": self.sampler.step,
            **self.identity.record(),
            "languages": list(self.mixer.languages),
            "budget_words_m": float(self.cfg.data.budget.total_words_m),
            "pi": dict(zip(self.mixer.languages, self.mixer.probs().tolist(), strict=True)),
            "exposures_tokens": int(self.sampler.exposures_tokens().sum()),
            "per_language": self.sampler.counts(),
            "wall_clock_s": self.elapsed(),
            "run_dir": str(self.run_dir),
        }

    # -- Lightning hooks: the clock runs while training, and travels in last.ckpt --------
    def on_train_start(self, trainer, module) -> None:
        self.started = time.time()

    def elapsed(self) -> float:
        return self.wall_clock + (time.time() - self.started if self.started else 0.0)

    def state_dict(self) -> dict:
        return {"wall_clock_s": self.elapsed()}

    def load_state_dict(self, state_dict: dict) -> None:
        self.wall_clock = float(state_dict["wall_clock_s"])

    def finish(self, status: str, error: str | None = None, dev_cost: dict | None = None) -> None:
        """mixer.csv, metrics.csv, the outcome (summary.json, through the attempt), plots;
        status is completed / stopped / interrupted / failed (rank 0). ``dev_cost``: the dev
        evaluations and their seconds (signal=dev), recorded with their share of training time."""
        self.flush()
        self.csv_logger.save()
        floor = self.mixer.floor
        summary = {
            "status": status,
            **self.state(),
            "floor": floor,
            "time_at_floor": self.mixer_log.time_at_floor() if floor is not None else None,
            "reward_snr": self.mixer_log.reward_snr() if floor is not None else None,
            "epoch_cap_reached_at_step": dict(self.sampler.capped_at),
            "dev_signal": self.dev_signal(dev_cost),
        }
        if error:
            summary["error"] = error
        self.attempt.record(summary)
        if self.cfg.train.plots:
            self.plot(floor)

    def dev_signal(self, cost: dict | None) -> dict | None:
        """The dev set's size and cost: seconds scoring it over the seconds spent training."""
        if not cost:
            return None
        training = self.elapsed() - cost["seconds"]
        return {
            "every": int(self.cfg.signal.every),
            "sequences_per_language": int(self.cfg.signal.sequences),
            **cost,
            "cost_ratio": cost["seconds"] / training if training > 0 else None,
        }

    def publish(self, status: str) -> None:
        """Hand the finished run (after its exports) to the loggers that keep run contents."""
        for logger in self.contents_loggers:
            logger.log_run(self.run_dir, status)

    def plot(self, floor: float | None) -> None:
        plots = self.run_dir / "plots"
        try:
            if self.mixer_log.rows:
                plot_pi(self.run_dir / "mixer.csv", plots / "pi.png", floor, self.run_dir.name)
            if (self.run_dir / "metrics.csv").exists():
                plot_metrics(
                    self.run_dir / "metrics.csv", plots, self.mixer.languages, self.run_dir.name
                )
        except (ValueError, KeyError) as err:  # a run stopped before its first window has no curves
            log.warning("plots skipped: %s", err)

    def model_card(self, model: PreTrainedModel) -> str:
        """The card for an export of ``model`` made now (the repo id is filled in by push.py)."""
        facts = RunFacts.read(self.run_dir, model.config, count_parameters(model))
        branches = [p.name for p in milestone_dirs(self.run_dir)]
        return model_card(self.state(), branches, facts)
