"""scripts/score_splits.py on a run directory with a real (tiny) checkpoint: its held-out BPB is
the evaluator's, and a dev split equal to the held-out split gives the same lags."""

from __future__ import annotations

import csv
import json
import runpy
import shutil

import pytest
from omegaconf import OmegaConf

from eval_support import HELDOUT, eval_config, make_run_dir
from taam.data.prepare import heldout_hash, select
from taam.data.sources import load_source
from taam.evaluation import evaluate
from taam.languages import byte_premiums
from tests_support import ROOT

SCRIPT = runpy.run_path(str(ROOT / "scripts" / "score_splits.py"))


def test_whole_split_lags_match_the_evaluator(tmp_path):
    run = make_run_dir(tmp_path / "bench" / "uniform_split3_seed1", {"final": 1_000})
    ledger = json.loads((run / "ledger.json").read_text())
    ledger |= {"data_seed": 3, "data_key": "k"}
    (run / "ledger.json").write_text(json.dumps(ledger))
    cache = tmp_path / "cache"
    (run / "config.yaml").write_text(
        f"seed: 1\npaths: {{cache_dir: {cache}}}\nmodel: {{seq_len: 16}}\n"
    )
    for lang in HELDOUT:  # the dev split: a copy of the held-out split
        (cache / "k" / lang).mkdir(parents=True)
        shutil.copy(run / "heldout" / f"{lang}.jsonl", cache / "k" / lang / "dev.jsonl")

    SCRIPT["main"](str(tmp_path / "bench"))
    with (tmp_path / "bench" / "split_lags_full.csv").open(newline="", encoding="utf-8") as f:
        rows = {r["language"]: r for r in csv.DictReader(f)}
    evaluate(eval_config([f"run_dir={run}", "context_length=16", "stride=16"]))
    with (run / "eval" / "results.csv").open(newline="", encoding="utf-8") as f:
        adjusted = {
            r["language"]: float(r["value"])
            for r in csv.DictReader(f)
            if r["metric"] == "bpb_adjusted" and not r["file"] and r["checkpoint"] == "final"
        }
    assert set(rows) == set(HELDOUT) and {r["split"] for r in rows.values()} == {"3"}
    for lang, row in rows.items():
        assert float(row["heldout_adj"]) == pytest.approx(adjusted[lang], rel=1e-6)
        assert float(row["dev_lag_pct"]) == pytest.approx(float(row["heldout_lag_pct"]))
        assert int(row["heldout_documents"]) == len(HELDOUT[lang])
    # a second entry on the same split: every entry's runs scored, and one selected by dev
    shutil.copytree(run, tmp_path / "bench" / "fixed_split3_seed1")
    SCRIPT["main"](str(tmp_path / "bench"), "entries=all")
    with (tmp_path / "bench" / "split_lags_full.csv").open(newline="", encoding="utf-8") as f:
        assert sorted(r["entry"] for r in csv.DictReader(f)) == ["fixed"] * len(HELDOUT) + [
            "uniform"
        ] * len(HELDOUT)
    with (tmp_path / "bench" / "dev_selection.csv").open(newline="", encoding="utf-8") as f:
        (selection,) = csv.DictReader(f)
    assert selection["dev_choice"] in {"fixed", "uniform"}
    assert float(selection["dev_delta"]) == pytest.approx(0, abs=1e-9)  # the same model twice
    assert (tmp_path / "bench" / "plots" / "dev_selection.png").stat().st_size > 0
    with pytest.raises(SystemExit, match="baseline 'absent'"):
        SCRIPT["main"](str(tmp_path / "bench"), "entries=absent,fixed")
    # a benchmark of one split names its runs <entry>_seed<s>: scored the same
    single = tmp_path / "single"
    shutil.copytree(run, single / "uniform_seed1")
    SCRIPT["main"](str(single))
    with (single / "split_lags_full.csv").open(newline="", encoding="utf-8") as f:
        assert {(r["entry"], r["split"]) for r in csv.DictReader(f)} == {("uniform", "3")}


def test_unseen_text_is_every_document_the_run_neither_trained_on_nor_held_as_dev(tmp_path):
    data = OmegaConf.load(ROOT / "configs" / "data" / "sample.yaml")
    documents = {x: load_source(x, "sample") for x in data.languages}
    chosen = select(data, documents, byte_premiums(list(data.languages), {})).languages
    ledger = {
        "heldout_sha256": {x: heldout_hash(c.heldout) for x, c in chosen.items()},
        "dev_sha256": {x: heldout_hash(c.dev) for x, c in chosen.items()},
        "languages": {
            x: {
                "heldout_documents": len(c.heldout),
                "documents": len(c.train),
                "bytes": sum(d.nbytes for d in c.train),
            }
            for x, c in chosen.items()
        },
    }
    unseen = SCRIPT["unseen_texts"](tmp_path, OmegaConf.create({"data": data}), ledger)
    for x, c in chosen.items():
        seen = {d.text for d in c.train + c.dev}
        assert not seen & set(unseen[x])
        assert {d.text for d in c.heldout} <= set(unseen[x])
        assert len(unseen[x]) == len(documents[x]) - len(c.train) - len(c.dev)
        assert len(unseen[x]) > 4 * len(c.heldout)  # the point: several times the split
    # a source changed after the run: the same held-out and dev text, one more trained byte
    # (a trained document would now be scored as unseen), then a different held-out split
    ledger["languages"]["zho"]["bytes"] -= 1
    with pytest.raises(SystemExit, match=r"zho text .*\(training bytes differ"):
        SCRIPT["unseen_texts"](tmp_path, OmegaConf.create({"data": data}), ledger)
    ledger["languages"]["zho"]["bytes"] += 1
    ledger["heldout_sha256"]["nld"] = "0" * 64
    with pytest.raises(SystemExit, match=r"nld text .*\(held-out hash differ"):
        SCRIPT["unseen_texts"](tmp_path, OmegaConf.create({"data": data}), ledger)
