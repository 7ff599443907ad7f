"""The `ddsim view` page: Mesa's SolaraViz around ddsim's own panels.

What comes from Mesa (`mesa.visualization.SolaraViz`): the app bar, the Controls card (Step,
Play/Pause, Reset, play interval, and 'Render Interval (steps)', which is the steps per frame),
the Model Parameters card (scenario picker and seed, applied on Reset, as Mesa does for every
model parameter) and the Information card.

What is ddsim's own, because Mesa's components do not fit a model without a Mesa space and
with its own recorder: the live levers card in the sidebar (sliders act on the running model
at once), and the dashboard (status, network, state details, event log, live plots, table of
states). The dashboard reads Mesa's `update_counter` and hands its value to each panel as
`frame`: a new frame number re-renders the panels, once per frame.

Each browser tab gets its own model. `sim.view.server` sets the scenario to open through the
environment (`DDSIM_VIEW_SCENARIO`, `DDSIM_VIEW_RENDER_INTERVAL`).
"""

from __future__ import annotations

import html
import os
import threading

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from sim.core.params import LEVERS
from sim.reports.network import AGGREGATE_ABOVE
from sim.view.charts import live_plots
from sim.view.model import (
    LEVER_LABELS,
    VIEW_PARAMETERS,
    LiveControls,
    LogEntry,
    ViewModel,
    describe_source,
    scenario_choices,
)
from sim.view.network import CAPTION, MODES, PROJECTIONS, network_option

SCENARIO_ENV = "DDSIM_VIEW_SCENARIO"
RENDER_INTERVAL_ENV = "DDSIM_VIEW_RENDER_INTERVAL"
TABLE_ROWS = 40  # states listed in the table (the most capable first)
LOG_ROWS = 40  # event-log entries shown per frame
# Mesa's pause between frames while playing. The frame gate already holds each step until the
# last frame is drawn, so no pause is needed to let the page keep up (Mesa's default: 100 ms).
PLAY_INTERVAL_MS = 1

# Per browser tab (Solara keeps module-level reactive variables per session).
selected_state = solara.reactive(None)  # clicked (kept)
hovered_state = solara.reactive(None)  # under the mouse (shown while there)
network_mode = solara.reactive(MODES[0])  # blocs as nodes above AGGREGATE_ABOVE, as the figure
network_projection = solara.reactive(PROJECTIONS[0])

CSS = """
.ddsim-status { font-size: 15px; margin: 4px 8px; }
.ddsim-notice { color: #B00020; }
.ddsim-log { font-size: 13px; max-height: 330px; overflow-y: auto; }
.ddsim-log .scripted { background: #EDE7F6; border-radius: 3px; padding: 0 4px; font-size: 11px; }
.ddsim-log .kind { font-weight: bold; }
.ddsim-table { border-collapse: collapse; font-size: 13px; width: 100%; }
.ddsim-table th, .ddsim-table td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #eee; }
.ddsim-chip { display: inline-block; width: 11px; height: 11px; border-radius: 50%;
              border: 1px solid #222; margin-right: 4px; vertical-align: middle; }
.ddsim-plots img { width: 100%; max-width: 1100px; }
.ddsim-caption { font-size: 12px; color: #555; }
"""


def default_scenario() -> str:
    """The scenario the server was started with (bundled name or path)."""
    return os.environ.get(SCENARIO_ENV, "indo_pacific")


def default_render_interval() -> int:
    """Steps per frame at start, as `ddsim view` was told (1 when the page is served otherwise)."""
    try:
        return max(1, int(os.environ.get(RENDER_INTERVAL_ENV, "1")))
    except ValueError:
        return 1


class FrameGate:
    """Holds Mesa's Play loop until the previous frame is drawn.

    Mesa's Play thread steps the model and bumps `update_counter`; Solara renders the frame
    in whichever thread holds its render lock, and a thread that holds it keeps rendering
    while new requests arrive. When the thread that handled the Play click holds it, that
    thread is also the one that sends to the browser: with the model stepping faster than a
    frame renders, it renders for the whole run and the browser sees nothing until the end
    (measured: the step counter stood at 0, then jumped to 240). So each step first waits
    until the frame last asked for (`update_counter`'s value) has been drawn, i.e. its
    effects ran, after its widgets were updated; at most `timeout` seconds, so a closed page
    never stalls the model.
    """

    def __init__(self, timeout: float = 2.0) -> None:
        self._condition = threading.Condition()
        self._drawn = -1
        self.timeout = timeout

    def drawn(self, counter: int) -> None:
        """The frame of this `update_counter` value was drawn."""
        with self._condition:
            self._drawn = max(self._drawn, counter)
            self._condition.notify_all()

    def wait(self) -> bool:
        """Block until the frame last asked for is drawn (False: timed out)."""
        wanted = update_counter.peek()
        with self._condition:
            return self._condition.wait_for(lambda: self._drawn >= wanted, self.timeout)


_prepared: dict[str, ViewModel] = {}
_preparing = threading.Event()
_prepared_done = threading.Event()


def prepare(scenario: str) -> None:
    """Build the first tab's model and draw its first frame, while the browser is still
    loading the page's scripts (called by `sim.view.server` once it listens): the model,
    its plots (a full matplotlib draw) and its network then cost the first page nothing."""
    _preparing.set()
    try:
        model = ViewModel(scenario)
        live_plots(model).png()
        network_option(model)
        _prepared[scenario] = model
    finally:
        _prepared_done.set()


def first_model(scenario: str, controls: LiveControls, gate: FrameGate) -> ViewModel:
    """The prepared model for the first tab (waiting for it if it is being built), else a
    new one."""
    if _preparing.is_set():
        _prepared_done.wait(30)
    model = _prepared.pop(scenario, None)
    if model is None:
        return ViewModel(scenario, controls=controls, pace=gate.wait)
    model.controls, model.pace = controls, gate.wait  # no slider was moved yet: nothing to apply
    return model


def model_params(scenario: str, controls: LiveControls, gate: FrameGate) -> dict:
    """Mesa `model_params`: the scenario picker and the seed (applied on Reset), and the
    session's live slider settings and frame gate (fixed: passed on to every new model)."""
    return {
        "scenario_name": {
            "type": "Select",
            "value": scenario,
            "values": scenario_choices(scenario),
            "label": "Scenario",
        },
        "seed": {"type": "InputText", "value": "", "label": "Seed (blank: the scenario's)"},
        "controls": controls,
        "pace": gate.wait,
    }


# ---------------------------------------------------------------------------------- sidebar
@solara.component
def LiveControlsCard(model: solara.Reactive[ViewModel]) -> None:
    """Sliders for the five governance levers and the key parameters, applied to the
    running model at once (and kept for the next Reset)."""
    m = model.value  # re-rendered for a new model (Reset), not every frame: see ModelReadout
    # Re-rendered after every change too, so that each slider's value is the model's: a
    # slider whose value did not change since the last render would not move back.
    _, set_revision = solara.use_state(0)

    def changed() -> None:
        set_revision(lambda r: r + 1)
        force_update()

    def on_lever(lever: str):
        def change(value: float) -> None:
            model.value.set_lever(lever, value)
            changed()

        return change

    def on_parameter(name: str):
        def change(value: float) -> None:
            model.value.set_parameter(name, value)
            changed()

        return change

    def back_to_scenario() -> None:
        model.value.restore_scenario_controls()
        changed()

    with solara.Card("Levers and parameters (live)"):
        solara.Text(
            "Act on the running model at once; kept on Reset. Scenario and seed "
            "(Model Parameters) take effect on Reset.",
            style={"font-size": "12px"},
        )
        for lever in LEVERS:
            solara.SliderFloat(
                LEVER_LABELS[lever],
                value=round(m.lever_value(lever), 3),
                min=0.0,
                max=1.0,
                step=0.05,
                on_value=on_lever(lever),
            )
        for name, (label, lo, hi, step) in VIEW_PARAMETERS.items():
            solara.SliderFloat(
                label,
                value=float(getattr(m.p, name)),
                min=lo,
                max=hi,
                step=step,
                on_value=on_parameter(name),
            )
        ModelReadout(m)
        solara.Button(
            "Back to the scenario's values", on_click=back_to_scenario, text=True, color="primary"
        )


@solara.component
def ModelReadout(model: ViewModel) -> None:
    """The levers and parameters as the model holds them, read back from its arrays."""
    update_counter.get()
    levers = " · ".join(f"{lever} {model.lever_value(lever):.2f}" for lever in LEVERS)
    params = " · ".join(f"{name} {getattr(model.p, name):g}" for name in VIEW_PARAMETERS)
    solara.Text(
        f"In the model now (mean over states): {levers} · {params}",
        classes=["ddsim-readout"],
        style={"font-size": "12px", "color": "#555"},
    )


# ---------------------------------------------------------------------------------- panels
@solara.component
def StatusBar(model: ViewModel, frame: int = 0) -> None:
    """Scenario, seed, step and date; notices such as a seed that was not a number."""
    total = model.world.steps
    end = " · last step reached (Reset to run again)" if not model.running else ""
    solara.Text(
        f"{model.world.name} · {describe_source(model.scenario_name)} · seed {model.seed} · "
        f"{model.n} states · Step {model.steps} of {total} · {model.step_label()}{end}",
        classes=["ddsim-status"],
    )
    for entry in model.event_log:
        if entry.kind == "notice":
            solara.Text(entry.text, classes=["ddsim-status", "ddsim-notice"])


@solara.component
def NetworkPanel(model: ViewModel, frame: int = 0) -> None:
    """The network of states (ECharts); click a state to show its details."""

    def node_of(event: dict) -> str | None:
        data = event.get("data") or {}
        node = data.get("id") if isinstance(data, dict) else None
        return node if isinstance(node, str) and node in model.index else None

    def on_click(event: dict) -> None:
        if (node := node_of(event)) is not None:
            selected_state.set(node)

    def on_mouseover(event: dict) -> None:
        hovered_state.set(node_of(event))

    def on_mouseout(event: dict) -> None:
        hovered_state.set(None)

    option = network_option(
        model,
        selected=selected_state.value,
        mode=network_mode.value,
        projection=network_projection.value,
    )
    caption = option.pop(CAPTION)
    with solara.Card(f"States and ties · {model.step_label()}"):
        with solara.Row():
            solara.ToggleButtonsSingle(
                value=network_projection, values=list(PROJECTIONS), dense=True
            )
            if model.n > AGGREGATE_ABOVE:
                solara.ToggleButtonsSingle(value=network_mode, values=list(MODES), dense=True)
        solara.FigureEcharts(
            option=option,  # equal to the last one unless something visible changed: not re-sent
            on_click=on_click,
            on_mouseover=on_mouseover,
            on_mouseout=on_mouseout,
            attributes={"style": "height: 540px; width: 100%;", "class": "ddsim-network"},
        )
        solara.Text(caption, classes=["ddsim-caption"])


@solara.component
def DetailsPanel(model: ViewModel, frame: int = 0) -> None:
    """Details of the selected state: bloc, hedging, top partners, main supplier."""
    details = {d["id"]: d for d in model.state_details()}
    shown = hovered_state.value or selected_state.value  # hover previews, click keeps
    chosen = shown if shown in details else None
    by_name = {d["name"]: sid for sid, d in details.items()}
    with solara.Card("State details"):
        solara.Select(
            "State (or click one in the network)",
            values=sorted(by_name),
            value=details[selected_state.value]["name"]
            if selected_state.value in details
            else None,
            on_value=lambda name: selected_state.set(by_name.get(name)),
            dense=True,
        )
        if chosen is None:
            solara.Text("Hover a state in the network for its details; click it to keep them.")
            return
        d = details[chosen]
        how = "under the mouse" if chosen == hovered_state.value else "selected"
        partners = ", ".join(f"{html.escape(p)} ({t:.2f})" for p, t in d["partners"]) or "none"
        supplier = (
            f"{html.escape(d['supplier'][0])} ({d['supplier'][1]:.0%} of its arms-import stock)"
            if d["supplier"]
            else "none in this scenario"
        )
        riskiest = (
            f"{html.escape(d['riskiest'][0])} ({d['riskiest'][1]:.2f})" if d["riskiest"] else "-"
        )
        solara.HTML(
            unsafe_innerHTML=(
                f"<b>{html.escape(d['name'])}</b> ({d['id']}, {how})<br/>"
                f"<span class='ddsim-chip' style='background:{d['color']}'></span>"
                f"{html.escape(d['bloc_name'])}<br/>"
                f"hedging {d['hedging']:.2f} (0 = firmly in its bloc, 1 = torn) · "
                f"capability {d['capability']:.3f} · stability {d['stability']:.2f}<br/>"
                f"top partners by mutual trust: {partners}<br/>"
                f"main arms supplier: {supplier}<br/>"
                f"highest escalation risk: {riskiest}"
            ),
            classes=["ddsim-details"],
        )


def _log_html(entries: list[LogEntry], model: ViewModel) -> str:
    rows = []
    for e in reversed(entries[-LOG_ROWS:]):
        tag = " <span class='scripted'>scripted</span>" if e.scripted else ""
        title = f" title='{html.escape(e.detail, quote=True)}'" if e.detail else ""
        rows.append(
            f"<div class='entry {e.kind}'{title}>{html.escape(model.step_label(e.step))} · "
            f"<span class='kind'>{e.kind}</span>{tag} · {html.escape(e.text)}</div>"
        )
    return "".join(rows)


@solara.component
def EventLogPanel(model: ViewModel, frame: int = 0) -> None:
    """What happened in the steps of the last frame, newest first; scripted events marked."""
    last = solara.use_ref((None, 0))  # (model, step shown up to)
    previous_model, previous_step = last.current
    since = (
        previous_step
        if previous_model is model and previous_step < model.steps
        else model.steps - 1
    )
    last.current = (model, model.steps)
    entries = [e for e in model.entries_since(max(since, -1)) if e.kind != "notice"]
    span = f"step {model.steps}" if since >= model.steps - 1 else f"steps {since + 1}-{model.steps}"
    with solara.Card(f"Event log ({span})"):
        if not entries:
            solara.Text("Nothing notable happened.", classes=["ddsim-log"])
        else:
            solara.HTML(unsafe_innerHTML=_log_html(entries, model), classes=["ddsim-log"])


@solara.component
def PlotsPanel(model: ViewModel, frame: int = 0) -> None:
    """The six live plots (a matplotlib Figure, redrawn by blitting each frame)."""
    png = live_plots(model).png()
    with solara.Card("Over time", classes=["ddsim-plots"]):
        solara.Image(png, format="png")


@solara.component
def StatesTable(model: ViewModel, frame: int = 0) -> None:
    """Every state (the most capable first; at most `TABLE_ROWS`) with its bloc and ties."""
    details = sorted(model.state_details(), key=lambda d: -d["capability"])
    rows = []
    for d in details[:TABLE_ROWS]:
        supplier = html.escape(d["supplier"][0]) if d["supplier"] else "-"
        partner = html.escape(d["partners"][0][0]) if d["partners"] else "-"
        rows.append(
            f"<tr><td>{html.escape(d['name'])}</td>"
            f"<td><span class='ddsim-chip' style='background:{d['color']}'></span>{html.escape(d['bloc_name'])}</td>"
            f"<td>{d['capability']:.3f}</td><td>{d['hedging']:.2f}</td><td>{partner}</td><td>{supplier}</td></tr>"
        )
    more = len(details) - TABLE_ROWS
    note = f"<p>… and {more} more states (hover them in the network).</p>" if more > 0 else ""
    with solara.Card("States"):
        solara.HTML(
            unsafe_innerHTML=(
                "<table class='ddsim-table'><tr><th>state</th><th>bloc</th><th>capability</th>"
                "<th>hedging</th><th>top partner</th><th>main supplier</th></tr>"
                + "".join(rows)
                + "</table>"
                + note
            )
        )


@solara.component
def Dashboard(model: ViewModel, gate: FrameGate | None = None) -> None:
    """The main area: status, network with details and event log, plots, states table.

    Only this component reads Mesa's `update_counter`; the panels get its value as `frame`.
    Each component that reads a reactive value costs a render pass of its own when it
    changes, and six passes a frame made the page six times slower (measured: every widget
    was updated six times per frame).
    """
    frame = update_counter.get()

    def drawn() -> None:  # effects run after the frame's widgets are updated
        if gate is not None:
            gate.drawn(frame)

    solara.use_effect(drawn, [frame])
    solara.Style(CSS)
    StatusBar(model, frame)
    with solara.Columns([3, 2]):
        NetworkPanel(model, frame)
        with solara.Column():
            DetailsPanel(model, frame)
            EventLogPanel(model, frame)
    PlotsPanel(model, frame)
    StatesTable(model, frame)


# ---------------------------------------------------------------------------------- page
@solara.component
def Page() -> None:
    """One browser tab: a model of the server's scenario, Mesa's SolaraViz, ddsim's panels."""
    scenario = default_scenario()
    controls = solara.use_memo(LiveControls, [])
    gate = solara.use_memo(FrameGate, [])
    first = solara.use_memo(lambda: first_model(scenario, controls, gate), [])
    model = solara.use_reactive(first)
    SolaraViz(
        model,
        components=[],  # ddsim lays out its own panels below (Mesa's grid is two half-width columns)
        model_params=model_params(scenario, controls, gate),
        play_interval=PLAY_INTERVAL_MS,
        render_interval=default_render_interval(),
        name="ddsim view",
    )
    LiveSidebar(model)
    Dashboard(model.value, gate)


@solara.component
def LiveSidebar(model: solara.Reactive[ViewModel]) -> None:
    """ddsim's card, placed under Mesa's cards in the sidebar."""
    _NestedSidebar(model)


@solara.component
def _NestedSidebar(model: solara.Reactive[ViewModel]) -> None:
    # Solara orders sidebar entries by the depth of the component that adds them; one level
    # deeper than SolaraViz's own sidebar puts this card after Mesa's Controls.
    with solara.Sidebar():
        LiveControlsCard(model)
