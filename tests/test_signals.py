"""Signals on real processes (issue 19 items 5 and 10): SIGTERM and SIGKILL of a sweep leave
no process behind, SIGTERM closes the store as Ctrl-C does, and Ctrl-C at any moment (the
first second of ``ddsim run``, design hashing, the fork server's imports, running workers)
ends with one line and no traceback, from any process of the group.

Linux only (reads /proc); every test starts real ``python -m sim.cli`` processes in their
own session, so a signal to the group reaches them as a terminal's Ctrl-C would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc"),
]

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "scenarios" / "minimal.yaml"
# finished, interrupted (130), or ended by the signal itself when it came during the
# interpreter's exit, after the command had finished (the shell shows 130 as well)
DONE_OR_INTERRUPTED = (0, 130, -signal.SIGINT)


def _experiment(
    folder: Path, *, replicates: int = 12, steps: int = 60, levels: int = 3, grid: int = 1
) -> Path:
    """An experiment on the minimal scenario; `grid` parameters of `levels` values each."""
    paths = ["parameters.cost_exercise", "parameters.cost_dialogue", "parameters.cost_advisory"]
    data = {
        "name": "long",
        "scenario": str(MINIMAL),
        "steps": steps,
        "seed": 3,
        "replicates": replicates,
        "parameters": [
            {"path": path, "name": path.split(".")[1], "range": [0.5, 1.5], "levels": levels}
            for path in paths[:grid]
        ],
        "outcomes": [{"name": "crises", "metric": "crises", "stat": "sum"}],
        "timeseries": ["mean_risk"],
    }
    path = folder / "long.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "sim.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _parents() -> dict[int, int]:
    """pid -> parent pid of every live (non-zombie) process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            out[int(entry.name)] = int(fields[1])
    return out


def _descendants(pid: int) -> set[int]:
    parents = _parents()
    found, frontier = set(), {pid}
    while frontier:
        children = {p for p, pp in parents.items() if pp in frontier} - found
        found |= children
        frontier = children
    return found


def _alive(pids: set[int]) -> set[int]:
    return pids & set(_parents())


def _wait_for(predicate, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("timed out")


def _running_sweep(tmp_path: Path, *backend: str) -> tuple[subprocess.Popen[str], Path, set[int]]:
    """A 2-worker sweep with its pool running and one commit made; its descendants."""
    out = tmp_path / "store"
    exp = _experiment(tmp_path)
    proc = _start("sweep", str(exp), "--out", str(out), "--workers", "2", "--commit-every", "0",
                  *backend, cwd=tmp_path)  # fmt: skip
    _wait_for(lambda: list((out / "runs").glob("part-*.parquet")), 120, proc)
    # local pool: fork server and 2 workers; Dask: resource tracker and 2 worker processes
    _wait_for(lambda: len(_descendants(proc.pid)) >= 3, 30, proc)
    return proc, out, _descendants(proc.pid)


def test_killed_dask_local_sweep_leaves_no_process_behind(tmp_path: Path) -> None:
    """`--dask-local` workers are not under ddsim's watchdog: Dask's worker processes watch
    their parent themselves. SIGKILL of the sweep must still leave nothing running."""
    proc, _, family = _running_sweep(tmp_path, "--dask-local")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    try:
        _wait_for(lambda: not _alive(family), 30)
    finally:
        for pid in _alive(family):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_killed_sweep_leaves_no_process_behind(tmp_path: Path, sig: signal.Signals) -> None:
    proc, out, family = _running_sweep(tmp_path)
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    try:
        _wait_for(lambda: not _alive(family), 20)
    finally:  # never leave them running, even when the test fails
        for pid in _alive(family):
            os.kill(pid, signal.SIGKILL)
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM, proc.stderr.read()
        err = proc.stderr.read()
        assert "Traceback" not in err and "interrupted" in err
        manifest = json.loads((out / "sweep.json").read_text())
        assert manifest["status"] == "interrupted"  # closed as Ctrl-C closes it
    else:
        assert proc.returncode == -signal.SIGKILL
    again = subprocess.run(
        [sys.executable, "-m", "sim.cli", "sweep", str(tmp_path / "long.yaml"), "--out",
         str(out), "--workers", "1", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "sweep.json").read_text())["counts"] == {
        "ok": 36,
        "failed": 0,
        "pending": 0,
    }


def test_ctrl_c_reaches_the_whole_group_without_a_traceback(tmp_path: Path) -> None:
    proc, out, family = _running_sweep(tmp_path)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "interrupted" in err
    assert json.loads((out / "sweep.json").read_text())["status"] == "interrupted"
    try:
        _wait_for(lambda: not _alive(family), 20)
    finally:
        for pid in _alive(family):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("delay", "levels", "grid"),
    [(0.5, 4, 1), (1.0, 4, 1), (1.5, 100, 3)],  # imports and fork server; 10^6-point design
)
def test_ctrl_c_while_the_sweep_starts(
    tmp_path: Path, delay: float, levels: int, grid: int
) -> None:
    """During imports, the fork server's preload, the design's expansion and hash and the
    store's creation: one line, no traceback from any process, and a resumable store."""
    exp = _experiment(tmp_path, replicates=2, steps=24, levels=levels, grid=grid)
    out = tmp_path / "store"
    proc = _start("sweep", str(exp), "--out", str(out), "--workers", "2", cwd=tmp_path)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:  # the first Ctrl-C fell in the runs: a second one
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode in DONE_OR_INTERRUPTED, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    if grid == 1:  # whatever was left is resumable
        again = subprocess.run(
            [sys.executable, "-m", "sim.cli", "sweep", str(exp), "--out", str(out),
             "--workers", "1", "--quiet"],
            cwd=tmp_path, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("delay", [0.5, 1.0, 2.0])
def test_ctrl_c_in_the_first_seconds_of_run(tmp_path: Path, delay: float) -> None:
    proc = _start("run", str(ROOT / "scenarios" / "world.yaml"), "--steps", "30", "--out",
                  str(tmp_path / "r"), "--no-plots", cwd=tmp_path)  # fmt: skip
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in DONE_OR_INTERRUPTED, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    if proc.returncode == 130:
        assert "interrupted" in err.strip().splitlines()[-1], err
        done = tmp_path / "r"  # nothing left looking complete unless it is: a Ctrl-C during
        if done.exists():  # the interpreter's exit, after the run finished, still gives 130
            assert json.loads((done / "manifest.json").read_text())["status"] == "complete"
        failed = tmp_path / "r.failed"  # when the run itself was under way
        if failed.exists():
            assert json.loads((failed / "manifest.json").read_text())["status"] == "interrupted"


def test_sigterm_during_run_closes_the_directory_as_interrupted(tmp_path: Path) -> None:
    proc = _start("run", str(ROOT / "scenarios" / "world.yaml"), "--steps", "600", "--out",
                  str(tmp_path / "r"), "--no-plots", cwd=tmp_path)  # fmt: skip
    _wait_for(lambda: any(p.name.endswith(".partial") for p in tmp_path.iterdir()), 120, proc)
    time.sleep(0.5)  # inside the run
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 128 + signal.SIGTERM), err
    assert "Traceback" not in err, err
    if proc.returncode:
        assert "interrupted" in err.strip().splitlines()[-1]
        manifest = json.loads((tmp_path / "r.failed" / "manifest.json").read_text())
        assert manifest["status"] == "interrupted"
        assert not (tmp_path / "r").exists()
