"""The checkpoints of a run directory: which, in what order, and how to load one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from taam.errors import EvalError
from taam.publish.export import MILESTONE_PREFIX, STATE_FILE, milestone_dirs

FINAL = "final"
WEIGHT_SUFFIXES = (".safetensors", ".bin")


@dataclass(frozen=True)
class Checkpoint:
    name: str  # chck_<N>M or final
    path: Path
    exposures_tokens: int


def list_checkpoints(run_dir: Path) -> list[Checkpoint]:
    """``checkpoints/chck_<N>M`` by N, then ``final``; exposures from their taam_state.json."""
    paths = [*milestone_dirs(run_dir), *([run_dir / FINAL] if (run_dir / FINAL).is_dir() else [])]
    if not paths:
        raise EvalError(
            f"{run_dir} has no checkpoints: neither checkpoints/{MILESTONE_PREFIX}<N>M/ nor "
            f"{FINAL}/. Point run_dir at a run that has trained past its first milestone, or "
            "let the training finish (it exports final/)."
        )
    return [Checkpoint(p.name, p, _exposures(p)) for p in paths]


def _exposures(path: Path) -> int:
    state = path / STATE_FILE
    if not state.is_file():
        raise EvalError(
            f"{path} has no {STATE_FILE}, so its token exposures are unknown; it was not "
            "exported by TAAM training. Remove it from the run directory or re-export it."
        )
    return int(json.loads(state.read_text(encoding="utf-8"))["exposures_tokens"])


def weights_fingerprint(path: Path) -> list[tuple[str, int, int]]:
    """(name, size, mtime_ns) of the weight files: changes whenever the weights are rewritten."""
    files = sorted(p for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES)
    if not files:
        raise EvalError(f"{path} holds no weights (*.safetensors or *.bin); re-export it.")
    return [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]


def load_checkpoint(
    path: Path, device: torch.device
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The model (float32, eval mode, on ``device``) and tokenizer, with no project code."""
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(device).eval()
    return model, AutoTokenizer.from_pretrained(path)


def pick_device(name: str) -> torch.device:
    """``auto``: the GPU when there is one, else the CPU; any other name is used as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
