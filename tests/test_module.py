"""TaamModule's hyper-parameter groups: validated, recorded, and the learning-rate schedule."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from taam.mixer.base import StaticMixer
from taam.model.module import OptimConfig, ScheduleConfig, TaamModule


def test_bad_hyper_parameters_are_refused_with_the_config_keys():
    with pytest.raises(ValueError, match=r"lr > 0.*train\.\*"):
        OptimConfig(lr=0.0)
    with pytest.raises(ValueError, match="0 ≤ β < 1"):
        OptimConfig(betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="min_lr_ratio"):
        ScheduleConfig(min_lr_ratio=1.5)


def test_the_schedule_warms_up_linearly_then_decays_to_the_floor():
    s = ScheduleConfig(warmup_steps=10, max_steps=110, min_lr_ratio=0.1)
    assert s.factor(0) == pytest.approx(0.1) and s.factor(9) == pytest.approx(1.0)
    assert s.factor(10) == pytest.approx(1.0)
    assert s.factor(60) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2)))
    assert s.factor(110) == pytest.approx(0.1) and s.factor(500) == pytest.approx(0.1)


def test_save_hyperparameters_records_the_groups_as_plain_values_without_model_or_mixer():
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=16,
            hidden_size=8,
            intermediate_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
        )
    )
    optim, schedule = OptimConfig(lr=3e-3), ScheduleConfig(warmup_steps=5, max_steps=50)
    module = TaamModule(
        model,
        StaticMixer(("eng", "nld"), np.ones(2)),
        np.ones(16),
        update_interval=5,
        optim=optim,
        schedule=schedule,
    )
    assert OptimConfig(**module.hparams["optim"]) == optim
    assert ScheduleConfig(**module.hparams["schedule"]) == schedule
    assert module.hparams["update_interval"] == 5
    assert not {"model", "mixer", "byte_lengths", "on_update"} & set(module.hparams)
    saved = io.BytesIO()  # Lightning reloads last.ckpt with weights_only=True on resume
    torch.save(dict(module.hparams), saved)
    saved.seek(0)
    assert torch.load(saved, weights_only=True) == dict(module.hparams)
