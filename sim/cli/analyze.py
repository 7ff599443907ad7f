"""``ddsim analyze SWEEP_DIR``: tables, figures, a summary and a report page of a sweep."""

from __future__ import annotations

import argparse
import sys
import warnings

from sim.cli.options import examples, paragraph


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``analyze`` sub-command."""
    a = subparsers.add_parser(
        "analyze",
        help="plots, sensitivity tables, a summary and a report page of a sweep",
        description=paragraph(
            "Response plots with 95% confidence bands, heatmaps for two-parameter grids, "
            "Sobol or Morris indices when the design supports them (regression-based indices "
            "otherwise), tables as CSV and Parquet, summary.md, and report.html (all of it on one "
            "self-contained page)."
        ),
        epilog=examples(
            "ddsim analyze sweeps/smoke                  writes sweeps/smoke/analysis/",
            "ddsim analyze sweeps/smoke --out /tmp/a     somewhere else",
            "ddsim analyze sweeps/smoke --no-figures     tables and summary only",
            "ddsim report sweeps/smoke --pdf             the report page as PDF",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument("sweep_dir", metavar="SWEEP_DIR", help="a sweep output directory")
    a.add_argument("--out", metavar="DIR", help="where to write (default: SWEEP_DIR/analysis)")
    a.add_argument("--no-figures", action="store_true", help="tables and summary only")
    a.add_argument("--quiet", action="store_true", help="do not print the summary")
    a.set_defaults(func=cmd_analyze)


def cmd_analyze(args: argparse.Namespace) -> int:
    """``ddsim analyze``: figures, tables, a summary and report.html of a sweep; 0 done, 1 no
    finished run, 2 not a store or the analysis cannot be written (nothing partial is left)."""
    from sim.cli.options import os_reason
    from sim.experiments.analysis import analyze, require_sweep
    from sim.experiments.store import DamagedStoreWarning
    from sim.experiments.sweep import load_sweep
    from sim.reports.analysis_figures import sweep_drawer

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DamagedStoreWarning)
        try:
            sweep = require_sweep(load_sweep(args.sweep_dir))
            draw = None if args.no_figures else sweep_drawer(sweep)
            report = analyze(args.sweep_dir, args.out, draw=draw)
            page = _write_report(args, report)
        except OSError as exc:
            print(
                f"ddsim analyze: cannot write the analysis of {args.sweep_dir}: {os_reason(exc)}; "
                "nothing was written",
                file=sys.stderr,
            )
            return 2
    seen = set()
    for warning in caught:
        if issubclass(warning.category, DamagedStoreWarning) and str(warning.message) not in seen:
            seen.add(str(warning.message))
            print(f"ddsim analyze: warning: {warning.message}", file=sys.stderr)
    if not args.quiet:
        print(report.summary)
        constant = _constant(report.out)
        if constant:
            print("outcomes that did not vary (not plotted):", file=sys.stderr)
            for line in constant:
                print(f"  {line}", file=sys.stderr)
        print(f"wrote {len(report.files) + bool(page)} files to {report.out}", file=sys.stderr)
        if page:
            print(f"report: {page}", file=sys.stderr)
    return 0 if report.ok_runs else 1


def _write_report(args: argparse.Namespace, report) -> object:  # noqa: ANN001
    """report.html of the analysis (None when there are no finished runs)."""
    if not report.ok_runs:
        return None
    from sim.reports.report import write_sweep_report

    return write_sweep_report(args.sweep_dir, report.out)


def _constant(out) -> list[str]:  # noqa: ANN001
    import json

    from sim.reports.analysis_figures import FIGURES_JSON

    path = out / FIGURES_JSON
    if not path.is_file():
        return []
    record = json.loads(path.read_text(encoding="utf-8"))
    return [f"{k}: {v}" for k, v in (record.get("constant") or {}).items()]
