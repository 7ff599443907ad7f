"""Node positions of the network figure: capitals on a schematic map, on a real equal-area
map projection, or a spring layout of the relations when capitals are unknown.

Projections:

- ``schematic`` (default): longitude and latitude of capitals, longitudes centred on the
  states' circular mean (a region spanning the date line stays together), each axis blended
  with its rank order so that dense clusters (Western Europe, the Gulf) spread out while
  west-east and north-south order is kept. Best for reading labels; distances are not true.
- ``map``: the Equal Earth projection (Šavrič, Patterson & Jenny 2018, "The Equal Earth map
  projection", IJGIS 33(3)), an equal-area pseudocylindrical projection with a closed form,
  centred on the same mean longitude, with a 30° graticule. True relative geography;
  capitals closer than a node's width are nudged apart.
- ``spring``: networkx spring layout of mutual trust + interoperability (fixed seed).

Why not cartopy: it installs from PyPI here, but its import takes ~0.75 s (a world run's
figures must all draw in under 1 s) and its coastlines are downloaded from Natural Earth on
first use, which fails offline. Equal Earth is nine lines of numpy and needs no data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

PROJECTIONS = ("schematic", "map", "spring")

# Equal Earth constants (Šavrič et al. 2018, eq. 2).
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3.0) / 2.0


def equal_earth(lon_deg: np.ndarray, lat_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equal Earth projection of longitudes and latitudes in degrees (unit sphere)."""
    lam = np.deg2rad(np.asarray(lon_deg, dtype=float))
    phi = np.deg2rad(np.asarray(lat_deg, dtype=float))
    theta = np.arcsin(_M * np.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * np.cos(theta) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


def _lonlat(locations: Mapping[str, Sequence[float]], ids: Sequence[str]) -> np.ndarray | None:
    """(n, 2) array of (longitude centred on the circular mean, latitude); None when
    locations are missing or degenerate."""
    try:
        ll = np.array([[float(v) for v in locations[s]][:2] for s in ids], dtype=float)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    if (
        len(ids) < 2
        or ll.ndim != 2
        or ll.shape[1] != 2
        or not np.isfinite(ll).all()
        or np.ptp(ll, axis=0).max() < 1e-6
    ):
        return None
    lat, lon = ll[:, 0], ll[:, 1]
    rad = np.deg2rad(lon)
    centre = np.rad2deg(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean()))
    lon = (lon - centre + 180.0) % 360.0 - 180.0
    return np.column_stack([lon, lat])


def _schematic(ll: np.ndarray) -> np.ndarray:
    out = np.empty_like(ll)
    for k in range(2):
        v = ll[:, k]
        span = np.ptp(v)
        lin = (v - v.min()) / span if span > 0 else np.full(len(v), 0.5)
        rank = pd.Series(v).rank(method="average").to_numpy() - 1.0
        rank = rank / max(len(v) - 1, 1)
        out[:, k] = 0.35 * lin + 0.65 * rank
    return out


def spread(xy: np.ndarray, min_frac: float = 0.07, rounds: int = 60) -> np.ndarray:
    """Positions scaled to the unit box with points closer than `min_frac` of it pushed apart
    (deterministic). Keeps the aspect ratio of the input (the longer side becomes 1).

    Each round moves both points of every too-close pair half the missing distance apart;
    close pairs come from a k-d tree (scipy), so a round costs O(n log n), not O(n²)."""
    from scipy.spatial import cKDTree

    xy = np.array(xy, dtype=float)
    n = len(xy)
    if n < 2:
        return np.zeros_like(xy) + 0.5
    lo = xy.min(axis=0)
    span = float(np.ptp(xy, axis=0).max()) or 1.0
    xy = (xy - lo) / span
    d_min = min_frac * (1.0 if n <= 25 else math.sqrt(25 / n))
    for _ in range(rounds):
        pairs = cKDTree(xy).query_pairs(d_min, output_type="ndarray")
        if len(pairs) == 0:
            break
        i, j = pairs[:, 0], pairs[:, 1]
        diff = xy[i] - xy[j]
        dist = np.sqrt((diff**2).sum(axis=1))
        same = dist < 1e-9
        if same.any():  # identical points: nudge along a direction fixed by index order
            angle = (i[same] - j[same]) * 2.399
            diff[same] = np.column_stack([np.cos(angle), np.sin(angle)])
            dist[same] = 1.0
        push = ((d_min - dist) / 2.0 / dist)[:, None] * diff
        np.add.at(xy, i, push)
        np.add.at(xy, j, -push)
    return xy


def _spring(ids: Sequence[str], dyads: pd.DataFrame | None, seed: int) -> np.ndarray:
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(ids)
    if dyads is not None and not dyads.empty:
        w = 0.5 * (dyads["trust_ab"] + dyads["trust_ba"]) + dyads["interoperability"]
        for a, b, v in zip(dyads["state_a"], dyads["state_b"], w, strict=True):
            if a in g and b in g and v > 0:
                g.add_edge(a, b, weight=float(v))
    if len(ids) < 2:
        return np.zeros((len(ids), 2))
    pos = nx.spring_layout(g, seed=seed, weight="weight")
    return np.array([pos[s] for s in ids], dtype=float)


def network_layout(
    ids: Sequence[str],
    locations: Mapping[str, Sequence[float]] | None = None,
    dyads: pd.DataFrame | None = None,
    seed: int = 7,
    projection: str = "schematic",
) -> dict[str, np.ndarray]:
    """Node positions by `projection` (see module docstring); falls back to the spring layout
    when capitals are unknown. Positions lie in the unit box, the longer side spanning 1."""
    if projection not in PROJECTIONS:
        raise ValueError(f"projection must be one of {', '.join(PROJECTIONS)}, got {projection!r}")
    ll = _lonlat(locations, ids) if locations and projection != "spring" else None
    if ll is None:
        xy = spread(_spring(ids, dyads, seed))
    elif projection == "map":
        x, y = equal_earth(ll[:, 0], ll[:, 1])
        xy = spread(np.column_stack([x, y]), min_frac=0.025)
    else:
        xy = spread(_schematic(ll))
    return {s: xy[k] for k, s in enumerate(ids)}


def layout_kind(
    ids: Sequence[str], locations: Mapping[str, Sequence[float]] | None, projection: str
) -> str:
    """The projection `network_layout` actually uses for these inputs."""
    if projection == "spring" or not locations or _lonlat(locations, ids) is None:
        return "spring"
    return projection


def graticule(
    ids: Sequence[str], locations: Mapping[str, Sequence[float]], step: float = 30.0
) -> list[np.ndarray]:
    """Lines of the Equal Earth graticule (every `step` degrees) in the coordinates of
    `network_layout(..., projection='map')` for the same states, clipped to their extent."""
    ll = _lonlat(locations, ids)
    if ll is None:
        return []
    x, y = equal_earth(ll[:, 0], ll[:, 1])
    raw = np.column_stack([x, y])
    lo = raw.min(axis=0)
    span = float(np.ptp(raw, axis=0).max()) or 1.0
    lon_lo, lon_hi = ll[:, 0].min() - step, ll[:, 0].max() + step
    lat_lo, lat_hi = max(ll[:, 1].min() - step, -90), min(ll[:, 1].max() + step, 90)
    lines = []
    t = np.linspace(-90, 90, 61)
    for lon in np.arange(-180, 180.1, step):
        if lon_lo <= lon <= lon_hi:
            keep = (t >= lat_lo) & (t <= lat_hi)
            gx, gy = equal_earth(np.full(keep.sum(), lon), t[keep])
            lines.append((np.column_stack([gx, gy]) - lo) / span)
    t = np.linspace(max(lon_lo, -180), min(lon_hi, 180), 91)
    for lat in np.arange(-90, 90.1, step):
        if lat_lo <= lat <= lat_hi:
            gx, gy = equal_earth(t, np.full(len(t), lat))
            lines.append((np.column_stack([gx, gy]) - lo) / span)
    return lines


__all__ = [
    "PROJECTIONS",
    "equal_earth",
    "graticule",
    "layout_kind",
    "network_layout",
    "spread",
]
