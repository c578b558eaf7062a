"""Run directories, writes and data under faults, without training: claims, disk full,
stale temporaries, non-finite exports, attempts, empty splits, the shared cache."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from transformers import LlamaConfig, LlamaForCausalLM

from taam.data import prepare
from taam.data.sources import DataError, Document, load_folder, split_long
from taam.io import atomic_directory, remove_stale_temporaries
from taam.publish.export import export_hf
from taam.run.checkpoint_io import NonFiniteWeights
from taam.run.claim import claim_run_dir
from taam.run.identity import RunIdentity
from taam.run.rundir import RunDirError
from taam.run.status import Attempt
from tests_support import compose_config

# -- the run-directory claim ---------------------------------------------------------------


def _claim(path: str, barrier, results) -> None:
    barrier.wait()
    try:
        with claim_run_dir(path, resume=False):
            barrier.wait()  # hold the claim until every contender has tried
            results.put("won")
    except RunDirError:
        barrier.wait()
        results.put("refused")


def test_of_two_processes_starting_the_same_run_exactly_one_gets_it(tmp_path):
    ctx = mp.get_context("fork")
    for trial in range(25):
        barrier, results = ctx.Barrier(2), ctx.Queue()
        path = str(tmp_path / f"run{trial}")
        procs = [ctx.Process(target=_claim, args=(path, barrier, results)) for _ in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert sorted(results.get(timeout=5) for _ in procs) == ["refused", "won"], trial


def test_a_directory_that_never_trained_is_reused_and_one_that_trained_is_not(tmp_path):
    failed = tmp_path / "failed"
    failed.mkdir()
    (failed / "summary.json").write_text('{"status": "failed"}')
    (failed / "train.log").write_text("data error\n")
    with claim_run_dir(failed, resume=False):
        pass  # the same command works once the data is fixed
    (failed / "last.ckpt").write_bytes(b"x")
    refused = pytest.raises(RunDirError, match=r"already holds a run \(status: failed\)")
    with refused, claim_run_dir(failed, resume=False):
        pass


def test_a_start_killed_before_training_is_reused_only_by_its_own_config(tmp_path):
    killed = tmp_path / "killed"
    killed.mkdir()
    (killed / "train.log").write_text("tokenising\n")
    cfg = compose_config(["method=uniform"])
    (killed / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    with claim_run_dir(killed, resume=False, cfg=compose_config(["method=uniform", "logger=csv"])):
        pass  # the same config (where it logs may differ) takes it over
    other = pytest.raises(RunDirError, match="holds a start of another config")
    with other, claim_run_dir(killed, resume=False, cfg=compose_config(["method=exp3"])):
        pass


def test_a_run_in_use_is_refused(tmp_path):
    busy = pytest.raises(RunDirError, match="in use by another process")
    with claim_run_dir(tmp_path / "r", resume=False), busy, claim_run_dir(tmp_path / "r", False):
        pass


# -- writes --------------------------------------------------------------------------------

DISK_FULL = """
import resource, signal, sys, torch
from taam.run.checkpoint_io import StagedCheckpointIO
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the limit: EFBIG, as a full disk gives ENOSPC
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
try:
    StagedCheckpointIO().save_checkpoint({"state_dict": {"w": torch.zeros(100_000)}}, sys.argv[1])
except Exception as err:
    print(f"{type(err).__name__}: {err}")
"""


def test_a_full_disk_is_one_clear_error_and_leaves_no_partial_file(tmp_path):
    target = tmp_path / "run" / "last.ckpt"
    target.parent.mkdir()
    target.write_bytes(b"the previous checkpoint")
    out = subprocess.run(
        [sys.executable, "-c", DISK_FULL, str(target)], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith(f"DiskFull: no space left writing {target} (File too large)")
    assert "it needs about 0.4 MB and" in out and "move run_dir, then resume" in out
    assert sorted(p.name for p in target.parent.iterdir()) == ["last.ckpt"]
    assert target.read_bytes() == b"the previous checkpoint"


def test_checkpoints_are_staged_next_to_the_destination_not_in_tmpdir(tmp_path, monkeypatch):
    from taam.run.checkpoint_io import StagedCheckpointIO

    staged = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: staged.append(Path(a).parent) or real(a, b))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "no-such-dir"))
    StagedCheckpointIO().save_checkpoint({"state_dict": {}}, tmp_path / "last.ckpt")
    assert staged == [tmp_path] and (tmp_path / "last.ckpt").exists()


def test_stale_temporaries_are_removed_and_a_moved_aside_export_comes_back(tmp_path):
    (tmp_path / ".last.ckpt.abc.tmp").write_bytes(b"half")
    (tmp_path / ".final.xyz.tmp").mkdir()
    (tmp_path / ".final.old").mkdir()  # killed between the two renames of atomic_directory
    (tmp_path / ".final.old" / "model.safetensors").write_bytes(b"old model")
    (tmp_path / "checkpoints" / ".chck_1M.q.tmp").mkdir(parents=True)
    remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "checkpoints",
        "final",
        "model.safetensors",
    ]
    assert (tmp_path / "final" / "model.safetensors").read_bytes() == b"old model"
    with atomic_directory(tmp_path / "final") as new:  # a finished commit leaves nothing behind
        (new / "model.safetensors").write_bytes(b"new model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoints", "final"]


def test_a_model_with_non_finite_weights_is_never_exported(tmp_path):
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=32,
            hidden_size=8,
            intermediate_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
        )
    )
    with torch.no_grad():
        model.model.layers[0].mlp.up_proj.weight[0, 0] = float("nan")
    (tmp_path / "tok").mkdir()
    with pytest.raises(NonFiniteWeights, match="final/ was not written"):
        export_hf(model, tmp_path / "tok", tmp_path / "final", {"step": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tok"]


# -- run status ----------------------------------------------------------------------------


def cfg_for(resume: bool):
    return OmegaConf.create(
        {
            "resume": resume,
            "seed": 1,
            "method": {"name": "Uniform", "mixer": {"_target_": "taam.mixer.static.uniform"}},
            "reward": {"name": "normalized_excess_loss"},
            "data": {"languages": ["eng", "nld"]},
        }
    )


def test_a_failed_resume_keeps_the_recorded_outcome_and_adds_an_attempt(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"status": "completed", "step": 500}))
    cfg = cfg_for(resume=True)
    attempt = Attempt(tmp_path, cfg, RunIdentity.of(cfg))
    (tmp_path / "summary.json").write_text(json.dumps({"status": "failed", "step": 510}))
    summary = attempt.close(RuntimeError("boom"))  # even over a summary the failure wrote
    assert summary["status"] == "completed" and summary["step"] == 500
    assert [(a["status"], a["resume"], a["error"]) for a in summary["attempts"]] == [
        ("failed", True, "RuntimeError: boom")
    ]


def test_a_new_run_that_fails_is_failed_with_its_identity(tmp_path):
    cfg = cfg_for(resume=False)
    summary = Attempt(tmp_path, cfg, RunIdentity.of(cfg)).close(DataError("no text"))
    assert summary["status"] == "failed" and summary["error"] == "DataError: no text"
    assert summary["method"] == "Uniform" and summary["languages"] == ["eng", "nld"]
    assert len(summary["attempts"]) == 1


# -- data ----------------------------------------------------------------------------------


def test_over_long_documents_are_split_at_spaces_with_bounded_pieces():
    text = "abcd " * 10_000
    pieces = split_long(Document(text, "big.txt"), max_chars=1_000)
    assert all(len(p.text) <= 1_000 for p in pieces) and "".join(p.text for p in pieces) == text
    assert pieces[0].origin == "big.txt~0"
    one_line = split_long(Document("x" * 2_500, "line"), max_chars=1_000)
    assert [len(p.text) for p in one_line] == [1_000, 1_000, 500]


def test_a_non_string_text_field_is_a_data_error(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "fine"}\n{"text": [1, 2]}\n')
    with pytest.raises(DataError, match=r"a.jsonl:2: 'text' must be a string, got \[1, 2\]"):
        load_folder(tmp_path)


def data_cfg(source: str) -> dict:
    return {
        "languages": ["eng", "nld"],
        "source": {"eng": source, "nld": "sample"},
        "byte_premium": {},
        "budget": {"total_words_m": 0.03, "unit": "bytes", "allocation": "equal"},
        "heldout_fraction": 0.05,
        "seed": 1,
        "tokenizer": {"vocab_size": 512, "sample_bytes_per_language": 100_000},
    }


def test_a_language_left_without_training_text_fails_before_tokenisation(tmp_path):
    (tmp_path / "eng").mkdir()
    (tmp_path / "eng" / "one.txt").write_text("word " * 20_000)  # one document: held-out takes it
    with pytest.raises(DataError, match="language 'eng' gets no training text"):
        prepare.prepare_data(data_cfg(str(tmp_path / "eng")), 32, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # nothing tokenised, nothing cached


def _prepare(cache: str, log: str) -> None:
    real = prepare.write_shards

    def counted(*args, **kwargs):
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    prepare.write_shards = counted
    prepare.prepare_data(data_cfg("sample"), 32, cache)


def test_one_process_tokenises_a_cache_key_while_the_other_waits(tmp_path):
    ctx = mp.get_context("fork")
    log = tmp_path / "tokenised.log"
    procs = [ctx.Process(target=_prepare, args=(str(tmp_path / "c"), str(log))) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0, 0]
    assert len(log.read_text().split()) == 1
