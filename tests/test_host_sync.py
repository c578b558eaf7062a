"""No device-to-host sync inside a training step; exactly one where a window closes.

A real run (Lightning Trainer, progress bar, loggers, EXP3 mixer) goes through
:class:`HostReads`, which counts the calls that read device memory on the host: on a GPU
each waits for all the work queued before it, so the CPU could no longer run ahead.

On this CPU-only machine the module's device plays the GPU. A tensor counts as on the host
only once ``.cpu()`` (or a factory without a device) made it; every other tensor, the drawn
batch included, counts as on the device, which can only over-count. Counted:

* reads into Python or numpy: ``aten._local_scalar_dense`` (``.item()``, ``float()``,
  ``bool()``), ``.tolist()``, ``.numpy()``, and the copy ``.cpu()``;
* ops whose output size depends on the data: ``nonzero``, ``masked_select``, ``unique``,
  ``equal``, and indexing with a boolean mask;
* ``torch.tensor`` / ``torch.as_tensor`` of non-empty host data onto a device: a copy
  from pageable memory, which waits for the stream.

Not visible here: a ``.to("cpu")`` of a device tensor (on one device it cannot be told from
the batch's own ``.to(device)``); the code reads back with ``.cpu()``.
"""

from __future__ import annotations

from collections import Counter

import lightning as L
import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.weak import WeakIdKeyDictionary

from taam.logging.progress import per_language
from taam.run.training import train
from tests_support import compose_config

DATA_DEPENDENT = {"nonzero", "masked_select", "_unique2", "unique_dim", "unique_consecutive"}
SCALAR_READS = {"_local_scalar_dense", "equal"}
HOST_READS = {"cpu", "numpy", "tolist"}


class HostReads(TorchFunctionMode):
    """Counts host reads of device tensors, by the sampler step they fall in."""

    def __init__(self) -> None:
        super().__init__()
        self.module: L.LightningModule | None = None
        self.counts: Counter[int] = Counter()
        self.sites: dict[int, list[str]] = {}
        self.host = WeakIdKeyDictionary()  # tensors known to live in host memory
        self.dispatch = _DispatchReads(self)

    def step(self) -> int:
        return self.module.sampler.step if self.module is not None else -1

    def count(self, what: str) -> None:
        step = self.step()
        self.counts[step] += 1
        self.sites.setdefault(step, []).append(what)

    def on_host(self, tensor: object) -> bool:
        return not isinstance(tensor, torch.Tensor) or tensor in self.host

    def __enter__(self):
        self.dispatch.__enter__()
        return super().__enter__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        return self.dispatch.__exit__(*exc)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in HOST_READS and not self.on_host(args[0]):
            self.count(name)
        out = func(*args, **kwargs)
        if name == "cpu" or (name in ("tensor", "as_tensor") and "device" not in kwargs):
            self.host[out] = True
        elif name in ("tensor", "as_tensor") and out.numel() > 0:
            self.count(f"{name}(device=...)")
        return out


class _DispatchReads(TorchDispatchMode):
    """The dispatcher half of :class:`HostReads`: ops that read data the host must wait for."""

    def __init__(self, owner: HostReads) -> None:
        super().__init__()
        self.owner = owner

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name.split("::")[-1]
        if name in SCALAR_READS | DATA_DEPENDENT and not self.owner.on_host(args[0]):
            self.owner.count(name)
        elif name.startswith("index") and _has_bool_index(args):
            self.owner.count(f"{name} with a boolean mask")
        return func(*args, **(kwargs or {}))


def _has_bool_index(args) -> bool:
    indices = args[1] if len(args) > 1 and isinstance(args[1], list | tuple) else ()
    return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in indices)


class Attach(L.Callback):
    """Hands the module to the counter, which files each read under the sampler's step."""

    def __init__(self, reads: HostReads) -> None:
        self.reads = reads

    def on_fit_start(self, trainer, module) -> None:
        self.reads.module = module

    def on_train_end(self, trainer, module) -> None:
        self.bar = trainer.progress_bar_callback.get_metrics(trainer, module)


def test_the_counter_sees_each_kind_of_read():
    x = torch.arange(-2.0, 3.0)
    with HostReads() as reads:
        x.sum().item()  # _local_scalar_dense
        x.tolist()
        x[x > 0]  # a boolean mask: nonzero
        torch.tensor([1.0], device=x.device)  # pageable host data onto the device
        x.cpu().numpy()  # one read: .numpy() of the host copy is free
        torch.tensor([], device=x.device)  # nothing to copy
    assert reads.sites[-1] == [
        "_local_scalar_dense",
        "tolist",
        "index with a boolean mask",
        "tensor(device=...)",
        "cpu",
    ]


@pytest.mark.slow
def test_a_step_reads_nothing_back_and_a_window_close_once(tiny_overrides):
    steps, interval = 12, 5
    cfg = compose_config(
        [
            *tiny_overrides,
            "method=exp3",
            f"method.update_interval={interval}",
            f"train.max_steps={steps}",
            f"train.checkpoint_every_steps={10**6}",  # last.ckpt only at the end
            "trainer.log_every_n_steps=1",
            "trainer.precision=bf16-mixed",  # as on a GPU: autocast, the mixed-precision plugin
        ]
    )
    reads = HostReads()
    attach = Attach(reads)
    with reads:
        train(cfg, callbacks=[attach])
    # Steps 1 … steps − 1: the last one also ends the run (final checkpoint, exports).
    per_step = {step: reads.counts[step] for step in range(1, steps)}
    expected = {step: int(step % interval == 0) for step in range(1, steps)}
    assert per_step == expected, {s: reads.sites.get(s) for s in per_step if reads.counts[s]}
    assert reads.sites[interval] == ["cpu"]  # the window's one read: the reduced sums
    # the progress bar still shows the loss per language: the last window's, as floats
    module = reads.module
    losses = [module.window_losses[f"loss_{lang}"] for lang in module.mixer.languages]
    assert all(loss > 0 for loss in losses)
    assert attach.bar["loss"] == per_language(losses, module.mixer.languages, ".2f")
