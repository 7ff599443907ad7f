"""``ddsim sweep FILE``: run or resume an experiment's parameter sweep."""

from __future__ import annotations

import argparse

from sim.cli.options import add_store_options, examples, paragraph, positive_int
from sim.cli.signals import SIGTERM_EXIT, interrupted, sigterm_as_interrupt


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` sub-command."""
    p = subparsers.add_parser(
        "sweep",
        help="run an experiment's parameter sweep (resumable)",
        description=paragraph(
            "Run every (design point, replicate) of an experiment file and stream the "
            "results to a Parquet store. Rerunning the same command resumes: finished runs are "
            "skipped, damaged ones run again. Exit status: 0 all runs ok, 1 some runs failed, "
            "2 bad input, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM)."
        ),
        epilog=examples(
            "ddsim sweep experiments/smoke.yaml --out sweeps/smoke     then: ddsim analyze sweeps/smoke",
            "ddsim sweep experiments/smoke.yaml --workers 1            in this process",
            "ddsim sweep experiments/indo_pacific_tempo_transparency.yaml --replicates 4",
            "ddsim sweep experiments/smoke.yaml --dask-local --workers 2",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("experiment", metavar="FILE", help="experiment file (experiments/*.yaml)")
    p.add_argument(
        "--out", metavar="DIR", help="output directory (default: sweeps/<experiment name>)"
    )
    p.add_argument(
        "--replicates",
        type=positive_int,
        metavar="R",
        help="replicates per design point (overrides the file)",
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="N",
        help="runs per task (default: automatic, ~1.5 s per task)",
    )
    add_store_options(p, "sweep")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    """``ddsim sweep``: run or resume a sweep; 0 all ok, 1 some runs failed, 2 bad input,
    130 interrupted, 143 terminated (the store is closed cleanly either way)."""
    from sim.experiments.sweep import run_sweep

    with sigterm_as_interrupt() as signals:
        try:
            summary = run_sweep(
                args.experiment,
                args.out,
                workers=args.workers,
                replicates=args.replicates,
                scheduler=args.scheduler,
                dask_local=args.dask_local,
                quiet=args.quiet,
                force_new=args.force_new,
                retry_failed=args.retry_failed,
                batch_size=args.batch_size,
                commit_every=args.commit_every,
            )
        except KeyboardInterrupt:  # while starting (design, store) or after the last commit
            return interrupted("sweep", signals)
    if summary.interrupted and signals["terminated"]:
        return SIGTERM_EXIT
    return summary.exit_code
