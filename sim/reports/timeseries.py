"""Time-series figures of a run: relations (trust, interoperability, risk within and across
blocs) and the activity mix. Both carry the scenario's scripted events as labelled dotted
lines (inputs, `sim.reports.markers`); the risk panel also marks the militarized incidents
the model produced (outcomes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.reports.blocs import bloc_cores
from sim.reports.markers import TITLE_ROOM_IN, event_strip, incident_ticks, strip_height, strip_rect
from sim.reports.scripted import ScenarioInputs, scripted_activities
from sim.reports.style import OKABE_ITO, Grid, note, stack_areas, style, suptitle
from sim.reports.timeaxis import TimeAxis

ACTIVITY_LABELS = {
    "exercise": "Joint exercises",
    "arms_transfer": "Arms transfers",
    "advisory": "Advisory / training missions",
    "dialogue": "Strategic dialogues / CBMs",
}
ACTIVITY_COLORS = {
    "exercise": OKABE_ITO["blue"],
    "arms_transfer": OKABE_ITO["vermillion"],
    "advisory": OKABE_ITO["green"],
    "dialogue": OKABE_ITO["orange"],
}
SMOOTHING_WINDOW = 12


def _layout(n_panels: int, panel_h: float, inputs: ScenarioInputs | None, right: float) -> Grid:
    top = 0.5 + strip_height(inputs) + (TITLE_ROOM_IN if strip_height(inputs) else 0.0)
    return Grid(
        9.0,
        top + n_panels * panel_h + (n_panels - 1) * 0.35 + 0.55,
        left=0.85,
        right=right,
        top=top,
        bottom=0.55,
    )


def _add_strip(fig: Figure, panels: list, time: TimeAxis, inputs) -> None:
    h = strip_height(inputs)
    if h:
        event_strip(fig, strip_rect(fig, panels[0], h), panels, time, inputs)


def within_across_defined(
    world: pd.DataFrame, states: pd.DataFrame | None, cores: np.ndarray | None = None
) -> tuple:
    """(within defined, across defined) per world row: within-bloc means need a bloc with two
    members, across-bloc means at least two communities."""
    n = len(world)
    if states is None or states.empty:
        return np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    cores = bloc_cores(states) if cores is None else cores
    frame = pd.DataFrame(
        {"step": states["step"].to_numpy(), "bloc": states["bloc"].to_numpy(), "led": cores != ""}
    )
    per_step = frame.groupby("step").agg(n=("bloc", "nunique"), led=("led", "any"))
    per_step = per_step.reindex(world["step"].to_numpy())
    return (
        per_step["led"].fillna(False).to_numpy(dtype=bool),
        (per_step["n"].fillna(0) >= 2).to_numpy(),
    )


def plot_relations(
    world: pd.DataFrame,
    states: pd.DataFrame | None = None,
    *,
    time: TimeAxis | None = None,
    inputs: ScenarioInputs | None = None,
    crises: pd.DataFrame | None = None,
    cores: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Trust, interoperability and escalation risk over time: the mean over all dyads,
    within blocs and across blocs (three panels, shared time axis), with scripted events
    marked above and the model's militarized incidents along the risk panel.

    Within-bloc means are hidden at steps where no bloc has two members and cross-bloc means
    where every state is in one bloc (they are undefined there)."""
    time = time or TimeAxis()
    panels = (
        ("mean_trust", "trust_within", "trust_across", "Trust", "mutual trust (0-1)"),
        (
            "mean_interoperability",
            "interoperability_within",
            "interoperability_across",
            "Interoperability",
            "interoperability (0-1)",
        ),
        ("mean_risk", "risk_within", "risk_across", "Escalation risk", "escalation risk (0-1)"),
    )
    grid = _layout(3, 2.0, inputs, right=1.75)
    with style():
        fig = grid.figure()
        axes = grid.axes(fig, (1, 1, 1), gap=0.35)
        suptitle(
            fig,
            grid,
            title or "Trust, interoperability and escalation risk, within and across blocs",
        )
        if world.empty:
            for ax in axes:
                note(ax, "no recorded steps")
            return fig
        world = world.sort_values("step")
        x = time.num(world["step"])
        within_ok, across_ok = within_across_defined(world, states, cores)
        for ax, (mean_col, within_col, across_col, name, ylabel) in zip(axes, panels, strict=True):
            ax.plot(x, world[mean_col], color="#444444", lw=1.1, ls=":", label="all dyads")
            ax.plot(
                x,
                np.where(within_ok, world[within_col], np.nan),
                color=OKABE_ITO["blue"],
                lw=1.8,
                label="within blocs",
            )
            ax.plot(
                x,
                np.where(across_ok, world[across_col], np.nan),
                color=OKABE_ITO["vermillion"],
                lw=1.8,
                ls="--",
                label="across blocs",
            )
            ax.set_title(name, loc="left")
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0)
            ax.margins(x=0.01)
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)
        time.format(axes[-1])
        incident_ticks(axes[-1], crises, time, label="militarized incident\n(model outcome)")
        axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        handles, labels = axes[-1].get_legend_handles_labels()
        extra = [(h, lab) for h, lab in zip(handles, labels, strict=True) if "model" in lab]
        if extra:
            axes[-1].legend(*zip(*extra, strict=True), loc="upper left", bbox_to_anchor=(1.01, 1.0))
        _add_strip(fig, axes, time, inputs)
    return fig


def activity_counts(activities: pd.DataFrame, last_step: int) -> pd.DataFrame:
    """Counts per step (rows 0..last_step) and activity kind (columns in a fixed order)."""
    index = pd.RangeIndex(0, max(int(last_step), 0) + 1, name="step")
    if activities.empty:
        return pd.DataFrame(0, index=index, columns=list(ACTIVITY_LABELS))
    counts = activities.groupby(["step", "activity"]).size().unstack(fill_value=0)
    return counts.reindex(index=index, columns=list(ACTIVITY_LABELS), fill_value=0)


def smoothed(counts: pd.DataFrame | pd.Series, window: int = SMOOTHING_WINDOW):
    """Centred rolling mean over `window` steps, without step 0 (the start, where nothing
    happens): near the ends the mean is over the steps there are, so the curve does not
    start from zero (no fake ramp-up)."""
    body = counts.iloc[1:] if len(counts) > 1 else counts
    return body.rolling(window, center=True, min_periods=1).mean()


def plot_activities(
    activities: pd.DataFrame,
    last_step: int,
    *,
    window: int = SMOOTHING_WINDOW,
    time: TimeAxis | None = None,
    inputs: ScenarioInputs | None = None,
    title: str | None = None,
) -> Figure:
    """The activity mix over time: stacked areas of activities started per step by kind
    (centred `window`-step rolling mean), with the part the scenario scripted (exercise and
    arms programs) as a black dashed line, and scripted events marked above."""
    time = time or TimeAxis()
    counts = activity_counts(activities, last_step)
    grid = _layout(1, 3.6, inputs, right=2.75)
    with style():
        fig = grid.figure()
        (ax,) = grid.axes(fig)
        suptitle(fig, grid, title or "Defense-diplomacy activity mix")
        if counts.to_numpy().sum() == 0:
            note(ax, "no activities were started in this run")
            return fig
        smooth = smoothed(counts, window)
        x = time.num(smooth.index.to_numpy())
        kinds = list(ACTIVITY_LABELS)
        handles = stack_areas(
            ax,
            x,
            [smooth[k].to_numpy() for k in kinds],
            [ACTIVITY_COLORS[k] for k in kinds],
            [f"{ACTIVITY_LABELS[k]} ({int(counts[k].sum())})" for k in kinds],
            alpha=0.85,
        )
        if inputs is not None and inputs.programs:
            mask = scripted_activities(activities, inputs)
            if mask.any():
                per_step = (
                    activities.loc[mask, "step"].value_counts().reindex(counts.index, fill_value=0)
                )
                (line,) = ax.plot(
                    x,
                    smoothed(per_step, window).to_numpy(),
                    color="black",
                    lw=1.4,
                    ls="--",
                    label=f"of which scripted: exercise\nand arms programs ({int(mask.sum())})",
                )
                handles.append(line)
        ax.set_ylim(bottom=0)
        ax.set_xlim(x[0], x[-1])
        ax.legend(
            handles=handles[::-1],
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            title="(number in the run)",
            title_fontsize=7.5,
            alignment="left",
        )
        ax.set_ylabel(f"activities started per step\n({window}-step centred rolling mean)")
        time.format(ax)
        _add_strip(fig, [ax], time, inputs)
    return fig


__all__ = [
    "ACTIVITY_COLORS",
    "ACTIVITY_LABELS",
    "activity_counts",
    "plot_activities",
    "plot_relations",
    "smoothed",
]
