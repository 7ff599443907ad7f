"""`ddsim view` without a browser: the steerable model, the network panel, the live plots and
the command line's errors. (The page itself is tested in a real browser in test_view.py.)"""

from __future__ import annotations

import io
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sim.core.model import DiplomacyModel
from sim.core.params import LEVERS
from sim.reports.blocs import OTHER_COLOR, bloc_cores, bloc_palette
from sim.reports.layout import network_layout
from sim.reports.network import (
    AGGREGATE_ABOVE,
    CLOSE_INTEROPERABILITY,
    CLOSE_TRUST,
    RISK_EDGE,
    TIE_INTEROPERABILITY,
    TIE_TRUST,
)
from sim.reports.scripted import scenario_inputs
from sim.reports.style import RISK_COLOR, TIE_COLOR
from sim.running.simulate import simulate
from sim.scenarios.loader import load_scenario
from sim.view.charts import live_plots
from sim.view.model import (
    VIEW_PARAMETERS,
    LiveControls,
    ViewModel,
    check_view_parameters,
    parse_seed,
    scenario_choices,
)
from sim.view.network import PARTNER_COLOR, WAR_SYMBOL, network_option


def run(model: DiplomacyModel, steps: int) -> DiplomacyModel:
    for _ in range(steps):
        model.step()
    return model


def test_view_model_runs_the_same_model() -> None:
    """No slider moved: the view's run is the run `ddsim run --seed 3 --steps 40` makes (one
    path, `sim.running.simulate`): same seed, same draws from every random stream, same
    tables."""
    view = run(ViewModel("indo_pacific", seed="3"), 40)
    ddsim_run = simulate("indo_pacific", seed=3, steps=40, dyad_snapshots=True)
    for table in ("world", "states", "activities", "crises"):
        pd.testing.assert_frame_equal(getattr(view.results(), table), getattr(ddsim_run, table))


def figure_palette(scenario: str, seed: int, steps: int):
    """The palette and the cores at the last step that the figures of `ddsim run SCENARIO
    --seed SEED --steps STEPS` draw with."""
    states = simulate(scenario, seed=seed, steps=steps).states
    world = load_scenario(scenario)
    palette = bloc_palette(states, dict(zip(world.ids, world.labels, strict=True)))
    return palette, bloc_cores(states)[states["step"].to_numpy() == steps]


def assert_figures_blocs(model: ViewModel) -> None:
    """The view's bloc names and colours now are those of the figures of the same run
    stopped now, for every state."""
    palette, cores = figure_palette(model.scenario_name, model.seed, model.steps)
    got = model.palette()
    assert dict(got.colors) == dict(palette.colors), f"step {model.steps}"
    assert got.order == palette.order
    assert model.cores().tolist() == cores.tolist()
    details = model.state_details()
    assert [d["bloc_name"] for d in details] == [palette.label(c) for c in cores]
    assert [d["color"] for d in details] == [palette.color(c) for c in cores]


@pytest.mark.parametrize(("scenario", "steps"), [("indo_pacific", 120), ("world", 96)])
def test_bloc_colours_and_names_are_the_figures(scenario: str, steps: int) -> None:
    """At every checked step the view names and colours blocs as `sim.reports.bloc_palette`
    does for the figures of the run so far (its table reduced to one row per bloc and step
    gives the same answer as the full one)."""
    model = ViewModel(scenario)
    for step in range(steps):
        model.step()
        if step in (0, steps // 2, steps - 1):
            assert_figures_blocs(model)
    assert len(model.palette().colors) >= 2
    assert all(name.endswith(" bloc") for name in map(model.palette().label, model.cores()) if name)


def test_bloc_colours_between_recorded_steps(tmp_path: Path) -> None:
    """Recorded every 6 steps: at a step in between, the view's blocs are still those of the
    figures of a run stopped there (which records its last step)."""
    path = tmp_path / "sparse.yaml"
    path.write_text("extends: indo_pacific\nname: sparse\nparameters:\n  record_every: 6\n")
    model = run(ViewModel(str(path)), 61)
    assert model.recorder.state_steps[-1] == 60
    assert_figures_blocs(model)


def test_a_bloc_move_is_logged_with_the_figures_names() -> None:
    """A state whose bloc changes is logged with the blocs' names before and after, as the
    figures name them at those steps; a bloc that only changed its id is not a move."""
    model = ViewModel("indo_pacific")
    moves = 0
    for _ in range(120):
        before = [model.palette().label(c) for c in model.cores()]
        seen = len(model.event_log)
        model.step()
        after = [model.palette().label(c) for c in model.cores()]
        logged = [e.text for e in model.event_log[seen:] if e.kind == "bloc"]
        expected = [
            f"{name} moves from {old} to {new}"
            for name, old, new in zip(model.world.labels, before, after, strict=True)
            if old != new
        ]
        assert set(logged) <= set(expected)
        moves += len(logged)
    assert moves > 0, "no state changed bloc in 120 steps"


def test_levers_act_at_once_and_survive_a_reset() -> None:
    controls = LiveControls()
    model = ViewModel("minimal", controls=controls)
    col = LEVERS.index("transparency")
    assert model.levers[:, col].tolist() == [0.3, 0.3, 0.5, 0.3]  # Australia's own setting
    model.set_lever("transparency", 0.8)
    assert np.all(model.levers[:, col] == 0.8)
    assert model.lever_value("transparency") == pytest.approx(0.8)
    again = ViewModel("minimal", seed="5", controls=controls)  # what Reset builds
    assert np.all(again.levers[:, col] == 0.8)
    again.restore_scenario_controls()
    assert again.levers[:, col].tolist() == [0.3, 0.3, 0.5, 0.3]
    assert controls.levers == {}
    with pytest.raises(ValueError, match="transparency"):
        model.set_lever("transparency", 1.5)


def test_parameters_act_at_once_and_survive_a_reset() -> None:
    controls = LiveControls()
    model = ViewModel("minimal", controls=controls)
    model.set_parameter("cost_exercise", 2.0)
    model.set_parameter("crisis_rate", 0.2)
    assert model.p.cost_exercise == 2.0 and model.p.crisis_rate == 0.2
    assert model.costs[0] == 2.0 and model.max_cost == 2.0  # option costs follow
    again = ViewModel("indo_pacific", controls=controls)
    assert again.p.cost_exercise == 2.0 and again.p.crisis_rate == 0.2
    again.restore_scenario_controls()
    assert again.p.crisis_rate == load_scenario("indo_pacific").parameters.crisis_rate
    with pytest.raises(ValueError, match="crisis_rate"):
        model.set_parameter("crisis_rate", 2.0)
    with pytest.raises(ValueError, match="no live slider"):
        model.set_parameter("temperature", 0.5)
    check_view_parameters()
    assert set(VIEW_PARAMETERS) >= {"cost_exercise", "crisis_rate"}


def test_a_lever_changes_what_happens() -> None:
    """The slider is wired to the mechanism: full transparency damps the risk that exercises
    signal to rivals, so mean risk after 60 steps is lower than with none (same seed)."""
    low = ViewModel("indo_pacific")
    low.set_lever("transparency", 0.0)
    high = ViewModel("indo_pacific")
    high.set_lever("transparency", 1.0)
    run(low, 60), run(high, 60)
    assert high.series()["mean_risk"][-1] < low.series()["mean_risk"][-1]


@pytest.mark.parametrize(
    ("text", "expected", "notice"),
    [("", 7, ""), ("  12 ", 12, ""), ("abc", 7, "not a whole number"), ("-1", 7, "outside")],
)
def test_seed_as_typed(text: str, expected: int, notice: str) -> None:
    seed, message = parse_seed(text, 7)
    assert seed == expected
    assert notice in message


def test_bad_seed_is_reported_in_the_log() -> None:
    model = ViewModel("minimal", seed="x1")
    assert model.seed == load_scenario("minimal").seed
    assert model.event_log[0].kind == "notice" and "x1" in model.event_log[0].text


def test_event_log_marks_scripted_events() -> None:
    """minimal scripts an exercise series from May 2018 (step 4, applied in step 5);
    arms_market scripts wars. Both are logged as scripted; crises are not."""
    minimal = run(ViewModel("minimal"), 6)
    series = [e for e in minimal.event_log if e.kind == "program"]
    assert len(series) == 1 and series[0].scripted and series[0].step == 5
    assert "Southern Jackaroo" in series[0].text
    assert [e.text for e in minimal.entries_since(4)] == [
        e.text for e in minimal.event_log if e.step > 4
    ]

    model = run(ViewModel("arms_market"), 60)
    wars = [e for e in model.event_log if e.kind == "war"]
    assert wars and all(e.scripted for e in wars)
    assert "India" in wars[0].text and "Pakistan" in wars[0].text
    # Worded as the figures mark the scenario's inputs, the report's full line on hover.
    inputs = scenario_inputs(model.world)
    marked = [e for e in inputs.of_type("war_shock") if e.step <= model.steps]
    assert [(e.step, e.text, e.detail) for e in wars] == [(e.step, e.short, e.text) for e in marked]
    emergent = [e for e in model.event_log if e.kind in ("crisis", "incident", "agreement")]
    assert emergent and not any(e.scripted for e in emergent)
    logged_crises = sum(e.kind in ("crisis", "incident") for e in model.event_log)
    assert logged_crises == sum(row[3] != "war" for row in model.crisis_log)


def test_model_stops_at_the_scenarios_last_step() -> None:
    model = ViewModel("minimal")
    while model.running:
        model.step()
    assert model.steps == load_scenario("minimal").steps


def test_scenario_choices_list_shipped_and_given() -> None:
    choices = scenario_choices("/tmp/my_world.yaml")
    assert {"minimal", "indo_pacific", "world"} <= set(choices)
    assert choices[-1] == "/tmp/my_world.yaml"
    assert scenario_choices("minimal").count("minimal") == 1


def _pairs(mask: np.ndarray) -> set[tuple[int, int]]:
    return set(map(tuple, np.argwhere(np.triu(mask, 1)).tolist()))


def _links(series: dict, **style: object) -> set[tuple[int, int]]:
    """Links whose line style has all of `style`."""
    return {
        (link["source"], link["target"])
        for link in series["links"]
        if all(link["lineStyle"].get(k) == v for k, v in style.items())
    }


def test_network_draws_every_state_and_the_figures_edges() -> None:
    """Every state, coloured and named as the figures; edges by the network figure's fixed
    thresholds and styles: close partners dark across blocs and in the bloc's colour within,
    partners faint grey, escalation risk dashed vermillion."""
    model = run(ViewModel("indo_pacific"), 60)
    option = network_option(model, selected="JPN")
    series = option["series"][0]
    states, marks = series["data"][: model.n], series["data"][model.n :]
    assert [d["name"] for d in states] == model.world.labels
    assert all(d["id"].startswith("war:") for d in marks)  # scripted wars by step 60
    details = model.state_details()
    assert [d["itemStyle"]["color"] for d in states] == [d["color"] for d in details]
    legend = [c["name"] for c in series["categories"]]
    assert legend == [label for label, _ in model.palette().legend(model.cores())]
    assert option["legend"][0]["data"] == legend
    selected = next(d for d in series["data"] if d["id"] == "JPN")
    assert selected["itemStyle"]["borderWidth"] > 1

    mutual = 0.5 * (model.trust + model.trust.T)
    inter = model.interoperability
    close = (mutual >= CLOSE_TRUST) & (inter >= CLOSE_INTEROPERABILITY)
    partners = (mutual >= TIE_TRUST) & (inter >= TIE_INTEROPERABILITY) & ~close
    cores = model.cores()
    within = close & (cores[:, None] == cores[None, :]) & (cores[:, None] != "")
    assert _pairs(close) and _pairs(partners)  # both kinds occur at step 60
    assert _links(series, color=PARTNER_COLOR) == _pairs(partners)
    assert _links(series, color=TIE_COLOR) == _pairs(close & ~within)
    bloc_colored = {
        pair
        for pair in _pairs(within)
        if (pair in _links(series, color=details[pair[0]]["color"], type="solid"))
    }
    assert bloc_colored == _pairs(within)
    assert _links(series, color=RISK_COLOR) == _pairs(model.risk >= RISK_EDGE)
    caption = option["_caption"]
    for text in (f"{CLOSE_TRUST:.2f}", f"{TIE_TRUST:.2f}", f"{RISK_EDGE:.2f}", "schematic"):
        assert text in caption
    tooltip = selected["tooltip"]["formatter"]
    for part in ("bloc:", "hedging", "top partners", "main arms supplier"):
        assert part in tooltip


def test_network_marks_scripted_wars() -> None:
    """A war_shock of the scenario is marked with the figure's ✕ at the middle of the dyad
    from the step that shows it (Feb 2019 India–Pakistan, scenario step 13, shown in 14)."""
    model = ViewModel("indo_pacific")

    def marks() -> list[dict]:
        nodes = network_option(model)["series"][0]["data"]
        return [d for d in nodes if d["id"].startswith("war:")]

    run(model, 13)
    assert marks() == []
    run(model, 1)
    (mark,) = marks()
    assert mark["id"] == "war:IND:PAK" and mark["symbol"] == WAR_SYMBOL
    nodes = {d["id"]: d for d in network_option(model)["series"][0]["data"]}
    for axis in ("x", "y"):
        middle = (nodes["IND"][axis] + nodes["PAK"][axis]) / 2
        assert mark[axis] == pytest.approx(middle, abs=0.2)
    assert "war scripted by the scenario" in mark["tooltip"]["formatter"]


def test_network_positions_are_the_figures_layouts() -> None:
    model = ViewModel("indo_pacific")
    locations = {s.id: s.location for s in model.world.states}
    for projection in ("schematic", "map"):
        nodes = network_option(model, projection=projection)["series"][0]["data"]
        pos = network_layout(model.ids, locations, projection=projection)
        got = np.array([[d["x"], -d["y"]] for d in nodes]) / 1000
        want = np.array([pos[s] for s in model.ids])
        assert np.allclose(got, want, atol=1e-3), projection
    caption = network_option(model, projection="map")["_caption"]
    assert "Equal Earth" in caption


def test_world_network_is_aggregated_or_filtered() -> None:
    """Above AGGREGATE_ABOVE states the network draws blocs as nodes over faded states, as the
    figure does; 'states' mode labels and connects the most capable states only."""
    model = run(ViewModel("world"), 24)
    assert model.n == 195 > AGGREGATE_ABOVE
    blocs = network_option(model)["series"][0]
    blocs["data"] = [d for d in blocs["data"] if not d["id"].startswith("war:")]
    cores = model.cores()
    n_blocs = len({c for c in cores if c})
    assert len(blocs["data"]) == model.n + n_blocs
    bloc_nodes = blocs["data"][model.n :]
    palette = model.palette()
    assert {d["name"] for d in bloc_nodes} == {palette.label(c) for c in cores if c}
    assert all("members:" in d["tooltip"]["formatter"] for d in bloc_nodes)
    assert all(d["itemStyle"]["opacity"] < 1 for d in blocs["data"][: model.n])
    assert all(link["source"] >= model.n and link["target"] >= model.n for link in blocs["links"])
    if n_blocs > len(palette.colors):  # blocs beyond the palette share one colour
        assert OTHER_COLOR in {d["itemStyle"]["color"] for d in bloc_nodes}
    states = network_option(model, mode="states")["series"][0]
    states["data"] = [d for d in states["data"] if not d["id"].startswith("war:")]
    assert len(states["data"]) == model.n
    labelled = [d for d in states["data"] if d["label"]["show"]]
    assert len(labelled) == AGGREGATE_ABOVE
    top = set(np.argsort(-model.capability, kind="stable")[:AGGREGATE_ABOVE].tolist())
    assert all(link["source"] in top and link["target"] in top for link in states["links"])


def test_live_plots_change_and_blitting_draws_what_a_full_draw_draws() -> None:
    model = ViewModel("indo_pacific")
    plots = live_plots(model)
    first = plots.png()
    run(model, 30)
    blitted = plots.png()
    assert first != blitted
    image = np.asarray(Image.open(io.BytesIO(blitted)).convert("RGB")).astype(int)
    assert image.shape == (403, 792, 3)
    artists = [*plots.lines.values(), *plots.market_lines.values()]
    assert plots.wars and plots.wars[0][0] <= model.steps  # a scripted war is drawn by then
    for step, line in plots.wars:
        line.set_visible(step <= model.steps)
        artists.append(line)
    artists.append(plots.crises_legend)
    for artist in artists:
        artist.set_animated(False)
    buffer = io.BytesIO()
    plots.figure.savefig(buffer, format="png", dpi=72)
    full = np.asarray(Image.open(buffer).convert("RGB")).astype(int)
    differ = (np.abs(image - full).sum(axis=2) > 30).mean()
    assert differ < 0.002, f"{differ:.2%} of pixels differ from a full draw"
    ink = (np.abs(full - 255).sum(axis=2) > 30).mean()
    assert ink > 0.05  # the comparison is not between two blank images


# ------------------------------------------------------------------ command line errors
def test_unknown_scenario_is_a_one_line_error(cli) -> None:
    result = cli("view", "no_such_scenario", "--no-browser")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "no_such_scenario" in result.stderr


def test_busy_port_is_a_one_line_error(cli) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = cli("view", "minimal", "--port", str(port), "--no-browser")
    assert result.returncode == 2
    assert (
        result.stderr == f"port {port} on 127.0.0.1 is already in use; choose another with --port\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "no.such.host.invalid"], "--host no.such.host.invalid"),
        (["--port", "70000"], "--port: expected 0-65535"),
        (["--steps-per-frame", "0"], "--steps-per-frame"),
    ],
)
def test_other_bad_options_are_one_line_errors(cli, args: list[str], message: str) -> None:
    result = cli("view", "minimal", "--no-browser", *args)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr
