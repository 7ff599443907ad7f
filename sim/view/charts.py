"""The live plots of `ddsim view`: one matplotlib `Figure` per model, drawn by blitting.

Six panels over the recorded steps so far, on an x axis that spans the whole scenario (a run
fills the plots from left to right): trust, interoperability and escalation risk within and
across blocs (styled as the relations figure); cumulative crises and incidents with scripted
wars marked; number of blocs and polarization; arms-exporter market shares.

Why blitting (measured on this 2-core machine, indo_pacific at step 30, CPU time per frame):
a full `savefig` of the six panels costs about 200 ms, so the view could not play 10 steps a
second. The axes, ticks, titles and legends only change when the y range of a count panel grows;
they are drawn once into a cached background (again when a range grows) and each
frame draws only the data lines on top of it (`restore_region` + `draw_artist`, the technique
of matplotlib's own animations): about 16 ms, of which 6 ms is the PNG encoding.

It is a plain `matplotlib.figure.Figure` with an Agg canvas (no pyplot, no global backend).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import matplotlib.ticker as mticker
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from sim.reports.style import GREY, OKABE_ITO, category_colors, style

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.lines import Line2D

    from sim.view.model import ViewModel

TOP_EXPORTERS = 5  # exporters drawn by name in the market panel; the rest are 'others'
FIGSIZE = (11.0, 5.6)  # inches
DPI = 72  # screen resolution of the PNG: 792 x 403 px
# y limits of the count panels: few and far apart, because changing one redraws everything
COUNT_LIMITS = (5, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)

RELATION_PANELS = (
    ("Trust (mutual)", "mean_trust", "trust_within", "trust_across"),
    (
        "Interoperability",
        "mean_interoperability",
        "interoperability_within",
        "interoperability_across",
    ),
    ("Escalation risk", "mean_risk", "risk_within", "risk_across"),
)


def nice_limit(value: float) -> float:
    """The smallest of a few round axis limits above `value` (so limits change rarely)."""
    for limit in COUNT_LIMITS:
        if value < limit:
            return float(limit)
    return float(value * 1.2)


class LivePlots:
    """The six-panel figure of one model; `png()` draws it for the model's current step."""

    def __init__(self, model: ViewModel) -> None:
        self.model = model
        with style():
            fig = Figure(figsize=FIGSIZE, dpi=DPI)
            fig.subplots_adjust(
                left=0.05, right=0.985, top=0.93, bottom=0.15, wspace=0.34, hspace=0.62
            )
            self.canvas = FigureCanvasAgg(fig)
            axes = fig.subplots(2, 3)
            self.figure, self.axes = fig, axes
            self.lines: dict[str, Line2D] = {}
            self._build_relations()
            self._build_counts()
            self._build_markets()
            self._build_wars()
            axes[1, 2].set_title("Arms-exporter market shares", loc="left")
            axes[1, 2].set_ylim(0, 1)
            axes[1, 2].yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
            time = model.time_axis
            x_end = model.x_of(np.array([0, max(model.world.steps, 1)]))
            for ax in axes.flat:
                ax.set_xlim(x_end[0], x_end[1])
                time.format(ax, label=False)  # fixed year ticks, as the figures
        self._layout: tuple | None = None
        self._background = None
        self._png: tuple[int, bytes] | None = None

    def _line(self, ax, name: str, **kwargs) -> Line2D:
        (line,) = ax.plot([], [], animated=True, **kwargs)
        self.lines[name] = line
        return line

    def _build_relations(self) -> None:
        for ax, (title, mean_col, within_col, across_col) in zip(
            self.axes[0], RELATION_PANELS, strict=True
        ):
            self._line(ax, mean_col, color="#444444", lw=1.0, ls=":", label="all dyads")
            self._line(ax, within_col, color=OKABE_ITO["blue"], lw=1.8, label="within blocs")
            self._line(
                ax, across_col, color=OKABE_ITO["vermillion"], lw=1.8, ls="--", label="across blocs"
            )
            ax.set_title(title, loc="left")
            ax.set_ylim(0, 1)
        self.axes[0, 0].legend(loc="upper left", fontsize=7.5, ncol=3, bbox_to_anchor=(0.0, -0.2))

    def _build_counts(self) -> None:
        crises, blocs, _ = self.axes[1]
        self._line(
            crises,
            "crises_total",
            color=OKABE_ITO["orange"],
            lw=1.8,
            label="model crises",
        )
        self._line(
            crises,
            "incidents_total",
            color=OKABE_ITO["vermillion"],
            lw=1.8,
            ls="--",
            label="model incidents",
        )
        crises.set_title("Crises and incidents (cumulative)", loc="left")
        self._line(
            blocs,
            "n_blocs",
            color=OKABE_ITO["blue"],
            lw=1.8,
            drawstyle="steps-post",
            label="blocs (2+ members)",
        )
        blocs.set_title("Blocs and polarization", loc="left")
        blocs.yaxis.set_major_locator(mticker.MaxNLocator(integer=True))
        polar = blocs.twinx()
        self._line(
            polar, "polarization", color=OKABE_ITO["purple"], lw=1.5, ls="--", label="polarization"
        )
        polar.set_ylim(0, 1.05)
        polar.grid(False)
        polar.tick_params(axis="y", colors=OKABE_ITO["purple"], labelsize=8)
        polar.spines["right"].set_visible(True)
        blocs.legend(
            handles=[self.lines["n_blocs"], self.lines["polarization"]],
            labels=["blocs (2+ members, left)", "polarization (right)"],
            loc="upper left",
            fontsize=7.5,
        )

    def _build_markets(self) -> None:
        """Named exporters: the largest arms industries of the scenario, chosen once so the
        legend (drawn in the background) never changes while shares move."""
        model = self.model
        ax = self.axes[1, 2]
        industry = model.arms_industry
        order = [k for k in np.argsort(-industry, kind="stable").tolist() if industry[k] > 0]
        self.exporters = order[:TOP_EXPORTERS]
        self.market_lines: dict[str, Line2D] = {}
        colors = category_colors(len(self.exporters))
        for k, color in zip(self.exporters, colors, strict=True):
            self.market_lines[model.ids[k]] = ax.plot(
                [], [], color=color, lw=1.6, label=model.world.labels[k], animated=True
            )[0]
        if len(self.exporters) < model.n:
            self.market_lines["others"] = ax.plot(
                [], [], color=GREY, lw=1.4, label="others", animated=True
            )[0]
        if self.market_lines:
            ax.legend(loc="upper left", fontsize=7, ncol=2)

    def _build_wars(self) -> None:
        """Scripted wars (war_shock events) as dotted vertical lines, shown from their step:
        inputs, not outcomes. Known from the scenario, so they never force a full redraw."""
        ax = self.axes[1, 0]
        # The step that first shows the war (`sim.reports.scripted`: scenario step + 1).
        steps = sorted({e.step for e in self.model.inputs.of_type("war_shock")})
        x = self.model.x_of(np.array(steps, dtype=np.int64))
        self.wars = [
            (step, ax.axvline(xv, color="#000000", lw=0.9, ls=":", animated=True))
            for step, xv in zip(steps, x, strict=True)
        ]
        if steps:
            ax.plot([], [], color="#000000", lw=0.9, ls=":", label="scripted war")
        self.crises_legend = ax.legend(loc="upper left", fontsize=7.5)
        self.crises_legend.set_animated(True)  # drawn over the war lines, each frame

    # ------------------------------------------------------------------ per frame
    def _relayout(self, layout: tuple) -> None:
        """Apply the y ranges (the only thing in the background that changes), redraw it."""
        crises_top, blocs_top = layout
        self.axes[1, 0].set_ylim(0, crises_top)
        self.axes[1, 1].set_ylim(0, blocs_top)
        self.canvas.draw()  # animated artists are left out of the background
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._layout = layout

    def png(self) -> bytes:
        """The figure for the model's current step, as PNG bytes (cached per step)."""
        model = self.model
        if self._png is not None and self._png[0] == model.steps:
            return self._png[1]
        data = model.series()
        steps = data["step"].astype(np.int64)
        x = model.x_of(steps)
        layout = (
            nice_limit(float(data["crises_total"].max()) if steps.size else 0.0),
            nice_limit(float(data["n_blocs"].max()) if steps.size else 0.0),
        )
        if layout != self._layout:
            self._relayout(layout)
        for name, line in self.lines.items():
            line.set_data(x, data[name])
        share_steps, shares = model.market_shares()
        if shares.size:  # no shares before the first export (as in the market figure)
            shares = np.where(shares.sum(axis=1, keepdims=True) > 0, shares, np.nan)
        share_x = model.x_of(share_steps)
        rest = np.ones(model.n, dtype=bool)
        for sid, line in self.market_lines.items():
            if sid != "others":
                k = model.index[sid]
                rest[k] = False
                line.set_data(share_x, shares[:, k])
        if shares.size and "others" in self.market_lines:
            self.market_lines["others"].set_data(share_x, shares[:, rest].sum(axis=1))
        self.canvas.restore_region(self._background)
        for line in [*self.lines.values(), *self.market_lines.values()]:
            line.axes.draw_artist(line)
        for step, line in self.wars:
            if step <= model.steps:
                line.axes.draw_artist(line)
        self.axes[1, 0].draw_artist(self.crises_legend)
        buffer = io.BytesIO()
        rgb = np.asarray(self.canvas.buffer_rgba())[:, :, :3]  # opaque: 25% less to encode
        Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
        self._png = (model.steps, buffer.getvalue())
        return self._png[1]


def live_plots(model: ViewModel) -> LivePlots:
    """The model's `LivePlots`, made on first use."""
    plots = getattr(model, "_view_plots", None)
    if plots is None:
        plots = LivePlots(model)
        model._view_plots = plots
    return plots
