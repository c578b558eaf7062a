"""ODM, Group DRO and DoReMi against their official update rules, written out here.

Each reference below is a transcription of the official code (named in its docstring), kept
independent of ``taam.mixer``: plain dicts and floats, as the original. Each test runs 24+
steps with per-language losses that differ and move, and drives a language's π very low.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from omegaconf import OmegaConf

from taam.mixer.base import MixContext, WindowStats
from taam.mixer.doremi import DoremiMixer, ReferenceLosses, published_weights
from taam.mixer.dro import GroupDroMixer
from taam.mixer.log import MixerLog
from taam.mixer.odm import OdmMixer

LANGS = ("eng", "nld", "zho")
BP = np.array([1.0, 1.2, 0.8])
TOKENS = 31.0  # predicted tokens per sequence
BYTES = 100.0  # bytes per sequence: equal, so Σ nats / Σ bytes = the mean per sequence


# -- the official code, transcribed --------------------------------------------------------
class OfficialExp3:
    """alon-albalak/online-data-mixing, megatron/data/data_sampling_utils.py:
    Exp3WeightUpdater.__init__ and group_update, called through
    DynamicDataSamplingWeight.group_update / UpdateScheduler.requires_update."""

    def __init__(self, names, weights, warmup_steps, update_frequency):
        self.names, self.k = list(names), len(names)
        self.weights = list(weights)
        self.cum = {n: 0.0 for n in names}
        total = sum(weights)
        self.probs = {n: w / total for n, w in zip(names, weights, strict=True)}
        self.eps, self.prev_eps = 1 / self.k, None
        self.warmup, self.freq = warmup_steps, update_frequency

    def group_update(self, iteration, names, rewards):
        if not (iteration > self.warmup and iteration % self.freq == 0):
            return
        self.prev_eps = self.eps
        self.eps = min(1 / self.k, math.sqrt(math.log(self.k) / (self.k * iteration)))
        for name, reward in zip(names, rewards, strict=True):
            reward = reward / 10
            self.cum[name] += reward / self.probs[name]
        self.exponential_weights()

    def exponential_weights(self):
        """The lines both Exp3WeightUpdater and NaiveValidationWeightUpdater end with."""
        total = sum(math.exp(r * self.prev_eps) for r in self.cum.values())
        scaling = (1 - self.k * self.eps) / total
        for i, name in enumerate(self.names):
            self.weights[i] = math.exp(self.cum[name] * self.prev_eps) * scaling + self.eps
        total_weights = sum(self.weights)
        for i, name in enumerate(self.names):
            self.probs[name] = self.weights[i] / total_weights


class OfficialSmoothedMean(OfficialExp3):
    """The same file: SmoothedMeanWeightUpdater.group_update (smoothing_factor 0.9)."""

    def group_update(self, iteration, names, rewards):
        if not (iteration > self.warmup and iteration % self.freq == 0):
            return
        self.prev_eps = self.eps
        self.eps = min(1 / self.k, math.sqrt(math.log(self.k) / (self.k * iteration)))
        for name, reward in zip(names, rewards, strict=True):
            self.cum[name] = 0.9 * self.cum[name] + 0.1 * math.exp(reward)
        total = sum(r * self.prev_eps for r in self.cum.values())
        scaling = (1 - self.k * self.eps) / total
        for i, name in enumerate(self.names):
            self.weights[i] = self.cum[name] * self.prev_eps * scaling + self.eps
        total_weights = sum(self.weights)
        for i, name in enumerate(self.names):
            self.probs[name] = self.weights[i] / total_weights


class OfficialNaiveValidation(OfficialExp3):
    """The same file: NaiveValidationWeightUpdater.update (every domain's validation loss,
    min-max normalised, added to the cumulative reward; no warm-up check inside the updater)."""

    def update(self, iteration, rewards):
        max_reward, min_reward = max(rewards.values()), min(rewards.values())
        for name in self.names:
            self.cum[name] += (rewards[name] - min_reward) / (max_reward - min_reward)
        self.prev_eps = self.eps
        self.eps = min(1 / self.k, math.sqrt(math.log(self.k) / (self.k * iteration)))
        self.exponential_weights()


def official_group_dro(adv_probs, group_idx, losses, n_groups, step_size):
    """kohpangwei/group_DRO, loss.py: LossComputer.compute_group_avg then
    compute_robust_loss (adj = 0, normalize_loss = False); numpy for torch."""
    group_map = (np.asarray(group_idx) == np.arange(n_groups)[:, None]).astype(float)
    group_count = group_map.sum(1)
    group_denom = group_count + (group_count == 0)
    group_loss = (group_map @ np.asarray(losses)) / group_denom
    adv_probs = adv_probs * np.exp(step_size * group_loss)
    return adv_probs / adv_probs.sum()


class OfficialDoremi:
    """sangmichaelxie/doremi: doremi/train.py's buffers (perdomain_scores = ln|V|,
    avg_domain_weights = the initial weights, update_counter = 1) and doremi/trainer.py's
    update_domain_weights (doremiv1) and write_weights; the per-domain score is the clipped
    excess of the domain's mean loss (our departure: no per-token reference losses)."""

    def __init__(self, k, vocab, eta, eps):
        self.w = [1 / k] * k
        self.avg = list(self.w)
        self.scores = [math.log(vocab)] * k
        self.counter = 1
        self.eta, self.eps, self.k = eta, eps, k

    def update(self, losses, ref_losses, present):
        for d in range(self.k):
            if present[d]:
                self.scores[d] = max(losses[d] - ref_losses[d], 0.0)
        logw = [math.log(self.w[d]) + self.eta * self.scores[d] for d in range(self.k)]
        top = max(logw)
        lse = top + math.log(sum(math.exp(v - top) for v in logw))
        logw = [v - lse for v in logw]
        self.w = [(1 - self.eps) * math.exp(v) + self.eps / self.k for v in logw]
        self.counter += 1
        self.avg = [
            (a * (self.counter - 1) + w) / self.counter
            for a, w in zip(self.avg, self.w, strict=True)
        ]


# -- helpers ---------------------------------------------------------------------------
def losses_at(step: int) -> np.ndarray:
    """Per-language loss (nats per token) that falls and differs across languages."""
    return np.array([3.0, 4.5, 2.0]) * (step + 1) ** -0.2 + 0.3 * np.sin([step, 2 * step, 3 * step])


def step_stats(counts: np.ndarray, loss_per_token: np.ndarray, pi: np.ndarray, b: int):
    """One step: counts[i] sequences of language i with mean loss loss_per_token[i]."""
    tokens = counts * TOKENS
    return WindowStats(
        nats=loss_per_token * tokens,
        bytes=counts * BYTES,
        tokens=tokens,
        sequences=counts.astype(float),
        expected_draws=b * pi,
    )


def draw(rng, pi, b, force=None):
    counts = rng.multinomial(b, pi).astype(float)
    if force is not None and counts[force] == 0:  # make sure the rare language is in the batch
        counts[np.argmax(counts)] -= 1
        counts[force] = 1
    return counts


# -- ODM -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("variant", "official"), [("exp3", OfficialExp3), ("smoothed_mean", OfficialSmoothedMean)]
)
def test_odm_follows_the_official_group_update_step_by_step(variant, official):
    """30 steps, B = 8, warm-up 3, frequency 2, natural start with π_zho = 0.01 at the first
    update (1/π = 100), languages missing from some batches."""
    init = np.array([0.70, 0.29, 0.01])
    mixer = OdmMixer(LANGS, BP, np.log(init), variant=variant, warmup_steps=3, update_frequency=2)
    ref = official(LANGS, list(init), warmup_steps=3, update_frequency=2)
    rng = np.random.default_rng(7)
    tiny_seen = False
    for step in range(1, 31):
        pi = mixer.probs()
        assert pi == pytest.approx([ref.probs[n] for n in LANGS], rel=1e-12, abs=1e-15)
        counts = draw(rng, pi, 8, force=2 if step == 4 else None)
        tiny_seen |= bool(pi[2] < 0.02 and counts[2] > 0)
        loss = losses_at(step)
        present = [n for n, c in zip(LANGS, counts, strict=True) if c > 0]
        ref.group_update(step, present, [loss[LANGS.index(n)] for n in present])
        mixer.update(step, step_stats(counts, loss, pi, 8))
    assert tiny_seen
    assert mixer.probs() == pytest.approx([ref.probs[n] for n in LANGS], rel=1e-12)
    assert mixer.floor == pytest.approx(ref.eps)
    assert abs(mixer.probs() - init).max() > 0.05  # π moved


def test_odm_windows_of_several_steps_are_one_group_update_each():
    """update_interval = 5: the window's batch is the call's batch, p = E[n]/ΣE[n]."""
    mixer = OdmMixer(LANGS, BP, np.zeros(3))
    ref = OfficialExp3(LANGS, [1.0, 1.0, 1.0], warmup_steps=0, update_frequency=1)
    rng = np.random.default_rng(1)
    for end in range(5, 130, 5):
        pi = mixer.probs()
        counts = sum(rng.multinomial(8, pi).astype(float) for _ in range(5))
        loss = losses_at(end)
        present = [n for n, c in zip(LANGS, counts, strict=True) if c > 0]
        ref.group_update(end, present, [loss[LANGS.index(n)] for n in present])
        mixer.update(end, step_stats(counts, loss, pi, 40))
        assert mixer.probs() == pytest.approx([ref.probs[n] for n in LANGS], rel=1e-12)


def dev_stats(loss_per_token: np.ndarray, draws: np.ndarray) -> WindowStats:
    """A dev evaluation: every language scored on 20 sequences; ``draws`` trained since."""
    tokens = np.full(3, 20 * TOKENS)
    return WindowStats(
        nats=loss_per_token * tokens,
        bytes=np.full(3, 20 * BYTES),
        tokens=tokens,
        sequences=draws,
        expected_draws=draws,
        signal="dev",
    )


def test_odm_validation_follows_the_official_naive_validation_update():
    """24 dev evaluations, every 10 steps from step 10, from a start with π_zho = 0.01: nld
    lags, so its cumulative reward grows by 1 each time and it ends with the largest π."""
    init = np.array([0.6, 0.39, 0.01])
    mixer = OdmMixer(LANGS, BP, np.log(init), variant="validation")
    assert mixer.signals == ("dev",)
    ref = OfficialNaiveValidation(LANGS, list(init), warmup_steps=0, update_frequency=1)
    rng = np.random.default_rng(4)
    for step in range(10, 250, 10):
        pi = mixer.probs()
        assert pi == pytest.approx([ref.probs[n] for n in LANGS], rel=1e-12, abs=1e-15)
        loss = np.array([3.0, 3.6, 3.1]) * (step / 10) ** -0.1 + 0.05 * rng.standard_normal(3)
        ref.update(step, dict(zip(LANGS, loss.tolist(), strict=True)))
        mixer.update(step, dev_stats(loss, 10 * 8 * pi))
    assert mixer.probs() == pytest.approx([ref.probs[n] for n in LANGS], rel=1e-12)
    assert np.argmax(mixer.probs()) == 1 and mixer.probs()[1] > 0.5  # the lagging language


def test_odm_validation_with_equal_losses_keeps_pi():
    """All losses equal: the official code divides 0 by 0; here nobody gains (π keeps its
    shares, only ε moves)."""
    mixer = OdmMixer(LANGS, BP, np.zeros(3), variant="validation")
    mixer.update(10, dev_stats(np.full(3, 2.0), np.full(3, 10.0)))
    assert mixer.probs() == pytest.approx(np.full(3, 1 / 3))


def test_published_training_signal_baselines_refuse_the_dev_signal():
    from taam.errors import ConfigError

    for mixer in (OdmMixer(LANGS, BP), OdmMixer(LANGS, BP, variant="smoothed_mean")):
        with pytest.raises(ConfigError, match="signal=train"):
            mixer.check_signal("dev")
    with pytest.raises(ConfigError, match="signal=dev"):
        OdmMixer(LANGS, BP, variant="validation").check_signal("train")
    GroupDroMixer(LANGS, BP).check_signal("dev")  # learns from either


def test_odm_byte_loss_is_nats_per_english_equivalent_byte():
    mixer = OdmMixer(LANGS, BP, np.zeros(3), loss="byte")
    counts = np.array([2.0, 1.0, 0.0])
    row = mixer.update(1, step_stats(counts, np.array([3.0, 4.0, 5.0]), np.full(3, 1 / 3), 3))
    expected = np.array([3.0, 4.0]) * TOKENS / BYTES * BP[:2]
    assert [row["reward_raw_eng"], row["reward_raw_nld"]] == pytest.approx(expected)


def test_odm_state_round_trip_continues_exactly():
    def run(mixer, rng, steps, start):
        out = []
        for step in range(start, start + steps):
            pi = mixer.probs()
            mixer.update(step, step_stats(draw(rng, pi, 8), losses_at(step), pi, 8))
            out.append(mixer.probs().tolist())
        return out

    a = OdmMixer(LANGS, BP, np.log([0.5, 0.3, 0.2]), warmup_steps=2)
    run(a, np.random.default_rng(0), 10, 1)
    b = OdmMixer(LANGS, BP, warmup_steps=2)
    b.load_state_dict(OmegaConf.to_container(OmegaConf.create(a.state_dict())))
    assert run(b, np.random.default_rng(5), 10, 11) == run(a, np.random.default_rng(5), 10, 11)


# -- Group DRO --------------------------------------------------------------------------
def test_group_dro_follows_the_official_online_update():
    """24 steps of 8 sequences with per-sequence losses; η = 0.6 drives π_zho below 1e-3, so
    zho goes missing from batches and gets the official group loss 0 (``absent="zero"``)."""
    mixer = GroupDroMixer(LANGS, BP, eta=0.6, absent="zero")
    q = np.ones(3) / 3
    rng = np.random.default_rng(3)
    tiny_seen = absent_seen = False
    for step in range(1, 25):
        pi = mixer.probs()
        assert pi == pytest.approx(q, rel=1e-10)
        tiny_seen |= bool(pi.min() < 1e-3)
        idx = rng.choice(3, size=8, p=pi)
        absent_seen |= bool(len(set(idx.tolist())) < 3)
        base = np.array([2.5, 3.0, 0.6])[idx] + 0.2 * rng.standard_normal(8)
        nats = base / BP[idx] * BYTES  # the per-sequence BP-adjusted loss is `base`
        counts = np.bincount(idx, minlength=3).astype(float)
        stats = WindowStats(
            nats=np.bincount(idx, weights=nats, minlength=3),
            bytes=counts * BYTES,
            tokens=counts * TOKENS,
            sequences=counts,
            expected_draws=8 * pi,
        )
        mixer.update(step, stats)
        q = official_group_dro(q, idx, base, 3, 0.6)
    assert tiny_seen and absent_seen
    assert mixer.probs() == pytest.approx(q, rel=1e-10)


def run_group_dro(absent: str, steps: int = 6000, batch: int = 64) -> tuple[np.ndarray, int]:
    """Group DRO on learning curves ℓ_i = floor_i + (1 + seen_i/s_i)^-½ where eng is easy (its loss
    is the lowest, so q_eng shrinks): the final losses and the windows without eng."""
    mixer = GroupDroMixer(LANGS, np.ones(3), eta=0.01, absent=absent)
    rng = np.random.default_rng(0)
    floor, speed = np.array([0.8, 1.0, 1.0]), np.array([1000.0, 3000.0, 4000.0])
    seen, eng_absent = np.zeros(3), 0
    for step in range(1, steps + 1):
        pi = mixer.probs()
        counts = rng.multinomial(batch, pi).astype(float)
        seen += counts
        eng_absent += int(counts[0] == 0)
        loss = floor + (1 + seen / speed) ** -0.5
        mixer.update(
            step,
            WindowStats(loss * counts * BYTES, counts * BYTES, counts * TOKENS, counts, batch * pi),
        )
    return floor + (1 + seen / speed) ** -0.5, eng_absent


def test_group_dro_absent_language_keeps_its_last_loss():
    """With the official 0 for an absent group, q decides absence here: eng, once rarely drawn,
    is never measured again, starves and ends the worst language (the opposite of the minimax
    objective). Carrying its last observed loss brings it back once its loss is above the others'."""
    zero_loss, zero_absent = run_group_dro("zero")
    last_loss, last_absent = run_group_dro("last")
    assert zero_absent > 3000 and zero_loss.argmax() == 0  # starved, and the worst
    assert last_loss.argmax() != 0 and last_loss.max() < zero_loss.max() - 0.005
    assert last_absent < zero_absent


def test_group_dro_refuses_an_unknown_absent_rule():
    with pytest.raises(ValueError, match="absent='none'"):
        GroupDroMixer(LANGS, BP, absent="none")


# -- DoReMi -----------------------------------------------------------------------------
def test_doremi_follows_the_official_update_and_average():
    """25 windows, η = 1, c = 1e-3: the excess of nld drives π_zho to the floor region."""
    reference = {s: np.array([2.0, 2.2, 1.5]) * (s / 10 + 1) ** -0.1 for s in range(10, 260, 10)}
    mixer = DoremiMixer(LANGS, BP, reference, eta=1.0, smoothing=1e-3, initial_score=math.log(512))
    ref = OfficialDoremi(3, 512, 1.0, 1e-3)
    rng = np.random.default_rng(11)
    log = MixerLog(LANGS)
    tiny_seen = False
    for step in range(10, 260, 10):
        pi = mixer.probs()
        assert pi == pytest.approx(ref.w, rel=1e-10)
        tiny_seen |= bool(pi.min() < 0.01)
        counts = rng.multinomial(80, pi).astype(float)
        loss_bp = reference[step] + np.array([0.3, 0.9, -0.2]) + 0.2 * rng.standard_normal(3)
        nats = loss_bp / BP * counts * BYTES
        stats = WindowStats(nats, counts * BYTES, counts * TOKENS, counts, 80 * pi)
        record = mixer.update(step, stats)
        log.append(step, 0, record)
        ref.update(list(loss_bp), list(reference[step]), list(counts > 0))
    assert tiny_seen
    assert mixer.probs() == pytest.approx(ref.w, rel=1e-10)
    assert mixer.average == pytest.approx(ref.avg, rel=1e-10)
    assert mixer.floor == pytest.approx(1e-3 / 3)


def test_doremi_published_weights_read_back_from_mixer_csv(tmp_path):
    reference = {s: np.array([2.0, 2.2, 1.5]) for s in range(10, 110, 10)}
    mixer = DoremiMixer(LANGS, BP, reference)
    log = MixerLog(LANGS)
    rng = np.random.default_rng(2)
    for step in range(10, 110, 10):
        counts = rng.multinomial(40, mixer.probs()).astype(float)
        loss = np.array([2.3, 2.6, 1.4]) / BP
        stats = WindowStats(loss * counts, counts, counts, counts, 40 * mixer.probs())
        log.append(step, 0, mixer.update(step, stats))
    log.write(tmp_path / "mixer.csv")
    weights = published_weights(tmp_path)
    assert list(weights) == list(LANGS)
    assert list(weights.values()) == pytest.approx(mixer.average, rel=1e-9)
    assert weights == pytest.approx(mixer.published_weights(), rel=1e-9)


def test_doremi_reads_the_reference_runs_logged_loss(tmp_path):
    (tmp_path / "config.yaml").write_text(
        "method: {update_interval: 10}\n"
        "data: {languages: [eng, nld, zho], tokenizer: {vocab_size: 512}}\n"
    )
    (tmp_path / "metrics.csv").write_text(
        "step,bpb_eng,bpb_nld,bpb_zho,lr\n10,1.5,2.0,,0.001\n20,1.4,1.9,1.2,0.001\n"
    )
    ref = ReferenceLosses(tmp_path, LANGS, BP)
    assert ref.vocab_size == 512 and ref.update_interval == 10
    assert ref.at(20) == pytest.approx(np.array([1.4, 1.9, 1.2]) * math.log(2) * BP)
    assert np.isnan(ref.at(10)[2])
    with pytest.raises(ValueError, match="step 30"):
        ref.at(30)
    with pytest.raises(FileNotFoundError, match="reference run"):
        ReferenceLosses(tmp_path / "missing", LANGS, BP)
    context = MixContext(LANGS, np.full(3, 1e6), BP, total_tokens=10**6)
    with pytest.raises(ValueError, match="windows of 10 steps"):
        DoremiMixer.from_context(context, reference_run=str(tmp_path), update_interval=5)
    assert DoremiMixer.from_context(context, reference_run=str(tmp_path), update_interval=10).k == 3
