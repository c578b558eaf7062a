"""The typed schema of a training config, checked once, up front, before any work starts.

Each config group is a dataclass whose fields carry their type and admissible range.
:func:`validate_train_config` checks the composed Hydra config against them: no unknown
keys under ``train``, ``model``, ``data``, ``method`` and ``reward`` (a ``+train.max_step=10`` is
refused, naming ``train.max_steps``), every value of its type and in its range, and the
cross-field rules (heads divide the width, a prior needs two languages). It imports no
torch, so a typo is reported in about a second.
"""

from __future__ import annotations

import difflib
import math
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

from omegaconf import DictConfig, OmegaConf

from taam.data.sources import sample_dir
from taam.errors import ConfigError
from taam.languages import byte_premiums


def rule(need: str, ok: Callable[[Any], bool] = lambda _: True) -> dict[str, Any]:
    """A schema field's metadata: ``need`` says in words what ``ok`` accepts (for the error)."""
    return {"need": need, "ok": ok}


def _positive(x: float) -> bool:
    return x > 0


def _non_negative(x: float) -> bool:
    return x >= 0


def _fraction(x: float) -> bool:
    return 0 <= x < 1


def _unit_interval(x: float) -> bool:
    return 0 <= x <= 1


@dataclass(kw_only=True)
class TrainSchema:
    global_batch: int = field(metadata=rule("a positive integer (sequences per step)", _positive))
    max_steps: int = field(metadata=rule("a positive integer", _positive))
    lr: float = field(metadata=rule("a positive finite number", _positive))
    weight_decay: float = field(metadata=rule("a number ≥ 0", _non_negative))
    betas: list = field(
        metadata=rule("two numbers in [0, 1)", lambda b: len(b) == 2 and all(map(_fraction, b)))
    )
    warmup_steps: int = field(metadata=rule("an integer ≥ 0", _non_negative))
    min_lr_ratio: float = field(metadata=rule("a number in [0, 1]", _unit_interval))
    epoch_cap: float = field(metadata=rule("a positive number", _positive))
    checkpoint_every_steps: int = field(metadata=rule("a positive integer", _positive))
    milestone_unit: str = field(
        metadata=rule("tokens or words", lambda u: u in ("tokens", "words"))
    )
    plots: bool = field(metadata=rule("true or false"))
    compile: bool = field(metadata=rule("true or false"))


@dataclass(kw_only=True)
class ModelSchema:
    arch: str = field(metadata=rule("llama or gpt2", lambda a: a in ("llama", "gpt2")))
    hidden_size: int = field(metadata=rule("a positive integer", _positive))
    num_layers: int = field(metadata=rule("a positive integer", _positive))
    num_heads: int = field(metadata=rule("a positive integer", _positive))
    intermediate_size: int = field(metadata=rule("a positive integer", _positive))
    seq_len: int = field(metadata=rule("an integer ≥ 2", lambda n: n >= 2))
    tie_word_embeddings: bool = field(metadata=rule("true or false"))
    dropout: float = field(metadata=rule("a number in [0, 1)", _fraction))


@dataclass(kw_only=True)
class BudgetSchema:
    total_words_m: float = field(metadata=rule("a positive number of millions of words", _positive))
    unit: str = field(
        metadata=rule("bytes, words or tokens", lambda u: u in ("bytes", "words", "tokens"))
    )
    allocation: Any = field(default="equal", metadata=rule("equal or a weight per language"))


@dataclass(kw_only=True)
class TokenizerSchema:
    vocab_size: int = field(metadata=rule("an integer ≥ 256", lambda v: v >= 256))
    sample_bytes_per_language: int = field(metadata=rule("a positive integer", _positive))


@dataclass(kw_only=True)
class DataSchema:
    languages: list = field(
        metadata=rule("a non-empty list of ISO 639-3 codes", lambda ls: len(ls) > 0)
    )
    source: dict = field(metadata=rule("a source per language"))
    byte_premium: dict = field(default=None, metadata=rule("a byte premium per language"))
    budget: BudgetSchema = field(metadata=rule("a budget"))
    heldout_fraction: float = field(metadata=rule("a number in (0, 1)", lambda f: 0 < f < 1))
    dev_fraction: float = field(
        default=0.0, metadata=rule("a number in [0, 1) (dev text, inside the budget)", _fraction)
    )
    heldout_unused: bool = field(
        default=False, metadata=rule("true or false (documents the budget leaves, held out)")
    )
    seed: int = field(metadata=rule("an integer ≥ 0", _non_negative))
    tokenizer: TokenizerSchema = field(metadata=rule("tokenizer settings"))


@dataclass(kw_only=True)
class PriorSchema:
    feature_sets: list = field(
        metadata=rule("a non-empty list of URIEL feature sets", lambda s: len(s) > 0)
    )
    temperature: float = field(metadata=rule("a positive number (T)", _positive))


@dataclass(kw_only=True)
class MixerSchema:
    """Every parameter some method's mixer takes; each method's target uses its own subset."""

    _target_: str = field(metadata=rule("the mixer's import path"))
    _partial_: bool = field(default=True, metadata=rule("true"))
    init: str = field(
        default="",
        metadata=rule("uniform, prior or natural", lambda i: i in ("uniform", "prior", "natural")),
    )
    prior: PriorSchema = field(default=None, metadata=rule("the prior's settings"))
    beta: float = field(default=0.9, metadata=rule("a number in [0, 1) (EMA)", _fraction))
    alpha: float = field(
        default=0.0, metadata=rule("a number in [0, 1] (Exp3.S sharing)", _unit_interval)
    )
    warmup_steps: int = field(default=0, metadata=rule("an integer ≥ 0", _non_negative))
    reward: dict = field(default=None, metadata=rule("a reward node"))
    variant: str = field(
        default="exp3",
        metadata=rule(
            "exp3, smoothed_mean or validation (ODM)",
            lambda v: v in ("exp3", "smoothed_mean", "validation"),
        ),
    )
    loss: str = field(
        default="token", metadata=rule("token or byte (ODM)", lambda v: v in ("token", "byte"))
    )
    update_frequency: int = field(default=1, metadata=rule("a positive integer", _positive))
    reward_scale: float = field(default=0.1, metadata=rule("a positive number", _positive))
    smoothing_factor: float = field(default=0.9, metadata=rule("a number in [0, 1)", _fraction))
    eta: float = field(default=0.01, metadata=rule("a positive number (η)", _positive))
    smoothing: float = field(default=1e-3, metadata=rule("a number in [0, 1] (c)", _unit_interval))
    reference_run: str = field(default=None, metadata=rule("a run directory"))
    tau: float = field(default=1.0, metadata=rule("a positive number (τ)", _positive))
    max_epochs: float = field(default=1.0, metadata=rule("a positive number", _positive))
    weights: dict = field(default=None, metadata=rule("a weight per language"))
    update_interval: int = field(
        default=None,
        metadata=rule("a positive integer (DoReMi: the reference's window)", _positive),
    )
    absent: str = field(
        default="last",
        metadata=rule(
            "last or zero (Group DRO, an absent language's loss)", lambda a: a in ("last", "zero")
        ),
    )
    # method=horizon
    floor_share: float = field(
        default=0.3,
        metadata=rule(
            "a number in (0, 1] (the floor as a share of uniform, 1/K)", lambda f: 0 < f <= 1
        ),
    )
    rate: float = field(default=0.5, metadata=rule("a number in (0, 1]", lambda r: 0 < r <= 1))
    points: int = field(default=5, metadata=rule("an integer ≥ 3", lambda n: n >= 3))
    window: float = field(default=0.5, metadata=rule("a number in [0, 1]", _unit_interval))
    margin: float = field(default=2.0, metadata=rule("a number ≥ 0 (z)", _non_negative))


@dataclass(kw_only=True)
class MethodSchema:
    name: str = field(metadata=rule("the method's name"))
    update_interval: int = field(metadata=rule("a positive integer (steps per window)", _positive))
    mixer: MixerSchema = field(metadata=rule("the mixer node"))


@dataclass(kw_only=True)
class PolicySchema:
    """EXP3 on the reward: π = (1 − γ)·softmax(w) + γ/K, w ← (1 − λ)·w + λ·anchor + η·r̂."""

    gamma: float = field(
        metadata=rule("a number in (0, 1] (γ; the floor is γ/K)", lambda g: 0 < g <= 1)
    )
    eta: float = field(metadata=rule("a positive number (η)", _positive))
    lam: float = field(metadata=rule("a number in [0, 1) (λ)", _fraction))
    anchor: str = field(metadata=rule("init or uniform", lambda a: a in ("init", "uniform")))


def _optional(ok: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or ok(v)


def _positive_int(v: Any) -> bool:
    return _is_type(v, int) and v > 0


@dataclass(kw_only=True)
class SignalSchema:
    """What adaptive mixers steer by: the dev split's loss or the training window's."""

    name: str = field(metadata=rule("dev or train", lambda n: n in ("dev", "train")))
    every: Any = field(
        default=None, metadata=rule("null or a positive integer (steps)", _optional(_positive_int))
    )
    sequences: int = field(
        default=0, metadata=rule("an integer ≥ 0 (dev sequences per language)", _non_negative)
    )
    beta: float = field(default=0.9, metadata=rule("a number in [0, 1) (EMA)", _fraction))


@dataclass(kw_only=True)
class RewardSchema:
    name: str = field(metadata=rule("the reward's name"))
    tag: str = field(metadata=rule("its short tag in run names"))
    objective: str = field(
        default="mean", metadata=rule("worst or mean", lambda o: o in ("worst", "mean"))
    )
    accounting: str = field(
        default="sequence",
        metadata=rule("sequence or window (published)", lambda a: a in ("sequence", "window")),
    )
    margin: float = field(
        default=0.0,
        metadata=rule("a number ≥ 0 (standard errors of the dev lag)", _non_negative),
    )
    rescale: str = field(
        metadata=rule(
            "none, reservoir, forgetting, rolling or standardise",
            lambda r: r in ("none", "reservoir", "forgetting", "rolling", "standardise"),
        )
    )
    policy: PolicySchema = field(metadata=rule("the policy step (η, λ, anchor)"))
    fn: dict = field(metadata=rule("the reward node"))


@dataclass(kw_only=True)
class RunSchema:
    seed: int = field(metadata=rule("an integer ≥ 0", _non_negative))
    resume: bool = field(metadata=rule("true or false"))
    train: TrainSchema = field(metadata=rule("the train settings"))
    model: ModelSchema = field(metadata=rule("the model settings"))
    data: DataSchema = field(metadata=rule("the data settings"))
    method: MethodSchema = field(metadata=rule("the method settings"))
    reward: RewardSchema = field(metadata=rule("the reward settings"))
    signal: SignalSchema = field(metadata=rule("the signal settings (signal=dev or signal=train)"))


def _text(v: Any) -> bool:
    return isinstance(v, str) and v.strip() != ""


def _texts(v: Any) -> bool:
    return isinstance(v, list) and all(_text(x) for x in v)


DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


@dataclass(kw_only=True)
class EvalSchema:
    """``python src/eval.py``."""

    run_dir: Any = field(metadata=rule("a run directory", _optional(_text)))
    run_dirs: Any = field(metadata=rule("a list of run directories", _texts))
    out_dir: Any = field(metadata=rule("a folder", _optional(_text)))
    checkpoints: Any = field(
        metadata=rule("a list of checkpoint names, e.g. [final, chck_1M]", _optional(_texts))
    )
    device: Any = field(
        metadata=rule("auto, cpu, cuda, cuda:<n> or mps", lambda d: bool(DEVICE.fullmatch(str(d))))
    )
    batch_size: int = field(
        metadata=rule("a positive integer (windows per forward pass)", _positive)
    )
    context_length: Any = field(
        metadata=rule(
            "null or an integer ≥ 2 (tokens per window)",
            _optional(lambda n: _is_type(n, int) and n >= 2),
        )
    )
    stride: Any = field(
        metadata=rule("null or a positive integer (tokens)", _optional(_positive_int))
    )
    force: bool = field(metadata=rule("true or false"))
    minimal_pairs: dict = field(metadata=rule("language → list of sources"))


@dataclass(kw_only=True)
class SummarizeSchema:
    """``python src/summarize.py``."""

    sweep_dir: Any = field(metadata=rule("a sweep folder", _optional(_text)))
    run_dirs: Any = field(metadata=rule("a list of run directories", _texts))
    out_dir: Any = field(metadata=rule("a folder", _optional(_text)))
    pool: Any = field(metadata=rule("a list of config keys, e.g. [data.seed]", _texts))


@dataclass(kw_only=True)
class PushSchema:
    """``python src/push.py``."""

    run_dir: Any = field(metadata=rule("the run directory to push, e.g. runs/<name>", _text))
    repo_id: Any = field(metadata=rule("<user or org>/<name>", _text))
    dry_run: bool = field(metadata=rule("true or false"))
    private: bool = field(metadata=rule("true or false"))
    retries: int = field(metadata=rule("a positive integer (tries per Hub call)", _positive))
    retry_delay_s: float = field(metadata=rule("a number ≥ 0 (seconds)", _non_negative))


def validate_eval_config(cfg: DictConfig) -> None:
    values = _check_entry(EvalSchema, cfg)
    if (values["run_dir"] is None) == (not values["run_dirs"]):
        raise ConfigError(
            "give exactly one of run_dir=<run directory> (one run) or "
            "run_dirs=[<run a>,<run b>] (several runs, compared on one figure)."
        )
    for path in [values["run_dir"]] if values["run_dir"] else values["run_dirs"]:
        if not Path(path).is_dir():
            raise ConfigError(f"run_dir {path} does not exist; point it at a run directory.")
    context, stride = values["context_length"], values["stride"]
    if context is not None and stride is not None and stride > context:
        raise ConfigError(
            f"stride ({stride}) must not exceed context_length ({context}): text between windows "
            f"would go unscored; use stride ≤ context_length or stride=null."
        )
    if values["out_dir"]:
        check_writable("out_dir", values["out_dir"])


def validate_summarize_config(cfg: DictConfig) -> None:
    values = _check_entry(SummarizeSchema, cfg)
    if (values["sweep_dir"] is None) == (not values["run_dirs"]):
        raise ConfigError(
            "give exactly one of sweep_dir=<sweep folder> or run_dirs=[<run a>,<run b>]."
        )
    if values["out_dir"]:
        check_writable("out_dir", values["out_dir"])


def validate_push_config(cfg: DictConfig) -> None:
    for key, example in (("run_dir", "runs/<name>"), ("repo_id", "<user or org>/<name>")):
        if OmegaConf.is_missing(cfg, key) or cfg[key] in (None, ""):
            raise ConfigError(f"{key} is missing; pass {key}={example}.")
    values = _check_entry(PushSchema, cfg)
    if not Path(values["run_dir"]).is_dir():
        raise ConfigError(
            f"run_dir {values['run_dir']} does not exist; point it at a run directory."
        )


def validate_simulate_config(cfg: DictConfig) -> None:
    """``python src/simulate.py``: the simulator's own settings (the method, reward and signal
    nodes are the training ones and are checked when the mixer is built)."""
    checks = (
        ("seed", "an integer ≥ 0", lambda v: _is_type(v, int) and v >= 0),
        ("seeds", "a positive integer (how many seeds)", _positive_int),
        ("starve_window", "a positive integer (updates)", _positive_int),
        ("simulation.steps", "a positive integer", _positive_int),
        ("comparison.steps", "null or a positive integer", _optional(_positive_int)),
        (
            "comparison.oracle_step",
            "a number in (0, 0.5]",
            lambda v: _is_type(v, float) and 0 < v <= 0.5,
        ),
    )
    for key, need, ok in checks:
        value = OmegaConf.select(cfg, key, default=None)
        if not ok(value):
            raise ConfigError(f"{key}={value} is not valid: need {need}.")
    if cfg.get("output_dir"):
        check_writable("output_dir", cfg.output_dir)


def _check_entry(schema: type, cfg: DictConfig) -> dict:
    """``cfg`` (without Hydra's node) resolved and checked against ``schema``; its values."""
    values = _resolved(cfg)
    values.pop("hydra", None)
    _check_node(schema, values, "")
    return values


# Top-level nodes of a training config that other code checks: Lightning (trainer), the logger
# and card builders, the run directory's placement, and Hydra's own.
RUN_GROUPS_OUTSIDE_THE_SCHEMA = ("paths", "trainer", "logger", "card", "preset", "run_dir", "hydra")


def validate_train_config(cfg: DictConfig) -> None:
    """Raise :class:`ConfigError` for the first problem in ``cfg``; return if there is none."""
    values = _resolved(cfg)
    unknown = sorted(set(values) - {*_names(RunSchema), *RUN_GROUPS_OUTSIDE_THE_SCHEMA})
    if unknown:
        known = sorted({*_names(RunSchema), *RUN_GROUPS_OUTSIDE_THE_SCHEMA} - {"hydra"})
        raise ConfigError(f"{unknown[0]} is not a setting; {_suggestion(unknown[0], known, '')}.")
    _check_node(RunSchema, {k: values[k] for k in _names(RunSchema) if k in values}, "")
    _check_relations(values)
    check_writable("paths.runs_dir", values["paths"]["runs_dir"])
    check_writable("paths.cache_dir", values["paths"]["cache_dir"])
    if values.get("run_dir"):
        check_writable("run_dir", values["run_dir"])


def _resolved(cfg: DictConfig) -> dict:
    try:
        return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except Exception as err:  # an interpolation or ??? that cannot be resolved
        raise ConfigError(f"the config cannot be resolved ({err}); fix or set that key.") from None


def _names(schema: type) -> list[str]:
    return [f.name for f in fields(schema)]


def _check_node(schema: type, node: Any, prefix: str) -> None:
    """Unknown keys, missing keys, types and ranges of one config node against ``schema``."""
    if not isinstance(node, Mapping):
        raise ConfigError(f"{prefix.rstrip('.')} must be a group of settings, got {node!r}.")
    known = _names(schema)
    for key in node:
        if key not in known:
            raise ConfigError(f"{prefix}{key} is not a setting; {_suggestion(key, known, prefix)}.")
    hints = get_type_hints(schema)
    for spec in fields(schema):
        name = f"{prefix}{spec.name}"
        if spec.name not in node:
            if spec.default is MISSING:
                raise ConfigError(f"{name} is missing; set it ({spec.metadata['need']}).")
            continue
        value = node[spec.name]
        kind = hints[spec.name]
        if is_dataclass(kind):
            if value is not None or spec.default is MISSING:
                _check_node(kind, value, f"{name}.")
            continue
        _check_value(name, value, kind, spec.metadata)


def _check_value(name: str, value: Any, kind: Any, meta: Mapping) -> None:
    need = meta["need"]
    if value is None and kind in (dict, Any):
        return
    if not _is_type(value, kind) or not meta["ok"](value):
        raise ConfigError(f"{name} must be {need}, got {value!r}; pass a valid {name}=...")


def _is_type(value: Any, kind: Any) -> bool:
    if kind is Any:
        return True
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok and math.isfinite(value)
    return isinstance(value, kind)


# Settings that moved, so a command line written for an earlier TAAM is told where they went.
MOVED = {"method.mixer.gamma": "reward.policy.gamma"}  # γ belongs to what the reward serves


def _suggestion(key: str, known: list[str], prefix: str) -> str:
    if prefix + key in MOVED:
        return f"it moved to {MOVED[prefix + key]}; use {MOVED[prefix + key]}=... instead"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean {prefix}{close[0]}? Use {prefix}{close[0]}=... (no +)"
    return f"the settings here are {', '.join(prefix + k for k in known if not k.startswith('_'))}"


def _check_fixed_weights(weights: Mapping | None, languages: list[str]) -> None:
    """method=fixed: a non-negative weight for each language, not all zero."""
    valid = (
        isinstance(weights, Mapping)
        and set(weights) == set(languages)
        and all(_is_type(w, float) and w >= 0 for w in weights.values())
        and sum(weights.values()) > 0
    )
    if not valid:
        example = ",".join(f"{lang}:{1 / len(languages):.2f}" for lang in languages)
        raise ConfigError(
            f"method=fixed needs method.mixer.weights: a non-negative weight for each of "
            f"{languages} (not all zero), got {weights}; e.g. 'method.mixer.weights={{{example}}}'."
        )


def _check_relations(values: Mapping) -> None:
    """Rules between fields that no single field's range expresses."""
    model, method, data = values["model"], values["method"], values["data"]
    if model["hidden_size"] % model["num_heads"]:
        raise ConfigError(
            f"model.hidden_size ({model['hidden_size']}) must be a multiple of model.num_heads "
            f"({model['num_heads']}); change one of them."
        )
    mixer = method["mixer"]
    uses_prior = mixer.get("init") == "prior" or str(mixer["_target_"]).endswith("prior_mixer")
    if uses_prior and len(data["languages"]) < 2:
        raise ConfigError(
            f"method {method['name']} starts from the typological prior, which compares languages, "
            f"but data.languages has only {data['languages']}; add a language or use method=uniform."
        )
    _check_languages(data)
    _check_signal(values["signal"], method, data)
    reward = values.get("reward") or {}
    if reward.get("margin", 0) > 0 and reward.get("name") != "cross_lingual_deficit":
        raise ConfigError(
            f"reward.margin={reward['margin']} applies to the lag of cross_lingual_deficit only; "
            f"reward {reward.get('name')} has no margin. Drop it, or use objective=worst."
        )
    if uses_prior and not mixer.get("prior"):
        raise ConfigError(f"method.mixer.prior is missing; method {method['name']} needs it.")
    if str(mixer["_target_"]).endswith("static.fixed"):
        _check_fixed_weights(mixer.get("weights"), list(data["languages"]))
    budget = data["budget"]
    allocation = budget.get("allocation", "equal")
    if isinstance(allocation, Mapping):
        extra = sorted(set(allocation) - set(data["languages"]))
        if extra or any(not _is_type(w, float) or w <= 0 for w in allocation.values()):
            raise ConfigError(
                f"data.budget.allocation must give a positive weight to languages of data.languages "
                f"only, got {allocation}; fix the weights or use allocation=equal."
            )
    elif allocation != "equal":
        raise ConfigError(
            f"data.budget.allocation must be equal or a weight per language, got {allocation!r}."
        )


def _check_signal(signal: Mapping, method: Mapping, data: Mapping) -> None:
    """signal=dev needs a dev split and an evaluation interval that closes whole windows."""
    if signal["name"] != "dev":
        return
    if not data.get("dev_fraction"):
        raise ConfigError(
            "signal=dev scores a dev split, but data.dev_fraction is 0; set data.dev_fraction "
            "(e.g. 0.06 on the sample) or steer by the training loss with signal=train."
        )
    every, interval = signal.get("every"), method["update_interval"]
    if not every or every % interval or signal["sequences"] < 1:
        raise ConfigError(
            f"signal=dev needs signal.every, a multiple of method.update_interval ({interval}), "
            f"and signal.sequences ≥ 1; got every={every}, sequences={signal['sequences']}."
        )


def _check_languages(data: Mapping) -> None:
    """Every language is a code the project knows (a byte premium) and has a source that exists."""
    languages = list(data["languages"])
    byte_premiums(languages, data.get("byte_premium"))  # LanguageError names the fix
    if len(set(languages)) != len(languages):
        raise ConfigError(f"data.languages lists a language twice: {languages}; list each once.")
    sources = data["source"] or {}
    for lang in languages:
        if lang not in sources:
            raise ConfigError(
                f"data.source.{lang} is missing; give each language a source: "
                f"data.source.{lang}=sample | hf:<dataset> | /path/to/folder."
            )
        _check_source(lang, str(sources[lang]))


def _check_source(lang: str, source: str) -> None:
    key = f"data.source.{lang}"
    if source == "sample":
        shipped = sorted(p.stem for p in sample_dir().glob("*.jsonl"))
        if lang not in shipped:
            raise ConfigError(
                f"{key}=sample: the embedded sample has no '{lang}' (it ships "
                f"{', '.join(shipped)}); point {key} at a folder or hf:<dataset>."
            )
        return
    path = source[3:] if source.startswith("hf:") else source
    local = not source.startswith("hf:") or path.startswith(("/", ".", "~"))
    if local and not Path(path).expanduser().exists():
        raise ConfigError(
            f"{key}={source}: {path} does not exist; point it at a folder of .txt/.jsonl/.parquet "
            f"files (or hf:<dataset id>)."
        )


def check_writable(key: str, path: str | Path) -> None:
    """``path`` can be created or written: its nearest existing ancestor is a folder that takes
    a file (tried with a temporary file, which also holds for root and read-only mounts)."""
    target = Path(path).expanduser()
    existing = next(p for p in (target, *target.parents) if p.exists())
    try:
        if not existing.is_dir():
            raise NotADirectoryError(0, "not a folder")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        reason = err.strerror or str(err)
        raise ConfigError(
            f"{key}={path} cannot be written ({existing}: {reason}); choose a folder you can "
            f"write to."
        ) from None


def check_devices(trainer: Mapping) -> None:
    """A GPU trainer needs a visible GPU: say so in one line instead of Lightning's traceback."""
    if trainer.get("accelerator") not in ("gpu", "cuda"):
        return
    import torch  # only here: the schema itself stays light

    wanted = trainer.get("devices", 1)
    found = torch.cuda.device_count()
    if found == 0 or (isinstance(wanted, int) and wanted > found):
        raise ConfigError(
            f"trainer={'gpu' if wanted == 1 else 'ddp'} asks for {wanted} GPU(s) but this machine "
            f"has {found} visible to PyTorch; use trainer=cpu (or trainer=ddp_cpu), or run on a "
            f"GPU machine."
        )
