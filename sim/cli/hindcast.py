"""``ddsim hindcast --start Y0 --end Y1 [--region R] [--replicates K] [--out DIR]``: build the
world of January Y0 from the data, run it to Y1 and score it against what happened."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sim.cli.options import add_set_option, examples, overrides_from, paragraph, positive_int
from sim.cli.signals import interrupted, sigterm_as_interrupt

QUICK_REPLICATES = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``hindcast`` sub-command."""
    p = subparsers.add_parser(
        "hindcast",
        help="run the world of a past year forward and score it against history",
        description=paragraph(
            "Build the world of January START from the public datasets (data before START "
            "only), run REPLICATES replicates of it and of the same world with activities "
            "switched off to END, and score both against what happened in [START, END), "
            "beside a persistence and a structural baseline. Writes scores.csv, "
            "replicates.csv, roc.png, arms_shares.png and report.md in DIR. Rerunning the "
            "same command resumes the runs. Exit status: 0 done, 2 bad input, 130 "
            "interrupted."
        ),
        epilog=examples(
            "ddsim hindcast --start 2000 --end 2010 --region indo_pacific",
            "ddsim hindcast --start 2010 --end 2018 --replicates 10 --out hindcasts/w2010",
            "ddsim hindcast --start 2005 --end 2008 --region middle_east --quick",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--start", type=int, required=True, metavar="Y0", help="first year")
    p.add_argument("--end", type=int, required=True, metavar="Y1", help="end year (excluded)")
    p.add_argument("--region", help="a region of data/regions.csv (default: world)")
    p.add_argument(
        "--replicates", type=positive_int, metavar="K", help="replicates per variant (default 5)"
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="worker processes (default: all cores; 1 = in this process)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster")
    where.add_argument("--dask-local", action="store_true", help="run on a local Dask cluster")
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="output (default hindcasts/<start>_<end>_<region>)"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_REPLICATES} replicates in this process (unless given), for a smoke test",
    )
    p.add_argument("--seed", type=int, default=0, help="root seed of the replicates")
    p.add_argument("--force-new", action="store_true", help="discard runs stored in DIR")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    add_set_option(p)
    p.set_defaults(func=cmd_hindcast)


def cmd_hindcast(args: argparse.Namespace) -> int:
    """Run the hindcast and write its report; bad input raises InputError (exit 2)."""
    from sim.experiments.hindcast import check_window, hindcast
    from sim.reports.hindcast import write_report

    check_window(args.start, args.end)
    replicates = args.replicates or (QUICK_REPLICATES if args.quick else 5)
    workers = args.workers or (1 if args.quick else None)
    out = args.out or Path("hindcasts") / f"{args.start}_{args.end}_{args.region or 'world'}"
    t0 = time.perf_counter()
    with sigterm_as_interrupt() as signals:
        try:
            h = hindcast(
                args.start,
                args.end,
                out=out,
                region=args.region,
                replicates=replicates,
                overrides=overrides_from(args.overrides),
                root_seed=args.seed,
                workers=workers,
                scheduler=args.scheduler,
                dask_local=args.dask_local,
                quiet=args.quiet,
                force_new=args.force_new,
            )
        except KeyboardInterrupt:
            return interrupted("hindcast", signals)
    report = write_report(h, seconds=time.perf_counter() - t0)
    if not args.quiet:
        shown = h.scores.set_index("score")
        print(shown.to_string(float_format=lambda v: f"{v:.3f}"))
        print(f"{out / 'scores.csv'}, {report}")
    return 0
