"""Event markers on time axes: what the scenario scripted, labelled, and what the model did.

`event_strip` adds a thin axes above a figure's top panel holding short labels of the
scenario's scripted events (wars, alliance joins, sanctions, embargoes, coups, ...) in a few
lanes that never overlap, and draws a dotted vertical line through every panel at each
event: these are inputs. Labels are placed by priority (wars first); an event with no free
space keeps its line and is counted in the strip's note. `incident_ticks` marks the
militarized incidents the model produced along the bottom of a panel, in a different
style: these are outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.reports.labels import renderer_of
from sim.reports.scripted import ScenarioInputs, ScriptedEvent
from sim.reports.style import INPUT_COLOR, RISK_COLOR
from sim.reports.timeaxis import TimeAxis

LANES = 3
FONTSIZE = 6.8
LANE_HEIGHT_IN = 0.15


def _x(time: TimeAxis, steps: Sequence[int]) -> np.ndarray:
    return time.num(np.asarray(steps, dtype=np.int64))


def _grouped(events: list[ScriptedEvent]) -> list[tuple[int, str, int]]:
    """(step, label, best priority) per step: events of one step share a label."""
    by_step: dict[int, list[ScriptedEvent]] = {}
    for e in events:
        by_step.setdefault(e.step, []).append(e)
    out = []
    for step, evs in sorted(by_step.items()):
        evs = sorted(evs, key=lambda e: e.priority)
        label = " · ".join(dict.fromkeys(e.short for e in evs[:2]))
        if len(evs) > 2:
            label += f" +{len(evs) - 2}"
        out.append((step, label, evs[0].priority))
    return out


TITLE_ROOM_IN = 0.24  # between a panel's top and the strip: the panel's title


def strip_height(inputs: ScenarioInputs | None) -> float:
    """Height in inches that `event_strip` needs above the top panel's title (0 when there is
    nothing to mark)."""
    if inputs is None or not inputs.markers():
        return 0.0
    return LANES * LANE_HEIGHT_IN + 0.05


def strip_rect(fig: Figure, panel: Axes, height_in: float) -> list[float]:
    """[left, bottom, width, height] of the strip above `panel` and its title."""
    box = panel.get_position()
    w_in, h_in = fig.get_size_inches()
    bottom = box.y1 + TITLE_ROOM_IN / h_in
    return [box.x0, bottom, box.width, (height_in - 0.05) / h_in]


def event_strip(
    fig: Figure,
    rect: Sequence[float],
    panels: Sequence[Axes],
    time: TimeAxis,
    inputs: ScenarioInputs | None,
) -> Axes | None:
    """The strip of scripted-event labels in `rect` (figure fractions) above `panels`, and
    the events' dotted lines through every panel. Call after the panels' x limits are set."""
    if inputs is None or not inputs.markers():
        return None
    groups = _grouped(inputs.markers())
    xs = _x(time, [g[0] for g in groups])
    lo, hi = panels[0].get_xlim()
    inside = (xs >= lo) & (xs <= hi)
    groups = [g for g, ok in zip(groups, inside, strict=True) if ok]
    xs = xs[inside]
    strip = fig.add_axes(rect, sharex=panels[0])
    strip.set_ylim(0, LANES)
    strip.axis("off")
    for ax in panels:
        ax.vlines(
            xs,
            0,
            1,
            transform=ax.get_xaxis_transform(),
            colors=INPUT_COLOR,
            linestyles=(0, (1, 2)),
            linewidths=0.7,
            alpha=0.8,
            zorder=0.5,
        )
    if not groups:
        return strip
    renderer = renderer_of(strip)
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(size=FONTSIZE)
    px = strip.transData.transform(np.column_stack([xs, np.zeros(len(xs))]))[:, 0]
    widths = np.array(
        [renderer.get_text_width_height_descent(g[1], prop, ismath=False)[0] for g in groups]
    )
    right_edge = strip.get_window_extent().x1 + fig.dpi * 0.2
    pad = 4.0
    lanes: list[list[tuple[float, float]]] = [[] for _ in range(LANES)]
    lane_of: dict[int, int] = {}
    order = sorted(range(len(groups)), key=lambda k: (groups[k][2], px[k]))
    for k in order:
        x0, x1 = px[k] + 2, px[k] + 2 + widths[k]
        if x1 > right_edge:  # near the right end: write the label to the left of the line
            x0, x1 = px[k] - 2 - widths[k], px[k] - 2
        for lane in range(LANES):
            if all(x1 + pad <= a or x0 - pad >= b for a, b in lanes[lane]):
                lanes[lane].append((x0, x1))
                lane_of[k] = lane
                break
    strip.vlines(
        xs, 0, LANES, colors=INPUT_COLOR, linestyles=(0, (1, 2)), linewidths=0.7, alpha=0.8
    )
    for k, (_, label, _) in enumerate(groups):
        if k not in lane_of:
            continue
        left_side = px[k] + 2 + widths[k] > right_edge
        strip.annotate(
            label,
            (xs[k], LANES - 0.5 - lane_of[k]),
            xytext=(-2 if left_side else 2, 0),
            textcoords="offset points",
            ha="right" if left_side else "left",
            va="center",
            fontsize=FONTSIZE,
            color=INPUT_COLOR,
            bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none"},
        )
    strip.text(
        -0.01,
        1.0,
        "scripted\ninputs",
        transform=strip.transAxes,
        ha="right",
        va="top",
        fontsize=FONTSIZE,
        color=INPUT_COLOR,
        style="italic",
        linespacing=1.0,
    )
    missing = len(groups) - len(lane_of)
    if missing:
        strip.text(
            1.01,
            1.0,
            f"+{missing} more events\n(dotted lines; all listed\nin report.html)",
            transform=strip.transAxes,
            ha="left",
            va="top",
            fontsize=FONTSIZE - 0.5,
            color=INPUT_COLOR,
            style="italic",
            linespacing=1.0,
        )
    return strip


def incident_ticks(
    ax: Axes, crises: pd.DataFrame, time: TimeAxis, label: str = "militarized incident (model)"
) -> None:
    """Small vermillion triangles along the bottom of `ax` at every militarized incident the
    model produced (wars are inputs and are not marked here)."""
    if crises is None or crises.empty:
        return
    steps = crises.loc[crises["outcome"] == "incident", "step"].to_numpy()
    if steps.size == 0:
        return
    ax.scatter(
        _x(time, steps),
        np.full(steps.size, 0.02),
        transform=ax.get_xaxis_transform(),
        marker="^",
        s=22,
        c=RISK_COLOR,
        edgecolors="white",
        linewidths=0.4,
        zorder=4,
        label=label,
        clip_on=False,
    )


__all__ = ["event_strip", "incident_ticks", "strip_height"]
