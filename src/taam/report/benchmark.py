"""The mixing benchmark: ``python src/benchmark.py`` trains, scores and compares every method.

1. **Train** each method entry × seed as ``python src/train.py <entry overrides> seed=<s>``
   would, into ``<out_dir>/<entry>_seed<s>`` (its console in ``logs/<entry>_seed<s>.log``),
   through the Hydra launcher of the command line (``hydra/launcher=local``: in parallel on this
   machine; ``slurm``: on the cluster; default: one after another in this process), as one
   multirun of the train config over the job list. A finished job is skipped; an interrupted one
   with a ``last.ckpt`` is resumed; a failed one is reported and left as it is.
2. **Score** held-out BPB at every checkpoint of every finished run (``taam.evaluation``,
   cached per checkpoint: scored checkpoints are skipped).
3. **Compare** (``taam.report.paired``): the paired differences against the baseline, written as::

       comparison.md  comparison.csv  paired_seeds.csv  summary.md ...
       plots/paired_differences.png  plots/pi_mean_by_method.png  plots/heldout_by_method.png

Every job uses the same data seed (``data.seed``), so all runs are scored on the same held-out
documents; the benchmark checks this with the hashes in each ledger and refuses otherwise. With
``splits=N`` every entry × seed also runs on data seeds 0..N−1 (each its own held-out, dev and
training documents; the same within a split, checked likewise), and the paired interval is over
splits (``taam.report.paired``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from taam.cli import compose_config
from taam.errors import BenchmarkError
from taam.evaluation.checkpoints import pick_device
from taam.evaluation.runner import evaluate_run, write_outputs
from taam.io import atomic_write_text, write_csv, write_json
from taam.report.comparison import write_summary
from taam.report.markdown import markdown_table
from taam.report.paired import paired_columns, paired_rows, seed_differences
from taam.report.plots import heldout_by_method, paired_differences, pi_band_by_method, save_figure
from taam.report.runs import RunRecord, differing_keys, languages_of, load_run
from taam.report.splits import agreement, split_lags, split_lags_figure
from taam.run.identity import changed_keys, flat_config
from taam.run.launch import checked_train
from taam.run.rundir import LAST_CKPT, saved_config
from taam.run.status import FINISHED, outcome
from taam.run.sweep import SweepJob, run_job

log = logging.getLogger(__name__)

DATA_SEED = ("data.seed=", "+data.seed=", "++data.seed=")
# Where a reused run may differ from what its job asks today: where it lives and how it logs.
REUSE_MAY_DIFFER = ("resume", "run_dir", "paths", "logger", "card", "hydra", "train.plots")


@dataclass(frozen=True)
class Job:
    """One method entry × training seed (× data split, where the benchmark has ``splits``)."""

    entry: str
    seed: int
    run_dir: Path
    overrides: tuple[str, ...]
    split: int | None = None  # the data seed this job sets, None: the data config's

    @property
    def name(self) -> str:
        return self.run_dir.name


def check_settings(cfg: DictConfig) -> None:
    """Refuse out-of-range settings before any work, naming the key, the value and what is
    allowed."""
    problems = []
    if not _is_int(cfg.seeds) or int(cfg.seeds) < 1:
        problems.append(f"seeds={cfg.seeds}: the number of training seeds, an integer ≥ 1")
    if cfg.steps is not None and (not _is_int(cfg.steps) or int(cfg.steps) < 1):
        problems.append(f"steps={cfg.steps}: train.max_steps of every job, an integer ≥ 1 or null")
    if not isinstance(cfg.tie, (int, float)) or isinstance(cfg.tie, bool) or cfg.tie < 0:
        problems.append(f"tie={cfg.tie}: a difference counted as a tie, a number ≥ 0")
    if not isinstance(cfg.confidence, float) or not 0 < cfg.confidence < 1:
        problems.append(f"confidence={cfg.confidence}: the interval's level, between 0 and 1")
    if cfg.splits is not None and (not _is_int(cfg.splits) or int(cfg.splits) < 2):
        problems.append(
            f"splits={cfg.splits}: the number of data splits (data seeds 0..N-1), an integer ≥ 2 "
            "or null (one split: the data config's data.seed)"
        )
    if not str(cfg.out_dir or "").strip():
        problems.append(f"out_dir={cfg.out_dir}: a folder for the runs and the comparison")
    if problems:
        raise BenchmarkError("; ".join(problems) + ".")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def plan(cfg: DictConfig, data: Sequence[str] = ("data=sample",)) -> list[Job]:
    """Every entry × seed 1..N (× data seed 0..S−1 with ``splits=S``), with its train.py
    overrides (baselines added if not chosen); ``data``: the data overrides of every job (the
    benchmark's ``data=`` choice and ``data.*``)."""
    check_settings(cfg)
    seeds_given = [*data, *cfg.overrides]
    if cfg.splits is not None and any(o.startswith(DATA_SEED) for o in seeds_given):
        raise BenchmarkError(
            "data.seed (on the command line or in overrides) and splits both choose the data "
            "split; give one: splits=N trains every job on data seeds 0..N-1, data.seed=D "
            "(without splits) on split D alone."
        )
    entries = dict(cfg.methods)
    chosen = list(cfg.only) if cfg.only else list(entries)
    baselines = [cfg.baseline, *cfg.also_against]
    unknown = [name for name in [*chosen, *baselines] if name not in entries]
    if unknown:
        raise BenchmarkError(
            f"unknown method entr(ies) {unknown}; the entries are {list(entries)} "
            """(add one with "+methods.<name>=['method=...','...']", each override quoted)."""
        )
    chosen = [*(b for b in baselines if b not in chosen), *chosen]
    common = [*data, *([f"train.max_steps={cfg.steps}"] if cfg.steps else [])]
    common += list(cfg.overrides)
    out = Path(cfg.out_dir)
    splits = [None] if cfg.splits is None else list(range(int(cfg.splits)))
    jobs = [
        Job(
            name,
            seed,
            out / (f"{name}_seed{seed}" if split is None else f"{name}_split{split}_seed{seed}"),
            (
                *entries[name],
                *common,
                *([] if split is None else [f"data.seed={split}"]),
                f"seed={seed}",
            ),
            split,
        )
        for split in splits  # split by split: a cut-short benchmark has whole splits
        for name in dict.fromkeys(chosen)
        for seed in range(1, int(cfg.seeds) + 1)
    ]
    later = stages(jobs, out)[1:] if cfg.splits is not None else []
    if later:
        names = sorted({job.entry for job in later[0]})
        raise BenchmarkError(
            f"{names} read another entry's runs (DoReMi's reference_run names <entry>_seed<s>), "
            "which a benchmark over splits names <entry>_split<d>_seed<s>; leave them out with "
            "only=[...] (e.g. only=[uniform,pstar]) or run them without splits."
        )
    return jobs


def job_overrides(job: Job) -> list[str] | None:
    """The train.py overrides that (re)start ``job``, or None when it is not to be trained: it
    finished, or it failed without a ``last.ckpt`` to resume (reported, left as it is)."""
    status = outcome(job.run_dir)
    if status in FINISHED:
        return None
    resume = job.run_dir.exists() and (job.run_dir / LAST_CKPT).is_file()
    if job.run_dir.exists() and not resume:
        log.warning(
            "%s: %s without %s, not retried; remove it to train it again",
            job.name,
            status,
            LAST_CKPT,
        )
        return None
    return [*job.overrides, f"run_dir={job.run_dir}", *(["resume=true"] if resume else [])]


def check_reuse(jobs: Sequence[Job]) -> None:
    """Refuse to reuse a run of the out_dir (finished, or to be resumed) whose ``config.yaml``
    differs from what its job composes today (an entry redefined, another corpus, changed
    defaults): the comparison would credit the job's settings with the old run's results."""
    stale = []
    for job in jobs:
        finished = outcome(job.run_dir) in FINISHED
        if not (finished or (job.run_dir / LAST_CKPT).is_file()):
            continue  # not reused: trained afresh, or reported as failed (job_overrides)
        wanted = compose_config("train", [*job.overrides, f"run_dir={job.run_dir}"])
        want = flat_config(wanted, REUSE_MAY_DIFFER)
        have = flat_config(saved_config(job.run_dir), REUSE_MAY_DIFFER)
        changed = [f"{k}: {have.get(k)} → {want.get(k)}" for k in changed_keys(have, want)]
        if changed:
            more = f"; {len(changed) - 2} more" if len(changed) > 2 else ""
            stale.append(f"{job.name} ({'; '.join(changed[:2])}{more})")
    if stale:
        shown = ", ".join(stale[:3]) + (f" and {len(stale) - 3} more" if len(stale) > 3 else "")
        raise BenchmarkError(
            f"{len(stale)} run(s) in {jobs[0].run_dir.parent} were trained with other settings "
            f"than this benchmark gives them: {shown}; nothing was changed. Use a fresh out_dir, "
            "or remove those runs to train them again."
        )


def stages(jobs: Sequence[Job], out_dir: Path) -> list[list[Job]]:
    """The jobs in two launches: first those that read no other entry's runs, then those whose
    overrides name another entry's run directory (DoReMi's reference run), which must exist."""
    entries = {job.entry for job in jobs}

    def reads_another(job: Job) -> bool:
        prefixes = [f"{out_dir / other}_seed" for other in entries - {job.entry}]
        return any(p in o for o in job.overrides for p in prefixes)

    later = [job for job in jobs if reads_another(job)]
    first = [job for job in jobs if job not in later]
    return [stage for stage in (first, later) if stage]


def benchmark_job(cfg: DictConfig) -> str:
    """The task function every launcher runs once per job (in this process, a worker process or
    a SLURM job): the train config of one job, trained as a sweep job, its console in
    ``<out_dir>/logs/<run name>.log``."""
    job = SweepJob.current()
    with console_to(job.sweep_dir / "logs" / f"{Path(cfg.run_dir).name}.log"):
        return run_job(cfg, job, train_fn=checked_train)  # validated as train.py does


@contextmanager
def console_to(path: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors 1 and 2) to ``path`` (appended)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("a", encoding="utf-8") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def launch(
    jobs: Sequence[list[str]], out_dir: Path, config_dir: Path, launcher: Sequence[str]
) -> None:
    """A Hydra multirun of the train config over ``jobs`` (each a list of overrides), through
    the launcher that the ``launcher`` overrides choose (``hydra/launcher=...``,
    ``hydra.launcher.<key>=...``; none: Hydra's basic launcher), as a sweeper would."""
    from hydra._internal.callbacks import Callbacks
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.utils import create_config_search_path
    from hydra.core.plugins import Plugins
    from hydra.types import HydraContext, RunMode

    loader = ConfigLoaderImpl(config_search_path=create_config_search_path(str(config_dir)))
    settings = [*launcher, f"hydra.sweep.dir={out_dir}", "hydra.job.name=taam-benchmark"]
    config = loader.load_configuration("train", overrides=settings, run_mode=RunMode.MULTIRUN)
    context = HydraContext(config_loader=loader, callbacks=Callbacks(config))
    runner = Plugins.instance().instantiate_launcher(
        hydra_context=context, task_function=benchmark_job, config=config
    )
    runner.launch([list(job) for job in jobs], initial_job_idx=0)


def score(jobs: Sequence[Job], eval_cfg: DictConfig, progress: Progress) -> None:
    """Held-out BPB of every checkpoint of every finished run (cached checkpoints skipped)."""
    settings = OmegaConf.to_container(eval_cfg, resolve=True)
    cfg = OmegaConf.create({**settings, "checkpoints": None, "force": False, "minimal_pairs": {}})
    device = pick_device(cfg.device)
    task = progress.add_task("scoring", total=len(jobs))
    for job in jobs:
        progress.update(task, description=f"scoring {job.name}")
        rows = evaluate_run(job.run_dir, [], cfg, device)
        write_outputs(job.run_dir / "eval", rows, job.name)
        progress.advance(task)


def check_same_heldout(ledgers: Mapping[str, Mapping]) -> dict[int, dict[str, str]]:
    """Data seed → the held-out text hash per language, which every run of that split shares
    (checked in each run's ledger; ``ledgers``: run name → ledger.json)."""
    by_split: dict[int, dict[str, Any]] = {}
    for name, ledger in ledgers.items():
        by_split.setdefault(ledger.get("data_seed"), {})[name] = ledger.get("heldout_sha256")
    for split, hashes in by_split.items():
        distinct = {json.dumps(h, sort_keys=True) for h in hashes.values()}
        if len(distinct) != 1 or None in hashes.values():
            where = "" if len(by_split) == 1 else f" of data seed {split}"
            raise BenchmarkError(
                f"the runs{where} were not scored on the same held-out documents "
                f"({len(distinct)} distinct held-out sets, or a ledger without heldout_sha256); "
                "keep the data settings the same for every job and use a fresh out_dir."
            )
    return {split: next(iter(hashes.values())) for split, hashes in by_split.items()}


def heldout_documents(ledgers: Iterable[Mapping]) -> dict[str, list[int]]:
    """Each language's held-out document counts over the splits (from the ledgers)."""
    counts: dict[str, set[int]] = {}
    for ledger in ledgers:
        for lang, row in ledger.get("languages", {}).items():
            counts.setdefault(lang, set()).add(int(row.get("heldout_documents", 0)))
    return {lang: sorted(n) for lang, n in counts.items()}


def check_comparable(groups: dict[str, list[RunRecord]], splits: bool = False) -> None:
    """Refuse runs that differ in more than seed, method, reward and signal (and data.seed, with
    ``splits``), e.g. a re-run of the same out_dir with other steps or data: their differences
    would not be the methods'."""
    every = [run for runs in groups.values() for run in runs]
    keys = [k for k in differing_keys(every) if not k.startswith(("method.", "reward.", "signal."))]
    keys += [k for runs in groups.values() for k in differing_keys(runs)]
    keys = [k for k in keys if not (splits and k == "data.seed")]
    if keys:
        raise BenchmarkError(
            f"the runs in this out_dir differ in {sorted(set(keys))}, not only in method, reward, "
            "signal and seed; compare like with like: use a fresh out_dir for other settings."
        )


def compare(
    finished: Sequence[Job], cfg: DictConfig, out_dir: Path
) -> tuple[list[dict[str, Any]], list[Path]]:
    """The paired comparison of the finished jobs: tables and figures into ``out_dir``
    (``comparison.md`` against ``baseline``, ``comparison_vs_<name>.md`` against each of
    ``also_against``); return the rows against ``baseline`` and the files written."""
    for name in [cfg.baseline, *cfg.also_against]:
        if not any(job.entry == name for job in finished):
            raise BenchmarkError(f"the baseline '{name}' has no finished run to compare to.")
    ledgers = {
        job.name: json.loads((job.run_dir / "ledger.json").read_text(encoding="utf-8"))
        for job in finished
    }
    heldout = check_same_heldout(ledgers)
    documents = heldout_documents(ledgers.values())
    runs = {job: load_run(job.run_dir) for job in finished}
    unused = any(run.identity.get("data.heldout_unused") for run in runs.values())
    groups: dict[str, list[RunRecord]] = {}
    for job, run in runs.items():
        groups.setdefault(job.entry, []).append(run)
    check_comparable(groups, splits=cfg.splits is not None)
    languages = languages_of(list(runs.values()))
    written, tables, notes = [], {}, []
    if cfg.splits is not None:
        written_lags, notes = dev_against_heldout(groups[cfg.baseline], languages, cfg, out_dir)
        written += written_lags
    for baseline in [cfg.baseline, *cfg.also_against]:
        rows = paired_rows(
            groups,
            baseline,
            languages,
            float(cfg.tie),
            float(cfg.confidence),
            by_split=cfg.splits is not None,
        )
        per_seed = seed_differences(groups, baseline, languages)
        tables[baseline] = rows, per_seed
        suffix = "" if baseline == cfg.baseline else f"_vs_{baseline}"
        text = comparison_markdown(rows, languages, cfg, baseline, heldout, documents, unused)
        text += "".join(f"\n{line}\n" for line in notes) if baseline == cfg.baseline else ""
        written += [
            atomic_write_text(out_dir / f"comparison{suffix}.md", text),
            write_csv(out_dir / f"comparison{suffix}.csv", rows, paired_columns(languages)),
            write_csv(out_dir / f"paired_seeds{suffix}.csv", per_seed, list(per_seed[0])),
        ]
    rows, per_seed = tables[cfg.baseline]
    plots = out_dir / "plots"
    pooled = ("data.seed",) if cfg.splits is not None else ()  # summary.md: a row per entry
    written += [
        save_figure(
            paired_differences(per_seed, rows, cfg.baseline, languages),
            plots / "paired_differences.png",
        ),
        save_figure(pi_band_by_method(groups, languages), plots / "pi_mean_by_method.png"),
        save_figure(heldout_by_method(groups, languages), plots / "heldout_by_method.png"),
        *write_summary(list(runs.values()), out_dir, out_dir.name, pooled=pooled),
    ]
    return rows, written


def dev_against_heldout(
    runs: Sequence[RunRecord], languages: Sequence[str], cfg: DictConfig, out_dir: Path
) -> tuple[list[Path], list[str]]:
    """``split_lags.csv`` and ``plots/split_lags.png`` of the baseline's runs (see
    ``taam.report.splits``); return the files and comparison.md's paragraph on them."""
    rows = split_lags(runs, languages)
    if not rows:
        return [], []
    fit = agreement(rows)
    columns = list(rows[0])
    written = [
        write_csv(out_dir / "split_lags.csv", rows, columns),
        save_figure(split_lags_figure(rows, languages), out_dir / "plots" / "split_lags.png"),
    ]
    note = (
        f"Dev against held-out text (`{cfg.baseline}`'s runs, `split_lags.csv`, "
        f"`plots/split_lags.png`): the last dev evaluation names the held-out worst language in "
        f"{fit['worst_agree']} of {fit['runs']} runs (chance: 1 in {len(languages)}); the "
        f"correlation of the languages' dev and held-out lags is r = {fit['correlation']:+.2f} "
        f"over {len(rows)} run × language pairs, and r = {fit['within_language']:+.2f} after "
        "taking each language's mean lag out (does the dev set follow the split, beyond the "
        "languages' average lags?). A dev-steered mixer can only help the language that lags "
        "on held-out text where these agree."
    )
    return written, [note]


def comparison_markdown(
    rows: Sequence[dict[str, Any]],
    languages: Sequence[str],
    cfg: DictConfig,
    baseline: str,
    heldout: dict[int, dict[str, str]],
    documents: dict[str, list[int]],
    heldout_unused: bool,
) -> str:
    """comparison.md: the ranking with paired differences against ``baseline``
    (``heldout_unused``: the runs held out every document the budget left)."""
    ci = f"{cfg.confidence:.0%}"
    unit = "seed" if cfg.splits is None else "split (its mean over seeds)"
    table = [
        {
            "method": row["method"],
            "seeds": f"{row['paired_seeds']}/{row['seeds']}",
            **({} if cfg.splits is None else {"splits": str(row["paired_splits"])}),
            "worst adj": _num(row["bpb_adj_worst"]),
            "Δ worst adj": _interval(row, "d_bpb_adj_worst", baseline),
            "Δ mean adj": _interval(row, "d_bpb_adj_mean", baseline),
            **{
                f"Δ {lang}": _interval(row, f"d_bpb_adj_final_{lang}", baseline)
                for lang in languages
            },
            "W/T/L": f"{row['wins']}/{row['ties']}/{row['losses']}",
            "worst raw": _num(row["bpb_worst"]),
            "π": " ".join(_num(row[f"pi_{lang}"], 2) for lang in languages),
            "share": " ".join(_num(row[f"share_{lang}"], 2) for lang in languages),
            "floor": " ".join(_num(row[f"time_at_floor_{lang}"], 2) for lang in languages),
        }
        for row in rows
    ]
    columns = list(table[0])
    lines = [
        f"# Mixing benchmark: {Path(cfg.out_dir).name}, against `{baseline}`",
        "",
        f"Ranked by the worst language's adjusted BPB (BPB × byte premium, bits per "
        f"English-equivalent byte, held-out, `final`; mean over runs). Δ: the paired "
        f"difference to `{baseline}` on the same seed and split, mean [{ci} t-interval, one "
        f"unit per {unit}]; negative is better. W/T/L: units where the worst-language "
        f"difference is below "
        f"−{cfg.tie}, within ±{cfg.tie}, above +{cfg.tie}. worst raw: the highest raw BPB "
        f"(secondary). π (final), share (each language's fraction of the run's token "
        f"exposures) and floor (fraction of updates at γ/K): {', '.join(languages)}, mean over "
        f"seeds.",
        "",
        *markdown_table(
            columns, table, {"method", "seeds", "splits", "W/T/L", "π", "share", "floor"}
        ),
        "",
        *_heldout_lines(heldout),
        "",
        _documents_line(documents, heldout_unused),
    ]
    return "\n".join(lines) + "\n"


# A lag's standard error is about LAG_SPREAD_PCT/√n on n documents per language: the
# per-document spread measured on the sample and `l10n` (docs/mixer.md, "Judged on every unseen
# document"; scripts/score_splits.py prints it for any corpus).
LAG_SPREAD_PCT = 12.0
RESOLVED_LAG_PCT = 1.0  # the lag a verdict should resolve at 2 standard errors


def _documents_line(documents: dict[str, list[int]], heldout_unused: bool) -> str:
    """How much held-out text each language's verdict rests on, with a caution where it cannot
    resolve a lag of ``RESOLVED_LAG_PCT``."""
    counts = ", ".join(
        f"{lang} {n[0]}" if len(n) == 1 else f"{lang} {n[0]}–{n[-1]}"
        for lang, n in documents.items()
    )
    line = f"Held-out documents per language: {counts}."
    fewest = min(min(n) for n in documents.values())
    se = LAG_SPREAD_PCT / math.sqrt(max(fewest, 1))
    if 2 * se > RESOLVED_LAG_PCT:
        line += (
            f" On {fewest} documents a language's lag has a standard error of about {se:.1f}%"
            f" ({LAG_SPREAD_PCT:g}%/√n, docs/mixer.md): which language lags by"
            f" {RESOLVED_LAG_PCT:g}% is not resolved, and the worst-language columns may follow"
            " the documents drawn rather than the lag."
        )
        if not heldout_unused:
            line += " `data.heldout_unused=true` also holds out every document the budget leaves."
    return line


def _heldout_lines(heldout: dict[int, dict[str, str]]) -> list[str]:
    """Which held-out text each split (data seed) scored, by its SHA-256 per language."""
    if len(heldout) == 1:
        ((split, hashes),) = heldout.items()
        return [
            f"Held-out text: data seed {split}; the same documents for every run (SHA-256 "
            + ", ".join(f"{lang} {h[:12]}" for lang, h in hashes.items())
            + ")."
        ]
    return [
        f"Held-out text: {len(heldout)} splits (data seeds), the same documents for every run of "
        "a split (SHA-256):",
        "",
        *(
            f"- data seed {split}: " + ", ".join(f"{lang} {h[:12]}" for lang, h in hashes.items())
            for split, hashes in sorted(heldout.items())
        ),
    ]


def run_benchmark(
    cfg: DictConfig,
    config_dir: Path,
    launcher: Sequence[str] = (),
    data: Sequence[str] = ("data=sample",),
) -> list[dict[str, Any]]:
    """Train, score and compare (see the module docstring); return the comparison rows.

    ``launcher``: the ``hydra/launcher`` overrides that train the jobs; ``data``: the data
    overrides of every job."""
    jobs = plan(cfg, data)
    out_dir = Path(cfg.out_dir)
    check_reuse(jobs)
    write_json(out_dir / "benchmark.json", OmegaConf.to_container(cfg, resolve=True))
    todo = {job: overrides for job in jobs if (overrides := job_overrides(job)) is not None}
    if todo:
        how = " ".join(launcher) or "one after another"
        log.info("training %d of %d jobs (%s)", len(todo), len(jobs), how)
        for stage in stages(list(todo), out_dir):
            launch([todo[job] for job in stage], out_dir, config_dir, launcher)
    outcomes = {job: outcome(job.run_dir) for job in jobs}
    for job, status in outcomes.items():
        if status not in FINISHED:
            log.error("%s: %s; see %s", job.name, status, out_dir / "logs" / f"{job.name}.log")
    finished = [job for job, status in outcomes.items() if status in FINISHED]
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns) as progress:
        score(finished, cfg.eval, progress)
    rows, written = compare(finished, cfg, out_dir)
    print((out_dir / "comparison.md").read_text(encoding="utf-8"))
    log.info("wrote %s", ", ".join(str(p) for p in written[:6]))
    return rows


def _num(value: float | None, decimals: int = 3) -> str:
    return "–" if value is None else f"{value:.{decimals}f}"


def _interval(row: dict[str, Any], column: str, baseline: str) -> str:
    mean, low, high = row[column], row[f"{column}_low"], row[f"{column}_high"]
    if row["method"] == baseline:
        return "baseline"
    if mean is None:
        return "–"
    if low != low:  # NaN: one seed, no interval
        return f"{mean:+.3f}"
    return f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"
