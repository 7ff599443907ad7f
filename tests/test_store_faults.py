"""A damaged sweep store is detected, never read silently, and repaired by resuming
(issue 19 items 1, 3 and 4, and a manifest holding ``[]``).

Each test damages real files of a real store the way a disk, a copy or a person would
(truncated, emptied, a flipped byte, a wrong manifest) and checks what the readers
(`load_sweep`, ``ddsim analyze``) and the next ``ddsim sweep`` do with it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import sim.experiments.sweep
from sim.experiments.executors import ExecutorError
from sim.experiments.sweep import SweepError, load_sweep, run_sweep

# (sim.experiments.store.DamagedStoreWarning is a UserWarning; matched by message here so
# that this file also runs, and fails, on the code before the store was verified)
DamagedStoreWarning = UserWarning

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "experiments" / "smoke.yaml"
RUNS, STEPS = 8, 36  # the smoke sweep: 8 runs, time series of 37 rows (steps 0..36)


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke sweep committed in 4 commits of 2 runs (4 parts per table)."""
    out = tmp_path_factory.mktemp("store") / "smoke"
    summary = run_sweep(SMOKE, out, workers=1, batch_size=2, commit_every=0, quiet=True)
    assert summary.ok == RUNS
    assert len(list((out / "runs").glob("part-*.parquet"))) == 4
    return out


def _copy(committed: Path, tmp_path: Path) -> Path:
    out = tmp_path / "smoke"
    shutil.copytree(committed, out)
    return out


def _first(out: Path, table: str) -> Path:
    return sorted((out / table).glob("part-*.parquet"))[0]


def _damage(path: Path, how: str) -> None:
    if how == "truncate500":
        os.truncate(path, min(500, path.stat().st_size - 1))
    elif how == "empty":
        os.truncate(path, 0)
    else:  # one flipped byte in the middle: same size, still a Parquet file
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x5A
        path.write_bytes(bytes(data))


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


def _one_copy_on_disk(out: Path) -> None:
    """Every run's rows appear exactly once in each table's committed parts."""
    for table, rows in (("runs", 1), ("outcomes", 1), ("timeseries", STEPS + 1)):
        frames = [pq.read_table(p).to_pandas() for p in (out / table).glob("part-*.parquet")]
        counts = pd.concat(frames)["run_id"].value_counts()
        assert len(counts) == RUNS and (counts == rows).all(), (table, counts.to_dict())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("table", "how"),
    [("outcomes", "truncate500"), ("timeseries", "empty"), ("outcomes", "flip")],
)
def test_damaged_results_part_is_never_read_silently_and_resume_reruns_it(
    committed: Path, tmp_path: Path, cli, table: str, how: str
) -> None:
    out = _copy(committed, tmp_path)
    reference = load_sweep(committed)
    _damage(_first(out, table), how)

    with pytest.warns(DamagedStoreWarning, match=f"{table}/part-"):
        res = load_sweep(out)
    assert len(res.damaged) == 1
    assert len(res.runs) == len(res.outcomes) == RUNS - 2  # the commit's 2 runs left out
    assert set(res.outcomes["run_id"]) == set(res.runs["run_id"])

    proc = cli("analyze", str(out), "--no-figures")
    assert proc.returncode == 0, proc.stderr
    assert "warning" in proc.stderr and "damaged" in proc.stderr
    assert f"runs: {RUNS - 2} ok and used" in proc.stdout
    assert "Traceback" not in proc.stderr

    resumed = cli("sweep", str(SMOKE), "--out", str(out), "--workers", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert f"2 to run, {RUNS - 2} already done" in resumed.stderr
    assert "damaged" in resumed.stderr
    assert (out / "damaged" / table / _first(committed, table).name).is_file()
    res = load_sweep(out)
    assert not res.damaged and len(res.runs) == RUNS
    pd.testing.assert_frame_equal(
        _sorted(res.outcomes, ["run_id"]), _sorted(reference.outcomes, ["run_id"])
    )
    pd.testing.assert_frame_equal(
        _sorted(res.timeseries, ["run_id", "step"]),
        _sorted(reference.timeseries, ["run_id", "step"]),
    )
    _one_copy_on_disk(out)


@pytest.mark.slow
def test_truncated_runs_part_then_resume_keeps_one_copy_of_every_row(
    committed: Path, tmp_path: Path
) -> None:
    out = _copy(committed, tmp_path)
    reference = load_sweep(committed)
    _damage(_first(out, "runs"), "truncate500")
    with pytest.warns(DamagedStoreWarning, match="runs/part-"):
        partial = load_sweep(out)
    assert len(partial.runs) == RUNS - 2
    assert len(partial.timeseries) == (RUNS - 2) * (STEPS + 1)  # no rows of unknown runs

    summary = run_sweep(SMOKE, out, workers=1, quiet=True)
    assert summary.ran == 2 and summary.damaged_moved == 3
    res = load_sweep(out)
    assert len(res.timeseries) == RUNS * (STEPS + 1)
    assert res.timeseries.groupby("run_id").size().eq(STEPS + 1).all()
    pd.testing.assert_frame_equal(
        _sorted(res.timeseries, ["run_id", "step"]),
        _sorted(reference.timeseries, ["run_id", "step"]),
    )
    _one_copy_on_disk(out)


def test_bad_scheduler_address_creates_nothing(tmp_path: Path, cli) -> None:
    out = tmp_path / "s"
    proc = cli("sweep", str(SMOKE), "--out", str(out), "--scheduler", "notaurl")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--scheduler" in lines[0] and "notaurl" in lines[0]
    assert not out.exists()


def test_unreachable_scheduler_leaves_no_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    def refuse(*args, **kwargs):
        raise ExecutorError("cannot connect to the Dask scheduler 'tcp://h:1': refused")

    monkeypatch.setattr(sim.experiments.sweep, "make_executor", refuse)
    out = tmp_path / "s"
    proc = cli("sweep", str(SMOKE), "--out", str(out), "--scheduler", "tcp://h:1")
    assert proc.returncode == 2 and "cannot connect" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("force_new", [False, True])
def test_store_that_never_started_is_resumable(
    committed: Path, tmp_path: Path, cli, force_new: bool
) -> None:
    """What an earlier version left after a scheduler error: the store's files without
    sweep.json. Resuming (or --force-new) starts it afresh."""
    out = tmp_path / "s"
    out.mkdir()
    for name in ("design.parquet", "experiment.yaml", "scenario.yaml"):
        shutil.copy(committed / name, out / name)
    args = ["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet"]
    proc = cli(*args, *(["--force-new"] if force_new else []))
    assert proc.returncode == 0, proc.stderr
    assert len(load_sweep(out).runs) == RUNS


def test_directory_of_other_files_is_still_refused(tmp_path: Path, cli) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "notes.txt").write_text("mine")
    proc = cli("sweep", str(SMOKE), "--out", str(tmp_path / "s"), "--force-new", "--quiet")
    assert proc.returncode == 2 and "without sweep.json" in proc.stderr
    assert (tmp_path / "s" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "content",
    ["[]", "{not json", "", '{"format": "ddsim-sweep/1"}'],
    ids=["list", "json", "empty", "keys"],
)
def test_sweep_manifest_that_is_not_an_object_is_one_line(
    committed: Path, tmp_path: Path, cli, content: str
) -> None:
    out = _copy(committed, tmp_path)
    (out / "sweep.json").write_text(content)
    with pytest.raises(SweepError, match="sweep.json"):
        load_sweep(out)
    for args in (["analyze", str(out)], ["sweep", str(SMOKE), "--out", str(out), "--quiet"]):
        proc = cli(*args)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "sweep.json" in proc.stderr
    proc = cli("sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--force-new", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "sweep.json").read_text())["status"] == "complete"
