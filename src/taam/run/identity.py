"""A run's identity: method, the reward where the method learns from one, seed and preset.

Run names, ``summary.json``, ``taam_state.json``, W&B groups and tags, the simulator's
outputs and the comparison tables all read it from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from taam.mixer.factory import mixer_class


@dataclass(frozen=True)
class RunIdentity:
    method: str  # the method's display name (``Pstar``, ``Uniform``...)
    reward: str | None  # the reward group's name, for methods whose mixer learns from it
    reward_tag: str | None  # its short tag in run names (``nel``, ``cld``)
    seed: int
    preset: str | None = None  # the experiment (``babylm2026``); None for the default sample
    signal: str | None = None  # what an adaptive mixer steers by: ``dev`` or ``train``
    objective: str | None = None  # what its reward serves: ``worst`` or ``mean``

    @classmethod
    def of(cls, cfg: DictConfig) -> RunIdentity:
        """The identity a composed config gives (``train``, ``simulate`` or a saved config).

        A config saved before the signal existed steered by the training loss."""
        mixer = mixer_class(cfg.method)
        learns = mixer.uses_reward
        signal = cfg.get("signal")
        return cls(
            method=str(cfg.method.name),
            reward=str(cfg.reward.name) if learns else None,
            reward_tag=str(cfg.reward.tag) if learns else None,
            seed=int(cfg.seed),
            preset=cfg.get("preset"),
            signal=(str(signal.name) if signal else "train") if mixer.adaptive else None,
            objective=str(cfg.reward.get("objective", "mean")) if learns else None,
        )

    @property
    def label(self) -> str:
        """``<Method>[-<reward tag>][-<signal>]``: the W&B group and the method part of run names."""
        return "-".join(p for p in (self.method, self.reward_tag, self.signal) if p)

    def name(self, date: dt.date | None = None) -> str:
        """``<date>[_<preset>]_<Method>[-<reward tag>][-<signal>]_seed<seed>``."""
        parts = [(date or dt.date.today()).isoformat(), self.preset, self.label, f"seed{self.seed}"]
        return "_".join(p for p in parts if p)

    def record(self) -> dict[str, str | int | None]:
        """The identity fields of ``summary.json`` and ``taam_state.json``."""
        return {
            "method": self.method,
            "reward": self.reward,
            "objective": self.objective,
            "signal": self.signal,
            "seed": self.seed,
        }


def flat_config(cfg: DictConfig, ignored: tuple[str, ...] = ()) -> dict[str, Any]:
    """``cfg`` resolved and flattened to ``dotted.key → value``, without the keys in ``ignored``
    (a key and everything under it)."""
    flat = _flatten(OmegaConf.to_container(cfg, resolve=True))
    return {
        key: value
        for key, value in flat.items()
        if not any(key == k or key.startswith(f"{k}.") for k in ignored)
    }


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The keys of two flat configs (:func:`flat_config`) whose values differ, sorted; a key
    in one only counts as changed."""
    return [k for k in sorted(before.keys() | after.keys()) if before.get(k) != after.get(k)]


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict) or not tree:
        return {prefix.rstrip("."): tree} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat |= _flatten(value, f"{prefix}{key}.")
    return flat
