"""Build the mixer a method config describes.

A method config (``configs/method/*.yaml``) holds ``name``, ``update_interval`` and ``mixer``,
a Hydra ``_partial_`` node called with the run's :class:`MixContext`. What a method is
(adaptive, learning from the ``reward`` group) is a property of its mixer class. A mixer
that learns from the reward gets ``reward=instantiate(reward_cfg.fn)`` and the reward's policy
step (``reward_cfg.policy``: η, λ and the anchor, which are on the reward's scale).
"""

from __future__ import annotations

import inspect
import typing

from hydra.utils import get_method, instantiate
from omegaconf import DictConfig

from taam.errors import ConfigError
from taam.mixer.base import MixContext, Mixer


def mixer_class(method_cfg: DictConfig) -> type[Mixer]:
    """The class the method's ``mixer._target_`` builds: a class, a classmethod of one, or a
    function annotated to return one."""
    target = get_method(method_cfg.mixer._target_)
    if isinstance(target, type):
        return target
    if inspect.ismethod(target) and isinstance(target.__self__, type):
        return target.__self__  # a classmethod such as Exp3Mixer.from_context
    return typing.get_type_hints(target)["return"]


def build_mixer(
    method_cfg: DictConfig, reward_cfg: DictConfig | None, context: MixContext
) -> Mixer:
    """``method_cfg.mixer(context[, reward=...])``, with plain Python lists and dicts as params."""
    make = instantiate(method_cfg.mixer, _convert_="all")
    if not mixer_class(method_cfg).uses_reward:
        return make(context)
    if reward_cfg is None:
        raise ValueError(
            f"method '{method_cfg.name}' learns from a reward; choose one with reward=..."
        )
    policy = dict(reward_cfg.get("policy") or {})
    clash = sorted(set(policy) & set(method_cfg.mixer))
    if clash:  # the call's keywords would silently win over the method's
        raise ConfigError(
            f"method.mixer.{clash[0]} is set, but {clash[0]} belongs to the reward's policy; "
            f"use reward.policy.{clash[0]}=... instead."
        )
    return make(context, reward=instantiate(reward_cfg.fn), **policy)
