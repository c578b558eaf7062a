"""The console progress bar, which shows the loss without reading the device at every step."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import RichProgressBar


class WindowLossBar(RichProgressBar):
    """Lightning's rich progress bar with the loss (nats/token) of the last closed window.

    The loss is the Python float the module keeps at each window close. Logging it with
    ``self.log(..., prog_bar=True)`` instead would leave a device tensor that Lightning reads back
    (``.item()``) at every later step: a host sync per step on a GPU.
    """

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict:
        metrics = super().get_metrics(trainer, pl_module)
        if pl_module.window_loss is not None:
            metrics["loss"] = round(pl_module.window_loss, 4)
        return metrics
