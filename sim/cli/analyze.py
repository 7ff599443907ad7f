"""``ddsim analyze SWEEP_DIR``: tables, figures and a summary of a sweep."""

from __future__ import annotations

import argparse
import sys


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
    """``ddsim analyze``: figures, tables and a summary of a sweep."""
    from sim.experiments.analysis import analyze
    from sim.reports.analysis_figures import draw_analysis

    report = analyze(args.sweep_dir, args.out, draw=None if args.no_figures else draw_analysis)
    if not args.quiet:
        print(report.summary)
        print(f"wrote {len(report.files)} files to {report.out}", file=sys.stderr)
    return 0 if report.ok_runs else 1
