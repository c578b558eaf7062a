"""Every kind of bad input gives one line, ``error: <what> … <how to fix>``, a non-zero exit,
claims no run directory and leaves an existing run exactly as it was.

Each case calls the entry script's own ``main()`` in this process (the script's command-line
check, Hydra's composition, the schema, the work), as ``python src/<entry>.py <args>`` would;
one case per script also runs as a real subprocess, to keep the scripts' wiring honest.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests_support import ROOT, write_export, write_run_files

STATE = {"step": 20, "method": "Uniform", "reward": None, "seed": 1, "languages": ["eng", "nld"]}
STATE |= {"budget_words_m": 0.03, "pi": {"eng": 0.5, "nld": 0.5}, "exposures_tokens": 5120}
STATE |= {"wall_clock_s": 1.0, "run_dir": "runs/existing"}
STATE |= {
    "per_language": {
        lang: {"exposures_tokens": 2560, "unique_tokens_seen": 2560, "epochs": 0.5}
        for lang in ("eng", "nld")
    }
}

TINY = ["data.budget.total_words_m=0.03", "data.tokenizer.vocab_size=512"]
ENG_ONLY = ["data.languages=[eng]", "method=uniform"]


def existing_run(folder: Path, status: str = "completed") -> Path:
    """A run's files (what the cases must leave alone), a final/ to push or score."""
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({**STATE, "status": status}))
    write_run_files(folder)
    (folder / "last.ckpt").write_bytes(b"not a checkpoint")
    write_export(folder / "final", STATE, 100)
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    data = root / "data"
    for name, lines in {
        "text_number": ['{"text": 123}'],
        "text_null": ['{"text": null}'],
        "pairs_json": ['{"sen": "a", "wrong_sen": "b"}', "{not json"],
    }.items():
        (data / name).mkdir(parents=True)
        (data / name / "part.jsonl").write_text("\n".join(lines) + "\n")
    (data / "parquet").mkdir()
    (data / "parquet" / "part.parquet").write_bytes(b"PAR1 this is not parquet")
    (data / "one_big").mkdir()  # one document: held-out takes it, training gets nothing
    (data / "one_big" / "doc.txt").write_text("word " * 20_000)
    (data / "pairs_utf8").mkdir()
    (data / "pairs_utf8" / "part.jsonl").write_bytes(b'{"sen": "caf\xe9", "wrong_sen": "x"}\n')
    (root / "empty").mkdir()
    (root / "not_a_run").mkdir()
    (root / "not_a_run" / "notes.txt").write_text("mine")
    return {
        "root": root,
        "data": data,
        "existing": existing_run(root / "runs" / "existing"),
        "interrupted": existing_run(root / "runs" / "interrupted", "interrupted"),
    }


# (entry, arguments, what the one error line must contain); {data}, {existing}, {root} are
# filled in. Train cases run with paths inside the test's folder and a tiny budget.
CASES: dict[str, tuple[str, list[str], str]] = {
    # -- train: values -------------------------------------------------------------------
    "seed negative": ("train", ["seed=-1"], "error: seed must be an integer ≥ 0, got -1"),
    "seed not a number": ("train", ["seed=abc"], "seed must be an integer ≥ 0, got 'abc'"),
    "seed fractional": ("train", ["seed=1.5"], "seed must be an integer ≥ 0, got 1.5"),
    "global_batch 0": ("train", ["train.global_batch=0"], "train.global_batch must be a positive"),
    "global_batch < 0": ("train", ["train.global_batch=-8"], "got -8"),
    "lr 0": ("train", ["train.lr=0"], "error: train.lr must be a positive finite number, got 0"),
    "lr < 0": ("train", ["train.lr=-0.1"], "train.lr must be a positive finite number, got -0.1"),
    "lr nan": ("train", ["train.lr=nan"], "train.lr must be a positive finite number, got nan"),
    "lr inf": ("train", ["train.lr=inf"], "train.lr must be a positive finite number, got inf"),
    "lr a word": ("train", ["train.lr=fast"], "train.lr must be a positive finite number"),
    "max_steps 0": ("train", ["train.max_steps=0"], "train.max_steps must be a positive integer"),
    "max_steps < 0": ("train", ["train.max_steps=-5"], "train.max_steps must be a positive"),
    "weight_decay < 0": ("train", ["train.weight_decay=-1"], "train.weight_decay must be"),
    "beta2 = 1": ("train", ["train.betas=[0.9,1.0]"], "train.betas must be two numbers in [0, 1)"),
    "one beta": ("train", ["train.betas=[0.9]"], "train.betas must be two numbers"),
    "warmup < 0": ("train", ["train.warmup_steps=-1"], "train.warmup_steps must be an integer ≥ 0"),
    "min_lr_ratio > 1": ("train", ["train.min_lr_ratio=1.5"], "train.min_lr_ratio must be"),
    "epoch cap 0": ("train", ["train.epoch_cap=0"], "train.epoch_cap must be a positive number"),
    "checkpoint every 0": ("train", ["train.checkpoint_every_steps=0"], "checkpoint_every_steps"),
    "milestone unit": ("train", ["train.milestone_unit=bytes"], "must be tokens or words"),
    "plots maybe": ("train", ["train.plots=maybe"], "train.plots must be true or false"),
    "arch bert": ("train", ["model.arch=bert"], "model.arch must be llama or gpt2, got 'bert'"),
    "heads do not divide": ("train", ["model.hidden_size=33"], "must be a multiple of"),
    "no layers": ("train", ["model.num_layers=0"], "model.num_layers must be a positive integer"),
    "no heads": ("train", ["model.num_heads=0"], "model.num_heads must be a positive integer"),
    "seq_len 1": ("train", ["model.seq_len=1"], "model.seq_len must be an integer ≥ 2"),
    "dropout 1": ("train", ["model.dropout=1.0"], "model.dropout must be a number in [0, 1)"),
    "budget 0": ("train", ["data.budget.total_words_m=0"], "total_words_m must be a positive"),
    "budget < 0": ("train", ["data.budget.total_words_m=-1"], "got -1"),
    "budget unit": ("train", ["data.budget.unit=pages"], "must be bytes, words or tokens"),
    "allocation word": ("train", ["data.budget.allocation=most"], "must be equal or a weight"),
    "allocation negative": (
        "train",
        ["data.budget.allocation={{eng:1,nld:-1,zho:1}}"],
        "data.budget.allocation must give a positive weight",
    ),
    "held-out 0": ("train", ["data.heldout_fraction=0"], "data.heldout_fraction must be"),
    "held-out 1": ("train", ["data.heldout_fraction=1"], "a number in (0, 1)"),
    "vocab 100": (
        "train",
        ["data.tokenizer.vocab_size=100"],
        "vocab_size must be an integer ≥ 256",
    ),
    "data seed < 0": ("train", ["data.seed=-1"], "data.seed must be an integer ≥ 0"),
    "no languages": ("train", ["data.languages=[]"], "data.languages must be a non-empty list"),
    "unknown language": (
        "train",
        ["data.languages=[eng,xyz]"],
        "no byte premium is known for 'xyz'",
    ),
    "not a code": ("train", ["data.languages=[eng,english]"], "'english' is not an ISO 639-3"),
    "a language twice": ("train", ["data.languages=[eng,eng]"], "lists a language twice"),
    "no source": (
        "train",
        ["data.languages=[eng,nld]", "~data.source.nld"],
        "data.source.nld is missing",
    ),
    "source missing": (
        "train",
        ["data.source.eng=/nonexistent"],
        "error: data.source.eng=/nonexistent: /nonexistent does not exist",
    ),
    "saved copy missing": (
        "train",
        ["data.source.eng=hf:/nonexistent/copy"],
        "/nonexistent/copy does not exist",
    ),
    "sample lacks it": (
        "train",
        ["data.languages=[eng,zho_Hant]", "+data.source.zho_Hant=sample"],
        "the embedded sample has no 'zho_Hant'",
    ),
    "update interval 0": ("train", ["method.update_interval=0"], "method.update_interval must be"),
    "gamma 0": ("train", ["method=pstar", "reward.policy.gamma=0"], "reward.policy.gamma must be"),
    "gamma > 1": ("train", ["method=exp3", "reward.policy.gamma=1.5"], "in (0, 1]"),
    "beta 1": ("train", ["method=exp3", "method.mixer.beta=1"], "method.mixer.beta must be"),
    "prior temperature 0": (
        "train",
        ["method=pstar", "method.mixer.prior.temperature=0"],
        "error: method.mixer.prior.temperature must be a positive number (T), got 0",
    ),
    "pstar, one language": (
        "train",
        ["method=pstar", "data.languages=[eng]"],
        "error: method Pstar starts from the typological prior",
    ),
    "prior, one language": ("train", ["method=prior", "data.languages=[eng]"], "has only ['eng']"),
    "fixed without weights": ("train", ["method=fixed"], "method=fixed needs method.mixer.weights"),
    "fixed, a weight missing": (
        "train",
        ["method=fixed", "method.mixer.weights={{eng:1,nld:1}}"],
        "a non-negative weight for each of",
    ),
    "eta 0": ("train", ["reward.policy.eta=0"], "reward.policy.eta must be a positive number"),
    "lambda 1": ("train", ["reward.policy.lam=1"], "reward.policy.lam must be a number in [0, 1)"),
    "anchor": ("train", ["reward.policy.anchor=zero"], "reward.policy.anchor must be init"),
    "rescale": ("train", ["reward.rescale=zscore"], "reward.rescale must be"),
    "accounting": (
        "train",
        ["objective=mean", "reward.accounting=batch"],
        "reward.accounting must be",
    ),
    # -- train: names --------------------------------------------------------------------
    "method typo": ("train", ["method=pstr"], "error: method=pstr is not an option of method; did"),
    "method typo in a sweep": (
        "train",
        ["-m", "method=uniform,pstr"],
        "did you mean method=pstar?",
    ),
    "reward typo": ("train", ["reward=foo"], "reward=foo is not an option of reward"),
    "model typo": ("train", ["model=llama_tiniest"], "did you mean model=llama_tiny?"),
    "trainer typo": ("train", ["trainer=tpu"], "trainer=tpu is not an option of trainer"),
    "data typo": ("train", ["data=samples"], "did you mean data=sample?"),
    "experiment typo": ("train", ["experiment=babylm"], "did you mean experiment=babylm2026?"),
    "key typo": ("train", ["train.lrr=0.1"], "error: train.lrr is not a setting; did you mean"),
    "nested key typo": ("train", ["model.hiden_size=64"], "did you mean model.hidden_size?"),
    "key under a value": ("train", ["model.seq_len.x=3"], "model.seq_len has no settings under it"),
    "misspelt key with +": ("train", ["+train.max_step=10"], "did you mean train.max_steps?"),
    "misspelt mixer key": (
        "train",
        ["method=exp3", "+method.mixer.warmup_step=5"],
        "did you mean method.mixer.warmup_steps?",
    ),
    "moved key": (
        "train",
        ["method=pstar", "method.mixer.gamma=0.2"],
        "it moved to reward.policy.gamma; use reward.policy.gamma=0.2 instead",
    ),
    "moved key with +": ("train", ["+method.mixer.gamma=0.2"], "it moved to reward.policy.gamma"),
    "margin on v1": (
        "train",
        ["objective=mean", "+reward.margin=2"],
        "reward.margin=2 applies to the lag of cross_lingual_deficit only",
    ),
    "unknown top-level key": ("train", ["+foo=1"], "error: foo is not a setting"),
    "unreadable command line": ("train", ["train.lr=[0.1"], "the command line cannot be read"),
    # -- train: places and devices -------------------------------------------------------
    "gpu without a GPU": ("train", ["trainer=gpu"], "error: trainer=gpu asks for 1 GPU(s)"),
    "runs_dir in /proc": ("train", ["paths.runs_dir=/proc/x"], "paths.runs_dir=/proc/x cannot"),
    "runs_dir under a file": ("train", ["paths.runs_dir=/etc/passwd/x"], "not a folder"),
    "run_dir in /proc": ("train", ["run_dir=/proc/1/x"], "run_dir=/proc/1/x cannot be written"),
    "cache_dir in /proc": ("train", ["paths.cache_dir=/proc/x"], "paths.cache_dir=/proc/x"),
    "run_dir taken": ("train", ["run_dir={existing}"], "already holds a run (status: completed)"),
    "run_dir not a run": ("train", ["run_dir={root}/not_a_run"], "already exists and is not"),
    # -- train: resume -------------------------------------------------------------------
    "resume without run_dir": ("train", ["resume=true"], "resume=true needs the run to continue"),
    "resume nothing": ("train", ["resume=true", "run_dir={root}/gone"], "it has no config.yaml"),
    "resume an empty folder": ("train", ["resume=true", "run_dir={root}/empty"], "no config.yaml"),
    "resume, new lr": (
        "train",
        ["resume=true", "run_dir={existing}", "train.lr=0.01"],
        "with other settings (train.lr: 0.003 → 0.01)",
    ),
    "resume, new model": (
        "train",
        ["resume=true", "run_dir={existing}", "model.hidden_size=128"],
        "model.hidden_size: 64 → 128",
    ),
    "resume, longer": (
        "train",
        ["resume=true", "run_dir={existing}", "train.max_steps=1000"],
        "train.max_steps: 500 → 1000",
    ),
    "resume, other method": (
        "train",
        ["resume=true", "run_dir={existing}", "method=uniform"],
        "cannot resume",
    ),
    "corrupt last.ckpt": (
        "train",
        ["run_dir={interrupted}", "resume=true"],  # a completed run is not resumed at all
        "last.ckpt cannot be read",
    ),
    # -- train: data (fail while preparing, before training) -----------------------------
    "text is a number": (
        "train",
        [*ENG_ONLY, "data.source.eng={data}/text_number"],
        "part.jsonl:1: 'text' must be a string, got 123",
    ),
    "text is null": (
        "train",
        [*ENG_ONLY, "data.source.eng={data}/text_null"],
        "'text' must be a string, got null",
    ),
    "corrupt parquet": (
        "train",
        [*ENG_ONLY, "data.source.eng={data}/parquet"],
        "part.parquet is not a readable parquet file",
    ),
    "no training text left": (
        "train",
        ["data.languages=[eng,nld]", "data.source.eng={data}/one_big"],
        "error: language 'eng' gets no training text",
    ),
    "more epochs than the cap": (
        "train",
        ["method=uniform", "train.max_steps=100000"],
        "lower train.max_steps to at most",
    ),
    # -- eval ----------------------------------------------------------------------------
    "eval: no run": ("eval", [], "give exactly one of run_dir=<run directory>"),
    "eval: both": ("eval", ["run_dir={existing}", "run_dirs=[{existing}]"], "exactly one of"),
    "eval: run missing": ("eval", ["run_dir={root}/gone"], "run_dir {root}/gone does not exist"),
    "eval: one of the runs missing": (
        "eval",
        ["run_dirs=[{existing},{root}/gone]"],
        "does not exist",
    ),
    "eval: batch 0": ("eval", ["run_dir={existing}", "batch_size=0"], "batch_size must be a pos"),
    "eval: batch -3": ("eval", ["run_dir={existing}", "batch_size=-3"], "got -3"),
    "eval: batch a word": ("eval", ["run_dir={existing}", "batch_size=big"], "got 'big'"),
    "eval: context 1": ("eval", ["run_dir={existing}", "context_length=1"], "context_length must"),
    "eval: stride 0": ("eval", ["run_dir={existing}", "stride=0"], "stride must be null or a pos"),
    "eval: stride > context": (
        "eval",
        ["run_dir={existing}", "context_length=16", "stride=32"],
        "stride (32) must not exceed context_length (16)",
    ),
    "eval: device": ("eval", ["run_dir={existing}", "device=tpu"], "device must be auto, cpu"),
    "eval: force maybe": ("eval", ["run_dir={existing}", "force=maybe"], "force must be true or"),
    "eval: unknown checkpoint": (
        "eval",
        ["run_dir={existing}", "checkpoints=[chck_99M]"],
        "unknown checkpoint(s) chck_99M",
    ),
    "eval: out_dir in /proc": (
        "eval",
        ["run_dirs=[{existing}]", "out_dir=/proc/x"],
        "out_dir=/proc/x cannot be written",
    ),
    "eval: key typo": ("eval", ["run_dir={existing}", "batchsize=4"], "did you mean batch_size?"),
    "eval: group typo": ("eval", ["run_dir={existing}", "eval_data=blimp"], "eval_data=blimp is"),
    "eval: pairs missing": (
        "eval",
        ["run_dir={existing}", "++minimal_pairs.eng=[{root}/gone.jsonl]"],
        "gone.jsonl",
    ),
    "eval: pairs broken JSON": (
        "eval",
        ["run_dir={existing}", "++minimal_pairs.eng=[{data}/pairs_json/part.jsonl]"],
        "pairs_json/part.jsonl:2 is not valid JSON",
    ),
    "eval: pairs invalid UTF-8": (
        "eval",
        ["run_dir={existing}", "++minimal_pairs.eng=[{data}/pairs_utf8/part.jsonl]"],
        "part.jsonl is not valid UTF-8",
    ),
    # -- summarize -----------------------------------------------------------------------
    "summarize: nothing": ("summarize", [], "give exactly one of sweep_dir=<sweep folder>"),
    "summarize: both": (
        "summarize",
        ["sweep_dir={root}/runs", "run_dirs=[{existing}]"],
        "exactly one of",
    ),
    "summarize: sweep missing": ("summarize", ["sweep_dir={root}/gone"], "is not a folder"),
    "summarize: no runs there": ("summarize", ["sweep_dir={root}/empty"], "holds no run"),
    "summarize: run missing": (
        "summarize",
        ["run_dirs=[{root}/gone]", "out_dir={root}/compared"],
        "not run directories",
    ),
    "summarize: out_dir in /proc": (
        "summarize",
        ["run_dirs=[{existing}]", "out_dir=/proc/x"],
        "out_dir=/proc/x cannot be written",
    ),
    "summarize: key typo": ("summarize", ["sweepdir=x"], "did you mean sweep_dir?"),
    # -- benchmark -----------------------------------------------------------------------
    "benchmark: no seeds": ("benchmark", ["seeds=0"], "error: seeds=0: the number of training"),
    "benchmark: negative seeds": ("benchmark", ["seeds=-2"], "seeds=-2"),
    "benchmark: negative steps": ("benchmark", ["steps=-10"], "steps=-10: train.max_steps"),
    "benchmark: steps a word": ("benchmark", ["steps=many"], "steps=many"),
    "benchmark: negative tie": ("benchmark", ["tie=-1"], "tie=-1: a difference counted as a tie"),
    "benchmark: confidence 1.5": ("benchmark", ["confidence=1.5"], "confidence=1.5"),
    "benchmark: unknown entry": ("benchmark", ["only=[uniform,nosuch]"], "unknown method entr"),
    "benchmark: unknown baseline": ("benchmark", ["baseline=nosuch"], "'nosuch'"),
    "benchmark: data typo": ("benchmark", ["data=samples"], "did you mean data=sample?"),
    "benchmark: key typo": ("benchmark", ["seedz=3"], "did you mean seeds?"),
    # -- push ----------------------------------------------------------------------------
    "push: repo id ../../etc": (
        "push",
        ["run_dir={existing}", "repo_id=../../etc", "--dry-run"],
        "error: repo_id '../../etc' is not a Hub model id",
    ),
    "push: repo id a/b/c": ("push", ["run_dir={existing}", "repo_id=a/b/c", "--dry-run"], "a/b/c"),
    "push: repo id empty": (
        "push",
        ["run_dir={existing}", "repo_id=", "--dry-run"],
        "repo_id is missing",
    ),
    "push: repo id not given": (
        "push",
        ["run_dir={existing}", "--dry-run"],
        "error: repo_id is missing; pass repo_id=<user or org>/<name>.",
    ),
    "push: run not given": ("push", ["repo_id=me/run", "--dry-run"], "run_dir is missing"),
    "push: run missing": (
        "push",
        ["run_dir={root}/gone", "repo_id=me/run", "--dry-run"],
        "does not exist",
    ),
    "push: nothing exported": (
        "push",
        ["run_dir={root}/empty", "repo_id=me/run", "--dry-run"],
        "has no complete final/ export",
    ),
    "push: retries 0": (
        "push",
        ["run_dir={existing}", "repo_id=me/run", "retries=0", "--dry-run"],
        "retries must be a positive integer",
    ),
    "push: negative delay": (
        "push",
        ["run_dir={existing}", "repo_id=me/run", "retry_delay_s=-1", "--dry-run"],
        "retry_delay_s must be a number ≥ 0",
    ),
    "push: key typo": (
        "push",
        ["run_dir={existing}", "repo_id=me/run", "retrys=3"],
        "did you mean retries?",
    ),
}


def arguments(entry: str, args: list[str], world: dict[str, Path]) -> list[str]:
    filled = [a.format(**{k: str(v) for k, v in world.items()}) for a in args]
    if entry == "train":
        runs, cache = world["root"] / "runs", world["root"] / "cache"
        given = {a.split("=")[0] for a in filled}
        filled = [f"paths.runs_dir={runs}", f"paths.cache_dir={cache}", *filled]
        if "resume=true" not in filled:  # a resume keeps the run's own settings
            filled += [t for t in TINY if t.split("=")[0] not in given]
    return filled


@pytest.fixture(scope="module")
def scripts() -> dict[str, ModuleType]:
    """The entry scripts of src/, loaded as modules (their ``main()`` reads ``sys.argv``)."""
    loaded = {}
    for name in ("train", "eval", "summarize", "push", "benchmark"):
        spec = importlib.util.spec_from_file_location(
            f"taam_script_{name}", ROOT / f"src/{name}.py"
        )
        loaded[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded[name])
    return loaded


def run_script(script: ModuleType, args: list[str], monkeypatch) -> int:
    monkeypatch.setattr(sys, "argv", [script.__file__, *args])
    try:
        script.main()
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_error_line_and_claims_nothing(case, world, scripts, capsys, monkeypatch):
    entry, args, expected = CASES[case]
    monkeypatch.chdir(world["root"])  # Hydra's sweep folder, if any, lands here
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    runs = world["root"] / "runs"
    before, existing = listing(runs), snapshot(world["existing"])
    code = run_script(scripts[entry], arguments(entry, args, world), monkeypatch)
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("error")]
    assert code != 0, f"accepted: {case}"
    assert "Traceback" not in out + err
    assert len(errors) == 1 and errors[0].startswith("error: "), err[-3000:]
    assert expected.format(**{k: str(v) for k, v in world.items()}) in errors[0], errors[0]
    assert listing(runs) == before, "a run directory was claimed"
    assert snapshot(world["existing"]) == existing
    print(f"{entry}: {case}: {errors[0]}")  # pytest -rP lists every case with its message


def test_there_are_many_cases_for_each_entry():
    per_entry = {
        e: sum(c[0] == e for c in CASES.values()) for e in ("train", "eval", "summarize", "push")
    }
    assert sum(per_entry.values()) >= 80 and min(per_entry.values()) >= 5, per_entry


@pytest.mark.slow
@pytest.mark.parametrize(
    ("entry", "args", "expected"),
    [
        ("train", ["method=pstr"], "error: method=pstr is not an option of method"),
        ("train", ["train.lr=0"], "error: train.lr must be a positive finite number, got 0"),
        ("eval", ["batch_size=-3", "run_dir=."], "error: batch_size must be a positive integer"),
        ("summarize", ["sweepdir=x"], "error: sweepdir is not a setting"),
        ("push", ["run_dir=.", "repo_id=a/b/c", "--dry-run"], "error: repo_id 'a/b/c' is not"),
    ],
)
def test_each_script_prints_one_line_as_a_process(entry, args, expected, tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / f"src/{entry}.py"), *args],
        cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(expected), result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran


def test_resuming_a_completed_run_does_nothing_and_says_so(
    world, scripts, capsys, caplog, monkeypatch
):
    """A requeued job may resume a run that has finished: exit 0, one clear line, nothing written."""
    monkeypatch.chdir(world["root"])
    runs = world["root"] / "runs"
    before, existing = listing(runs), snapshot(world["existing"])
    args = arguments("train", ["resume=true", "run_dir={existing}"], world)
    code = run_script(scripts["train"], args, monkeypatch)
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    assert "already completed (20 of" in out + err + caplog.text
    assert listing(runs) == before and snapshot(world["existing"]) == existing
