"""One training run, end to end: ``train(cfg)`` is what ``python src/train.py`` calls.

Read top to bottom it is the run: the run directory, the data module, the mixer, the
model module, callbacks and loggers, the Trainer, ``trainer.fit``, the exports.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig
from transformers import AutoTokenizer

from taam.data.datamodule import TaamDataModule
from taam.data.prepare import print_ledger
from taam.data.tokenizer import token_byte_lengths
from taam.errors import DataExhausted
from taam.io import write_csv, write_json
from taam.logging.console import setup_logging
from taam.logging.progress import console_callbacks
from taam.mixer.base import Mixer
from taam.mixer.factory import build_mixer
from taam.model.build import build_model, count_parameters
from taam.model.module import DevSet, OptimConfig, ScheduleConfig, TaamModule
from taam.publish.export import export_hf
from taam.run.callbacks import MilestoneExporter, ResumeCheckpoint
from taam.run.checkpoint_io import StagedCheckpointIO, checkpoint_step
from taam.run.claim import claim_run_dir
from taam.run.identity import RunIdentity
from taam.run.preemption import Interrupted, Preemption, interrupted_note, preempted_signal
from taam.run.reporter import RunReporter
from taam.run.rundir import (
    LAST_CKPT,
    RUN_DIR_ENV,
    check_resume,
    global_rank,
    resolve_run_dir,
    write_config,
)
from taam.run.status import Attempt

log = logging.getLogger(__name__)


def train(cfg: DictConfig, callbacks: Sequence[L.Callback] = ()) -> Path:
    """Run one training job; return its run directory (``callbacks`` join the Trainer's).

    Rank 0 claims the run directory. A new run whose start fails before training begins (data,
    model, trainer) leaves no directory behind; once training has begun, ``summary.json``
    records every attempt: a run that fails gets status ``failed`` with the error, and a
    refused or failed resume adds an attempt without changing the outcome already recorded.
    """
    rank = global_rank()
    identity = RunIdentity.of(cfg)  # computed once, passed on
    run_dir = resolve_run_dir(cfg, identity, rank)
    os.environ[RUN_DIR_ENV] = str(run_dir)
    try:
        if rank > 0:
            fit(cfg, run_dir, setup(cfg, run_dir, identity, callbacks, attempt=None))
            return run_dir
        with claim_run_dir(run_dir, bool(cfg.resume), cfg) as claim:
            setup_logging(run_dir)
            attempt = Attempt(run_dir, cfg, identity)
            try:
                parts = setup(cfg, run_dir, identity, callbacks, attempt)
            except BaseException as err:
                if claim.new:
                    setup_logging()  # let go of train.log before the directory goes
                    claim.discard()
                elif isinstance(err, Exception):
                    attempt.close(err)
                raise
            try:
                fit(cfg, run_dir, parts)
            except Exception as err:
                attempt.close(err)
                raise
            except Interrupted:
                attempt.close()
                raise
            attempt.close()
    finally:
        os.environ.pop(RUN_DIR_ENV, None)
    return run_dir


@dataclass
class RunParts:
    """What :func:`setup` builds for one run and :func:`fit` trains."""

    data: TaamDataModule
    module: TaamModule
    reporter: RunReporter
    trainer: L.Trainer


def setup(
    cfg: DictConfig,
    run_dir: Path,
    identity: RunIdentity,
    callbacks: Sequence[L.Callback],
    attempt: Attempt | None,
) -> RunParts:
    """Data, mixer, model and Trainer; the run's inputs recorded (rank 0, whose ``attempt``
    writes summary.json). Nothing trains yet."""
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    data = TaamDataModule.from_config(cfg)
    data.prepare_data()
    data.setup("fit")
    mixer = build_mixer(cfg.method, cfg.reward, data.mix_context())
    mixer.check_signal(str(cfg.signal.name))
    data.connect(mixer)
    log.info("%s", describe_mixer(cfg, mixer))
    if global_rank() == 0:
        record_inputs(cfg, run_dir, identity, data, mixer.prior_report)
    loggers = build_loggers(cfg, run_dir, identity)
    resumed_at = checkpoint_step(run_dir / LAST_CKPT) if cfg.resume else None
    reporter = RunReporter(run_dir, cfg, identity, mixer, data, resumed_at, loggers, attempt)
    module = build_module(cfg, data, mixer, reporter)
    checkpoint = ResumeCheckpoint(
        run_dir / LAST_CKPT, int(cfg.train.checkpoint_every_steps), reporter.flush
    )
    milestones = MilestoneExporter.for_data(
        run_dir / "checkpoints", data, cfg.train.milestone_unit, reporter.state, reporter.model_card
    )
    trainer: L.Trainer = instantiate(
        cfg.trainer,
        max_steps=int(cfg.train.max_steps),
        default_root_dir=str(run_dir),
        use_distributed_sampler=False,
        logger=[reporter.csv_logger, *loggers],
        callbacks=[
            *console_callbacks(run_dir),
            reporter,
            checkpoint,
            milestones,
            Preemption(checkpoint),  # SIGTERM/SIGINT: last.ckpt at the step reached
            *callbacks,
        ],
        plugins=[StagedCheckpointIO()],  # last.ckpt staged next to itself, not in $TMPDIR
    )
    return RunParts(data, module, reporter, trainer)


def fit(cfg: DictConfig, run_dir: Path, parts: RunParts) -> None:
    """``trainer.fit``; then summary and exports into ``run_dir`` (rank 0)."""
    data, module, reporter, trainer = parts.data, parts.module, parts.reporter, parts.trainer
    ckpt = str(run_dir / LAST_CKPT) if cfg.resume else None
    try:
        status, note = fit_until_done(trainer, module, data, ckpt, run_dir)
        if trainer.world_size > 1:
            write_rank_pi(module, run_dir / "ranks" / f"pi_rank{trainer.global_rank}.csv")
        if trainer.is_global_zero:
            if status != "interrupted":  # final/ first: summary.json comes last
                card = reporter.model_card(module.model)
                state = reporter.state()
                export_hf(module.model, data.tokenizer_dir, run_dir / "final", state, card)
            reporter.finish(
                status=status, error=note, dev_cost=module.dev_cost if module.dev else None
            )
        if status == "interrupted":
            raise Interrupted(preempted_signal(trainer))
    except Interrupted:
        raise
    except BaseException as err:
        if trainer.is_global_zero:
            reporter.finish(status="failed", error=f"{type(err).__name__}: {err}")
            reporter.publish("failed")
        raise
    if trainer.is_global_zero:
        reporter.publish(status)
        log.info("run finished: %s", run_dir)


def fit_until_done(
    trainer: L.Trainer, module: TaamModule, data: TaamDataModule, ckpt: str | None, run_dir: Path
) -> tuple[str, str | None]:
    """``trainer.fit``; return the status (completed, stopped or interrupted) and why a run
    ended early."""
    try:
        trainer.fit(module, datamodule=data, ckpt_path=ckpt)
    except DataExhausted as err:  # every language reached its epoch cap: a normal end
        log.warning("training stopped early: %s", err)
        return "stopped", str(err)
    except SIGTERMException:  # SIGTERM or SIGINT: Preemption saved last.ckpt at this step
        note = interrupted_note(trainer, data.sampler.step, run_dir)
        log.warning("%s", note)
        return "interrupted", note
    return ("stopped" if trainer.interrupted else "completed"), None


def describe_mixer(cfg: DictConfig, mixer: Mixer) -> str:
    """One line on what π does and when it first can move, so a short run is not a surprise."""
    start = " ".join(
        f"{lang} {p:.2f}" for lang, p in zip(mixer.languages, mixer.probs(), strict=True)
    )
    if not mixer.adaptive:
        return f"mixer: {cfg.method.name}, static π = {start}"
    dev = cfg.signal.name == "dev"
    every = int(cfg.signal.every) if dev else int(cfg.method.update_interval)
    warmup = int(getattr(mixer, "warmup_steps", 0))
    first = every * max(1, -(-warmup // every))  # the first update at or after the warm-up
    line = (
        f"mixer: {cfg.method.name} on the {cfg.signal.name} signal; π starts at {start} and "
        f"updates every {every} steps ({'signal.every' if dev else 'method.update_interval'}), "
        f"first at step {first}"
    )
    if warmup:
        line += f" (warm-up: method.mixer.warmup_steps={warmup})"
    if first > int(cfg.train.max_steps):
        line += f"; this run of {cfg.train.max_steps} steps ends before it: π stays where it starts"
    return line


def record_inputs(
    cfg: DictConfig,
    run_dir: Path,
    identity: RunIdentity,
    data: TaamDataModule,
    prior_report: dict | None,
) -> None:
    """The ledger (printed and in ``ledger.json``), held-out texts, config and prior (rank 0)."""
    print_ledger(data.ledger)
    if cfg.resume:
        check_resume(run_dir, cfg, identity, data.ledger["data_key"])
    write_json(run_dir / "ledger.json", data.ledger)
    data.copy_heldout(run_dir / "heldout")
    write_config(run_dir, cfg)
    if prior_report is not None:
        write_json(run_dir / "prior.json", prior_report)


def build_loggers(cfg: DictConfig, run_dir: Path, identity: RunIdentity) -> list[Logger]:
    """The logger group's Lightning loggers (besides metrics.csv), W&B among them if chosen."""
    loggers = [instantiate(node, save_dir=str(run_dir)) for node in cfg.logger.extra]
    if cfg.logger.get("wandb"):
        from taam.logging.wandb_logger import WandbRunLogger  # wandb is imported only when used

        loggers.append(WandbRunLogger.for_run(cfg, run_dir, identity))
    return loggers


def build_module(
    cfg: DictConfig, data: TaamDataModule, mixer: Mixer, reporter: RunReporter
) -> TaamModule:
    """The Hugging Face model for the run's tokenizer, with its optimiser and schedule."""
    tokenizer = AutoTokenizer.from_pretrained(data.tokenizer_dir)
    model = build_model(tokenizer, **cfg.model)
    log.info("model: %s, %.2fM parameters", cfg.model.arch, count_parameters(model) / 1e6)
    t = cfg.train
    dev = None
    if cfg.signal.name == "dev":
        windows = data.dev_set(int(cfg.signal.sequences), tokenizer)
        # Forward only keeps no activations for a backward pass: 4 training batches at a time.
        dev = DevSet(
            torch.from_numpy(windows.tokens),
            torch.from_numpy(windows.scored),
            torch.from_numpy(windows.document),
            windows.document_language,
            every=int(cfg.signal.every),
            batch_size=4 * int(t.global_batch),
        )
    return TaamModule(
        model=model,
        mixer=mixer,
        byte_lengths=token_byte_lengths(tokenizer),
        update_interval=int(cfg.method.update_interval),
        optim=OptimConfig(float(t.lr), float(t.weight_decay), tuple(t.betas)),
        schedule=ScheduleConfig(int(t.warmup_steps), int(t.max_steps), float(t.min_lr_ratio)),
        compile_model=bool(t.compile),
        on_update=reporter.on_update,
        dev=dev,
    )


def write_rank_pi(module: TaamModule, path: Path) -> None:
    """Each rank's own π trajectory: identical files show the ranks agreed at every update."""
    columns = ["step", *(f"pi_{lang}" for lang in module.mixer.languages)]
    rows = [dict(zip(columns, [step, *pi], strict=True)) for step, pi in module.pi_history]
    write_csv(path, rows, columns)
