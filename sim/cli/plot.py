"""``ddsim plot RUN_DIR``: redraw the figures of a saved run from its tables."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from sim.cli.options import add_run_dir_argument, examples, os_reason, paragraph, resolve_run_dir
from sim.errors import InputError
from sim.running.rundir import FIGURES_DIR, MANIFEST_FILE, load_run, now_iso, write_json

PROJECTIONS = (
    "schematic",
    "map",
    "spring",
)  # sim.reports.layout.PROJECTIONS (not imported: --help stays fast)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``plot`` sub-command."""
    plot = subparsers.add_parser(
        "plot",
        help="redraw the figures of a saved run",
        description=paragraph(
            "Redraw the figures of a run directory from its saved tables (nothing is "
            "rerun) into RUN_DIR/figures, and update its report.html."
        ),
        epilog=examples(
            "ddsim plot                          the newest run under ./runs",
            "ddsim plot latest --svg             the same, with SVG files too",
            "ddsim plot runs/indo_pacific-20260101-120000",
            "ddsim plot latest --network-layout map    capitals on an Equal Earth map",
            "ddsim plot /read-only/run --out /tmp/figs  write the figures elsewhere",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_dir_argument(plot, "a run directory made by ddsim run")
    plot.add_argument("--svg", action="store_true", help="also write SVG figures")
    plot.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write the figures here instead of RUN_DIR/figures (the run is left untouched)",
    )
    plot.add_argument(
        "--network-layout",
        choices=PROJECTIONS,
        default="schematic",
        help="node positions of the network figure: capitals on a schematic map (default), on "
        "an Equal Earth map, or a spring layout of the ties",
    )
    plot.set_defaults(func=cmd_plot)


def _check_target(run_dir: Path, out: Path | None) -> Path:
    """Where the figures go; InputError when that cannot be written (checked first)."""
    if (run_dir / "sweep.json").is_file():
        raise InputError(f"{run_dir} is a sweep directory: use ddsim analyze {run_dir}")
    target = out if out is not None else run_dir / FIGURES_DIR
    existing = next((p for p in (target, *target.parents) if p.exists()), None)
    if existing is not None and not (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        hint = "" if out is not None else "; use --out DIR to write them elsewhere"
        raise InputError(
            f"cannot write figures in {target} ({existing} is not a writable directory){hint}"
        )
    return target


def cmd_plot(args: argparse.Namespace) -> int:
    """``ddsim plot RUN_DIR``: redraw the figures from saved tables; 2 if RUN_DIR is not a
    run or its figures cannot be written."""
    from sim.reports.figures import draw_all

    try:
        run_dir = resolve_run_dir(args.run_dir)
        target = _check_target(run_dir, args.out)
        results = load_run(run_dir)
    except InputError as exc:
        print(f"ddsim plot: {exc}", file=sys.stderr)
        return 2
    try:
        written, _ = draw_all(
            results, svg=args.svg, out_dir=target, projection=args.network_layout, processes=2
        )
    except OSError as exc:
        hint = "" if args.out is not None else "; use --out DIR to write them elsewhere"
        print(
            f"ddsim plot: cannot write figures in {target}: {os_reason(exc)}{hint}", file=sys.stderr
        )
        return 2
    if args.out is None:
        _update_run(run_dir, results, written)
    for path in written:
        print(path)
    return 0


def _update_run(run_dir: Path, results, written: list[Path]) -> None:
    """Record the figures in the manifest and refresh report.html (best effort)."""
    manifest_path = run_dir / MANIFEST_FILE
    manifest: dict = {}
    with contextlib.suppress(OSError, ValueError):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["figures"] = sorted(
            set(manifest.get("figures", [])) | {str(p.relative_to(run_dir)) for p in written}
        )
        manifest.pop("figure_errors", None)
        manifest["replotted"] = now_iso()
        write_json(manifest_path, manifest)
    if manifest and (run_dir / "report.html").exists():
        from sim.reports.report import write_run_report

        with contextlib.suppress(OSError):
            write_run_report(results, run_dir, manifest)
