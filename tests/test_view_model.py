"""`ddsim view` without a browser: the steerable model, the network panel, the live plots and
the command line's errors. (The page itself is tested in a real browser in test_view.py.)"""

from __future__ import annotations

import dataclasses
import io
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sim.core.model import DiplomacyModel
from sim.core.params import LEVERS
from sim.reports.blocs import bloc_cores, bloc_palette
from sim.reports.scripted import scenario_inputs
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
from sim.view.network import (
    MAX_STATES_DRAWN,
    RISK_EDGE,
    TIES_PER_STATE,
    TRUST_EDGE,
    network_option,
)


def run(model: DiplomacyModel, steps: int) -> DiplomacyModel:
    for _ in range(steps):
        model.step()
    return model


def test_view_model_runs_the_same_model() -> None:
    """No slider moved: the view's run is the run `ddsim run` makes (same seed, same tables)."""
    view = run(ViewModel("indo_pacific", seed="3"), 40)
    plain = run(DiplomacyModel(load_scenario("indo_pacific"), rng=3), 40)
    for table in ("world", "states", "activities", "crises"):
        pd.testing.assert_frame_equal(
            getattr(view.results(), table), getattr(plain.results(), table)
        )


def figure_palette(scenario: str, seed: int, steps: int):
    """The palette and cores the figures of `ddsim run SCENARIO --steps STEPS` draw with."""
    world = dataclasses.replace(load_scenario(scenario), steps=steps)
    states = run(DiplomacyModel(world, rng=seed), steps).results().states
    cores = bloc_cores(states)
    return bloc_palette(states, dict(zip(world.ids, world.labels, strict=True))), cores[
        states["step"].to_numpy() == steps
    ]


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


def _mutual(model: ViewModel) -> np.ndarray:
    return 0.5 * (model.trust + model.trust.T)


def test_network_draws_every_state_and_edges_at_fixed_thresholds() -> None:
    model = run(ViewModel("indo_pacific"), 30)
    option = network_option(model, selected="JPN")
    series = option["series"][0]
    assert [d["name"] for d in series["data"]] == model.world.labels
    colors = {d["id"]: d["itemStyle"]["color"] for d in series["data"]}
    for d in model.state_details():
        assert colors[d["id"]] == d["color"]
    selected = next(d for d in series["data"] if d["id"] == "JPN")
    assert selected["itemStyle"]["borderWidth"] > 1
    mutual = _mutual(model)
    ties = [link for link in series["links"] if link["lineStyle"]["type"] == "solid"]
    risks = [link for link in series["links"] if link["lineStyle"]["type"] == "dashed"]
    expected_ties = set()
    for i in range(model.n):  # each state's two strongest ties at or above the threshold
        partners = [j for j in np.argsort(-mutual[i]) if j != i and mutual[i, j] >= TRUST_EDGE]
        expected_ties |= {(min(i, j), max(i, j)) for j in partners[:TIES_PER_STATE]}
    assert len(expected_ties) < int(np.triu(mutual >= TRUST_EDGE, 1).sum())  # the rule bites
    expected_risks = set(map(tuple, np.argwhere(np.triu(model.risk >= RISK_EDGE, 1)).tolist()))
    assert {(t["source"], t["target"]) for t in ties} == expected_ties
    assert {(t["source"], t["target"]) for t in risks} == expected_risks
    tooltip = selected["tooltip"]["formatter"]
    for part in ("bloc:", "hedging", "top partners", "main arms supplier"):
        assert part in tooltip


def test_world_network_is_filtered_or_aggregated() -> None:
    model = run(ViewModel("world"), 24)
    states = network_option(model)["series"][0]
    assert len(states["data"]) == model.n == 195
    labelled = [d for d in states["data"] if d["label"]["show"]]
    assert len(labelled) == MAX_STATES_DRAWN
    top = set(np.argsort(-model.capability, kind="stable")[:MAX_STATES_DRAWN].tolist())
    assert all(link["source"] in top and link["target"] in top for link in states["links"])
    blocs = network_option(model, mode="blocs")["series"][0]
    sizes = np.bincount(model.bloc)
    assert len(blocs["data"]) == int((sizes >= 2).sum())
    assert all("members:" in d["tooltip"]["formatter"] for d in blocs["data"])


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
