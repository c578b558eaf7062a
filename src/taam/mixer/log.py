"""``mixer.csv``: one row per mixer update, plus time-at-floor and starvation warnings.

Columns, in this order: ``step``, ``exposures_tokens``, ``signal`` (the losses the row's update
learnt from: ``dev`` or ``train``), then for each language ``pi_``,
``reward_raw_``, ``reward_``, ``loss_smoothed_nats_per_eng_byte_``, ``at_floor_`` (static methods fill only
``pi_``). The at-floor flag comes from the mixer (see ``taam.mixer.exp3.FLOOR_TOLERANCE``);
a language is *held at the floor* (warned once) when it sat there in at least
``starve_fraction`` of the last ``window`` updates. Whether that starves it depends on γ: the
floor γ/K is 3% of the data for γ = 0.1, K = 3, but 70% of the uniform share for γ = 0.7.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from taam.io import write_csv

log = logging.getLogger(__name__)

QUANTITIES = ("pi", "reward_raw", "reward", "loss_smoothed_nats_per_eng_byte", "at_floor")


def mixer_columns(languages: tuple[str, ...] | list[str]) -> list[str]:
    return ["step", "exposures_tokens", "signal"] + [
        f"{q}_{lang}" for lang in languages for q in QUANTITIES
    ]


def reward_snr(reward_raw: np.ndarray) -> float:
    """Signal-to-noise ratio of a raw reward, [updates, K], over its second half.

    Signal: the spread across languages of each language's mean reward, the part a policy
    can act on. Noise: the within-language standard deviation over updates (window noise).
    SNR = sd_i(mean_t r_i) / √(mean_i var_t r_i); NaN when no language has a reward.
    """
    half = np.asarray(reward_raw, dtype=np.float64)[len(reward_raw) // 2 :]
    scored = np.isfinite(half).sum(axis=0) >= 2
    if not scored.any():
        return float("nan")
    half = half[:, scored]
    noise = math.sqrt(float(np.mean(np.nanvar(half, axis=0))))
    signal = float(np.std(np.nanmean(half, axis=0)))
    return signal / noise if noise > 0 else float("inf")


def _float(value) -> float:
    return float("nan") if value is None else float(value)


class MixerLog:
    """Accumulates mixer updates, writes ``mixer.csv`` atomically and watches for starvation."""

    def __init__(
        self, languages: tuple[str, ...] | list[str], window: int = 50, starve_fraction: float = 0.8
    ) -> None:
        self.languages = tuple(languages)
        self.columns = mixer_columns(self.languages)
        self.window, self.starve_fraction = window, starve_fraction
        self.rows: list[dict[str, float | int | str | None]] = []
        self.starved: set[str] = set()

    def append(
        self,
        step: int,
        exposures_tokens: int,
        record: Mapping[str, float],
        pi: np.ndarray | None = None,
        signal: str = "train",
    ) -> dict:
        """Add one update: ``record`` from ``mixer.update``; ``pi`` fills π where it has none."""
        row: dict[str, float | int | str | None] = {
            "step": int(step),
            "exposures_tokens": int(exposures_tokens),
            "signal": signal,
        }
        if pi is not None:
            row |= {f"pi_{lang}": float(p) for lang, p in zip(self.languages, pi, strict=True)}
        row |= {key: _clean(value) for key, value in record.items() if key in self.columns}
        self.rows.append(row)
        self._watch_starvation()
        return row

    def _watch_starvation(self) -> None:
        """Warn once when a language comes to sit at the floor (again if it leaves and returns)."""
        for lang in self.languages:
            flags = [r.get(f"at_floor_{lang}") for r in self.rows[-self.window :]]
            flags = [f for f in flags if f is not None]
            starved = len(flags) == self.window and sum(flags) >= self.starve_fraction * self.window
            if starved and lang not in self.starved:
                log.warning(
                    "language %s sat at the floor in %d of the last %d mixer updates (from step "
                    "%s): π_%s = %.3f, the least the policy gives it (γ/K)",
                    lang,
                    sum(flags),
                    self.window,
                    self.rows[-1]["step"],
                    lang,
                    self._floor_pi(lang),
                )
                self.starved.add(lang)
            elif not starved:
                self.starved.discard(lang)

    def _floor_pi(self, lang: str) -> float:
        """π of ``lang`` at its latest update at the floor (its value there: γ/K)."""
        rows = [r for r in self.rows[-self.window :] if r.get(f"at_floor_{lang}")]
        return _float(rows[-1].get(f"pi_{lang}")) if rows else math.nan

    def time_at_floor(self, since: int = 0) -> dict[str, float]:
        """Fraction of the update rows from row ``since`` on with each language at the floor."""
        result = {}
        for lang in self.languages:
            flags = [r.get(f"at_floor_{lang}") for r in self.rows[since:]]
            flags = [f for f in flags if f is not None]
            result[lang] = sum(flags) / len(flags) if flags else 0.0
        return result

    def mean_pi(self, since: int = 0) -> dict[str, float]:
        """Mean π_i over the update rows from row ``since`` on."""
        rows = self.rows[since:]
        return {
            lang: float(np.mean([r[f"pi_{lang}"] for r in rows])) if rows else math.nan
            for lang in self.languages
        }

    def reward_snr(self) -> float | None:
        """:func:`reward_snr` of the raw rewards over the second half of the updates."""
        raw = np.array(
            [[_float(r.get(f"reward_raw_{lang}")) for lang in self.languages] for r in self.rows]
        )
        return reward_snr(raw) if raw.size else None

    def write(self, path: str | Path) -> Path:
        """Write ``mixer.csv`` atomically (missing values as empty cells)."""
        return write_csv(path, self.rows, self.columns)

    @classmethod
    def read(
        cls,
        path: str | Path,
        languages: tuple[str, ...] | list[str],
        up_to_step: int | None = None,
        **kwargs,
    ) -> MixerLog:
        """Restore from ``mixer.csv``; a resumed run keeps the rows up to ``up_to_step``."""
        mixer_log = cls(languages, **kwargs)
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != mixer_log.columns:
                raise ValueError(
                    f"{path} has columns {reader.fieldnames}, expected {mixer_log.columns}"
                )
            for raw in reader:
                row = {key: _parse(key, value) for key, value in raw.items()}
                if up_to_step is None or row["step"] <= up_to_step:
                    mixer_log.rows.append(row)
        return mixer_log


def _clean(value: float | int | None) -> float | int | None:
    """Python number, None for NaN (written as an empty cell)."""
    if value is None:
        return None
    if isinstance(value, (int, np.integer)):  # bools too: the at-floor flags
        return int(value)
    value = float(value)
    return None if math.isnan(value) else value


def _parse(key: str, value: str) -> float | int | str | None:
    if key == "signal":
        return value
    if value == "":
        return None
    if key in ("step", "exposures_tokens") or key.startswith("at_floor_"):
        return int(value)
    return float(value)
