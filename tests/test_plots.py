"""Figures of a run: all drawn, notebook-safe, readable (labels, thresholds, bloc names), and
scripted inputs told apart from model outcomes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.reports.figures import FIGURES, RunFigures, draw_all, names_of, network_snapshots
from sim.running.simulate import run_scenario

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def results():
    return run_scenario(REPO / "scenarios" / "minimal.yaml", steps=24, seed=2, record_dyads=6)


@pytest.fixture(scope="module")
def indo_pacific():
    return run_scenario("indo_pacific")


def _texts(fig) -> list[str]:
    """Every text of a figure (titles, labels, annotations, legends)."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def _draw(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


# ------------------------------------------------------------------------------------------
# Every figure is drawn, for normal and degenerate runs
# ------------------------------------------------------------------------------------------


def test_draw_all_writes_every_figure(results, tmp_path):
    written, failed = draw_all(results, out_dir=tmp_path, strict=False)
    assert failed == {}
    assert sorted(p.name for p in written) == sorted(f"{name}.png" for name in FIGURES)
    for path in written:
        assert path.stat().st_size > 5_000, path.name


def test_two_processes_draw_the_same_files(results, tmp_path):
    from sim.reports.figures import parallel_ok

    if not parallel_ok():
        pytest.skip("drawing in a second process needs Linux (fork) and two cores")
    serial, _ = draw_all(results, out_dir=tmp_path / "one")
    parallel, failed = draw_all(results, out_dir=tmp_path / "two", processes=2)
    assert failed == {} and [p.name for p in parallel] == [p.name for p in serial]
    for a, b in zip(serial, parallel, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_two_processes_report_a_failure_in_the_child(results, tmp_path, monkeypatch):
    import sim.reports.figures as figures

    if not figures.parallel_ok():
        pytest.skip("drawing in a second process needs Linux (fork) and two cores")
    _, theirs = figures._split(FIGURES)
    broken = theirs[0]
    function = {"market": "plot_market", "activities": "plot_activities",
                "crises": "plot_crises", "relations": "plot_relations", "blocs": "plot_blocs",
                "network": "plot_network"}[broken]  # fmt: skip

    def fail(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(figures, function, fail)
    written, failed = draw_all(results, out_dir=tmp_path, processes=2, strict=False)
    assert failed == {broken: "ValueError: boom"}
    assert len(written) == len(FIGURES) - 1
    with pytest.raises(RuntimeError, match="boom"):
        draw_all(results, out_dir=tmp_path, processes=2, strict=True)


def test_a_silent_drawing_process_is_replaced(results, tmp_path, monkeypatch):
    """A child that hangs (say, on a lock another thread held at the fork) is killed after
    the timeout and its figures are drawn in the parent."""
    import os
    import time

    import sim.reports.figures as figures

    if not figures.parallel_ok():
        pytest.skip("drawing in a second process needs Linux (fork) and two cores")
    _, theirs = figures._split(FIGURES)
    function = {"market": "plot_market", "activities": "plot_activities",
                "crises": "plot_crises", "relations": "plot_relations", "blocs": "plot_blocs",
                "network": "plot_network"}[theirs[0]]  # fmt: skip
    real = getattr(figures, function)
    parent = os.getpid()

    def hang_in_child(*args, **kwargs):
        if os.getpid() != parent:
            time.sleep(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(figures, function, hang_in_child)
    monkeypatch.setattr(figures, "CHILD_TIMEOUT_S", 2.0)
    start = time.perf_counter()
    written, failed = draw_all(results, out_dir=tmp_path, processes=2, strict=True)
    assert failed == {} and sorted(p.stem for p in written) == sorted(FIGURES)
    assert time.perf_counter() - start < 40


def test_draw_all_svg(results, tmp_path):
    written, _ = draw_all(results, out_dir=tmp_path, svg=True)
    assert {p.suffix for p in written} == {".png", ".svg"}


def _draw_each(results, tmp_path) -> None:
    written, failed = draw_all(results, out_dir=tmp_path, strict=True)
    assert failed == {}
    assert sorted(p.stem for p in written) == sorted(FIGURES)


def test_no_crises_no_exports_no_activities_one_bloc(results, tmp_path):
    import dataclasses

    quiet = dataclasses.replace(
        results,
        crises=results.crises.iloc[0:0],
        activities=results.activities.iloc[0:0],
        states=results.states.assign(market_share=0.0, exports=0.0, bloc=0),
        world=results.world.assign(crises_total=0, incidents_total=0),
    )
    _draw_each(quiet, tmp_path)


def test_one_state_world(tmp_path):
    from sim.core.scenario import Scenario, StateSpec

    solo = Scenario(name="Solo", states=(StateSpec(id="AAA", capability=1.0),), steps=6)
    res = run_scenario(solo)
    assert res.start_dyads.empty and res.crises.empty
    _draw_each(res, tmp_path)


def test_plot_run_redraws_a_saved_run(results, tmp_path):
    from sim import save_run
    from sim.reports.figures import plot_run

    run = save_run(results, tmp_path / "r", plots=False)
    written = plot_run(run, svg=True)
    assert sorted(p.name for p in written) == sorted(
        f"{name}.{ext}" for name in FIGURES for ext in ("png", "svg")
    )


def test_figure_functions_label_their_axes(results):
    from sim.reports.crises import plot_crises
    from sim.reports.market import plot_market
    from sim.reports.timeaxis import TimeAxis
    from sim.reports.timeseries import plot_activities, plot_relations

    time = TimeAxis.from_scenario("2018-01", "month")
    names = names_of(results.meta)
    figs = [
        plot_relations(results.world, results.states, time=time),
        plot_activities(results.activities, 24, time=time),
        plot_crises(results.crises, results.world, names, time=time),
        plot_market(results.states, names, time=time),
    ]
    for fig in figs:
        assert fig.get_suptitle()
        assert any("date" in ax.get_xlabel() for ax in fig.axes)
        assert any(ax.get_ylabel() for ax in fig.axes)


def test_time_axis():
    from sim.reports.timeaxis import TimeAxis

    monthly = TimeAxis.from_scenario("2018-01", "month")
    assert monthly.dated
    assert str(monthly.x([0, 13])[1])[:7] == "2019-02"
    assert monthly.step_label(12) == "step 12 (Jan 2019)"
    quarterly = TimeAxis.from_scenario("2020-01", "quarter")
    assert str(quarterly.x([4])[0])[:7] == "2021-01"
    mid_month = TimeAxis.from_scenario("2020-01-31", "month")  # calendar rule: Feb 29
    assert str(mid_month.x([1])[0])[:10] == "2020-02-29"
    plain = TimeAxis.from_scenario(None, "month")
    assert not plain.dated and plain.x([0, 5]).tolist() == [0, 5]
    assert plain.label == "step (months since start)"
    assert np.issubdtype(TimeAxis.from_scenario("not a date", "month").x([1]).dtype, np.integer)


# ------------------------------------------------------------------------------------------
# Notebook-safe: no backend switch, no pyplot, rcParams left as found
# ------------------------------------------------------------------------------------------


def test_importing_and_drawing_keeps_the_users_backend(tmp_path):
    """Run in a fresh interpreter with a non-Agg backend chosen by the user: importing
    sim.reports and drawing every figure must not switch it or load pyplot."""
    code = f"""
import sys, matplotlib
matplotlib.use("svg")
before = matplotlib.get_backend()
rc_before = dict(matplotlib.rcParams)
import sim.reports, sim.reports.figures, sim.reports.analysis_figures, sim.reports.report
from sim.reports.figures import draw_all
from sim.running.simulate import run_scenario
res = run_scenario({str(REPO / "scenarios" / "minimal.yaml")!r}, steps=6)
draw_all(res, out_dir=__import__("pathlib").Path({str(tmp_path)!r}))
assert matplotlib.get_backend() == before, (before, matplotlib.get_backend())
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
changed = [k for k, v in matplotlib.rcParams.items() if rc_before.get(k) != v and k != "backend"]
assert not changed, changed
print("ok")
"""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok")


def test_no_backend_switch_or_pyplot_in_library_code():
    import ast

    for path in (REPO / "sim").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert all("pyplot" not in a.name for a in node.names), path
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(a.name for a in node.names)]
                assert all("pyplot" not in n for n in names), path
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert not (
                    node.func.attr == "use" and ast.unparse(node.func.value) == "matplotlib"
                ), path


# ------------------------------------------------------------------------------------------
# Blocs: named by their core member, the same colour everywhere
# ------------------------------------------------------------------------------------------


def test_bloc_core_is_the_most_capable_member_at_that_step():
    from sim.reports.blocs import bloc_cores, bloc_palette

    # Bloc id 0 is {A, B} at step 0 and {C, D} at step 12: ids carry no identity.
    states = pd.DataFrame(
        {
            "step": [0, 0, 0, 0, 12, 12, 12, 12],
            "state": ["A", "B", "C", "D"] * 2,
            "bloc": [0, 0, 1, 2, 1, 1, 0, 0],
            "capability": [0.5, 0.9, 0.3, 0.2, 0.5, 0.9, 0.3, 0.4],
        }
    )
    cores = bloc_cores(states)
    assert cores.tolist() == ["B", "B", "", "", "B", "B", "D", "D"]
    palette = bloc_palette(states, {"B": "Bravo", "D": "Delta"})
    assert palette.label("B") == "Bravo bloc" and palette.label("") == "no bloc (alone)"
    assert palette.color("B") != palette.color("D")
    # the name of every bloc is one of its members, at every step
    for (step, bloc), group in states.assign(core=cores).groupby(["step", "bloc"]):
        core = group["core"].iloc[0]
        assert core == "" or core in set(group["state"]), (step, bloc)


def test_network_colours_follow_the_core_in_every_panel():
    """europe_nato: every node of every panel has the colour of its bloc's core at that
    step, and a bloc's name in the legend is always one of its members."""
    from matplotlib.colors import to_hex

    from sim.reports.blocs import bloc_cores

    res = run_scenario("europe_nato", steps=60)
    shared = RunFigures.of(res)
    fig = shared.makers()["network"]()
    cores = bloc_cores(res.states)
    steps = sorted(set(network_snapshots(res)["step"]))
    ids = list(res.meta["states"])
    panels = [ax for ax in fig.axes if ax.get_title().startswith("step")]
    assert len(panels) == len(steps)
    for ax, step in zip(panels, steps, strict=True):
        sel = (res.states["step"] == step).to_numpy()
        core_of = dict(zip(res.states["state"][sel], cores[sel], strict=True))
        from matplotlib.collections import PathCollection

        scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
        nodes = max(scatters, key=lambda c: len(c.get_offsets()))
        colors = [to_hex(c) for c in nodes.get_facecolors()]
        assert colors == [to_hex(shared.palette.color(core_of[s])) for s in ids]
    named = [t for t in _texts(fig) if t.endswith(" bloc")]
    members = {shared.palette.label(c) for c in set(cores) if c}
    assert named and set(named) <= members


# ------------------------------------------------------------------------------------------
# Network figure: labels that do not collide, fixed thresholds, world scale, map projection
# ------------------------------------------------------------------------------------------


def test_indo_pacific_network_labels_do_not_overlap(indo_pacific):
    from matplotlib.text import Annotation

    fig = RunFigures.of(indo_pacific).makers()["network"]()
    renderer = _draw(fig)
    n_states = len(indo_pacific.meta["states"])
    panels = [ax for ax in fig.axes if ax.get_title().startswith("step")]
    for ax in panels:
        labels = [a for a in ax.findobj(Annotation) if a.get_text()]
        assert len(labels) == n_states, "every state is labelled"
        # the label's box, not the annotation's extent (which includes its leader line;
        # leaders are checked by the next test)
        boxes = [a.get_bbox_patch().get_window_extent(renderer) for a in labels]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not a.overlaps(b), (a, b)
        panel = ax.get_window_extent(renderer)
        assert all(panel.x0 <= b.x0 and b.x1 <= panel.x1 for b in boxes)


def test_indo_pacific_network_labels_read_as_their_own_nodes(indo_pacific):
    """A reader names a dot by the nearest text: every label is nearer its own node than any
    other node, and a leader line crosses no other label."""
    from matplotlib.text import Annotation

    from sim.reports.labels import CLEARANCE

    fig = RunFigures.of(indo_pacific).makers()["network"]()
    renderer = _draw(fig)
    panels = [ax for ax in fig.axes if ax.get_title().startswith("step")]
    for ax in panels:
        labels = [a for a in ax.findobj(Annotation) if a.get_text()]
        nodes = max(ax.collections, key=lambda c: len(c.get_offsets()))
        centres = ax.transData.transform(nodes.get_offsets())
        radii = np.sqrt(nodes.get_sizes()) / 2 * fig.dpi / 72.0
        boxes = [a.get_bbox_patch().get_window_extent(renderer) for a in labels]
        for a, box in zip(labels, boxes, strict=True):
            own = int(np.argmin(np.hypot(*(centres - ax.transData.transform(a.xy)).T)))
            nx = np.clip(centres[:, 0], box.x0, box.x1)
            ny = np.clip(centres[:, 1], box.y0, box.y1)
            gaps = np.hypot(centres[:, 0] - nx, centres[:, 1] - ny) - radii
            others = np.delete(gaps, own)
            assert others.min() >= gaps[own] + CLEARANCE * box.height * 0.9, a.get_text()
            if a.arrow_patch is not None:
                start = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
                end = centres[own]
                for t in np.linspace(0.05, 0.95, 40):
                    x, y = start + t * (end - start)
                    for other, ob in zip(labels, boxes, strict=True):
                        if other is not a:
                            assert not ob.contains(x, y), (a.get_text(), other.get_text())


def test_network_thresholds_are_fixed_and_the_same_in_every_run(results, indo_pacific):
    from sim.reports.network import CLOSE_TRUST, RISK_EDGE, TIE_TRUST, edge_flags

    def threshold_texts(res) -> list[str]:
        fig = RunFigures.of(res).makers()["network"]()
        return sorted(t for t in _texts(fig) if "≥" in t)

    first, second = threshold_texts(results), threshold_texts(indo_pacific)
    assert first == second
    assert any(f"trust ≥ {CLOSE_TRUST:.2f}" in t for t in first)
    assert any(f"risk ≥ {RISK_EDGE:.2f}" in t for t in first)
    # A threshold never moves with the data: a world where every pair trusts at 0.95 still
    # draws every pair as a close partner.
    snap = pd.DataFrame(
        {
            "trust_ab": [0.95] * 3,
            "trust_ba": [0.95] * 3,
            "interoperability": [0.7] * 3,
            "risk": [0.0, 0.1, 0.3],
        }
    )
    tie, close, risky = edge_flags(snap)
    assert close.all() and tie.all() and risky.tolist() == [False, False, True]
    low = snap.assign(trust_ab=TIE_TRUST - 0.01, trust_ba=TIE_TRUST - 0.01)
    assert not edge_flags(low)[0].any()


def test_world_scale_network_aggregates_blocs(tmp_path):
    from sim.core.synthetic import synthetic_world
    from sim.reports.blocs import bloc_cores
    from sim.reports.network import AGGREGATE_ABOVE

    res = run_scenario(synthetic_world(60, seed=3, steps=24))
    assert len(res.meta["states"]) > AGGREGATE_ABOVE
    fig = RunFigures.of(res).makers()["network"]()
    width, height = fig.get_size_inches()
    assert width <= 10.5 and height <= 12  # fits an A4 page scaled to its width
    final = res.states["step"] == res.states["step"].max()
    n_blocs = len({c for c in bloc_cores(res.states)[final.to_numpy()] if c})
    texts = _texts(fig)
    assert sum(t.endswith("states") and "bloc" in t for t in texts) >= n_blocs
    assert len(texts) < 150  # blocs and member lists, not 60 state labels per panel


def test_equal_earth_projection():
    from sim.reports.layout import equal_earth, network_layout

    x, y = equal_earth(np.array([0.0, 180.0]), np.array([0.0, 0.0]))
    assert x[0] == 0 and y[0] == 0
    assert x[1] == pytest.approx(2.7066, abs=1e-3)  # the projection's half-width at the equator

    def area(lat: float) -> float:  # area of a 1° x 1° cell, by the Jacobian
        d = 1e-4
        x0, y0 = equal_earth(np.array([10.0]), np.array([lat]))
        x1, y1 = equal_earth(np.array([10.0 + d]), np.array([lat]))
        x2, y2 = equal_earth(np.array([10.0]), np.array([lat + d]))
        return (
            abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0))[0] / d**2 / np.cos(np.radians(lat))
        )

    assert area(60.0) == pytest.approx(area(0.0), rel=1e-3)  # equal area
    locations = {
        "DEL": (28.6, 77.2),
        "BEI": (39.9, 116.4),
        "TOK": (35.7, 139.7),
        "CAN": (-35.3, 149.1),
    }
    pos = network_layout(list(locations), locations, projection="map")
    assert pos["DEL"][0] < pos["BEI"][0] < pos["TOK"][0]
    assert pos["CAN"][1] < pos["TOK"][1] < pos["BEI"][1]


def test_network_map_projection_option(results, tmp_path):
    fig = RunFigures.of(results, projection="map").makers()["network"]()
    assert any("Equal Earth" in t for t in _texts(fig))


# ------------------------------------------------------------------------------------------
# Scripted inputs vs model outcomes; event markers; no fake ramp-up; market label
# ------------------------------------------------------------------------------------------


def test_scripted_war_is_drawn_as_an_input(indo_pacific):
    shared = RunFigures.of(indo_pacific)
    fig = shared.makers()["crises"]()
    crises = indo_pacific.crises
    n_wars = int((crises["outcome"] == "war").sum())
    assert n_wars == 3  # the scenario's war_shock events
    top = fig.axes[0]
    by_label = {c.get_label(): len(c.get_offsets()) for c in top.collections if c.get_label()}
    scripted = [k for k in by_label if "scripted" in k]
    assert scripted and by_label[scripted[0]] == n_wars
    model = [k for k in by_label if "model" in k]
    assert sum(by_label[k] for k in model) <= len(crises) - n_wars
    # the relations figure labels the scripted wars above the panels
    texts = _texts(shared.makers()["relations"]())
    assert any(t.startswith("war India–Pakistan") for t in texts)
    assert any("scripted" in t for t in texts)


def test_every_figure_marks_scripted_inputs(indo_pacific):
    for name, make in RunFigures.of(indo_pacific).makers().items():
        texts = " ".join(_texts(make()))
        assert "scripted" in texts or "input" in texts, name


def test_scripted_activities_are_the_programs_iterations():
    from sim.core.scenario import Event, Scenario, StateSpec
    from sim.reports.scripted import scenario_inputs, scripted_activities

    world = Scenario(
        name="programs",
        states=tuple(
            StateSpec(id=s, capability=c, budget=1.0, arms_industry=0.5)
            for s, c in (("AAA", 1.0), ("BBB", 0.5), ("CCC", 0.3))
        ),
        steps=30,
        seed=1,
        events=(
            Event(2, "exercise_program", {"participants": ("AAA", "BBB"), "every": 6}),
            Event(
                0,
                "arms_program",
                {"suppliers": ("AAA",), "recipient": "CCC", "volume": 0.37, "every": 5},
            ),
        ),
    )
    res = run_scenario(world)
    inputs = scenario_inputs(res)
    mask = scripted_activities(res.activities, inputs)
    picked = res.activities[mask]
    exercises = picked[picked["activity"] == "exercise"]
    arms = picked[picked["activity"] == "arms_transfer"]
    assert exercises["step"].tolist() == [3, 9, 15, 21, 27]
    assert arms["step"].tolist() == [1, 6, 11, 16, 21, 26]
    assert (arms["size"] == 0.37).all()


def test_rolling_mean_does_not_start_from_zero():
    from sim.reports.timeseries import smoothed

    counts = pd.Series([0] + [5] * 40)  # step 0 is the start: nothing happens there
    assert np.allclose(smoothed(counts, 12).to_numpy(), 5.0)


def test_market_figure_plain_label_and_no_start_artefact(indo_pacific):
    from sim.reports.market import MEMORY_STEPS
    from sim.reports.timeaxis import TimeAxis

    fig = RunFigures.of(indo_pacific).makers()["market"]()
    ax = next(ax for ax in fig.axes if ax.get_ylabel())
    assert "exponential" not in ax.get_ylabel() and "months" in ax.get_ylabel()
    first_x = min(ax.collections[0].get_paths()[0].vertices[:, 0])
    time = TimeAxis.from_meta(indo_pacific.meta)
    assert first_x >= time.num([MEMORY_STEPS])[0] - 1  # not step 0 or 1


def test_crisis_markers_do_not_overlap(indo_pacific):
    from sim.reports.crises import MARKER_SIZE, dodge

    # unit: three crises at the same moment on one row go to three lanes
    offsets = dodge(np.array([100.0, 100.0, 100.0, 400.0]), np.zeros(4, dtype=int), 10.0)
    assert len(set(offsets[:3])) == 3 and offsets[3] == 0
    # figure: within each dyad's row, marker centres are at least a marker apart
    fig = RunFigures.of(indo_pacific).makers()["crises"]()
    renderer = _draw(fig)
    top = fig.axes[0]
    pts = np.vstack(
        [
            c.get_offset_transform().transform(c.get_offsets())
            for c in top.collections
            if len(c.get_offsets()) and c.get_label() and "\n" in c.get_label()
        ]
    )
    diameter = np.sqrt(MARKER_SIZE) * fig.dpi / 72 * 0.99
    d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1)) + np.eye(len(pts)) * 1e9
    assert d.min() >= diameter, d.min()
    del renderer


def test_summary_marks_wars_as_scripted(indo_pacific):
    from sim.reports import summary

    text = summary.render_plain(summary.build_summary(indo_pacific))
    assert "wars" in text and "3 (scripted" in text
    assert "Scenario inputs" in text


def test_blocs_figure_at_world_scale_shows_top_rows(tmp_path):
    from sim.core.synthetic import synthetic_world
    from sim.reports.membership import TOP_ROWS

    res = run_scenario(synthetic_world(60, seed=3, steps=24))
    fig = RunFigures.of(res).makers()["blocs"]()
    texts = _texts(fig)
    n_state_rows = sum(t in set(res.meta["names"]) for t in texts)
    assert n_state_rows == TOP_ROWS
    legend_rows = [t for t in texts if t.endswith("bloc")]
    assert len(legend_rows) == len(set(legend_rows))  # no 'China bloc (2)'-style duplicates


def test_a_long_name_with_no_room_is_wrapped_not_dropped():
    from sim.reports.labels import _two_lines

    assert _two_lines("United Arab Emirates") == "United Arab\nEmirates"
    assert _two_lines("Russia") is None and _two_lines("two\nlines") is None
