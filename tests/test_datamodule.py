"""The data module alone, from the Hydra compose API: prepared shards, draws and cursors."""

from __future__ import annotations

import numpy as np
import pytest

from taam.data.datamodule import TaamDataModule
from taam.errors import DataError
from taam.mixer.factory import build_mixer
from tests_support import compose_config


def data_module(overrides: list[str]) -> tuple[TaamDataModule, object]:
    cfg = compose_config(overrides)
    dm = TaamDataModule.from_config(cfg)
    dm.prepare_data()
    dm.setup("fit")
    dm.connect(build_mixer(cfg.method, cfg.reward, dm.mix_context()))
    return dm, cfg


def draw(dm: TaamDataModule, steps: int) -> list[dict]:
    loader = iter(dm.train_dataloader())
    return [dm.on_before_batch_transfer(next(loader), 0) for _ in range(steps)]


def test_the_data_module_draws_batches_without_a_model(tiny_overrides):
    dm, cfg = data_module([*tiny_overrides, "method=natural"])
    batches = draw(dm, 6)
    seq_len, batch = int(cfg.model.seq_len), int(cfg.train.global_batch)
    assert all(b["tokens"].shape == (batch, seq_len + 1) for b in batches)
    languages = np.concatenate([b["language"].numpy() for b in batches])
    assert set(languages) == {0, 1, 2}  # natural π gives every language its share
    assert dm.sampler.step == 6 and dm.sampler.drawn.sum() == 6 * batch
    context = dm.mix_context()
    assert context.languages == ("eng", "nld", "zho")
    assert context.total_tokens == dm.planned_exposures() == 20 * batch * seq_len
    assert set(dm.ledger["languages"]) == {"eng", "nld", "zho"}


def test_the_cursors_resume_the_same_batches(tiny_overrides):
    first, _ = data_module([*tiny_overrides, "method=uniform"])
    draw(first, 3)
    state = first.state_dict()
    expected = draw(first, 3)
    second, _ = data_module([*tiny_overrides, "method=uniform"])
    second.load_state_dict(state)
    resumed = draw(second, 3)
    for a, b in zip(expected, resumed, strict=True):
        assert np.array_equal(a["tokens"], b["tokens"])
        assert np.array_equal(a["language"], b["language"])


def test_a_plan_beyond_the_epoch_cap_is_refused(tiny_overrides):
    with pytest.raises(DataError, match=r"lower train.max_steps to at most \d+"):
        data_module([*tiny_overrides, "train.max_steps=100000"])
