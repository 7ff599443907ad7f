"""The network panel of `ddsim view`: an ECharts graph option built from a live model.

States sit at schematic map positions from their capitals (`sim.reports.layout.network_layout`,
as in the network figure), coloured by bloc with the figures' names and colours
(`ViewModel.palette`), sized by capability. Edges show mutual trust and escalation risk at
or above FIXED thresholds, the same in every run and at every step. Hovering a state shows its
details (bloc, hedging, top partners, main supplier); clicking it selects it.

Which edges: every dyad with escalation risk >= `RISK_EDGE` (dashed vermillion, at most
`MAX_RISK_EDGES`); of the dyads with mutual trust >= `TRUST_EDGE`, those among the
`TIES_PER_STATE` strongest of either state (solid; most NATO dyads pass the threshold, and
drawing them all is a hairball). The caption under the chart says how many of each are shown.

Why ECharts and not a matplotlib image: a picture cannot answer a hover or a click, and
Mesa's space components need a Mesa grid or space, which this model does not have. ECharts
ships with Solara (`solara.FigureEcharts`) and is served from the `solara-assets` package, so
the page works without internet; the browser draws it, so a frame costs the server ~1 ms.

Large worlds (more than `MAX_STATES_DRAWN` states) are filtered or aggregated, as the figures
issue asks: 'states' mode draws every state but labels and connects only the most capable
ones; 'blocs' mode draws one node per bloc with its members listed.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.reports.layout import network_layout
from sim.reports.style import RISK_COLOR, TIE_COLOR

if TYPE_CHECKING:  # pragma: no cover
    from sim.view.model import ViewModel

TRUST_EDGE = 0.6  # draw a tie where mutual trust >= this (the network figure's floor)
RISK_EDGE = 0.2  # draw a risk edge where escalation risk >= this (the network figure's floor)
MAX_STATES_DRAWN = 40  # above this, only the most capable states are labelled and connected
TIES_PER_STATE = 2  # of the ties at or above TRUST_EDGE, each state's strongest ones are drawn
MAX_RISK_EDGES = 80  # at most this many risk edges drawn (the riskiest)
MODES = ("states", "blocs")
CAPTION = "_caption"  # key of the edge legend in an option (removed before it is drawn)


def layout_for(model: ViewModel) -> np.ndarray:
    """Node positions (n x 2, x east, y north, in [0, 1]) from the capitals, computed once per
    model (the spreading step is O(n^2) per round)."""
    cached = getattr(model, "_view_layout", None)
    if cached is None:
        locations = {s.id: s.location for s in model.world.states}
        pos = network_layout(model.ids, locations)
        cached = np.array([pos[s] for s in model.ids], dtype=float).reshape(model.n, 2)
        model._view_layout = cached
    return cached


def _coord(value: float) -> float:
    """A layout coordinate in ECharts' units. ECharts rounds line ends to half units before
    scaling the view (its sub-pixel line optimisation), so coordinates in [0, 1] draw some
    ties crooked: scale them to [0, 1000]."""
    return round(1000.0 * float(value), 1)


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


def _node_size(capability: float, reference: float) -> float:
    """Marker diameter, in steps of 2 pixels."""
    size = min(64.0, 10.0 + 42.0 * math.sqrt(max(capability, 0.0) / reference))
    return float(2 * round(size / 2))


def _subtitle(shown_ties: int, ties: int, shown_risks: int, risks: int, note: str) -> str:
    tie_text = (
        f"{shown_ties} ties"
        if shown_ties == ties
        else f"each state's {TIES_PER_STATE} strongest: {shown_ties} of {ties} such ties"
    )
    risk_text = (
        f"{shown_risks} risk edges"
        if shown_risks == risks
        else f"{shown_risks} of {risks} risk edges"
    )
    text = (
        f"solid: mutual trust ≥ {TRUST_EDGE:.2f} (width: interoperability), {tie_text} · "
        f"dashed red: escalation risk ≥ {RISK_EDGE:.2f} (width: risk), {risk_text} · "
        "size: capability · positions: capitals"
    )
    return f"{text} · {note}" if note else text


def backbone(values: np.ndarray, mask: np.ndarray, per_state: int) -> np.ndarray:
    """Flat indices (upper triangle) of the dyads under `mask` that are among the `per_state`
    strongest of either of their two states, strongest first. With a fixed threshold in
    `mask`, this keeps every state's closest ties visible when most dyads pass it (as NATO
    members' do) instead of a hairball."""
    n = values.shape[0]
    keep = np.zeros((n, n), dtype=bool)
    if n > 1 and per_state > 0:
        masked = np.where(mask, values, -np.inf)
        k = min(per_state, n - 1)
        top = np.argpartition(-masked, k - 1, axis=1)[:, :k]
        rows = np.repeat(np.arange(n), k)
        cols = top.ravel()
        valid = np.isfinite(masked[rows, cols])
        keep[rows[valid], cols[valid]] = True
        keep |= keep.T
    return _strongest(values, keep & mask, n * n)


def _strongest(values: np.ndarray, mask: np.ndarray, limit: int) -> np.ndarray:
    """Flat indices (upper triangle) of entries under `mask`, strongest first, at most `limit`."""
    idx = np.flatnonzero(np.triu(mask, k=1))
    order = np.argsort(-values.flat[idx], kind="stable")
    return idx[order[:limit]]


def network_option(
    model: ViewModel, *, selected: str | None = None, mode: str = "states"
) -> dict[str, Any]:
    """The ECharts option of the network panel for the model's current step."""
    n = model.n
    details = model.state_details()
    pos = layout_for(model)
    reference = float(max(np.max([s.capability for s in model.world.states], initial=0.0), 1e-9))
    if mode == "blocs" and n > MAX_STATES_DRAWN:
        return _bloc_option(model, details, pos, reference)
    mutual = model.mutual_trust()
    trusting = mutual >= TRUST_EDGE
    risky = model.risk >= RISK_EDGE
    note = ""
    if n > MAX_STATES_DRAWN:
        top = np.argsort(-model.capability, kind="stable")[:MAX_STATES_DRAWN]
        keep = np.zeros(n, dtype=bool)
        keep[top] = True
        among = keep[:, None] & keep[None, :]
        note = f"edges and labels: the {MAX_STATES_DRAWN} most capable of {n} states"
    else:
        keep = np.ones(n, dtype=bool)
        among = np.ones((n, n), dtype=bool)
    # In a fixed order (by dyad): an unchanged picture gives an equal option, not re-sent.
    ties = np.sort(backbone(mutual, trusting & among, TIES_PER_STATE))
    risks = np.sort(_strongest(model.risk, risky & among, MAX_RISK_EDGES))
    n_ties = int(np.count_nonzero(np.triu(trusting & among, k=1)))
    n_risks = int(np.count_nonzero(np.triu(risky & among, k=1)))

    categories: list[dict] = []
    category_of: dict[str, int] = {}
    nodes = []
    for i, d in enumerate(details):
        legend = d["bloc_name"]
        if legend not in category_of:
            category_of[legend] = len(categories)
            categories.append({"name": legend, "itemStyle": {"color": d["color"]}})
        faded = not keep[i]
        node = {
            "id": d["id"],
            "name": d["name"],
            "x": _coord(pos[i, 0]),
            "y": _coord(-pos[i, 1]),  # ECharts' y grows downwards; north is up
            "symbolSize": _node_size(d["capability"], reference),
            "category": category_of[legend],
            "itemStyle": {
                "color": d["color"],
                "borderColor": "#000000" if d["id"] == selected else "#222222",
                "borderWidth": 3 if d["id"] == selected else 0.8,
                "opacity": 0.35 if faded else 1.0,
            },
            "label": {"show": not faded},
            "tooltip": {"formatter": state_tooltip(d)},
        }
        nodes.append(node)
    labels = [html.escape(x) for x in model.world.labels]
    links = []
    for flat in ties.tolist():
        i, j = divmod(flat, n)
        interop = float(model.interoperability[i, j])
        tip = f"{labels[i]} – {labels[j]}: mutual trust {_fmt(mutual[i, j])}, interoperability {_fmt(interop)}"
        links.append(_link(i, j, tip, risk=False, width=0.8 + 5.0 * interop))
    for flat in risks.tolist():
        i, j = divmod(flat, n)
        risk = float(model.risk[i, j])
        tip = f"{labels[i]} – {labels[j]}: escalation risk {_fmt(risk)}"
        links.append(_link(i, j, tip, risk=True, width=1.0 + 5.0 * risk))
    option = _frame(categories, _subtitle(len(ties), n_ties, len(risks), n_risks, note))
    option["series"] = [
        {
            **_series_base(n),
            "categories": categories,
            "data": nodes,
            "links": links,
        }
    ]
    return option


def _link(
    source: int, target: int, tip: str, *, risk: bool, width: float, curve: float = 0.0
) -> dict[str, Any]:
    """An ECharts edge: a solid tie, or a dashed vermillion risk edge (as in the figures)."""
    return {
        "source": source,
        "target": target,
        "lineStyle": {
            "color": RISK_COLOR if risk else TIE_COLOR,
            "width": round(width, 2),
            "opacity": 0.9 if risk else 0.55,
            "type": "dashed" if risk else "solid",
            "curveness": curve,
        },
        "tooltip": {"formatter": tip},
    }


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
        "top": 56,
        "bottom": 24,
        "left": 90,
        "right": 90,
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
    model: ViewModel, details: list[dict], pos: np.ndarray, reference: float
) -> dict[str, Any]:
    """One node per bloc (two or more members): capability-weighted position of its members,
    size by total capability, members listed on hover; edges count the dyads across two
    blocs that pass the fixed thresholds."""
    sizes = model.bloc_sizes()
    mutual = model.mutual_trust()
    blocs = sorted({int(b) for b, s in zip(model.bloc, sizes, strict=True) if s >= 2})
    alone = int(np.count_nonzero(sizes < 2))
    categories, nodes, members_of = [], [], {}
    for k, bloc in enumerate(blocs):
        members = np.flatnonzero(model.bloc == bloc)
        members_of[bloc] = members
        caps = model.capability[members]
        weight = caps / caps.sum() if caps.sum() > 0 else np.full(len(members), 1 / len(members))
        x, y = (pos[members] * weight[:, None]).sum(axis=0)
        first = details[members[0]]
        order = members[np.argsort(-caps, kind="stable")]
        listed = ", ".join(html.escape(details[m]["name"]) for m in order[:12].tolist())
        more = f" and {len(members) - 12} more" if len(members) > 12 else ""
        within = mutual[np.ix_(members, members)]
        mean_within = float(
            (within.sum() - np.trace(within)) / max(len(members) * (len(members) - 1), 1)
        )
        categories.append({"name": first["bloc_name"], "itemStyle": {"color": first["color"]}})
        nodes.append(
            {
                "id": f"bloc:{bloc}",
                "name": first["bloc_name"],
                "x": _coord(x),
                "y": _coord(-y),
                "symbolSize": _node_size(float(caps.sum()), reference),
                "category": k,
                "itemStyle": {
                    "color": first["color"],
                    "borderColor": "#222222",
                    "borderWidth": 0.8,
                },
                "tooltip": {
                    "formatter": f"<b>{html.escape(first['bloc_name'])}</b>: {len(members)} states, "
                    f"total capability {caps.sum():.2f}, mean trust within {_fmt(mean_within)}"
                    f"<br/>members: {listed}{more}"
                },
            }
        )
    links = []
    for a in range(len(blocs)):
        for b in range(a + 1, len(blocs)):
            block = np.ix_(members_of[blocs[a]], members_of[blocs[b]])
            ties = int(np.count_nonzero(mutual[block] >= TRUST_EDGE))
            risky = int(np.count_nonzero(model.risk[block] >= RISK_EDGE))
            tip = (
                f"{html.escape(nodes[a]['name'])} – {html.escape(nodes[b]['name'])}: {ties} dyads "
                f"with mutual trust ≥ {TRUST_EDGE:.2f}, {risky} with risk ≥ {RISK_EDGE:.2f}"
            )
            if ties:
                links.append(_link(a, b, tip, risk=False, width=1 + 2 * math.log1p(ties)))
            if risky:
                links.append(
                    _link(a, b, tip, risk=True, width=1 + 2 * math.log1p(risky), curve=0.15)
                )
    note = (
        f"one node per bloc; {alone} states alone in no bloc not shown"
        if alone
        else "one node per bloc"
    )
    subtitle = (
        f"solid: dyads across two blocs with mutual trust ≥ {TRUST_EDGE:.2f} · dashed red: "
        f"dyads with escalation risk ≥ {RISK_EDGE:.2f} (width: log of the count) · "
        f"size: total capability · {note}"
    )
    option = _frame(categories, subtitle)
    option["series"] = [
        {**_series_base(len(nodes)), "categories": categories, "data": nodes, "links": links}
    ]
    return option
