"""``ddsim plot RUN_DIR``: redraw the figures of a saved run from its tables."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from sim.errors import InputError
from sim.running.rundir import FIGURES_DIR, MANIFEST_FILE, load_run, now_iso, write_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``plot`` sub-command."""
    plot = subparsers.add_parser(
        "plot",
        help="redraw the figures of a saved run",
        description="Redraw the figures of a run directory from its saved tables (nothing is rerun).",
    )
    plot.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="a run directory made by ddsim run"
    )
    plot.add_argument("--svg", action="store_true", help="also write SVG figures")
    plot.set_defaults(func=cmd_plot)


def cmd_plot(args: argparse.Namespace) -> int:
    """``ddsim plot RUN_DIR``: redraw the figures from saved tables; 2 if RUN_DIR is not a run."""
    from sim.reports.figures import draw_all

    try:
        results = load_run(args.run_dir)
    except InputError as exc:
        print(f"ddsim plot: {exc}", file=sys.stderr)
        return 2
    written, _ = draw_all(results, svg=args.svg, out_dir=Path(args.run_dir) / FIGURES_DIR)
    manifest_path = Path(args.run_dir) / MANIFEST_FILE
    with contextlib.suppress(OSError, ValueError):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["figures"] = sorted(
            set(manifest.get("figures", [])) | {str(p.relative_to(args.run_dir)) for p in written}
        )
        manifest.pop("figure_errors", None)
        manifest["replotted"] = now_iso()
        write_json(manifest_path, manifest)
    for path in written:
        print(path)
    return 0
