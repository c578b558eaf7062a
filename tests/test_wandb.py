"""``logger=wandb``: offline without an API key, one W&B run per TAAM run, history read back
from the offline run file (``run-<id>.wandb``: W&B's records in LevelDB log framing)."""

from __future__ import annotations

import csv
import json
import struct
import zlib
from pathlib import Path

import pytest
from wandb.proto import wandb_internal_pb2 as pb

from taam.logging.wandb_logger import run_tags, wandb_mode
from taam.run.identity import RunIdentity
from taam.run.training import train
from tests_support import compose_config

BLOCK, HEADER = 32768, 7  # LevelDB log: 32 KiB blocks, 7-byte record headers
FULL, LAST = 1, 4  # record types that end a payload (FIRST and MIDDLE continue it)


def wandb_records(path: Path) -> list[pb.Record]:
    """Every record of an offline ``.wandb`` file, checksums verified."""
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    records, payload, pos = [], b"", HEADER  # the file header is 7 bytes too
    while pos + HEADER <= len(data):
        if BLOCK - pos % BLOCK < HEADER:  # a block's tail too short for a header is padding
            pos += BLOCK - pos % BLOCK
            continue
        checksum, length, kind = struct.unpack("<IHB", data[pos : pos + HEADER])
        chunk = data[pos + HEADER : pos + HEADER + length]
        assert zlib.crc32(chunk, zlib.crc32(bytes([kind]))) == checksum
        payload, pos = payload + chunk, pos + HEADER + length
        if kind in (FULL, LAST):
            record = pb.Record()
            record.ParseFromString(payload)
            records.append(record)
            payload = b""
    return records


def history(records: list[pb.Record]) -> list[dict]:
    """The logged rows: key → decoded JSON value."""
    return [
        {
            item.key or "/".join(item.nested_key): json.loads(item.value_json)
            for item in r.history.item
        }
        for r in records
        if r.WhichOneof("record_type") == "history"
    ]


def test_mode_is_offline_without_an_api_key(monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    assert wandb_mode("auto") == "offline"
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert wandb_mode("auto") == "online"
    monkeypatch.setenv("WANDB_MODE", "disabled")  # auto follows WANDB_MODE where it is set
    assert wandb_mode("auto") == "disabled"
    assert wandb_mode("offline") == "offline"  # a mode set in the config wins
    with pytest.raises(ValueError, match=r"logger\.wandb\.mode"):
        wandb_mode("cloud")


def test_runs_are_grouped_by_method_and_tagged():
    cfg = compose_config(["method=pstar", "reward=cross_lingual_deficit", "seed=3"])
    assert run_tags(RunIdentity.of(cfg)) == (
        "Pstar-cld-dev",
        ["Pstar", "cross_lingual_deficit", "dev", "seed3"],
    )
    assert run_tags(RunIdentity.of(compose_config(["method=uniform", "seed=3"]))) == (
        "Uniform",
        ["Uniform", "seed3"],
    )


@pytest.mark.slow
def test_offline_runs_hold_the_pi_history_one_wandb_run_per_run(tiny_overrides, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    run_dirs = [
        train(compose_config([*tiny_overrides, "logger=wandb", *overrides]))
        for overrides in (
            ["method=pstar", "seed=1", "method.mixer.warmup_steps=0", "signal.every=5"],
            ["method=uniform", "seed=2"],
        )
    ]
    ids = set()
    for run_dir in run_dirs:
        [offline] = (run_dir / "wandb").glob("offline-run-*")
        [wandb_file] = offline.glob("run-*.wandb")
        records = wandb_records(wandb_file)
        [run] = [r.run for r in records if r.WhichOneof("record_type") == "run"]
        ids.add(run.run_id)
        assert run.display_name == run_dir.name and run.project == "taam"
        [exit_record] = [r.exit for r in records if r.WhichOneof("record_type") == "exit"]
        assert exit_record.exit_code == 0
        assert (offline / "files" / "final" / "README.md").read_text() == (
            run_dir / "final" / "README.md"
        ).read_text()

        rows = history(records)
        with (run_dir / "mixer.csv").open(newline="") as f:
            mixer = list(csv.DictReader(f))
        logged = [row for row in rows if "pi_zho" in row]
        assert [row["trainer/global_step"] for row in logged] == [int(r["step"]) for r in mixer]
        for row, expected in zip(logged, mixer, strict=True):
            for lang in ("eng", "nld", "zho"):
                assert row[f"pi_{lang}"] == pytest.approx(float(expected[f"pi_{lang}"]))
                assert {f"bpb_{lang}", f"loss_nats_per_token_{lang}", f"epochs_{lang}"} <= set(row)
            assert row["exposures_tokens"] == float(expected["exposures_tokens"])
        tables = {key.split("/")[0] for row in rows for key in row if key.endswith("/_type")}
        assert {"ledger", "mixer", "pi_over_exposures_table"} <= tables
        if run_dir.name.endswith("_Pstar-cld-dev_seed1"):
            assert run.run_group == "Pstar-cld-dev"
            assert list(run.tags) == ["Pstar", "cross_lingual_deficit", "dev", "seed1"]
            assert {"prior", "prior_distance"} <= tables
            assert {f"reward_{lang}" for lang in ("eng", "nld", "zho")} <= set(logged[-1])
            pi = [[row[f"pi_{lang}"] for lang in ("eng", "nld", "zho")] for row in logged]
            assert pi[0] != pi[-1]  # EXP3 moved π: a real trajectory, not a constant
        else:
            assert run.run_group == "Uniform" and "prior" not in tables
    assert len(ids) == 2  # the second run did not reuse the first one's W&B run
