"""Damaged run directories and run options that cannot work (issue 19 items 8, 10 and 12):
one-line errors with exit 2, checked before anything is rerun or written.

- a manifest.json holding ``[]``, a truncated table, a CSV table with a column removed or
  ``abc`` in an integer column: `load_run` names the file (no silent plot), and
  ``run --replay`` refuses before rerunning the simulation;
- ``--every 100 --dyads 7`` (dyads would be recorded at step 0 only) is an error;
- a run that cannot fit in memory is refused before it starts, and the estimate is an
  upper bound of what a run really uses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.errors import InputError
from sim.running.rundir import load_run

REPO = Path(__file__).resolve().parents[1]
MINIMAL = str(REPO / "scenarios" / "minimal.yaml")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A Parquet run and a CSV run of the minimal scenario (no figures)."""
    from conftest import run_cli

    folder = tmp_path_factory.mktemp("saved")
    out = {}
    for fmt in ("parquet", "csv"):
        args = ["run", MINIMAL, "--steps", "12", "--no-plots", "--format", fmt, "-q"]
        proc = run_cli(*args, "--out", str(folder / fmt))
        assert proc.returncode == 0, proc.stderr
        out[fmt] = folder / fmt
    return out


def _copy(run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(run, target)
    return target


def _one_line_exit_2(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _damage(run: Path, how: str) -> str:
    """Damage a saved run; return a word the error must contain."""
    if how == "manifest []":
        (run / "manifest.json").write_text("[]")
        return "JSON object"
    if how == "manifest without a seed":  # the schema (sim/running/manifest.py) names the key
        manifest = json.loads((run / "manifest.json").read_text())
        del manifest["seed"]
        manifest["tables"]["world"]["rows"] = "many"
        (run / "manifest.json").write_text(json.dumps(manifest))
        return "seed: required"
    if how == "truncated parquet":
        os.truncate(run / "world.parquet", 300)
        return "world.parquet"
    world = pd.read_csv(run / "world.csv")
    if how == "csv column removed":
        world.drop(columns=["mean_risk"]).to_csv(run / "world.csv", index=False)
        return "mean_risk"
    world["step"] = world["step"].astype(object)
    world.loc[3, "step"] = "abc"  # an integer column
    world.to_csv(run / "world.csv", index=False)
    return "abc"


CASES = [
    ("parquet", "manifest []"),
    ("parquet", "manifest without a seed"),
    ("parquet", "truncated parquet"),
    ("csv", "csv column removed"),
    ("csv", "abc in an integer column"),
]


@pytest.mark.parametrize(("fmt", "how"), CASES)
def test_damaged_run_is_a_clear_error_when_loaded(
    saved: dict[str, Path], tmp_path: Path, fmt: str, how: str
) -> None:
    run = _copy(saved[fmt], tmp_path)
    word = _damage(run, how)
    with pytest.raises(InputError, match=word):
        load_run(run)


@pytest.mark.parametrize(("fmt", "how"), CASES)
def test_replay_of_a_damaged_run_refuses_before_rerunning(
    saved: dict[str, Path], tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch, fmt: str, how: str
) -> None:
    import sim.core.model

    run = _copy(saved[fmt], tmp_path)
    word = _damage(run, how)
    ran = []
    real_init = sim.core.model.DiplomacyModel.__init__

    def spy(self, *args, **kwargs):
        ran.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(sim.core.model.DiplomacyModel, "__init__", spy)
    proc = cli("run", "--replay", str(run), "--out", str(tmp_path / "again"))
    assert word in _one_line_exit_2(proc)
    assert not ran  # the saved tables were checked before any rerun
    assert not (tmp_path / "again").exists()


def test_intact_csv_run_loads_with_its_dtypes(saved: dict[str, Path]) -> None:
    a, b = load_run(saved["csv"]), load_run(saved["parquet"])
    for name in ("world", "states", "activities", "crises", "start_dyads", "final_dyads"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


# ------------------------------------------------------------------------------------------
# --every and --dyads
# ------------------------------------------------------------------------------------------


def test_dyads_not_on_recorded_steps_is_an_error(tmp_path: Path, cli) -> None:
    proc = cli("run", MINIMAL, "--steps", "24", "--every", "10", "--dyads", "7",
               "--out", str(tmp_path / "r"))  # fmt: skip
    line = _one_line_exit_2(proc)
    assert "--dyads 7" in line and "multiple" in line and "10" in line
    assert list(tmp_path.iterdir()) == []
    from sim.running.simulate import run_scenario

    with pytest.raises(InputError, match="multiple"):
        run_scenario(MINIMAL, steps=12, record_every=2, record_dyads=3)


def test_dyads_on_a_multiple_of_every_are_recorded_there() -> None:
    from sim.running.simulate import run_scenario

    res = run_scenario(MINIMAL, steps=24, record_every=2, record_dyads=6)
    assert sorted(res.dyads["step"].unique()) == [0, 6, 12, 18, 24]
    assert res.world["step"].tolist() == list(range(0, 25, 2))


# ------------------------------------------------------------------------------------------
# Memory
# ------------------------------------------------------------------------------------------


def test_run_that_cannot_fit_is_refused_before_anything_is_written(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.running.resources as resources

    monkeypatch.setattr(resources, "machine_memory_bytes", lambda: 100_000_000)
    proc = cli("run", MINIMAL, "--steps", "12", "--out", str(tmp_path / "r"))
    line = _one_line_exit_2(proc)
    assert "memory" in line and "GB" in line and "minimal.yaml" in line
    assert list(tmp_path.iterdir()) == []
    smoke = REPO / "experiments" / "smoke.yaml"
    proc = cli("sweep", str(smoke), "--out", str(tmp_path / "s"), "--workers", "2")
    assert "memory" in _one_line_exit_2(proc)
    assert list(tmp_path.iterdir()) == []


def test_five_thousand_states_are_refused_on_a_machine_of_this_size() -> None:
    from sim.running.resources import check_run_memory, estimate_run_bytes

    size = estimate_run_bytes(5000, steps=120)
    assert size.total > 8e9  # what the hostile trial saw fail (8.7 GB)
    with pytest.raises(InputError, match="5000 states"):
        check_run_memory(size, what="w.yaml: 5000 states", limit=8_000_000_000)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
@pytest.mark.parametrize(("n", "plots"), [(400, False), (400, True)])
def test_memory_estimate_bounds_a_real_run(tmp_path: Path, n: int, plots: bool) -> None:
    """The estimate is at least the peak RSS of a real ``ddsim run`` and at most twice it."""
    from sim.core.synthetic import synthetic_world
    from sim.running.resources import estimate_run_bytes
    from sim.scenarios.loader import scenario_to_dict

    world = synthetic_world(n, seed=1, steps=12)
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(scenario_to_dict(world), sort_keys=False))
    code = (  # VmHWM: ru_maxrss would include the parent's peak from before exec
        "import re, sys, sim.cli; code = sim.cli.main(sys.argv[1:]); "
        "status = open('/proc/self/status').read(); "
        "print(int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) * 1024, file=sys.stderr); "
        "sys.exit(code)"
    )
    args = ["run", str(path), "--out", str(tmp_path / "r"), "-q"] + (
        [] if plots else ["--no-plots"]
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    peak = int(proc.stderr.strip().splitlines()[-1])
    estimate = estimate_run_bytes(n, steps=12, figures=plots).total
    assert peak <= estimate <= 2 * peak, (peak / 1e6, estimate / 1e6)
    assert json.loads((tmp_path / "r" / "manifest.json").read_text())["status"] == "complete"
