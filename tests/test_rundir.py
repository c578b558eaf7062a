"""Run identity and names, config.yaml's run_dir, and what a resume may change."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from omegaconf import OmegaConf

from taam.errors import RunDirError
from taam.mixer.dro import GroupDroMixer
from taam.run.identity import RunIdentity
from taam.run.rundir import check_resume, saved_config, write_config
from taam.schema import validate_train_config
from tests_support import compose_config

DAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        (["method=pstar", "seed=1337"], "2026-11-26_Pstar-cld-dev_seed1337"),
        (["method=pstar", "objective=mean", "signal=train"], "2026-11-26_Pstar-nel-train_seed1"),
        (
            ["experiment=babylm2026", "method=pstar", "seed=1337"],
            "2026-11-26_babylm2026_Pstar-cld-dev_seed1337",
        ),
        (["method=odm", "reward=cross_lingual_deficit"], "2026-11-26_ODM-train_seed1"),
        (["method=odm_validation"], "2026-11-26_ODMValidation-dev_seed1"),
        (["method=uniform", "preset=mine"], "2026-11-26_mine_Uniform_seed1"),
    ],
)
def test_run_names_carry_the_preset_and_the_reward_only_where_it_is_used(overrides, name):
    assert RunIdentity.of(compose_config(overrides)).name(DAY) == name


def test_the_identity_record_names_the_reward_only_for_methods_that_learn_from_it():
    assert RunIdentity.of(compose_config(["method=exp3", "objective=mean"])).record() == {
        "method": "Exp3",
        "reward": "normalized_excess_loss",
        "objective": "mean",
        "signal": "dev",
        "seed": 1,
    }
    odm = RunIdentity.of(compose_config(["method=odm"])).record()
    assert odm["reward"] is None and odm["objective"] is None and odm["signal"] == "train"
    static = RunIdentity.of(compose_config(["method=uniform"])).record()
    assert static["signal"] is None  # a static π steers by nothing


def saved_run(tmp_path, overrides: list[str]):
    cfg = compose_config(overrides)
    write_config(tmp_path, cfg)
    (tmp_path / "ledger.json").write_text(json.dumps({"data_key": "k"}))
    return tmp_path


def test_config_yaml_records_the_run_dir_the_run_used(tmp_path):
    saved_run(tmp_path, ["method=uniform"])
    assert OmegaConf.load(tmp_path / "config.yaml").run_dir == str(tmp_path)


def test_a_resume_may_change_the_reward_only_where_the_method_ignores_it(tmp_path):
    odm = saved_run(tmp_path / "odm", ["method=odm"])
    cfg = compose_config(["method=odm", "reward=cross_lingual_deficit"])
    check_resume(odm, cfg, RunIdentity.of(cfg), "k")
    exp3 = saved_run(tmp_path / "exp3", ["method=exp3"])
    with pytest.raises(RunDirError, match="reward cross_lingual_deficit → normalized_excess_loss"):
        cfg = compose_config(["method=exp3", "objective=mean"])
        check_resume(exp3, cfg, RunIdentity.of(cfg), "k")
    with pytest.raises(RunDirError, match="data/tokenizer k → other"):
        cfg = compose_config(["method=exp3"])
        check_resume(exp3, cfg, RunIdentity.of(cfg), "other")


def test_a_run_of_an_earlier_taam_resumes_with_the_settings_it_was_written_with(tmp_path):
    """An earlier config.yaml kept γ under method.mixer and had no margin on v2: it is read in
    today's keys with its own values (γ 0.1, margin 0), validates, and matches that config."""
    run_dir = saved_run(tmp_path, ["method=pstar"])
    old = OmegaConf.load(run_dir / "config.yaml")
    old.method.mixer.gamma = 0.1
    del old.reward.policy["gamma"], old.reward["margin"], old.reward.fn["margin"]
    OmegaConf.save(old, run_dir / "config.yaml")

    saved = saved_config(run_dir)
    assert "gamma" not in saved.method.mixer and saved.reward.policy.gamma == 0.1
    assert saved.reward.margin == 0.0
    validate_train_config(saved)
    check_resume(run_dir, saved, RunIdentity.of(saved), "k")  # nothing changed
    with pytest.raises(RunDirError, match=r"reward\.margin 0\.0 → 1\.0"):
        now = compose_config(["method=pstar", "reward.policy.gamma=0.1"])  # today: margin 1
        check_resume(run_dir, now, RunIdentity.of(now), "k")


def test_a_horizon_run_with_the_absolute_floor_resumes_with_the_same_floor(tmp_path):
    """Before floor_share, horizon's floor was absolute (0.1 for three languages)."""
    run_dir = saved_run(tmp_path, ["method=horizon"])
    old = OmegaConf.load(run_dir / "config.yaml")
    old.method.mixer.floor = 0.1
    del old.method.mixer["floor_share"]
    OmegaConf.save(old, run_dir / "config.yaml")

    saved = saved_config(run_dir)
    assert "floor" not in saved.method.mixer
    assert saved.method.mixer.floor_share == 0.3
    now = compose_config(["method=horizon"])
    check_resume(run_dir, now, RunIdentity.of(now), "k")  # nothing changed


def test_a_doremi_run_from_before_the_window_check_resumes(tmp_path):
    run_dir = saved_run(tmp_path, ["method=doremi", "method.mixer.reference_run=/ref"])
    old = OmegaConf.load(run_dir / "config.yaml")
    del old.method.mixer["update_interval"]
    OmegaConf.save(old, run_dir / "config.yaml")
    now = compose_config(["method=doremi", "method.mixer.reference_run=/ref"])
    check_resume(run_dir, now, RunIdentity.of(now), "k")  # nothing changed


def test_a_group_dro_run_from_before_the_absent_rule_resumes_as_it_was_written(tmp_path):
    """Its config has no `absent`: it resumes with the official 0 it ran with, and its
    checkpointed mixer state (no last losses) loads."""
    run_dir = saved_run(tmp_path, ["method=group_dro"])
    old = OmegaConf.load(run_dir / "config.yaml")
    del old.method.mixer["absent"]
    OmegaConf.save(old, run_dir / "config.yaml")

    saved = saved_config(run_dir)
    assert saved.method.mixer.absent == "zero"
    validate_train_config(saved)
    check_resume(run_dir, saved, RunIdentity.of(saved), "k")  # nothing changed
    mixer = GroupDroMixer(["eng", "nld"], np.ones(2), absent="zero")
    mixer.load_state_dict({"languages": ["eng", "nld"], "q": [0.4, 0.6], "updates": 3})
    assert mixer.last_loss.tolist() == [0.0, 0.0] and mixer.probs().tolist() == [0.4, 0.6]


def test_a_run_from_before_heldout_unused_resumes_with_the_split_alone(tmp_path):
    run_dir = saved_run(tmp_path, ["method=uniform"])
    old = OmegaConf.load(run_dir / "config.yaml")
    del old.data["heldout_unused"]
    OmegaConf.save(old, run_dir / "config.yaml")

    assert saved_config(run_dir).data.heldout_unused is False
    now = compose_config(["method=uniform"])
    check_resume(run_dir, now, RunIdentity.of(now), "k")  # nothing changed
    wider = compose_config(["method=uniform", "data.heldout_unused=true"])
    with pytest.raises(RunDirError, match="heldout_unused"):
        check_resume(run_dir, wider, RunIdentity.of(wider), "k")
