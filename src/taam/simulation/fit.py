"""Fit a simulation preset to real learning curves: ``python src/fit_curves.py RUN_DIR...``.

Losses are turned into nats per English-equivalent byte (bits per byte × ln 2 × BP_i, what the
mixer compares) and set against the sequences of each language seen (``exposures_tokens_<lang>``
/ seq_len), leaving out the learning-rate warm-up (its losses fall for another reason than
data). The preset keeps the run's scale (steps, batch, sequence length, unique tokens per
language) so the epoch cap binds as it did in training.

A run with a dev signal (``dev_bpb_<lang>`` in ``metrics.csv``, scored every ``signal.every``
steps, every run logs it) gives the held-out curve and the memorisation gap:

1. L̂_i(n) = a_i + b_i·(n + 1)^(−c_i), least squares on the dev losses from the end of the
   warm-up on, n the sequences seen when the dev set was scored.
2. The training windows (after the warm-up) against L̂_i at the window's mean exposure:
   train/L̂_i = (1 − g(e))/(1 + δ_i), g(e) = b·max(0, e − 1)^p, e the window's mean epochs of
   language i; least squares over all languages for b and p, and an offset δ_i per language.
   δ_i is mostly *scoring*, not text: the training windows are the token stream (EOS and BOS
   targets carry nats and no bytes, more of them where documents are short, as in zho), the
   dev set is scored document by document as the evaluation scores held-out text; the rest
   is the dev set's own fixed-set bias (sd σ/√S), which cannot be told apart from it.
3. The preset's curve is the dev curve, L_i = L̂_i: the dev set is scored as the evaluation
   scores, so it is the objective's measure (its bias stays in; the simulator draws a new dev
   bias per run on top). The training signal is L_i·(1 − g(e))·(1 + o_i), o_i = 1/(1 + δ_i) − 1
   (``train_offset``).
4. σ (``noise``): the spread of successive window-to-window differences of the training
   window's relative residual around that training signal (/√2, robust to misfit), scaled to one
   sequence by √n_i. σ_dev (``dev_noise``): the same spread of the dev losses around L̂_i.

Without dev losses, L_i is fitted to the window losses against the sequences seen before the
window and the preset has no memorisation gap (the fit of runs before the dev signal).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf
from scipy.optimize import curve_fit, least_squares

from taam.languages import byte_premiums
from taam.simulation.world import Memorisation


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


def has_dev(rows: list[dict], languages: tuple[str, ...]) -> bool:
    """The run logged dev losses (``dev_bpb_<lang>``) for every language."""
    return all(any(r.get(f"dev_bpb_{lang}") for r in rows) for lang in languages)


def dev_curve(rows: list[dict], lang: str, seq_len: int, bp: float) -> tuple[np.ndarray, ...]:
    """(steps, n when the dev set was scored, dev loss ℓ·BP) of the rows with a dev loss."""
    dev = [r for r in rows if r.get(f"dev_bpb_{lang}")]
    step = np.array([float(r["step"]) for r in dev])
    n = np.array([float(r[f"exposures_tokens_{lang}"]) for r in dev]) / seq_len
    loss = np.array([float(r[f"dev_bpb_{lang}"]) for r in dev]) * math.log(2) * bp
    return step, n, loss


def fit_memorisation(
    epochs: np.ndarray, ratio: np.ndarray, language: np.ndarray, k: int
) -> tuple[np.ndarray, float, float]:
    """(δ [K], b, p): least squares of ratio = (1 − b·max(0, e − 1)^p)/(1 + δ_language)."""

    def residual(x: np.ndarray) -> np.ndarray:
        gap = Memorisation(float(x[k]), float(x[k + 1]))(epochs)
        return (1.0 - gap) / (1.0 + x[:k][language]) - ratio

    start = np.r_[np.zeros(k), 0.03, 0.7]
    lower, upper = np.r_[np.full(k, -0.5), 0.0, 0.05], np.r_[np.full(k, 0.5), 0.99, 5.0]
    x = least_squares(residual, start, bounds=(lower, upper)).x
    return x[:k], float(x[k]), float(x[k + 1])


def _spread(residual: np.ndarray) -> float:
    """sd of successive differences / √2: the noise of a series, robust to a slow misfit."""
    return float(np.std(np.diff(residual)) / np.sqrt(2))


def fit_preset(run_dirs: list[Path], name: str = "fitted") -> dict:
    """The preset dict (``configs/simulation/<name>.yaml``) fitted to ``run_dirs`` pooled."""
    runs = [read_run(Path(d)) for d in run_dirs]
    languages = tuple(runs[0][0]["data"]["languages"])
    if all(has_dev(rows, languages) for _, rows in runs):
        return _fit_with_dev(runs, name, [str(d) for d in run_dirs])
    return _fit_windows(runs, name, [str(d) for d in run_dirs])


def _scale(cfg: dict, runs: list[tuple[dict, list[dict]]]) -> tuple[dict, dict]:
    """(the run's scale: steps, batch, sequence length; unique tokens per language)."""
    languages = tuple(cfg["data"]["languages"])
    unique = {}
    for lang in languages:
        epochs = np.array([float(r[f"epochs_{lang}"]) for r in runs[0][1]])
        tokens = np.array([float(r[f"exposures_tokens_{lang}"]) for r in runs[0][1]])
        unique[lang] = round(float(tokens[-1] / epochs[-1]))
    scale = {
        "steps": int(cfg["train"]["max_steps"]),
        "sequences_per_step": int(cfg["train"]["global_batch"]),
        "tokens_per_sequence": int(cfg["model"]["seq_len"]),
    }
    return scale, unique


def _fit_with_dev(runs: list[tuple[dict, list[dict]]], name: str, sources: list[str]) -> dict:
    """Held-out curves from the dev losses, the memorisation gap from the training windows."""
    cfg = runs[0][0]
    languages = tuple(cfg["data"]["languages"])
    seq_len = int(cfg["model"]["seq_len"])
    bp = {lang: b.value for lang, b in byte_premiums(languages).items()}
    scale, unique = _scale(cfg, runs)
    heldout, dev_noise, windows = {}, [], []  # windows: (run, language, at, loss, drawn, epochs)
    for i, lang in enumerate(languages):
        devs = []
        for run_cfg, rows in runs:
            warmup = int(run_cfg["train"]["warmup_steps"])
            step, n, loss = dev_curve(rows, lang, seq_len, bp[lang])
            devs.append((n[step >= warmup], loss[step >= warmup]))
        heldout[lang] = fit_language(*(np.concatenate(p) for p in zip(*devs, strict=True)))
        dev_noise += [_spread(loss / power_law(n, *heldout[lang]) - 1.0) for n, loss in devs]
        for r, (run_cfg, rows) in enumerate(runs):
            before, loss, drawn = language_curve(rows, lang, seq_len, bp[lang])
            step = np.array([float(row["step"]) for row in rows])
            interval = int(run_cfg["method"]["update_interval"])
            # the window's losses were measured before each of its steps: its mean exposure
            at = before + drawn * (interval - 1) / (2 * interval)
            per_epoch = float(rows[-1][f"exposures_tokens_{lang}"]) / seq_len
            per_epoch /= float(rows[-1][f"epochs_{lang}"])
            keep = (drawn > 0) & (step > int(run_cfg["train"]["warmup_steps"]))
            windows.append((r, i, at[keep], loss[keep], drawn[keep], at[keep] / per_epoch))
    ratio = np.concatenate(
        [loss / power_law(at, *heldout[languages[i]]) for _, i, at, loss, *_ in windows]
    )
    epochs = np.concatenate([w[5] for w in windows])
    which = np.concatenate([np.full(len(w[2]), w[1]) for w in windows])
    offset, b, p = fit_memorisation(epochs, ratio, which, len(languages))
    gap = Memorisation(b, p)
    curves = {
        lang: {"a": round(a, 5), "b": round(b_i, 5), "c": round(c, 5)}
        for lang, (a, b_i, c) in heldout.items()
    }
    # train/L = (1 − g)/(1 + δ): the training windows' scoring offset o = 1/(1 + δ) − 1
    train_offset = 1.0 / (1.0 + offset) - 1.0
    noise = []
    for _, i, at, loss, drawn, e in windows:
        curve = curves[languages[i]]
        train = power_law(at, curve["a"], curve["b"], curve["c"]) * (1.0 - gap(e))
        train *= 1.0 + train_offset[i]
        noise.append(_spread((loss / train - 1.0) * np.sqrt(drawn)))
    return {
        "name": name,
        "fitted_from": sources,
        **scale,
        "noise": round(float(np.mean(noise)), 4),
        "dev_noise": round(float(np.mean(dev_noise)), 4),
        "memorisation": {"b": round(b, 5), "p": round(p, 4)},
        "transfer": 0.0,
        "curves": curves,
        "unique_tokens": unique,
        "train_offset": {
            lang: round(float(train_offset[i]), 4) for i, lang in enumerate(languages)
        },
    }


def _fit_windows(runs: list[tuple[dict, list[dict]]], name: str, sources: list[str]) -> dict:
    """Curves from the training windows alone (a run without dev losses): no memorisation."""
    curves, noise = {}, []
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
            noise.append(_spread((loss / power_law(n, a, b, c) - 1.0) * np.sqrt(drawn)))
    scale, unique = _scale(cfg, runs)
    return {
        "name": name,
        "fitted_from": sources,
        **scale,
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
