"""ddsim: an agent-based simulation of defense diplomacy (Mesa 3.5).

The Python API, for notebooks and scripts::

    from sim import run_scenario, save_run, load_run
    res = run_scenario("indo_pacific", steps=120, seed=1)
    run_dir = save_run(res)            # tables, scenario, manifest, figures, summary
    again = load_run(run_dir)

Layers (each imports only from those below it; ``tests/test_architecture.py`` checks it):
``sim.core`` (the model) < ``sim.scenarios`` (scenario files) < ``sim.running`` (one path
from a scenario to results, run directories) < ``sim.experiments`` (sweeps, analysis,
comparisons, hindcasts) < ``sim.reports`` (figures, summaries, reports) < ``sim.view``
(the ``ddsim view`` dashboard) < ``sim.cli``.
The names below are imported on first use, so ``import sim`` stays fast.
"""

import os

# The model's matrices are small (N <= ~1000): BLAS threads cost more than they save, sweeps
# parallelise across processes instead, and a fixed thread count keeps floating-point
# reductions in the same order, so results are bit-identical across machines and workers.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from importlib.metadata import PackageNotFoundError  # noqa: E402
from importlib.metadata import version as _version  # noqa: E402
from typing import Any  # noqa: E402

try:
    __version__ = _version("ddsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

_API = {
    "load_scenario": "sim.scenarios.loader",
    "run_scenario": "sim.running.simulate",
    "simulate": "sim.running.simulate",
    "load_run": "sim.running.rundir",
    "load_sweep": "sim.experiments.sweep",
    "run_sweep": "sim.experiments.sweep",
    "DiplomacyModel": "sim.core.model",
}

__all__ = ["__version__", "analyze", "save_run", *_API]


def save_run(
    results: Any, out_dir: Any = None, *, svg: bool = False, plots: bool = True, **kw: Any
) -> Any:
    """Save results as a run directory with tables, figures and summary (see
    `sim.running.rundir.save_run`; `plots=False` skips the figures)."""
    from sim.reports.run_outputs import run_writers
    from sim.running.rundir import save_run as _save_run

    return _save_run(results, out_dir, writers=run_writers(plots=plots, svg=svg), **kw)


def analyze(sweep_dir: Any, out: Any = None, *, figures: bool = True) -> Any:
    """Analyse a sweep store: tables, summary.md, figures and report.html, as ``ddsim analyze``
    does (see `sim.experiments.analysis`)."""
    from pathlib import Path

    from sim.experiments.analysis import analyze as _analyze
    from sim.experiments.sweep import load_sweep
    from sim.reports.analysis_figures import sweep_drawer
    from sim.reports.report import write_sweep_report

    draw = sweep_drawer(load_sweep(sweep_dir)) if figures else None
    report = _analyze(sweep_dir, out, draw=draw)
    if report.ok_runs:
        report.files.append(write_sweep_report(Path(sweep_dir), report.out))
    return report


def __getattr__(name: str) -> Any:
    """Lazy API: `run_scenario`, `load_run`, ... are imported on first use."""
    if name in _API:
        import importlib

        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
