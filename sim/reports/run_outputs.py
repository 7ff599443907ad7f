"""What a run directory gets besides its tables: figures, the plain-text summary and the
report page.

`run_writers` gives the output writers (`sim.running.rundir.OutputWriter`) that ``ddsim run``
and `sim.save_run` pass to the run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.core.metrics import Results
from sim.running.rundir import FIGURES_DIR, SUMMARY_FILE, OutputWriter, final_of, listing


def write_figures(
    results: Results, directory: Path, manifest: dict[str, Any], svg: bool, processes: int = 1
) -> None:
    """Draw every run figure into ``figures/``; failures are recorded, not raised."""
    from sim.reports.figures import draw_all

    written, failed = draw_all(
        results, svg=svg, out_dir=directory / FIGURES_DIR, strict=False, processes=processes
    )
    manifest["figures"] = [str(p.relative_to(directory)) for p in written]
    if failed:
        manifest["figure_errors"] = failed


def write_summary(results: Results, directory: Path, manifest: dict[str, Any]) -> None:
    """The plain-text summary (summary.txt), listing the run directory's files."""
    from sim.reports import summary

    manifest["summary"] = SUMMARY_FILE
    text = summary.render_plain(
        summary.build_summary(results, files=listing(manifest), overrides=manifest.get("overrides"))
    )
    (directory / SUMMARY_FILE).write_text(text, encoding="utf-8")


def write_report(
    results: Results, directory: Path, manifest: dict[str, Any], figures: bool = True
) -> None:
    """The self-contained report page (report.html: summary, scripted inputs, figures).
    The page names the run directory as it will be once complete (not the hidden
    ``.partial`` directory it is written into)."""
    from sim.reports.report import REPORT_FILE, write_run_report

    manifest["report"] = REPORT_FILE
    write_run_report(results, directory, manifest, figures=figures, shown_dir=final_of(directory))


def run_writers(*, plots: bool = True, svg: bool = False, processes: int = 1) -> list[OutputWriter]:
    """The writers of a run directory: figures (unless `plots` is False), the summary, then
    the report page (which inlines the figures). `processes=2` draws the figures in two
    processes where that is possible (``ddsim run``; notebooks keep the default 1)."""
    writers: list[OutputWriter] = []
    if plots:
        writers.append(lambda res, d, m: write_figures(res, d, m, svg, processes))
    writers.append(write_summary)
    writers.append(lambda res, d, m: write_report(res, d, m, figures=plots))
    return writers
