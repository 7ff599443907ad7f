"""``ddsim run SCENARIO --replicates R``: an ensemble of one scenario (bands, medians with
intervals, overrides listed), through the ensemble store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.cli
from sim.experiments.ensemble import load_ensemble, replicate_seed

REPO = Path(__file__).resolve().parents[1]
MINIMAL = str(REPO / "scenarios" / "minimal.yaml")
ARGS = ["run", MINIMAL, "--replicates", "3", "--steps", "12", "--workers", "1", "--seed", "4"]


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ens") / "e"
    args = [*ARGS, "--set", "governance.transparency=0.7", "--out", str(out)]
    assert sim.cli.main(args) == 0
    return out


def test_replicates_run_with_their_seeds_and_the_override(ensemble):
    ens = load_ensemble(ensemble)
    assert sorted(ens.runs["replicate"]) == [0, 1, 2]
    assert (ens.runs["status"] == "ok").all()
    seeds = dict(zip(ens.runs["replicate"], ens.runs["seed"], strict=True))
    assert seeds == {r: replicate_seed(4, r) for r in range(3)}
    manifest = json.loads((ensemble / "sweep.json").read_text())
    assert manifest["variants"][0]["overrides"] == {"governance.transparency": 0.7}
    assert ens.variants[0].scenario["governance"]["transparency"] != 0.7  # applied on top


def test_summary_lists_overrides_and_medians_with_intervals(ensemble):
    text = (ensemble / "summary.txt").read_text()
    assert "overrides: governance.transparency=0.7" in text
    assert "3 replicates x 12 steps" in text and "50% interval" in text
    table = pd.read_csv(ensemble / "summary.csv")
    ens = load_ensemble(ensemble)
    for _, r in table.iterrows():
        values = ens.outcomes[r["outcome"]].astype(float).dropna().to_numpy()
        assert r["n"] == len(values)
        if len(values):
            assert r["median"] == pytest.approx(np.median(values), rel=1e-5, abs=1e-9)
            assert r["p05"] <= r["p25"] <= r["median"] <= r["p75"] <= r["p95"]


def test_bands_over_time_and_their_figure(ensemble):
    bands = pd.read_csv(ensemble / "bands.csv")
    risk = bands[bands["metric"] == "mean_risk"]
    assert list(risk["step"]) == list(range(13)) and (risk["n"] == 3).all()
    assert (risk["p05"] <= risk["median"]).all() and (risk["median"] <= risk["p95"]).all()
    assert (risk["p95"] - risk["p05"]).iloc[-1] > 0  # the replicates differ
    png = ensemble / "figures" / "bands.png"
    assert png.stat().st_size > 10_000


def test_rerun_resumes_without_running_again(ensemble, capsys):
    before = load_ensemble(ensemble).runs[["run_id", "wall_time"]]
    args = [*ARGS, "--set", "governance.transparency=0.7", "--out", str(ensemble)]
    assert sim.cli.main(args) == 0
    after = load_ensemble(ensemble).runs[["run_id", "wall_time"]]
    pd.testing.assert_frame_equal(before, after)


@pytest.mark.parametrize(
    ("extra", "flag"),
    [(["--dyads", "6"], "--dyads"), (["--format", "csv"], "--format"), (["--svg"], "--svg")],
)
def test_options_of_one_run_are_refused_with_exit_2(tmp_path, capsys, extra, flag):
    code = sim.cli.main([*ARGS, *extra, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and flag in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x").exists()


def test_bad_set_path_with_replicates_exits_2(tmp_path, capsys):
    code = sim.cli.main([*ARGS, "--set", "governance.nope=1", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "governance.nope" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_without_steps_each_run_keeps_the_scenarios_length(tmp_path):
    """steps: null in sweep.json (each variant its own length) loads again (it was refused
    by the manifest schema, so load_ensemble failed after every run had finished)."""
    out = tmp_path / "e"
    args = ["run", MINIMAL, "--replicates", "2", "--workers", "1", "--no-plots", "-q"]
    assert sim.cli.main([*args, "--out", str(out)]) == 0
    ens = load_ensemble(out)
    assert ens.manifest["steps"] is None
    assert ens.timeseries["step"].max() == ens.manifest["variants"][0]["steps"]


def test_report_page_of_the_ensemble_and_ddsim_report_again(ensemble, capsys):
    page = (ensemble / "report.html").read_text()
    assert "Outcomes over the replicates" in page and "governance.transparency = 0.7" in page
    assert "<img" in page and "50% interval" in page
    (ensemble / "report.html").unlink()
    assert sim.cli.main(["report", str(ensemble)]) == 0
    assert "Outcomes over the replicates" in (ensemble / "report.html").read_text()
