"""Arms-supplier market shares over time.

The model keeps a decaying memory of each supplier's deliveries (`market` in
`sim.core.model`, weight 1/12 per step: about a year of monthly steps); a share is a
supplier's part of that memory. The memory starts empty, so the first steps show shares of a
handful of deliveries (a state with the only delivery of step 1 holds 100%): the figure starts
once `MEMORY_STEPS` steps of deliveries are in memory, and says so. Scripted embargoes and
sanctions are marked above (`sim.reports.markers`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.core.metrics import arms_flows
from sim.reports.markers import TITLE_ROOM_IN, event_strip, strip_height, strip_rect
from sim.reports.scripted import ScenarioInputs, ScriptedEvent
from sim.reports.style import (
    GREY,
    Grid,
    category_colors,
    name_of,
    note,
    stack_areas,
    style,
    suptitle,
)
from sim.reports.timeaxis import TimeAxis

MEMORY_STEPS = 12  # 1 / the decay of sim.core.model's market memory (model.py, `market`)


def market_inputs(inputs: ScenarioInputs) -> ScenarioInputs:
    """The scripted events that bear on the arms market: embargoes, sanctions and the start
    of each arms program."""
    events = [e for e in inputs.markers() if e.type in ("embargo", "lift_embargo", "sanctions")]
    for p in inputs.programs:
        if p.type == "arms_program" and p.start > 0:
            who = (
                "+".join(p.participants)
                if len(p.participants) <= 2
                else f"{len(p.participants)} suppliers"
            )
            events.append(
                ScriptedEvent(
                    p.start + 1,
                    p.start,
                    "arms_program",
                    (*p.participants, p.recipient),
                    f"arms program {who}→{p.recipient}",
                    p.text,
                )
            )
    return ScenarioInputs(tuple(sorted(events, key=lambda e: e.step)), (), True, inputs.names)


def importer_suppliers(activities: pd.DataFrame) -> pd.DataFrame:
    """Per importer, from the activities table's arms transfers over the whole run: the
    volume imported, its top supplier and that supplier's share of the volume. Columns
    importer, volume, top_supplier, share, suppliers (how many), largest volume first
    (ties by importer id); empty when the run has no transfers."""
    columns = ["importer", "volume", "top_supplier", "share", "suppliers"]
    if activities.empty:
        return pd.DataFrame(columns=columns)
    by_pair = arms_flows(activities).rename(columns={"recipient": "importer"})
    by_pair = by_pair[by_pair["volume"] > 0]
    if by_pair.empty:
        return pd.DataFrame(columns=columns)
    totals = by_pair.groupby("importer")["volume"].agg(["sum", "size"])
    top = by_pair.sort_values(["importer", "volume", "supplier"], ascending=[True, False, True])
    top = top.drop_duplicates("importer").set_index("importer")
    out = pd.DataFrame(
        {
            "importer": totals.index,
            "volume": totals["sum"].to_numpy(),
            "top_supplier": top.loc[totals.index, "supplier"].to_numpy(),
            "share": (top.loc[totals.index, "volume"] / totals["sum"]).to_numpy(),
            "suppliers": totals["size"].to_numpy(),
        }
    )
    return out.sort_values(
        ["volume", "importer"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def memory_text(time: TimeAxis) -> str:
    """'about the past 12 months' for monthly steps, else in steps."""
    per_year = time.steps_per_year()
    if time.unit == "month":
        return f"about the past {MEMORY_STEPS} months"
    if per_year:
        return f"about the past {MEMORY_STEPS} {time.unit}s"
    return f"about the past {MEMORY_STEPS} steps"


def plot_market(
    states: pd.DataFrame,
    names: Mapping[str, str],
    *,
    top: int = 6,
    time: TimeAxis | None = None,
    inputs: ScenarioInputs | None = None,
    title: str | None = None,
) -> Figure:
    """Each supplier's share of recent arms deliveries (stacked): the `top` suppliers by
    average share, the rest grouped as 'others'."""
    time = time or TimeAxis()
    marks = market_inputs(inputs) if inputs is not None else None
    strip = strip_height(marks)
    top_in = 0.5 + strip + (TITLE_ROOM_IN if strip else 0.0)
    grid = Grid(9.0, top_in + 3.6 + 0.75, left=0.85, right=2.2, top=top_in, bottom=0.75)
    with style():
        fig = grid.figure()
        (ax,) = grid.axes(fig)
        suptitle(fig, grid, title or "Arms suppliers' market shares")
        shares = (
            states.pivot(index="step", columns="state", values="market_share").fillna(0.0)
            if not states.empty
            else pd.DataFrame()
        )
        if not shares.empty:
            shares = shares[shares.sum(axis=1) > 0]  # steps before any delivery: no shares
        if not shares.empty and len(shares) > 2 * MEMORY_STEPS:
            first = shares.index[0]
            shares = shares[shares.index >= first + MEMORY_STEPS - 1]
        if shares.empty or float(shares.to_numpy().sum()) <= 0:
            note(ax, "no arms deliveries in this run")
            return fig
        mean = shares.mean().sort_values(ascending=False)
        suppliers = [s for s in mean.index if mean[s] > 0][:top]
        rest = [s for s in shares.columns if s not in suppliers]
        series = [shares[s].to_numpy() for s in suppliers]
        labels = [name_of(names, s) for s in suppliers]
        colors = category_colors(len(suppliers))
        other = shares[rest].sum(axis=1).to_numpy() if rest else np.zeros(len(shares))
        if other.sum() > 0:
            series.append(other)
            labels.append(f"others ({len(rest)} states)")
            colors.append(GREY)
        x = time.num(shares.index)
        handles = stack_areas(ax, x, series, colors, labels)
        ax.set_ylim(0, 1.0)
        ax.set_xlim(x[0], x[-1])
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel(f"share of arms deliveries\n({memory_text(time)}, recent ones count more)")
        ax.legend(handles=handles[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0))
        time.format(ax)
        fig.text(
            grid.left / grid.width,
            0.08 / grid.height,
            f"Shown from {time.step_label(int(shares.index[0]))}, once {MEMORY_STEPS} steps of "
            "deliveries are in the model's market memory (it starts empty).",
            fontsize=7,
            color="#555555",
            ha="left",
            va="bottom",
        )
        if strip:
            event_strip(fig, strip_rect(fig, ax, strip), [ax], time, marks)
    return fig


__all__ = ["MEMORY_STEPS", "importer_suppliers", "plot_market"]
