"""The network panel of `ddsim view`: an ECharts graph option built from a live model.

It draws what the network figure draws (`sim.reports.network`), for the model's current
step, with the figure's rules:

- positions from capitals by `sim.reports.layout.network_layout`: the schematic map (default)
  or the Equal Earth map (`PROJECTIONS`), a spring layout when capitals are unknown;
- nodes sized by capability and coloured by bloc, named after the bloc's most capable member
  (`ViewModel.palette`, i.e. `sim.reports.bloc_palette` and `bloc_cores`);
- edges at the figure's FIXED thresholds, by its own test (`sim.reports.network.edge_flags`):
  close partners across blocs dark, close partners within a bloc in its colour, partners
  faint grey, escalation risk dashed vermillion; a ✕ on a dyad at war by a scripted
  `war_shock` (an input of the scenario, not a model outcome);
- above `AGGREGATE_ABOVE` states (the world scenario), one node per bloc at the
  capability-weighted centre of its members, over their faded dots, with lines counting the
  close-partner and high-risk pairs across two blocs ('blocs' mode, the figure's default);
  'states' mode instead draws every state, labelling and connecting the `AGGREGATE_ABOVE`
  most capable only.

Hovering a state shows its details (bloc, hedging, top partners, main supplier); clicking it
selects it. Where the view differs from the figure (no graticule on the map; all ties of the
most capable states only in 'states' mode) docs/view.md says why.

Why ECharts and not a matplotlib image: a picture cannot answer a hover or a click, and
Mesa's space components need a Mesa grid or space, which this model does not have. ECharts
ships with Solara (`solara.FigureEcharts`) and is served from the `solara-assets` package, so
the page works without internet; the browser draws it, so a frame costs the server ~1 ms.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.reports.blocs import ALONE_LABEL, OTHER_LABEL, BlocPalette
from sim.reports.layout import layout_kind, network_layout, spread
from sim.reports.network import (
    AGGREGATE_ABOVE,
    CLOSE_INTEROPERABILITY,
    CLOSE_TRUST,
    RISK_EDGE,
    TIE_INTEROPERABILITY,
    TIE_TRUST,
    edge_flags,
)
from sim.reports.style import PNG_DPI, RISK_COLOR, TIE_COLOR

if TYPE_CHECKING:  # pragma: no cover
    from sim.view.model import ViewModel

PROJECTIONS = ("schematic", "map")  # of `network_layout`; 'spring' is the fallback only
MODES = ("blocs", "states")  # above AGGREGATE_ABOVE states
CAPTION = "_caption"  # key of the edge legend in an option (removed before it is drawn)
PARTNER_COLOR = "#9A9A9A"  # the figure's faint partner lines
WAR_MARK = "✕"
WAR_SYMBOL = "path://M2,0L5,3L8,0L10,2L7,5L10,8L8,10L5,7L2,10L0,8L3,5L0,2Z"  # an ✕
LAYOUT_TEXT = {
    "schematic": "capitals, schematic map",
    "map": "capitals, Equal Earth projection",
    "spring": "spring layout of the ties (capitals unknown)",
}
PX_PER_PT = PNG_DPI / 72  # line widths of the figures (points at PNG_DPI) in screen pixels


def layout_for(model: ViewModel, projection: str = "schematic") -> tuple[np.ndarray, str]:
    """(node positions n x 2 in the unit box, x east and y north; the projection used) from
    the capitals, computed once per model and projection."""
    cache = model.__dict__.setdefault("_view_layouts", {})
    if projection not in cache:
        locations = {s.id: s.location for s in model.world.states}
        kind = layout_kind(model.ids, locations, projection)
        pos = network_layout(model.ids, locations, model.dyads(), projection=kind)
        xy = np.array([pos[s] for s in model.ids], dtype=float).reshape(model.n, 2)
        cache[projection] = (xy, kind)
    return cache[projection]


def _coord(value: float) -> float:
    """A layout coordinate in ECharts' units. ECharts rounds line ends to half units before
    scaling the view (its sub-pixel line optimisation), so coordinates in [0, 1] draw some
    ties crooked: scale them to [0, 1000]."""
    return round(1000.0 * float(value), 1)


def _px(points: float) -> float:
    return round(PX_PER_PT * float(points), 2)


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def state_tooltip(d: dict) -> str:
    """HTML of a state's hover box (names escaped); the details panel shows the same on hover."""
    lines = [
        f"<b>{html.escape(d['name'])}</b> ({html.escape(d['id'])})",
        f"bloc: {html.escape(d['bloc_name'])}",
        f"hedging: {_fmt(d['hedging'])} (0 = firmly in its bloc)",
        f"capability: {d['capability']:.3f}",
    ]
    if d["partners"]:
        partners = ", ".join(f"{html.escape(p)} {_fmt(t)}" for p, t in d["partners"])
        lines.append(f"top partners (mutual trust): {partners}")
    if d["supplier"]:
        name, share = d["supplier"]
        lines.append(f"main arms supplier: {html.escape(name)} ({share:.0%} of import stock)")
    else:
        lines.append("main arms supplier: none in this scenario")
    if d["riskiest"]:
        name, risk = d["riskiest"]
        lines.append(f"highest escalation risk: with {html.escape(name)} ({_fmt(risk)})")
    return "<br/>".join(lines)


def _node_size(
    capability: float, reference: float, base: float = 3.0, scale: float = 11.0
) -> float:
    """Marker diameter in pixels (even) for the figure's radius in points, base + scale *
    sqrt(capability / reference) (states 3 + 11, bloc nodes 6 + 14, faded states 1.5 + 3.5)."""
    radius = base + scale * math.sqrt(max(capability, 0.0) / max(reference, 1e-9))
    return float(2 * round(PX_PER_PT * radius))


def _categories(palette: BlocPalette, cores: list[str]) -> tuple[list[dict], dict[str, int]]:
    """ECharts categories in the order of the figure's legend (`BlocPalette.legend`: blocs
    by rank, then 'other blocs (k)' for cores beyond the palette, then 'no bloc (alone)'),
    and the category of each core."""
    rows = palette.legend(cores)
    names = [label for label, _ in rows]
    other = next((k for k, name in enumerate(names) if name.startswith(OTHER_LABEL)), -1)
    index = {
        core: other if core and core not in palette.colors else names.index(palette.label(core))
        for core in set(cores)
    }
    categories = [{"name": label, "itemStyle": {"color": color}} for label, color in rows]
    return categories, index


def _wars(model: ViewModel) -> list[tuple[int, int]]:
    """Dyads (index pairs) at war by a scripted `war_shock` applied by now."""
    pairs = [e.states[:2] for e in model.inputs.of_type("war_shock") if e.step <= model.steps]
    return [(model.index[a], model.index[b]) for a, b in dict.fromkeys(map(tuple, pairs))]


def war_nodes(
    model: ViewModel, pos: np.ndarray, wars: list[tuple[int, int]]
) -> list[dict[str, Any]]:
    """The figure's war mark: a black ✕ at the middle of each dyad at war by a scripted
    `war_shock`. Drawn as nodes with ids 'war:A:B' after the others: a label on the edge,
    the obvious way, did not show in the ECharts of solara-assets (checked in Chromium)."""
    out = []
    for i, j in wars:
        x, y = (pos[i] + pos[j]) / 2
        a, b = (html.escape(model.world.labels[k]) for k in (i, j))
        out.append(
            {
                "id": f"war:{model.ids[i]}:{model.ids[j]}",
                "name": f"war {a}–{b}",
                "x": _coord(x),
                "y": _coord(-y),
                "symbol": WAR_SYMBOL,
                "symbolSize": 14,
                "itemStyle": {"color": "#000000", "borderColor": "#FFFFFF", "borderWidth": 1},
                "label": {"show": False},
                "tooltip": {"formatter": f"{a} – {b}: war scripted by the scenario (an input)"},
            }
        )
    return out


def _link(
    source: int,
    target: int,
    tip: str,
    *,
    color: str,
    width: float,
    opacity: float,
    dashed: bool = False,
    curve: float = 0.0,
) -> dict[str, Any]:
    return {
        "source": source,
        "target": target,
        "lineStyle": {
            "color": color,
            "width": width,
            "opacity": opacity,
            "type": [5, 3] if dashed else "solid",
            "curveness": curve,
        },
        "tooltip": {"formatter": tip},
    }


def _thresholds_text() -> tuple[str, str]:
    close = f"trust ≥ {CLOSE_TRUST:.2f}, interop. ≥ {CLOSE_INTEROPERABILITY:.2f}"
    tie = f"trust ≥ {TIE_TRUST:.2f}, interop. ≥ {TIE_INTEROPERABILITY:.2f}"
    return close, tie


def network_option(
    model: ViewModel,
    *,
    selected: str | None = None,
    mode: str = "blocs",
    projection: str = "schematic",
) -> dict[str, Any]:
    """The ECharts option of the network panel for the model's current step (`mode` counts
    only above `AGGREGATE_ABOVE` states)."""
    n = model.n
    details = model.state_details()
    pos, kind = layout_for(model, projection)
    reference = float(max(np.max(model.capability, initial=0.0), 1e-9))
    palette, cores = model.palette(), model.cores()
    wars = _wars(model)
    if mode == "blocs" and n > AGGREGATE_ABOVE:
        return _bloc_option(model, details, pos, kind, palette, cores, reference, wars)
    dyads = model.dyads()
    tie, close, risky = edge_flags(dyads)
    a, b = np.nonzero(model.upper_mask)  # the dyads' rows, in the same order
    note = ""
    if n > AGGREGATE_ABOVE:
        top = np.argsort(-model.capability, kind="stable")[:AGGREGATE_ABOVE]
        keep = np.zeros(n, dtype=bool)
        keep[top] = True
        among = keep[a] & keep[b]
        tie, close, risky = tie & among, close & among, risky & among
        note = f"edges and labels: the {AGGREGATE_ABOVE} most capable of {n} states"
    else:
        keep = np.ones(n, dtype=bool)
    categories, category_of = _categories(palette, [str(c) for c in cores])
    nodes = []
    for i, d in enumerate(details):
        chosen = d["id"] == selected
        nodes.append(
            {
                "id": d["id"],
                "name": d["name"],
                "x": _coord(pos[i, 0]),
                "y": _coord(-pos[i, 1]),  # ECharts' y grows downwards; north is up
                "symbolSize": _node_size(d["capability"], reference),
                "category": category_of[d["core"]],
                "itemStyle": {
                    "color": d["color"],
                    "borderColor": "#000000" if chosen else "#222222",
                    "borderWidth": 3 if chosen else 1,
                    "opacity": 1.0 if keep[i] else 0.35,
                },
                "label": {"show": bool(keep[i])},
                "tooltip": {"formatter": state_tooltip(d)},
            }
        )
    labels = [html.escape(x) for x in model.world.labels]
    mutual = 0.5 * (dyads["trust_ab"].to_numpy() + dyads["trust_ba"].to_numpy())
    interop = dyads["interoperability"].to_numpy()
    risk = dyads["risk"].to_numpy()
    within = close & (cores[a] == cores[b]) & (cores[a] != "")
    partners = tie & ~close

    # Drawn in the figure's order (faint partners, ties within, ties across, risk), each in
    # a fixed order by dyad: an unchanged picture gives an equal option, not sent again.
    def tie(k: int, what: str, color: str, width: float, opacity: float) -> dict[str, Any]:
        i, j = int(a[k]), int(b[k])
        tip = (
            f"{labels[i]} – {labels[j]}: {what}, mutual trust {_fmt(mutual[k])}, "
            f"interoperability {_fmt(interop[k])}"
        )
        return _link(i, j, tip, color=color, width=_px(width), opacity=opacity)

    links = [
        tie(k, "partners", PARTNER_COLOR, 0.45, 0.35) for k in np.flatnonzero(partners).tolist()
    ]
    for k in np.flatnonzero(within).tolist():
        color = details[a[k]]["color"]
        links.append(tie(k, "close partners within a bloc", color, 0.3 + interop[k], 0.4))
    for k in np.flatnonzero(close & ~within).tolist():
        links.append(tie(k, "close partners across blocs", TIE_COLOR, 0.4 + 2.2 * interop[k], 0.75))
    for k in np.flatnonzero(risky).tolist():
        i, j = int(a[k]), int(b[k])
        tip = f"{labels[i]} – {labels[j]}: escalation risk {_fmt(risk[k])}"
        width = _px(0.7 + 3.0 * risk[k])
        links.append(_link(i, j, tip, color=RISK_COLOR, width=width, opacity=0.9, dashed=True))
    nodes += war_nodes(model, pos, wars)
    close_text, tie_text = _thresholds_text()
    counts = (
        f"{int(np.count_nonzero(close & ~within))} across blocs, "
        f"{int(np.count_nonzero(within))} within, {int(np.count_nonzero(partners))} partners, "
        f"{int(np.count_nonzero(risky))} risky"
    )
    caption = (
        f"close partners ({close_text}): dark across blocs, in the bloc's colour within · "
        f"faint grey: partners ({tie_text}) · dashed red: escalation risk ≥ {RISK_EDGE:.2f} "
        f"(width: risk) · {WAR_MARK}: war scripted by the scenario (input) · size: capability "
        f"· positions: {LAYOUT_TEXT[kind]} · now: {counts}"
    )
    if note:
        caption += f" · {note}"
    option = _frame(categories, caption)
    option["series"] = [
        {**_series_base(n), "categories": categories, "data": nodes, "links": links}
    ]
    return option


def _frame(categories: list[dict], caption: str) -> dict[str, Any]:
    """Option parts shared by both modes; `caption` (the edge legend) is not sent to ECharts
    but shown as text under the chart."""
    return {
        "animation": False,
        "tooltip": {"trigger": "item", "confine": True, "enterable": False},
        "legend": [
            {
                "data": [c["name"] for c in categories],
                "top": 4,
                "type": "scroll",
                "textStyle": {"fontSize": 12},
            }
        ],
        CAPTION: caption,
    }


def _series_base(n: int) -> dict[str, Any]:
    return {
        "type": "graph",
        "layout": "none",
        "roam": True,
        # No box (left/right/top/bottom): ECharts then fits the positions into 80% of the
        # chart keeping their aspect ratio, so the map is not stretched and circles stay round.
        "left": "center",
        "top": "center",
        "label": {
            "show": True,
            "position": "top",
            "fontSize": 11 if n <= 30 else 9,
            "backgroundColor": "rgba(255,255,255,0.6)",
        },
        "labelLayout": {"hideOverlap": True},
        "emphasis": {"focus": "adjacency", "lineStyle": {"opacity": 1.0}},
        "lineStyle": {"curveness": 0.0},
    }


def _bloc_option(
    model: ViewModel,
    details: list[dict],
    pos: np.ndarray,
    kind: str,
    palette: BlocPalette,
    cores: np.ndarray,
    reference: float,
    wars: list[tuple[int, int]],
) -> dict[str, Any]:
    """One node per bloc (two or more members) at the capability-weighted centre of its
    members, kept apart as in the figure (`spread`), sized by total capability, members
    listed on hover, over the states as faded dots (hover them for their details); lines
    count the dyads across two blocs that are close partners or at high risk."""
    n = model.n
    cap = model.capability
    core_ids = [c for c in dict.fromkeys(cores.tolist()) if c]
    groups = []
    for core in core_ids:
        members = np.flatnonzero(cores == core)
        w = cap[members] + 1e-9
        centre = (pos[members] * w[:, None]).sum(axis=0) / w.sum()
        order = members[np.argsort(-cap[members], kind="stable")]
        groups.append((core, centre, float(cap[members].sum()), order))
    groups.sort(key=lambda g: -g[2])
    centres = np.array([g[1] for g in groups]).reshape(len(groups), 2)
    if len(groups) > 1:  # keep bloc nodes apart, in the panel's coordinates
        lo, span = centres.min(axis=0), float(np.ptp(centres, axis=0).max()) or 1.0
        centres = spread(centres, min_frac=0.22) * span + lo
    categories, category_of = _categories(palette, [str(c) for c in cores])
    nodes = []
    for i, d in enumerate(details):  # the states, faded, unlabelled
        nodes.append(
            {
                "id": d["id"],
                "name": d["name"],
                "x": _coord(pos[i, 0]),
                "y": _coord(-pos[i, 1]),
                "symbolSize": _node_size(d["capability"], reference, 1.5, 3.5),
                "category": category_of[d["core"]],
                "itemStyle": {"color": d["color"], "opacity": 0.45, "borderWidth": 0},
                "label": {"show": False},
                "tooltip": {"formatter": state_tooltip(d)},
            }
        )
    bloc_cap = np.array([g[2] for g in groups])
    node_of: dict[str, int] = {}
    for k, (core, _, total, members) in enumerate(groups):
        label = palette.label(core)
        listed = ", ".join(html.escape(details[m]["name"]) for m in members[:12].tolist())
        more = f" and {len(members) - 12} more" if len(members) > 12 else ""
        node_of[core] = len(nodes)
        nodes.append(
            {
                "id": f"bloc:{core}",
                "name": label,
                "x": _coord(centres[k, 0]),
                "y": _coord(-centres[k, 1]),
                "symbolSize": _node_size(total, float(bloc_cap.max()), 6.0, 14.0),
                "category": category_of[core],
                "itemStyle": {
                    "color": palette.color(core),
                    "borderColor": "#222222",
                    "borderWidth": 1,
                },
                "label": {
                    "show": True,
                    "formatter": f"{label}\n{len(members)} states",
                    "lineHeight": 13,  # two lines (the default draws them on top of each other)
                },
                "tooltip": {
                    "formatter": f"<b>{html.escape(label)}</b>: {len(members)} states, "
                    f"total capability {total:.2f}<br/>members: {listed}{more}"
                },
            }
        )
    dyads = model.dyads()
    _, close, risky = edge_flags(dyads)
    a, b = np.nonzero(model.upper_mask)
    ca, cb = cores[a], cores[b]
    across = (ca != cb) & (ca != "") & (cb != "")
    links = []
    for flags, color, opacity, dashed, curve, what in (
        (close & across, TIE_COLOR, 0.7, False, 0.0, "close partners"),
        (risky & across, RISK_COLOR, 0.9, True, 0.15, "pairs at escalation risk"),
    ):
        pairs = Counter(
            (min(p, q), max(p, q))
            for p, q in zip(ca[flags].tolist(), cb[flags].tolist(), strict=True)
        )
        for (p, q), count in sorted(pairs.items()):
            names = f"{html.escape(palette.label(p))} – {html.escape(palette.label(q))}"
            tip = f"{names}: {count} {what}"
            width = _px(0.6 + 1.1 * math.log1p(count))
            style = {"color": color, "opacity": opacity, "dashed": dashed, "curve": curve}
            links.append(_link(node_of[p], node_of[q], tip, width=width, **style))
    nodes += war_nodes(model, pos, wars)
    alone = int(np.count_nonzero(cores == ""))
    close_text, _ = _thresholds_text()
    caption = (
        f"one node per bloc (size: total capability) over its member states (faded dots: hover "
        f"them) · solid: close partners across blocs ({close_text}) · dashed red: pairs with "
        f"escalation risk ≥ {RISK_EDGE:.2f} across blocs · width: number of such pairs · "
        f"{WAR_MARK}: war scripted by the scenario (input) · positions: {LAYOUT_TEXT[kind]}"
        + (f" · {alone} states alone in no bloc ({ALONE_LABEL}, grey)" if alone else "")
    )
    option = _frame(categories, caption)
    option["series"] = [
        {**_series_base(n), "categories": categories, "data": nodes, "links": links}
    ]
    return option
