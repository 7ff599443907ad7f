"""Figures of a run, drawn from its tidy tables (never from a live model).

Every figure function takes DataFrames (and a state id -> display name mapping) and
returns a matplotlib `Figure`; `plot_run` reads a saved run directory and writes all
figures as PNG (and SVG on request). Colours come from the Okabe-Ito palette, which
stays distinguishable under the common forms of colour blindness; line styles and
markers double the colour coding wherever it carries meaning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import ListedColormap, to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

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
# Order used for categories (blocs, suppliers): strongest contrasts first, yellow last.
CATEGORY_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
GREY = "#BBBBBB"
LIGHT_GREY = "#E6E6E6"
RISK_COLOR = OKABE_ITO["vermillion"]
TIE_COLOR = "#3A5A78"

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
FIGURES = ("relations", "network", "blocs", "activities", "crises", "market")

_RC = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "figure.titlesize": 13,
    "figure.titleweight": "bold",
    "svg.fonttype": "none",
}


def style() -> matplotlib.rc_context:
    """Context manager applying the shared figure style."""
    return matplotlib.rc_context(_RC)


def category_colors(k: int) -> list[str]:
    """k distinguishable colours: Okabe-Ito first, then evenly spaced cividis shades."""
    if k <= len(CATEGORY_COLORS):
        return list(CATEGORY_COLORS[:k])
    extra = plt.get_cmap("cividis")(np.linspace(0.05, 0.95, k - len(CATEGORY_COLORS)))
    return list(CATEGORY_COLORS) + [matplotlib.colors.to_hex(c) for c in extra]


def _note(ax: plt.Axes, text: str) -> None:
    """Write a centred message on an empty panel."""
    ax.text(
        0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#555555", wrap=True
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def _reversed_legend(ax: plt.Axes) -> None:
    """Legend beside the axes, listed top-down in the visual order of a stack plot."""
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _name(names: Mapping[str, str], sid: str) -> str:
    return str(names.get(sid, sid))


# ----------------------------------------------------------------------------------------------
# Time axis
# ----------------------------------------------------------------------------------------------

_UNIT_OFFSETS = {
    "day": lambda k: pd.DateOffset(days=k),
    "week": lambda k: pd.DateOffset(weeks=k),
    "month": lambda k: pd.DateOffset(months=k),
    "quarter": lambda k: pd.DateOffset(months=3 * k),
    "year": lambda k: pd.DateOffset(years=k),
}


@dataclass(frozen=True)
class TimeAxis:
    """Maps step numbers to what the x axis shows: calendar dates when the scenario has a
    start date and a calendar time unit, else step numbers."""

    start: pd.Timestamp | None = None
    unit: str = "month"

    @classmethod
    def from_scenario(cls, start: object | None, unit: str | None) -> TimeAxis:
        """Build from a scenario's `start` and `time_unit` (bad or missing start -> steps)."""
        unit = str(unit or "month").lower().rstrip("s")
        if start in (None, "") or unit not in _UNIT_OFFSETS:
            return cls(None, unit)
        try:
            ts = pd.Timestamp(str(start))
        except (ValueError, TypeError):
            return cls(None, unit)
        return cls(None if pd.isna(ts) else ts, unit)

    @property
    def dated(self) -> bool:
        """Whether the axis shows dates."""
        return self.start is not None

    def x(self, steps: Sequence[int] | np.ndarray | pd.Series) -> np.ndarray:
        """x values for these steps (datetime64 when dated)."""
        arr = np.asarray(steps, dtype=np.int64)
        if not self.dated:
            return arr
        offset = _UNIT_OFFSETS[self.unit]
        if self.unit in ("day", "week"):
            scale = 7 if self.unit == "week" else 1
            return (self.start + pd.to_timedelta(arr * scale, unit="D")).to_numpy()
        cache: dict[int, pd.Timestamp] = {}
        out = []
        for k in arr.tolist():
            if k not in cache:
                cache[k] = self.start + offset(k)
            out.append(cache[k])
        return pd.DatetimeIndex(out).to_numpy()

    @property
    def label(self) -> str:
        """Axis label with units."""
        if self.dated:
            return f"date (1 step = 1 {self.unit})"
        return f"step ({self.unit}s since start)"

    def step_label(self, step: int) -> str:
        """A short label for one step, e.g. 'step 60 (Jan 2030)'."""
        if not self.dated:
            return f"step {step}"
        when = pd.Timestamp(self.x([step])[0])
        fmt = (
            "%Y"
            if self.unit == "year"
            else "%b %Y"
            if self.unit in ("month", "quarter")
            else "%d %b %Y"
        )
        return f"step {step} ({when.strftime(fmt)})"

    def format(self, ax: plt.Axes) -> None:
        """Label the x axis (and use concise date ticks when dated)."""
        ax.set_xlabel(self.label)
        if self.dated:
            locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


# ----------------------------------------------------------------------------------------------
# Blocs: consistent colours and names across figures
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlocStyle:
    """Colour and legend label of each bloc id (blocs of one state are drawn grey)."""

    colors: Mapping[int, str]
    labels: Mapping[int, str]

    def color(self, bloc: int, size: int = 2) -> str:
        """Colour of a bloc; grey when the bloc has a single member."""
        if size < 2:
            return GREY
        return self.colors.get(int(bloc), GREY)


def bloc_style(states: pd.DataFrame, names: Mapping[str, str]) -> BlocStyle:
    """Assign colours and names to blocs: ordered by total capability at their last
    appearance; each bloc is named after its most capable member there."""
    if states.empty or "bloc" not in states:
        return BlocStyle({}, {})
    sizes = states.groupby(["step", "bloc"])["state"].transform("size")
    multi = states[sizes >= 2]
    if multi.empty:
        return BlocStyle({}, {})
    last_step = multi.groupby("bloc")["step"].max()
    rows = []
    for bloc, step in last_step.items():
        members = multi[(multi["bloc"] == bloc) & (multi["step"] == step)]
        lead = members.sort_values("capability", ascending=False)["state"].iloc[0]
        rows.append((int(bloc), int(step), float(members["capability"].sum()), lead, len(members)))
    # Blocs still present at the end first, then by capability.
    rows.sort(key=lambda r: (-r[1], -r[2], r[0]))
    colors = category_colors(len(rows))
    labels: dict[int, str] = {}
    used: dict[str, int] = {}
    for bloc, _, _, lead, _ in rows:
        base = f"{_name(names, lead)} bloc"
        used[base] = used.get(base, 0) + 1
        labels[bloc] = base if used[base] == 1 else f"{base} ({used[base]})"
    return BlocStyle({r[0]: colors[k] for k, r in enumerate(rows)}, labels)


def _bloc_counts(states: pd.DataFrame) -> pd.Series:
    """Number of distinct blocs per step, counting blocs with at least two members."""
    sizes = states.groupby(["step", "bloc"]).size()
    return (sizes >= 2).groupby(level="step").sum()


# ----------------------------------------------------------------------------------------------
# 1. Relations over time
# ----------------------------------------------------------------------------------------------


def plot_relations(
    world: pd.DataFrame,
    states: pd.DataFrame | None = None,
    *,
    time: TimeAxis | None = None,
    title: str | None = None,
) -> Figure:
    """Trust, interoperability and escalation risk over time: the mean over all dyads,
    within blocs and across blocs (three panels, shared time axis).

    With `states`, within-bloc means are hidden at steps where no bloc has two members
    and cross-bloc means where every state is in one bloc (they are undefined there)."""
    time = time or TimeAxis()
    panels = (
        ("trust", "mean_trust", "trust_within", "trust_across", "Trust", "mutual trust (0-1)"),
        (
            "interoperability",
            "mean_interoperability",
            "interoperability_within",
            "interoperability_across",
            "Interoperability",
            "interoperability (0-1)",
        ),
        (
            "risk",
            "mean_risk",
            "risk_within",
            "risk_across",
            "Escalation risk",
            "escalation risk (0-1)",
        ),
    )
    with style():
        fig, axes = plt.subplots(3, 1, figsize=(9, 8.5), sharex=True, layout="constrained")
        if world.empty:
            for ax in axes:
                _note(ax, "no recorded steps")
            fig.suptitle(title or "Relations over time")
            return fig
        world = world.sort_values("step")
        x = time.x(world["step"])
        within_ok = np.ones(len(world), dtype=bool)
        across_ok = np.ones(len(world), dtype=bool)
        if states is not None and not states.empty:
            n_distinct = states.groupby("step")["bloc"].nunique().reindex(world["step"]).to_numpy()
            multi = _bloc_counts(states).reindex(world["step"]).fillna(0).to_numpy()
            within_ok = multi >= 1
            across_ok = n_distinct >= 2
        for ax, (_, mean_col, within_col, across_col, name, ylabel) in zip(
            axes, panels, strict=True
        ):
            ax.plot(x, world[mean_col], color="#444444", lw=1.2, ls=":", label="all dyads")
            ax.plot(
                x,
                np.where(within_ok, world[within_col], np.nan),
                color=OKABE_ITO["blue"],
                lw=2.0,
                label="within blocs",
            )
            ax.plot(
                x,
                np.where(across_ok, world[across_col], np.nan),
                color=OKABE_ITO["vermillion"],
                lw=2.0,
                ls="--",
                label="across blocs",
            )
            ax.set_title(name, loc="left")
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0)
            ax.margins(x=0.01)
        axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        time.format(axes[-1])
        fig.suptitle(
            title or "Trust, interoperability and escalation risk, within and across blocs"
        )
    return fig


# ----------------------------------------------------------------------------------------------
# 2. Alignment network
# ----------------------------------------------------------------------------------------------


def _geo_positions(locations: Mapping[str, Sequence[float]], ids: Sequence[str]) -> dict | None:
    """Schematic map positions from capital (lat, lon): longitudes centred on the states'
    circular mean (so a region spanning the date line stays together), then each axis
    blended with its rank order so that dense clusters spread out while west-east and
    north-south order is kept. None when locations are missing or degenerate."""
    try:
        ll = np.array([[float(v) for v in locations[s]][:2] for s in ids], dtype=float)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    if (
        len(ids) < 2
        or ll.shape[1] != 2
        or not np.isfinite(ll).all()
        or np.ptp(ll, axis=0).max() < 1e-6
    ):
        return None
    lat, lon = ll[:, 0], ll[:, 1]
    rad = np.deg2rad(lon)
    centre = np.rad2deg(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean()))
    lon = (lon - centre + 180.0) % 360.0 - 180.0
    xy = np.column_stack([lon, lat])
    out = np.empty_like(xy)
    for k in range(2):
        v = xy[:, k]
        span = np.ptp(v)
        lin = (v - v.min()) / span if span > 0 else np.full(len(v), 0.5)
        rank = pd.Series(v).rank(method="average").to_numpy() - 1.0
        rank = rank / max(len(v) - 1, 1)
        out[:, k] = 0.35 * lin + 0.65 * rank
    return {s: out[k] for k, s in enumerate(ids)}


def _spread(pos: dict, min_frac: float = 0.07, rounds: int = 60) -> dict:
    """Push apart nodes closer than `min_frac` of the layout's extent (deterministic)."""
    ids = list(pos)
    xy = np.array([pos[s] for s in ids], dtype=float)
    if len(ids) < 2:
        return pos
    span = np.ptp(xy, axis=0)
    span[span < 1e-9] = 1.0
    xy = (xy - xy.min(axis=0)) / span
    d_min = min_frac * (1.0 if len(ids) <= 25 else math.sqrt(25 / len(ids)))
    for _ in range(rounds):
        diff = xy[:, None, :] - xy[None, :, :]
        dist = np.sqrt((diff**2).sum(axis=-1))
        np.fill_diagonal(dist, np.inf)
        close = dist < d_min
        if not close.any():
            break
        # Identical points: nudge along a fixed direction depending on index order.
        same = dist < 1e-9
        if same.any():
            k = np.arange(len(ids))
            angle = (k[:, None] - k[None, :]) * 2.399
            diff = np.where(
                same[..., None], np.stack([np.cos(angle), np.sin(angle)], axis=-1), diff
            )
            dist = np.where(same, 1.0, dist)
        push = np.where(close, (d_min - dist) / 2.0, 0.0)[..., None] * diff / dist[..., None]
        xy += push.sum(axis=1)
    return {s: xy[k] for k, s in enumerate(ids)}


def network_layout(
    ids: Sequence[str],
    locations: Mapping[str, Sequence[float]] | None = None,
    dyads: pd.DataFrame | None = None,
    seed: int = 7,
) -> dict[str, np.ndarray]:
    """Node positions: capitals' longitude/latitude when known, else a spring layout of the
    affinity-like weights (mutual trust + interoperability) with a fixed seed."""
    pos = _geo_positions(locations, ids) if locations else None
    if pos is None:
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(ids)
        if dyads is not None and not dyads.empty:
            w = 0.5 * (dyads["trust_ab"] + dyads["trust_ba"]) + dyads["interoperability"]
            for a, b, v in zip(dyads["state_a"], dyads["state_b"], w, strict=True):
                if a in g and b in g and v > 0:
                    g.add_edge(a, b, weight=float(v))
        pos = (
            nx.spring_layout(g, seed=seed, weight="weight")
            if len(ids) > 1
            else {s: np.zeros(2) for s in ids}
        )
    return _spread(pos)


def _edge_threshold(values: np.ndarray, floor: float, max_edges: int) -> float:
    """The larger of `floor` and the value keeping at most `max_edges` edges."""
    if values.size > max_edges:
        return max(floor, float(np.sort(values)[::-1][max_edges - 1]))
    return floor


def plot_network(
    snapshots: pd.DataFrame,
    states: pd.DataFrame,
    names: Mapping[str, str],
    *,
    steps: Sequence[int] | None = None,
    locations: Mapping[str, Sequence[float]] | None = None,
    time: TimeAxis | None = None,
    trust_threshold: float = 0.6,
    risk_threshold: float = 0.2,
    title: str | None = None,
) -> Figure:
    """The alignment network at chosen steps (one panel each; default: first, middle, last
    snapshot). Nodes: sized by capability, coloured by bloc. Solid edges: mutual trust at or
    above `trust_threshold`, width by interoperability. Dashed vermillion edges: escalation
    risk at or above `risk_threshold`, width by risk. Thresholds rise automatically on large
    networks so that each panel stays readable."""
    time = time or TimeAxis()
    ids = list(dict.fromkeys(states["state"])) if not states.empty else []
    available = sorted(set(snapshots["step"].astype(int))) if not snapshots.empty else []
    if steps is None:
        if len(available) > 2:
            mid = available[len(available) // 2]
            steps = [available[0], mid, available[-1]]
        else:
            steps = available
    steps = [s for s in dict.fromkeys(int(s) for s in steps) if s in available]
    blocs = bloc_style(states, names)
    state_steps = np.sort(states["step"].unique()) if not states.empty else np.array([], dtype=int)
    if not steps and len(ids) == 1 and state_steps.size:
        steps = list(dict.fromkeys([int(state_steps[0]), int(state_steps[-1])]))  # no dyads
    n_panels = max(1, len(steps))
    with style():
        fig, axes = plt.subplots(
            1, n_panels, figsize=(5.6 * n_panels + 0.4, 6.4), squeeze=False, layout="constrained"
        )
        axes = axes[0]
        if not steps or not ids:
            _note(
                axes[0],
                "no dyad snapshots to draw (run with dyad recording)" if ids else "no states",
            )
            fig.suptitle(title or "Alignment network")
            return fig
        pos = network_layout(ids, locations, snapshots[snapshots["step"] == steps[-1]])
        n = len(ids)
        max_ties = max(3, int(1.5 * n))
        max_risky = max(2, n)
        all_cap = states["capability"].to_numpy(dtype=float)
        cap_max = float(np.nanmax(all_cap)) if all_cap.size and np.nanmax(all_cap) > 0 else 1.0
        labels_fit = n <= 30
        legend_blocs: dict[str, str] = {}
        # One pair of thresholds for all panels, so that panels compare at a glance.
        t_thr, r_thr = trust_threshold, risk_threshold
        for step in steps:
            snap = snapshots[snapshots["step"] == step]
            mutual = 0.5 * (snap["trust_ab"].to_numpy(float) + snap["trust_ba"].to_numpy(float))
            t_thr = max(t_thr, _edge_threshold(mutual, trust_threshold, max_ties))
            r_thr = max(
                r_thr, _edge_threshold(snap["risk"].to_numpy(float), risk_threshold, max_risky)
            )
        for ax, step in zip(axes, steps, strict=False):
            snap = snapshots[snapshots["step"] == step]
            mutual = 0.5 * (snap["trust_ab"].to_numpy(float) + snap["trust_ba"].to_numpy(float))
            interop = snap["interoperability"].to_numpy(float)
            risk = snap["risk"].to_numpy(float)
            a_ids, b_ids = snap["state_a"].to_numpy(), snap["state_b"].to_numpy()
            for k in np.flatnonzero(mutual >= t_thr):
                (x0, y0), (x1, y1) = pos[a_ids[k]], pos[b_ids[k]]
                ax.plot(
                    [x0, x1],
                    [y0, y1],
                    color=TIE_COLOR,
                    alpha=0.45,
                    lw=0.5 + 3.5 * interop[k],
                    zorder=1,
                    solid_capstyle="round",
                )
            for k in np.flatnonzero(risk >= r_thr):
                (x0, y0), (x1, y1) = pos[a_ids[k]], pos[b_ids[k]]
                ax.plot(
                    [x0, x1],
                    [y0, y1],
                    color=RISK_COLOR,
                    ls=(0, (4, 2.5)),
                    lw=0.8 + 3.0 * risk[k],
                    alpha=0.9,
                    zorder=2,
                )
            # Node attributes from the latest recorded step at or before this snapshot.
            at = state_steps[state_steps <= step]
            at_step = int(at[-1]) if at.size else int(state_steps[0])
            row = states[states["step"] == at_step].set_index("state")
            sizes = row.groupby("bloc")["bloc"].transform("size")
            xs, ys, cs, ss = [], [], [], []
            for sid in ids:
                x, y = pos[sid]
                cap = float(row["capability"].get(sid, 0.0)) if sid in row.index else 0.0
                bloc = int(row["bloc"].get(sid, -1)) if sid in row.index else -1
                size = int(sizes.get(sid, 1)) if sid in row.index else 1
                color = blocs.color(bloc, size)
                if size >= 2:
                    legend_blocs[blocs.labels.get(bloc, f"bloc {bloc}")] = color
                else:
                    legend_blocs["no bloc (alone)"] = GREY
                xs.append(x)
                ys.append(y)
                cs.append(color)
                ss.append(40 + 900 * math.sqrt(max(cap, 0.0) / cap_max))
            ax.scatter(xs, ys, s=ss, c=cs, edgecolors="#222222", linewidths=0.7, zorder=3)
            for sid, x, y, s in zip(ids, xs, ys, ss, strict=True):
                label = _name(names, sid) if labels_fit else sid
                ax.annotate(
                    label,
                    (x, y),
                    xytext=(0, math.sqrt(s) / 2 + 3),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=8 if n <= 15 else 6.5,
                    zorder=4,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6},
                )
            ax.set_title(time.step_label(step), loc="center")
            ax.margins(0.1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(False)
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markerfacecolor=c,
                markeredgecolor="#222222",
                markersize=9,
                label=lab,
            )
            for lab, c in legend_blocs.items()
        ]
        handles += [
            Line2D(
                [],
                [],
                color=TIE_COLOR,
                alpha=0.6,
                lw=3,
                label=f"mutual trust ≥ {t_thr:.2f} (width: interoperability)",
            ),
            Line2D(
                [],
                [],
                color=RISK_COLOR,
                ls=(0, (4, 2.5)),
                lw=2.2,
                label=f"escalation risk ≥ {r_thr:.2f} (width: risk)",
            ),
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markerfacecolor="white",
                markeredgecolor="#222222",
                markersize=12,
                label="node size: capability",
            ),
        ]
        geo = bool(locations) and _geo_positions(locations, ids) is not None
        layout = "capitals (schematic map)" if geo else "spring layout"
        handles.append(Line2D([], [], ls="", label=f"positions: {layout}"))
        # Few enough columns that the legend fits the figure's width (a wider legend is
        # clipped at both edges: the bloc markers on the left, the last label on the right).
        ncol = 3 if n_panels >= 2 else 2
        fig.legend(handles=handles, loc="outside lower center", ncol=ncol)
        fig.suptitle(title or "Alignment network")
    return fig


# ----------------------------------------------------------------------------------------------
# 3. Bloc membership over time
# ----------------------------------------------------------------------------------------------


def plot_blocs(
    states: pd.DataFrame,
    names: Mapping[str, str],
    *,
    time: TimeAxis | None = None,
    title: str | None = None,
) -> Figure:
    """Bloc membership over time: one row per state (ordered by final bloc, then capability),
    one column per recorded step, coloured by bloc; states alone in their bloc are grey and
    switches between blocs are marked with a black tick."""
    time = time or TimeAxis()
    with style():
        ids = list(dict.fromkeys(states["state"])) if not states.empty else []
        height = min(14.0, max(3.2, 1.6 + 0.32 * len(ids)))
        fig, ax = plt.subplots(figsize=(10, height), layout="constrained")
        if not ids:
            _note(ax, "no states recorded")
            fig.suptitle(title or "Bloc membership over time")
            return fig
        blocs = bloc_style(states, names)
        steps = np.sort(states["step"].unique())
        last = states[states["step"] == steps[-1]].set_index("state")
        last_sizes = last.groupby("bloc")["bloc"].transform("size")
        bloc_rank = {b: k for k, b in enumerate(blocs.colors)}

        def order_key(sid: str) -> tuple:
            b = int(last["bloc"].get(sid, -1))
            alone = int(last_sizes.get(sid, 1)) < 2
            return (
                alone,
                bloc_rank.get(b, len(bloc_rank)),
                -float(last["capability"].get(sid, 0.0)),
            )

        ids.sort(key=order_key)
        table = states.pivot(index="state", columns="step", values="bloc").reindex(
            index=ids, columns=steps
        )
        sizes = states.groupby(["step", "bloc"])["state"].transform("size")
        size_table = (
            states.assign(_size=sizes)
            .pivot(index="state", columns="step", values="_size")
            .reindex(index=ids, columns=steps)
        )
        keys = list(blocs.colors)
        code = np.full(table.shape, len(keys), dtype=float)  # grey
        values = table.to_numpy()
        for k, b in enumerate(keys):
            code[(values == b) & (size_table.to_numpy() >= 2)] = k
        code[np.isnan(values.astype(float))] = np.nan
        cmap = ListedColormap([blocs.colors[b] for b in keys] + [LIGHT_GREY]).with_extremes(
            bad="white"
        )
        # Cell edges: midpoints between recorded steps.
        st = steps.astype(float)
        if len(st) > 1:
            mids = (st[1:] + st[:-1]) / 2
            edges = np.concatenate(
                [[st[0] - (mids[0] - st[0])], mids, [st[-1] + (st[-1] - mids[-1])]]
            )
        else:
            edges = np.array([st[0] - 0.5, st[0] + 0.5])
        if time.dated:
            # Interpolate edges in the date domain via matplotlib's numeric dates.
            xs = mdates.date2num(time.x(steps))
            xe = np.interp(edges, st, xs, left=None, right=None)
            if len(st) > 1:
                slope0 = (xs[1] - xs[0]) / (st[1] - st[0])
                slope1 = (xs[-1] - xs[-2]) / (st[-1] - st[-2])
                xe[0] = xs[0] + (edges[0] - st[0]) * slope0
                xe[-1] = xs[-1] + (edges[-1] - st[-1]) * slope1
            else:
                xe = np.array([xs[0] - 15, xs[0] + 15])
            x_edges = xe
        else:
            x_edges = edges
        y_edges = np.arange(len(ids) + 1) - 0.5
        ax.pcolormesh(
            x_edges,
            y_edges,
            np.ma.masked_invalid(code),
            cmap=cmap,
            vmin=-0.5,
            vmax=len(keys) + 0.5,
            shading="flat",
        )
        # Switches: bloc changes between consecutive records (ignoring relabel of lone states).
        x_centres = (x_edges[1:] + x_edges[:-1]) / 2
        for row in range(len(ids)):
            vals = code[row]
            change = (
                np.flatnonzero((vals[1:] != vals[:-1]) & ~np.isnan(vals[1:]) & ~np.isnan(vals[:-1]))
                + 1
            )
            if change.size:
                ax.scatter(
                    x_edges[change],
                    np.full(change.size, row),
                    marker="|",
                    s=90,
                    c="black",
                    linewidths=1.4,
                    zorder=3,
                )
        del x_centres
        ax.set_yticks(range(len(ids)))
        ax.set_yticklabels([_name(names, s) for s in ids], fontsize=9 if len(ids) <= 25 else 7)
        ax.set_ylim(len(ids) - 0.5, -0.5)
        ax.grid(False)
        if time.dated:
            ax.xaxis_date()
        time.format(ax)
        ax.set_ylabel("state (ordered by final bloc)")
        handles = [
            Patch(facecolor=blocs.colors[b], edgecolor="none", label=blocs.labels[b]) for b in keys
        ]
        handles.append(Patch(facecolor=LIGHT_GREY, edgecolor="none", label="no bloc (alone)"))
        handles.append(
            Line2D(
                [],
                [],
                marker="|",
                ls="",
                color="black",
                markersize=10,
                markeredgewidth=1.4,
                label="switch",
            )
        )
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.suptitle(title or "Bloc membership over time")
    return fig


# ----------------------------------------------------------------------------------------------
# 4. Activity mix
# ----------------------------------------------------------------------------------------------


def activity_counts(activities: pd.DataFrame, last_step: int) -> pd.DataFrame:
    """Counts per step (rows 0..last_step) and activity kind (columns in a fixed order)."""
    index = pd.RangeIndex(0, max(int(last_step), 0) + 1, name="step")
    if activities.empty:
        return pd.DataFrame(0, index=index, columns=list(ACTIVITY_LABELS))
    counts = activities.groupby(["step", "activity"]).size().unstack(fill_value=0)
    return counts.reindex(index=index, columns=list(ACTIVITY_LABELS), fill_value=0)


def plot_activities(
    activities: pd.DataFrame,
    last_step: int,
    *,
    window: int = 12,
    time: TimeAxis | None = None,
    title: str | None = None,
) -> Figure:
    """The activity mix over time: stacked areas of activities started per step by kind,
    averaged over a rolling `window` of steps."""
    time = time or TimeAxis()
    counts = activity_counts(activities, last_step)
    with style():
        fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
        if counts.to_numpy().sum() == 0:
            _note(ax, "no activities were started in this run")
        else:
            steps = counts.index.to_numpy()
            smooth = counts.rolling(window, min_periods=1).mean()
            if len(steps) > 1:
                smooth = smooth.iloc[1:]  # step 0 records the start: nothing happens there
                steps = steps[1:]
            x = time.x(steps)
            kinds = list(ACTIVITY_LABELS)
            ax.stackplot(
                x,
                *(smooth[k].to_numpy() for k in kinds),
                labels=[f"{ACTIVITY_LABELS[k]} ({int(counts[k].sum())} total)" for k in kinds],
                colors=[ACTIVITY_COLORS[k] for k in kinds],
                alpha=0.85,
                edgecolor="white",
                linewidth=0.4,
            )
            ax.set_ylim(bottom=0)
            ax.margins(x=0)
            _reversed_legend(ax)
        ax.set_ylabel(f"activities started per step\n({window}-step rolling mean)")
        time.format(ax)
        fig.suptitle(title or "Defense-diplomacy activity mix")
    return fig


# ----------------------------------------------------------------------------------------------
# 5. Crises
# ----------------------------------------------------------------------------------------------


def _unordered_pairs(crises: pd.DataFrame, order: Mapping[str, int]) -> pd.Series:
    """(state_a, state_b) per crisis with the pair in scenario order (A-B and B-A are one dyad)."""
    out = []
    for a, b in zip(crises["state_a"].astype(str), crises["state_b"].astype(str), strict=True):
        ka, kb = order.get(a, len(order)), order.get(b, len(order))
        out.append((a, b) if (ka, a) <= (kb, b) else (b, a))
    return pd.Series(out, index=crises.index, dtype=object)


_OUTCOME_STYLE = {
    "deescalated": ("o", "none", OKABE_ITO["blue"], "crisis defused"),
    "incident": ("^", OKABE_ITO["vermillion"], OKABE_ITO["vermillion"], "militarized incident"),
    "war": ("X", "black", "black", "war"),
}


def plot_crises(
    crises: pd.DataFrame,
    world: pd.DataFrame,
    names: Mapping[str, str],
    *,
    time: TimeAxis | None = None,
    max_dyads: int = 15,
    title: str | None = None,
) -> Figure:
    """Crisis timeline: each crisis as a marker on its dyad's row (defused, incident, war),
    the busiest `max_dyads` dyads shown by name and the rest on one row; below, the
    cumulative number of crises and incidents."""
    time = time or TimeAxis()
    with style():
        n_rows = 1
        if not crises.empty:
            pairs = _unordered_pairs(crises, {sid: k for k, sid in enumerate(names)})
            n_rows = min(max_dyads, pairs.nunique()) + (pairs.nunique() > max_dyads)
        top_h = min(9.0, max(2.2, 0.38 * n_rows + 1.0))
        fig, (ax, ax2) = plt.subplots(
            2,
            1,
            figsize=(10, top_h + 3.0),
            sharex=True,
            layout="constrained",
            height_ratios=[top_h, 2.6],
        )
        if crises.empty:
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
            counts = pairs.value_counts()
            shown = list(counts.index[:max_dyads])
            rows = {p: k for k, p in enumerate(shown)}
            other_row = len(shown)
            row_of = np.array([rows.get(p, other_row) for p in pairs])
            x = time.x(crises["step"])
            for outcome, (marker, face, edge, label) in _OUTCOME_STYLE.items():
                sel = (crises["outcome"] == outcome).to_numpy()
                if sel.any():
                    ax.scatter(
                        x[sel],
                        row_of[sel],
                        marker=marker,
                        s=46,
                        facecolors=face,
                        edgecolors=edge,
                        linewidths=1.2,
                        label=label,
                        zorder=3,
                    )
            other = ~crises["outcome"].isin(list(_OUTCOME_STYLE)).to_numpy()
            if other.any():
                ax.scatter(
                    x[other], row_of[other], marker="s", s=30, c=GREY, label="other", zorder=3
                )
            labels = [f"{_name(names, a)} – {_name(names, b)} ({counts[(a, b)]})" for a, b in shown]
            if len(counts) > max_dyads:
                labels.append(
                    f"{len(counts) - max_dyads} other dyads ({int(counts.iloc[max_dyads:].sum())})"
                )
            ax.set_yticks(range(len(labels)))
            ax.set_yticklabels(labels, fontsize=8.5)
            ax.set_ylim(len(labels) - 0.5, -0.5)
            ax.grid(axis="y", visible=False)
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.set_title("Crises by dyad (number in brackets)", loc="left")
        if not world.empty:
            w = world.sort_values("step")
            xw = time.x(w["step"])
            ax2.step(
                xw,
                w["crises_total"],
                where="post",
                color=OKABE_ITO["blue"],
                lw=2,
                label="crises (all outcomes)",
            )
            ax2.step(
                xw,
                w["incidents_total"],
                where="post",
                color=OKABE_ITO["vermillion"],
                lw=2,
                ls="--",
                label="incidents and wars",
            )
            ax2.set_ylim(bottom=0)
            ax2.yaxis.get_major_locator().set_params(integer=True)
            ax2.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax2.set_title("Cumulative count", loc="left")
        ax2.set_ylabel("events since start")
        time.format(ax2)
        fig.suptitle(title or "Crises and militarized incidents")
    return fig


# ----------------------------------------------------------------------------------------------
# 6. Arms market
# ----------------------------------------------------------------------------------------------


def plot_market(
    states: pd.DataFrame,
    names: Mapping[str, str],
    *,
    top: int = 6,
    time: TimeAxis | None = None,
    title: str | None = None,
) -> Figure:
    """Arms-supplier market shares over time (share of recent exports, stacked): the `top`
    suppliers by average share, the rest grouped as 'others'."""
    time = time or TimeAxis()
    with style():
        fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
        shares = (
            states.pivot(index="step", columns="state", values="market_share").fillna(0.0)
            if not states.empty
            else pd.DataFrame()
        )
        if not shares.empty:
            shares = shares[shares.sum(axis=1) > 0]  # steps before any export have no shares
        if shares.empty or float(shares.to_numpy().sum()) <= 0:
            _note(ax, "no arms exports in this run")
            fig.suptitle(title or "Arms-supplier market shares")
            return fig
        mean = shares.mean().sort_values(ascending=False)
        suppliers = [s for s in mean.index if mean[s] > 0][:top]
        rest = [s for s in shares.columns if s not in suppliers]
        series = [shares[s].to_numpy() for s in suppliers]
        labels = [_name(names, s) for s in suppliers]
        colors = category_colors(len(suppliers))
        other = shares[rest].sum(axis=1).to_numpy() if rest else np.zeros(len(shares))
        if other.sum() > 0:
            series.append(other)
            labels.append(f"others ({len(rest)} states)")
            colors.append(GREY)
        x = time.x(shares.index)
        ax.stackplot(
            x, *series, labels=labels, colors=colors, alpha=0.9, edgecolor="white", linewidth=0.4
        )
        ax.set_ylim(0, 1.0)
        ax.margins(x=0)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_ylabel("share of recent arms exports\n(exponential memory, about 12 steps)")
        _reversed_legend(ax)
        time.format(ax)
        fig.suptitle(title or "Arms-supplier market shares")
    return fig


# ----------------------------------------------------------------------------------------------
# All figures of a run
# ----------------------------------------------------------------------------------------------


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


def draw_all(
    results: object, *, svg: bool = False, out_dir: Path, strict: bool = True
) -> tuple[list[Path], dict[str, str]]:
    """Draw every figure of `results` (a `Results` with `meta`) into `out_dir`.

    Returns the files written and, when `strict` is false, the figures that failed
    (name -> error message) instead of raising."""
    meta = getattr(results, "meta", {}) or {}
    ids = list(meta.get("states") or [])
    raw_names = meta.get("names") or {}
    names = (
        dict(zip(ids, raw_names, strict=False)) if isinstance(raw_names, list) else dict(raw_names)
    )
    time = TimeAxis.from_scenario(meta.get("start"), meta.get("time_unit"))
    locations = meta.get("locations") or None
    world, states = results.world, results.states
    last_step = int(world["step"].max()) if not world.empty else 0
    scenario = meta.get("scenario") or "run"
    makers = {
        "relations": lambda: plot_relations(
            world,
            states,
            time=time,
            title=f"{scenario}: trust, interoperability and escalation risk",
        ),
        "network": lambda: plot_network(
            network_snapshots(results),
            states,
            names,
            locations=locations,
            time=time,
            title=f"{scenario}: alignment network",
        ),
        "blocs": lambda: plot_blocs(
            states, names, time=time, title=f"{scenario}: bloc membership over time"
        ),
        "activities": lambda: plot_activities(
            results.activities,
            last_step,
            time=time,
            title=f"{scenario}: defense-diplomacy activity mix",
        ),
        "crises": lambda: plot_crises(
            results.crises,
            world,
            names,
            time=time,
            title=f"{scenario}: crises and militarized incidents",
        ),
        "market": lambda: plot_market(
            states, names, time=time, title=f"{scenario}: arms-supplier market shares"
        ),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    failed: dict[str, str] = {}
    for name, make in makers.items():
        try:
            fig = make()
        except Exception as exc:
            if strict:
                raise
            failed[name] = f"{type(exc).__name__}: {exc}"
            continue
        try:
            with style():
                for ext in ("png", "svg") if svg else ("png",):
                    path = out_dir / f"{name}.{ext}"
                    fig.savefig(path, dpi=150 if ext == "png" else None)
                    written.append(path)
        finally:
            plt.close(fig)
    return written, failed


def plot_run(run_dir: str | Path, svg: bool = False) -> list[Path]:
    """Redraw all figures of a saved run into `RUN_DIR/figures` from its tables; returns the files."""
    from sim.running.rundir import FIGURES_DIR, load_run

    run_dir = Path(run_dir)
    results = load_run(run_dir)
    written, _ = draw_all(results, svg=svg, out_dir=run_dir / FIGURES_DIR)
    return written


__all__ = [
    "FIGURES",
    "TimeAxis",
    "activity_counts",
    "bloc_style",
    "category_colors",
    "draw_all",
    "network_layout",
    "plot_activities",
    "plot_blocs",
    "plot_crises",
    "plot_market",
    "plot_network",
    "plot_relations",
    "plot_run",
    "style",
    "to_rgba",
]
