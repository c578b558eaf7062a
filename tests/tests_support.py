"""Helpers the tests import: Hydra composition of the project's configs."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def compose_config(overrides: list[str], config_name: str = "train"):
    """The config ``python src/<entry>.py <overrides>`` would see."""
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        return compose(config_name=config_name, overrides=overrides)
