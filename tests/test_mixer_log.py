"""MixerLog (mixer.csv): column order, time at floor, starvation warnings, restore; plot_pi."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pytest

from taam.mixer.log import MixerLog, mixer_columns
from taam.report.plots import plot_pi

LANGS = ("eng", "zho")


def record(pi_zho: float, at_floor: int) -> dict:
    return {
        "pi_eng": 1 - pi_zho,
        "pi_zho": pi_zho,
        "reward_raw_eng": 0.01,
        "reward_raw_zho": float("nan"),  # no reward this window: an empty cell
        "reward_eng": 1.0,
        "reward_zho": float("nan"),
        "loss_smoothed_nats_per_eng_byte_eng": 1.5,
        "loss_smoothed_nats_per_eng_byte_zho": 2.5,
        "at_floor_eng": 0,
        "at_floor_zho": at_floor,
    }


def test_columns_have_a_fixed_order():
    per_language = [
        "pi_{}",
        "reward_raw_{}",
        "reward_{}",
        "loss_smoothed_nats_per_eng_byte_{}",
        "at_floor_{}",
    ]
    expected = ["step", "exposures_tokens", "signal"]
    expected += [c.format("eng") for c in per_language] + [c.format("zho") for c in per_language]
    assert mixer_columns(LANGS) == expected


def test_static_rows_hold_pi_only(tmp_path):
    log = MixerLog(LANGS)
    log.append(10, 320, {}, pi=np.array([0.25, 0.75]), signal="dev")
    path = log.write(tmp_path / "mixer.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    filled = {"step": "10", "exposures_tokens": "320", "signal": "dev"}
    filled |= {"pi_eng": "0.25", "pi_zho": "0.75"}
    assert rows == [dict.fromkeys(mixer_columns(LANGS), "") | filled]
    assert log.time_at_floor() == {"eng": 0.0, "zho": 0.0}


def test_time_at_floor_and_mean_pi():
    log = MixerLog(LANGS, window=100)
    for i, flag in enumerate([0, 1, 1, 1]):
        log.append(10 * (i + 1), 100 * (i + 1), record(0.05 if flag else 0.4, flag))
    assert log.time_at_floor() == {"eng": 0.0, "zho": 0.75}
    assert log.time_at_floor(since=2) == {"eng": 0.0, "zho": 1.0}
    assert log.mean_pi(since=2)["zho"] == pytest.approx(0.05)


def test_sitting_at_the_floor_warns_once_per_episode(caplog):
    log = MixerLog(LANGS, window=10, starve_fraction=0.8)
    with caplog.at_level(logging.WARNING, logger="taam.mixer.log"):
        flags = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1]  # 8 of the last 10: starved at the 10th update
        for step, flag in enumerate(flags + [1] * 5, start=1):
            log.append(step, step, record(0.05, flag))
            if step == 9:
                assert not caplog.records  # 7 of 9: not yet (and fewer than 10 updates)
    assert len(caplog.records) == 1
    assert (
        caplog.records[0]
        .getMessage()
        .startswith(
            "language zho sat at the floor in 8 of the last 10 mixer updates (from step 10): "
            "π_zho = 0.050"
        )
    )
    for step in range(16, 30):  # recovers ...
        log.append(step, step, record(0.4, 0))
    for step in range(30, 40):  # ... and relapses
        log.append(step, step, record(0.05, 1))
    assert len(caplog.records) == 2


def test_write_and_restore_round_trip(tmp_path):
    log = MixerLog(LANGS)
    for i in range(5):
        log.append(10 * (i + 1), 1000 * (i + 1), record(0.1 + 0.1 * i / 3, i % 2))
    path = log.write(tmp_path / "mixer.csv")
    restored = MixerLog.read(path, LANGS)
    assert restored.rows == log.rows  # exact floats; NaN comes back as None
    assert restored.rows[0]["reward_zho"] is None
    resumed = MixerLog.read(path, LANGS, up_to_step=30)
    assert [r["step"] for r in resumed.rows] == [10, 20, 30]
    with pytest.raises(ValueError, match="columns"):
        MixerLog.read(path, ("eng", "nld"))


def test_plot_pi_writes_a_png(tmp_path):
    log = MixerLog(LANGS)
    for i in range(5):
        log.append(10 * (i + 1), 1000 * (i + 1), record(0.1, 0))
    csv_path = log.write(tmp_path / "mixer.csv")
    out = plot_pi(csv_path, tmp_path / "plots" / "pi.png", floor=0.05)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list((tmp_path / "plots").glob(".*tmp"))  # written atomically
