"""Sweeps: the same results on any executor, failed runs recorded, `load_sweep` tables,
and faults: a sweep killed with SIGKILL resumes without losing or duplicating runs, a Dask
worker killed mid-sweep costs nothing but time, a dead pool worker stops the sweep cleanly.

Uses experiments/smoke.yaml (8 runs of the minimal scenario, 36 steps): run with one
worker (in-process), two worker processes and a local Dask cluster, the per-run outcomes
and time series are identical (seeds depend only on point and replicate).
"""

from __future__ import annotations

import errno
import json
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

import sim.cli
import sim.experiments.sweep
from sim.experiments.experiment import load_experiment, run_id, run_seed
from sim.experiments.sweep import SweepError, load_sweep, run_one, run_sweep

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


@pytest.mark.parametrize("mode", ["processes", pytest.param("dask", marks=pytest.mark.slow)])
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


FAILING = ("p1-r0", "p3-r1")


def _seeds(run_ids: tuple[str, ...]) -> list[int]:
    out = []
    for rid in run_ids:
        point, replicate = (int(x[1:]) for x in rid.split("-"))
        out.append(run_seed(2024, point, replicate))
    return out


@pytest.mark.slow
def test_failed_runs_in_worker_processes_are_recorded(tmp_path: Path) -> None:
    from faults import FailingRuns

    from sim.experiments.executors import ProcessExecutor

    out = tmp_path / "failing"
    executor = FailingRuns(ProcessExecutor(2), _seeds(FAILING))
    try:
        summary = run_sweep(SMOKE, out, executor=executor, quiet=True)
    finally:
        executor.close()
    assert (summary.ran, summary.ok, summary.failed, summary.exit_code) == (8, 6, 2, 1)
    res = load_sweep(out)
    failed = res.runs[res.runs["status"] == "failed"]
    assert sorted(failed["run_id"]) == sorted(FAILING)
    assert failed["error"].str.contains("RuntimeError: injected failure").all()
    assert res.runs["worker"].nunique() >= 1
    assert sorted(res.outcomes["run_id"]) == sorted(set(res.runs["run_id"]) - set(FAILING))


def test_failed_run_is_recorded_and_exit_status_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    real = sim.experiments.sweep.simulate
    fail = set(_seeds(FAILING))

    def failing(scenario, overrides=None, seed=None, **kw):
        if seed in fail:
            raise RuntimeError(f"injected failure for seed {seed}")
        return real(scenario, overrides, seed, **kw)

    out = tmp_path / "failing"
    monkeypatch.setattr(sim.experiments.sweep, "simulate", failing)
    proc = cli("sweep", str(SMOKE), "--out", str(out), "--workers", "1")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "2 failed" in proc.stderr and "p1-r0" in proc.stderr
    res = load_sweep(out)
    assert len(res.runs) == 8
    failed = res.runs[res.runs["status"] == "failed"]
    assert sorted(failed["run_id"]) == sorted(FAILING)
    assert failed["error"].str.contains("injected failure").all()
    assert failed["error"].str.contains("RuntimeError").all()
    assert sorted(res.outcomes["run_id"]) == sorted(set(res.runs["run_id"]) - set(FAILING))
    assert json.loads((out / "sweep.json").read_text())["counts"]["failed"] == 2
    assert len(res.table()) == 6 and len(res.table(None)) == 8
    # rerunning keeps the failures; --retry-failed runs them again (the fault is gone)
    again = cli("sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet")
    assert again.returncode == 1
    monkeypatch.setattr(sim.experiments.sweep, "simulate", real)
    retry = cli("sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--retry-failed")
    assert retry.returncode == 0, retry.stderr
    res = load_sweep(out)
    assert len(res.runs) == 8 and set(res.runs["status"]) == {"ok"}
    assert len(res.outcomes) == 8 and res.outcomes["run_id"].is_unique
    assert len(res.timeseries) == 8 * 37  # one copy of every run's rows after the retry


@pytest.mark.parametrize(("commit_every", "parts"), [(0.0, 4), (3600.0, 1)])
def test_commits_are_coalesced(
    tmp_path: Path, smoke_serial: Path, commit_every: float, parts: int
) -> None:
    out = tmp_path / "s"
    run_sweep(SMOKE, out, workers=1, batch_size=2, commit_every=commit_every, quiet=True)
    for table in ("runs", "outcomes", "timeseries"):
        assert len(list((out / table).glob("part-*.parquet"))) == parts
    res, ref = load_sweep(out), load_sweep(smoke_serial)
    assert len(res.runs) == 8 and res.runs["run_id"].is_unique
    pd.testing.assert_frame_equal(_sorted(res.outcomes), _sorted(ref.outcomes))
    pd.testing.assert_frame_equal(_ts_sorted(res.timeseries), _ts_sorted(ref.timeseries))


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


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


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


@pytest.mark.slow
def test_sigkill_then_resume(tmp_path: Path) -> None:
    exp = _slow_experiment(tmp_path)  # 6 points x 4 replicates = 24 runs of 60 steps
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "sim.cli", "sweep", str(exp), "--out", str(out),
        "--workers", "1", "--batch-size", "2", "--commit-every", "0", "--quiet",
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


@pytest.mark.slow
def test_dask_worker_killed_mid_sweep(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from sim.experiments.executors import DaskExecutor

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


def test_broken_pool_stops_cleanly(tmp_path: Path) -> None:
    from concurrent.futures.process import BrokenProcessPool

    from sim.experiments.executors import SerialExecutor

    inner = SerialExecutor()

    class DiesAfterOneBatch:
        """Behaves like a process pool whose workers die after the first batch."""

        name, workers = "processes", 1

        def submit_batches(self, fn, batches, shared=None):
            for k, result in enumerate(inner.submit_batches(fn, batches, shared)):
                if k == 1:
                    raise BrokenProcessPool("A process in the process pool was terminated")
                yield result

        def close(self) -> None:
            pass

    out = tmp_path / "broken"
    summary = run_sweep(SMOKE, out, executor=DiesAfterOneBatch(), batch_size=2, quiet=True)
    assert summary.aborted and "worker process died" in summary.aborted
    assert summary.exit_code == 1 and summary.ran == 2
    assert load_sweep(out).manifest["status"] == "interrupted"
    assert run_sweep(SMOKE, out, workers=1, quiet=True).ran == 6  # resumes the rest
    assert len(load_sweep(out).runs) == 8


def test_unwritable_output_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_mkdir = Path.mkdir

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        if self.absolute().parent == tmp_path / "ro":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(Path, "mkdir", refuse)
    code = sim.cli.main(["sweep", str(SMOKE), "--out", str(tmp_path / "ro" / "s"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "ro" in err and "Permission denied" in err
    assert list((tmp_path / "ro").iterdir()) == []


def test_full_disk_stops_cleanly_keeps_committed_runs_and_resumes(
    tmp_path: Path,
    smoke_serial: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import sim.experiments.store

    out = tmp_path / "full"
    real_write = sim.experiments.store.write_file
    writes = {"n": 0}

    def fill_up(path: Path, payload: bytes) -> None:
        if ".part-" in str(path):  # parts: the first batch (outcomes, series, runs) fits
            writes["n"] += 1
            if writes["n"] > 3:
                raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, payload)

    monkeypatch.setattr(sim.experiments.store, "write_file", fill_up)
    args = ["sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--batch-size", "2"]
    args += ["--commit-every", "0"]
    code = sim.cli.main([*args, "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "No space left on device" in err and "2 of 8 runs are stored" in err
    res = load_sweep(out)
    assert len(res.runs) == 2 and set(res.runs["status"]) == {"ok"}
    assert sorted(res.outcomes["run_id"]) == sorted(res.runs["run_id"])

    monkeypatch.setattr(sim.experiments.store, "write_file", real_write)  # space freed: resume
    assert sim.cli.main([*args, "--quiet"]) == 0
    res, ref = load_sweep(out), load_sweep(smoke_serial)
    assert len(res.runs) == 8 and res.runs["run_id"].is_unique
    assert res.outcomes["run_id"].is_unique
    pd.testing.assert_frame_equal(
        _sorted(res.outcomes[ref.outcomes.columns]), _sorted(ref.outcomes)
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sweep", "e.yaml", "--workers", "2"], True),
        (["sweep", "e.yaml", "--workers=2", "--quiet"], True),
        (["sweep", "e.yaml", "--workers", "1"], False),
        (["sweep", "e.yaml", "--workers=1"], False),
        (["sweep", "e.yaml", "--dask-local"], False),
        (["sweep", "e.yaml", "--scheduler", "tcp://h:8786"], False),
        (["sweep", "--help"], False),
        (["run", "s.yaml"], False),
        (["analyze", "store"], False),
        ([], False),
    ],
)
def test_fork_server_starts_early_only_for_a_local_pool(argv: list[str], expected: bool) -> None:
    """The CLI starts the pool's fork server before its own imports only when a sweep will
    use a local process pool (a wasted server would cost a core for about a second)."""
    assert sim.cli._will_use_process_pool(argv) is expected
