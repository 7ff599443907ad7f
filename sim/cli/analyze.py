"""``ddsim analyze SWEEP_DIR``: tables, figures and a summary of a sweep."""

from __future__ import annotations

import argparse
import sys
import warnings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``analyze`` sub-command."""
    a = subparsers.add_parser(
        "analyze",
        help="plots, sensitivity tables and a summary of a sweep",
        description="Response plots with 95%% confidence bands, heatmaps for two-parameter grids, "
        "Sobol or Morris indices when the design supports them (regression-based indices "
        "otherwise), tables as CSV and Parquet, and summary.md.",
    )
    a.add_argument("sweep_dir", metavar="SWEEP_DIR", help="a sweep output directory")
    a.add_argument("--out", metavar="DIR", help="where to write (default: SWEEP_DIR/analysis)")
    a.add_argument("--no-figures", action="store_true", help="tables and summary only")
    a.add_argument("--quiet", action="store_true", help="do not print the summary")
    a.set_defaults(func=cmd_analyze)


def cmd_analyze(args: argparse.Namespace) -> int:
    """``ddsim analyze``: figures, tables and a summary of a sweep; 0 done, 1 no finished
    run, 2 not a store or the analysis cannot be written (nothing partial is left)."""
    from sim.cli.options import os_reason
    from sim.experiments.analysis import analyze
    from sim.experiments.store import DamagedStoreWarning
    from sim.reports.analysis_figures import draw_analysis

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DamagedStoreWarning)
        try:
            report = analyze(
                args.sweep_dir, args.out, draw=None if args.no_figures else draw_analysis
            )
        except OSError as exc:
            print(
                f"ddsim analyze: cannot write the analysis of {args.sweep_dir}: {os_reason(exc)}; "
                "nothing was written",
                file=sys.stderr,
            )
            return 2
    for warning in caught:
        if issubclass(warning.category, DamagedStoreWarning):
            print(f"ddsim analyze: warning: {warning.message}", file=sys.stderr)
    if not args.quiet:
        print(report.summary)
        print(f"wrote {len(report.files)} files to {report.out}", file=sys.stderr)
    return 0 if report.ok_runs else 1
