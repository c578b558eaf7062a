"""Training throughput: TAAM's full step against a plain compiled Hugging Face loop.

    python bench/throughput.py --preset cpu     # tiny Llama, ratio only (this machine)
    python bench/throughput.py --preset gpu     # ~100M Llama, 64 × 512 tokens per step, bf16

In one process and on the same model config and batch size it times

(a) the peer: a plain PyTorch loop over the Hugging Face model (bf16 autocast on a GPU, SDPA,
    fused AdamW on a GPU, ``torch.compile`` unless ``--no-compile``), full-logits cross-entropy;
(b) TAAM: ``taam.training.train`` exactly as ``src/train.py`` runs it (Lightning Trainer,
    mixture sampler, EXP3 mixer updates, per-language statistics, logging), method pstar.

It prints one JSON line per configuration: tokens/s, MFU (6N + 12·L·d·T FLOPs per token
against 989 TFLOP/s dense bf16; N without position embeddings), peak memory, and for TAAM
the ratio (b)/(a) and the share of step time spent in the sampler and the mixer. Warm-up
steps are excluded; steps that wrote an export are excluded too (a run amortises them).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from transformers import AutoTokenizer

from taam.data.prepare import prepare_data
from taam.data.sampler import MixtureSampler
from taam.mixer.exp3 import Exp3Mixer
from taam.model import build_model, count_parameters
from taam.training import train

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
PEAK_FLOPS = 989e12  # H100/H200 dense bf16
PRESETS = {
    "cpu": {"model": "llama_tiny", "trainer": "cpu", "global_batch": 32, "vocab": 4096},
    "gpu": {"model": "llama_100m", "trainer": "gpu", "global_batch": 64, "vocab": 16384},
}


def config(preset: str, steps: int, run_dir: Path, cache: Path, compile_model: bool):
    p = PRESETS[preset]
    overrides = [
        f"model={p['model']}",
        f"trainer={p['trainer']}",
        "method=pstar",
        f"train.global_batch={p['global_batch']}",
        f"train.max_steps={steps}",
        f"train.checkpoint_every_steps={10**9}",
        f"train.compile={compile_model}",
        "train.plots=false",
        f"data.tokenizer.vocab_size={p['vocab']}",
        f"run_dir={run_dir}",
        f"paths.cache_dir={cache}",
    ]
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        return compose(config_name="train", overrides=overrides)


def flops_per_token(model, seq_len: int) -> float:
    """6N + 12·L·d·T (N: parameters without position embeddings)."""
    cfg = model.config
    n = count_parameters(model)
    position = getattr(model.base_model, "wpe", None)
    if position is not None:
        n -= position.weight.numel()
    return 6 * n + 12 * cfg.num_hidden_layers * cfg.hidden_size * seq_len


def peak_memory_gb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # process RSS (KiB → GiB)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class StepTimer(L.Callback):
    """Wall time of each step after the warm-up; flags steps that wrote an export."""

    def __init__(self, warmup: int, run_dir: Path) -> None:
        self.warmup, self.run_dir = warmup, run_dir
        self.times: list[float] = []
        self.last = None
        self.exports = 0

    def _exports(self) -> int:
        folder = self.run_dir / "checkpoints"
        return len(list(folder.iterdir())) if folder.exists() else 0

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if module.sampler.step == self.warmup:
            sync(module.device)
            self.last = time.perf_counter()
        elif module.sampler.step > self.warmup:
            sync(module.device)
            now, exports = time.perf_counter(), self._exports()
            if exports == self.exports:
                self.times.append(now - self.last)
            self.last, self.exports = now, exports


@contextmanager
def timed(owner, name: str, totals: dict[str, float]):
    """Accumulate the wall time spent in ``owner.name`` into ``totals[name]``."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[name] = totals.get(name, 0.0) + time.perf_counter() - start

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        setattr(owner, name, original)


def run_taam(cfg, warmup: int, steps: int, device: torch.device) -> dict:
    timer = StepTimer(warmup, Path(cfg.run_dir))
    totals: dict[str, float] = {}
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    # pstar builds an Exp3Mixer, whose update overrides the base class's: time that one.
    with timed(MixtureSampler, "draw", totals), timed(Exp3Mixer, "update", totals):
        train(cfg, callbacks=[timer])
    step_s = float(np.mean(timer.times))
    overhead = (totals.get("draw", 0.0) + totals.get("update", 0.0)) / (warmup + steps)
    return {
        "step_s": step_s,
        "overhead_share": overhead / step_s,
        "memory_gb": peak_memory_gb(device),
    }


def run_peer(
    cfg, shards, warmup: int, steps: int, device: torch.device, compile_model: bool
) -> dict:
    """The plain loop: random sequences from the same shards, full-logits cross-entropy."""
    torch.manual_seed(0)
    model = build_model(AutoTokenizer.from_pretrained(shards.tokenizer_dir), **cfg.model).to(device)
    fused = device.type == "cuda"
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), fused=fused)
    step_fn = torch.compile(model) if compile_model else model
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    rng = np.random.default_rng(0)
    batch = int(cfg.train.global_batch)
    shard_list = list(shards.train.values())
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for step in range(warmup + steps):
        sync(device)
        start = time.perf_counter()
        shard = shard_list[step % len(shard_list)]
        rows = rng.integers(0, shard.num_sequences, batch)
        x = torch.from_numpy(np.stack([shard.sequence(int(r)) for r in rows]).astype(np.int64))
        if device.type == "cuda":
            x = x.pin_memory()
        x = x.to(device, non_blocking=True)
        with autocast:
            logits = step_fn(input_ids=x[:, :-1]).logits
            loss = F.cross_entropy(logits.flatten(0, 1).float(), x[:, 1:].flatten())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync(device)
        if step >= warmup:
            times.append(time.perf_counter() - start)
    return {"step_s": float(np.mean(times)), "memory_gb": peak_memory_gb(device), "model": model}


def report(
    name: str, preset: str, device, result: dict, tokens_per_step: int, flops: float, **extra
) -> dict:
    tokens_s = tokens_per_step / result["step_s"]
    line = {
        "bench": "throughput",
        "preset": preset,
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "loop": name,
        "tokens_per_step": tokens_per_step,
        "step_ms": round(result["step_s"] * 1e3, 2),
        "tokens_per_s": round(tokens_s),
        "mfu": round(tokens_s * flops / PEAK_FLOPS, 4) if device.type == "cuda" else None,
        "peak_memory_gb": round(result["memory_gb"], 2),
        **extra,
    }
    print(json.dumps(line), flush=True)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--no-compile", dest="compile", action="store_false", default=None)
    args = parser.parse_args()
    device = torch.device("cuda" if args.preset == "gpu" else "cpu")
    compile_model = args.compile if args.compile is not None else device.type == "cuda"
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config(
            args.preset,
            args.warmup + args.steps,
            Path(tmp) / "run",
            Path(tmp) / "cache",
            compile_model,
        )
        data = prepare_data(cfg.data, int(cfg.model.seq_len), cfg.paths.cache_dir)
        tokens_per_step = int(cfg.train.global_batch) * int(cfg.model.seq_len)
        peer = run_peer(cfg, data.shards, args.warmup, args.steps, device, compile_model)
        flops = flops_per_token(peer.pop("model"), int(cfg.model.seq_len))
        report(
            "peer_hf_loop",
            args.preset,
            device,
            peer,
            tokens_per_step,
            flops,
            compiled=compile_model,
        )
        taam = run_taam(cfg, args.warmup, args.steps, device)
        report(
            "taam",
            args.preset,
            device,
            taam,
            tokens_per_step,
            flops,
            compiled=compile_model,
            ratio_vs_peer=round(peer["step_s"] / taam["step_s"], 3),
            sampler_mixer_share=round(taam["overhead_share"], 4),
            projected_655M_minutes=round(655_360_000 / (tokens_per_step / taam["step_s"]) / 60, 1),
        )


if __name__ == "__main__":
    main()
