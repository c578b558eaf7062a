"""The benchmarks run and print their JSON lines (their figures are read by people, not asserted)."""

import json
import subprocess
import sys

import pytest

from tests_support import ROOT

pytestmark = pytest.mark.slow


def json_lines(args: list[str]) -> list[dict]:
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def test_throughput_bench_prints_peer_and_taam():
    peer, taam = json_lines(
        ["bench/throughput.py", "--preset", "cpu", "--warmup", "2", "--steps", "3"]
    )
    assert peer["loop"] == "peer_hf_loop" and taam["loop"] == "taam"
    assert peer["tokens_per_step"] == taam["tokens_per_step"] == 32 * 128
    assert taam["ratio_vs_peer"] > 0 and 0 <= taam["sampler_mixer_share"] < 1
    assert taam["tokens_per_s"] > 0 and peer["tokens_per_s"] > 0


def test_data_prep_bench_prints_rates_and_projection():
    (line,) = json_lines(["bench/data_prep.py", "--repeat", "1", "--vocab-size", "2048"])
    assert line["encode_batch_mb_per_s"] > 0 and line["projected_babylm_shard_minutes"] > 0
    assert 500 < line["babylm_budget_mb"] < 600  # 100M words × 5.43 MB × mean BP
