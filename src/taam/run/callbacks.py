"""Lightning callbacks that write a run's durable artefacts.

* :class:`ResumeCheckpoint`: ``last.ckpt`` (model, optimiser, scheduler, mixer, sampler
  cursors, RNG) every N steps and at the end, written atomically.
* :class:`MilestoneExporter`: a Hugging Face export at each BabyLM milestone of total
  exposures (``checkpoints/chck_<N>M``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import lightning as L
import numpy as np
from transformers import PreTrainedModel

from taam.data.datamodule import TaamDataModule
from taam.publish.export import babylm_milestones, export_hf, milestone_name
from taam.run.checkpoint_io import check_finite_weights

log = logging.getLogger(__name__)


class ResumeCheckpoint(L.Callback):
    def __init__(self, path: str | Path, every_n_steps: int, on_save: Callable[[], None]) -> None:
        self.path = Path(path)
        self.every_n_steps = every_n_steps
        self.on_save = on_save  # writes the logs that belong to this checkpoint
        self.saved_step = -1

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if module.sampler.step % self.every_n_steps == 0:
            self.save(trainer, module)

    def on_train_end(self, trainer, module) -> None:
        if module.sampler.step != self.saved_step:
            self.save(trainer, module)

    def save(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        module.check_finite()
        check_finite_weights(module.parameters(), f"{self.path.name} at step {module.sampler.step}")
        if trainer.is_global_zero:
            # The logs first: a last.ckpt never exists without mixer.csv up to its step (a
            # resume keeps the rows up to the checkpoint's step, so extra rows are harmless).
            self.on_save()
        # A collective: rank 0 writes, staged next to the file (StagedCheckpointIO).
        trainer.save_checkpoint(self.path, weights_only=False)
        self.saved_step = module.sampler.step
        if trainer.is_global_zero:
            log.info("checkpoint: %s at step %d", self.path.name, module.sampler.step)


class MilestoneExporter(L.Callback):
    """Export at each BabyLM milestone that the run's total exposures cross."""

    def __init__(
        self,
        out_dir: str | Path,
        tokenizer_dir: str | Path,
        planned_exposures: float,
        units_per_token: np.ndarray,
        state: Callable[[], dict],
        card: Callable[[PreTrainedModel], str],
    ) -> None:
        self.out_dir = Path(out_dir)
        self.tokenizer_dir = Path(tokenizer_dir)
        self.milestones = babylm_milestones(planned_exposures / 1e6)
        self.units_per_token = units_per_token  # 1 for tokens; words per token for words
        self.state = state
        self.card = card

    @classmethod
    def for_data(
        cls,
        out_dir: str | Path,
        data: TaamDataModule,
        unit: str,
        state: Callable[[], dict],
        card: Callable[[PreTrainedModel], str],
    ) -> MilestoneExporter:
        """Milestones in ``unit`` (tokens or words) up to the data module's planned exposures."""
        units = data.units_per_token(unit)
        planned = data.planned_exposures() * float(units.max())
        return cls(out_dir, data.tokenizer_dir, planned, units, state, card)

    def exposures(self, module: L.LightningModule) -> float:
        return float(module.sampler.exposures_tokens() @ self.units_per_token)

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        done = self.exposures(module) / 1e6
        while self.milestones and self.milestones[0] <= done:
            millions = self.milestones.pop(0)
            module.check_finite()
            if trainer.is_global_zero:
                path = export_hf(
                    module.model,
                    self.tokenizer_dir,
                    self.out_dir / milestone_name(millions),
                    self.state(),
                    self.card(module.model),
                )
                log.info("milestone: %s at step %d", path.name, module.sampler.step)

    def state_dict(self) -> dict:
        return {"milestones": list(self.milestones)}

    def load_state_dict(self, state_dict: dict) -> None:
        self.milestones = list(state_dict["milestones"])
