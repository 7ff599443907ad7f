"""Bloc membership over time: who belongs to which bloc, and when states switch.

One row per state and one column per recorded step, coloured by the bloc the state is in
(named and coloured by its core member, `sim.reports.blocs`); a black tick marks a switch.
Scripted alliance joins and exits and scripted wars are marked on the rows of the states
they concern, as inputs. Above `ROWS_UP_TO` states (the world scenario) the figure shows the
number of states in each bloc over time (stacked) and rows only for the `TOP_ROWS` most
capable states, so it stays readable on an A4 page.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim.reports.blocs import (
    ALONE_COLOR,
    ALONE_LABEL,
    OTHER_COLOR,
    OTHER_LABEL,
    BlocPalette,
    bloc_cores,
    bloc_palette,
)
from sim.reports.scripted import ScenarioInputs
from sim.reports.style import Grid, name_of, note, row_labels, stack_areas, style
from sim.reports.timeaxis import TimeAxis

ROWS_UP_TO = 40
TOP_ROWS = 30


def _x_edges(steps: np.ndarray, time: TimeAxis) -> np.ndarray:
    """Cell edges (midpoints between recorded steps) in axis units (matplotlib dates when
    dated)."""
    st = steps.astype(float)
    if len(st) > 1:
        mids = (st[1:] + st[:-1]) / 2
        edges = np.concatenate([[st[0] - (mids[0] - st[0])], mids, [st[-1] + (st[-1] - mids[-1])]])
    else:
        edges = np.array([st[0] - 0.5, st[0] + 0.5])
    if not time.dated:
        return edges
    xs = time.num(steps)
    if len(st) == 1:
        return np.array([xs[0] - 15, xs[0] + 15])
    out = np.interp(edges, st, xs)
    out[0] = xs[0] + (edges[0] - st[0]) * (xs[1] - xs[0]) / (st[1] - st[0])
    out[-1] = xs[-1] + (edges[-1] - st[-1]) * (xs[-1] - xs[-2]) / (st[-1] - st[-2])
    return out


def _codes(core_table: np.ndarray, colored: list[str]) -> np.ndarray:
    """Colour index per cell: palette colours, then 'other blocs', then 'alone'; NaN where
    the state was not recorded (one hash lookup per cell)."""
    code_of = {c: float(k) for k, c in enumerate(colored)}
    code_of[""] = float(len(colored) + 1)
    flat = pd.Series(core_table.ravel(), dtype=object)
    codes = flat.map(code_of).to_numpy(dtype=float, copy=True)
    other = np.isnan(codes) & flat.notna().to_numpy()
    codes[other] = len(colored)
    return codes.reshape(core_table.shape)


def _x_num(time: TimeAxis, steps: np.ndarray) -> np.ndarray:
    return time.num(steps)


def _rows_panel(
    ax: Axes,
    table: np.ndarray,
    ids: list[str],
    names: Mapping[str, str],
    palette: BlocPalette,
    colored: list[str],
    x_edges: np.ndarray,
    fontsize: float,
) -> None:
    cores = table
    code = _codes(cores, colored)
    colors = [palette.colors[c] for c in colored]
    cmap = ListedColormap([*colors, OTHER_COLOR, ALONE_COLOR]).with_extremes(bad="white")
    y_edges = np.arange(len(ids) + 1) - 0.5
    ax.pcolormesh(
        x_edges,
        y_edges,
        np.ma.masked_invalid(code),
        cmap=cmap,
        vmin=-0.5,
        vmax=len(colored) + 1.5,
        shading="flat",
        rasterized=True,
    )
    # Switches: the core of a state's bloc changes between consecutive records.
    same = cores[:, 1:] == cores[:, :-1]
    missing = np.equal(cores, None)
    known = ~missing[:, 1:] & ~missing[:, :-1]
    rows, cols = np.nonzero(~same & known)
    if rows.size:
        ax.scatter(x_edges[cols + 1], rows, marker="|", s=40, c="black", linewidths=0.9, zorder=3)
    ax.set_ylim(len(ids) - 0.5, -0.5)
    row_labels(ax, [name_of(names, s) for s in ids], fontsize)
    ax.grid(False)


def _mark_inputs(
    ax: Axes, ids: list[str], inputs: ScenarioInputs | None, time: TimeAxis
) -> list[Line2D]:
    """Scripted joins/exits and wars on the rows of the states concerned; legend handles."""
    if inputs is None or not inputs.known:
        return []
    row = {s: k for k, s in enumerate(ids)}
    handles = []
    for types, marker, label, face in (
        (("join_alliance", "leave_alliance"), "D", "joins or leaves an alliance (input)", "white"),
        (("war_shock",), "X", "war (input: war_shock event)", "black"),
    ):
        pts = [(e.step, row[s]) for e in inputs.of_type(*types) for s in e.states[:2] if s in row]
        if not pts:
            continue
        steps, ys = zip(*pts, strict=True)
        ax.scatter(
            _x_num(time, np.array(steps)),
            ys,
            marker=marker,
            s=30,
            c=face,
            edgecolors="black" if face == "white" else "white",
            linewidths=0.8,
            zorder=4,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker=marker,
                ls="",
                markerfacecolor=face,
                markeredgecolor="black",
                markersize=6,
                label=label,
            )
        )
    return handles


def plot_blocs(
    states: pd.DataFrame,
    names: Mapping[str, str],
    *,
    time: TimeAxis | None = None,
    palette: BlocPalette | None = None,
    inputs: ScenarioInputs | None = None,
    cores: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Bloc membership over time, states grouped by their final bloc (see the module
    docstring); `cores` are
    `bloc_cores(states)` when already computed."""
    time = time or TimeAxis()
    ids = [str(s) for s in states["state"].unique()] if not states.empty else []
    many = len(ids) > ROWS_UP_TO
    n_rows = min(len(ids), TOP_ROWS) if many else len(ids)
    rows_h = max(1.2, 0.17 * n_rows)
    top_h = 2.4 if many else 0.0
    grid = Grid(9.0, 0.55 + top_h + (0.45 if many else 0) + rows_h + 0.6, left=1.75, right=2.75)
    with style():
        fig = grid.figure()
        fig.suptitle(
            title or "Bloc membership over time",
            x=grid.left / grid.width,
            y=1 - 0.12 / grid.height,
            ha="left",
            va="top",
        )
        if not ids:
            note(grid.axes(fig)[0], "no states recorded")
            return fig
        cores = bloc_cores(states) if cores is None else cores
        palette = palette or bloc_palette(states, names, cores=cores)
        steps = np.sort(states["step"].unique())
        row = pd.Index(ids).get_indexer(states["state"])
        col = np.searchsorted(steps, states["step"].to_numpy())
        table = np.full((len(ids), len(steps)), None, dtype=object)
        table[row, col] = cores
        final_core = dict(zip(ids, table[:, -1], strict=True))
        last = states["step"].to_numpy() == steps[-1]
        final_cap = dict(
            zip(states["state"][last], states["capability"].to_numpy(float)[last], strict=True)
        )
        rank = {c: k for k, c in enumerate(palette.order)}

        def order_key(sid: str) -> tuple:
            c = final_core.get(sid, "")
            return (c == "", rank.get(c, len(rank)), -final_cap.get(sid, 0.0))

        colored = [c for c in palette.order if c in palette.colors]
        x_edges = _x_edges(steps, time)
        if many:
            ax_top, ax = grid.axes(fig, (top_h, rows_h), gap=0.45)
            _stacked_sizes(ax_top, table, steps, palette, colored, time)
            chosen = sorted(ids, key=lambda s: -final_cap.get(s, 0.0))[:TOP_ROWS]
            chosen.sort(key=order_key)
            ax.set_title(
                f"The {len(chosen)} most capable states (of {len(ids)})", loc="left", fontsize=9.5
            )
        else:
            (ax,) = grid.axes(fig)
            chosen = sorted(ids, key=order_key)
        pick = pd.Index(ids).get_indexer(chosen)
        _rows_panel(
            ax,
            table[pick],
            chosen,
            names,
            palette,
            colored,
            x_edges,
            fontsize=8 if len(chosen) <= 25 else 7,
        )
        ax.set_xlim(x_edges[0], x_edges[-1])
        time.format(ax)
        input_handles = _mark_inputs(ax, chosen, inputs, time)
        shown = set(pd.unique(cores))
        handles = [
            Patch(facecolor=c, edgecolor="none", label=lab) for lab, c in palette.legend(shown)
        ]
        handles.append(
            Line2D(
                [],
                [],
                marker="|",
                ls="",
                color="black",
                markersize=9,
                markeredgewidth=1.2,
                label="switch of bloc",
            )
        )
        handles += input_handles
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(
                (grid.width - grid.right + 0.15) / grid.width,
                1 - grid.top / grid.height,
            ),
            fontsize=7.2,
        )
    return fig


def _stacked_sizes(
    ax: Axes,
    table: np.ndarray,
    steps: np.ndarray,
    palette: BlocPalette,
    colored: list[str],
    time: TimeAxis,
) -> None:
    """Number of states in each bloc over time (stacked; other blocs and alone grouped)."""
    code = _codes(table, colored)  # states x steps: colour index, NaN = not recorded
    n_codes = len(colored) + 2
    counts = np.stack(
        [np.bincount(c[~np.isnan(c)].astype(int), minlength=n_codes) for c in code.T]
    )  # steps x codes
    keep = [k for k in range(n_codes) if counts[:, k].any()]
    colors = [*(palette.colors[c] for c in colored), OTHER_COLOR, ALONE_COLOR]
    labels = [*(palette.label(c) for c in colored), OTHER_LABEL, ALONE_LABEL]
    stack_areas(
        ax,
        time.num(steps),
        [counts[:, k] for k in keep],
        [colors[k] for k in keep],
        [labels[k] for k in keep],
        alpha=1.0,
        linewidth=0.3,
    )
    ax.set_xlim(time.num(steps[[0, -1]]))
    ax.set_ylim(0, counts.sum(axis=1).max())
    ax.set_ylabel("states in the bloc")
    ax.set_title("Size of each bloc", loc="left", fontsize=9.5)
    ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
    time.format(ax, label=False)


__all__ = ["ROWS_UP_TO", "TOP_ROWS", "plot_blocs"]
