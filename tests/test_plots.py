"""Figures: exposures in SI units (ticks stay apart at small exposures), titled by the sweep."""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from taam.io import write_csv, write_json
from taam.report.plots import bpb_by_method, pi_by_method, plot_metrics
from taam.report.runs import group_by_method, load_runs

LANGS = ["eng", "zho"]
EXPOSURES = [100_000, 120_000, 140_000, 160_000]


def make_run(folder, seed: int):
    """A finished run directory whose windows fall at 100k…160k token exposures."""
    run = folder / f"2026-11-26_Exp3-nel_seed{seed}"
    write_json(
        run / "summary.json",
        {"status": "completed", "method": "Exp3", "reward": "normalized_excess_loss"}
        | {"seed": seed, "languages": LANGS, "step": 40, "exposures_tokens": EXPOSURES[-1]}
        | {"pi": {"eng": 0.6, "zho": 0.4}, "floor": 0.05, "time_at_floor": {"eng": 0, "zho": 0}},
    )
    rows = [{"step": 10 * (i + 1), "exposures_tokens": n} for i, n in enumerate(EXPOSURES)]
    write_csv(
        run / "mixer.csv",
        [r | {"pi_eng": 0.6, "pi_zho": 0.4} for r in rows],
        ["step", "exposures_tokens", "pi_eng", "pi_zho"],
    )
    write_csv(
        run / "metrics.csv",
        [r | {"bpb_eng": 5.0 - i / 10, "bpb_zho": 6.0 - i / 10} for i, r in enumerate(rows)],
        ["step", "exposures_tokens", "bpb_eng", "bpb_zho"],
    )
    return run


def tick_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def test_exposure_ticks_use_si_prefixes_and_figures_carry_the_sweep_name(tmp_path):
    groups = group_by_method(load_runs([make_run(tmp_path, 1), make_run(tmp_path, 2)]))
    for figure in (pi_by_method, bpb_by_method):
        fig = figure(groups, LANGS, "2026-11-26_12-00-00")
        FigureCanvasAgg(fig).draw()  # tick labels exist once drawn
        assert fig.get_suptitle() == "2026-11-26_12-00-00"
        labels = tick_labels(fig.axes[0])
        assert labels and all(label.endswith("k") for label in labels), labels
        assert "120k" in labels and "120000" not in "".join(labels)


def test_the_run_plots_draw_loss_and_bpb_from_their_metrics_columns(tmp_path):
    rows = [
        {"exposures_tokens": 100 * s, "loss_nats_per_token_eng": 5 - s, "bpb_eng": 3 - s / 2}
        for s in range(1, 4)
    ]
    write_csv(tmp_path / "metrics.csv", rows, list(rows[0]))
    written = plot_metrics(tmp_path / "metrics.csv", tmp_path / "plots", ["eng"], "run")
    assert [p.name for p in written] == ["loss.png", "bpb.png"]
    write_csv(
        tmp_path / "old.csv",
        [{"exposures_tokens": 1, "loss_eng": 2}],
        ["exposures_tokens", "loss_eng"],
    )
    with pytest.raises(ValueError, match="no loss_nats_per_token_<lang> column"):
        plot_metrics(tmp_path / "old.csv", tmp_path / "plots", ["eng"])
