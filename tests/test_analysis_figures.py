"""Figures of a sweep analysis: labels with units, bands inside the valid range, 'never' as a
category, constant outcomes listed, heatmaps on a meaningful scale."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from sim.reports.analysis_figures import (
    SweepContext,
    analysis_figures,
    heatmap_figure,
    response_figure,
)
from sim.reports.quantities import describe_outcome, describe_parameter

STEPS = 36
OUTCOMES = [
    {"name": "trust", "metric": "trust_within", "stat": "final", "table": "world"},
    {"name": "first_crisis", "metric": "crises", "stat": "first", "table": "world", "never": 37.0},
    {"name": "flat", "metric": "hedging", "stat": "final", "table": "states", "state": "JPN"},
    {"name": "mean_risk", "metric": "mean_risk", "stat": "mean", "table": "world"},
    {"name": "crises_per_year", "metric": "crises", "stat": "sum", "per_year": True},
]
PARAMS = {
    "cost_exercise": {"path": "parameters.cost_exercise", "name": "cost_exercise"},
    "transparency": {"path": "governance.transparency", "name": "transparency"},
}


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    """Four cells x 4 replicates: a 0-1 outcome near 1 with spread (its unclipped CI passes 1),
    a first-crisis outcome that never happens in a quarter of the runs, a constant outcome,
    an outcome that varies by 0.0003, and a count per year."""
    rng = np.random.default_rng(0)
    rows = []
    for cost in (0.5, 1.0):
        for transparency in (0.3, 0.8):
            for rep in range(4):
                rows.append(
                    {
                        "cost_exercise": cost,
                        "transparency": transparency,
                        "trust": [1.0, 0.82, 1.0, 0.99][rep],
                        "first_crisis": 37.0 if rep == 0 else 5.0 + 10 * cost + rep,
                        "flat": 0.0,
                        "mean_risk": 0.98 + 1e-4 * cost + 1e-5 * rng.random(),
                        "crises_per_year": 2.0 * cost + rep,
                    }
                )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def ctx(runs) -> SweepContext:
    return SweepContext(runs, STEPS, {"cost_exercise": 1.0, "transparency": 0.3}, PARAMS)


def _empty_tables() -> dict[str, pd.DataFrame]:
    resp = pd.DataFrame(columns=["outcome", "parameter", "x", "mean", "ci_low", "ci_high", "sd"])
    heat = pd.DataFrame(columns=["outcome", "param_x", "x", "param_y", "y", "mean", "n"])
    return {"response": resp, "heatmaps": heat}


def _texts(fig) -> list[str]:
    return [" ".join(t.get_text().split()) for t in fig.findobj(Text) if t.get_text()]


def test_labels_come_from_definitions_with_units():
    q = describe_outcome(OUTCOMES[3], steps=STEPS)
    assert q.axis_label == "mean escalation risk over the run (0–1)"
    assert (q.low, q.high) == (0, 1)
    assert describe_outcome(OUTCOMES[4]).axis_label == "model crises per year"
    first = describe_outcome(OUTCOMES[1], steps=STEPS)
    assert (
        first.axis_label == "first model crisis (step)"
        and first.high == STEPS
        and first.never == 37
    )
    p = describe_parameter(PARAMS["cost_exercise"])
    assert p.label.startswith("cost_exercise: effort cost")
    lever = describe_parameter(PARAMS["transparency"])
    assert "transparency about exercises" in lever.axis_label and "0–1" in lever.axis_label


def test_band_of_a_0_1_outcome_stays_in_0_1(runs, ctx):
    from matplotlib.collections import FillBetweenPolyCollection, PolyCollection

    q = describe_outcome(OUTCOMES[0], steps=STEPS)
    fig, caption = response_figure(_empty_tables()["response"], OUTCOMES[0], q, list(PARAMS), ctx)
    # the raw interval does pass 1 (mean 0.95, sd 0.09, n 4): clipping is what keeps it in
    sd = runs.groupby("cost_exercise")["trust"].std().max()
    assert runs.groupby("cost_exercise")["trust"].mean().max() + 3.18 * sd / 2 > 1
    bands = [
        c for ax in fig.axes for c in ax.collections
        if isinstance(c, FillBetweenPolyCollection | PolyCollection)
    ]  # fmt: skip
    assert bands
    for band in bands:
        y = band.get_paths()[0].vertices[:, 1]
        assert y.max() <= 1.0 + 1e-12 and y.min() >= 0.0
    assert any("trust within blocs at the end (0–1)" in t for t in _texts(fig))
    assert "clipped" in caption


def test_never_is_a_category_not_a_number(runs, ctx):
    q = describe_outcome(OUTCOMES[1], steps=STEPS)
    fig, _ = response_figure(_empty_tables()["response"], OUTCOMES[1], q, list(PARAMS), ctx)
    top = fig.axes[0]
    line = next(ln for ln in top.get_lines() if ln.get_marker() == "o")
    means = line.get_ydata()
    # the mean is over runs where a crisis happened: never above the run's last step
    assert max(means) <= STEPS
    expected = runs[runs["first_crisis"] != 37].groupby("cost_exercise")["first_crisis"].mean()
    assert np.allclose(means, expected.to_numpy())
    never_panel = fig.axes[ncols_index(fig)]
    heights = [b.get_height() for b in never_panel.patches]
    assert heights == pytest.approx([0.25, 0.25])  # a quarter of the runs: never
    heat = heatmap_figure(_empty_tables()["heatmaps"], OUTCOMES[1], q, *PARAMS, ctx)[0]
    assert any("never 25%" in t for t in _texts(heat))


def ncols_index(fig) -> int:
    """Index of the first 'never' panel: the axes after the first row of curves."""
    return next(k for k, ax in enumerate(fig.axes) if "never" in ax.get_ylabel())


def test_constant_outcomes_are_listed_not_plotted(ctx, tmp_path):
    result = analysis_figures(_empty_tables(), OUTCOMES, list(PARAMS), tmp_path, ctx)
    assert "flat" in result.constant and "0 in all 16 runs" in result.constant["flat"]
    assert not (tmp_path / "response_flat.png").exists()
    assert (tmp_path / "response_trust.png").is_file()
    record = json.loads((tmp_path / "analysis_figures.json").read_text())
    assert record["constant"]["flat"] == result.constant["flat"]
    assert {f["file"] for f in record["figures"]} >= {"response_trust.png"}


def test_heatmap_scale_has_a_meaningful_span(ctx):
    """A 0.0001 spread of a 0-1 outcome does not stretch over the whole colour map; the
    colourbar says what the quantity is; every cell has the same decimals."""
    q = describe_outcome(OUTCOMES[3], steps=STEPS)
    no_base = SweepContext(ctx.runs, STEPS, {}, PARAMS)
    fig, caption = heatmap_figure(_empty_tables()["heatmaps"], OUTCOMES[3], q, *PARAMS, no_base)
    image = fig.axes[0].get_images()[0]
    lo, hi = image.norm.vmin, image.norm.vmax
    assert hi - lo >= 0.05 * (q.high - q.low) - 1e-12
    assert lo >= 0 and hi <= 1
    bar_label = fig.axes[1].get_ylabel()
    assert "mean escalation risk" in bar_label and "mean mean" not in bar_label
    cells = [t.get_text() for t in fig.axes[0].texts]
    assert len(cells) == 4 and len({len(t.split(".")[1]) for t in cells}) == 1
    assert "colour span" in caption


def test_heatmap_diverges_around_the_base_case(ctx):
    from matplotlib.colors import TwoSlopeNorm

    q = describe_outcome(OUTCOMES[4], steps=STEPS)
    fig, caption = heatmap_figure(_empty_tables()["heatmaps"], OUTCOMES[4], q, *PARAMS, ctx)
    norm = fig.axes[0].get_images()[0].norm
    assert isinstance(norm, TwoSlopeNorm)
    base = ctx.runs.query("cost_exercise == 1.0 and transparency == 0.3")["crises_per_year"].mean()
    assert norm.vcenter == pytest.approx(base)
    assert "base case" in caption


def test_analyze_help_shows_percent_once(cli):
    result = cli("analyze", "--help")
    assert "95% confidence" in result.stdout and "95%%" not in result.stdout
