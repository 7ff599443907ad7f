"""``ddsim report latest|RUN_DIR|SWEEP_DIR``: the self-contained report page of a result."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.options import LATEST, examples, paragraph, resolve_run_dir
from sim.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` sub-command."""
    p = subparsers.add_parser(
        "report",
        help="write report.html (and a PDF) for a run or a sweep",
        description=paragraph(
            "Write the self-contained report page of a run (RUN_DIR/report.html) or "
            "of an analysed sweep (SWEEP_DIR/analysis/report.html): summary, figures inlined, key "
            "tables and everything the scenario scripted. The page prints to A4: open it in a "
            "browser and print to PDF, or use --pdf (headless Chromium or Chrome)."
        ),
        epilog=examples(
            "ddsim report                        the newest run under ./runs",
            "ddsim report latest --pdf           ... and report.pdf next to it",
            "ddsim report runs/indo_pacific-20260101-120000 --out /tmp/ip.html",
            "ddsim report sweeps/smoke           a sweep (after ddsim analyze sweeps/smoke)",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "target",
        metavar="latest|RUN_DIR|SWEEP_DIR",
        nargs="?",
        default=LATEST,
        help="a run directory, a sweep or comparison directory, or 'latest' (default): the newest complete "
        "run under ./runs",
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="where to write the page")
    p.add_argument("--pdf", action="store_true", help="also print it to PDF (needs Chromium)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """Write the page (and the PDF); 2 for a bad target or no browser for --pdf."""
    try:
        target = resolve_run_dir(args.target, ensembles=True)
        if _is_ensemble(target):  # ddsim compare or run --replicates: its page again
            from sim.experiments.compare import compare_tables, ensemble_summary
            from sim.reports.compare import write_comparison_report, write_ensemble_report

            tables = compare_tables(target)
            if len(tables.ensemble.variants) == 1:  # ddsim run --replicates
                summary = ensemble_summary(tables.ensemble)
                page = write_ensemble_report(tables, summary, target, page=args.out)[-1]
            else:
                page = write_comparison_report(tables, target, page=args.out)[-1]
        elif (target / "sweep.json").is_file():
            from sim.reports.report import write_sweep_report

            page = write_sweep_report(target, out=args.out)
        else:
            from sim.reports.report import write_run_report
            from sim.running.rundir import load_run, read_manifest

            manifest = read_manifest(target)
            results = load_run(target)
            page = write_run_report(results, target, manifest, out=args.out)
        print(page)
        if args.pdf:
            from sim.reports.pdf import print_pdf

            print(print_pdf(page))
    except InputError as exc:
        print(f"ddsim report: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        from sim.cli.options import os_reason

        print(f"ddsim report: cannot write the report: {os_reason(exc)}", file=sys.stderr)
        return 2
    return 0


def _is_ensemble(target: Path) -> bool:
    """True for the store of a comparison (sweep.json of kind 'ensemble')."""
    import json

    try:
        manifest = json.loads((target / "sweep.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("kind") == "ensemble"
