"""Labels that do not collide: greedy placement with a budget and leader lines.

Each node's label is tried at positions around it (above, below, right, left, the diagonals),
then further out with a thin leader line, in order of importance (largest node first). A
position is taken when its box overlaps no label placed before, no node and no leader line
drawn before, stays inside the panel, and reads as its own node's: no other node is nearly
as close to the box as its own (a reader names a dot by the nearest text). A leader line
may cross no label and no other node. A name of several words with no free position is
tried again over two lines; a label with still no free position is left out (the label
budget) and reported, so a figure can say which states it could not name.

Boxes are measured with the figure's renderer (text extents in pixels at the figure's dpi),
and offsets are given in points, so the result holds at any saving resolution. This is
hand-rolled rather than adjustText because adjustText moves labels iteratively without a
no-overlap guarantee and takes ~0.3 s for 200 labels; this placement takes ~5 ms for 40.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.font_manager import FontProperties

# Directions tried around a node: above, below, right, left, then the diagonals.
_DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
_RINGS = (0.0, 1.2, 2.6, 4.0)  # extra distance, in label heights, of each ring
CLEARANCE = 0.6  # of a label height: how much farther than its own node any other node must be
LEADER_SAMPLES = 24  # points checked along a leader line
BOX_PAD = 0.15  # label bbox padding, in font sizes (as in bbox=dict(pad=...))
LINE_SPACING = 1.1  # of multi-line labels, in line heights


@dataclass(frozen=True)
class Placement:
    """Where a label goes: offset from its node in points, and whether it needs a leader."""

    dx: float
    dy: float
    leader: bool
    text: str | None = None  # the label as drawn when it had to be wrapped to fit


def renderer_of(ax: Axes):  # noqa: ANN201 - matplotlib's RendererAgg
    """The Agg renderer of the axes' figure (attaching an Agg canvas when it has none)."""
    fig = ax.figure
    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(fig)
    return canvas.get_renderer()


def text_sizes(ax: Axes, texts: Sequence[str], fontsize: float) -> np.ndarray:
    """(n, 2) widths and heights in pixels of these texts, padded as a label box."""
    renderer = renderer_of(ax)
    prop = FontProperties(size=fontsize)
    pad_px = 2 * BOX_PAD * fontsize * ax.figure.dpi / 72.0
    line_h = renderer.get_text_width_height_descent("lp", prop, ismath=False)[1]
    out = np.zeros((len(texts), 2))
    for k, t in enumerate(texts):
        lines = str(t).split("\n")
        w = max(renderer.get_text_width_height_descent(s, prop, ismath=False)[0] for s in lines)
        out[k] = (w + pad_px, line_h * len(lines) * LINE_SPACING + pad_px)
    return out


def _overlaps(box: np.ndarray, boxes: np.ndarray) -> bool:
    """Whether `box` (x0, y0, x1, y1) intersects any of `boxes` (m, 4)."""
    if len(boxes) == 0:
        return False
    return bool(
        (
            (box[0] < boxes[:, 2])
            & (box[2] > boxes[:, 0])
            & (box[1] < boxes[:, 3])
            & (box[3] > boxes[:, 1])
        ).any()
    )


def _offsets(w: float, h: float, r: float, gap: float, extra: float) -> list[tuple[float, float]]:
    """Candidate box centres relative to a node of radius r, in pixels: above, below, right,
    left; then above and below shifted sideways so that one end of a wide label lines up
    with the node's side (a long name over a node near another); then the diagonals."""
    out = []
    for ux, uy in _DIRECTIONS[:4]:
        out.append((ux * (r + gap + extra + w / 2), uy * (r + gap + extra + h / 2)))
    shift = max(w / 2 - r, 0.0)
    if shift > 0:
        for uy in (1, -1):
            for ux in (-1, 1):
                out.append((ux * shift, uy * (r + gap + extra + h / 2)))
    for ux, uy in _DIRECTIONS[4:]:  # diagonal: box corner on the circle's 45° point
        out.append(
            (
                ux * (r * 0.71 + gap + extra * 0.71 + w / 2),
                uy * (r * 0.71 + gap + extra * 0.71 + h / 2),
            )
        )
    return out


def _box_gaps(box: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Distance in pixels from `box` to the edge of each circle (negative inside)."""
    nx = np.clip(centres[:, 0], box[0], box[2])
    ny = np.clip(centres[:, 1], box[1], box[3])
    return np.hypot(centres[:, 0] - nx, centres[:, 1] - ny) - radii


def _leader_points(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Points along a leader line from `start` to `end` (both excluded)."""
    t = np.linspace(0.0, 1.0, LEADER_SAMPLES + 2)[1:-1, None]
    return start + t * (end - start)


def _points_in_boxes(points: np.ndarray, boxes: np.ndarray) -> bool:
    """Whether any of `points` (k, 2) lies inside any of `boxes` (m, 4)."""
    if len(boxes) == 0 or len(points) == 0:
        return False
    x, y = points[:, 0:1], points[:, 1:2]
    inside = (x > boxes[:, 0]) & (x < boxes[:, 2]) & (y > boxes[:, 1]) & (y < boxes[:, 3])
    return bool(inside.any())


def _points_in_circles(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> bool:
    """Whether any of `points` lies inside any circle."""
    if len(centres) == 0 or len(points) == 0:
        return False
    d = np.hypot(points[:, 0:1] - centres[:, 0], points[:, 1:2] - centres[:, 1])
    return bool((d < radii).any())


def _two_lines(text: str) -> str | None:
    """The text broken at the space nearest its middle, or None for one word or lines."""
    if "\n" in text or " " not in text:
        return None
    spaces = [k for k, c in enumerate(text) if c == " "]
    k = min(spaces, key=lambda k: abs(k - len(text) / 2))
    return text[:k] + "\n" + text[k + 1 :]


def _search(i: int, size: np.ndarray, free: tuple) -> tuple | None:
    """The first free position for node i's label of `size` (w, h) in pixels: its box, its
    offset and whether it needs a leader, and the points of its leader line; or None."""
    centres, radii, others, placed, leaders, bounds, gap = free
    w, h = size
    cx, cy = centres[i]
    r = radii[i]
    for ring in _RINGS:
        for ox, oy in _offsets(w, h, r, gap, ring * h):
            x, y = cx + ox, cy + oy
            box = np.array([x - w / 2, y - h / 2, x + w / 2, y + h / 2])
            if box[0] < bounds[0] or box[1] < bounds[1] or box[2] > bounds[2] or box[3] > bounds[3]:
                continue
            if _overlaps(box, placed) or _points_in_boxes(leaders, box[None, :]):
                continue
            # other nodes: none under the box, none nearly as close as its own
            nearest_other = _box_gaps(box, centres[others], radii[others]).min(initial=np.inf)
            own = _box_gaps(box, centres[i : i + 1], radii[i : i + 1])[0]
            if nearest_other < max(0.0, own + CLEARANCE * h):
                continue
            line = np.zeros((0, 2))
            if ring > 0:
                line = _leader_points(np.array([x, y]), centres[i])
                line = line[np.hypot(*(line - centres[i]).T) > r]  # outside its own node
                if _points_in_boxes(line, placed) or _points_in_circles(
                    line, centres[others], radii[others]
                ):
                    continue
            return box, (ox, oy, ring > 0), line
    return None


def place_labels(
    ax: Axes,
    xy: np.ndarray,
    radii_pt: np.ndarray,
    texts: Sequence[str],
    fontsize: float,
    order: Sequence[int] | None = None,
    gap_pt: float = 1.5,
) -> list[Placement | None]:
    """Placements for `texts` at data points `xy` with node radii in points; None where no
    position is free. The axes' limits and position must be final (fixed layout)."""
    n = len(texts)
    if n == 0:
        return []
    px_per_pt = ax.figure.dpi / 72.0
    centres = ax.transData.transform(np.asarray(xy, dtype=float))
    radii = np.asarray(radii_pt, dtype=float) * px_per_pt
    sizes = text_sizes(ax, texts, fontsize)
    panel = ax.get_window_extent()
    bounds = (panel.x0 + 1, panel.y0 + 1, panel.x1 - 1, panel.y1 - 1)
    gap = gap_pt * px_per_pt
    placed = np.zeros((0, 4))
    leaders = np.zeros((0, 2))  # points along the leader lines drawn so far
    out: list[Placement | None] = [None] * n
    for i in order if order is not None else range(n):
        others = np.delete(np.arange(n), i)
        free = (centres, radii, others, placed, leaders, bounds, gap)
        found, text = _search(i, sizes[i], free), None
        wrapped = _two_lines(str(texts[i]))
        if found is None and wrapped is not None:
            found, text = _search(i, text_sizes(ax, [wrapped], fontsize)[0], free), wrapped
        if found is not None:
            box, (ox, oy, leader), line = found
            placed = np.vstack([placed, box])
            leaders = np.vstack([leaders, line])
            out[i] = Placement(ox / px_per_pt, oy / px_per_pt, leader, text)
    return out


def draw_labels(
    ax: Axes,
    xy: np.ndarray,
    placements: Sequence[Placement | None],
    texts: Sequence[str],
    fontsize: float,
    radii_pt: np.ndarray,
    color: str = "#222222",
) -> list:
    """Draw placed labels (centred on their boxes) with leader lines where needed."""
    artists = []
    for k, (p, text) in enumerate(zip(placements, texts, strict=True)):
        if p is None:
            continue
        text = p.text or text
        kw = {}
        if p.leader:
            kw["arrowprops"] = {
                "arrowstyle": "-",
                "color": "#777777",
                "lw": 0.5,
                "shrinkA": 0,
                "shrinkB": float(radii_pt[k]) + 0.5,
            }
        artists.append(
            ax.annotate(
                text,
                xy[k],
                xytext=(p.dx, p.dy),
                textcoords="offset points",
                ha="center",
                va="center",
                fontsize=fontsize,
                color=color,
                zorder=5,
                annotation_clip=False,
                linespacing=LINE_SPACING,
                bbox={
                    "boxstyle": f"round,pad={BOX_PAD}",
                    "fc": "white",
                    "ec": "none",
                    "alpha": 0.75,
                },
                **kw,
            )
        )
    return artists


__all__ = ["Placement", "draw_labels", "place_labels", "text_sizes"]
