"""The report page of a result: ``report.html`` for a run and for a sweep analysis.

`run_report` puts together a run's summary tables, every scripted input of its scenario
(with its date), its figures with captions, and where the files are; `sweep_report` the
analysis summary, the outcomes that did not vary, the figures, the sensitivity table and the
sweep's provenance. Both are `sim.reports.html.Report` pages, so the coming comparison page
is built the same way. ``ddsim run`` and ``ddsim analyze`` write them; ``ddsim report`` writes
them again for any run or sweep directory (and prints them to PDF with ``--pdf``).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.reports import summary as summary_mod
from sim.reports.html import Image, Items, Markdown, Paragraph, Report, Section, Table, write_html
from sim.reports.scripted import scenario_inputs
from sim.reports.timeaxis import TimeAxis

REPORT_FILE = "report.html"


def _table(sec: summary_mod.Section) -> Table:
    return Table(list(sec.columns), [list(r) for r in sec.rows], sec.note, sec.title)


def _version() -> str:
    import sim

    return f"ddsim {sim.__version__}"


def _figures(results: Any, run_dir: Path | None, manifest: Mapping[str, Any]) -> list[Image]:
    """The run's figures with captions: the PNGs listed in the manifest, or drawn afresh into
    a temporary directory when the run has none (the page is self-contained either way)."""
    from sim.reports.figures import CAPTIONS, FIGURES, draw_all

    listed = [
        run_dir / f for f in manifest.get("figures", []) if run_dir and str(f).endswith(".png")
    ]
    if run_dir is not None and listed and all(p.is_file() for p in listed):
        by_name = {p.stem: p for p in listed}
        return [Image.from_file(by_name[n], CAPTIONS.get(n, "")) for n in FIGURES if n in by_name]
    with tempfile.TemporaryDirectory() as tmp:
        written, _ = draw_all(results, out_dir=Path(tmp), strict=False)
        return [Image.from_file(p, CAPTIONS.get(p.stem, "")) for p in written]


def _inputs_sections(results: Any) -> list[Section]:
    """What the scenario scripted: counts, and every event with its date."""
    meta = getattr(results, "meta", {}) or {}
    inputs = scenario_inputs(results)
    if not inputs.known:
        return [
            Section(
                "What the scenario scripted",
                [
                    Paragraph(
                        "The scenario of this run is not available (no scenario.yaml): only "
                        "wars are known to be inputs (a war is always a war_shock event)."
                    )
                ],
                "inputs",
            )
        ]
    time = TimeAxis.from_meta(meta)
    blocks: list = [
        Paragraph(
            "Everything below was written into the scenario: it is an input of the run, not "
            "something the model produced. In the figures, scripted events are dotted lines "
            "with labels above the panels, scripted wars are black X, and the activities "
            "figure shows the part of the activity the programs scripted."
        )
    ]
    sec = summary_mod.inputs_section(inputs)  # the same table as summary.txt
    if sec is not None:
        blocks.append(_table(sec))
    rows = [
        [str(e.scenario_step), time.when(e.scenario_step) if time.dated else "", e.type, e.text]
        for e in inputs.events
    ]
    rows += [
        [str(p.start), time.when(p.start) if time.dated else "", p.type, p.text]
        for p in inputs.programs
    ]
    rows.sort(key=lambda r: int(r[0]))
    if rows:
        blocks.append(
            Table(
                ["step", "date", "event", "what"],
                rows,
                "scenario step of each event; its effect shows from the next step",
                "Every scripted event",
            )
        )
    return [Section("What the scenario scripted", blocks, "inputs")]


def run_report(
    results: Any,
    run_dir: Path | None = None,
    manifest: Mapping[str, Any] | None = None,
    figures: bool = True,
    shown_dir: Path | None = None,
) -> Report:
    """The report page of a run (see the module docstring); `figures=False` leaves them out
    (``ddsim run --no-plots``). Figures are read from `run_dir`; the page names `shown_dir`
    (default `run_dir`) as the run directory (a run being written names its final one)."""
    manifest = dict(manifest or {})
    shown = shown_dir if shown_dir is not None else run_dir
    meta = getattr(results, "meta", {}) or {}
    summary = summary_mod.build_summary(
        results,
        run_dir=shown,
        wall_time=manifest.get("wall_time_s"),
        overrides=manifest.get("overrides"),
    )
    scenario = meta.get("scenario") or manifest.get("scenario", {}).get("name") or "run"
    sections = [
        Section(
            "Summary",
            [_table(s) for s in summary.sections if not s.title.startswith("Scenario inputs")],
            "summary",
        ),
        *_inputs_sections(results),
    ]
    images = _figures(results, run_dir, manifest) if figures else []
    if images:
        sections.append(Section("Figures", list(images), "figures"))
    else:
        sections.append(
            Section(
                "Figures",
                [
                    Paragraph(
                        "Figures were not drawn (--no-plots); "
                        "ddsim report RUN_DIR draws them into the page."
                    )
                ],
            )
        )
    files = _files(manifest)
    provenance = [
        ["scenario", str(manifest.get("scenario", {}).get("path") or scenario)],
        ["scenario hash", str(manifest.get("scenario", {}).get("hash", ""))[:16]],
        ["seed", str(meta.get("seed", manifest.get("seed", "")))],
        ["steps", str(meta.get("steps", manifest.get("steps", "")))],
        ["command", str(manifest.get("command_line", ""))],
        ["run directory", str(shown or "")],
        ["versions", ", ".join(f"{k} {v}" for k, v in (manifest.get("versions") or {}).items())],
    ]
    blocks: list = [Table(["", ""], [r for r in provenance if r[1]])]
    if files:
        blocks.append(Items(files))
    sections.append(Section("Files and provenance", blocks, "files"))
    return Report(
        f"{scenario}: run report",
        summary.headline,
        sections,
        footer=f"{_version()} · rerun: ddsim run --replay {shown}" if shown else _version(),
    )


def _files(manifest: Mapping[str, Any]) -> list[str]:
    """The run directory's files as its manifest records them, and this page."""
    from sim.running.rundir import listing

    if not manifest.get("tables"):
        return []
    files = listing(manifest)  # lists report.html once the manifest records it
    return files if REPORT_FILE in files else [*files, REPORT_FILE]


def write_run_report(
    results: Any,
    run_dir: Path | None,
    manifest: Mapping[str, Any] | None = None,
    out: Path | None = None,
    figures: bool = True,
    shown_dir: Path | None = None,
) -> Path:
    """Write the run's report page (default RUN_DIR/report.html) and return its path."""
    target = Path(out) if out is not None else Path(run_dir) / REPORT_FILE
    return write_html(run_report(results, run_dir, manifest, figures, shown_dir), target)


# ----------------------------------------------------------------------------------------------
# Sweeps
# ----------------------------------------------------------------------------------------------


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "" if pd.isna(v) else f"{v:.3g}"
    return str(v)


def sweep_report(sweep_dir: Path, analysis_dir: Path | None = None) -> Report:
    """The report page of a sweep analysis (run ``ddsim analyze`` first)."""
    from sim.errors import InputError
    from sim.reports.analysis_figures import FIGURES_JSON
    from sim.reports.quantities import describe_outcome

    sweep_dir = Path(sweep_dir)
    out = Path(analysis_dir) if analysis_dir is not None else sweep_dir / "analysis"
    summary_md = out / "summary.md"
    if not summary_md.is_file():
        raise InputError(
            f"{sweep_dir}: no analysis yet ({summary_md} missing); run: ddsim analyze {sweep_dir}"
        )
    manifest = json.loads((sweep_dir / "sweep.json").read_text(encoding="utf-8"))
    record = {}
    if (out / FIGURES_JSON).is_file():
        record = json.loads((out / FIGURES_JSON).read_text(encoding="utf-8"))
    sections = [Section("Summary", [Markdown(summary_md.read_text(encoding="utf-8"))], "summary")]
    if manifest.get("description"):
        sections[0].blocks.insert(0, Paragraph(" ".join(str(manifest["description"]).split())))
    outcomes = manifest.get("outcomes", [])
    rows = [
        [
            o["name"],
            describe_outcome(o, steps=manifest.get("steps")).axis_label,
            o.get("description", ""),
        ]
        for o in outcomes
    ]
    sections.append(Section("Outcomes", [Table(["outcome", "meaning (unit)", "note"], rows)]))
    constant = record.get("constant") or {}
    if constant:
        sections.append(
            Section(
                "Outcomes that did not vary (not plotted)",
                [Items([f"{k}: {v}" for k, v in constant.items()])],
                "constant",
            )
        )
    figures = [
        Image.from_file(out / f["file"], f.get("caption", ""))
        for f in record.get("figures", [])
        if (out / f["file"]).is_file()
    ] or [Image.from_file(p) for p in sorted(out.glob("*.png"))]
    if figures:
        sections.append(Section("Figures", list(figures), "figures"))
    sens = out / "sensitivity.csv"
    if sens.is_file():
        t = pd.read_csv(sens)
        cols = [
            c
            for c in ("outcome", "parameter", "eta2", "src", "src_ci_low", "src_ci_high", "r2", "n")
            if c in t
        ]
        t = t[~t["outcome"].isin(list(constant))] if "outcome" in t else t
        sections.append(
            Section(
                "Sensitivity",
                [
                    Table(
                        cols,
                        [[_fmt(v) for v in r] for r in t[cols].itertuples(index=False)],
                        "eta2: share of the outcome's variance explained by the parameter's value "
                        "(deciles for continuous parameters); src: standardized regression "
                        "coefficient with its 95% interval; r2 of the linear fit",
                    )
                ],
                "sensitivity",
            )
        )
    counts = manifest.get("counts") or {}
    provenance = [
        ["experiment", str(manifest.get("experiment_file", ""))],
        ["scenario", str((manifest.get("scenario") or {}).get("name", ""))],
        ["design", json.dumps(manifest.get("design", {}))],
        ["runs", ", ".join(f"{k} {v}" for k, v in counts.items()) or str(manifest.get("n_runs"))],
        ["steps", str(manifest.get("steps", ""))],
        ["root seed", str(manifest.get("root_seed", ""))],
        ["versions", ", ".join(f"{k} {v}" for k, v in (manifest.get("versions") or {}).items())],
    ]
    sections.append(
        Section(
            "Provenance",
            [
                Table(["", ""], [r for r in provenance if r[1]]),
                Paragraph(f"sweep directory: {sweep_dir}; analysis: {out}"),
            ],
        )
    )
    name = manifest.get("name", sweep_dir.name)
    sub = (
        f"{(manifest.get('scenario') or {}).get('name', '?')}, "
        f"{manifest.get('design', {}).get('type', '?')} design, {manifest.get('n_points', '?')} "
        f"points x {manifest.get('replicates', '?')} replicates"
    )
    return Report(f"{name}: sweep analysis", sub, sections, footer=_version())


def write_sweep_report(
    sweep_dir: Path, analysis_dir: Path | None = None, out: Path | None = None
) -> Path:
    """Write the sweep's report page (default ANALYSIS_DIR/report.html) and return its path."""
    analysis_dir = Path(analysis_dir) if analysis_dir is not None else Path(sweep_dir) / "analysis"
    target = Path(out) if out is not None else analysis_dir / REPORT_FILE
    return write_html(sweep_report(sweep_dir, analysis_dir), target)


__all__ = ["REPORT_FILE", "run_report", "sweep_report", "write_run_report", "write_sweep_report"]
