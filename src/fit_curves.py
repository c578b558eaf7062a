"""Fit the simulator's learning curves to real runs and write a preset, e.g.

python src/fit_curves.py runs/2026-11-26_Uniform_seed1 --out configs/simulation/fitted.yaml

Per language, L_i(n) = a_i + b_i·(n + 1)^(−c_i) is fitted to the dev losses of each run's
metrics.csv (nats per English-equivalent byte against the sequences seen), and the training
windows give the memorisation gap b·max(0, e − 1)^p (runs without dev losses: L_i from the
window losses, no gap; see taam.simulation.fit). The preset keeps the run's steps, batch,
sequence length and unique tokens, so the epoch cap binds as in training.
"""

import argparse
from pathlib import Path

from taam.simulation.fit import fit_preset, write_preset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories with metrics.csv")
    parser.add_argument("--name", default="fitted", help="the preset's name")
    parser.add_argument("--out", type=Path, required=True, help="the preset YAML to write")
    args = parser.parse_args()
    missing = [str(r) for r in args.runs if not (r / "metrics.csv").is_file()]
    if missing:
        parser.error(f"no metrics.csv in {', '.join(missing)}; pass finished training run dirs")
    preset = fit_preset(args.runs, args.name)
    command = (
        f"Fitted by `python src/fit_curves.py {' '.join(map(str, args.runs))} --out {args.out}`\n"
        "fitted_from records where the runs lay when this was fitted: to refit elsewhere, train\n"
        "them again with an out_dir of your own."
    )
    if "memorisation" in preset:
        note = (
            f"{command}\n"
            "L_i(n) = a_i + b_i·(n + 1)^(−c_i), the held-out loss: least squares on the dev losses\n"
            "(dev_bpb_<lang>, nats per English-equivalent byte; scored as the evaluation scores)\n"
            "against the sequences seen. Training windows: L_i·(1 − b·max(0, e − 1)^p)·(1 + o_i)\n"
            "(memorisation; o_i: the token stream's scoring offset, train_offset).\n"
            "taam.simulation.fit; the run's scale."
        )
    else:
        note = (
            f"{command}\n"
            "L_i(n) = a_i + b_i·(n + 1)^(−c_i) per language, least squares on metrics.csv window\n"
            "losses (nats per English-equivalent byte) against the sequences seen; the run's scale."
        )
    print(f"wrote {write_preset(preset, args.out, note)}: {preset['curves']}")


if __name__ == "__main__":
    main()
