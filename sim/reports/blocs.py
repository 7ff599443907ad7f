"""Bloc names and colours: one rule for every figure, report and the dashboard.

A bloc is a community of the alignment network at one step with at least two members. The
`bloc` ids of the states table are community labels; the same id can mean different groups at
different steps. So a bloc is named after its **core member**, the most capable member at that
step ("China bloc"), and coloured by that member. The same name and colour then follow a bloc
across panels, figures and steps, and a bloc's name is always one of its own members (the
step-0 "Germany bloc" that did not contain Germany cannot happen).

    from sim.reports import bloc_palette, bloc_cores
    palette = bloc_palette(results.states, names)      # once per run
    cores = bloc_cores(results.states)                 # core member of each row's bloc
    palette.label(cores[k]), palette.color(cores[k])   # "China bloc", "#0072B2"

Colours go to core members in this order: the cores at the last recorded step, then those at
the first, then the rest by weight (the bloc capability summed over the recorded steps a
member leads a bloc), each group by bloc capability. The first `len(BLOC_COLORS)` get
distinct colours, any further cores share `OTHER_COLOR` ("other blocs"), and states alone
in their community are light grey.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Okabe-Ito first (yellow and black left out: too light / reserved for wars), then five
# further hues from Paul Tol's muted scheme that stay apart from them.
BLOC_COLORS = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#882255",  # wine
    "#332288",  # indigo
    "#999933",  # olive
    "#44AA99",  # teal
    "#8C6D31",  # brown
    "#F0E442",  # yellow
)
OTHER_COLOR = "#7A7A7A"  # blocs beyond the palette
ALONE_COLOR = "#DDDDDD"  # states alone in their community
ALONE_LABEL = "no bloc (alone)"
OTHER_LABEL = "other blocs"


def bloc_cores(states: pd.DataFrame) -> np.ndarray:
    """The core member (most capable; ties: first in scenario order) of each row's bloc at
    that row's step, or '' when the state is alone in its community. Aligned with `states`."""
    if states.empty or "bloc" not in states:
        return np.array([""] * len(states), dtype=object)
    step = states["step"].to_numpy()
    bloc = states["bloc"].to_numpy()
    cap = states["capability"].to_numpy(dtype=float)
    pos = np.arange(len(states))
    # Rows sorted by step, bloc, capability (descending), original order: the first row of
    # each (step, bloc) run is its core.
    order = np.lexsort((pos, -cap, bloc, step))
    s, b = step[order], bloc[order]
    start = np.ones(len(order), dtype=bool)
    start[1:] = (s[1:] != s[:-1]) | (b[1:] != b[:-1])
    group = np.cumsum(start) - 1
    first = np.flatnonzero(start)
    sizes = np.diff(np.append(first, len(order)))
    ids = states["state"].to_numpy(dtype=object)
    core_sorted = np.where(sizes[group] >= 2, ids[order][first][group], "")
    out = np.empty(len(states), dtype=object)
    out[order] = core_sorted
    return out


@dataclass(frozen=True)
class BlocPalette:
    """Names and colours of blocs, keyed by core member id ('' = alone)."""

    names: Mapping[str, str]
    colors: Mapping[str, str]
    order: tuple[str, ...] = ()

    def label(self, core: str | None) -> str:
        """'China bloc' for core 'CHN'; 'no bloc (alone)' for ''."""
        if not core:
            return ALONE_LABEL
        return f"{self.names.get(core, core)} bloc"

    def color(self, core: str | None) -> str:
        """The bloc's colour: its own, `OTHER_COLOR` beyond the palette, grey when alone."""
        if not core:
            return ALONE_COLOR
        return self.colors.get(core, OTHER_COLOR)

    def legend(self, cores: Iterable[str]) -> list[tuple[str, str]]:
        """(label, colour) for these cores in palette order; cores without a colour of their
        own as one 'other blocs (k)' entry, and 'no bloc (alone)' last."""
        present = set(cores)
        rows = [
            (self.label(c), self.colors[c]) for c in self.order if c in present and c in self.colors
        ]
        others = sorted(c for c in present if c and c not in self.colors)
        if others:
            rows.append((f"{OTHER_LABEL} ({len(others)})", OTHER_COLOR))
        if "" in present:
            rows.append((ALONE_LABEL, ALONE_COLOR))
        return rows


def bloc_palette(
    states: pd.DataFrame,
    names: Mapping[str, str],
    *,
    prefer: Sequence[str] = (),
    cores: np.ndarray | None = None,
) -> BlocPalette:
    """The palette of a run: cores ranked by weight (see module docstring) get the colours of
    `BLOC_COLORS` in order. Cores listed in `prefer` come first, in that order, so two runs
    compared side by side can share colours (pass the first run's `order`)."""
    names = {str(k): str(v) for k, v in names.items()}
    if states.empty or "bloc" not in states:
        return BlocPalette(names, {}, ())
    cores = bloc_cores(states) if cores is None else cores
    led = cores != ""
    if not led.any():
        return BlocPalette(names, {}, ())
    weight = (
        pd.Series(states["capability"].to_numpy(dtype=float)[led])
        .groupby(cores[led])
        .sum()
        .sort_values(ascending=False, kind="stable")
    )
    step = states["step"].to_numpy()
    cap = states["capability"].to_numpy(dtype=float)

    def at(when: int) -> list[str]:  # cores at one step, by bloc capability
        sel = (step == when) & led
        return list(
            pd.Series(cap[sel]).groupby(cores[sel]).sum().sort_values(ascending=False).index
        )

    ranked = [c for c in prefer if c in weight.index]
    for group in (at(step.max()), at(step.min()), list(weight.index)):
        ranked += [c for c in group if c not in ranked]
    colors = {c: BLOC_COLORS[k] for k, c in enumerate(ranked[: len(BLOC_COLORS)])}
    return BlocPalette(names, colors, tuple(ranked))


__all__ = [
    "ALONE_COLOR",
    "ALONE_LABEL",
    "BLOC_COLORS",
    "OTHER_COLOR",
    "BlocPalette",
    "bloc_cores",
    "bloc_palette",
]
