"""Figures and reports: run figures, summaries, analysis figures, report pages.

Bloc names and colours come from one place, for every figure, report and the dashboard::

    from sim.reports import bloc_palette, bloc_cores
    palette = bloc_palette(results.states, names)   # names: state id -> display name
    cores = bloc_cores(results.states)              # core member of each row's bloc ('' alone)
    palette.label("CHN"), palette.color("CHN")      # 'China bloc', '#0072B2'

Modules (see each docstring): style, blocs, timeaxis, scripted, layout, labels, markers,
network, membership, timeseries, crises, market, figures (all run figures), summary,
quantities and analysis_figures (sweeps), html (the page builder), report, pdf,
run_outputs. Importing this package loads no plotting library and never changes the
matplotlib backend.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "BlocPalette": "sim.reports.blocs",
    "bloc_cores": "sim.reports.blocs",
    "bloc_palette": "sim.reports.blocs",
    "ALONE_COLOR": "sim.reports.blocs",
    "OTHER_COLOR": "sim.reports.blocs",
    "draw_all": "sim.reports.figures",
    "plot_run": "sim.reports.figures",
    "scenario_inputs": "sim.reports.scripted",
    "write_run_report": "sim.reports.report",
    "write_sweep_report": "sim.reports.report",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    """Lazy names: `bloc_palette`, `draw_all`, ... are imported on first use."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim.reports' has no attribute {name!r}")
