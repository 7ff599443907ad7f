"""The look shared by every figure: palette, fonts, fixed layouts and saving.

Figures are `matplotlib.figure.Figure` objects created here, never through pyplot, and the
style is applied with `matplotlib.rc_context` around drawing only: importing or drawing never
changes a user's backend or their rcParams (notebook-safe). Colours come from the Okabe-Ito
palette, which stays distinguishable under the common forms of colour blindness; line styles
and markers double the colour coding wherever it carries meaning.

Layouts are fixed (axes placed in inches, see `Grid`) rather than constrained: a world run's
figures must all draw in under a second, and constrained layout measures every text several
times per draw (measured: about 40% of the drawing time of the six run figures).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

# Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
# Categories (suppliers, blocs): strongest contrasts first, yellow last.
CATEGORY_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
GREY = "#BBBBBB"
DARK_GREY = "#555555"
RISK_COLOR = OKABE_ITO["vermillion"]
TIE_COLOR = "#3A5A78"
INPUT_COLOR = "#444444"  # scripted scenario inputs (event lines, their labels)

# PNG resolution of saved figures. 120 dpi keeps 7-pt labels legible on an A4 page (a 10-inch
# figure printed 7 inches wide is ~170 dpi) and renders in half the time of 150 dpi.
PNG_DPI = 120
# zlib level 1: a quarter of the encoding time of the default 6 for files ~15% larger
# (measured on the six world figures).
PNG_COMPRESSION = 1

_RC: dict[str, Any] = {
    "figure.dpi": 100,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "svg.fonttype": "none",
    "path.simplify": True,
    # Unhinted glyphs: text is most of the drawing time of these figures, and without
    # hinting it draws ~13% faster with matplotlib 3.10 (~35% with 3.11, which draws glyph
    # by glyph in Python; measured); at 120 dpi the difference in looks is slight.
    "text.hinting": "none",
    "agg.path.chunksize": 10000,
}


def style() -> contextlib.AbstractContextManager:
    """Context manager applying the shared figure style (restores the caller's rcParams)."""
    return matplotlib.rc_context(_RC)


@dataclass(frozen=True)
class Grid:
    """A fixed page layout in inches: margins around a column of panels.

    `axes(fig)` places `heights` (relative) panels top to bottom inside the margins with
    `gap` inches between them; no layout engine runs at draw time."""

    width: float
    height: float
    left: float = 0.9
    right: float = 0.25
    top: float = 0.55
    bottom: float = 0.6

    def figure(self) -> Figure:
        """A new Figure of this size (no pyplot, no layout engine)."""
        return Figure(figsize=(self.width, self.height), layout=None)

    def rect(self, x0: float, y0: float, w: float, h: float) -> list[float]:
        """[left, bottom, width, height] in figure fractions from inches (y from the bottom)."""
        return [x0 / self.width, y0 / self.height, w / self.width, h / self.height]

    def axes(
        self, fig: Figure, heights: tuple[float, ...] = (1.0,), gap: float = 0.45, **kw: Any
    ) -> list[Axes]:
        """Panels stacked top to bottom between the margins (shared x when several)."""
        inner_w = self.width - self.left - self.right
        inner_h = self.height - self.top - self.bottom - gap * (len(heights) - 1)
        total = float(sum(heights))
        y = self.height - self.top
        out: list[Axes] = []
        for h in heights:
            hh = inner_h * h / total
            y -= hh
            ax = fig.add_axes(self.rect(self.left, y, inner_w, hh), **kw)
            if out and kw.get("sharex") is None:
                ax.sharex(out[0])
            out.append(ax)
            y -= gap
        return out


def suptitle(fig: Figure, grid: Grid, text: str) -> None:
    """The figure title, left-aligned with the panels."""
    fig.suptitle(text, x=grid.left / grid.width, y=1 - 0.12 / grid.height, ha="left", va="top")


def note(ax: Axes, text: str) -> None:
    """Write a centred message on an empty panel."""
    ax.text(
        0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color=DARK_GREY, wrap=True
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def category_colors(k: int) -> list[str]:
    """k distinguishable colours: Okabe-Ito first, then the extra bloc colours, then greys."""
    from sim.reports.blocs import BLOC_COLORS

    pool = list(CATEGORY_COLORS) + [c for c in BLOC_COLORS if c not in CATEGORY_COLORS]
    if k <= len(pool):
        return pool[:k]
    return pool + [GREY] * (k - len(pool))


def name_of(names: Mapping[str, str], sid: str) -> str:
    """Display name of a state id (the id when unknown)."""
    return str(names.get(sid, sid))


def save(fig: Figure, path: Path) -> None:
    """Save as PNG (fast settings above) or SVG, by the file's suffix."""
    with style():
        if path.suffix == ".png":
            fig.savefig(path, dpi=PNG_DPI, pil_kwargs={"compress_level": PNG_COMPRESSION})
        else:
            fig.savefig(path)


def numeric_x(x: np.ndarray) -> np.ndarray:
    """x values as numbers for collections (matplotlib date numbers for datetimes)."""
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.datetime64):
        from sim.reports.timeaxis import dates_to_num

        return dates_to_num(x)
    return x.astype(float)


def stack_areas(
    ax: Axes,
    x: np.ndarray,
    layers: Sequence[np.ndarray],
    colors: Sequence[str],
    labels: Sequence[str],
    *,
    alpha: float = 0.9,
    edgecolor: str = "white",
    linewidth: float = 0.4,
) -> list[Patch]:
    """Stacked areas as one PolyCollection (a tenth of the cost of `Axes.stackplot`, which
    builds one `fill_between` per layer); returns legend handles, bottom layer first."""
    xn = numeric_x(x)
    tops = np.cumsum(np.vstack([np.asarray(y, dtype=float) for y in layers]), axis=0)
    bottoms = np.vstack([np.zeros(len(xn)), tops[:-1]])
    verts = [
        np.column_stack([np.concatenate([xn, xn[::-1]]), np.concatenate([top, bottom[::-1]])])
        for top, bottom in zip(tops, bottoms, strict=True)
    ]
    ax.add_collection(
        PolyCollection(
            verts, facecolors=list(colors), edgecolors=edgecolor, linewidths=linewidth, alpha=alpha
        )
    )
    ax.update_datalim(np.column_stack([np.r_[xn[0], xn[-1]], np.r_[0.0, tops[-1].max()]]))
    ax.autoscale_view()
    return [
        Patch(facecolor=c, edgecolor="none", alpha=alpha, label=lab)
        for c, lab in zip(colors, labels, strict=True)
    ]


def row_labels(ax: Axes, labels: Sequence[str], fontsize: float, pad_pt: float = 3.0) -> None:
    """Labels of rows 0..n-1 at the left of `ax`, as plain texts: a tenth of the cost of as
    many tick labels (each tick builds two lines and two texts)."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    ax.set_yticks([])
    shift = ScaledTranslation(-pad_pt / 72.0, 0, ax.figure.dpi_scale_trans)
    trans = blended_transform_factory(ax.transAxes, ax.transData) + shift
    for k, text in enumerate(labels):
        ax.text(0, k, text, transform=trans, ha="right", va="center", fontsize=fontsize)
