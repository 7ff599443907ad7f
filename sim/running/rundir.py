"""Run directories: save a run's results atomically, read them back.

A run directory holds the tidy tables (Parquet, or CSV on request), ``scenario.yaml`` (the
fully resolved scenario), ``manifest.json`` (seed, versions, hashes, row counts, status) and
whatever the output writers add (the figures and ``summary.txt`` of `sim.reports`). It is
written as a hidden ``.<name>.partial`` sibling and renamed when complete; a run that crashes
is renamed ``<name>.failed`` with ``error.txt``.

Python::

    from sim import run_scenario, save_run, load_run
    run_dir = save_run(run_scenario("minimal"), "runs/my-run")  # tables, scenario, figures
    again = load_run(run_dir)                                 # the same DataFrames
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.core.scenario import Scenario
from sim.errors import InputError
from sim.running.manifest import RunManifest, check_manifest
from sim.scenarios.loader import load_scenario, saved_scenario_text, scenario_hash

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from sim.core.metrics import Results
    from sim.running.simulate import RunResults

__all__ = [
    "FIGURES_DIR",
    "MANIFEST_FILE",
    "SCENARIO_FILE",
    "OutputWriter",
    "RunDirectory",
    "load_run",
    "read_manifest",
    "save_run",
    "write_tables",
]

MANIFEST_FILE = "manifest.json"
SCENARIO_FILE = "scenario.yaml"
SUMMARY_FILE = "summary.txt"
ERROR_FILE = "error.txt"
FIGURES_DIR = "figures"
FORMATS = ("parquet", "csv")
DEFAULT_DYAD_INTERVAL = 12
RUN_FORMAT_VERSION = 1
TABLE_ORDER = ("world", "states", "activities", "crises", "dyads", "start_dyads", "final_dyads")
VERSION_PACKAGES = (
    "ddsim",
    "mesa",
    "numpy",
    "pandas",
    "pyarrow",
    "matplotlib",
    "networkx",
    "pyyaml",
)


OutputWriter = Callable[["Results", Path, dict], None]
"""Writes extra files of a run (figures, summary) into its directory and records them in the
manifest dict it is given (called after the tables, in order)."""


# ----------------------------------------------------------------------------------------------
# Run directories
# ----------------------------------------------------------------------------------------------


def slugify(text: str, default: str = "run") -> str:
    """'Indo-Pacific (2018)' -> 'indo-pacific-2018'."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return slug[:60].strip("-") or default


def default_run_dir(
    scenario_name: str, now: dt.datetime | None = None, base: Path | None = None
) -> Path:
    """runs/<scenario-slug>-<YYYYmmdd-HHMMSS> under `base` (default: the current directory)."""
    now = now or dt.datetime.now()
    return (base or Path.cwd()) / "runs" / f"{slugify(scenario_name)}-{now:%Y%m%d-%H%M%S}"


def _is_free(path: Path) -> bool:
    """A final run-directory name is free when nothing is there (or an empty directory)."""
    if not path.exists() and not path.is_symlink():
        return True
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


def _partial_of(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


def final_of(path: str | Path) -> Path:
    """The directory a run being written into `path` will have when complete: the hidden
    ``.<name>.partial`` becomes ``<name>``; any other path is returned as it is."""
    path = Path(path)
    name = path.name
    if name.startswith(".") and name.endswith(".partial") and len(name) > len(".partial") + 1:
        return path.with_name(name[1 : -len(".partial")])
    return path


def _suffixed(path: Path, k: int) -> Path:
    return path if k == 1 else path.with_name(f"{path.name}-{k}")


def check_output_target(target: Path) -> None:
    """Raise InputError when a run directory cannot be created at `target` (checked before
    anything is written)."""
    for parent in [target, *target.parents]:
        if parent.exists():
            if parent != target and not parent.is_dir():
                raise InputError(f"--out {target}: {parent} exists and is not a directory")
            if parent != target and not os.access(parent, os.W_OK | os.X_OK):
                raise InputError(f"--out {target}: cannot write in {parent}")
            break
    if target.exists() and not target.is_dir():
        raise InputError(f"--out {target}: exists and is not a directory")


class RunDirectory:
    """Context manager for an atomic run directory.

    On entry it claims the first free name among `target`, `target-2`, `target-3`, ... and
    creates the hidden sibling ``.<name>.partial`` to write into (`.path`). On a clean exit
    the partial directory is renamed to the final name (`.final`); on an exception it is
    renamed ``<name>.failed`` with ``error.txt`` (and the manifest marked failed), and the
    exception propagates."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target)
        self.final: Path = self.target
        self.path: Path = _partial_of(self.target)
        self.failed_path: Path | None = None
        self.result_path: Path | None = None

    def __enter__(self) -> RunDirectory:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        for k in range(1, 10_000):
            final = _suffixed(self.target, k)
            partial = _partial_of(final)
            if not _is_free(final):
                continue
            try:
                partial.mkdir()
            except FileExistsError:
                continue
            self.final, self.path = final, partial
            return self
        raise InputError(f"no free run directory name next to {self.target}")

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            self.result_path = self._commit()
            return
        self.failed_path = self._fail(exc)
        self.result_path = self.failed_path

    def _commit(self) -> Path:
        final = self.final
        for k in range(1, 10_000):
            candidate = final if k == 1 else _suffixed(self.final, k)
            if not _is_free(candidate):
                continue
            if candidate.exists():
                candidate.rmdir()  # an empty directory given as --out
            try:
                self.path.rename(candidate)
            except OSError:
                continue
            self.final = candidate
            self._update_manifest({"run_dir": str(candidate)})
            return candidate
        raise OSError(f"could not rename {self.path} to a free name next to {final}")

    def _fail(self, exc: BaseException) -> Path:
        kind = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        with contextlib.suppress(OSError):
            (self.path / ERROR_FILE).write_text(
                f"ddsim run {kind} at {now_iso()}\n\n{text}", encoding="utf-8"
            )
        self._update_manifest(
            {
                "status": kind,
                "error": f"{type(exc).__name__}: {exc}",
                "finished": now_iso(),
            }
        )
        for k in range(1, 10_000):
            target = self.final.with_name(f"{self.final.name}.failed" + ("" if k == 1 else f"-{k}"))
            if target.exists():
                continue
            try:
                self.path.rename(target)
            except OSError:
                continue
            return target
        return self.path

    def _update_manifest(self, changes: Mapping[str, Any]) -> None:
        directory = self.path if self.path.exists() else self.final
        path = directory / MANIFEST_FILE
        try:
            manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (OSError, ValueError):
            manifest = {}
        manifest.update(changes)
        with contextlib.suppress(OSError):
            write_json(path, manifest)


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=_json_default, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def package_versions() -> dict[str, str]:
    """Versions of ddsim and the packages results depend on, plus Python."""
    out = {}
    for name in VERSION_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["python"] = platform.python_version()
    return out


def _table_file(name: str, fmt: str) -> str:
    return f"{name}.{fmt}"


def write_tables(tables: Mapping[str, pd.DataFrame], directory: Path, fmt: str = "parquet") -> dict:
    """Write tables as Parquet or CSV; returns the manifest entries (file, rows, columns, dtypes)."""
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    entries = {}
    for name in TABLE_ORDER:
        if name not in tables:
            continue
        df = tables[name]
        file = _table_file(name, fmt)
        if fmt == "parquet":
            df.to_parquet(directory / file, index=False)
        else:
            df.to_csv(directory / file, index=False, na_rep="NaN")
        entries[name] = {
            "file": file,
            "rows": len(df),
            "columns": list(map(str, df.columns)),
            "dtypes": {str(c): str(t) for c, t in df.dtypes.items()},
        }
    return entries


def write_scenario(world: Scenario, path: Path) -> None:
    """Save the fully resolved scenario as YAML (loads back to an equal Scenario)."""
    header = (
        "# Fully resolved scenario of this run (extends merged, overrides applied, defaults filled).\n"
        "# Rerun it with: ddsim run scenario.yaml\n"
    )
    path.write_text(header + saved_scenario_text(world), encoding="utf-8")


def base_manifest(
    world: Scenario | None,
    meta: Mapping[str, Any],
    *,
    fmt: str,
    overrides: Mapping[str, Any] | None,
    started: str,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    scenario_info: dict[str, Any] = {"name": meta.get("scenario")}
    if world is not None:
        scenario_info = {
            "name": world.name,
            "path": world.path,
            "hash": scenario_hash(world),
            "file": SCENARIO_FILE,
            "states": len(world.states),
            "start": world.start,
            "time_unit": world.time_unit,
        }
    return {
        "status": "running",
        "ddsim_run_format": RUN_FORMAT_VERSION,
        "scenario": scenario_info,
        "seed": meta.get("seed", world.seed if world else None),
        "steps": meta.get("steps", world.steps if world else None),
        "record_every": meta.get("record_every"),
        "record_dyads": meta.get("record_dyads", 0),
        "format": fmt,
        "overrides": dict(overrides or {}),
        "options": dict(options or {}),
        "command": list(sys.argv),
        "command_line": shlex.join(sys.argv),
        "cwd": str(Path.cwd()),
        "versions": package_versions(),
        "platform": platform.platform(),
        "started": started,
    }


def write_outputs(
    results: Results,
    directory: Path,
    manifest: dict[str, Any],
    *,
    fmt: str,
    writers: Sequence[OutputWriter] = (),
    wall_start: float,
) -> dict[str, Any]:
    """Tables, the writers' files (figures, summary) and the final manifest into `directory`."""
    tables = results.all_tables() if hasattr(results, "all_tables") else dict(results.tables())
    manifest["tables"] = write_tables(tables, directory, fmt)
    manifest["meta"] = dict(results.meta)
    recorded = manifest.get("scenario") or {}
    if recorded.get("hash") and "scenario_path" in manifest["meta"]:
        manifest["meta"]["scenario_hash"] = recorded["hash"]
    manifest.setdefault("figures", [])
    for write in writers:
        write(results, directory, manifest)
    manifest["finished"] = now_iso()
    manifest["wall_time_s"] = round(time.perf_counter() - wall_start, 3)
    manifest["status"] = "complete"
    write_json(directory / MANIFEST_FILE, manifest)
    return manifest


def listing(manifest: Mapping[str, Any]) -> list[str]:
    """The files of a run directory, as its manifest records them."""
    files = [MANIFEST_FILE, SCENARIO_FILE]
    if manifest.get("summary"):
        files.append(manifest["summary"])
    files += [entry["file"] for entry in manifest.get("tables", {}).values()]
    files += list(manifest.get("figures", []))
    if manifest.get("report"):
        files.append(manifest["report"])
    return files


def save_run(
    results: Results,
    out_dir: str | Path | None = None,
    *,
    scenario: Scenario | None = None,
    fmt: str = "parquet",
    writers: Sequence[OutputWriter] = (),
    overrides: Mapping[str, Any] | None = None,
) -> Path:
    """Save results as a run directory (atomic: complete, or renamed ``.failed``) and return it.

    `out_dir` defaults to runs/<scenario>-<timestamp>; an existing directory is never
    overwritten (-2, -3, ... is appended). The scenario comes from `results.scenario`
    (results of `run_scenario`) unless given; without one no scenario.yaml is written.
    `writers` add files such as figures (`sim.save_run` passes those of `sim.reports`)."""
    if fmt not in FORMATS:
        raise InputError(f"fmt must be one of {', '.join(FORMATS)} (got {fmt!r})")
    world = scenario or getattr(results, "scenario", None)
    name = world.name if world else str(results.meta.get("scenario") or "run")
    target = Path(out_dir) if out_dir is not None else default_run_dir(name)
    check_output_target(target)
    wall_start = time.perf_counter()
    manifest = base_manifest(world, results.meta, fmt=fmt, overrides=overrides, started=now_iso())
    with RunDirectory(target) as run_dir:
        if world is not None:
            write_scenario(world, run_dir.path / SCENARIO_FILE)
        write_json(run_dir.path / MANIFEST_FILE, manifest)
        write_outputs(
            results, run_dir.path, manifest, fmt=fmt, writers=writers, wall_start=wall_start
        )
    return run_dir.final


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    """The manifest of a run directory (InputError when it is not a run directory)."""
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST_FILE
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such run directory")
    if not path.is_file():
        raise InputError(f"{run_dir}: not a run directory (no {MANIFEST_FILE})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the manifest ({exc})") from None
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise InputError(
            f"{path}: expected a JSON object (the run's manifest), got {type(manifest).__name__}"
        )
    return check_manifest(RunManifest, manifest, path)


# Columns every saved table has, whatever the manifest says (older manifests list none).
REQUIRED_COLUMNS = {
    "world": ("step",),
    "states": ("step", "state"),
    "activities": ("step", "activity", "initiator"),
    "crises": ("step", "state_a", "state_b"),
    "dyads": ("step", "state_a", "state_b"),
    "start_dyads": ("step", "state_a", "state_b"),
    "final_dyads": ("step", "state_a", "state_b"),
}
_DTYPE_WORDS = {"int64": "whole numbers", "float64": "numbers", "bool": "True or False"}


def _first_bad_value(values: pd.Series, dtype: str) -> tuple[int, Any]:
    """Row and value of the first entry that cannot be read as `dtype` (error path only)."""
    import pandas as pd

    for row, value in enumerate(values):
        try:
            if dtype == "bool":
                if value not in ("True", "False", True, False):
                    raise ValueError
            else:
                pd.Series([value]).astype(dtype)
        except (TypeError, ValueError, OverflowError):
            return row, value
    return -1, None  # pragma: no cover - only called when the column failed


def _restore_dtypes(df: pd.DataFrame, dtypes: Mapping[str, str], path: Path) -> pd.DataFrame:
    """Give each column the dtype the manifest recorded; InputError naming the file, the
    column and the first bad value when a value cannot have it (a CSV edited by hand)."""
    for col, dtype in dtypes.items():
        if col not in df.columns or str(df[col].dtype) == dtype:
            continue
        values = df[col]
        try:
            if dtype == "bool":
                mapped = values.map({"True": True, "False": False, True: True, False: False})
                if bool((mapped.isna() & values.notna()).any()) or bool(values.isna().any()):
                    raise ValueError(dtype)
                values = mapped
            df[col] = values.astype(dtype)
        except (TypeError, ValueError, OverflowError):
            row, value = _first_bad_value(df[col], dtype)
            expected = _DTYPE_WORDS.get(dtype, dtype)
            raise InputError(
                f"{path}: column {col}: expected {expected} ({dtype}), got {value!r} "
                f"(data row {row + 1}); the table was changed after the run"
            ) from None
    return df


def _read_table(path: Path, fmt: str, entry: Mapping[str, Any], name: str) -> pd.DataFrame:
    """One saved table, checked against what the manifest recorded (columns, dtypes, rows):
    a damaged or edited file is an InputError naming the file, never a silent plot."""
    import pandas as pd
    import pyarrow as pa

    dtypes = dict(entry.get("dtypes") or {})
    try:
        if fmt == "csv":
            string_cols = [c for c, t in dtypes.items() if t in ("str", "object", "string")]
            # pandas 3 parses floats exactly by default (and deprecates float_precision)
            exact = (
                {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
            )
            df = pd.read_csv(
                path,
                keep_default_na=False,
                na_values=["NaN"],
                dtype=dict.fromkeys(string_cols, str),
                **exact,
            )
        else:
            df = pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException, pd.errors.ParserError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(
            f"{path}: cannot read the table (damaged or truncated: {reason})"
        ) from None
    expected = list(entry.get("columns") or []) or list(REQUIRED_COLUMNS.get(name, ()))
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise InputError(
            f"{path}: expected column{'s' if len(missing) > 1 else ''} {', '.join(missing)}, "
            "missing from the file; the table was changed after the run"
        )
    rows = entry.get("rows")
    if isinstance(rows, int) and rows != len(df):
        raise InputError(
            f"{path}: expected {rows} rows (as the manifest records), got {len(df)}; "
            "the table was changed or truncated after the run"
        )
    return _restore_dtypes(df, dtypes, path)


def load_run(run_dir: str | Path) -> RunResults:
    """Read a saved run directory back into `RunResults` (the same DataFrames as saved;
    Parquet or CSV, as the manifest says). The scenario is loaded from scenario.yaml.

    Every table is checked against the manifest (columns, dtypes, row counts): a missing,
    damaged or edited table raises InputError naming the file."""
    from sim.running.simulate import _run_results_class

    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    fmt = manifest.get("format", "parquet")
    if fmt not in FORMATS:
        raise InputError(f"{run_dir / MANIFEST_FILE}: unknown table format {fmt!r}")
    entries = manifest.get("tables") or {}
    if not isinstance(entries, Mapping):
        raise InputError(f"{run_dir / MANIFEST_FILE}: expected 'tables' to be an object")
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLE_ORDER:
        entry = entries.get(name)
        if entry is not None and not isinstance(entry, Mapping):
            raise InputError(f"{run_dir / MANIFEST_FILE}: expected tables.{name} to be an object")
        file = run_dir / str((entry or {}).get("file") or _table_file(name, fmt))
        if not file.is_file():
            if name in ("world", "states", "activities", "crises") or entry is not None:
                raise InputError(
                    f"{run_dir}: table {file.name} is missing (status: {manifest.get('status')})"
                )
            continue
        tables[name] = _read_table(file, fmt, entry or {}, name)
    world = None
    scenario_file = run_dir / SCENARIO_FILE
    if scenario_file.is_file():
        with contextlib.suppress(InputError):
            world = load_scenario(scenario_file)
    meta = dict(manifest.get("meta") or {})
    if world is not None:
        meta.setdefault("states", world.ids)
        meta.setdefault("names", world.labels)
        meta.setdefault("start", world.start)
        meta.setdefault("time_unit", world.time_unit)
        meta.setdefault("locations", {s.id: list(s.location) for s in world.states})
        meta.setdefault("scenario", world.name)
    meta.setdefault("seed", manifest.get("seed"))
    meta.setdefault("steps", manifest.get("steps"))
    return _run_results_class()(
        world=tables["world"],
        states=tables["states"],
        activities=tables["activities"],
        crises=tables["crises"],
        dyads=tables.get("dyads"),
        meta=meta,
        start_dyads=tables.get("start_dyads"),
        final_dyads=tables.get("final_dyads"),
        scenario=world,
    )
