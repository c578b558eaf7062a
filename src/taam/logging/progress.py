"""What the console shows while a run trains.

* :class:`StepProgressBar`: steps out of ``train.max_steps`` (a resumed run continues its count),
  token exposures, and π and the loss per language of the last mixer window.
* :class:`ParameterSummary`: the model summary without Lightning's FLOPs count (which is 0
  here: it only counts a forward pass on ``example_input_array``, which TAAM has no use for).
* One ``resuming <run> from step N (exposures …)`` line when a run resumes.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import numpy as np
from lightning.pytorch.callbacks import RichModelSummary, RichProgressBar
from lightning.pytorch.utilities.model_summary import get_human_readable_count
from rich import get_console
from rich.progress import BarColumn
from rich.table import Table

from taam.mixer.base import WindowStats

log = logging.getLogger(__name__)


def si(value: float) -> str:
    """``1234567`` → ``1.23M``: three significant digits and an SI prefix (k, M, G, T)."""
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{prefix}"
    return f"{value:.3g}"


def window_losses(stats: WindowStats, languages: Sequence[str]) -> dict[str, float]:
    """The window's loss in nats/token, overall (``loss``) and per language (``loss_<lang>``),
    as Python floats: the progress bar shows them without a device sync per step."""
    losses = {"loss": float(stats.nats.sum() / stats.tokens.sum())}
    for i, lang in enumerate(languages):
        if stats.tokens[i] > 0:
            losses[f"loss_{lang}"] = float(stats.nats[i] / stats.tokens[i])
    return losses


def per_language(values: Sequence[float] | np.ndarray, languages: Sequence[str], fmt: str) -> str:
    return " ".join(f"{lang} {value:{fmt}}" for lang, value in zip(languages, values, strict=True))


class StepProgressBar(RichProgressBar):
    """``train 120/500 ━━━━ … exposures 492k · π eng 0.31 nld 0.33 zho 0.36 · loss eng 5.2 …``"""

    def __init__(self, run_name: str) -> None:
        # Logs and pipes get 160 columns: rich would assume 80 and wrap the metrics.
        super().__init__(console_kwargs=None if sys.stdout.isatty() else {"width": 160})
        self.run_name = run_name

    def configure_columns(self, trainer: L.Trainer) -> list:
        """Lightning's columns with a shorter bar, leaving the width to π and the losses."""
        columns = super().configure_columns(trainer)
        for column in columns:
            if isinstance(column, BarColumn):
                column.bar_width = 20
        return columns

    @property
    def total_train_batches(self) -> int:
        return int(self.trainer.max_steps)

    def _get_train_description(self, current_epoch: int) -> str:
        return "train"

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        super().on_train_start(trainer, module)
        if trainer.global_step > 0:
            log.info(resume_line(self.run_name, trainer.global_step, module))

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        # The optimiser step, not Lightning's batch index (which restarts at 0 on a resume).
        if not self.is_disabled and self.train_progress_bar_id is None:
            self._initialize_train_progress_bar_id()
        self._update(self.train_progress_bar_id, trainer.global_step)
        self._update_metrics(trainer, module)
        self.refresh()

    def get_metrics(self, trainer: L.Trainer, module: L.LightningModule) -> dict[str, str]:
        """Exposures, π and the last window's per-language loss; no ``v_num``.

        The losses are the Python floats the module keeps at each window close: a value
        logged with ``self.log(..., prog_bar=True)`` would stay a device tensor that Lightning
        reads back (``.item()``) at every later step, a host sync per step on a GPU.
        """
        languages = module.mixer.languages
        metrics = {
            "exposures": si(float(module.sampler.exposures_tokens().sum())),
            "π": per_language(module.mixer.probs(), languages, ".2f"),
        }
        shown = module.window_losses
        if all(f"loss_{lang}" in shown for lang in languages):
            losses = [shown[f"loss_{lang}"] for lang in languages]
            metrics["loss"] = per_language(losses, languages, ".2f")
        return metrics


def resume_line(run_name: str, step: int, module: L.LightningModule) -> str:
    """``resuming <run> from step N (exposures 1.23M: eng 410k nld 400k zho 420k)``."""
    exposures = module.sampler.exposures_tokens()
    per_lang = " ".join(
        f"{lang} {si(float(n))}" for lang, n in zip(module.mixer.languages, exposures, strict=True)
    )
    return (
        f"resuming {run_name} from step {step} (exposures {si(float(exposures.sum()))}: {per_lang})"
    )


class ParameterSummary(RichModelSummary):
    """Lightning's rich model summary, less the FLOPs column and total."""

    @staticmethod
    def summarize(
        summary_data: list[tuple[str, list[str]]],
        total_parameters: int,
        trainable_parameters: int,
        model_size: float,
        total_training_modes: dict[str, int],
        total_flops: int,
        **summarize_kwargs,
    ) -> None:
        columns = [(name, values) for name, values in summary_data if name != "FLOPs"]
        table = Table(header_style="bold magenta")
        for name, _ in columns:
            table.add_column(name, justify="right" if name == "Params" else "left")
        for row in zip(*(values for _, values in columns), strict=True):
            table.add_row(*row)
        console = get_console()
        console.print(table)
        frozen = total_parameters - trainable_parameters
        total, trainable, frozen = (
            get_human_readable_count(int(n)).strip()
            for n in (total_parameters, trainable_parameters, frozen)
        )
        console.print(
            f"parameters: {total} ({trainable} trainable, {frozen} frozen), {model_size:.2f} MB"
        )


def console_callbacks(run_dir: Path) -> list[L.Callback]:
    """The progress bar and model summary of a run's console."""
    return [StepProgressBar(run_dir.name), ParameterSummary()]
