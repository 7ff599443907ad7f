"""Running scenarios and keeping their results: the ``ddsim run`` / ``ddsim plot`` commands
and the matching Python API.

Python (notebooks)::

    from sim.runner import run_scenario, save_run, load_run
    res = run_scenario("indo_pacific", steps=120, seed=1, overrides={"parameters.temperature": 0.1})
    res.world.plot(x="step", y="mean_risk")
    run_dir = save_run(res, "runs/my-run")  # tables, scenario.yaml, manifest.json, figures
    again = load_run(run_dir)                # the same DataFrames

A run directory holds the tidy tables (Parquet, or CSV on request), ``scenario.yaml`` (the
fully resolved scenario), ``manifest.json`` (seed, versions, hashes, row counts, status),
``summary.txt`` and ``figures/``. It is written as a hidden ``.<name>.partial`` sibling and
renamed when complete; a run that crashes is renamed ``<name>.failed`` with ``error.txt``.
The model core never imports this module.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import shlex
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from sim.loader import (
    DEFAULT_SCENARIO,
    InputError,
    load_scenario,
    parse_set_option,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
)
from sim.scenario import Scenario

# pandas, the model and the metrics take seconds to import; `sim.cli` imports this module at
# start-up (for `register_commands`), so they are imported where used, and `RunResults` (a
# subclass of `sim.metrics.Results`) is built on first access (see `__getattr__`).
if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from sim.metrics import Results
    from sim.model import DiplomacyModel

    RunResults = Results  # for type checkers; the runtime class adds the fields below

__all__ = [
    "DEFAULT_DYAD_INTERVAL",
    "FIGURES_DIR",
    "MANIFEST_FILE",
    "SCENARIO_FILE",
    "RunResults",
    "compare_tables",
    "dyad_snapshot",
    "load_run",
    "prepare_scenario",
    "register_commands",
    "run_scenario",
    "save_run",
    "simulate",
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


# ----------------------------------------------------------------------------------------------
# Results of one run
# ----------------------------------------------------------------------------------------------


_RUN_RESULTS: type | None = None


def _run_results_class() -> type:
    """The `RunResults` class (defined on first use so that importing this module is fast)."""
    global _RUN_RESULTS
    if _RUN_RESULTS is None:
        import pandas as pd  # noqa: F401  (named in the annotations below)

        from sim.metrics import Results

        @dataclass
        class RunResults(Results):
            """`Results` plus the dyad snapshots at the start and at the end of the run
            (always taken, so the network figure can be drawn without dyad recording) and
            the scenario that ran."""

            start_dyads: pd.DataFrame | None = None
            final_dyads: pd.DataFrame | None = None
            scenario: Scenario | None = dataclasses.field(default=None, repr=False, compare=False)

            def all_tables(self) -> dict[str, pd.DataFrame]:
                """Every table to save: `tables()` plus the start and final dyad snapshots."""
                out = dict(self.tables())
                if self.start_dyads is not None:
                    out["start_dyads"] = self.start_dyads
                if self.final_dyads is not None:
                    out["final_dyads"] = self.final_dyads
                return out

        RunResults.__module__ = __name__
        RunResults.__qualname__ = "RunResults"
        _RUN_RESULTS = RunResults
    return _RUN_RESULTS


def __getattr__(name: str) -> Any:
    """Lazy module attributes: `RunResults`."""
    if name == "RunResults":
        cls = _run_results_class()
        globals()["RunResults"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def dyad_snapshot(model: DiplomacyModel) -> pd.DataFrame:
    """All dyads (upper triangle, state_a before state_b in scenario order) now: the same
    columns as the recorded `dyads` table."""
    import pandas as pd

    from sim.metrics import DYAD_COLUMNS

    a, b = model.upper
    ids = np.array(model.ids, dtype=object)
    agreements = model.agreements
    cols = {
        "trust_ab": model.trust[a, b],
        "trust_ba": model.trust[b, a],
        "interoperability": model.interoperability[a, b],
        "risk": model.risk[a, b],
        "hostility": model.hostility[a, b],
        "dependency_ab": model.dependency[a, b],
        "dependency_ba": model.dependency[b, a],
        "agreement": agreements[a, b],
        "hotline": model.hotline[a, b],
    }
    assert tuple(cols) == tuple(DYAD_COLUMNS), "keep in step with sim.metrics.DYAD_COLUMNS"
    return pd.DataFrame(
        {
            "step": np.full(len(a), int(model.steps), dtype=np.int64),
            "state_a": ids[a],
            "state_b": ids[b],
            **{k: np.array(v, copy=True) for k, v in cols.items()},
        }
    )


def _override_map(
    overrides: Mapping[str, Any] | Sequence[str] | None,
) -> dict[str, Any]:
    """Overrides as {dotted.path: value}; also accepts ['a.b=1', ...] strings."""
    if overrides is None:
        return {}
    if isinstance(overrides, Mapping):
        return dict(overrides)
    if isinstance(overrides, str):
        overrides = [overrides]
    return dict(parse_set_option(text) for text in overrides)


def prepare_scenario(
    scenario: str | Path | Scenario = DEFAULT_SCENARIO,
    *,
    steps: int | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    record_every: int | None = None,
) -> Scenario:
    """Load and validate a scenario (bundled name, path or `Scenario`) with overrides applied;
    `steps`, `seed` and `record_every` are overrides too (so the saved scenario says what ran).

    Raises `sim.loader.ScenarioError` (an `InputError`) on bad input."""
    merged = _override_map(overrides)
    if seed is not None:
        merged["seed"] = seed
    if record_every is not None:
        merged["parameters.record_every"] = record_every
    if isinstance(scenario, Scenario):
        world = scenario
        if merged:
            source = scenario.path or f"<scenario {scenario.name}>"
            rebuilt = scenario_from_dict(
                scenario_to_dict(scenario), source=source, overrides=merged
            )
            world = dataclasses.replace(rebuilt, path=scenario.path)
    else:
        world = load_scenario(scenario, merged or None)
    return with_run_length(world, steps)


def with_run_length(world: Scenario, steps: int | None) -> Scenario:
    """The scenario run for `steps` steps instead of its own: a shorter run simply ends
    earlier, so scheduled events that fall after its last step are left out (the saved
    scenario then says exactly what ran)."""
    if steps is None or steps == world.steps:
        return world
    if steps < 1:
        raise InputError(f"--steps: expected a whole number >= 1, got {steps}")
    events = tuple(e for e in world.events if e.step < steps)
    return dataclasses.replace(world, steps=int(steps), events=events)


def _scenario_meta(world: Scenario) -> dict[str, Any]:
    return {
        "start": world.start,
        "time_unit": world.time_unit,
        "record_every": int(world.parameters.record_every),
        "locations": {s.id: [float(v) for v in s.location] for s in world.states},
        "scenario_path": world.path,
        "scenario_hash": scenario_hash(world),
    }


def simulate(
    world: Scenario,
    *,
    record_dyads: int = 0,
    progress: Callable[[int], None] | None = None,
) -> RunResults:
    """Run a prepared scenario for its `steps` and return all tables (nothing is written)."""
    from sim.model import DiplomacyModel

    if record_dyads < 0:
        raise InputError(f"record_dyads must be >= 0 (got {record_dyads})")
    model = DiplomacyModel(world, record_dyads=int(record_dyads))
    start = dyad_snapshot(model)
    res = model.run(progress=progress)
    final = dyad_snapshot(model)
    meta = {**res.meta, **_scenario_meta(world), "record_dyads": int(record_dyads)}
    return _run_results_class()(
        world=res.world,
        states=res.states,
        activities=res.activities,
        crises=res.crises,
        dyads=res.dyads,
        meta=meta,
        start_dyads=start,
        final_dyads=final,
        scenario=world,
    )


def run_scenario(
    scenario: str | Path | Scenario = DEFAULT_SCENARIO,
    *,
    steps: int | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    record_dyads: int = 0,
    record_every: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResults:
    """Run a scenario in memory and return its tables (no files are written).

    Args:
        scenario: bundled name (e.g. "indo_pacific"), path to a YAML file, or a `Scenario`.
        steps, seed: replace the scenario's values.
        overrides: {"parameters.temperature": 0.1, "states.IND.budget": 0, ...} or
            ["parameters.temperature=0.1", ...] (the ``--set`` syntax).
        record_dyads: also record dyad snapshots every this many steps (0 = never; the
            start and final snapshots are always kept in `start_dyads` / `final_dyads`).
        record_every: record world and state metrics every this many steps.
        progress: called with the number of steps done after each step.
    """
    world = prepare_scenario(
        scenario, steps=steps, seed=seed, overrides=overrides, record_every=record_every
    )
    return simulate(world, record_dyads=record_dyads, progress=progress)


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
                f"ddsim run {kind} at {_now_iso()}\n\n{text}", encoding="utf-8"
            )
        self._update_manifest(
            {
                "status": kind,
                "error": f"{type(exc).__name__}: {exc}",
                "finished": _now_iso(),
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
            _write_json(path, manifest)


def _now_iso() -> str:
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


def _write_json(path: Path, data: Any) -> None:
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
    text = yaml.safe_dump(scenario_to_dict(world), sort_keys=False, allow_unicode=True, width=100)
    path.write_text(header + text, encoding="utf-8")


def _base_manifest(
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


def _write_outputs(
    results: Results,
    directory: Path,
    manifest: dict[str, Any],
    *,
    fmt: str,
    svg: bool,
    plots: bool,
    wall_start: float,
) -> dict[str, Any]:
    """Tables, summary, figures and the final manifest into `directory`."""
    from sim import summary as summary_mod

    tables = results.all_tables() if hasattr(results, "all_tables") else dict(results.tables())
    manifest["tables"] = write_tables(tables, directory, fmt)
    manifest["meta"] = dict(results.meta)
    figure_files: list[str] = []
    failed: dict[str, str] = {}
    if plots:
        from sim.plots import draw_all

        written, failed = draw_all(results, svg=svg, out_dir=directory / FIGURES_DIR, strict=False)
        figure_files = [str(p.relative_to(directory)) for p in written]
    manifest["figures"] = figure_files
    if failed:
        manifest["figure_errors"] = failed
    manifest["finished"] = _now_iso()
    manifest["wall_time_s"] = round(time.perf_counter() - wall_start, 3)
    manifest["status"] = "complete"
    text = summary_mod.render_plain(summary_mod.build_summary(results, files=_listing(manifest)))
    (directory / SUMMARY_FILE).write_text(text, encoding="utf-8")
    _write_json(directory / MANIFEST_FILE, manifest)
    return manifest


def _listing(manifest: Mapping[str, Any]) -> list[str]:
    files = [MANIFEST_FILE, SCENARIO_FILE, SUMMARY_FILE]
    files += [entry["file"] for entry in manifest.get("tables", {}).values()]
    files += list(manifest.get("figures", []))
    return files


def save_run(
    results: Results,
    out_dir: str | Path | None = None,
    *,
    scenario: Scenario | None = None,
    fmt: str = "parquet",
    svg: bool = False,
    plots: bool = True,
    overrides: Mapping[str, Any] | None = None,
) -> Path:
    """Save results as a run directory (atomic: complete, or renamed ``.failed``) and return it.

    `out_dir` defaults to runs/<scenario>-<timestamp>; an existing directory is never
    overwritten (-2, -3, ... is appended). The scenario comes from `results.scenario`
    (results of `run_scenario`) unless given; without one no scenario.yaml is written."""
    if fmt not in FORMATS:
        raise InputError(f"fmt must be one of {', '.join(FORMATS)} (got {fmt!r})")
    world = scenario or getattr(results, "scenario", None)
    name = world.name if world else str(results.meta.get("scenario") or "run")
    target = Path(out_dir) if out_dir is not None else default_run_dir(name)
    check_output_target(target)
    wall_start = time.perf_counter()
    manifest = _base_manifest(world, results.meta, fmt=fmt, overrides=overrides, started=_now_iso())
    with RunDirectory(target) as run_dir:
        if world is not None:
            write_scenario(world, run_dir.path / SCENARIO_FILE)
        _write_json(run_dir.path / MANIFEST_FILE, manifest)
        _write_outputs(
            results, run_dir.path, manifest, fmt=fmt, svg=svg, plots=plots, wall_start=wall_start
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
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None


def _restore_dtypes(df: pd.DataFrame, dtypes: Mapping[str, str]) -> pd.DataFrame:
    for col, dtype in dtypes.items():
        if col not in df.columns or str(df[col].dtype) == dtype:
            continue
        try:
            if dtype == "bool" and df[col].dtype == object:
                df[col] = df[col].map({"True": True, "False": False, True: True, False: False})
            df[col] = df[col].astype(dtype)
        except (TypeError, ValueError):
            pass
    return df


def _read_table(path: Path, fmt: str, dtypes: Mapping[str, str]) -> pd.DataFrame:
    import pandas as pd

    if fmt == "csv":
        string_cols = [c for c, t in dtypes.items() if t in ("str", "object", "string")]
        # pandas 3 parses floats exactly by default (and deprecates float_precision)
        exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
        df = pd.read_csv(
            path,
            keep_default_na=False,
            na_values=["NaN"],
            dtype=dict.fromkeys(string_cols, str),
            **exact,
        )
    else:
        df = pd.read_parquet(path)
    return _restore_dtypes(df, dtypes)


def load_run(run_dir: str | Path) -> RunResults:
    """Read a saved run directory back into `RunResults` (the same DataFrames as saved;
    Parquet or CSV, as the manifest says). The scenario is loaded from scenario.yaml."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    fmt = manifest.get("format", "parquet")
    entries = manifest.get("tables") or {}
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLE_ORDER:
        entry = entries.get(name)
        file = run_dir / (entry["file"] if entry else _table_file(name, fmt))
        if not file.is_file():
            if name in ("world", "states", "activities", "crises"):
                raise InputError(
                    f"{run_dir}: table {file.name} is missing (status: {manifest.get('status')})"
                )
            continue
        tables[name] = _read_table(file, fmt, (entry or {}).get("dtypes", {}))
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


# ----------------------------------------------------------------------------------------------
# Command line: ddsim run / ddsim plot
# ----------------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a seed >= 0, got {value}")
    return value


RUN_EPILOG = """\
examples:
  ddsim run                                   run the bundled default scenario (indo_pacific)
  ddsim run scenarios/europe_nato.yaml --steps 60 --seed 7
  ddsim run indo_pacific --set parameters.exercise_signal=0.08 --set states.IND.budget=2
  ddsim run minimal --dyads 6 --every 3 --format csv --out runs/test

The run directory holds the tables (world, states, activities, crises, start_dyads,
final_dyads, and dyads with --dyads), scenario.yaml, manifest.json, summary.txt and
figures/. Exit codes: 0 done, 1 the run crashed (directory renamed <name>.failed, see
error.txt), 2 bad input (nothing written).
"""


def register_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` and ``plot`` subcommands (each sets ``func`` -> exit code)."""
    run = subparsers.add_parser(
        "run",
        help="run a scenario and save tables, figures and a manifest",
        description="Run a scenario (a YAML file or a bundled name; default: "
        f"{DEFAULT_SCENARIO}) and save the results in a new run directory.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "scenario",
        nargs="?",
        default=None,
        metavar="SCENARIO",
        help=f"scenario file or bundled name (default: {DEFAULT_SCENARIO})",
    )
    run.add_argument(
        "--steps", type=_positive_int, metavar="N", help="number of steps (default: the scenario's)"
    )
    run.add_argument(
        "--seed", type=_seed, metavar="S", help="random seed (default: the scenario's)"
    )
    run.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="run directory to create (default: runs/<scenario>-<YYYYmmdd-HHMMSS>); "
        "if it exists, -2, -3, ... is appended",
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, e.g. --set parameters.temperature=0.1 or "
        "--set states.IND.budget=0 (repeatable; VALUE is YAML)",
    )
    run.add_argument(
        "--dyads",
        nargs="?",
        const=str(DEFAULT_DYAD_INTERVAL),
        default=None,
        metavar="K",
        help=f"also record dyad-level snapshots every K steps (default K: {DEFAULT_DYAD_INTERVAL}; "
        "snapshots fall on recorded steps, see --every)",
    )
    run.add_argument(
        "--every",
        type=_positive_int,
        metavar="K",
        help="record metrics every K steps (sets parameters.record_every; the last step is always recorded)",
    )
    run.add_argument(
        "--format", choices=FORMATS, default=None, help="table format (default: parquet)"
    )
    run.add_argument(
        "--replay",
        type=Path,
        metavar="RUN_DIR",
        help="rerun a saved run from its scenario.yaml and manifest (same seed, steps, "
        "recording and format) into a new run directory (--out, default RUN_DIR-replay) and "
        "check that every table is identical: exit 0 if so, 1 if not",
    )
    run.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress bar or summary; print only the run directory",
    )
    figs = run.add_mutually_exclusive_group()
    figs.add_argument("--svg", action="store_true", help="also write SVG figures")
    figs.add_argument("--no-plots", dest="plots", action="store_false", help="do not draw figures")
    run.set_defaults(func=cmd_run)

    plot = subparsers.add_parser(
        "plot",
        help="redraw the figures of a saved run",
        description="Redraw the figures of a run directory from its saved tables (nothing is rerun).",
    )
    plot.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="a run directory made by ddsim run"
    )
    plot.add_argument("--svg", action="store_true", help="also write SVG figures")
    plot.set_defaults(func=cmd_plot)


@dataclass
class RunPlan:
    """Everything `ddsim run` needs, checked before anything is written."""

    world: Scenario
    target: Path
    overrides: dict[str, Any]
    record_dyads: int
    fmt: str
    svg: bool
    plots: bool
    quiet: bool
    options: dict[str, Any]
    replay_of: Path | None = None


def plan_run(args: argparse.Namespace) -> RunPlan:
    """Validate the ``run`` options and load the scenario; raises InputError on bad input."""
    scenario_arg = args.scenario
    dyads_text = args.dyads
    record_dyads = 0
    if dyads_text is not None:
        try:
            record_dyads = int(dyads_text)
        except ValueError:
            if scenario_arg is None:  # `ddsim run --dyads FILE`: FILE is the scenario
                scenario_arg, record_dyads = dyads_text, DEFAULT_DYAD_INTERVAL
            else:
                raise InputError(
                    f"--dyads: expected a whole number of steps, got {dyads_text!r}"
                ) from None
        if record_dyads < 1:
            raise InputError(f"--dyads: expected a number of steps >= 1, got {record_dyads}")
    overrides: dict[str, Any] = {}
    for text in args.overrides:
        key, value = parse_set_option(text)
        overrides[key] = value
    scenario_arg = scenario_arg or DEFAULT_SCENARIO
    world = prepare_scenario(
        scenario_arg,
        steps=args.steps,
        seed=args.seed,
        overrides=overrides,
        record_every=args.every,
    )
    target = args.out if args.out is not None else default_run_dir(world.name)
    check_output_target(Path(target))
    options = {
        "scenario": scenario_arg,
        "steps": args.steps,
        "seed": args.seed,
        "every": args.every,
        "dyads": record_dyads or None,
        "format": args.format or "parquet",
        "svg": args.svg,
        "plots": args.plots,
        "out": str(args.out) if args.out is not None else None,
    }
    return RunPlan(
        world=world,
        target=Path(target),
        overrides=overrides,
        record_dyads=record_dyads,
        fmt=args.format or "parquet",
        svg=args.svg,
        plots=args.plots,
        quiet=args.quiet,
        options=options,
    )


@contextlib.contextmanager
def _progress_bar(world: Scenario, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on stderr (yields the step callback), or nothing."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(world.name, total=world.steps)
        yield lambda k: progress.update(task, completed=k)


def cmd_run(args: argparse.Namespace) -> int:
    """``ddsim run``: 0 when done, 1 when the run crashed, 2 for bad input (nothing written)."""
    try:
        plan = plan_replay(args) if getattr(args, "replay", None) is not None else plan_run(args)
    except InputError as exc:
        print(f"ddsim run: {exc}", file=sys.stderr)
        return 2
    return execute_run(plan)


def execute_run(plan: RunPlan) -> int:
    """Run a checked plan into its run directory, with progress bar and summary."""
    from sim import summary as summary_mod

    world = plan.world
    interactive = sys.stderr.isatty() and not plan.quiet
    wall_start = time.perf_counter()
    started = _now_iso()
    run_dir = RunDirectory(plan.target)
    phase = "create"  # create -> write -> simulate -> write: an OSError while writing is an
    try:  # output fault (unwritable directory, full disk), not a crash of the model
        with run_dir:
            phase = "write"
            if not plan.quiet and not interactive:
                print(
                    f"ddsim run: {world.name} ({len(world.states)} states, {world.steps} steps, "
                    f"seed {world.seed}) -> {run_dir.final}",
                    file=sys.stderr,
                )
            meta = {
                "seed": world.seed,
                "steps": world.steps,
                "record_every": world.parameters.record_every,
                "record_dyads": plan.record_dyads,
            }
            manifest = _base_manifest(
                world,
                meta,
                fmt=plan.fmt,
                overrides=plan.overrides,
                started=started,
                options=plan.options,
            )
            write_scenario(world, run_dir.path / SCENARIO_FILE)
            _write_json(run_dir.path / MANIFEST_FILE, manifest)
            sim_start = time.perf_counter()
            phase = "simulate"
            with _progress_bar(world, interactive) as progress:
                results = simulate(world, record_dyads=plan.record_dyads, progress=progress)
            phase = "write"
            manifest["run_time_s"] = round(time.perf_counter() - sim_start, 3)
            status = _status(interactive, "Writing tables and figures")
            with status:
                manifest = _write_outputs(
                    results,
                    run_dir.path,
                    manifest,
                    fmt=plan.fmt,
                    svg=plan.svg,
                    plots=plan.plots,
                    wall_start=wall_start,
                )
    except KeyboardInterrupt:
        print(f"ddsim run: interrupted; partial results in {run_dir.result_path}", file=sys.stderr)
        return 130
    except InputError as exc:  # e.g. no free directory name
        print(f"ddsim run: {exc}", file=sys.stderr)
        if run_dir.failed_path:
            print(f"  (partial output: {run_dir.failed_path})", file=sys.stderr)
        return 2
    except OSError as exc:
        if phase == "simulate":
            return _report_crash(run_dir, exc)
        print(
            f"ddsim run: {_output_fault(run_dir, exc, created=phase != 'create')}", file=sys.stderr
        )
        return 1 if phase == "write" else 2
    except Exception as exc:
        return _report_crash(run_dir, exc)
    final = run_dir.final
    for name, err in manifest.get("figure_errors", {}).items():
        print(f"ddsim run: warning: figure {name} could not be drawn: {err}", file=sys.stderr)
    if plan.replay_of is not None:
        return finish_replay(plan.replay_of, final)
    if plan.quiet:
        print(final)
        return 0
    files = _listing(manifest)
    summary = summary_mod.build_summary(
        results, run_dir=final, files=files, wall_time=manifest["wall_time_s"]
    )
    summary_mod.print_summary(summary)
    return 0


def _os_reason(exc: OSError) -> str:
    """'No space left on device (runs/.r.partial/world.parquet)' for an OSError."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename:
        reason += f" ({exc.filename})"
    return reason


def _output_fault(run_dir: RunDirectory, exc: OSError, *, created: bool) -> str:
    """The one-line message for a run directory that could not be written (unwritable
    directory, full disk). A half-written directory is removed, so nothing incomplete is
    left that could be taken for results; other directories are never touched."""
    if not created:
        return f"cannot create the run directory {run_dir.final}: {_os_reason(exc)}"
    leftover = run_dir.failed_path or run_dir.path
    removed = False
    if leftover is not None and leftover.exists():
        shutil.rmtree(leftover, ignore_errors=True)
        removed = not leftover.exists()
    tail = "the incomplete output was removed" if removed else f"incomplete output in {leftover}"
    return f"cannot write the run directory {run_dir.final}: {_os_reason(exc)}; {tail}"


def _report_crash(run_dir: RunDirectory, exc: BaseException) -> int:
    """Report a run that crashed (directory renamed ``.failed`` with error.txt): exit 1."""
    where = run_dir.failed_path or run_dir.path
    print(f"ddsim run: the run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    print(f"  details: {where / ERROR_FILE}", file=sys.stderr)
    return 1


# ----------------------------------------------------------------------------------------------
# ddsim run --replay RUN_DIR
# ----------------------------------------------------------------------------------------------

REPLAY_CONFLICTS = (
    ("scenario", "SCENARIO"),
    ("steps", "--steps"),
    ("seed", "--seed"),
    ("every", "--every"),
    ("dyads", "--dyads"),
    ("format", "--format"),
)


def plan_replay(args: argparse.Namespace) -> RunPlan:
    """The plan that reruns RUN_DIR exactly: its resolved scenario.yaml (seed, steps and
    parameters included) and the manifest's recording settings and format. Raises
    InputError when RUN_DIR is not a complete run or other run options are given."""
    original = Path(args.replay)
    given = [flag for attr, flag in REPLAY_CONFLICTS if getattr(args, attr, None) is not None]
    if args.overrides:
        given.append("--set")
    if given:
        raise InputError(
            f"--replay reruns {original} with its recorded settings; drop {', '.join(given)}"
        )
    manifest = read_manifest(original)
    if manifest.get("status") != "complete":
        raise InputError(f"{original}: cannot replay a run that is {manifest.get('status')!r}")
    scenario_file = original / SCENARIO_FILE
    if not scenario_file.is_file():
        raise InputError(f"{original}: no {SCENARIO_FILE} to replay")
    world = load_scenario(scenario_file)
    recorded = manifest.get("scenario") or {}
    if recorded.get("hash") and recorded["hash"] != scenario_hash(world):
        _warn(f"{scenario_file} has changed since the run (its hash differs from the manifest's)")
    for key, value in (("seed", world.seed), ("steps", world.steps)):
        if manifest.get(key) is not None and manifest[key] != value:
            _warn(f"{SCENARIO_FILE} says {key} {value}, the manifest {manifest[key]}")
    _warn_versions(manifest.get("versions") or {})
    fmt = manifest.get("format", "parquet")
    if fmt not in FORMATS:
        raise InputError(f"{original}: unknown table format {fmt!r} in {MANIFEST_FILE}")
    record_dyads = int(manifest.get("record_dyads") or 0)
    recorded_options = manifest.get("options") or {}
    plots = bool(args.plots and recorded_options.get("plots", True))  # figures as before
    svg = bool(args.svg or (plots and recorded_options.get("svg", False)))
    target = (
        Path(args.out) if args.out is not None else original.with_name(f"{original.name}-replay")
    )
    check_output_target(target)
    options = {
        "replay": str(original),
        "format": fmt,
        "dyads": record_dyads or None,
        "svg": svg,
        "plots": plots,
        "out": str(args.out) if args.out is not None else None,
    }
    return RunPlan(
        world=world,
        target=target,
        overrides={},
        record_dyads=record_dyads,
        fmt=fmt,
        svg=svg,
        plots=plots,
        quiet=True,
        options=options,
        replay_of=original,
    )


def _warn(text: str) -> None:
    print(f"ddsim run: warning: {text}", file=sys.stderr)


def _warn_versions(recorded: Mapping[str, str]) -> None:
    """Warn (not fail) when installed package versions differ from the recorded ones."""
    installed = package_versions()
    changed = [
        f"{name} {version} -> {installed.get(name, 'not installed')}"
        for name, version in recorded.items()
        if installed.get(name, "not installed") != version
    ]
    if changed:
        _warn(
            "package versions differ from the original run, results may differ: "
            + ", ".join(changed)
        )


def _column_difference(a: pd.Series, b: pd.Series) -> str | None:
    """How two columns of equal length differ (None when identical, NaN equal to NaN)."""
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    if a.equals(b):
        return None
    if a.dtype != b.dtype:
        return f"dtype {a.dtype} vs {b.dtype}"
    try:
        same = (a == b) | (a.isna() & b.isna())
    except TypeError:
        same = a.astype(str) == b.astype(str)
    rows = np.flatnonzero(~same.to_numpy(dtype=bool))
    if len(rows) == 0:
        return "values differ"
    first = int(rows[0])
    return (
        f"{len(rows)} row{'s' if len(rows) != 1 else ''} differ "
        f"(first: row {first}, {a.iloc[first]!r} vs {b.iloc[first]!r})"
    )


def compare_tables(
    original: Mapping[str, pd.DataFrame], replay: Mapping[str, pd.DataFrame]
) -> dict[str, list[str]]:
    """Exact comparison of two runs' tables: {table: [differences]} (empty when identical)."""
    problems: dict[str, list[str]] = {}
    for name in [*TABLE_ORDER, *sorted((set(original) | set(replay)) - set(TABLE_ORDER))]:
        a, b = original.get(name), replay.get(name)
        if a is None and b is None:
            continue
        if a is None or b is None:
            problems[name] = ["missing in the " + ("original" if a is None else "replay")]
            continue
        found: list[str] = []
        if list(a.columns) != list(b.columns):
            only_a = [c for c in a.columns if c not in b.columns]
            only_b = [c for c in b.columns if c not in a.columns]
            found.append(
                "columns differ"
                + (f"; only in the original: {', '.join(map(str, only_a))}" if only_a else "")
                + (f"; only in the replay: {', '.join(map(str, only_b))}" if only_b else "")
            )
        if len(a) != len(b):
            found.append(f"{len(a)} rows in the original, {len(b)} in the replay")
        else:
            for col in [c for c in a.columns if c in b.columns]:
                diff = _column_difference(a[col], b[col])
                if diff:
                    found.append(f"column {col}: {diff}")
        if found:
            problems[name] = found
    return problems


def _run_tables(results: Results) -> dict[str, pd.DataFrame]:
    return results.all_tables() if hasattr(results, "all_tables") else dict(results.tables())


def finish_replay(original: Path, replay_dir: Path) -> int:
    """Compare the saved tables of `original` and its replay; print the verdict, record it
    in the replay's manifest, and return 0 when identical, else 1."""
    before = _run_tables(load_run(original))
    after = _run_tables(load_run(replay_dir))
    problems = compare_tables(before, after)
    n_tables = len(set(before) | set(after))
    manifest_path = replay_dir / MANIFEST_FILE
    with contextlib.suppress(OSError, ValueError):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["replay"] = {
            "of": str(original),
            "identical": not problems,
            "tables": n_tables,
            "differences": problems,
        }
        _write_json(manifest_path, manifest)
    if not problems:
        print(f"replay: identical ({n_tables} tables); rerun saved in {replay_dir}")
        return 0
    print(
        f"replay: differs from {original} in {len(problems)} of {n_tables} tables "
        f"(rerun saved in {replay_dir}):"
    )
    for name, found in problems.items():
        for line in found:
            print(f"  {name}: {line}")
    return 1


def _status(enabled: bool, text: str) -> contextlib.AbstractContextManager:
    if not enabled:
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(text)


def cmd_plot(args: argparse.Namespace) -> int:
    """``ddsim plot RUN_DIR``: redraw the figures from saved tables; 2 if RUN_DIR is not a run."""
    from sim.plots import draw_all

    try:
        results = load_run(args.run_dir)
    except InputError as exc:
        print(f"ddsim plot: {exc}", file=sys.stderr)
        return 2
    written, _ = draw_all(results, svg=args.svg, out_dir=Path(args.run_dir) / FIGURES_DIR)
    manifest_path = Path(args.run_dir) / MANIFEST_FILE
    with contextlib.suppress(OSError, ValueError):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["figures"] = sorted(
            set(manifest.get("figures", [])) | {str(p.relative_to(args.run_dir)) for p in written}
        )
        manifest.pop("figure_errors", None)
        manifest["replotted"] = _now_iso()
        _write_json(manifest_path, manifest)
    for path in written:
        print(path)
    return 0


def _cli_main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point for ``run`` and ``plot`` (used until `sim.cli` wires them)."""
    parser = argparse.ArgumentParser(prog="ddsim")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register_commands(sub)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    try:
        return args.func(args)
    except InputError as exc:
        print(f"ddsim: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_cli_main())
