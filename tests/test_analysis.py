"""`ddsim analyze`: plots, heatmaps, tables and summary.md; Sobol and Morris indices."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim import analyze
from sim.experiments.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "experiments" / "smoke.yaml"
SMOKE_OUTCOMES = [
    "crises_per_year", "exercises_per_year", "mean_risk", "final_trust_within",
    "final_polarization", "first_crisis", "jpn_hedging", "chn_jpn_crises",
]  # fmt: skip


def _sampling_experiment(folder: Path, design: dict) -> Path:
    data = {
        "name": f"small_{design['type']}",
        "scenario": str(ROOT / "scenarios" / "minimal.yaml"),
        "steps": 12,
        "seed": 11,
        "replicates": 1,
        "design": design,
        "parameters": [
            {"path": "parameters.cost_exercise", "name": "cost_exercise", "range": [0.3, 2.0]},
            {"path": "governance.transparency", "name": "transparency", "range": [0.0, 1.0]},
        ],
        "outcomes": [
            {"name": "exercises", "metric": "exercises", "stat": "sum"},
            {"name": "mean_risk", "metric": "mean_risk", "stat": "mean"},
        ],
    }
    path = folder / f"{design['type']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_analyze_smoke_through_cli(tmp_path: Path) -> None:
    out = tmp_path / "smoke"
    run_sweep(SMOKE, out, workers=2, quiet=True)
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "analyze", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    folder = out / "analysis"
    names = {p.name for p in folder.iterdir()}
    constant = json.loads((folder / "analysis_figures.json").read_text())["constant"]
    assert set(constant) < set(SMOKE_OUTCOMES)  # outcomes that never vary are listed ...
    for o in SMOKE_OUTCOMES:
        plotted = f"response_{o}.png" in names
        assert plotted != (o in constant), o  # ... instead of plotted
        assert plotted == (f"heatmap_{o}__cost_exercise__transparency.png" in names)
    assert "report.html" in names
    for table in ("points", "response", "sensitivity", "heatmaps"):
        assert {f"{table}.csv", f"{table}.parquet"} <= names
    assert all((folder / n).stat().st_size > 0 for n in names)
    summary = (folder / "summary.md").read_text()
    assert summary.startswith("# Sweep analysis: smoke")
    assert "8 ok and used, 0 failed" in summary
    for o in SMOKE_OUTCOMES:
        assert f"**{o}**" in summary
    points = pd.read_parquet(folder / "points.parquet")
    assert len(points) == 4
    assert {"cost_exercise", "transparency", "mean_risk_mean"} <= set(points.columns)
    heat = pd.read_csv(folder / "heatmaps.csv")
    assert len(heat) > 0
    assert proc.stdout.strip() == summary.strip()


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sampled")
    outs = {}
    designs = (
        {"type": "sobol", "samples": 16, "second_order": True},
        {"type": "morris", "samples": 6},
    )
    for design in designs:
        exp = _sampling_experiment(folder, design)
        outs[design["type"]] = folder / f"out_{design['type']}"
        summary = run_sweep(exp, outs[design["type"]], workers=2, quiet=True)
        assert summary.failed == 0
    return outs


def test_sobol_indices(sampled: dict[str, Path]) -> None:
    report = analyze(sampled["sobol"], figures=True)
    assert report.ok_runs == 16 * (2 * 2 + 2)  # N (2k + 2) with second-order indices
    sobol = pd.read_csv(report.out / "sobol.csv")
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(sobol.columns)
    assert set(sobol["parameter"]) == {"cost_exercise", "transparency"}
    assert set(sobol["outcome"]) == {"exercises", "mean_risk"}
    assert len(sobol) == 4
    assert (sobol["ST_conf"].dropna() >= 0).all()
    assert (report.out / "sobol_exercises.png").is_file()
    assert "Sobol" in report.summary
    assert pd.read_parquet(report.out / "sobol.parquet").shape == sobol.shape
    s2 = pd.read_csv(report.out / "sobol_s2.csv")
    assert list(s2.columns) == ["outcome", "parameter_1", "parameter_2", "S2", "S2_conf"]
    assert len(s2) == 2  # one pair per outcome


def test_morris_indices(sampled: dict[str, Path]) -> None:
    report = analyze(sampled["morris"], figures=True)
    assert report.ok_runs == 6 * 3
    morris = pd.read_csv(report.out / "morris.csv")
    assert {"mu_star", "sigma"} <= set(morris.columns)
    assert set(morris["parameter"]) == {"cost_exercise", "transparency"}
    assert (morris["mu_star"] >= 0).all()
    assert (report.out / "morris_mean_risk.png").is_file()
    assert "mu*" in report.summary


# --------------------------------------------------------------------------------------------
# Faults: read-only store, full disk (issue 19 item 10)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("faults") / "smoke"
    assert run_sweep(SMOKE, out, workers=1, quiet=True).ok == 8
    return out


def _copy_store(store: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "smoke"
    shutil.copytree(store, target)
    return target


def _no_partial_output(store: Path) -> None:
    leftovers = [p.name for p in store.iterdir() if "analysis" in p.name]
    assert leftovers == [], leftovers


@pytest.mark.slow
def test_read_only_store_is_one_line(
    smoke_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    import errno

    store = _copy_store(smoke_store, tmp_path)
    real_mkdir = Path.mkdir

    def read_only(self: Path, *args, **kwargs) -> None:
        if self.parent == store or self == store / "analysis":
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    proc = cli("analyze", str(store))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Read-only file system" in lines[0], proc.stderr
    _no_partial_output(store)


@pytest.mark.slow
def test_full_disk_leaves_no_partial_analysis(
    smoke_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    import errno

    store = _copy_store(smoke_store, tmp_path)
    assert cli("analyze", str(store), "--no-figures").returncode == 0  # an earlier analysis
    earlier = {p.name: p.read_bytes() for p in (store / "analysis").iterdir()}
    real_to_csv = pd.DataFrame.to_csv

    def full(self: pd.DataFrame, path=None, *args, **kwargs):
        if path is not None and Path(path).name == "response.csv":
            Path(path).write_text("outcome,parameter\n")  # what got out before the disk filled
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_to_csv(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    proc = cli("analyze", str(store), "--no-figures")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], proc.stderr
    # the earlier analysis is untouched and nothing half-written sits beside it
    assert {p.name: p.read_bytes() for p in (store / "analysis").iterdir()} == earlier
    assert [p.name for p in store.iterdir() if p.name.startswith(".analysis")] == []
