"""Figures of a run: all drawn, non-trivial, and legends inside the figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from sim.reports.figures import draw_all, network_snapshots, plot_network  # noqa: E402
from sim.running.simulate import run_scenario  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIGURES = ("relations", "network", "blocs", "activities", "crises", "market")


@pytest.fixture(scope="module")
def results():
    return run_scenario(REPO / "scenarios" / "minimal.yaml", steps=24, seed=2, record_dyads=6)


def test_draw_all_writes_every_figure(results, tmp_path):
    written, failed = draw_all(results, out_dir=tmp_path, strict=False)
    assert failed == {}
    assert sorted(p.name for p in written) == sorted(f"{name}.png" for name in FIGURES)
    for path in written:
        assert path.stat().st_size > 5_000, path.name


def test_draw_all_svg(results, tmp_path):
    written, _ = draw_all(results, out_dir=tmp_path, svg=True)
    assert {p.suffix for p in written} == {".png", ".svg"}


@pytest.mark.parametrize("panels", [1, 2, 3])
def test_network_legend_fits_the_figure(results, panels):
    snaps = network_snapshots(results)
    steps = sorted(set(snaps["step"]))[:panels]
    names = dict(zip(results.meta["states"], results.meta["names"], strict=True))
    fig = plot_network(
        snaps, results.states, names, steps=steps, locations=results.meta["locations"]
    )
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        box = fig.bbox
        for legend in fig.legends:
            extent = legend.get_window_extent(renderer)
            assert extent.x0 >= box.x0 - 1 and extent.x1 <= box.x1 + 1, (extent, box)
    finally:
        plt.close(fig)


# ------------------------------------------------------------------------------------------
# Edge cases: every figure draws (and says so) when there is nothing to show
# ------------------------------------------------------------------------------------------


def _names(results) -> dict[str, str]:
    return dict(zip(results.meta["states"], results.meta["names"], strict=True))


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


def test_every_state_alone_is_grey(results):
    from sim.reports.figures import GREY, bloc_style, plot_blocs

    lonely = results.states.assign(bloc=results.states.groupby("step").cumcount())
    style = bloc_style(lonely, _names(results))
    assert style.colors == {} and style.color(0, size=1) == GREY
    plt.close(plot_blocs(lonely, _names(results)))


def test_figure_functions_label_their_axes(results):
    from sim.reports.figures import (
        TimeAxis,
        plot_activities,
        plot_crises,
        plot_market,
        plot_relations,
    )

    time = TimeAxis.from_scenario("2018-01", "month")
    figs = [
        plot_relations(results.world, results.states, time=time),
        plot_activities(results.activities, 24, time=time),
        plot_crises(results.crises, results.world, _names(results), time=time),
        plot_market(results.states, _names(results), time=time),
    ]
    try:
        for fig in figs:
            assert fig._suptitle is not None and fig._suptitle.get_text()
            bottom = fig.axes[-1] if len(fig.axes) > 1 else fig.axes[0]
            assert "date" in bottom.get_xlabel()
            assert any(ax.get_ylabel() for ax in fig.axes)
    finally:
        for fig in figs:
            plt.close(fig)


def test_time_axis():
    import numpy as np

    from sim.reports.figures import TimeAxis

    monthly = TimeAxis.from_scenario("2018-01", "month")
    assert monthly.dated
    assert str(monthly.x([0, 13])[1])[:7] == "2019-02"
    assert monthly.step_label(12) == "step 12 (Jan 2019)"
    quarterly = TimeAxis.from_scenario("2020-01", "quarter")
    assert str(quarterly.x([4])[0])[:7] == "2021-01"
    plain = TimeAxis.from_scenario(None, "month")
    assert not plain.dated and plain.x([0, 5]).tolist() == [0, 5]
    assert plain.label == "step (months since start)"
    assert np.issubdtype(TimeAxis.from_scenario("not a date", "month").x([1]).dtype, np.integer)


def test_network_layout_is_deterministic_and_spread(results):
    import numpy as np

    from sim.reports.figures import network_layout

    ids = results.meta["states"]
    for locations in (results.meta["locations"], None):
        snaps = results.final_dyads
        a = network_layout(ids, locations, snaps)
        b = network_layout(ids, locations, snaps)
        assert all(np.array_equal(a[s], b[s]) for s in ids)
        xy = np.array([a[s] for s in ids])
        dist = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1)) + np.eye(len(ids))
        assert dist.min() > 0.03
    geo = network_layout(ids, results.meta["locations"])
    # west-east order of capitals survives (Washington west of Beijing, Tokyo and Canberra
    # once longitudes are centred on the region)
    assert geo["CHN"][0] < geo["JPN"][0] < geo["USA"][0]
    assert geo["AUL"][1] < geo["JPN"][1]  # Canberra south of Tokyo


def test_plot_run_redraws_a_saved_run(results, tmp_path):
    from sim import save_run
    from sim.reports.figures import plot_run

    run = save_run(results, tmp_path / "r", plots=False)
    written = plot_run(run, svg=True)
    assert sorted(p.name for p in written) == sorted(
        f"{name}.{ext}" for name in FIGURES for ext in ("png", "svg")
    )
