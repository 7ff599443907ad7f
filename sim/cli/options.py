"""Argument types and options shared by several sub-commands (one definition each)."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.scenarios.loader import parse_set_option


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def seed_value(text: str) -> int:
    """argparse type: a random seed (a whole number >= 0)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a seed >= 0, got {value}")
    return value


def seconds(text: str) -> float:
    """argparse type: a finite number of seconds >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """The ``--set KEY=VALUE`` option (repeatable) of every command that loads a scenario."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, e.g. --set parameters.temperature=0.1 or "
        "--set states.IND.budget=0 (repeatable; VALUE is YAML; paths: docs/scenarios.md)",
    )


def overrides_from(pairs: Sequence[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` options -> {key: parsed value} (later options win)."""
    return dict(parse_set_option(text) for text in pairs)


def os_reason(exc: OSError) -> str:
    """'No space left on device (runs/.r.partial/world.parquet)' for an OSError."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename:
        reason += f" ({exc.filename})"
    return reason


def paragraph(text: str, width: int = 88) -> str:
    """A description reflowed to `width` (RawDescriptionHelpFormatter keeps line breaks)."""
    import textwrap

    return textwrap.fill(" ".join(text.split()), width)


def examples(*lines: str) -> str:
    """An ``examples:`` epilog for a sub-command's --help (use with RawDescriptionHelpFormatter)."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


LATEST = "latest"
RUNS_DIR = "runs"


def _finished(candidate: Path) -> tuple[str, float, str] | None:
    """(finish time, mtime, kind) of a complete run directory ("run") or ensemble of
    `ddsim run --replicates` ("ensemble") in `candidate`; None for anything else."""
    for name, kind, time_key in (
        ("manifest.json", "run", "finished"),
        ("sweep.json", "ensemble", "updated"),
    ):
        path = candidate / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or data.get("status") != "complete":
            continue
        if kind == "ensemble" and data.get("kind") != "ensemble":
            continue
        return str(data.get(time_key) or ""), path.stat().st_mtime, kind
    return None


def resolve_run_dir(text: str | Path, base: Path | None = None, *, ensembles: bool = False) -> Path:
    """A run directory argument: a path, or 'latest' for the newest complete run under
    ./runs (by its finish time); with `ensembles`, the ensembles of ``ddsim run
    --replicates`` there count too. Raises InputError when there is none."""
    from sim.errors import InputError

    if str(text) != LATEST:
        return Path(text)
    runs = (base or Path.cwd()) / RUNS_DIR
    found: list[tuple[str, float, str, Path]] = []
    for candidate in runs.iterdir() if runs.is_dir() else ():
        if candidate.name.startswith(".") or not candidate.is_dir():
            continue
        done = _finished(candidate)
        if done is not None:
            found.append((*done, candidate))
    usable = [f for f in found if ensembles or f[2] == "run"]
    if not usable:
        newest = max(found, default=None)
        hint = (
            f"; the newest there, {newest[3]}, is an ensemble of ddsim run --replicates: "
            f"ddsim report {newest[3]}"
            if newest is not None
            else " (make one with: ddsim run SCENARIO)"
        )
        raise InputError(f"latest: no complete single run under {runs}{hint}")
    return max(usable, key=lambda f: f[:2])[3]


def add_run_dir_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """The RUN_DIR positional argument that also accepts 'latest'."""
    parser.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        nargs="?",
        default=LATEST,
        help=f"{what}, or 'latest' (default): the newest complete run under ./{RUNS_DIR}",
    )


def add_store_options(parser: argparse.ArgumentParser, what: str) -> None:
    """Where and how the runs of a resumable store run (``ddsim sweep``, ``ddsim compare``):
    --workers, --scheduler / --dask-local, --commit-every, --force-new, --retry-failed.
    `what` names the store in the help ("sweep", "comparison")."""
    from sim.experiments.defaults import COMMIT_SECONDS

    parser.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="worker processes (default: all cores; 1 = in this process)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster, e.g. tcp://host:8786 (needs ddsim[dask])",
    )
    where.add_argument(
        "--dask-local",
        action="store_true",
        help="run on a local Dask cluster of --workers processes",
    )
    parser.add_argument(
        "--commit-every",
        type=seconds,
        default=COMMIT_SECONDS,
        metavar="SECONDS",
        help=f"write finished runs to the store at least this often (default: "
        f"{COMMIT_SECONDS:g}; a crash costs at most this much work; 0: every batch)",
    )
    parser.add_argument(
        "--force-new",
        action="store_true",
        help=f"discard a stored {what} of a different design in --out and start afresh",
    )
    parser.add_argument("--retry-failed", action="store_true", help="run failed runs again")
