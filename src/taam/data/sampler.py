"""The mixture sampler: which language and which sequence fills each row of a batch.

The languages of global batch ``step`` are a pure function of (seed, step, π), so every
rank draws the same global batch and a resumed run draws what the uninterrupted one
would have. Each language walks its own seeded permutation of sequences, one epoch
after another, so exposures, epochs and unique tokens seen are exact counts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from taam.data.shards import LanguageShard
from taam.errors import DataExhausted

log = logging.getLogger(__name__)


@dataclass
class Batch:
    tokens: np.ndarray  # [rows, T + 1] int64: inputs are [:, :-1], targets [:, 1:]
    language: np.ndarray  # [rows] language index


class MixtureSampler:
    def __init__(
        self,
        shards: Mapping[str, LanguageShard],
        languages: Sequence[str],
        global_batch: int,
        seed: int,
        epoch_cap: float = 10.0,
    ) -> None:
        self.languages = tuple(languages)
        self.shards = [shards[lang] for lang in self.languages]
        self.sizes = np.array([s.num_sequences for s in self.shards], dtype=np.int64)
        empty = [lang for lang, n in zip(self.languages, self.sizes, strict=True) if n == 0]
        if empty:
            raise ValueError(
                f"{', '.join(empty)} has fewer tokens than one sequence; lower model.seq_len "
                f"or give it more data."
            )
        self.seq_len = self.shards[0].seq_len
        self.global_batch = global_batch
        self.seed = seed
        self.epoch_cap = epoch_cap
        self.set_rank(0, 1)
        self.step = 0
        self.drawn = np.zeros(len(self.languages), dtype=np.int64)  # sequences per language
        self.capped_at: dict[str, int] = {}  # language -> step it reached the epoch cap
        # E[n_i] = Σ_t B·π_t,i over the current update window, π after the epoch cap
        self.expected_draws = np.zeros(len(self.languages))
        self._perms: dict[tuple[int, int], np.ndarray] = {}

    def set_rank(self, rank: int, world_size: int) -> None:
        """Take rows ``[rank·b, (rank+1)·b)`` of each global batch, b = global batch / world size."""
        if self.global_batch % world_size:
            raise ValueError(
                f"train.global_batch={self.global_batch} is not divisible by {world_size} ranks; "
                f"choose a multiple of the number of devices."
            )
        per_rank = self.global_batch // world_size
        self.rows = slice(rank * per_rank, (rank + 1) * per_rank)

    # -- the pure part ------------------------------------------------------------------
    def available(self) -> np.ndarray:
        """Languages that can take a whole global batch without passing the epoch cap."""
        return self.drawn + self.global_batch <= self.epoch_cap * self.sizes

    def effective_pi(self, pi: np.ndarray) -> np.ndarray:
        """π with capped languages removed and the rest renormalised."""
        pi = np.where(self.available(), np.asarray(pi, dtype=np.float64), 0.0)
        if pi.sum() <= 0:
            raise DataExhausted(
                f"every language reached the epoch cap of {self.epoch_cap} at step {self.step}"
            )
        return pi / pi.sum()

    def languages_for(self, step: int, pi: np.ndarray) -> np.ndarray:
        """The languages of global batch ``step``: i.i.d. draws from π, seeded by (seed, step)."""
        rng = np.random.default_rng([self.seed, step])
        return rng.choice(len(pi), size=self.global_batch, p=pi)

    def sequence_index(self, lang: int, position: int) -> int:
        """The ``position``-th sequence language ``lang`` shows: epoch e walks permutation e."""
        epoch, offset = divmod(position, int(self.sizes[lang]))
        key = (lang, epoch)
        if key not in self._perms:
            self._perms = {k: v for k, v in self._perms.items() if k[0] != lang}
            rng = np.random.default_rng([self.seed, 1 + lang, epoch])
            self._perms[key] = rng.permutation(int(self.sizes[lang]))
        return int(self._perms[key][offset])

    # -- drawing ------------------------------------------------------------------------
    def draw(self, pi: np.ndarray) -> Batch:
        """The next global batch's rows for this rank; advances the cursors."""
        pi = self.effective_pi(pi)
        self.expected_draws += self.global_batch * pi
        langs = self.languages_for(self.step, pi)
        positions = self.drawn[langs] + _rank_within(langs)  # each row's position in its language
        rows = np.arange(self.global_batch)[self.rows]
        tokens = np.stack(
            [
                self.shards[langs[r]].sequence(self.sequence_index(langs[r], positions[r]))
                for r in rows
            ]
        ).astype(np.int64)
        self.drawn += np.bincount(langs, minlength=len(self.languages))
        self.step += 1
        self._note_caps()
        return Batch(tokens=tokens, language=langs[rows])

    def _note_caps(self) -> None:
        for i in np.flatnonzero(~self.available()):
            lang = self.languages[i]
            if lang not in self.capped_at:
                self.capped_at[lang] = self.step
                log.warning(
                    "epoch cap: '%s' has been shown %.2f epochs and leaves π from step %d",
                    lang,
                    self.epochs()[i],
                    self.step,
                )

    def close_window(self) -> np.ndarray:
        """E[n_i] of the window just ended (the importance weight's denominator); start a new one."""
        expected, self.expected_draws = self.expected_draws, np.zeros(len(self.languages))
        return expected

    # -- exact counts -------------------------------------------------------------------
    def exposures_tokens(self) -> np.ndarray:
        return self.drawn * self.seq_len

    def epochs(self) -> np.ndarray:
        return self.drawn / self.sizes

    def unique_tokens_seen(self) -> np.ndarray:
        return np.minimum(self.drawn, self.sizes) * self.seq_len

    def counts(self) -> dict[str, dict[str, float]]:
        """Per language: exposures (tokens), unique tokens seen, epochs."""
        return {
            lang: {
                "exposures_tokens": int(self.exposures_tokens()[i]),
                "unique_tokens_seen": int(self.unique_tokens_seen()[i]),
                "epochs": float(self.epochs()[i]),
            }
            for i, lang in enumerate(self.languages)
        }

    def state_dict(self) -> dict:
        return {
            "step": self.step,
            "drawn": self.drawn.tolist(),
            "capped_at": dict(self.capped_at),
            "expected_draws": self.expected_draws.tolist(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.step = int(state["step"])
        self.drawn = np.array(state["drawn"], dtype=np.int64)
        self.capped_at = dict(state["capped_at"])
        self.expected_draws = np.array(state["expected_draws"], dtype=np.float64)


def _rank_within(values: np.ndarray) -> np.ndarray:
    """For each element, how many equal elements come before it (0, 1, 2, … per value)."""
    order = np.argsort(values, kind="stable")
    sorted_vals = values[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_vals)) + 1]
    counts = np.diff(np.r_[starts, len(values)])
    ranks_sorted = np.arange(len(values)) - np.repeat(starts, counts)
    ranks = np.empty_like(ranks_sorted)
    ranks[order] = ranks_sorted
    return ranks
