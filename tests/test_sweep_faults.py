"""Faults: a sweep killed with SIGKILL resumes without losing or duplicating runs, and a
Dask worker killed mid-sweep costs nothing but time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from sim.sweep import load_sweep, run_sweep

ROOT = Path(__file__).resolve().parent.parent


def _slow_experiment(folder: Path, runs_per_point: int = 4, steps: int = 60) -> Path:
    data = {
        "name": "slow",
        "scenario": str(ROOT / "scenarios" / "minimal.yaml"),
        "steps": steps,
        "seed": 5,
        "replicates": runs_per_point,
        "parameters": [
            {
                "path": "parameters.cost_exercise",
                "name": "cost_exercise",
                "values": [0.5, 1.0, 1.5],
            },
            {"path": "governance.transparency", "name": "transparency", "values": [0.2, 0.7]},
        ],  # fmt: skip
        "outcomes": [
            {"name": "crises", "metric": "crises", "stat": "sum"},
            {"name": "mean_risk", "metric": "mean_risk", "stat": "mean"},
        ],
        "timeseries": ["mean_risk"],
    }
    path = folder / "slow.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _check_complete(out: Path, n: int) -> pd.DataFrame:
    res = load_sweep(out)
    assert len(res.runs) == n and res.runs["run_id"].is_unique
    assert set(res.runs["status"]) == {"ok"}
    # every committed part file is readable, and no run id appears in two parts
    ids: list[str] = []
    for table in ("runs", "outcomes", "timeseries"):
        names = [p.name for p in (out / table).iterdir()]
        assert not [x for x in names if x.endswith(".tmp")], names
        for p in (out / table).glob("part-*.parquet"):
            frame = pq.read_table(p).to_pandas()
            if table == "runs":
                ids += list(frame["run_id"])
    assert len(ids) == len(set(ids)) == n
    assert len(res.outcomes) == n and res.outcomes["run_id"].is_unique
    assert res.timeseries.groupby("run_id").size().eq(61).all()
    assert res.timeseries["run_id"].nunique() == n
    return res.outcomes.sort_values("run_id").reset_index(drop=True)


def test_sigkill_then_resume(tmp_path: Path) -> None:
    exp = _slow_experiment(tmp_path)  # 6 points x 4 replicates = 24 runs of 60 steps
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "sim.cli", "sweep", str(exp), "--out", str(out),
        "--workers", "1", "--batch-size", "2", "--quiet",
    ]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if (out / "runs").is_dir() and list((out / "runs").glob("part-*.parquet")):
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    partial = load_sweep(out)
    n_before = len(partial.runs)
    assert 0 < n_before < 24, n_before
    assert partial.manifest["status"] == "running"
    # leave debris like a kill during a write would: a temp file and an uncommitted part
    (out / "outcomes" / ".part-99999999999999999999-deadbeef.parquet.tmp").write_bytes(b"PAR1")
    (out / "outcomes" / "part-99999999999999999999-deadbeef.parquet").write_bytes(b"junk")
    assert len(load_sweep(out).outcomes) == n_before  # uncommitted debris is not read

    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    res = load_sweep(out)
    assert res.manifest["status"] == "complete"
    assert res.manifest["history"][-1]["ran"] == 24 - n_before
    resumed = _check_complete(out, 24)

    # the resumed results equal a sweep that was never interrupted
    fresh = tmp_path / "fresh"
    run_sweep(exp, fresh, workers=1, quiet=True)
    pd.testing.assert_frame_equal(
        resumed, load_sweep(fresh).outcomes.sort_values("run_id").reset_index(drop=True),
        check_exact=True,
    )  # fmt: skip


def test_dask_worker_killed_mid_sweep(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from sim.executors import DaskExecutor

    exp = _slow_experiment(tmp_path, runs_per_point=2)  # 12 runs
    executor = DaskExecutor(workers=2)
    killed: list[int] = []

    class KillOneWorker:
        """Forwards to the Dask executor; after the first result, SIGKILLs a worker process."""

        name = executor.name
        workers = executor.workers

        def submit_batches(self, fn, batches, shared=None):
            for result in executor.submit_batches(fn, batches, shared):
                if not killed:
                    pids = executor.client.run(os.getpid)
                    victim = sorted(pids.values())[0]
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
                yield result

        def close(self) -> None:
            executor.close()

    try:
        summary = run_sweep(
            exp, tmp_path / "dask", executor=KillOneWorker(), batch_size=1, quiet=True
        )
    finally:
        executor.close()
    assert killed
    assert summary.ok == 12 and summary.failed == 0
    outcomes = _check_complete(tmp_path / "dask", 12)
    reference = tmp_path / "ref"
    run_sweep(exp, reference, workers=1, quiet=True)
    pd.testing.assert_frame_equal(
        outcomes, load_sweep(reference).outcomes.sort_values("run_id").reset_index(drop=True),
        check_exact=True,
    )  # fmt: skip
