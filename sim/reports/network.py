"""The alignment network figure: who is close to whom, and where the danger is.

One panel per snapshot (default: the first, middle and last dyad snapshot). Nodes are states
sized by capability and coloured by bloc (`sim.reports.blocs`: named by the core member, the
same colours in every panel and figure). Edges use fixed thresholds, the same in every run
and panel, so two figures compare at a glance:

- **close partners**: mutual trust ≥ `CLOSE_TRUST` and interoperability ≥
  `CLOSE_INTEROPERABILITY` (solid; width: interoperability). Ties across blocs are drawn
  dark, since they are the news; ties inside a bloc in the bloc's colour.
- **partners**: mutual trust ≥ `TIE_TRUST` and interoperability ≥ `TIE_INTEROPERABILITY`
  but not close: thin faint grey lines, background texture (at the start of the bundled
  scenarios no pair is a close partner yet: judged initial trust stays at or below 0.7).
- **escalation risk** ≥ `RISK_EDGE` (dashed vermillion; width: risk).
- a black ✕ on a dyad at war by a scripted `war_shock` event before the snapshot: an input of
  the scenario, not a model outcome.

Labels never overlap (`sim.reports.labels`). Above `AGGREGATE_ABOVE` states (the world
scenario) each bloc is drawn as one node at the capability-weighted centre of its members,
labelled with its size, its members listed under the panel, and the states themselves shown
as faded dots; lines between blocs count the close-partner and high-risk pairs across them.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.reports.blocs import ALONE_COLOR, BlocPalette, bloc_cores, bloc_palette
from sim.reports.labels import draw_labels, place_labels
from sim.reports.layout import graticule, layout_kind, network_layout, spread
from sim.reports.scripted import ScenarioInputs
from sim.reports.style import DARK_GREY, RISK_COLOR, TIE_COLOR, Grid, name_of, note, style
from sim.reports.timeaxis import TimeAxis

TIE_TRUST = 0.7
TIE_INTEROPERABILITY = 0.5
CLOSE_TRUST = 0.8
CLOSE_INTEROPERABILITY = 0.6
RISK_EDGE = 0.2
AGGREGATE_ABOVE = 40
FULL_NAMES_UP_TO = 25  # label nodes with names up to this many states, else with ids
WAR_MARK = "X"

_LAYOUT_TEXT = {
    "schematic": "capitals, schematic map",
    "map": "capitals, Equal Earth projection",
    "spring": "spring layout of the ties",
}


def network_snapshots(results: object) -> pd.DataFrame:
    """Dyad snapshots for the network figure: recorded dyads plus the start and final
    snapshots a run always saves (duplicates by step dropped, recorded first)."""
    parts = [getattr(results, k, None) for k in ("start_dyads", "dyads", "final_dyads")]
    parts = [p for p in parts if p is not None and not p.empty]
    if not parts:
        return pd.DataFrame(
            columns=[
                "step",
                "state_a",
                "state_b",
                "trust_ab",
                "trust_ba",
                "interoperability",
                "risk",
            ]
        )
    df = pd.concat(parts, ignore_index=True)
    return (
        df.drop_duplicates(["step", "state_a", "state_b"], keep="first")
        .sort_values("step", kind="stable")
        .reset_index(drop=True)
    )


def edge_flags(snap: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(partners, close partners, high risk) per dyad row, by the fixed thresholds; close
    partners are also partners."""
    mutual = 0.5 * (snap["trust_ab"].to_numpy(float) + snap["trust_ba"].to_numpy(float))
    inter = snap["interoperability"].to_numpy(float)
    tie = (mutual >= TIE_TRUST) & (inter >= TIE_INTEROPERABILITY)
    close = (mutual >= CLOSE_TRUST) & (inter >= CLOSE_INTEROPERABILITY)
    return tie | close, close, snap["risk"].to_numpy(float) >= RISK_EDGE


def _panel_steps(
    snapshots: pd.DataFrame, states: pd.DataFrame, steps: Sequence[int] | None
) -> list[int]:
    available = sorted(set(snapshots["step"].astype(int))) if not snapshots.empty else []
    if steps is None:
        steps = (
            [available[0], available[len(available) // 2], available[-1]]
            if len(available) > 2
            else available
        )
    chosen = [s for s in dict.fromkeys(int(s) for s in steps) if s in available]
    if not chosen and not states.empty and states["state"].nunique() == 1:
        st = np.sort(states["step"].unique())
        chosen = list(dict.fromkeys([int(st[0]), int(st[-1])]))  # one state: no dyads
    return chosen


def _rows_at(states: pd.DataFrame, cores: np.ndarray, step: int) -> pd.DataFrame:
    """State rows (indexed by state) at the latest recorded step at or before `step`."""
    steps = states["step"].to_numpy()
    at = steps[steps <= step]
    use = int(at.max()) if at.size else int(steps.min())
    sel = steps == use
    return states.loc[sel, ["state", "capability"]].assign(core=cores[sel]).set_index("state")


def _wars_before(inputs: ScenarioInputs | None, crises: pd.DataFrame | None, step: int) -> list:
    """Dyads at war by a scripted war_shock applied by `step`."""
    pairs = []
    if inputs is not None and inputs.known:
        pairs = [e.states[:2] for e in inputs.of_type("war_shock") if e.step <= step]
    elif crises is not None and not crises.empty:
        wars = crises[(crises["outcome"] == "war") & (crises["step"] <= step)]
        pairs = list(zip(wars["state_a"], wars["state_b"], strict=True))
    return list(dict.fromkeys(tuple(p) for p in pairs))


def _fit_limits(ax: Axes, xy: np.ndarray, margin: float = 0.06) -> None:
    """Limits around `xy` with equal units on both axes for the axes' shape."""
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    centre = (lo + hi) / 2
    span = np.maximum(hi - lo, 1e-6) + 2 * margin
    bbox = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    aspect = (bbox.height * fig_h) / (bbox.width * fig_w)
    if span[1] / span[0] > aspect:
        span[0] = span[1] / aspect
    else:
        span[1] = span[0] * aspect
    ax.set_xlim(centre[0] - span[0] / 2, centre[0] + span[0] / 2)
    ax.set_ylim(centre[1] - span[1] / 2, centre[1] + span[1] / 2)


def _bare(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _lookup(ids: list[str], values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """values[position of each key in ids] ('' for keys not in ids), vectorized."""
    idx = pd.Index(ids).get_indexer(keys)
    out = np.where(idx >= 0, values[np.clip(idx, 0, None)], "")
    return out.astype(object)


def _segments(pos: Mapping[str, np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ids = list(pos)
    xy = np.array([pos[s] for s in ids])
    index = pd.Index(ids)
    return np.stack([xy[index.get_indexer(a)], xy[index.get_indexer(b)]], axis=1)


def _wrap(text: str, width_in: float, fontsize: float) -> str:
    chars = max(20, int(width_in * 72 / (0.52 * fontsize)))
    return "\n".join(textwrap.wrap(text, chars))


def _draw_states_panel(
    ax: Axes,
    snap: pd.DataFrame,
    rows: pd.DataFrame,
    ids: list[str],
    pos: Mapping[str, np.ndarray],
    palette: BlocPalette,
    names: Mapping[str, str],
    cap_max: float,
    wars: list,
) -> tuple[set[str], list[str]]:
    """One panel with a node per state; returns the cores shown and unlabelled ids."""
    core = rows["core"].reindex(ids).fillna("").to_numpy(dtype=object)
    if not snap.empty:
        tie, close, risky = edge_flags(snap)
        a, b = snap["state_a"].to_numpy(dtype=object), snap["state_b"].to_numpy(dtype=object)
        inter = snap["interoperability"].to_numpy(float)
        ca, cb = _lookup(ids, core, a), _lookup(ids, core, b)
        within = close & (ca == cb) & (ca != "")
        across = close & ~within
        faint = tie & ~close
        if faint.any():
            ax.add_collection(
                LineCollection(
                    _segments(pos, a[faint], b[faint]),
                    colors="#9A9A9A",
                    linewidths=0.45,
                    alpha=0.35,
                    zorder=0.8,
                )
            )
        if within.any():
            ax.add_collection(
                LineCollection(
                    _segments(pos, a[within], b[within]),
                    colors=[palette.color(c) for c in ca[within]],
                    linewidths=0.3 + 1.0 * inter[within],
                    alpha=0.4,
                    zorder=1,
                    capstyle="round",
                )
            )
        if across.any():
            ax.add_collection(
                LineCollection(
                    _segments(pos, a[across], b[across]),
                    colors=TIE_COLOR,
                    linewidths=0.4 + 2.2 * inter[across],
                    alpha=0.75,
                    zorder=1.5,
                    capstyle="round",
                )
            )
        if risky.any():
            risk = snap["risk"].to_numpy(float)[risky]
            ax.add_collection(
                LineCollection(
                    _segments(pos, a[risky], b[risky]),
                    colors=RISK_COLOR,
                    linewidths=0.7 + 3.0 * risk,
                    linestyles=(0, (4, 2.5)),
                    alpha=0.9,
                    zorder=2,
                )
            )
    xy = np.array([pos[s] for s in ids])
    cap = rows["capability"].reindex(ids).fillna(0.0).to_numpy(float)
    radius = 3.0 + 11.0 * np.sqrt(np.clip(cap, 0, None) / cap_max)
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=(2 * radius) ** 2,
        c=[palette.color(c) for c in core],
        edgecolors="#222222",
        linewidths=0.6,
        zorder=3,
    )
    _mark_wars(ax, wars, pos)
    use_names = len(ids) <= FULL_NAMES_UP_TO
    texts = [name_of(names, s) if use_names else s for s in ids]
    fontsize = 7.5 if len(ids) <= 15 else 6.5
    placements = place_labels(
        ax, xy, radius, texts, fontsize, order=np.argsort(-cap, kind="stable")
    )
    draw_labels(ax, xy, placements, texts, fontsize, radius)
    missing = [s for s, p in zip(ids, placements, strict=True) if p is None]
    return set(core), missing


def _mark_wars(ax: Axes, wars: list, pos: Mapping[str, np.ndarray]) -> None:
    mids = [(pos[a] + pos[b]) / 2 for a, b in wars if a in pos and b in pos]
    if mids:
        m = np.array(mids)
        ax.scatter(
            m[:, 0],
            m[:, 1],
            marker=WAR_MARK,
            s=70,
            c="black",
            edgecolors="white",
            linewidths=0.6,
            zorder=4,
        )


def _draw_blocs_panel(
    ax: Axes,
    snap: pd.DataFrame,
    rows: pd.DataFrame,
    ids: list[str],
    pos: Mapping[str, np.ndarray],
    palette: BlocPalette,
    cap_max: float,
    wars: list,
) -> tuple[set[str], list[tuple[str, int, list[str]]]]:
    """One panel with a node per bloc over faded state dots; returns the cores shown and
    (core, size, members by capability) per bloc."""
    core = rows["core"].reindex(ids).fillna("").to_numpy(dtype=object)
    cap = rows["capability"].reindex(ids).fillna(0.0).to_numpy(float)
    xy = np.array([pos[s] for s in ids])
    r_dot = 1.5 + 3.5 * np.sqrt(np.clip(cap, 0, None) / cap_max)
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=(2 * r_dot) ** 2,
        c=[palette.color(c) for c in core],
        alpha=0.45,
        linewidths=0,
        zorder=1,
    )
    frame = pd.DataFrame({"state": ids, "core": core, "cap": cap, "x": xy[:, 0], "y": xy[:, 1]})
    blocs = frame[frame["core"] != ""]
    groups = []
    for c, g in blocs.groupby("core", sort=False):
        w = g["cap"].to_numpy() + 1e-9
        centre = np.array([np.average(g["x"], weights=w), np.average(g["y"], weights=w)])
        members = g.sort_values("cap", ascending=False)["state"].tolist()
        groups.append((c, centre, float(g["cap"].sum()), members))
    groups.sort(key=lambda t: -t[2])
    info = [(c, len(m), m) for c, _, _, m in groups]
    if not groups:
        _mark_wars(ax, wars, pos)
        return set(core), info
    centres = np.array([g[1] for g in groups])
    if len(groups) > 1:  # keep bloc nodes apart, in the panel's coordinates
        lo, span = centres.min(axis=0), float(np.ptp(centres, axis=0).max()) or 1.0
        centres = spread(centres, min_frac=0.22) * span + lo
    node_of = {g[0]: centres[k] for k, g in enumerate(groups)}
    if not snap.empty:
        _, tie, risky = edge_flags(snap)
        ca = _lookup(ids, core, snap["state_a"].to_numpy(dtype=object))
        cb = _lookup(ids, core, snap["state_b"].to_numpy(dtype=object))
        across = (ca != cb) & (ca != "") & (cb != "")
        for flags, color, style_kw, z in (
            (tie & across, TIE_COLOR, {"alpha": 0.7}, 1.5),
            (risky & across, RISK_COLOR, {"linestyles": (0, (4, 2.5)), "alpha": 0.9}, 2),
        ):
            if not flags.any():
                continue
            pairs = (
                pd.Series(
                    1,
                    index=pd.MultiIndex.from_arrays(
                        [np.minimum(ca[flags], cb[flags]), np.maximum(ca[flags], cb[flags])]
                    ),
                )
                .groupby(level=[0, 1])
                .sum()
            )
            segs = np.array([[node_of[p], node_of[q]] for p, q in pairs.index])
            ax.add_collection(
                LineCollection(
                    segs,
                    colors=color,
                    linewidths=0.6 + 1.1 * np.log1p(pairs.to_numpy()),
                    zorder=z,
                    **style_kw,
                )
            )
    bloc_cap = np.array([g[2] for g in groups])
    radius = 6.0 + 14.0 * np.sqrt(bloc_cap / max(bloc_cap.max(), 1e-9))
    ax.scatter(
        centres[:, 0],
        centres[:, 1],
        s=(2 * radius) ** 2,
        c=[palette.color(g[0]) for g in groups],
        edgecolors="#222222",
        linewidths=0.8,
        zorder=3,
    )
    _mark_wars(ax, wars, pos)
    texts = [f"{palette.label(g[0])}\n{len(g[3])} states" for g in groups]
    placements = place_labels(ax, centres, radius, texts, 7.0)
    draw_labels(ax, centres, placements, texts, 7.0, radius)
    return set(core), info


def plot_network(
    snapshots: pd.DataFrame,
    states: pd.DataFrame,
    names: Mapping[str, str],
    *,
    steps: Sequence[int] | None = None,
    locations: Mapping[str, Sequence[float]] | None = None,
    time: TimeAxis | None = None,
    palette: BlocPalette | None = None,
    inputs: ScenarioInputs | None = None,
    crises: pd.DataFrame | None = None,
    projection: str = "schematic",
    aggregate: bool | None = None,
    cores: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """The alignment network at chosen steps (see the module docstring for what is drawn).

    `aggregate` (default: more than `AGGREGATE_ABOVE` states) draws blocs as nodes;
    `projection` places capitals ("schematic", "map" or "spring", see `sim.reports.layout`);
    `cores` are `bloc_cores(states)` when already computed."""
    time = time or TimeAxis()
    ids = [str(s) for s in states["state"].unique()] if not states.empty else []
    panel_steps = _panel_steps(snapshots, states, steps)
    n_panels = max(1, len(panel_steps))
    aggregate = len(ids) > AGGREGATE_ABOVE if aggregate is None else aggregate
    cores = bloc_cores(states) if cores is None else cores
    palette = palette or bloc_palette(states, names, cores=cores)
    width = 10.0
    left = right = 0.15
    gap = 0.2
    panel_w = (width - left - right - gap * (n_panels - 1)) / n_panels
    panel_h = min(panel_w, 5.2) if n_panels > 1 else 5.6
    below = 0.55 if not aggregate else 1.35  # per-panel notes (and member lists)
    shown: set[str] = set()
    for step in panel_steps:
        if not states.empty:
            shown |= set(_rows_at(states, cores, step)["core"])
    n_styles = 6 + (inputs is not None or crises is not None)
    legend_rows = max(math.ceil(len(palette.legend(shown)) / 3), n_styles)
    legend_h = 0.2 + 0.145 * legend_rows
    height = 0.55 + 0.25 + panel_h + below + legend_h
    grid = Grid(width, height, left=left, right=right)
    with style():
        fig = grid.figure()
        fig.suptitle(
            title or "Alignment network", x=0.5, y=1 - 0.12 / height, ha="center", va="top"
        )
        if not panel_steps or not ids:
            ax = fig.add_axes(grid.rect(left, legend_h + below, width - 2 * left, panel_h))
            note(ax, "no dyad snapshots to draw (run with dyad recording)" if ids else "no states")
            return fig
        kind = layout_kind(ids, locations, projection)
        final = snapshots[snapshots["step"] == panel_steps[-1]]
        pos = network_layout(ids, locations, final, projection=kind)
        xy_all = np.array([pos[s] for s in ids])
        cap_max = float(np.nanmax(states["capability"].to_numpy(float))) or 1.0
        y0 = legend_h + below
        unlabelled: list[str] = []
        for k, step in enumerate(panel_steps):
            x0 = left + k * (panel_w + gap)
            ax = fig.add_axes(grid.rect(x0, y0, panel_w, panel_h))
            _bare(ax)
            _fit_limits(ax, xy_all, margin=0.07 if not aggregate else 0.1)
            if kind == "map":
                for line in graticule(ids, locations):
                    ax.plot(line[:, 0], line[:, 1], color="#E4E4E4", lw=0.5, zorder=0)
            snap = snapshots[snapshots["step"] == step]
            rows = _rows_at(states, cores, step)
            wars = _wars_before(inputs, crises, step)
            if aggregate:
                cs, info = _draw_blocs_panel(ax, snap, rows, ids, pos, palette, cap_max, wars)
                _member_lists(fig, grid, x0, y0, panel_w, info, palette, names)
            else:
                cs, missing = _draw_states_panel(
                    ax, snap, rows, ids, pos, palette, names, cap_max, wars
                )
                unlabelled += [s for s in missing if s not in unlabelled]
            shown |= cs
            ax.set_title(time.step_label(step), fontsize=9.5)
            if inputs is not None and inputs.known:
                text = inputs.counts_text(until=step, short=True) or "none"
                fig.text(
                    (x0 + 0.05) / width,
                    (y0 - 0.05) / height,
                    _wrap(f"scripted by then: {text}", panel_w, 6.5),
                    ha="left",
                    va="top",
                    fontsize=6.5,
                    color=DARK_GREY,
                )
        _legend(
            fig, grid, palette, shown, aggregate, kind, legend_h, bool(inputs or crises is not None)
        )
        if unlabelled:
            fig.text(
                0.5,
                0.04 / height,
                "not labelled (no free space): " + ", ".join(unlabelled),
                ha="center",
                va="bottom",
                fontsize=6.5,
                color=DARK_GREY,
            )
    return fig


def _member_lists(
    fig: Figure,
    grid: Grid,
    x0: float,
    y0: float,
    panel_w: float,
    info: list[tuple[str, int, list[str]]],
    palette: BlocPalette,
    names: Mapping[str, str],
    lines: int = 7,
    most: int = 4,
) -> None:
    """Under a panel: one line per bloc with its `most` most capable members."""
    y = y0 - 0.32
    fs = 6.3
    chars = int(panel_w * 72 / (0.5 * fs)) - 4
    for core, size, members in info[:lines]:
        head = f"{palette.label(core)} ({size}): "
        text = head
        shown = 0
        for m in members[:most]:
            piece = name_of(names, m) + ", "
            if len(text) + len(piece) > chars - 10:
                break
            text += piece
            shown += 1
        text = text.rstrip(", ")
        if shown < len(members):
            text += f" +{len(members) - shown}"
        fig.text(
            x0 / grid.width,
            y / grid.height,
            "■",
            color=palette.color(core),
            fontsize=fs + 1,
            ha="left",
            va="center",
        )
        fig.text(
            (x0 + 0.12) / grid.width,
            y / grid.height,
            text,
            fontsize=fs,
            ha="left",
            va="center",
            color="#222222",
        )
        y -= 0.13
    if len(info) > lines:
        fig.text(
            (x0 + 0.12) / grid.width,
            y / grid.height,
            f"… {len(info) - lines} smaller blocs",
            fontsize=fs,
            ha="left",
            va="center",
            color=DARK_GREY,
        )


def _legend(
    fig: Figure,
    grid: Grid,
    palette: BlocPalette,
    shown: set[str],
    aggregate: bool,
    kind: str,
    legend_h: float,
    wars_known: bool,
) -> None:
    bloc_handles = [  # patches: a tenth of the cost of marker handles in a legend
        Patch(facecolor=c, edgecolor="#222222", linewidth=0.6, label=lab)
        for lab, c in palette.legend(shown)
    ]
    handles: list[Line2D] = []
    close = f"trust ≥ {CLOSE_TRUST:.2f}, interop. ≥ {CLOSE_INTEROPERABILITY:.2f}"
    tie = f"trust ≥ {TIE_TRUST:.2f}, interop. ≥ {TIE_INTEROPERABILITY:.2f}"
    if aggregate:
        handles = [
            Line2D(
                [],
                [],
                color=TIE_COLOR,
                lw=2.5,
                alpha=0.7,
                label=f"close partners across blocs ({close})",
            ),
            Line2D(
                [],
                [],
                color=RISK_COLOR,
                ls=(0, (4, 2.5)),
                lw=2,
                label=f"escalation risk ≥ {RISK_EDGE:.2f} across blocs",
            ),
            Line2D([], [], ls="", label="line width: number of such pairs"),
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markerfacecolor=ALONE_COLOR,
                markeredgecolor="none",
                markersize=5,
                alpha=0.8,
                label="faded dots: member states",
            ),
        ]
    else:
        handles = [
            Line2D(
                [],
                [],
                color=TIE_COLOR,
                lw=2.5,
                alpha=0.75,
                label=f"close partners across blocs ({close})",
            ),
            Line2D(
                [],
                [],
                color="#888888",
                lw=1.4,
                alpha=0.8,
                label="close partners within a bloc (its colour)",
            ),
            Line2D([], [], color="#9A9A9A", lw=0.6, alpha=0.6, label=f"partners ({tie})"),
            Line2D(
                [],
                [],
                color=RISK_COLOR,
                ls=(0, (4, 2.5)),
                lw=2,
                label=f"escalation risk ≥ {RISK_EDGE:.2f} (width: risk)",
            ),
        ]
    if wars_known:
        handles.append(
            Line2D(
                [],
                [],
                marker=WAR_MARK,
                ls="",
                color="black",
                markersize=7,
                label="war scripted by the scenario (input)",
            )
        )
    handles.append(
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            markerfacecolor="white",
            markeredgecolor="#222222",
            markersize=9,
            label="node size: capability",
        )
    )
    handles.append(Line2D([], [], ls="", label=f"positions: {_LAYOUT_TEXT[kind]}"))
    top = (legend_h - 0.08) / grid.height
    if bloc_handles:
        fig.legend(
            handles=bloc_handles,
            loc="upper left",
            bbox_to_anchor=(grid.left / grid.width, top),
            ncol=3,
            fontsize=6.8,
            handletextpad=0.3,
            columnspacing=0.9,
            borderaxespad=0,
        )
    fig.legend(
        handles=handles,
        loc="upper right",
        bbox_to_anchor=(1 - grid.right / grid.width, top),
        ncol=1,
        fontsize=6.8,
        handlelength=2.4,
        borderaxespad=0,
    )


__all__ = [
    "AGGREGATE_ABOVE",
    "RISK_EDGE",
    "CLOSE_INTEROPERABILITY",
    "CLOSE_TRUST",
    "TIE_INTEROPERABILITY",
    "TIE_TRUST",
    "edge_flags",
    "network_snapshots",
    "plot_network",
]
