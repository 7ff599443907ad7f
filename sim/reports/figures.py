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

from collections.abc import Callable, Mapping
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


def draw_all(
    results: Any,
    *,
    svg: bool = False,
    out_dir: Path,
    strict: bool = True,
    projection: str = "schematic",
    only: tuple[str, ...] = FIGURES,
) -> tuple[list[Path], dict[str, str]]:
    """Draw every figure of `results` (a `Results` with `meta`) into `out_dir` as PNG (and
    SVG with `svg`). Returns the files written and, when `strict` is false, the figures that
    failed (name -> error message) instead of raising."""
    shared = RunFigures.of(results, projection)
    makers = shared.makers()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    failed: dict[str, str] = {}
    for name in only:
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
    "network_snapshots",
    "plot_activities",
    "plot_blocs",
    "plot_crises",
    "plot_market",
    "plot_network",
    "plot_relations",
    "plot_run",
]
