"""The LightningModule: the model's step, per-language window statistics, mixer updates.

The batch arrives from :class:`taam.data.datamodule.TaamDataModule`, which draws it from the
mixer's π right before the step. Every ``update_interval`` steps the window's per-language
sums are reduced over ranks and logged. With ``signal=train`` they go to the mixer, which sets
π for the next window; with ``signal=dev`` the fixed dev set is scored every ``dev.every``
steps instead (each rank a slice, the sums all-reduced, so every rank computes the same π) and
its losses go to the mixer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import lightning as L
import numpy as np
import torch
from transformers import PreTrainedModel

from taam.data.sampler import MixtureSampler
from taam.errors import NonFiniteLoss, TaamError
from taam.logging.progress import window_losses
from taam.mixer.base import Mixer, WindowStats
from taam.model.losses import compile_next_token_loss, next_token_loss, next_token_nll

STATS = ("nats", "bytes", "tokens", "sequences")


@dataclass
class DevSet:
    """The mixer's dev signal: this rank's slice of the fixed dev sequences, scored every
    ``every`` steps in batches of ``batch_size`` (forward only, eval mode). Sums are kept per
    dev document, so the mixer can tell how far the choice of documents may move a loss."""

    tokens: torch.Tensor  # [N, T + 1]
    scored: torch.Tensor  # [N, T] bool: the targets that count (not padding)
    document: torch.Tensor  # [N]: the dev document of each row, numbered across languages
    document_language: np.ndarray  # [D]: every document's language (the whole set, not a slice)
    every: int
    batch_size: int

    def __post_init__(self) -> None:
        if self.every < 1 or self.batch_size < 1:
            raise ValueError(
                f"need dev every ≥ 1 and batch_size ≥ 1, got {self.every}, {self.batch_size}"
            )

    def slice(self, rank: int, world_size: int) -> DevSet:
        """Rows rank, rank + W, ...: every row scored by exactly one rank."""
        rows = slice(rank, None, world_size)
        return DevSet(
            self.tokens[rows],
            self.scored[rows],
            self.document[rows],
            self.document_language,
            self.every,
            self.batch_size,
        )


@dataclass(frozen=True)
class OptimConfig:
    """AdamW: peak learning rate, decoupled weight decay (matrices only), (β₁, β₂)."""

    lr: float = 1e-3
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)

    def __post_init__(self) -> None:
        if not self.lr > 0 or self.weight_decay < 0 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(
                f"need lr > 0, weight_decay ≥ 0 and 0 ≤ β < 1; got lr={self.lr}, "
                f"weight_decay={self.weight_decay}, betas={self.betas} (see train.*)"
            )


@dataclass(frozen=True)
class ScheduleConfig:
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``min_lr_ratio`` of the peak."""

    warmup_steps: int = 100
    max_steps: int = 1000
    min_lr_ratio: float = 0.1

    def __post_init__(self) -> None:
        if self.warmup_steps < 0 or self.max_steps < 1 or not 0 <= self.min_lr_ratio <= 1:
            raise ValueError(
                f"need warmup_steps ≥ 0, max_steps ≥ 1 and 0 ≤ min_lr_ratio ≤ 1; got "
                f"{self.warmup_steps}, {self.max_steps}, {self.min_lr_ratio} (see train.*)"
            )

    def factor(self, step: int) -> float:
        """(t + 1)/W for t < W, else r + (1 − r)·½(1 + cos(π·min(1, (t − W)/(T − W))))."""
        warmup, floor = self.warmup_steps, self.min_lr_ratio
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, self.max_steps - warmup))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


class TaamModule(L.LightningModule):
    def __init__(
        self,
        model: PreTrainedModel,
        mixer: Mixer,
        byte_lengths: np.ndarray,
        update_interval: int,
        optim: OptimConfig = OptimConfig(),
        schedule: ScheduleConfig = ScheduleConfig(),
        compile_model: bool = False,
        on_update: Callable[[int, WindowStats, dict], None] | None = None,
        dev: DevSet | None = None,
    ) -> None:
        super().__init__()
        # Plain dicts in last.ckpt, which Lightning reloads with torch.load(weights_only=True).
        self.save_hyperparameters(
            {
                "optim": asdict(optim),
                "schedule": asdict(schedule),
                "update_interval": update_interval,
                "compile_model": compile_model,
            },
            ignore=["model", "mixer", "byte_lengths", "on_update", "dev"],
        )
        self.model = model
        # Decoder, head and loss compiled as one graph; the model itself stays plain HF.
        self.next_token_loss = compile_next_token_loss() if compile_model else next_token_loss
        self.mixer = mixer
        self.update_interval = update_interval
        self.optim, self.schedule = optim, schedule
        self.on_update = on_update  # called with (step, stats, record) after each window
        self.window_losses: dict[str, float] = {}  # the last closed window's, for the console
        self.pi_history: list[tuple[int, list[float]]] = []  # this rank's π after each update
        # UTF-8 bytes of each token id: Σ over a sequence's targets = the bytes it decodes to.
        self.byte_lengths = torch.as_tensor(byte_lengths, dtype=torch.float32)
        # Per-language sums over the current window, kept on the device (no host sync per step).
        # Plain tensors, not buffers: DDP broadcasts buffers from rank 0 before every forward
        # pass, which would overwrite each rank's own sums before they are all-reduced.
        self.window = torch.zeros(mixer.k, len(STATS), dtype=torch.float64)
        # signal=dev: the dev set, the training draws (n_i, E[n_i]) since its last evaluation,
        # and the cost of scoring it (evaluations, seconds), all checkpointed.
        self.dev = dev
        self.draws_since_dev = np.zeros((mixer.k, 2))
        self.dev_cost = {"evaluations": 0, "seconds": 0.0}

    @property
    def sampler(self) -> MixtureSampler:
        """The data module's sampler: the step it drew last and the exact exposures so far."""
        return self.trainer.datamodule.sampler

    def on_fit_start(self) -> None:
        self.byte_lengths = self.byte_lengths.to(self.device)
        self.window = self.window.to(self.device)  # after a resume it holds the restored sums
        if self.dev is not None:
            self.dev = self.dev.slice(self.trainer.global_rank, self.trainer.world_size)

    # -- the step ---------------------------------------------------------------------
    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.step_loss(batch)
        # Close the window here, not in on_train_batch_end: Lightning runs callbacks (and so
        # last.ckpt) before the module's batch-end hook, and a checkpoint must hold the
        # mixer state after this step's update for a resume to continue exactly.
        if self.sampler.step % self.update_interval == 0:
            self.close_window()
        return loss

    def step_loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean next-token NLL of the batch (:mod:`taam.model.losses`); per-language sums to the window."""
        loss, nll = self.next_token_loss(self.model, batch["tokens"])
        self._accumulate(batch["language"], nll, batch["tokens"][:, 1:])
        return loss

    def _accumulate(self, language: torch.Tensor, nll: torch.Tensor, targets: torch.Tensor) -> None:
        self.window.index_add_(0, language, self.per_sequence(nll, targets))

    def per_sequence(
        self, nll: torch.Tensor, targets: torch.Tensor, scored: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``[B, 4]``: each sequence's Σ NLL, Σ bytes of its targets, its targets, 1 (only the
        ``scored`` targets, where given; ``nll`` is already 0 elsewhere)."""
        nbytes = self.byte_lengths[targets]
        if scored is None:
            counted = torch.full_like(nll[:, 0], targets.shape[1], dtype=torch.float64)
        else:
            nbytes, counted = nbytes * scored, scored.sum(1, dtype=torch.float64)
        return torch.stack(
            [
                nll.sum(1, dtype=torch.float64),
                nbytes.sum(1, dtype=torch.float64),
                counted,
                torch.ones_like(nll[:, 0], dtype=torch.float64),
            ],
            dim=1,
        )

    def close_window(self) -> None:
        """Reduce the window over ranks, log it, update the mixer, and start a new window.

        signal=train: the mixer learns from this window. signal=dev: the dev set is scored at
        the windows that end on a multiple of ``dev.every`` and an adaptive mixer learns from it
        (its other windows only log); a static mixer's rows follow the windows.
        """
        step = self.sampler.step
        window = self.trainer.strategy.reduce(self.window.clone(), reduce_op="sum")
        window = window.cpu().numpy()  # the window's one host sync
        self.check_finite(window)
        stats = WindowStats.from_matrix(window, self.sampler.close_window())
        self.window.zero_()
        self.window_losses = window_losses(stats, self.mixer.languages)  # for the console
        signal, dev = stats, None
        if self.dev is not None:
            self.draws_since_dev += np.stack([stats.sequences, stats.expected_draws], axis=1)
            dev = self.dev_stats() if step % self.dev.every == 0 else None
            if self.mixer.adaptive:  # a static π learns nothing: its rows follow the windows
                signal = dev
        record = self.mixer.update(step, signal) if signal is not None else None
        self.pi_history.append((step, self.mixer.probs().tolist()))
        if self.trainer.is_global_zero:  # straight to the loggers, keyed by the sampler's step
            # the mixer's record (rewards raw and rescaled, smoothed loss, at-floor) with the
            # window's metrics (π after the update) and, at a dev evaluation, the dev losses
            metrics = {**(record or {}), **self.window_metrics(stats)}
            if dev is not None:
                metrics |= dev_metrics(dev, self.mixer.languages)
            for logger in self.trainer.loggers:
                logger.log_metrics(metrics, step=step)
                logger.save()
        if self.on_update is not None and record is not None:
            self.on_update(step, signal, record)

    @torch.no_grad()
    def dev_stats(self) -> WindowStats:
        """Score the dev set (eval mode, the training precision), reduce the per-document sums
        over ranks; the training draws since the last evaluation go with it (a per-sequence
        reward needs them)."""
        started = time.perf_counter()
        sums = self.window.new_zeros(len(self.dev.document_language), self.window.shape[1])
        self.model.eval()
        try:
            with self.trainer.precision_plugin.forward_context():
                for start in range(0, len(self.dev.tokens), self.dev.batch_size):
                    rows = slice(start, start + self.dev.batch_size)
                    tokens = self.dev.tokens[rows].to(self.device)
                    scored = self.dev.scored[rows].to(self.device)
                    nll = next_token_nll(self.model, tokens).double() * scored
                    sums.index_add_(
                        0,
                        self.dev.document[rows].to(self.device),
                        self.per_sequence(nll, tokens[:, 1:], scored),
                    )
        finally:
            self.model.train()
        sums = self.trainer.strategy.reduce(sums, reduce_op="sum").cpu().numpy()
        self.dev_cost["evaluations"] += 1
        self.dev_cost["seconds"] += time.perf_counter() - started
        draws, self.draws_since_dev = self.draws_since_dev, np.zeros_like(self.draws_since_dev)
        self.check_finite(sums)
        return WindowStats.from_documents(sums, self.dev.document_language, draws)

    def check_finite(self, window: np.ndarray | None = None) -> None:
        """Stop before a non-finite loss reaches the mixer or a checkpoint."""
        window = self.window.cpu().numpy() if window is None else window
        if not np.isfinite(window).all():
            raise NonFiniteLoss(
                f"the loss became non-finite before step {self.sampler.step}; training stopped and "
                f"the last good checkpoint was kept. Lower train.lr or check the data, then resume."
            )

    def window_metrics(self, stats: WindowStats) -> dict[str, float]:
        """loss_nats_per_token_<lang>, bpb_<lang> (bits/byte), pi_<lang>, exposures."""
        metrics: dict[str, float] = {}
        pi = self.mixer.probs()
        exposures, epochs = self.sampler.exposures_tokens(), self.sampler.epochs()
        for i, lang in enumerate(self.mixer.languages):
            if stats.tokens[i] > 0:
                metrics[f"loss_nats_per_token_{lang}"] = stats.nats[i] / stats.tokens[i]
                metrics[f"bpb_{lang}"] = stats.nats[i] / stats.bytes[i] / math.log(2)
            metrics[f"pi_{lang}"] = float(pi[i])
            metrics[f"exposures_tokens_{lang}"] = float(exposures[i])
            metrics[f"epochs_{lang}"] = float(epochs[i])
        metrics["exposures_tokens"] = float(exposures.sum())
        metrics["lr"] = self.trainer.optimizers[0].param_groups[0]["lr"]
        return metrics

    # -- optimisation -----------------------------------------------------------------
    def configure_optimizers(self):
        decay = [p for p in self.model.parameters() if p.dim() >= 2]
        no_decay = [p for p in self.model.parameters() if p.dim() < 2]
        groups = [
            {"params": decay, "weight_decay": self.optim.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        # Fused on every device: the unfused CPU path reads each step counter (.item()).
        optimizer = torch.optim.AdamW(
            groups, lr=self.optim.lr, betas=tuple(self.optim.betas), fused=True
        )
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, self.schedule.factor)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def configure_gradient_clipping(
        self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None
    ) -> None:
        """Clip the global gradient norm to the trainer's ``gradient_clip_val``.

        Lightning's own clipping refuses a fused optimiser under mixed precision, because with
        fp16 the gradients would still be scaled. bf16 uses no loss scaling, so clipping here
        is exact.
        """
        if not gradient_clip_val:
            return
        if self.trainer.precision == "16-mixed" or gradient_clip_algorithm == "value":
            raise TaamError(
                "TAAM clips the gradient norm under 32-true or bf16-mixed precision; set "
                "trainer.precision to one of them and leave trainer.gradient_clip_algorithm unset."
            )
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), gradient_clip_val)

    # -- resumable state --------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["taam"] = {
            "mixer": self.mixer.state_dict(),
            "window": self.window.cpu(),
            "torch_rng": torch.get_rng_state(),
            "languages": list(self.mixer.languages),
            "draws_since_dev": self.draws_since_dev.tolist(),
            "dev_cost": dict(self.dev_cost),
        }

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        state = checkpoint["taam"]
        self.mixer.load_state_dict(state["mixer"])
        self.window.copy_(state["window"])
        torch.set_rng_state(state["torch_rng"])
        self.draws_since_dev = np.array(state["draws_since_dev"], dtype=np.float64)
        self.dev_cost = dict(state["dev_cost"])


def dev_metrics(stats: WindowStats, languages: tuple[str, ...]) -> dict[str, float]:
    """dev_bpb_<lang>: the dev set's bits per byte (raw; × BP_i is the mixer's adjusted loss);
    dev_se_<lang>: its relative standard error over the dev documents."""
    bpb = stats.nats_per_byte() / math.log(2)
    row = {f"dev_bpb_{lang}": float(bpb[i]) for i, lang in enumerate(languages)}
    if stats.relative_se is not None:
        row |= {f"dev_se_{lang}": float(stats.relative_se[i]) for i, lang in enumerate(languages)}
    return row
