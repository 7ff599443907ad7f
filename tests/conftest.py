"""Shared test helpers: the ``ddsim`` command in-process (fast) and as a real subprocess.

Most CLI behaviour (messages, exit codes, files written) is checked in-process through
`sim.cli.main` with captured output (`run_cli`, fixture ``cli``); a handful of smoke tests
start real processes (`run_cli_process`, fixture ``ddsim_process``), as do the tests of
signals, fork servers and process pools.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MINIMAL = str(REPO / "scenarios" / "minimal.yaml")


@dataclass
class CliResult:
    """Exit code and captured output of one ``ddsim`` call (the fields of CompletedProcess)."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | str | None = None) -> CliResult:
    """``ddsim ARGS`` in this process (in `cwd`), with stdout and stderr captured."""
    from sim.cli import main

    out, err = io.StringIO(), io.StringIO()
    where = contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext()
    with where, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return CliResult(code, out.getvalue(), err.getvalue())


def run_cli_process(
    *args: str, cwd: Path | str | None = None, env: dict | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``python -m sim.cli ARGS`` as a real subprocess (no terminal: no progress bar)."""
    environment = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *map(str, args)],
        cwd=cwd or REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def cli() -> Callable[..., CliResult]:
    """`run_cli`: the CLI in-process."""
    return run_cli


@pytest.fixture(scope="session")
def ddsim_process() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`run_cli_process`: the CLI as a real subprocess."""
    return run_cli_process
