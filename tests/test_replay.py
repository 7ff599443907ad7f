"""``ddsim run --replay RUN_DIR``: rerun a saved run from its manifest and compare the tables."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli_process as ddsim

import sim.cli

REPO = Path(__file__).resolve().parents[1]
MINIMAL = str(REPO / "scenarios" / "minimal.yaml")


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("replay")
    proc = ddsim(
        "run", MINIMAL, "--steps", "24", "--seed", "3", "--every", "2", "--dyads", "6",
        "--set", "parameters.temperature=0.2", "--no-plots", "--out", "orig", "-q",
        cwd=cwd,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return cwd / "orig"


def copy_run(original: Path, tmp_path: Path) -> Path:
    run = tmp_path / "copy"
    shutil.copytree(original, run)
    return run


def test_replay_is_identical(original, tmp_path):
    proc = ddsim("run", "--replay", str(original), "--out", str(tmp_path / "again"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "replay: identical (7 tables)" in proc.stdout
    assert "warning" not in proc.stderr
    again = tmp_path / "again"
    manifest = json.loads((again / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["seed"] == 3 and manifest["steps"] == 24 and manifest["record_dyads"] == 6
    assert manifest["replay"]["of"] == str(original)
    assert manifest["replay"]["identical"] is True
    pd.testing.assert_frame_equal(
        pd.read_parquet(original / "dyads.parquet"), pd.read_parquet(again / "dyads.parquet")
    )


def test_replay_default_output_is_a_new_directory(original, tmp_path, monkeypatch, capsys):
    run = copy_run(original, tmp_path)
    monkeypatch.chdir(tmp_path)
    assert sim.cli.main(["run", "--replay", str(run)]) == 0
    out = capsys.readouterr().out
    assert "replay: identical" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy", "copy-replay"]
    assert (tmp_path / "copy-replay" / "world.parquet").is_file()


def test_replay_detects_a_tampered_table(original, tmp_path):
    run = copy_run(original, tmp_path)
    world = pd.read_parquet(run / "world.parquet")
    world.loc[3, "mean_trust"] += 1e-9
    world.to_parquet(run / "world.parquet", index=False)
    proc = ddsim("run", "--replay", str(run), "--out", str(tmp_path / "again"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    text = proc.stdout + proc.stderr
    assert "replay: differs" in text
    assert "world" in text and "mean_trust" in text
    for other in ("states", "activities", "dyads"):
        assert f"  {other}:" not in text


def test_replay_warns_about_changed_versions(original, tmp_path, monkeypatch, capsys):
    run = copy_run(original, tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["versions"]["numpy"] = "0.0.1"
    (run / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.chdir(tmp_path)
    assert sim.cli.main(["run", "--replay", str(run), "--out", "again"]) == 0
    captured = capsys.readouterr()
    assert "replay: identical" in captured.out
    assert "warning" in captured.err and "numpy" in captured.err and "0.0.1" in captured.err


def test_replay_of_a_csv_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["run", MINIMAL, "--steps", "24", "--format", "csv", "--no-plots", "--out", "c", "-q"]
    assert sim.cli.main(args) == 0
    assert sim.cli.main(["run", "--replay", "c", "--out", "c2"]) == 0
    assert "replay: identical (6 tables)" in capsys.readouterr().out
    assert (tmp_path / "c2" / "world.csv").is_file()


def test_replay_bad_input_exits_2(original, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert sim.cli.main(["run", "--replay", str(tmp_path / "missing")]) == 2
    assert "missing" in capsys.readouterr().err
    assert sim.cli.main(["run", "--replay", str(original), "--steps", "5"]) == 2
    assert "--steps" in capsys.readouterr().err
    assert sim.cli.main(["run", MINIMAL, "--replay", str(original)]) == 2
    capsys.readouterr()
    assert list(tmp_path.iterdir()) == []
