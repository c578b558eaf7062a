"""Hugging Face exports: milestone checkpoints and the final model.

Each export is a directory that ``AutoModelForCausalLM`` / ``AutoTokenizer`` load with no
project code: safetensors weights, config, generation config, tokenizer files (BOS
defined), plus ``taam_state.json`` (π, exposures, unique tokens and epochs per language
at that moment). Directories are written under a temporary name and renamed, so a
crash mid-write leaves the previous export intact.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from transformers import GenerationConfig, PreTrainedModel

from taam.io import atomic_directory, write_json
from taam.run.checkpoint_io import check_finite_weights, tensor_bytes

STATE_FILE = "taam_state.json"
MILESTONE_PREFIX = "chck_"
MILESTONE = re.compile(rf"{MILESTONE_PREFIX}(\d+)M")


def babylm_milestones(limit_m: float) -> list[int]:
    """BabyLM 2026 milestones in millions: 1…9, 10…100 (step 10), 200…1000 (step 100), ≤ limit."""
    steps = [*range(1, 10), *range(10, 101, 10), *range(200, 1001, 100)]
    return [m for m in steps if m <= limit_m]


def milestone_name(millions: int) -> str:
    return f"{MILESTONE_PREFIX}{millions}M"


def milestone_dirs(run_dir: str | Path) -> list[Path]:
    """``checkpoints/chck_<N>M`` of a run, in order of N (none for a run that crossed none)."""
    numbered = {
        int(match.group(1)): p
        for p in (Path(run_dir) / "checkpoints").glob(f"{MILESTONE_PREFIX}*M")
        if (match := MILESTONE.fullmatch(p.name)) and p.is_dir()
    }
    return [numbered[n] for n in sorted(numbered)]


def export_hf(
    model: PreTrainedModel,
    tokenizer_dir: str | Path,
    out_dir: str | Path,
    state: Mapping,
    card: str | None = None,
) -> Path:
    """Write an HF-format directory atomically (replacing an older one only once complete)."""
    out_dir = Path(out_dir)
    check_finite_weights(model.parameters(), f"{out_dir.name}/")
    with atomic_directory(out_dir, tensor_bytes(model.state_dict())) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        config = model.config
        GenerationConfig(
            bos_token_id=config.bos_token_id,
            eos_token_id=config.eos_token_id,
            pad_token_id=config.pad_token_id,
        ).save_pretrained(tmp)
        for item in Path(tokenizer_dir).iterdir():
            shutil.copy2(item, tmp / item.name)
        write_json(tmp / STATE_FILE, dict(state))
        if card is not None:
            (tmp / "README.md").write_text(card, encoding="utf-8")
    return out_dir
