"""One training run, end to end: data → model → mixer → Lightning fit → exports.

``train(cfg)`` is what ``python src/train.py`` calls with the composed Hydra config.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import lightning as L
import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from transformers import AutoTokenizer

from taam.callbacks import MilestoneExporter, ResumeCheckpoint
from taam.data.budget import check_ledger
from taam.data.prepare import PreparedData, prepare_data, print_ledger
from taam.data.sampler import DataExhausted, MixtureSampler
from taam.data.sources import DataError
from taam.data.tokenizer import token_byte_lengths
from taam.export import export_hf
from taam.io import atomic_write_text, write_csv, write_json
from taam.mixer.base import MixContext, Mixer
from taam.mixer.factory import build_mixer, uses_reward
from taam.model import build_model, count_parameters
from taam.module import TaamModule
from taam.progress import WindowLossBar
from taam.reporting import RunReporter, record_failure
from taam.rundir import LAST_CKPT, RunDirError, prepare_run_dir, run_name, setup_logging

log = logging.getLogger(__name__)
RUN_DIR_ENV = "TAAM_RUN_DIR"


class Ticks(torch.utils.data.IterableDataset):
    """Yields step numbers forever: the batch itself is drawn by the module (see TaamModule)."""

    def __iter__(self) -> Iterator[int]:
        step = 0
        while True:
            yield step
            step += 1


def global_rank() -> int:
    """This process's rank as the launcher (Lightning, torchrun, SLURM) tells it."""
    for var in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        if var in os.environ:
            return int(os.environ[var])
    return 0


def resolve_run_dir(cfg: DictConfig, rank: int = 0) -> Path:
    if cfg.run_dir:
        return Path(cfg.run_dir)
    if rank > 0 and RUN_DIR_ENV in os.environ:  # rank 0's choice, for the ranks it launches
        return Path(os.environ[RUN_DIR_ENV])
    return Path(cfg.paths.runs_dir) / default_run_name(cfg)


def default_run_name(cfg: DictConfig) -> str:
    """``<date>_<Method>[-<reward tag>]_seed<seed>``: the reward tag where the method uses one."""
    tag = cfg.reward.tag if uses_reward(cfg.method) else None
    return run_name(cfg.method.name, cfg.seed, tag)


def planned_exposures(cfg: DictConfig) -> int:
    return int(cfg.train.max_steps) * int(cfg.train.global_batch) * int(cfg.model.seq_len)


def check_epoch_plan(cfg: DictConfig, unique_tokens: np.ndarray) -> None:
    """Refuse a run whose length needs more than the epoch cap of the budgeted data."""
    capacity = float(cfg.train.epoch_cap) * float(unique_tokens.sum())
    planned = planned_exposures(cfg)
    if planned > capacity:
        raise DataError(
            f"the run plans {planned:,} token exposures but {cfg.train.epoch_cap} epochs of the "
            f"budgeted data allow at most {capacity:,.0f}; lower train.max_steps to at most "
            f"{int(capacity // (cfg.train.global_batch * cfg.model.seq_len))} or raise the budget."
        )


def check_resume(run_dir: Path, cfg: DictConfig, data: PreparedData) -> None:
    """A resumed run must keep its languages, tokenizer (data key) and method."""
    saved = OmegaConf.load(run_dir / "config.yaml")
    saved_key = OmegaConf.load(run_dir / "ledger.json").get("data_key")
    problems = []
    if list(saved.data.languages) != list(cfg.data.languages):
        problems.append(f"languages {list(saved.data.languages)} → {list(cfg.data.languages)}")
    if saved_key != data.ledger["data_key"]:
        problems.append(f"data/tokenizer {saved_key} → {data.ledger['data_key']}")
    if saved.method.name != cfg.method.name:
        problems.append(f"method {saved.method.name} → {cfg.method.name}")
    if saved.method.adaptive and saved.reward.name != cfg.reward.name:
        problems.append(f"reward {saved.reward.name} → {cfg.reward.name}")
    if problems:
        raise RunDirError(
            f"cannot resume {run_dir}: the config changed ({'; '.join(problems)}). Resume with the "
            f"run's own settings (see {run_dir / 'config.yaml'}) or start a new run."
        )


def train(cfg: DictConfig, callbacks: Sequence[L.Callback] = ()) -> Path:
    """Run one training job; return its run directory (``callbacks`` join the Trainer's).

    A run that fails leaves ``summary.json`` with status ``failed`` and the error.
    """
    rank = global_rank()
    run_dir = resolve_run_dir(cfg, rank)
    if rank == 0:
        prepare_run_dir(run_dir, bool(cfg.resume))
    setup_logging(run_dir if rank == 0 else None)
    try:
        _train(cfg, run_dir, rank, callbacks)
    except Exception as err:
        if rank == 0:
            record_failure(run_dir, cfg, err)
        raise
    return run_dir


def _train(cfg: DictConfig, run_dir: Path, rank: int, callbacks: Sequence[L.Callback]) -> None:
    """Data, model, mixer, fit and exports into ``run_dir`` (prepared by :func:`train`)."""
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    data = prepare_data(cfg.data, int(cfg.model.seq_len), cfg.paths.cache_dir)
    if rank == 0:
        record_inputs(cfg, run_dir, data)
    mixer = build_mixer(cfg.method, cfg.reward, mix_context(cfg, data))
    if rank == 0 and getattr(mixer, "prior_report", None):
        write_json(run_dir / "prior.json", mixer.prior_report)
    sampler = MixtureSampler(
        data.shards.train,
        tuple(cfg.data.languages),
        int(cfg.train.global_batch),
        int(cfg.seed),
        float(cfg.train.epoch_cap),
    )
    loggers = _extra_loggers(cfg, run_dir)
    reporter = RunReporter(
        run_dir, cfg, mixer, sampler, resume_step=_resume_step(run_dir, cfg), loggers=loggers
    )
    module = build_module(cfg, data, mixer, sampler, reporter)
    trainer = build_trainer(
        cfg, run_dir, data, reporter, [reporter.csv_logger, *loggers], callbacks
    )
    loader = torch.utils.data.DataLoader(Ticks(), batch_size=None)
    ckpt = str(run_dir / LAST_CKPT) if cfg.resume else None
    os.environ[RUN_DIR_ENV] = str(run_dir)  # DDP ranks launched by Lightning inherit it
    try:
        status, note = _fit(trainer, module, loader, ckpt)
        if trainer.world_size > 1:
            write_rank_pi(module, run_dir / "ranks" / f"pi_rank{trainer.global_rank}.csv")
        if trainer.is_global_zero:
            reporter.finish(status=status, error=note)
            card = reporter.model_card()
            export_hf(module.model, data.tokenizer_dir, run_dir / "final", reporter.state(), card)
    except BaseException as err:
        if trainer.is_global_zero:
            reporter.finish(status="failed", error=f"{type(err).__name__}: {err}")
            reporter.publish("failed")
        raise
    finally:
        os.environ.pop(RUN_DIR_ENV, None)
    if trainer.is_global_zero:
        reporter.publish(status)
        log.info("run finished: %s", run_dir)


def record_inputs(cfg: DictConfig, run_dir: Path, data: PreparedData) -> None:
    """Check the budget and the plan, then write the ledger, held-out texts and config."""
    print_ledger(data.ledger)
    check_ledger(data.ledger)
    check_epoch_plan(cfg, data.shards.unique_tokens())
    if cfg.resume:
        check_resume(run_dir, cfg, data)
    write_json(run_dir / "ledger.json", data.ledger)
    copy_heldout(data, run_dir / "heldout")
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))


def mix_context(cfg: DictConfig, data: PreparedData) -> MixContext:
    """What the method sees of the data: sizes, byte premiums and the run's length."""
    languages = tuple(cfg.data.languages)
    rows = data.ledger["languages"]
    return MixContext(
        languages=languages,
        unique_tokens=data.shards.unique_tokens(),
        byte_premium=np.array([rows[lang]["byte_premium"] for lang in languages]),
        total_tokens=planned_exposures(cfg),
        epoch_cap=float(cfg.train.epoch_cap),
        seed=int(cfg.seed),
        cache_dir=Path(cfg.paths.cache_dir),
    )


def build_module(
    cfg: DictConfig,
    data: PreparedData,
    mixer: Mixer,
    sampler: MixtureSampler,
    reporter: RunReporter,
) -> TaamModule:
    """The Hugging Face model for the run's tokenizer, wrapped with the mixer and sampler."""
    tokenizer = AutoTokenizer.from_pretrained(data.tokenizer_dir)
    model = build_model(tokenizer, **cfg.model)
    log.info("model: %s, %.2fM parameters", cfg.model.arch, count_parameters(model) / 1e6)
    return TaamModule(
        model=model,
        mixer=mixer,
        sampler=sampler,
        byte_lengths=token_byte_lengths(tokenizer),
        update_interval=int(cfg.method.update_interval),
        lr=float(cfg.train.lr),
        weight_decay=float(cfg.train.weight_decay),
        betas=tuple(cfg.train.betas),
        warmup_steps=int(cfg.train.warmup_steps),
        max_steps=int(cfg.train.max_steps),
        min_lr_ratio=float(cfg.train.min_lr_ratio),
        on_update=reporter.on_update,
        compile_model=bool(cfg.train.compile),
    )


def build_trainer(
    cfg: DictConfig,
    run_dir: Path,
    data: PreparedData,
    reporter: RunReporter,
    loggers: list,
    callbacks: Sequence[L.Callback],
) -> L.Trainer:
    """The trainer group's Lightning Trainer with TAAM's checkpoint and export callbacks."""
    units = _units_per_token(cfg, data, tuple(cfg.data.languages))
    milestones = MilestoneExporter(
        run_dir / "checkpoints",
        data.tokenizer_dir,
        planned_exposures(cfg) * float(units.max()),
        units,
        reporter.state,
        reporter.model_card,
    )
    checkpoint = ResumeCheckpoint(
        run_dir / LAST_CKPT, int(cfg.train.checkpoint_every_steps), reporter.flush
    )
    return instantiate(
        cfg.trainer,
        max_steps=int(cfg.train.max_steps),
        default_root_dir=str(run_dir),
        use_distributed_sampler=False,
        logger=loggers,
        callbacks=[WindowLossBar(), reporter, checkpoint, milestones, *callbacks],
    )


def _fit(
    trainer: L.Trainer, module: TaamModule, loader, ckpt: str | None
) -> tuple[str, str | None]:
    """Train; return the status (completed or stopped) and why a run stopped early."""
    try:
        trainer.fit(module, train_dataloaders=loader, ckpt_path=ckpt)
    except DataExhausted as err:  # every language reached its epoch cap: a normal end
        log.warning("training stopped early: %s", err)
        return "stopped", str(err)
    return ("stopped" if trainer.interrupted else "completed"), None


def write_rank_pi(module: TaamModule, path: Path) -> None:
    """Each rank's own π trajectory: identical files show the ranks agreed at every update."""
    columns = ["step", *(f"pi_{lang}" for lang in module.mixer.languages)]
    rows = [dict(zip(columns, [step, *pi], strict=True)) for step, pi in module.pi_history]
    write_csv(path, rows, columns)


def copy_heldout(data: PreparedData, out_dir: Path) -> None:
    """The held-out texts travel with the run, so evaluation needs only the run directory."""
    out_dir.mkdir(exist_ok=True)
    for lang in data.shards.languages:
        shutil.copyfile(data.shards.root / lang / "heldout.jsonl", out_dir / f"{lang}.jsonl")


def _resume_step(run_dir: Path, cfg: DictConfig) -> int | None:
    if not cfg.resume:
        return None
    return int(
        torch.load(run_dir / LAST_CKPT, map_location="cpu", weights_only=False)["global_step"]
    )


def _units_per_token(cfg: DictConfig, data: PreparedData, languages: tuple[str, ...]) -> np.ndarray:
    """Milestone units per token exposure: 1 (tokens) or English-equivalent words per token."""
    if cfg.train.milestone_unit == "tokens":
        return np.ones(len(languages))
    if cfg.train.milestone_unit == "words":
        rows = data.ledger["languages"]
        return np.array(
            [rows[lang]["english_equivalent_words"] / rows[lang]["tokens"] for lang in languages]
        )
    raise DataError(
        f"train.milestone_unit must be tokens or words, got '{cfg.train.milestone_unit}'."
    )


def _extra_loggers(cfg: DictConfig, run_dir: Path) -> list:
    """The logger group's Lightning loggers (besides metrics.csv), W&B among them if chosen."""
    loggers = [instantiate(node, save_dir=str(run_dir)) for node in cfg.logger.extra]
    if cfg.logger.get("wandb"):
        from taam.wandb_logging import WandbRunLogger  # wandb is imported only when used

        loggers.append(WandbRunLogger.for_run(cfg, run_dir))
    return loggers
