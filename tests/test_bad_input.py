"""Every kind of bad input gives one line, ``error: <what> … <how to fix>``, a non-zero exit,
and leaves an existing run exactly as it was. Each case runs the entry script as a user would;
all fail before any training starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests_support import ROOT, write_export, write_run_files

pytestmark = pytest.mark.slow  # ~30 entry-script starts: a few minutes on 2 CPU cores

STATE = {"step": 20, "method": "Uniform", "reward": None, "seed": 1, "languages": ["eng", "nld"]}
STATE |= {"budget_words_m": 0.03, "pi": {"eng": 0.5, "nld": 0.5}, "exposures_tokens": 5120}
STATE |= {"wall_clock_s": 1.0, "run_dir": "runs/existing"}
STATE |= {
    "per_language": {
        lang: {"exposures_tokens": 2560, "unique_tokens_seen": 2560, "epochs": 0.5}
        for lang in ("eng", "nld")
    }
}


def existing_run(folder: Path) -> Path:
    """A finished run's files (what the cases must leave alone), a final/ to push or score."""
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({**STATE, "status": "completed"}))
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
    return {"root": root, "data": data, "existing": existing_run(root / "runs" / "existing")}


TRAIN = "src/train.py"
EVAL = "src/eval.py"
PUSH = "src/push.py"
ENG_ONLY = ["data.languages=[eng]"]

# (entry, arguments, what the one error line must contain); {data}/{existing} are filled in.
CASES = {
    "seed negative": (TRAIN, ["seed=-1"], "error: seed must be an integer ≥ 0, got -1"),
    "seed not a number": (TRAIN, ["seed=abc"], "error: seed must be an integer ≥ 0, got 'abc'"),
    "global_batch 0": (TRAIN, ["train.global_batch=0"], "train.global_batch must be a positive"),
    "global_batch < 0": (TRAIN, ["train.global_batch=-8"], "got -8"),
    "lr < 0": (TRAIN, ["train.lr=-0.1"], "error: train.lr must be a positive finite number, got -0.1"),
    "max_steps 0": (TRAIN, ["train.max_steps=0"], "error: train.max_steps must be a positive"),
    "max_steps < 0": (TRAIN, ["train.max_steps=-5"], "train.max_steps must be a positive integer"),
    "gamma 0": (TRAIN, ["method=pstar", "method.mixer.gamma=0"], "method.mixer.gamma must be"),
    "gamma > 1": (TRAIN, ["method=exp3", "method.mixer.gamma=1.5"], "in (0, 1]"),
    "prior temperature 0": (
        TRAIN,
        ["method=pstar", "method.mixer.prior.temperature=0"],
        "error: method.mixer.prior.temperature must be a positive number (T), got 0",
    ),
    "pstar, one language": (
        TRAIN,
        ["method=pstar", *ENG_ONLY],
        "error: method Pstar starts from the typological prior",
    ),
    "prior, one language": (TRAIN, ["method=prior", *ENG_ONLY], "has only ['eng']"),
    "misspelt key with +": (
        TRAIN,
        ["+train.max_step=10"],
        "error: train.max_step is not a setting; did you mean train.max_steps?",
    ),
    "misspelt mixer key": (
        TRAIN,
        ["method=exp3", "+method.mixer.gama=0.2"],
        "did you mean method.mixer.gamma?",
    ),
    "gpu without a GPU": (TRAIN, ["trainer=gpu"], "error: trainer=gpu asks for 1 GPU(s)"),
    "zero budget": (
        TRAIN,
        ["data.budget.total_words_m=0"],
        "error: data.budget.total_words_m must be a positive number",
    ),
    "text is a number": (
        TRAIN,
        [*ENG_ONLY, "data.source.eng={data}/text_number"],
        "part.jsonl:1: 'text' must be a string, got 123",
    ),
    "text is null": (
        TRAIN,
        [*ENG_ONLY, "data.source.eng={data}/text_null"],
        "'text' must be a string, got null",
    ),
    "corrupt parquet": (
        TRAIN,
        [*ENG_ONLY, "data.source.eng={data}/parquet"],
        "part.parquet is not a readable parquet file",
    ),
    "no training text left": (
        TRAIN,
        ["data.languages=[eng,nld]", "data.source.eng={data}/one_big"],
        "error: language 'eng' gets no training text",
    ),
    "corrupt last.ckpt": (
        TRAIN,
        ["run_dir={existing}", "resume=true"],
        "last.ckpt cannot be read (",
    ),
    "pairs: broken JSON": (
        EVAL,
        ["run_dir={existing}", "++minimal_pairs.eng=[{data}/pairs_json/part.jsonl]"],
        "pairs_json/part.jsonl:2 is not valid JSON",
    ),
    "pairs: invalid UTF-8": (
        EVAL,
        ["run_dir={existing}", "++minimal_pairs.eng=[{data}/pairs_utf8/part.jsonl]"],
        "part.jsonl is not valid UTF-8",
    ),
    "repo id ../../etc": (
        PUSH,
        ["run_dir={existing}", "repo_id=../../etc", "--dry-run"],
        "error: repo_id '../../etc' is not a Hub model id",
    ),
    "repo id a/b/c": (PUSH, ["run_dir={existing}", "repo_id=a/b/c", "--dry-run"], "'a/b/c'"),
    "repo id empty": (PUSH, ["run_dir={existing}", "repo_id=", "--dry-run"], "repo_id is missing"),
    "repo id not given": (
        PUSH,
        ["run_dir={existing}", "--dry-run"],
        "error: repo_id is missing; pass repo_id=<user or org>/<name>.",
    ),
    "hub unreachable": (
        PUSH,
        ["run_dir={existing}", "repo_id=me/run", "retries=2", "retry_delay_s=0"],
        "error: the Hub did not answer create_repo after 2 attempts",
    ),
}


def command(entry: str, args: list[str], world: dict[str, Path]) -> list[str]:
    filled = [a.format(data=world["data"], existing=world["existing"]) for a in args]
    if entry == TRAIN:
        runs = world["root"] / "runs"
        filled = [f"paths.runs_dir={runs}", f"paths.cache_dir={world['root'] / 'cache'}", *filled]
        if not any(a.startswith("run_dir=") for a in filled):
            filled.append(f"run_dir={runs / 'new'}")
        filled += ["data.budget.total_words_m=0.03", "data.tokenizer.vocab_size=512"] * (
            not any(a.startswith("data.budget.total_words_m") for a in filled)
        )
    return [sys.executable, str(ROOT / entry), *filled]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_error_line_and_leaves_runs_untouched(case, world):
    entry, args, expected = CASES[case]
    before = snapshot(world["existing"])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    if case == "hub unreachable":  # a real connection refused, not a mock
        env |= {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9", "HF_TOKEN": "hf_x"}
    result = subprocess.run(
        command(entry, args, world), env=env, capture_output=True, text=True, timeout=600
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert len(errors) == 1 and errors[0].startswith("error: "), result.stderr[-3000:]
    assert expected in errors[0]
    print(f"{case}: {errors[0]}")  # pytest -rP lists every case with its message
    assert snapshot(world["existing"]) == before
