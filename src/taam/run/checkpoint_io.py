"""How ``last.ckpt`` is written: finite weights only, staged next to the file, disk-full clear.

Lightning's default writer stages through ``$TMPDIR`` (fsspec), so a small ``/tmp`` failed
runs whose run directory had room. :class:`StagedCheckpointIO` writes a temporary sibling
and renames it. :func:`check_finite_weights` is the gate every checkpoint and export
passes (on every rank, before the collective save), so a model whose parameters went NaN
after an optimiser step is never saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from taam.errors import TaamError
from taam.io import staged


class NonFiniteWeights(TaamError, RuntimeError):
    """The parameters hold NaN or infinity; nothing was written."""


class CorruptCheckpoint(TaamError, RuntimeError):
    """``last.ckpt`` cannot be loaded."""


def check_finite_weights(tensors: Iterable[torch.Tensor], what: str) -> None:
    """Refuse to write ``what`` unless every floating-point tensor is finite (one device sync)."""
    checks = [t.detach().isfinite().all() for t in tensors if t.is_floating_point()]
    if checks and not bool(torch.stack([c.cpu() for c in checks]).all()):
        raise NonFiniteWeights(
            f"the model's parameters became non-finite (NaN or inf), so {what} was not written "
            f"and the last good checkpoint was kept; lower train.lr or check the data, then resume."
        )


def tensor_bytes(obj: Any) -> int:
    """Bytes of the tensors in a (nested) checkpoint: what its file needs, roughly."""
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(tensor_bytes(v) for v in obj)
    return 0


class StagedCheckpointIO(TorchCheckpointIO):
    """``torch.save`` into a temporary sibling, then rename: a kill leaves the old file whole."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None
    ) -> None:
        path = Path(path)
        # Through a Python file, so that a full disk surfaces as the OSError behind torch's error.
        with staged(path, tensor_bytes(checkpoint)) as tmp, tmp.open("wb") as f:
            torch.save(checkpoint, f)


def checkpoint_step(path: Path) -> int:
    """The global step ``last.ckpt`` holds; a file that cannot be read is a one-line error."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
        return int(checkpoint["global_step"])
    except Exception as err:  # torch raises many types for a torn or foreign file
        raise CorruptCheckpoint(
            f"{path} cannot be read ({type(err).__name__}: {err}); it is truncated or not a "
            f"TAAM checkpoint. Nothing was changed: restore a good copy, or start a new run "
            f"without resume=true."
        ) from None
