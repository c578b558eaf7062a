"""Training throughput: TAAM's full step against a plain compiled Hugging Face loop.

    python bench/throughput.py --preset cpu     # tiny Llama, ratio only (this machine)
    python bench/throughput.py --preset gpu     # ~100M Llama, 64 × 512 tokens per step, bf16
    make bench-gpu                              # the GPU preset after a machine check, ≤ 5 min

In one process and on the same model config and batch size it times

(a) the peer: a plain PyTorch loop over the Hugging Face model (bf16 autocast on a GPU, SDPA,
    fused AdamW, ``torch.compile`` unless ``--no-compile``), full-logits cross-entropy;
(b) TAAM: ``taam.run.training.train`` exactly as ``src/train.py`` runs it (Lightning Trainer,
    mixture sampler, EXP3 mixer updates, per-language statistics, logging), method pstar.

It prints one JSON line per loop, then a markdown table: tokens/s, MFU (6N + 12·L·H·Q·T FLOPs
per token against the GPU's dense bf16 peak; see the README), peak memory, and for TAAM the
ratio (b)/(a), the share of step time spent drawing batches and in sampler + mixer, the dev
signal's cost (one scoring of the dev set, every ``DEV_EVERY`` steps here, against the
training step: ``dev_cost`` is that cost at the default ``signal.every``), and the projected
minutes for 655,360,000 exposures. Warm-up steps are excluded. The device is
synchronised only where the timed steps start and end, so each loop's data draw overlaps the
work already queued, as in a run; no export may fall in the timed steps (by default 30 steps
in all, under the first milestone at 1M exposures).
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from torch.nn.attention import SDPBackend, sdpa_kernel
from transformers import AutoTokenizer, PreTrainedModel

from taam.data.prepare import prepare_data
from taam.data.sampler import MixtureSampler
from taam.mixer.exp3 import Exp3Mixer
from taam.model.build import build_model, count_parameters
from taam.model.module import TaamModule
from taam.report.markdown import markdown_table
from taam.run.training import train

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
DEV_EVERY = 10  # the dev set is scored every 10 steps here, so that the timed steps hold some
DEFAULT_EVERY = int(OmegaConf.load(CONFIGS / "signal" / "dev.yaml").every)  # signal.every
EXPOSURES = 655_360_000  # the BabyLM run: 20,000 steps × 64 × 512 tokens
# Dense (no sparsity) bf16 tensor-core peaks from NVIDIA's data sheets, matched in this order.
PEAK_BF16_FLOPS = {"H100 PCIe": 756e12, "H100 NVL": 835e12, "H100": 989e12, "H200": 989e12}
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
        f"signal.every={DEV_EVERY}",
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


def matmul_parameters(model: PreTrainedModel) -> int:
    """N: the weights each token multiplies: all but the input and position embeddings
    (look-ups), with the LM head counted even when it is tied to the input embedding."""
    n = count_parameters(model) - model.get_input_embeddings().weight.numel()
    position = getattr(model.base_model, "wpe", None)
    if position is not None:
        n -= position.weight.numel()
    head = model.get_output_embeddings().weight
    return n + head.numel() if head is model.get_input_embeddings().weight else n


def flops_per_token(model: PreTrainedModel, seq_len: int) -> float:
    """Training FLOPs per token, 6N + 12·L·H·Q·T (PaLM, appendix B; H·Q = d, T = seq_len)."""
    cfg = model.config
    return 6 * matmul_parameters(model) + 12 * cfg.num_hidden_layers * cfg.hidden_size * seq_len


def peak_flops(device_name: str) -> float:
    """The dense bf16 peak of ``device_name`` (first key of PEAK_BF16_FLOPS it contains)."""
    for key, flops in PEAK_BF16_FLOPS.items():
        if key in device_name:
            return flops
    raise SystemExit(
        f"bench: no dense bf16 peak known for '{device_name}'; pass --peak-tflops "
        f"(the data-sheet figure without sparsity)."
    )


def check_gpu() -> str:
    """The GPU's name, once it has bf16 and SDPA's flash kernel; a one-line error otherwise."""
    if not torch.cuda.is_available():
        raise SystemExit(
            "bench-gpu: no CUDA GPU is visible (torch.cuda.is_available() is False); run it on "
            "a GPU machine with a CUDA build of torch, or `make bench` for the CPU preset."
        )
    name = torch.cuda.get_device_name()
    if not torch.cuda.is_bf16_supported():
        raise SystemExit(f"bench-gpu: {name} has no bf16 support; use an H100 or H200.")
    q = torch.randn(1, 12, 512, 64, device="cuda", dtype=torch.bfloat16)
    try:
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            F.scaled_dot_product_attention(q, q, q, is_causal=True)
    except RuntimeError as err:
        raise SystemExit(
            f"bench-gpu: SDPA's flash kernel is not available on {name} with torch "
            f"{torch.__version__} ({str(err).splitlines()[0]}); install a CUDA build of torch "
            f"with flash attention (sm80+)."
        ) from None
    return name


def peak_memory_gb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # process RSS (KiB → GiB)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class StepTimer(L.Callback):
    """Mean step time from the end of the warm-up to the end of the last step.

    The device is synchronised only at those two ends, so the draw of step t + 1 overlaps
    step t's queued work as in a real run. Exports (milestones) must not fall in between.
    """

    def __init__(self, warmup: int, last: int, run_dir: Path) -> None:
        self.warmup, self.last, self.exports = warmup, last, run_dir / "checkpoints"
        self.marks: list[tuple[float, int]] = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if module.sampler.step in (self.warmup, self.last):
            sync(module.device)
            exports = len(list(self.exports.iterdir())) if self.exports.exists() else 0
            self.marks.append((time.perf_counter(), exports))

    def step_s(self) -> float:
        (start, exports_before), (end, exports_after) = self.marks
        if exports_after != exports_before:
            raise SystemExit("bench: a milestone export fell in the timed steps; lower --steps.")
        return (end - start) / (self.last - self.warmup)


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
    timer = StepTimer(warmup, warmup + steps, Path(cfg.run_dir))
    totals: dict[str, float] = {}
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    # pstar builds an Exp3Mixer, whose update overrides the base class's: time that one.
    with (
        timed(MixtureSampler, "draw", totals),
        timed(Exp3Mixer, "update", totals),
        timed(TaamModule, "dev_stats", totals),
    ):
        train(cfg, callbacks=[timer])
    evaluations = (warmup + steps) // DEV_EVERY
    dev_s = totals.get("dev_stats", 0.0) / evaluations if evaluations else None  # one scoring
    # the timed steps hold steps // DEV_EVERY scorings: the training step without them
    step_s = timer.step_s() - (dev_s or 0.0) * (steps // DEV_EVERY) / steps
    draw, update = (totals.get(name, 0.0) / (warmup + steps) for name in ("draw", "update"))
    return {
        "step_s": step_s,
        "draw_share": draw / step_s,
        "overhead_share": (draw + update) / step_s,
        "dev_eval_s": dev_s,
        "dev_cost": None if dev_s is None else dev_s / (DEFAULT_EVERY * step_s),
        "memory_gb": peak_memory_gb(device),
    }


def run_peer(
    cfg, shards, warmup: int, steps: int, device: torch.device, compile_model: bool
) -> dict:
    """The plain loop: random sequences from the same shards, full-logits cross-entropy."""
    torch.manual_seed(0)
    model = build_model(AutoTokenizer.from_pretrained(shards.tokenizer_dir), **cfg.model).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), fused=True)
    step_fn = torch.compile(model) if compile_model else model
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    rng = np.random.default_rng(0)
    batch = int(cfg.train.global_batch)
    shard_list = list(shards.train.values())
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for step in range(warmup + steps):
        if step == warmup:  # synchronised only here and at the end, as StepTimer does
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
    step_s = (time.perf_counter() - start) / steps
    return {"step_s": step_s, "memory_gb": peak_memory_gb(device), "model": model}


def report(
    name: str, preset: str, device_name: str, result: dict, tokens_per_step: int, **extra
) -> dict:
    """One JSON line (printed) for one loop; ``extra`` adds its own fields."""
    line = {
        "bench": "throughput",
        "preset": preset,
        "device": device_name,
        "loop": name,
        "tokens_per_step": tokens_per_step,
        "step_ms": round(result["step_s"] * 1e3, 2),
        "tokens_per_s": round(tokens_per_step / result["step_s"]),
        "peak_memory_gb": round(result["memory_gb"], 2),
        **extra,
    }
    print(json.dumps(line), flush=True)
    return line


def mfu(tokens_per_s: float, flops: float, peak: float | None) -> float | None:
    """Model FLOPs utilisation: achieved model FLOP/s over the peak (None without a peak)."""
    return round(tokens_per_s * flops / peak, 4) if peak else None


TABLE = {
    "loop": "loop",
    "tokens_per_s": "tokens/s",
    "mfu": "MFU",
    "peak_memory_gb": "peak memory (GiB)",
    "ratio_vs_peer": "ratio vs peer",
    "sampler_mixer_share": "sampler + mixer share",
    "draw_share": "draw share",
    "dev_cost": "dev signal cost (at signal.every)",
    "projected_655M_minutes": "minutes for 655,360,000 exposures",
}


def table(lines: list[dict]) -> str:
    """The JSON lines as a markdown table, headed by the device."""
    header = f"**{lines[0]['device']}**, {lines[0]['tokens_per_step']:,} tokens per step"
    rows = [{k: "–" if line.get(k) is None else line[k] for k in TABLE} for line in lines]
    return "\n".join([header, "", *markdown_table(list(TABLE), rows, {"loop"}, TABLE)])


def projected_minutes(tokens_per_s: float) -> float:
    return round(EXPOSURES / tokens_per_s / 60, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--warmup", type=int, default=10)
    # 30 steps × 64 × 512 = 983,040 tokens: under the first milestone export (1M)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--no-compile", dest="compile", action="store_false", default=None)
    parser.add_argument("--peak-tflops", type=float, help="dense bf16 peak (default: by GPU)")
    parser.add_argument("--timeout", type=int, default=0, help="seconds before giving up")
    args = parser.parse_args()
    if args.timeout:
        signal.signal(signal.SIGALRM, _out_of_time(args.timeout))
        signal.alarm(args.timeout)
    device = torch.device("cuda" if args.preset == "gpu" else "cpu")
    device_name = check_gpu() if device.type == "cuda" else "cpu"
    peak = args.peak_tflops * 1e12 if args.peak_tflops else None
    if device.type == "cuda" and peak is None:
        peak = peak_flops(device_name)
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
        peer_tokens_s = tokens_per_step / peer["step_s"]
        lines = [
            report(
                "peer_hf_loop",
                args.preset,
                device_name,
                peer,
                tokens_per_step,
                mfu=mfu(peer_tokens_s, flops, peak),
                flops_per_token=flops,
                compiled=compile_model,
                projected_655M_minutes=projected_minutes(peer_tokens_s),
            )
        ]
        taam = run_taam(cfg, args.warmup, args.steps, device)
        taam_tokens_s = tokens_per_step / taam["step_s"]
        lines.append(
            report(
                "taam",
                args.preset,
                device_name,
                taam,
                tokens_per_step,
                mfu=mfu(taam_tokens_s, flops, peak),
                flops_per_token=flops,
                compiled=compile_model,
                ratio_vs_peer=round(peer["step_s"] / taam["step_s"], 3),
                sampler_mixer_share=round(taam["overhead_share"], 4),
                draw_share=round(taam["draw_share"], 4),
                dev_eval_ms=_rounded(taam["dev_eval_s"] and taam["dev_eval_s"] * 1e3, 1),
                dev_cost=_rounded(taam["dev_cost"], 4),
                projected_655M_minutes=projected_minutes(taam_tokens_s),
            )
        )
    print(table(lines), flush=True)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _out_of_time(seconds: int):
    def handler(signum, frame):
        raise SystemExit(f"bench: stopped at its {seconds} s limit (compilation included).")

    return handler


if __name__ == "__main__":
    main()
