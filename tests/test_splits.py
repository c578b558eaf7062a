"""taam.report.splits on hand-made runs: dev and held-out lags per split, their agreement."""

from __future__ import annotations

import json
import math

import pytest
from omegaconf import OmegaConf
from test_comparison import LANGS, PREMIUMS, make_run

from taam.io import read_csv_rows, write_csv
from taam.report.benchmark import dev_against_heldout
from taam.report.runs import load_run
from taam.report.splits import (
    agreement,
    resolution,
    select_by_dev,
    split_lags,
    split_lags_figure,
)


def run_on_split(tmp_path, split, heldout, dev, dev_se=(0.02, 0.03)):
    """A run of data seed ``split``: ``heldout`` final BPB, ``dev`` BPB at its last dev evaluation
    (an earlier one that must not be used, and a training window without dev columns)."""
    path = make_run(tmp_path, f"uniform_split{split}_seed1", 1, 5.0, 0.5, {"final": heldout})
    ledger = json.loads((path / "ledger.json").read_text())
    (path / "ledger.json").write_text(json.dumps({**ledger, "data_seed": split}))
    columns = ["step", "exposures_tokens", *(f"dev_{q}_{x}" for x in LANGS for q in ("bpb", "se"))]
    old = {"step": 10, "exposures_tokens": 1} | {f"dev_bpb_{x}": 9.0 for x in LANGS}
    last = {"step": 20, "exposures_tokens": 2} | {f"dev_bpb_{x}": dev[x] for x in LANGS}
    last |= {f"dev_se_{x}": se for x, se in zip(LANGS, dev_se, strict=True)}
    write_csv(path / "metrics.csv", [old, {"step": 15, "exposures_tokens": 1}, last], columns)
    return load_run(path)


def test_lags_are_relative_to_the_mean_of_the_adjusted_losses(tmp_path):
    run = run_on_split(tmp_path, 3, {"eng": 3.0, "zho": 5.0}, {"eng": 2.0, "zho": 3.0})
    rows = split_lags([run], LANGS)
    held = {"eng": 3.0, "zho": 5.0 * PREMIUMS["zho"]}  # 3.0 and 4.0: mean 3.5
    dev = {"eng": 2.0, "zho": 3.0 * PREMIUMS["zho"]}  # 2.0 and 2.4: mean 2.2
    for row in rows:
        x = row["language"]
        assert row["split"] == 3 and row["heldout_adj"] == pytest.approx(held[x])
        assert row["heldout_lag_pct"] == pytest.approx(100 * (held[x] / 3.5 - 1))
        assert row["dev_lag_pct"] == pytest.approx(100 * (dev[x] / 2.2 - 1))
    assert [row["dev_se_pct"] for row in rows] == pytest.approx([2.0, 3.0])


def test_agreement_counts_runs_whose_dev_set_names_the_held_out_worst_language(tmp_path):
    runs = [  # zho worst on held-out text in both; the dev set agrees on split 0 only
        run_on_split(tmp_path, 0, {"eng": 3.0, "zho": 5.0}, {"eng": 2.0, "zho": 3.0}),
        run_on_split(tmp_path, 1, {"eng": 3.0, "zho": 4.5}, {"eng": 3.0, "zho": 3.0}),
    ]
    rows = split_lags(runs, LANGS)
    fit = agreement(rows)
    assert (fit["runs"], fit["worst_agree"]) == (2, 1)
    held = [r["heldout_lag_pct"] for r in rows]
    dev = [r["dev_lag_pct"] for r in rows]
    mh, md = sum(held) / 4, sum(dev) / 4
    cov = sum((h - mh) * (d - md) for h, d in zip(held, dev, strict=True))
    r = cov / math.sqrt(sum((h - mh) ** 2 for h in held) * sum((d - md) ** 2 for d in dev))
    assert fit["correlation"] == pytest.approx(r)
    assert len(split_lags_figure(rows, LANGS).axes) == 1


def test_a_benchmark_over_splits_writes_the_table_the_figure_and_the_note(tmp_path):
    runs = [
        run_on_split(tmp_path, 0, {"eng": 3.0, "zho": 5.0}, {"eng": 2.0, "zho": 3.0}),
        run_on_split(tmp_path, 1, {"eng": 3.0, "zho": 4.5}, {"eng": 3.0, "zho": 3.0}),
    ]
    out = tmp_path / "bench"
    written, [note] = dev_against_heldout(
        runs, LANGS, OmegaConf.create({"baseline": "uniform"}), out
    )
    assert sorted(p.name for p in written) == ["split_lags.csv", "split_lags.png"]
    assert len(read_csv_rows(out / "split_lags.csv")) == 4
    assert "names the held-out worst language in 1 of 2 runs (chance: 1 in 2)" in note


def test_the_within_language_correlation_takes_the_languages_average_lags_out():
    """The dev set can rank the languages as held-out text does on average (pooled r near 1)
    while moving against it from split to split (within-language r = −1)."""
    held = {"eng": [10, 12, 8], "zho": [-10, -12, -8]}
    dev = {"eng": [10, 8, 12], "zho": [-10, -8, -12]}
    rows = [
        {
            "split": k,
            "seed": 1,
            "language": x,
            "heldout_lag_pct": held[x][k],
            "dev_lag_pct": dev[x][k],
        }
        for k in range(3)
        for x in LANGS
    ]
    fit = agreement(rows)
    assert fit["correlation"] > 0.9 and fit["within_language"] == pytest.approx(-1.0)
    assert fit["worst_agree"] == 3


def scored(entry, split, dev, held):
    """``scripts/score_splits.py`` rows of one run: per-language dev and held-out adjusted BPB."""
    return [
        {"entry": entry, "split": split, "seed": 1, "language": x, "dev_adj": d, "heldout_adj": h}
        for x, d, h in zip(("eng", "nld"), dev, held, strict=True)
    ]


def test_selection_by_dev_picks_the_lowest_dev_worst_and_scores_it_on_held_out_text():
    rows = [  # split 0: the dev set prefers "tilt", held-out text prefers "other"
        *scored("uniform", 0, dev=(2.0, 2.2), held=(2.0, 2.3)),
        *scored("tilt", 0, dev=(2.1, 2.1), held=(2.2, 2.25)),
        *scored("other", 0, dev=(2.0, 2.3), held=(2.1, 2.1)),
        # split 1: the dev set prefers "other", "tilt" is best on held-out text
        *scored("uniform", 1, dev=(2.0, 2.2), held=(2.0, 2.4)),
        *scored("tilt", 1, dev=(2.3, 2.0), held=(2.2, 2.2)),
        *scored("other", 1, dev=(2.1, 2.1), held=(2.3, 2.3)),
    ]
    first, second = select_by_dev(rows)
    assert (first["dev_choice"], first["oracle_choice"]) == ("tilt", "other")
    assert first["dev_delta"] == pytest.approx(2.25 - 2.3)
    assert first["oracle_delta"] == pytest.approx(2.1 - 2.3)
    assert (second["dev_choice"], second["oracle_choice"]) == ("other", "tilt")
    assert second["dev_delta"] == pytest.approx(2.3 - 2.4)
    # the static choice for a split comes from the held-out text of the *other* splits only
    assert (first["fixed_choice"], second["fixed_choice"]) == ("tilt", "other")
    assert first["fixed_delta"] == pytest.approx(2.25 - 2.3)
    assert (first["delta_tilt"], first["delta_other"]) == pytest.approx((2.25 - 2.3, 2.1 - 2.3))
    assert "delta_uniform" not in first


def test_selection_by_dev_needs_the_baseline_and_a_rival_on_every_split():
    with pytest.raises(ValueError, match="entries=all"):
        select_by_dev(scored("uniform", 0, (2.0, 2.1), (2.0, 2.1)))
    lone = select_by_dev([*scored("uniform", 0, (2, 2), (2, 2)), *scored("b", 0, (1, 1), (3, 3))])
    assert lone[0]["dev_choice"] == "b" and math.isnan(lone[0]["fixed_delta"])
    with pytest.raises(ValueError, match="b on split 1 seed 1"):  # the same entries everywhere
        select_by_dev(
            [
                *scored("uniform", 0, (2, 2), (2, 2)),
                *scored("b", 0, (1, 1), (3, 3)),
                *scored("uniform", 1, (2, 2), (2, 2)),
            ]
        )


def test_resolution_gives_the_documents_a_lag_needs_from_each_languages_spread():
    # Two languages, each document's relative spread σ = 0.2 (a BPB's relative SE of 0.2/√n):
    # near level, a lag's SE at n documents each is σ·√(1/2)/√n = 14.1%/√n, so a 1% lag at 2 SE
    # needs (2·14.1)² ≈ 800 documents per language; the lags move ±3 over the two splits
    def rows(zho_documents: int) -> list[dict]:
        return [
            {
                "split": s,
                "seed": 1,
                "language": x,
                "heldout_adj": 2.0 * (1 + lag / 100),
                "heldout_rel_se": 0.2 / math.sqrt(n),
                "heldout_documents": n,
                "heldout_lag_pct": lag,
                "heldout_lag_se_pct": 2.0,
            }
            for s, sign in ((0, 1), (1, -1))
            for x, lag, n in (("eng", 3.0 * sign, 25), ("zho", -3.0 * sign, zho_documents))
        ]

    res = resolution(rows(25), "heldout")
    assert res["per_document_sd_pct"] == pytest.approx(100 * 0.2 * math.sqrt(0.5), rel=1e-3)
    assert res["documents_needed"] == pytest.approx(800.0, rel=2e-3)
    assert res["between_splits_sd_pct"] == pytest.approx(math.sqrt(18.0))
    assert res["se_pct"] == 2.0 and res["documents"] == 25
    low_bar = resolution(rows(25), "heldout", lag_pct=2.0, z=1.0)["documents_needed"]
    assert low_bar == pytest.approx(800.0 / 16, rel=2e-3)
    # more documents of one language leave each document's spread, and so n*, as they were
    assert resolution(rows(400), "heldout")["documents_needed"] == pytest.approx(
        res["documents_needed"]
    )
    assert math.isnan(resolution(rows(25)[:2], "heldout")["between_splits_sd_pct"])  # one split
