"""The typed config schema: every shipped config passes; each bad value is named with its fix."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from taam.schema import ConfigError, validate_train_config
from tests_support import ROOT, compose_config


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["method=pstar"],
        ["method=exp3", "reward=cross_lingual_deficit"],
        ["method=odm"],
        ["method=odm_validation"],
        ["method=group_dro", "signal=dev"],
        ["objective=mean"],
        ["signal=train", "data.dev_fraction=0"],
        ["method=unimax"],
        ["method=temperature"],
        ["method=prior"],
        ["method=natural"],
        ["model=gpt2_100m"],
        ["experiment=babylm2026", "method=pstar"],
        ["data.budget.allocation={eng: 1, nld: 1, zho: 2}"],
        ["method=fixed", "method.mixer.weights={eng: 0.3, nld: 0.4, zho: 0.3}"],
    ],
)
def test_every_shipped_config_is_valid(overrides):
    validate_train_config(compose_config(overrides))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["seed=-1"], "seed must be an integer ≥ 0, got -1"),
        (["seed=abc"], "seed must be an integer ≥ 0, got 'abc'"),
        (["seed=1.5"], "got 1.5"),
        (["train.global_batch=0"], "train.global_batch must be a positive integer"),
        (["train.lr=-1e-3"], "train.lr must be a positive finite number"),
        (["train.lr=nan"], "train.lr must be a positive finite number"),
        (["train.max_steps=0"], "train.max_steps must be a positive integer"),
        (["train.betas=[0.9]"], "train.betas must be two numbers in [0, 1)"),
        (["train.milestone_unit=bytes"], "train.milestone_unit must be tokens or words"),
        (["model.num_heads=3"], "model.hidden_size (64) must be a multiple of model.num_heads (3)"),
        (["model.arch=gpt3"], "model.arch must be llama or gpt2"),
        (["data.heldout_fraction=1"], "data.heldout_fraction must be a number in (0, 1)"),
        (["data.budget.unit=pages"], "data.budget.unit must be bytes, words or tokens"),
        (["data.budget.allocation={eng: 1, fra: 1}"], "data.budget.allocation must give"),
        (
            ["method=pstar", "reward.policy.gamma=0"],
            "reward.policy.gamma must be a number in (0, 1]",
        ),
        (["method=pstar", "method.mixer.prior.temperature=-1"], "prior.temperature must be"),
        (["method=pstar", "data.languages=[nld]"], "has only ['nld']"),
        (["method.update_interval=0"], "method.update_interval must be a positive integer"),
        (["method=fixed"], "method=fixed needs method.mixer.weights: a non-negative weight"),
        (["method=fixed", "method.mixer.weights={eng: 1, nld: 1}"], "for each of ['eng', 'nld'"),
        (["method=fixed", "method.mixer.weights={eng: 1, nld: -1, zho: 1}"], "got {'eng': 1"),
        (["+train.max_step=10"], "train.max_step is not a setting; did you mean train.max_steps?"),
        (["+model.hiden_size=8"], "did you mean model.hidden_size?"),
        (["+data.budget.total_word_m=1"], "did you mean data.budget.total_words_m?"),
        (["method=exp3", "+reward.policy.gama=0.2"], "did you mean reward.policy.gamma?"),
        (["+method.speed=3"], "method.speed is not a setting; the settings here are method.name"),
        (["data.dev_fraction=0"], "signal=dev scores a dev split, but data.dev_fraction is 0"),
        (["signal.every=25"], "signal.every, a multiple of method.update_interval (10)"),
        (["signal.sequences=0"], "and signal.sequences ≥ 1; got every=50, sequences=0"),
        (["data.dev_fraction=1.5"], "data.dev_fraction must be a number in [0, 1)"),
    ],
)
def test_a_bad_value_names_the_key_and_what_it_needs(overrides, message):
    with pytest.raises(ConfigError) as err:
        validate_train_config(compose_config(overrides))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_config_error_appears_before_the_heavy_imports():
    """Nothing of torch, Lightning or transformers loads before a config error is reported."""
    code = """
import runpy, sys
sys.argv = [sys.argv[1], "seed=-1"]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exit:
    heavy = [m for m in ("torch", "lightning", "transformers") if m in sys.modules]
    print(exit.code, heavy)
"""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "src/train.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - start
    assert out.stdout.split("\n")[0] == "1 []", out.stdout + out.stderr
    assert "error: seed must be an integer ≥ 0, got -1" in out.stderr
    print(f"config error reported in {elapsed:.1f} s")
