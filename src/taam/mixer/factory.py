"""Build the mixer a method config describes.

A method config (``configs/method/*.yaml``) holds ``name``, ``adaptive``, ``update_interval``
and ``mixer``, a Hydra ``_partial_`` node called with the run's :class:`MixContext`.
Adaptive methods that learn from the chosen reward (``uses_reward``, default = ``adaptive``)
also get ``reward=instantiate(reward_cfg.fn)`` and the reward's policy step (``reward_cfg.policy``:
η and λ, which are on the reward's scale); ODM brings its own loss reward.
"""

from __future__ import annotations

from hydra.utils import instantiate
from omegaconf import DictConfig

from taam.mixer.base import MixContext, Mixer


def uses_reward(method_cfg: DictConfig) -> bool:
    """Whether the method learns from the ``reward`` group (and its tag names the run)."""
    return bool(method_cfg.get("uses_reward", method_cfg.adaptive))


def build_mixer(
    method_cfg: DictConfig, reward_cfg: DictConfig | None, context: MixContext
) -> Mixer:
    """``method_cfg.mixer(context[, reward=...])``, with plain Python lists and dicts as params."""
    make = instantiate(method_cfg.mixer, _convert_="all")
    if not uses_reward(method_cfg):
        return make(context)
    if reward_cfg is None:
        raise ValueError(
            f"method '{method_cfg.name}' learns from a reward; choose one with reward=..."
        )
    policy = dict(reward_cfg.get("policy") or {})
    return make(context, reward=instantiate(reward_cfg.fn), **policy)
