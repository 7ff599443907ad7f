"""Sweeps: the same results on any executor, failed runs recorded, `load_sweep` tables.

Uses experiments/smoke.yaml (8 runs of the minimal scenario, 36 steps): run with one
worker (in-process), two worker processes and a local Dask cluster, the per-run outcomes
and time series are identical (seeds depend only on point and replicate).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.experiment import load_experiment, run_id, run_seed
from sim.sweep import FAIL_ENV, SweepError, load_sweep, run_one, run_sweep

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "experiments" / "smoke.yaml"
PARAMS = ["cost_exercise", "transparency"]
OUTCOMES = [
    "crises_per_year", "exercises_per_year", "mean_risk", "final_trust_within",
    "final_polarization", "first_crisis", "jpn_hedging", "chn_jpn_crises",
]  # fmt: skip
RUN_COLUMNS = {
    "run_id", "point", "replicate", "seed", *PARAMS, "status", "error", "wall_time",
    "worker", "finished",
}  # fmt: skip


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def smoke_serial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("smoke") / "serial"
    summary = run_sweep(SMOKE, out, workers=1, quiet=True)
    assert (summary.ran, summary.ok, summary.failed, summary.exit_code) == (8, 8, 0, 0)
    return out


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("run_id").reset_index(drop=True)


def _ts_sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["run_id", "step"]).reset_index(drop=True)


def test_load_sweep_tables(smoke_serial: Path) -> None:
    res = load_sweep(smoke_serial)
    assert set(res.runs.columns) >= RUN_COLUMNS
    assert len(res.runs) == 8 and res.runs["run_id"].is_unique
    assert set(res.runs["status"]) == {"ok"}
    assert res.runs["error"].isna().all()
    assert list(res.outcomes.columns) == ["run_id", *OUTCOMES]
    assert len(res.outcomes) == 8 and res.outcomes["run_id"].is_unique
    assert list(res.timeseries.columns) == ["run_id", "step", "mean_risk", "crises", "exercises"]
    assert len(res.timeseries) == 8 * 37  # the initial state (step 0) and 36 steps
    assert (
        res.timeseries.groupby("run_id")["step"]
        .agg(["min", "max", "nunique"])
        .eq([0, 36, 37])
        .all()
        .all()
    )
    table = res.table()
    assert len(table) == 8 and set(OUTCOMES) <= set(table.columns)
    assert set(table.columns) >= RUN_COLUMNS
    assert res.parameters == PARAMS and res.outcome_names == OUTCOMES
    assert list(res.design.columns[:3]) == ["point", *PARAMS] and len(res.design) == 4
    # seeds and ids follow the documented rule
    for row in res.runs.itertuples():
        assert row.run_id == run_id(row.point, row.replicate)
        assert row.seed == run_seed(2024, row.point, row.replicate)
    manifest = json.loads((smoke_serial / "sweep.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["counts"] == {"ok": 8, "failed": 0, "pending": 0}
    # outcomes are finite where they are defined; the target outcome is in range
    assert res.outcomes["mean_risk"].between(0, 1).all()
    assert (res.outcomes["first_crisis"] <= 37).all()


def test_rerun_is_a_no_op(smoke_serial: Path) -> None:
    before = sorted(p.name for p in (smoke_serial / "runs").iterdir())
    summary = run_sweep(SMOKE, smoke_serial, workers=1, quiet=True)
    assert summary.ran == 0 and summary.already_done == 8 and summary.exit_code == 0
    assert sorted(p.name for p in (smoke_serial / "runs").iterdir()) == before


def test_more_replicates_extends_the_store(tmp_path: Path, smoke_serial: Path) -> None:
    import shutil

    out = tmp_path / "extended"
    shutil.copytree(smoke_serial, out)
    summary = run_sweep(SMOKE, out, workers=1, quiet=True, replicates=3)
    assert summary.ran == 4 and summary.already_done == 8
    res = load_sweep(out)
    assert len(res.runs) == 12 and res.runs["run_id"].is_unique
    old = load_sweep(smoke_serial)
    merged = _sorted(res.outcomes[res.outcomes["run_id"].isin(old.outcomes["run_id"])])
    pd.testing.assert_frame_equal(merged, _sorted(old.outcomes), check_exact=True)
    with pytest.raises(SweepError, match="replicates"):
        run_sweep(SMOKE, out, workers=1, quiet=True, replicates=2)


def test_changed_design_is_refused(tmp_path: Path, smoke_serial: Path) -> None:
    import shutil

    import yaml

    out = tmp_path / "store"
    shutil.copytree(smoke_serial, out)
    data = yaml.safe_load(SMOKE.read_text())
    data["parameters"][0]["values"] = [0.5, 2.0]
    data["scenario"] = str(ROOT / "scenarios" / "minimal.yaml")
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(data))
    with pytest.raises(SweepError, match="different"):
        run_sweep(changed, out, workers=1, quiet=True)
    summary = run_sweep(changed, out, workers=1, quiet=True, force_new=True)
    assert summary.ran == 8


@pytest.mark.parametrize("mode", ["processes", "dask"])
def test_same_results_on_every_executor(tmp_path: Path, smoke_serial: Path, mode: str) -> None:
    out = tmp_path / mode
    if mode == "dask":
        pytest.importorskip("distributed")
        proc = _cli("sweep", str(SMOKE), "--out", str(out), "--workers", "2", "--dask-local")
    else:
        proc = _cli("sweep", str(SMOKE), "--out", str(out), "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    a, b = load_sweep(smoke_serial), load_sweep(out)
    pd.testing.assert_frame_equal(_sorted(a.outcomes), _sorted(b.outcomes), check_exact=True)
    cols = ["run_id", "point", "replicate", "seed", *PARAMS, "status"]
    pd.testing.assert_frame_equal(_sorted(a.runs[cols]), _sorted(b.runs[cols]), check_exact=True)
    pd.testing.assert_frame_equal(
        _ts_sorted(a.timeseries), _ts_sorted(b.timeseries), check_exact=True
    )
    if mode == "processes":
        assert b.runs["worker"].nunique() >= 1
        assert "processes" in proc.stderr


def test_failed_run_is_recorded_and_exit_status_1(tmp_path: Path) -> None:
    out = tmp_path / "failing"
    proc = _cli(
        "sweep", str(SMOKE), "--out", str(out), "--workers", "2", env={FAIL_ENV: "p1-r0,p3-r1"}
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "2 failed" in proc.stderr and "p1-r0" in proc.stderr
    res = load_sweep(out)
    assert len(res.runs) == 8
    failed = res.runs[res.runs["status"] == "failed"]
    assert sorted(failed["run_id"]) == ["p1-r0", "p3-r1"]
    assert failed["error"].str.contains("injected failure").all()
    assert failed["error"].str.contains("RuntimeError").all()
    assert sorted(res.outcomes["run_id"]) == sorted(set(res.runs["run_id"]) - {"p1-r0", "p3-r1"})
    assert json.loads((out / "sweep.json").read_text())["counts"]["failed"] == 2
    assert len(res.table()) == 6 and len(res.table(None)) == 8
    # rerunning keeps the failures; --retry-failed runs them again (the hook is now off)
    again = _cli("sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet")
    assert again.returncode == 1
    retry = _cli("sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--retry-failed")
    assert retry.returncode == 0, retry.stderr
    res = load_sweep(out)
    assert len(res.runs) == 8 and set(res.runs["status"]) == {"ok"}
    assert len(res.outcomes) == 8 and res.outcomes["run_id"].is_unique


def test_run_one_matches_the_sweep(smoke_serial: Path) -> None:
    exp = load_experiment(SMOKE)
    res = load_sweep(smoke_serial)
    row = res.runs.iloc[5]
    overrides = {p.path: row[p.name] for p in exp.parameters}
    values = run_one(exp.base, overrides, int(row["seed"]), outcomes=exp.outcomes)
    stored = res.outcomes.set_index("run_id").loc[row["run_id"]]
    for name in OUTCOMES:
        assert values[name] == pytest.approx(stored[name], nan_ok=True)


def test_load_sweep_rejects_non_store(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="sweep.json"):
        load_sweep(tmp_path)
    proc = _cli("analyze", str(tmp_path / "nothing"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
