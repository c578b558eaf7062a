"""Fit a simulation preset to real learning curves: ``python src/fit_curves.py RUN_DIR...``.

For each language, the window losses of ``metrics.csv`` (``bpb_<lang>`` bits per byte, turned
into nats per English-equivalent byte, ℓ_i × BP_i, what the mixer compares) against the
sequences of that language seen before the window (``exposures_tokens_<lang>`` / seq_len) are
fitted by least squares to L_i(n) = a_i + b_i·(n + 1)^(−c_i), leaving out the learning-rate
warm-up (its losses fall for another reason than data). The preset keeps the run's scale
(steps, batch, sequence length, unique tokens per language) so the epoch cap binds as it did
in training. Its noise σ is the spread of successive window-to-window differences of the
relative residual (/√2, robust to misfit), scaled to one sequence by √n_i.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf
from scipy.optimize import curve_fit

from taam.languages import byte_premiums


def power_law(n: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """L(n) = a + b·(n + 1)^(−c)."""
    return a + b * (n + 1.0) ** -c


def language_curve(rows: list[dict], lang: str, seq_len: int, bp: float) -> tuple[np.ndarray, ...]:
    """(n before each window, ℓ·BP in nats per English-equivalent byte, sequences in the window).

    ``rows`` must start at the run's first window: the draws are differences of exposures.
    """
    exposures = np.array([float(r[f"exposures_tokens_{lang}"]) for r in rows]) / seq_len
    loss = np.array([float(r[f"bpb_{lang}"]) for r in rows]) * math.log(2) * bp
    drawn = np.diff(np.r_[0.0, exposures])
    return exposures - drawn, loss, drawn  # the window's loss was measured before its draws


def fit_language(n: np.ndarray, loss: np.ndarray) -> tuple[float, float, float]:
    """Least-squares a, b, c ≥ 0 of L(n) = a + b·(n + 1)^(−c)."""
    guess = (float(loss.min()) * 0.8, float(loss.max() - loss.min()) * 2, 0.3)
    params, _ = curve_fit(
        power_law, n, loss, p0=guess, bounds=([0, 0, 0], [np.inf, np.inf, 3.0]), maxfev=20000
    )
    return tuple(float(p) for p in params)


def read_run(run_dir: Path) -> tuple[dict, list[dict]]:
    """(resolved config, metrics.csv rows that carry per-language losses) of one run."""
    cfg = OmegaConf.to_container(OmegaConf.load(run_dir / "config.yaml"), resolve=True)
    with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r.get("exposures_tokens")]
    return cfg, rows


def fit_preset(run_dirs: list[Path], name: str = "fitted") -> dict:
    """The preset dict (``configs/simulation/<name>.yaml``) fitted to ``run_dirs`` pooled."""
    curves, noise, unique = {}, [], {}
    runs = [read_run(Path(d)) for d in run_dirs]
    cfg = runs[0][0]
    languages = tuple(cfg["data"]["languages"])
    seq_len = int(cfg["model"]["seq_len"])
    bp = {lang: b.value for lang, b in byte_premiums(languages).items()}
    for lang in languages:
        parts = []
        for run_cfg, rows in runs:
            n, loss, drawn = language_curve(rows, lang, seq_len, bp[lang])
            step = np.array([float(r["step"]) for r in rows])
            keep = (drawn > 0) & (step > int(run_cfg["train"]["warmup_steps"]))
            parts.append((n[keep], loss[keep], drawn[keep]))
        a, b, c = fit_language(*(np.concatenate(p) for p in list(zip(*parts, strict=True))[:2]))
        curves[lang] = {"a": round(a, 5), "b": round(b, 5), "c": round(c, 5)}
        for n, loss, drawn in parts:  # σ/√n_i of one window → σ of one sequence
            residual = (loss / power_law(n, a, b, c) - 1.0) * np.sqrt(drawn)
            noise.append(float(np.std(np.diff(residual)) / np.sqrt(2)))
        epochs = np.array([float(r[f"epochs_{lang}"]) for r in runs[0][1]])
        tokens = np.array([float(r[f"exposures_tokens_{lang}"]) for r in runs[0][1]])
        unique[lang] = round(float(tokens[-1] / epochs[-1]))
    return {
        "name": name,
        "fitted_from": [str(d) for d in run_dirs],
        "steps": int(cfg["train"]["max_steps"]),
        "sequences_per_step": int(cfg["train"]["global_batch"]),
        "tokens_per_sequence": seq_len,
        "noise": round(float(np.mean(noise)), 4),
        "transfer": 0.0,
        "curves": curves,
        "unique_tokens": unique,
    }


def write_preset(preset: dict, out: Path, note: str) -> Path:
    """Write the preset as YAML with a header that says where it came from."""
    header = "\n".join(f"# {line}" for line in note.splitlines())
    body = OmegaConf.to_yaml(OmegaConf.create(preset))
    out.write_text(f"{header}\n{body}", encoding="utf-8")
    return out
