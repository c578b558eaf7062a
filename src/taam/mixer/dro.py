"""Group DRO (Sagawa et al. 2020, Algorithm 1, the online algorithm) over languages.

Source: kohpangwei/group_DRO, ``loss.py``, ``LossComputer.compute_robust_loss`` (with
``compute_group_avg``): after each minibatch, with ℓ_i the mean loss of group i in the batch
(0 for a group absent from it) and step size η (``--robust_step_size``, default 0.01),

    q_i ← q_i · exp(η·ℓ_i),    q ← q / Σ_j q_j          q starts uniform

Here the groups are languages, ℓ_i the window's training loss in nats per English-equivalent
byte (Σ NLL / Σ bytes × BP_i, from the training window or the dev set), and q is the sampling
distribution π (the official code weights the groups' losses by q and leaves the sampling alone:
at a fixed batch the two have the same expected gradient, Σ_i q_i·∇ℓ_i). The defaults of the
official code are kept: no generalisation adjustment (``adj`` = 0), no loss normalisation.

One change the sampling forces: a language absent from the window keeps its last observed loss
(``absent="last"``, DoReMi's convention) instead of the official 0 (``absent="zero"``). In the
official code absence is chance, independent of q; here q decides the draws, so with 0 a
language whose q·B falls below about 1 is absent from most windows, each absence shrinks its q
further, and it is never measured again: it starves and ends as the worst language, the
opposite of the objective (``tests/test_mixer_baselines.py::test_group_dro_absent_language``).
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
        absent: str = "last",
    ) -> None:
        super().__init__(languages)
        if eta <= 0 or warmup_steps < 0:
            raise ValueError(f"need η > 0 and warmup_steps ≥ 0, got {eta}, {warmup_steps}")
        if absent not in ("last", "zero"):
            raise ValueError(
                f"absent={absent!r}: use 'last' (an absent language keeps its last observed loss) "
                "or 'zero' (the official code's 0, which starves a language whose q·B < 1)"
            )
        self.byte_premium = np.asarray(byte_premium, dtype=np.float64)
        self.eta, self.warmup_steps, self.absent = eta, warmup_steps, absent
        self.q = np.full(self.k, 1.0 / self.k)
        self.last_loss = np.zeros(self.k)  # 0 until a language is first seen, as the official code
        self.updates = 0

    @classmethod
    def from_context(cls, context: MixContext, **params) -> GroupDroMixer:
        return cls(context.languages, context.byte_premium, **params)

    def probs(self) -> np.ndarray:
        return self.q.copy()

    def update(self, step: int, stats: WindowStats) -> dict[str, float]:
        loss = stats.nats_per_byte() * self.byte_premium
        present = np.asarray(stats.sequences) > 0
        fallback = self.last_loss if self.absent == "last" else np.zeros(self.k)
        group_loss = np.where(present, np.nan_to_num(loss), fallback)
        self.last_loss = np.where(present, group_loss, self.last_loss)
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
        return {
            "languages": list(self.languages),
            "q": self.q.tolist(),
            "last_loss": self.last_loss.tolist(),
            "updates": self.updates,
        }

    def load_state_dict(self, state: Mapping) -> None:
        self.check_state_languages(state)
        self.q = np.array(state["q"], dtype=np.float64)
        # a checkpoint from before absent=last kept no last losses (its run resumes with zero)
        self.last_loss = np.array(state.get("last_loss", np.zeros(self.k)), dtype=np.float64)
        self.updates = int(state["updates"])
