"""The benchmarks run and print their JSON lines (their figures are read by people, not asserted),
and the MFU arithmetic is the README's."""

import importlib.util
import json
import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForCausalLM, LlamaConfig

from tests_support import ROOT


def load_throughput():
    spec = importlib.util.spec_from_file_location("throughput", ROOT / "bench" / "throughput.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )


def json_lines(args: list[str]) -> list[dict]:
    return [json.loads(line) for line in run(args).stdout.splitlines() if line.startswith("{")]


@pytest.mark.slow
def test_throughput_bench_prints_peer_and_taam_and_a_table():
    out = run(["bench/throughput.py", "--preset", "cpu", "--warmup", "2", "--steps", "8"]).stdout
    peer, taam = (json.loads(line) for line in out.splitlines() if line.startswith("{"))
    assert peer["loop"] == "peer_hf_loop" and taam["loop"] == "taam"
    assert peer["tokens_per_step"] == taam["tokens_per_step"] == 32 * 128
    assert taam["ratio_vs_peer"] > 0 and 0 <= taam["draw_share"] <= taam["sampler_mixer_share"] < 1
    assert taam["tokens_per_s"] > 0 and peer["tokens_per_s"] > 0
    assert peer["mfu"] is None  # no peak FLOP/s for a CPU
    assert taam["dev_eval_ms"] > 0 and 0 < taam["dev_cost"] < 1  # scored once, at step 10
    table = out[out.index("**cpu**") :].splitlines()
    assert table[2].startswith("| loop | tokens/s | MFU |") and len(table) == 6
    assert table[4].startswith("| peer_hf_loop |") and table[5].startswith("| taam |")


def test_bench_gpu_without_a_gpu_fails_with_one_clear_line():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(SystemExit, match=r"^bench-gpu: no CUDA GPU is visible .*`make bench`"):
        load_throughput().check_gpu()  # what main() runs first with --preset gpu


def test_flops_per_token_is_the_readme_arithmetic():
    throughput = load_throughput()
    config = LlamaConfig(
        vocab_size=16384,
        hidden_size=768,
        intermediate_size=2048,
        num_hidden_layers=12,
        num_attention_heads=12,
        num_key_value_heads=12,
        tie_word_embeddings=True,
    )
    with torch.device("meta"):  # the BabyLM model's shapes, no memory
        tied = AutoModelForCausalLM.from_config(config)
        config.tie_word_embeddings = False
        untied = AutoModelForCausalLM.from_config(config)
    assert throughput.matmul_parameters(tied) == 97_536_768
    assert throughput.flops_per_token(tied, 512) == 585_220_608 + 56_623_104
    # untied: the head is a second matrix, the input embedding is still only a look-up
    assert throughput.matmul_parameters(untied) == 97_536_768
    assert sum(p.numel() for p in untied.parameters()) == 97_536_768 + 16384 * 768


@pytest.mark.parametrize(
    ("name", "tflops"),
    [("NVIDIA H100 80GB HBM3", 989), ("NVIDIA H100 PCIe", 756), ("NVIDIA H200", 989)],
)
def test_peak_flops_by_gpu_name(name, tflops):
    assert load_throughput().peak_flops(name) == tflops * 1e12


def test_an_unknown_gpu_asks_for_its_peak():
    with pytest.raises(SystemExit, match="--peak-tflops"):
        load_throughput().peak_flops("NVIDIA A10G")


@pytest.mark.slow
def test_data_prep_bench_prints_rates_and_projection():
    (line,) = json_lines(["bench/data_prep.py", "--repeat", "1", "--vocab-size", "2048"])
    assert line["encode_batch_mb_per_s"] > 0 and line["projected_babylm_shard_minutes"] > 0
    assert 500 < line["babylm_budget_mb"] < 600  # 100M words × 5.43 MB × mean BP
