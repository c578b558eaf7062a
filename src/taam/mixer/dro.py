"""Group DRO (Sagawa et al. 2020, Algorithm 1, the online algorithm) over languages.

Source: kohpangwei/group_DRO, ``loss.py``, ``LossComputer.compute_robust_loss`` (with
``compute_group_avg``): after each minibatch, with ℓ_i the mean loss of group i in the batch
(0 for a group absent from it) and step size η (``--robust_step_size``, default 0.01),

    q_i ← q_i · exp(η·ℓ_i),    q ← q / Σ_j q_j          q starts uniform

Here the groups are languages, ℓ_i the window's training loss in nats per English-equivalent
byte (Σ NLL / Σ bytes × BP_i; there is no dev split yet), and q is the sampling distribution
π (the official code weights the groups' losses by q and leaves the sampling alone: at a fixed
batch the two have the same expected gradient, Σ_i q_i·∇ℓ_i). The defaults of the official
code are kept: no generalisation adjustment (``adj`` = 0), no loss normalisation.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from taam.mixer.base import MixContext, Mixer, WindowStats


class GroupDroMixer(Mixer):
    """π = q, the adversarial group weights of online Group DRO."""

    adaptive = True

    def __init__(
        self,
        languages: tuple[str, ...] | list[str],
        byte_premium: np.ndarray,
        eta: float = 0.01,
        warmup_steps: int = 0,
    ) -> None:
        super().__init__(languages)
        if eta <= 0 or warmup_steps < 0:
            raise ValueError(f"need η > 0 and warmup_steps ≥ 0, got {eta}, {warmup_steps}")
        self.byte_premium = np.asarray(byte_premium, dtype=np.float64)
        self.eta, self.warmup_steps = eta, warmup_steps
        self.q = np.full(self.k, 1.0 / self.k)
        self.updates = 0

    @classmethod
    def from_context(cls, context: MixContext, **params) -> GroupDroMixer:
        return cls(context.languages, context.byte_premium, **params)

    def probs(self) -> np.ndarray:
        return self.q.copy()

    def update(self, step: int, stats: WindowStats) -> dict[str, float]:
        loss = stats.nats_per_byte() * self.byte_premium
        group_loss = np.where(np.asarray(stats.sequences) > 0, np.nan_to_num(loss), 0.0)
        if step > self.warmup_steps:
            # in log space: the same q, with no overflow however long the run
            log_q = np.log(self.q) + self.eta * group_loss
            self.q = np.exp(log_q - log_q.max())
            self.q /= self.q.sum()
            self.updates += 1
        row: dict[str, float] = {}
        for i, lang in enumerate(self.languages):
            row[f"pi_{lang}"] = float(self.q[i])
            row[f"reward_raw_{lang}"] = float(loss[i])
            row[f"reward_{lang}"] = float(group_loss[i])
        return row

    def state_dict(self) -> dict:
        return {"languages": list(self.languages), "q": self.q.tolist(), "updates": self.updates}

    def load_state_dict(self, state: Mapping) -> None:
        self.check_state_languages(state)
        self.q = np.array(state["q"], dtype=np.float64)
        self.updates = int(state["updates"])
