"""The command line of every entry script: checked before Hydra composes it, validated after.

``@entry("eval", validate_eval_config)`` turns a function of the composed config into a
script's ``main()``. Before Hydra parses anything, :func:`check_overrides` makes sure every
config group option and every key the command line names exists, and says which one was
meant (``method=pstr`` → ``method=pstar``; ``train.lrr=0.1`` → ``train.lr``) in one line.
After composition the config is validated against its schema (:mod:`taam.schema`), before
the work (and its heavy imports) starts. A :class:`~taam.errors.TaamError` anywhere ends
the script with one ``error:`` line and exit status 1.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from pathlib import Path
from typing import Any

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig

from taam.errors import ConfigError, exit_on_user_error
from taam.schema import MOVED

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


def entry(config_name: str, validate: Callable[[DictConfig], None] | None = None):
    """Decorate ``work(cfg)``: the result is the script's ``main()`` (reads ``sys.argv``)."""

    def decorate(work: Callable[[DictConfig], Any]) -> Callable[[], None]:
        @hydra.main(config_path=str(CONFIG_DIR), config_name=config_name, version_base="1.3")
        def composed(cfg: DictConfig) -> None:
            with exit_on_user_error():
                if validate is not None:
                    validate(cfg)
                work(cfg)

        @wraps(work)
        def main() -> None:
            with exit_on_user_error():
                check_overrides(config_name, command_line_overrides(sys.argv[1:]))
            composed()

        return main

    return decorate


def command_line_overrides(argv: Sequence[str]) -> list[str]:
    """The ``key=value`` overrides of a command line (Hydra's own flags and their values out)."""
    overrides, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--cfg", "-c", "--package", "-p", "--info", "-i"):
            skip = arg in ("--package", "-p")  # --cfg and --info take an optional word
        elif arg.startswith("-"):
            continue
        elif "=" in arg or arg.startswith("~"):
            overrides.append(arg)
    return overrides


def check_overrides(config_name: str, overrides: Sequence[str]) -> None:
    """Every group option and key named in ``overrides`` exists in the configs; else
    :class:`ConfigError` naming the closest valid one."""
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as err:
        raise ConfigError(f"the command line cannot be read: {_first_line(err)}") from None
    groups = _config_groups()
    chosen = []
    for override in parsed:
        key = override.key_or_group
        if key.split("/")[0] == "hydra" or key.startswith("hydra."):
            continue  # Hydra's own settings and launchers: Hydra checks them
        if key in groups and override.is_delete():
            continue
        if key in groups:
            for option in _values(override):
                _check_option(key, option, groups[key])
            chosen.append(f"{key}={_values(override)[0]}")
    if not any(o.key_or_group not in groups and _is_change(o) for o in parsed):
        return
    base = compose_config(config_name, chosen)
    for override in parsed:
        if override.key_or_group not in groups and _is_change(override):
            _check_key(base, override.key_or_group, override)


def _is_change(override: Any) -> bool:
    """A plain ``key=value``: Hydra needs the key to exist (``+``/``++`` add, ``~`` deletes)."""
    key = override.key_or_group
    plain = not (override.is_add() or override.is_force_add() or override.is_delete())
    return plain and not key.startswith("hydra.") and "/" not in key


def _values(override: Any) -> list[str]:
    if override.is_sweep_override():
        return list(override.sweep_string_iterator())
    return [override.get_value_element_as_str()]


def _config_groups() -> dict[str, list[str]]:
    """Each config group under configs/ (``method``, ``hydra/launcher``…) → its options."""
    groups: dict[str, list[str]] = {}
    for folder in CONFIG_DIR.rglob("*"):
        options = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
        if options:
            groups[folder.relative_to(CONFIG_DIR).as_posix()] = options
    return groups


def _check_option(group: str, option: str, options: list[str]) -> None:
    if option in options or option == "null":
        return
    close = difflib.get_close_matches(option, options, n=1, cutoff=0.5)
    hint = f"did you mean {group}={close[0]}? " if close else ""
    raise ConfigError(
        f"{group}={option} is not an option of {group}; {hint}the options are {', '.join(options)}."
    )


def compose_config(config_name: str, overrides: list[str]) -> DictConfig:
    """The config ``config_name`` composed with ``overrides``, as the entry script would see it
    (a Hydra error as one :class:`ConfigError` line). Inside an entry script Hydra is already
    initialised on ``configs/`` (``hydra.main``), and composing uses it as it is."""
    try:
        if GlobalHydra.instance().is_initialized():
            return compose(config_name=config_name, overrides=overrides)
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            return compose(config_name=config_name, overrides=overrides)
    except HydraException as err:
        raise ConfigError(_first_line(err)) from None


def _check_key(cfg: DictConfig, key: str, override: Any) -> None:
    """``key`` is a setting of ``cfg``; else name the closest setting at the deepest level
    that exists."""
    parts = key.split(".")
    node: Any = cfg
    for depth, part in enumerate(parts):
        known = [str(k) for k in node] if isinstance(node, Mapping) else []
        if part not in known:  # not `part in node`: OmegaConf denies a key whose value is ???
            prefix = ".".join(parts[:depth])
            break
        node = node._get_node(part) if isinstance(node, DictConfig) else node[part]
    else:
        return  # the key exists (its value may still be ??? or an interpolation)
    close = difflib.get_close_matches(parts[depth], known, n=1, cutoff=0.6)
    where = f"{prefix}." if prefix else ""
    value = override.get_value_element_as_str() if not override.is_sweep_override() else "..."
    if key in MOVED:
        fix = f"it moved to {MOVED[key]}; use {MOVED[key]}={value} instead"
    elif close:
        fix = f"did you mean {where}{close[0]}? Use {where}{close[0]}={value}"
    elif known:
        fix = f"the settings there are {', '.join(where + k for k in known)}"
    else:
        fix = f"{where.rstrip('.') or 'the config'} has no settings under it"
    raise ConfigError(f"{key} is not a setting; {fix}.")


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
