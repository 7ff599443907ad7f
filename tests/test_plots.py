"""Figures of a run: all drawn, non-trivial, and legends inside the figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from sim.plots import draw_all, network_snapshots, plot_network  # noqa: E402
from sim.runner import run_scenario  # noqa: E402

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
