"""Score every held-out and dev window of each run's final model: the lags of the whole splits.

The benchmark's ``split_lags.csv`` takes the dev lags from the last dev evaluation of each run,
which scores ``signal.sequences`` windows per language (what the mixer saw). This script scores
*every* window of both splits with the final model (as ``src/eval.py`` scores held-out text),
so that the question "could any dev-steered mixer know which language lags here?" is asked of
the whole dev split, with each lag's standard error over documents (ratio estimator)::

    python scripts/score_splits.py /path/benchmark_out_dir [entries=uniform] [heldout=split]
        [out=split_lags_full.csv]

``heldout=unseen`` scores, in place of the held-out split, every document of the corpus that
the run neither trained on nor held as dev text (the held-out split among them; for the sample
about 450 documents per language where the split holds 20–25, for zho 126): a lag's SE of
about 1% where the split's is 2.5% (the ``heldout_set`` column says which set was scored).

It writes ``<out_dir>/split_lags_full.csv`` (``split_lags_full_unseen.csv`` with
``heldout=unseen``: the columns of ``split_lags.csv``, plus the entry, each BPB's relative SE,
the lag's SE and the document counts) and prints, for the first entry's runs, the agreement of
the two splits (``taam.report.splits.agreement``) and what each can resolve
(``taam.report.splits.resolution``: the documents per language a 1% lag needs). ``entries`` is
a comma-separated list of benchmark entries, or ``all``; with more than one, it also selects, on
each split, the entry whose whole dev split has the lowest worst-language loss
(``taam.report.splits.select_by_dev``: what the dev split can tell about which mixture serves
the lagging language), writes ``dev_selection.csv`` (``dev_selection_unseen.csv``) and prints
the held-out differences to the first entry (the baseline, ``uniform`` by default).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf
from transformers import AutoModelForCausalLM, AutoTokenizer

from taam.data.prepare import heldout_hash, prepare_data, select
from taam.data.shards import read_dev_texts
from taam.data.sources import load_source
from taam.evaluation.heldout import bits_per_byte, read_heldout
from taam.evaluation.scoring import encode_with_bos, sequence_logprobs
from taam.io import write_csv
from taam.languages import byte_premiums
from taam.mixer.base import ratio_relative_se
from taam.mixer.rewards import lag_standard_error
from taam.report.paired import t_interval, wins_ties_losses
from taam.report.plots import save_figure
from taam.report.splits import (
    SELECTIONS,
    agreement,
    lags_pct,
    resolution,
    rows_by_run,
    select_by_dev,
    selection_figure,
)


def score(model, tokenizer, texts: list[str], context: int) -> tuple[float, float, int]:
    """Bits per byte over all texts, its relative SE over documents (the dev evaluation's
    ratio estimator, :func:`taam.mixer.base.ratio_relative_se`) and the number of documents."""
    ids = encode_with_bos(tokenizer, texts)
    logprobs = np.asarray(sequence_logprobs(model, ids, context, context, 16))
    sizes = np.array([len(t.encode("utf-8")) for t in texts], dtype=float)
    return bits_per_byte(logprobs, texts), ratio_relative_se(-logprobs, sizes), len(texts)


def lag_se_pct(values: dict[str, float], relative_se: dict[str, float]) -> dict[str, float]:
    """Each lag's SE in % (delta method, as the mixer's margin: ``lag_standard_error``)."""
    langs = list(values)
    se = lag_standard_error(
        np.array([values[x] for x in langs]), np.array([relative_se[x] for x in langs])
    )
    return dict(zip(langs, 100 * se, strict=True))


HELDOUT_SETS = ("split", "unseen")  # the run's held-out split; every document it did not see
LAG_TO_RESOLVE = 1.0  # %, the lag issue #22 asks a mixer to close
TIE = 0.001  # |Δ| counted as a tie, the benchmark's default (configs/benchmark.yaml)
# A benchmark's run directories: <entry>_split<d>_seed<s> (splits=N) or <entry>_seed<s> (one split)
RUN_NAME = re.compile(r"(?P<entry>.+?)(?:_split\d+)?_seed\d+")


def split_cache(config, ledger: dict) -> Path:
    """The run's tokenised split (its dev texts); rebuilt from its data config where the cache
    is gone (the split is a function of the data config and seed), refused if it differs."""
    root = Path(config.paths.cache_dir) / ledger["data_key"]
    if not root.is_dir():
        prepared = prepare_data(config.data, int(config.model.seq_len), config.paths.cache_dir)
        if prepared.ledger["data_key"] != ledger["data_key"]:
            sys.exit(
                f"error: rebuilding the data of {root} gave {prepared.ledger['data_key']}: the data "
                "config or its source changed since the run; restore them or its cache."
            )
    return root


def unseen_texts(run: Path, config, ledger: dict) -> dict[str, list[str]]:
    """Every document of the run's corpus that it neither trained on nor held as dev text: its
    held-out split as ``data.heldout_unused=true`` makes it (the run's own held-out split first,
    then what the budget left), rebuilt from the run's data config and checked against the
    ledger: the held-out and dev hashes, and the training split's documents and bytes (a changed
    source could keep the first two and move a trained document into what is scored)."""
    data = OmegaConf.merge(config.data, {"heldout_unused": True})
    if data.budget.unit == "tokens":
        sys.exit(
            f"error: heldout=unseen rebuilds the selection of {run} without its tokenizer; "
            "a budget counted in tokens needs it. Use heldout=split."
        )
    languages = list(data.languages)
    documents = {x: load_source(x, str(data.source[x])) for x in languages}
    selection = select(data, documents, byte_premiums(languages, data.get("byte_premium") or {}))
    texts = {}
    for x, chosen in selection.languages.items():
        row = ledger["languages"][x]
        checks = {
            "held-out hash": heldout_hash(chosen.heldout[: row["heldout_documents"]])
            == ledger["heldout_sha256"][x],
            "dev hash": heldout_hash(chosen.dev) == ledger["dev_sha256"][x],
            "training documents": len(chosen.train) == row["documents"],
            "training bytes": sum(d.nbytes for d in chosen.train) == row["bytes"],
        }
        differs = [what for what, same in checks.items() if not same]
        if differs:
            sys.exit(
                f"error: the {x} text of {run}'s data config is not what the run was split from "
                f"({', '.join(differs)} differ from the ledger's); restore the source it trained on."
            )
        texts[x] = [d.text for d in chosen.heldout]
    return texts


def score_run(run: Path, heldout_set: str = "split") -> list[dict]:
    config = OmegaConf.load(run / "config.yaml")
    ledger = json.loads((run / "ledger.json").read_text(encoding="utf-8"))
    heldout_texts, premium = read_heldout(run)
    if heldout_set == "unseen":
        heldout_texts = unseen_texts(run, config, ledger)
    context = int(config.model.seq_len)
    data_root = split_cache(config, ledger)
    model = AutoModelForCausalLM.from_pretrained(run / "final").eval()
    tokenizer = AutoTokenizer.from_pretrained(run / "final")
    held = {x: score(model, tokenizer, heldout_texts[x], context) for x in premium}
    dev = {x: score(model, tokenizer, read_dev_texts(data_root, x), context) for x in premium}
    held_adj = {x: held[x][0] * premium[x] for x in premium}
    dev_adj = {x: dev[x][0] * premium[x] for x in premium}
    held_lag, dev_lag = lags_pct(held_adj), lags_pct(dev_adj)
    held_se = lag_se_pct(held_adj, {x: held[x][1] for x in premium})
    dev_se = lag_se_pct(dev_adj, {x: dev[x][1] for x in premium})
    return [
        {
            "entry": RUN_NAME.fullmatch(run.name)["entry"],
            "heldout_set": heldout_set,
            "split": ledger["data_seed"],
            "seed": config.seed,
            "language": x,
            "heldout_adj": held_adj[x],
            "heldout_lag_pct": held_lag[x],
            "heldout_lag_se_pct": held_se[x],
            "heldout_rel_se": held[x][1],
            "heldout_documents": held[x][2],
            "dev_adj": dev_adj[x],
            "dev_lag_pct": dev_lag[x],
            "dev_lag_se_pct": dev_se[x],
            "dev_rel_se": dev[x][1],
            "dev_documents": dev[x][2],
        }
        for x in premium
    ]


def main(out_dir: str, *options: str) -> None:
    settings = dict(o.split("=", 1) for o in options)
    out = Path(out_dir)
    entries = settings.get("entries", "uniform").split(",")
    heldout_set = settings.get("heldout", "split")
    if heldout_set not in HELDOUT_SETS:
        sys.exit(f"error: heldout={heldout_set}; use one of {', '.join(HELDOUT_SETS)}.")
    runs = [
        r
        for r in sorted(out.glob("*_seed*"))
        if (match := RUN_NAME.fullmatch(r.name))
        and (entries == ["all"] or match["entry"] in entries)
        and (r / "final").is_dir()
    ]
    if not runs:
        sys.exit(f"error: no finished <entry>[_split<d>]_seed<s> runs of {entries} in {out}")
    baseline = "uniform" if entries == ["all"] else entries[0]
    if not any(RUN_NAME.fullmatch(r.name)["entry"] == baseline for r in runs):
        sys.exit(
            f"error: no finished runs of the baseline '{baseline}' in {out}; the baseline is "
            "uniform with entries=all, else the first of entries=."
        )
    rows = []
    for run in runs:
        rows += score_run(run, heldout_set)
        print(
            run.name,
            " ".join(
                f"{r['language']} {r['heldout_lag_pct']:+.1f}/{r['dev_lag_pct']:+.1f}%"
                for r in rows[-3:]
            ),
        )
    suffix = "" if heldout_set == "split" else f"_{heldout_set}"  # one set never overwrites another
    write_csv(out / settings.get("out", f"split_lags_full{suffix}.csv"), rows, list(rows[0]))
    print_agreement([r for r in rows if r["entry"] == baseline])
    if len({r["entry"] for r in rows}) > 1:
        selection = select_by_dev(rows, baseline)
        print_selection(selection, out / f"dev_selection{suffix}.csv")
        save_figure(selection_figure(selection), out / "plots" / f"dev_selection{suffix}.png")


def print_agreement(rows: list[dict]) -> None:
    fit = agreement(rows)
    low, high = bootstrap_correlation(rows)
    print(
        f"whole dev split: names the held-out worst language in {fit['worst_agree']} of "
        f"{fit['runs']} runs; r = {fit['correlation']:+.2f} (pooled; 95% bootstrap over runs "
        f"[{low:+.2f}, {high:+.2f}]), {fit['within_language']:+.2f} (within language), "
        f"{len(rows)} run × language pairs"
    )
    for kind, label in (("heldout", "held-out"), ("dev", "dev")):
        res = resolution(rows, kind, LAG_TO_RESOLVE)
        print(
            f"{label} split: {res['documents']:.0f} documents per language, lag SE "
            f"{res['se_pct']:.1f}% (spread over splits {res['between_splits_sd_pct']:.1f}%); a "
            f"lag of {LAG_TO_RESOLVE:g}% at 2 SE needs {res['documents_needed']:.0f} documents"
        )


def print_selection(selection: list[dict], path: Path) -> None:
    """Δ worst-language held-out adjusted BPB against the baseline, mean [95% t-interval over
    splits] and wins/ties/losses (a tie: |Δ| ≤ TIE), for each way of choosing a mixture and
    for each entry on its own."""
    write_csv(path, selection, list(selection[0]))
    base = sum(r["baseline_worst"] for r in selection) / len(selection)

    def line(label: str, deltas: list[float], note: str) -> None:
        mean, low, high = t_interval(deltas)
        wins, ties, losses = wins_ties_losses(deltas, TIE)
        print(
            f"{label:>14}: Δ worst {mean:+.4f} [{low:+.4f}, {high:+.4f}] "
            f"({100 * mean / base:+.1f}%), {wins}/{ties}/{losses}; {note}"
        )

    for name, what in SELECTIONS.items():
        deltas = [r[f"{name}_delta"] for r in selection]
        if all(d == d for d in deltas):  # "fixed" is NaN with a single split
            picks = ", ".join(sorted({r[f"{name}_choice"] for r in selection}))
            line(name, deltas, f"{what}; picks {picks}")
    for column in (c for c in selection[0] if c.startswith("delta_")):
        line(column.removeprefix("delta_"), [r[column] for r in selection], "every split")


def bootstrap_correlation(rows: list[dict], draws: int = 5000) -> tuple[float, float]:
    """The pooled r's 95% percentile interval, resampling whole runs (their languages together)."""
    groups = list(rows_by_run(rows).values())
    rng = np.random.default_rng(0)
    values = []
    for _ in range(draws):
        sample = [r for k in rng.integers(0, len(groups), len(groups)) for r in groups[k]]
        values.append(agreement(sample)["correlation"])
    return tuple(np.nanpercentile(values, [2.5, 97.5]))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(*sys.argv[1:])
