"""The crisis timeline: every crisis on its dyad's row, model outcomes apart from inputs.

Model outcomes: crises defused (open blue circles) and militarized incidents (vermillion
triangles). Inputs: wars, which only a scripted `war_shock` event makes, drawn as black ✕ in a
grey band ("war (scripted input)") and counted apart in the cumulative panel. Markers of one
row that would overlap are dodged into sub-lanes above and below the row's line, so each
stays readable.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.reports.scripted import scripted_crises
from sim.reports.style import GREY, OKABE_ITO, Grid, name_of, row_labels, style, suptitle
from sim.reports.timeaxis import TimeAxis

MARKER_SIZE = 34  # points², scatter `s`
_LANES = (0.0, -0.27, 0.27, -0.14, 0.14)  # row offsets tried in turn for crowded markers

# outcome -> marker, face, edge, label
MODEL_STYLE = {
    "deescalated": ("o", "none", OKABE_ITO["blue"], "crisis defused\n(model outcome)"),
    "incident": (
        "^",
        OKABE_ITO["vermillion"],
        OKABE_ITO["vermillion"],
        "militarized incident\n(model outcome)",
    ),
}
INPUT_STYLE = ("X", "black", "black", "war (scripted input:\nwar_shock event)")
LONG_LABEL = 30  # dyad labels longer than this use state ids


def unordered_pairs(crises: pd.DataFrame, order: Mapping[str, int]) -> pd.Series:
    """(state_a, state_b) per crisis, the pair in scenario order (A-B and B-A are one dyad)."""
    a = crises["state_a"].astype(str).to_numpy()
    b = crises["state_b"].astype(str).to_numpy()
    ka = np.array([order.get(s, len(order)) for s in a])
    kb = np.array([order.get(s, len(order)) for s in b])
    swap = (kb < ka) | ((kb == ka) & (b < a))
    first, second = np.where(swap, b, a), np.where(swap, a, b)
    return pd.Series(list(zip(first, second, strict=True)), index=crises.index, dtype=object)


def dodge(x_px: np.ndarray, rows: np.ndarray, min_gap_px: float) -> np.ndarray:
    """Offsets (in rows) so that markers of one row closer than `min_gap_px` go to different
    lanes; markers that fit no lane stay on the row line."""
    offsets = np.zeros(len(x_px))
    for row in np.unique(rows):
        idx = np.flatnonzero(rows == row)
        idx = idx[np.argsort(x_px[idx], kind="stable")]
        last = dict.fromkeys(range(len(_LANES)), -np.inf)
        for i in idx:
            for lane, off in enumerate(_LANES):
                if x_px[i] - last[lane] >= min_gap_px:
                    offsets[i] = off
                    last[lane] = x_px[i]
                    break
    return offsets


def plot_crises(
    crises: pd.DataFrame,
    world: pd.DataFrame,
    names: Mapping[str, str],
    *,
    time: TimeAxis | None = None,
    max_dyads: int = 15,
    title: str | None = None,
) -> Figure:
    """Crisis timeline: each crisis as a marker on its dyad's row, the busiest `max_dyads`
    dyads by name and the rest on one row; below, cumulative counts of model crises,
    model incidents and scripted wars."""
    time = time or TimeAxis()
    pairs = None
    n_rows = 1
    labels: list[str] = []
    if not crises.empty:
        pairs = unordered_pairs(crises, {sid: k for k, sid in enumerate(names)})
        labels = _row_labels(pairs, names, max_dyads)
        n_rows = len(labels)
    top_h = min(6.5, max(1.4, 0.3 * n_rows + 0.3))
    left = 0.3 + 0.058 * max([len(t) for t in labels] + [10])
    grid = Grid(9.0, 0.75 + top_h + 0.5 + 1.9 + 0.55, left=left, right=1.85, top=0.75, bottom=0.55)
    with style():
        fig = grid.figure()
        ax, ax2 = grid.axes(fig, (top_h, 1.9), gap=0.5)
        suptitle(fig, grid, title or "Crises and militarized incidents")
        if pairs is None:
            ax.text(
                0.5,
                0.5,
                "no crises in this run",
                transform=ax.transAxes,
                ha="center",
                va="center",
                color="#555555",
            )
            ax.set_yticks([])
            ax.grid(False)
        else:
            _timeline(ax, crises, pairs, labels, time, max_dyads, world)
        ax.set_title("Crises by dyad (number in brackets)", loc="left")
        _cumulative(ax2, crises, world, time)
        ax.tick_params(labelbottom=False)
        time.format(ax2)
    return fig


def _row_labels(pairs: pd.Series, names: Mapping[str, str], max_dyads: int) -> list[str]:
    """'India – Pakistan (5)' per shown dyad (ids when long), then 'k other dyads (n)'."""
    counts = pairs.value_counts()
    out = []
    for a, b in counts.index[:max_dyads]:
        text = f"{name_of(names, a)} – {name_of(names, b)}"
        out.append(f"{text if len(text) <= LONG_LABEL else f'{a} – {b}'} ({counts[(a, b)]})")
    if len(counts) > max_dyads:
        out.append(f"{len(counts) - max_dyads} other dyads ({int(counts.iloc[max_dyads:].sum())})")
    return out


def _timeline(
    ax: Axes,
    crises: pd.DataFrame,
    pairs: pd.Series,
    labels: list[str],
    time: TimeAxis,
    max_dyads: int,
    world: pd.DataFrame,
) -> None:
    counts = pairs.value_counts()
    shown = list(counts.index[:max_dyads])
    rows = {p: k for k, p in enumerate(shown)}
    row_of = np.array([rows.get(p, len(shown)) for p in pairs])
    ax.set_ylim(len(labels) - 0.5, -0.5)
    row_labels(ax, labels, 8)
    ax.grid(axis="y", visible=False)
    x = time.num(crises["step"])
    last = int(world["step"].max()) if not world.empty else int(crises["step"].max())
    ax.set_xlim(time.num([0])[0], time.num([last])[0])
    x_px = ax.transData.transform(np.column_stack([x, np.zeros(len(x))]))[:, 0]
    diameter_px = np.sqrt(MARKER_SIZE) * ax.figure.dpi / 72.0
    pooled = row_of == len(shown)  # the 'other dyads' row: a rug of thin ticks
    y = row_of + dodge(x_px, np.where(pooled, -1, row_of), diameter_px * 1.05) * ~pooled
    scripted = scripted_crises(crises)
    outcome = crises["outcome"].astype(str).to_numpy()
    for key, (marker, face, edge, label) in MODEL_STYLE.items():
        sel = (outcome == key) & ~scripted
        if (sel & ~pooled).any():
            ax.scatter(
                x[sel & ~pooled],
                y[sel & ~pooled],
                marker=marker,
                s=MARKER_SIZE,
                facecolors=face,
                edgecolors=edge,
                linewidths=1.1,
                label=label,
                zorder=3,
            )
        if (sel & pooled).any():
            ax.scatter(
                x[sel & pooled],
                y[sel & pooled],
                marker="|",
                s=110,
                c=edge,
                linewidths=0.8 if key == "deescalated" else 1.4,
                zorder=2.5,
                alpha=0.6 if key == "deescalated" else 1.0,
                label=None if (sel & ~pooled).any() else label,
            )
    if scripted.any():
        for r in np.unique(row_of[scripted]):
            ax.axhspan(r - 0.42, r + 0.42, color="#EFEFEF", zorder=0)
        marker, face, edge, label = INPUT_STYLE
        ax.scatter(
            x[scripted],
            y[scripted],
            marker=marker,
            s=MARKER_SIZE * 1.3,
            facecolors=face,
            edgecolors=edge,
            linewidths=0.5,
            label=label,
            zorder=3,
        )
    other = ~np.isin(outcome, [*MODEL_STYLE, "war"])
    if other.any():
        ax.scatter(x[other], y[other], marker="s", s=24, c=GREY, label="other", zorder=3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)


def _cumulative(ax: Axes, crises: pd.DataFrame, world: pd.DataFrame, time: TimeAxis) -> None:
    ax.set_title("Cumulative count", loc="left")
    ax.set_ylabel("events since start")
    if world.empty:
        return
    steps = np.sort(world["step"].to_numpy())
    xw = time.num(steps)
    outcome = crises["outcome"].astype(str).to_numpy() if not crises.empty else np.array([])
    cstep = crises["step"].to_numpy() if not crises.empty else np.array([], dtype=int)

    def cum(sel: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.sort(cstep[sel]), steps, side="right")

    series = (
        (cum(outcome != "war"), OKABE_ITO["blue"], "-", "crises (model outcomes)"),
        (cum(outcome == "incident"), OKABE_ITO["vermillion"], "--", "incidents (model)"),
        (cum(outcome == "war"), "black", ":", "wars (scripted)"),
    )
    for values, color, ls, label in series:
        if values.any() or label.startswith("crises"):
            ax.step(xw, values, where="post", color=color, lw=1.8, ls=ls, label=label)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
    ax.margins(x=0)


__all__ = ["INPUT_STYLE", "MODEL_STYLE", "dodge", "plot_crises", "unordered_pairs"]
