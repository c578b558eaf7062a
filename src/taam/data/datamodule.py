"""The run's LightningDataModule: prepared shards, the mixture sampler and the late draw.

* ``prepare_data``: sources → budget → tokenizer → shards, cached under a content key.
* ``setup``: the memory-mapped shards, the :class:`MixtureSampler` and this process's rank.
* ``train_dataloader``: a loader that only ticks (it yields the step number).
* ``on_before_batch_transfer``: draws the batch from the connected mixer's π right before
  the step. Drawing in the loader would let Lightning's one-batch prefetch see a stale π,
  and a resumed run would draw differently from the uninterrupted one.
* ``state_dict``/``load_state_dict``: the sampler's cursors, which Lightning checkpoints.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch
from omegaconf import DictConfig
from transformers import PreTrainedTokenizerBase

from taam.data.budget import check_ledger
from taam.data.prepare import PreparedData, prepare_data
from taam.data.sampler import MixtureSampler
from taam.errors import DataError
from taam.evaluation.scoring import encode_with_bos, windows
from taam.mixer.base import MixContext, Mixer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DevWindows:
    """The dev set: ``tokens [N, T + 1]``, ``scored [N, T]`` (targets that count: not padding,
    not scored by an earlier window), ``document [N]`` (the dev document each window comes
    from, numbered across languages) and ``document_language [D]``."""

    tokens: np.ndarray
    scored: np.ndarray
    document: np.ndarray
    document_language: np.ndarray

    @property
    def language(self) -> np.ndarray:
        """The language of each window ``[N]``."""
        return self.document_language[self.document]


class Ticks(torch.utils.data.IterableDataset):
    """Yields step numbers forever: the batch itself is drawn in ``on_before_batch_transfer``."""

    def __iter__(self) -> Iterator[int]:
        step = 0
        while True:
            yield step
            step += 1


class TaamDataModule(L.LightningDataModule):
    def __init__(
        self,
        data: Mapping,
        seq_len: int,
        global_batch: int,
        max_steps: int,
        seed: int,
        epoch_cap: float,
        cache_dir: str | Path,
    ) -> None:
        super().__init__()
        self.data = data  # the ``data`` config group
        self.seq_len, self.global_batch, self.max_steps = seq_len, global_batch, max_steps
        self.seed, self.epoch_cap, self.cache_dir = seed, epoch_cap, Path(cache_dir)
        self.languages = tuple(data["languages"])
        self.prepared: PreparedData | None = None
        self.sampler: MixtureSampler | None = None
        self.mixer: Mixer | None = None

    @classmethod
    def from_config(cls, cfg: DictConfig) -> TaamDataModule:
        """The data module a composed ``train`` config describes."""
        return cls(
            cfg.data,
            seq_len=int(cfg.model.seq_len),
            global_batch=int(cfg.train.global_batch),
            max_steps=int(cfg.train.max_steps),
            seed=int(cfg.seed),
            epoch_cap=float(cfg.train.epoch_cap),
            cache_dir=cfg.paths.cache_dir,
        )

    def connect(self, mixer: Mixer) -> None:
        """Attach the mixer whose π draws every batch (once, before training)."""
        if mixer.languages != self.languages:
            raise ValueError(f"the mixer's languages {mixer.languages} ≠ data {self.languages}")
        self.mixer = mixer

    # -- Lightning's data hooks -----------------------------------------------------------
    def prepare_data(self) -> None:
        """Select, tokenise and shard the data (once per process; the shards are cached)."""
        if self.prepared is None:
            self.prepared = prepare_data(self.data, self.seq_len, self.cache_dir)

    def setup(self, stage: str = "fit") -> None:
        """Check the budget and the plan, build the sampler once, and take this rank's rows."""
        if self.sampler is None:
            self.prepare_data()  # a no-op where it ran; ranks > 0 read the cached shards
            check_ledger(self.ledger)
            self.check_epoch_plan()
            self.sampler = MixtureSampler(
                self.prepared.shards.train,
                self.languages,
                self.global_batch,
                self.seed,
                self.epoch_cap,
            )
        if self.trainer is not None:
            self.sampler.set_rank(self.trainer.global_rank, self.trainer.world_size)

    def train_dataloader(self) -> torch.utils.data.DataLoader:
        return torch.utils.data.DataLoader(Ticks(), batch_size=None)

    def on_before_batch_transfer(self, batch: int, dataloader_idx: int) -> dict[str, torch.Tensor]:
        """This rank's rows of the next global batch, drawn from the mixer's current π."""
        drawn = self.sampler.draw(self.mixer.probs())
        tokens = torch.from_numpy(drawn.tokens)
        language = torch.from_numpy(drawn.language)
        if self.trainer is not None and self.trainer.strategy.root_device.type == "cuda":
            tokens, language = tokens.pin_memory(), language.pin_memory()
        return {"tokens": tokens, "language": language}

    def state_dict(self) -> dict:
        return {"sampler": self.sampler.state_dict()}

    def load_state_dict(self, state_dict: dict) -> None:
        self.sampler.load_state_dict(state_dict["sampler"])

    # -- what the rest of the run knows of the data ------------------------------------------
    @property
    def ledger(self) -> dict:
        """The budget ledger: per-language documents, bytes, words, tokens, byte premium."""
        return self.prepared.ledger

    @property
    def tokenizer_dir(self) -> Path:
        return self.prepared.tokenizer_dir

    def planned_exposures(self) -> int:
        """Token exposures of the whole run: steps × global batch × sequence length."""
        return self.max_steps * self.global_batch * self.seq_len

    def check_epoch_plan(self) -> None:
        """Refuse a run whose length needs more than the epoch cap of the budgeted data."""
        capacity = self.epoch_cap * float(self.prepared.shards.unique_tokens().sum())
        planned = self.planned_exposures()
        if planned > capacity:
            raise DataError(
                f"the run plans {planned:,} token exposures but {self.epoch_cap:g} epochs of the "
                f"budgeted data allow at most {capacity:,.0f}; lower train.max_steps to at most "
                f"{int(capacity // (self.global_batch * self.seq_len))} or raise the budget."
            )

    def mix_context(self) -> MixContext:
        """What a method sees of the data: sizes, byte premiums and the run's length."""
        rows = self.ledger["languages"]
        return MixContext(
            languages=self.languages,
            unique_tokens=self.prepared.shards.unique_tokens(),
            byte_premium=np.array([rows[lang]["byte_premium"] for lang in self.languages]),
            total_tokens=self.planned_exposures(),
            epoch_cap=self.epoch_cap,
            seed=self.seed,
            cache_dir=self.cache_dir,
            tokens_per_sequence=self.seq_len,
        )

    def units_per_token(self, unit: str) -> np.ndarray:
        """Milestone units per token exposure: 1 (tokens) or English-equivalent words per token."""
        if unit == "tokens":
            return np.ones(len(self.languages))
        if unit == "words":
            rows = self.ledger["languages"]
            return np.array(
                [rows[g]["english_equivalent_words"] / rows[g]["tokens"] for g in self.languages]
            )
        raise DataError(f"train.milestone_unit must be tokens or words, got '{unit}'.")

    def dev_set(self, per_language: int, tokenizer: PreTrainedTokenizerBase) -> DevWindows:
        """The mixer's fixed dev set, scored as the evaluation scores held-out text.

        Each dev document is encoded as [BOS] + its tokens (no EOS) and cut into windows of
        T + 1 tokens whose targets are scored once each (``taam.evaluation.scoring.windows``
        with stride T); a short window is padded and its padding masked. Up to
        ``per_language`` windows per language, evenly spaced over its documents: the same rows
        on every rank and in every run of this data. A language without dev text is refused.
        ``tokenizer``: the run's own (the one in ``tokenizer_dir``).
        """
        pad = tokenizer.eos_token_id
        rows, masks, documents, document_language = [], [], [], []
        for i, lang in enumerate(self.languages):
            texts = self.prepared.shards.dev_texts(lang)
            if not texts:
                raise DataError(
                    f"'{lang}' has no dev text; raise data.dev_fraction (the dev split's share "
                    f"of the budget) or steer by the training loss with signal=train."
                )
            first_document = len(document_language)
            document_language += [i] * len(texts)
            spans = [
                (d, doc, start, end, first)
                for d, doc in enumerate(encode_with_bos(tokenizer, texts), start=first_document)
                for start, end, first in windows(len(doc), self.seq_len, self.seq_len)
            ]
            picked = np.linspace(0, len(spans) - 1, min(per_language, len(spans))).round()
            scored_documents = set()
            for d, doc, start, end, first in (spans[int(k)] for k in picked):
                window = np.full(self.seq_len + 1, pad, dtype=np.int64)
                window[: end - start] = doc[start:end]
                scored = np.zeros(self.seq_len, dtype=bool)
                scored[first - start - 1 : end - start - 1] = True  # target t is window[t + 1]
                rows.append(window)
                masks.append(scored)
                documents.append(d)
                scored_documents.add(d)
            if len(scored_documents) < 2:
                log.warning(
                    "'%s' has fewer than two dev documents: its dev loss has no standard error, "
                    "so v2 with reward.margin > 0 will not tilt π; raise data.dev_fraction.",
                    lang,
                )
        return DevWindows(
            np.stack(rows),
            np.stack(masks),
            np.array(documents, dtype=np.int64),
            np.array(document_language, dtype=np.int64),
        )

    def copy_heldout(self, out_dir: Path) -> None:
        """The held-out texts travel with the run, so evaluation needs only the run directory."""
        out_dir.mkdir(exist_ok=True)
        root = self.prepared.shards.root
        for lang in self.languages:
            shutil.copyfile(root / lang / "heldout.jsonl", out_dir / f"{lang}.jsonl")
