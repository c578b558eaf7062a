"""The run directory: where it is, its creation or resumption.

A new run gets a fresh directory (never an existing, non-empty one); a resumed run must have
``last.ckpt`` and the languages, data and method it was started with.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from taam.errors import RunDirError
from taam.io import atomic_write_text
from taam.run.identity import RunIdentity, changed_keys, flat_config
from taam.schema import MOVED

LAST_CKPT = "last.ckpt"
RUN_DIR_ENV = "TAAM_RUN_DIR"  # rank 0's run directory, inherited by the DDP ranks it launches


def global_rank() -> int:
    """This process's rank as the launcher (Lightning, torchrun, SLURM) tells it."""
    for var in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        if var in os.environ:
            return int(os.environ[var])
    return 0


def resolve_run_dir(cfg: DictConfig, identity: RunIdentity, rank: int = 0) -> Path:
    """``run_dir`` if given, else ``<runs_dir>/<run name>`` (rank 0's choice on other ranks)."""
    if cfg.run_dir:
        return Path(cfg.run_dir)
    if rank > 0 and RUN_DIR_ENV in os.environ:
        return Path(os.environ[RUN_DIR_ENV])
    return Path(cfg.paths.runs_dir) / identity.name()


# What a resumed run may change: where it logs and writes, on what hardware, how often it saves
# last.ckpt, its plots and its model card. Everything else is the run itself.
RESUME_MAY_CHANGE = (
    "resume",
    "run_dir",
    "paths",
    "logger",
    "trainer",
    "card",
    "train.plots",
    "train.checkpoint_every_steps",
    "hydra",
)


def resume_config(cfg: DictConfig, overrides: Sequence[str]) -> DictConfig:
    """The config a resumed run continues with: its own ``config.yaml``, with the command
    line's overrides of :data:`RESUME_MAY_CHANGE` applied. An override that would change the
    run (model, optimiser, schedule, data, method, seed…) is refused before anything is written.
    """
    if not cfg.get("run_dir"):
        raise RunDirError("resume=true needs the run to continue: pass run_dir=runs/<name>.")
    run_dir = Path(cfg.run_dir)
    if not (run_dir / "config.yaml").is_file():
        if (run_dir / "train.log").is_file():  # a start killed before it recorded its config
            raise RunDirError(
                f"cannot resume {run_dir}: it has no {LAST_CKPT} because it never started "
                f"training; run the same command without resume=true to start it again."
            )
        raise RunDirError(
            f"cannot resume {run_dir}: it has no config.yaml (it is not a TAAM run, or it never "
            f"started); point run_dir at the run to continue."
        )
    saved = saved_config(run_dir)
    changes = []
    for key in _overridden_keys(overrides):
        new = OmegaConf.select(cfg, key, default=None)
        if _may_change(key):
            OmegaConf.update(saved, key, new, merge=False, force_add=True)
            continue
        before, after = _plain(OmegaConf.select(saved, key, default=None)), _plain(new)
        if before != after:
            changes.append(f"{key}: {before} → {after}")
    if changes:
        raise RunDirError(
            f"cannot resume {run_dir} with other settings ({'; '.join(changes)}); a resumed run "
            f"keeps its own config.yaml. Drop those overrides, or start a new run."
        )
    saved.resume = True
    saved.run_dir = str(run_dir)
    return saved


def saved_config(run_dir: Path) -> DictConfig:
    """The run's ``config.yaml`` in today's keys, with the behaviour it was written with: a key
    an earlier TAAM kept elsewhere is moved to where it lives now (:data:`taam.schema.MOVED`,
    e.g. γ from ``method.mixer`` to ``reward.policy``), and v2's lag had no margin then
    (``reward.margin`` = 0), horizon's floor was absolute (``method.mixer.floor`` = f, today
    ``floor_share`` = f·K), DoReMi did not check its window against the reference's, and Group
    DRO gave an absent language loss 0 (``absent=zero``); the held-out split was the split alone
    (``data.heldout_unused`` = false)."""
    saved = OmegaConf.load(run_dir / "config.yaml")
    data = saved.get("data")
    if data is not None and "heldout_unused" not in data:
        data.heldout_unused = False
    for old, new in MOVED.items():
        parent, _, key = old.rpartition(".")
        node = OmegaConf.select(saved, parent)
        if node is None or key not in node:
            continue
        value = node.pop(key)
        new_parent, _, new_key = new.rpartition(".")
        if OmegaConf.select(saved, new_parent) is not None:
            OmegaConf.select(saved, new_parent)[new_key] = value
    reward = saved.get("reward")
    if (
        reward is not None
        and reward.get("name") == "cross_lingual_deficit"
        and "margin" not in reward
    ):
        reward.margin = 0.0
    mixer = OmegaConf.select(saved, "method.mixer")
    target = str(mixer.get("_target_", "")) if mixer is not None else ""
    if target.startswith("taam.mixer.horizon.") and "floor" in mixer:
        # horizon's absolute floor f became floor_share = f·K (the same floor at the same K)
        mixer.floor_share = round(float(mixer.pop("floor")) * len(saved.data.languages), 12)
    if target.startswith("taam.mixer.doremi.") and "update_interval" not in mixer:
        mixer.update_interval = "${..update_interval}"  # the reference's window, checked later
    if target.startswith("taam.mixer.dro.") and "absent" not in mixer:
        mixer.absent = "zero"  # Group DRO gave an absent language the official loss 0 then
    return saved


def check_resume(run_dir: Path, cfg: DictConfig, identity: RunIdentity, data_key: str) -> None:
    """A resumed run keeps everything but :data:`RESUME_MAY_CHANGE` (its languages, data and
    tokenizer, model, optimiser, schedule, method, reward where the method learns from one)."""
    saved = saved_config(run_dir)
    saved_key = OmegaConf.load(run_dir / "ledger.json").get("data_key")
    ignored = (*RESUME_MAY_CHANGE, *(() if identity.reward else ("reward",)))
    before, after = flat_config(saved, ignored), flat_config(cfg, ignored)
    changed = changed_keys(before, after)
    # A group swapped for another (method=..., reward=...) is one change, not each of its keys.
    swapped = [g for g in ("method", "reward") if f"{g}.name" in changed]
    problems = [f"{g} {before.get(f'{g}.name')} → {after.get(f'{g}.name')}" for g in swapped] + [
        f"{key} {before.get(key)} → {after.get(key)}"
        for key in changed
        if key.split(".")[0] not in swapped
    ]
    if saved_key != data_key:
        problems.append(f"data/tokenizer {saved_key} → {data_key}")
    if problems:
        raise RunDirError(
            f"cannot resume {run_dir}: the config changed ({'; '.join(problems)}). Resume with the "
            f"run's own settings (see {run_dir / 'config.yaml'}) or start a new run."
        )


def _overridden_keys(overrides: Sequence[str]) -> list[str]:
    """The config keys (groups as keys) a command line sets."""
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return [o.key_or_group.replace("/", ".") for o in parsed if not o.is_delete()]


def _may_change(key: str) -> bool:
    return any(key == k or key.startswith(f"{k}.") for k in RESUME_MAY_CHANGE)


def _plain(value: Any) -> Any:
    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


def write_config(run_dir: Path, cfg: DictConfig) -> None:
    """``config.yaml``: the resolved config, with the run directory the run really used."""
    resolved = OmegaConf.to_container(cfg, resolve=True)
    resolved["run_dir"] = str(run_dir)
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(resolved))
