"""taam.report.paired on hand-made runs: per-seed differences, t-intervals, W/T/L and the ranking."""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats
from test_comparison import LANGS, PREMIUMS, make_run

from taam.report.benchmark import BenchmarkError, check_comparable
from taam.report.paired import paired_rows, seed_differences, t_interval
from taam.report.runs import load_run


def test_t_interval_is_the_mean_plus_minus_t_times_the_standard_error():
    mean, low, high = t_interval([1.0, 2.0, 4.0])
    half = stats.t.ppf(0.975, 2) * math.sqrt(7 / 3) / math.sqrt(3)
    assert (mean, low, high) == pytest.approx((7 / 3, 7 / 3 - half, 7 / 3 + half))
    assert math.isnan(t_interval([1.0])[1])  # one seed: no interval


def test_methods_are_paired_by_seed_and_ranked_by_worst_adjusted_bpb(tmp_path):
    finals = {  # (method, seed) → final held-out BPB of eng, zho (zho adjusted: × 0.8)
        ("uniform", 1): (3.0, 4.0),  # adjusted: eng 3.0, zho 3.2 → worst 3.2
        ("uniform", 2): (3.1, 4.5),  # worst 3.6
        ("mixer", 1): (3.1, 3.5),  # worst 3.1: d = −0.1
        ("mixer", 2): (3.3, 4.0),  # worst 3.3: d = −0.3
        ("mixer", 3): (9.0, 9.0),  # no baseline run for seed 3: not paired
    }
    groups = {}
    for (method, seed), (eng, zho) in finals.items():
        run = make_run(
            tmp_path, f"{method}_{seed}", seed, 5.0, 0.5, {"final": {"eng": eng, "zho": zho}}
        )
        groups.setdefault(method, []).append(load_run(run))
    differences = seed_differences(groups, "uniform", LANGS)
    mixer = [d for d in differences if d["method"] == "mixer"]
    assert [d["seed"] for d in mixer] == [1, 2]
    assert [d["d_bpb_adj_worst"] for d in mixer] == pytest.approx([-0.1, -0.3])
    assert [d["d_bpb_adj_final_zho"] for d in mixer] == pytest.approx([-0.4, -0.4])
    rows = paired_rows(groups, "uniform", LANGS, tie=0.15)
    assert [r["method"] for r in rows] == ["uniform", "mixer"]  # 3.4 < (3.1 + 3.3 + 9.0) / 3
    row = rows[1]
    assert row["paired_seeds"] == 2 and row["seeds"] == 3
    assert row["d_bpb_adj_worst"] == pytest.approx(-0.2)
    assert (row["d_bpb_adj_worst_low"], row["d_bpb_adj_worst_high"]) == pytest.approx(
        t_interval([-0.1, -0.3])[1:]
    )
    mean_eng_zho = [(3.1 + 3.5 * PREMIUMS["zho"]) / 2 - (3.0 + 4.0 * PREMIUMS["zho"]) / 2]
    assert mixer[0]["d_bpb_adj_mean"] == pytest.approx(mean_eng_zho[0])
    assert (row["wins"], row["ties"], row["losses"]) == (1, 1, 0)  # −0.3 wins, −0.1 ties
    assert rows[0]["d_bpb_adj_worst"] == 0.0 and rows[0]["ties"] == 2


def test_the_benchmark_refuses_runs_that_differ_in_more_than_method_and_seed(tmp_path):
    def run(name, method, seed, max_steps, data=None):
        config = {
            "seed": seed,
            "method": {"name": method, "mixer": {"_target_": "taam.mixer.static.uniform"}},
            "reward": {"name": "cross_lingual_deficit", "tag": "cld"},
            "train": {"max_steps": max_steps},
            "data": data or {"seed": 0, "heldout_unused": False},
        }
        return load_run(make_run(tmp_path, name, seed, 5.0, 0.5, config=config))

    groups = {"uniform": [run("u1", "Uniform", 1, 60)], "natural": [run("n1", "Natural", 1, 60)]}
    check_comparable(groups)  # method and seed differ: comparable
    groups["uniform"].append(run("u2", "Uniform", 2, 60, data={"seed": 0}))  # before the key
    check_comparable(groups)  # a run from before data.heldout_unused held out the split alone
    groups["natural"].append(run("n2", "Natural", 2, 120))
    with pytest.raises(BenchmarkError, match=r"differ in \['train.max_steps'\]"):
        check_comparable(groups)


def test_over_several_splits_the_interval_is_over_splits_not_runs(tmp_path):
    """Seeds of one split share its held-out text: each split is one unit (its mean over seeds),
    and pairs match on (split, seed)."""
    finals = {  # (method, split, seed) → eng, zho final BPB; zho adjusted × 0.8
        ("uniform", 0, 1): (3.0, 3.0),
        ("uniform", 0, 2): (3.0, 3.0),
        ("uniform", 1, 1): (3.0, 3.0),
        ("mixer", 0, 1): (2.9, 3.0),  # d = −0.1 (worst: eng 2.9 against eng 3.0)
        ("mixer", 0, 2): (2.7, 3.0),  # d = −0.3
        ("mixer", 1, 1): (3.2, 3.0),  # d = +0.2
        ("mixer", 1, 2): (2.0, 3.0),  # no uniform run of split 1, seed 2: not paired
    }
    groups = {}
    for (method, split, seed), (eng, zho) in finals.items():
        path = make_run(
            tmp_path,
            f"{method}_split{split}_seed{seed}",
            seed,
            5.0,
            0.5,
            {"final": {"eng": eng, "zho": zho}},
        )
        ledger = json.loads((path / "ledger.json").read_text())
        (path / "ledger.json").write_text(json.dumps({**ledger, "data_seed": split}))
        groups.setdefault(method, []).append(load_run(path))
    pairs = [d for d in seed_differences(groups, "uniform", LANGS) if d["method"] == "mixer"]
    assert [(d["split"], d["seed"]) for d in pairs] == [(0, 1), (0, 2), (1, 1)]
    assert [d["d_bpb_adj_worst"] for d in pairs] == pytest.approx([-0.1, -0.3, 0.2])
    rows = paired_rows(groups, "uniform", LANGS, tie=0.05, by_split=True)
    row = next(r for r in rows if r["method"] == "mixer")
    units = [-0.2, 0.2]  # split 0: mean of −0.1 and −0.3; split 1: +0.2
    assert (row["paired_seeds"], row["paired_splits"]) == (3, 2)
    assert (row["d_bpb_adj_worst"], row["d_bpb_adj_worst_low"]) == pytest.approx(
        t_interval(units)[:2]
    )
    assert (row["wins"], row["ties"], row["losses"]) == (1, 0, 1)
    # A method whose pairs all fall in one split has one unit: no interval over its seeds.
    groups["late"] = [r for r in groups["mixer"] if r.data_seed == 0]
    late = next(
        r
        for r in paired_rows(groups, "uniform", LANGS, 0.05, by_split=True)
        if r["method"] == "late"
    )
    assert late["d_bpb_adj_worst"] == pytest.approx(-0.2) and math.isnan(
        late["d_bpb_adj_worst_low"]
    )
    assert (late["wins"], late["ties"], late["losses"]) == (1, 0, 0)
