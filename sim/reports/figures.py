"""All figures of a run, drawn from its tidy tables (never from a live model).

`draw_all` draws every figure of a `RunResults` into a directory; `plot_run` does it for a
saved run directory. Each figure lives in its own module and returns a
`matplotlib.figure.Figure` (no pyplot, no backend switch):

    relations   sim.reports.timeseries.plot_relations
    network     sim.reports.network.plot_network
    blocs       sim.reports.membership.plot_blocs
    activities  sim.reports.timeseries.plot_activities
    crises      sim.reports.crises.plot_crises
    market      sim.reports.market.plot_market

Shared pieces: `sim.reports.style` (palette, layout, saving), `sim.reports.blocs` (bloc names
and colours), `sim.reports.timeaxis`, `sim.reports.scripted` (what the scenario scripted) and
`sim.reports.markers` (event markers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sim.reports.blocs import BlocPalette, bloc_cores, bloc_palette
from sim.reports.crises import plot_crises
from sim.reports.market import plot_market
from sim.reports.membership import plot_blocs
from sim.reports.network import network_snapshots, plot_network
from sim.reports.scripted import ScenarioInputs, scenario_inputs
from sim.reports.style import category_colors, save, style
from sim.reports.timeaxis import TimeAxis
from sim.reports.timeseries import activity_counts, plot_activities, plot_relations

FIGURES = ("relations", "network", "blocs", "activities", "crises", "market")
CAPTIONS = {
    "relations": "Mean trust, interoperability and escalation risk over all pairs of states, "
    "within blocs and across blocs. Dotted vertical lines and the labels above are events the "
    "scenario scripted (inputs); triangles along the risk panel are militarized incidents the "
    "model produced (outcomes).",
    "network": "The alignment network at the start and the end (and the middle when dyads were "
    "recorded). Blocs are named after and coloured by their most capable member, the same in "
    "every panel; edges use fixed thresholds (docs/figures.md). A black X marks a war the "
    "scenario scripted.",
    "blocs": "Which bloc each state belongs to over time; ticks mark switches. Diamonds and X "
    "mark scripted alliance joins and wars (inputs).",
    "activities": "Defense-diplomacy activities started per step by kind (centred 12-step "
    "rolling mean). The dashed black line is the part scripted by the scenario's exercise and "
    "arms programs; the rest the states chose.",
    "crises": "Every crisis on its dyad's row. Circles and triangles are model outcomes; "
    "X in a grey band are wars, which only a scripted war_shock event creates (inputs).",
    "market": "Each supplier's share of recent arms deliveries; scripted embargoes, sanctions "
    "and wars are marked above.",
}


def names_of(meta: Mapping[str, Any]) -> dict[str, str]:
    """State id -> display name from a run's meta (names as a list or a mapping)."""
    ids = list(meta.get("states") or [])
    raw = meta.get("names") or {}
    if isinstance(raw, list):
        return {str(k): str(v) for k, v in zip(ids, raw, strict=False)}
    return {str(k): str(v) for k, v in dict(raw).items()}


@dataclass
class RunFigures:
    """What the figures of one run share: names, time axis, bloc palette, scripted inputs."""

    results: Any
    names: dict[str, str]
    time: TimeAxis
    palette: BlocPalette
    inputs: ScenarioInputs
    cores: np.ndarray
    projection: str = "schematic"

    @classmethod
    def of(cls, results: Any, projection: str = "schematic") -> RunFigures:
        meta = getattr(results, "meta", {}) or {}
        names = names_of(meta)
        cores = bloc_cores(results.states)
        return cls(
            results,
            names,
            TimeAxis.from_meta(meta),
            bloc_palette(results.states, names, cores=cores),
            scenario_inputs(results, names),
            cores,
            projection,
        )

    def makers(self) -> dict[str, Callable[[], Figure]]:
        """Figure name -> function drawing it."""
        r, meta = self.results, getattr(self.results, "meta", {}) or {}
        scenario = meta.get("scenario") or "run"
        world, states = r.world, r.states
        last_step = int(world["step"].max()) if not world.empty else 0
        common = {"time": self.time}
        return {
            "relations": lambda: plot_relations(
                world,
                states,
                inputs=self.inputs,
                crises=r.crises,
                cores=self.cores,
                title=f"{scenario}: trust, interoperability and escalation risk",
                **common,
            ),
            "network": lambda: plot_network(
                network_snapshots(r),
                states,
                self.names,
                locations=meta.get("locations") or None,
                palette=self.palette,
                inputs=self.inputs,
                crises=r.crises,
                projection=self.projection,
                cores=self.cores,
                title=f"{scenario}: alignment network",
                **common,
            ),
            "blocs": lambda: plot_blocs(
                states,
                self.names,
                palette=self.palette,
                inputs=self.inputs,
                cores=self.cores,
                title=f"{scenario}: bloc membership over time",
                **common,
            ),
            "activities": lambda: plot_activities(
                r.activities,
                last_step,
                inputs=self.inputs,
                title=f"{scenario}: defense-diplomacy activity mix",
                **common,
            ),
            "crises": lambda: plot_crises(
                r.crises,
                world,
                self.names,
                title=f"{scenario}: crises and militarized incidents",
                **common,
            ),
            "market": lambda: plot_market(
                states,
                self.names,
                inputs=self.inputs,
                title=f"{scenario}: arms suppliers' market shares",
                **common,
            ),
        }


def _draw(
    makers: Mapping[str, Callable[[], Figure]],
    names: Sequence[str],
    out_dir: Path,
    svg: bool,
    strict: bool,
) -> tuple[list[Path], dict[str, str]]:
    """Draw and save the named figures; failures are collected unless `strict`."""
    written: list[Path] = []
    failed: dict[str, str] = {}
    for name in names:
        try:
            with style():
                fig = makers[name]()
        except Exception as exc:
            if strict:
                raise
            failed[name] = f"{type(exc).__name__}: {exc}"
            continue
        for ext in ("png", "svg") if svg else ("png",):
            path = out_dir / f"{name}.{ext}"
            save(fig, path)
            written.append(path)
    return written, failed


# Relative drawing cost of each figure (world run, measured), to split the work evenly.
_COST = {
    "network": 3,
    "blocs": 2.5,
    "relations": 2.5,
    "crises": 2,
    "activities": 1.5,
    "market": 1.5,
}


def _split(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Two groups of figures of about equal drawing cost (largest first, greedy)."""
    mine: list[str] = []
    theirs: list[str] = []
    for name in sorted(names, key=lambda n: -_COST.get(n, 1)):
        smaller = (
            mine
            if sum(_COST.get(n, 1) for n in mine) <= sum(_COST.get(n, 1) for n in theirs)
            else theirs
        )
        smaller.append(name)
    return mine, theirs


CHILD_TIMEOUT_S = 60.0  # a drawing process silent this long is killed; its figures drawn here


def _draw_in_two_processes(
    makers: Mapping[str, Callable[[], Figure]],
    names: Sequence[str],
    out_dir: Path,
    svg: bool,
    strict: bool,
) -> tuple[list[Path], dict[str, str]]:
    """Half of the figures in a forked child, half here (Linux): matplotlib draws in Python
    under the GIL, so a second core needs a second process. The child inherits the prepared
    tables by fork (nothing is pickled) and sends back file names and errors. It writes
    nothing to the console (a lock another thread held at the fork could block it), and if
    it stays silent for `CHILD_TIMEOUT_S` it is killed and its figures are drawn here."""
    import multiprocessing as mp
    import traceback
    import warnings

    mine, theirs = _split(names)
    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        warnings.simplefilter("ignore")
        try:
            written, failed = _draw(makers, theirs, out_dir, svg, strict=False)
            send.send(([str(p) for p in written], failed))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            send.send(([], {"(worker)": "".join(traceback.format_exception_only(exc)).strip()}))

    with warnings.catch_warnings():
        # Python warns about fork() in a process with threads (arrow's pool, a progress
        # spinner): the child takes none of their locks and is watched by a timeout.
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        proc = ctx.Process(target=child, daemon=True)
        proc.start()
    send.close()
    try:
        written, failed = _draw(makers, mine, out_dir, svg, strict)
        answer = receive.recv() if receive.poll(CHILD_TIMEOUT_S) else None
    except EOFError:  # the child died without a word
        answer = None
    finally:
        if proc.is_alive() and not receive.closed and not receive.poll(0):
            proc.kill()
        proc.join()
        receive.close()
    if answer is None:
        theirs_written, theirs_failed = _draw(makers, theirs, out_dir, svg, strict)
        theirs_written = [str(p) for p in theirs_written]
    else:
        theirs_written, theirs_failed = answer
    if theirs_failed and strict:
        raise RuntimeError("; ".join(f"{k}: {v}" for k, v in theirs_failed.items()))
    order = {n: k for k, n in enumerate(names)}
    written = sorted(
        written + [Path(p) for p in theirs_written], key=lambda p: order.get(p.stem, 99)
    )
    return written, {**failed, **theirs_failed}


def draw_all(
    results: Any,
    *,
    svg: bool = False,
    out_dir: Path,
    strict: bool = True,
    projection: str = "schematic",
    only: tuple[str, ...] = FIGURES,
    processes: int = 1,
) -> tuple[list[Path], dict[str, str]]:
    """Draw every figure of `results` (a `Results` with `meta`) into `out_dir` as PNG (and
    SVG with `svg`). Returns the files written and, when `strict` is false, the figures that
    failed (name -> error message) instead of raising.

    `processes=2` draws half of the figures in a forked process (where the platform forks;
    the command line does this on machines with two cores or more, see `parallel_ok`); the
    default draws in this process only, which is what notebooks want."""
    shared = RunFigures.of(results, projection)
    makers = shared.makers()
    out_dir.mkdir(parents=True, exist_ok=True)
    if processes > 1 and len(only) > 1 and parallel_ok():
        return _draw_in_two_processes(makers, only, out_dir, svg, strict)
    return _draw(makers, only, out_dir, svg, strict)


def parallel_ok() -> bool:
    """Whether drawing in a second, forked process is possible and worth it here: Linux
    (fork is safe there for this code), two usable cores or more."""
    import multiprocessing as mp
    import os
    import sys

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        sys.platform.startswith("linux")
        and "fork" in mp.get_all_start_methods()
        and ((cores or 1) >= 2)
    )


def plot_run(
    run_dir: str | Path,
    svg: bool = False,
    out_dir: str | Path | None = None,
    projection: str = "schematic",
) -> list[Path]:
    """Redraw all figures of a saved run into `RUN_DIR/figures` (or `out_dir`) from its
    tables; returns the files."""
    from sim.running.rundir import FIGURES_DIR, load_run

    run_dir = Path(run_dir)
    results = load_run(run_dir)
    target = Path(out_dir) if out_dir is not None else run_dir / FIGURES_DIR
    written, _ = draw_all(results, svg=svg, out_dir=target, projection=projection)
    return written


__all__ = [
    "CAPTIONS",
    "FIGURES",
    "RunFigures",
    "TimeAxis",
    "activity_counts",
    "bloc_palette",
    "category_colors",
    "draw_all",
    "names_of",
    "parallel_ok",
    "network_snapshots",
    "plot_activities",
    "plot_blocs",
    "plot_crises",
    "plot_market",
    "plot_network",
    "plot_relations",
    "plot_run",
]
