"""Parameter sweeps: run an experiment's design, stream results to a resumable Parquet store.

``ddsim sweep FILE`` expands the experiment's design (`sim.experiments.experiment`), gives every run a
seed that depends only on (root seed, design point, replicate), and runs the runs in
batches on an executor (`sim.experiments.executors`: in-process, a local process pool, or Dask).
Finished batches are committed to the output directory every `--commit-every` seconds
(default 10) as Parquet part files (outcomes and time series first, then the runs part
that makes them count; each written under a temporary name, fsynced and renamed), so the
parent holds at most those seconds of results, a store has a few hundred files per hour
rather than one per batch, and an interrupted or killed sweep resumes where it stopped
when run again (a kill costs at most the uncommitted seconds of work).

Store layout (``sweeps/<name>/`` by default; see docs/sweeps.md)::

    sweep.json          manifest: experiment, design hash, seeds, counts, versions, command
    experiment.yaml     copy of the experiment file
    scenario.yaml       resolved base scenario (experiment overrides applied)
    design.parquet      design points: point + one column per parameter
    runs/part-*.parquet        run_id, point, replicate, seed, parameters, status, error, ...
    outcomes/part-*.parquet    run_id + one column per named outcome (finished runs)
    timeseries/part-*.parquet  run_id, step + the requested world metrics (when asked)

`load_sweep` reads a store back as pandas DataFrames; `run_one` runs a single
configuration and returns its outcomes (for benchmarks and notebooks).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import platform
import secrets
import shutil
import socket
import sys
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import InputError
from sim.experiments.executors import (
    Executor,
    default_workers,
    make_executor,
    start_fork_server,
    uses_process_pool,
)
from sim.experiments.experiment import (
    DesignPoints,
    Experiment,
    OutcomeSpec,
    compute_outcomes,
    default_outcomes,
    expand_design,
    load_experiment,
    run_id,
    run_seed,
)
from sim.scenarios import loader

__all__ = [
    "RunContext",
    "SweepError",
    "SweepResults",
    "SweepSummary",
    "load_sweep",
    "run_batch",
    "run_one",
    "run_sweep",
]

STORE_FORMAT = "ddsim-sweep/1"
TABLES = ("runs", "outcomes", "timeseries")
STORE_ENTRIES = (
    "sweep.json",
    "experiment.yaml",
    "scenario.yaml",
    "design.parquet",
    *TABLES,
    "analysis",
)
TARGET_TASK_SECONDS = 1.5
TASKS_PER_WORKER = 4
COMMIT_SECONDS = 10.0  # default: results wait at most this long in the parent before a commit
FAIL_ENV = "DDSIM_SWEEP_FAIL"  # test hook: comma-separated run ids that raise on purpose
LOG_EVERY_SECONDS = 30.0


class SweepError(InputError):
    """A sweep cannot start or continue (store belongs to another design, is locked, ...)."""


# --------------------------------------------------------------------------------------------
# Running runs (this part executes in the workers)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunContext:
    """Everything a worker needs besides the batch: shipped once per worker."""

    base: dict[str, Any]
    source: str
    paths: tuple[str, ...]
    outcomes: tuple[OutcomeSpec, ...]
    timeseries: tuple[str, ...]
    total_steps: int
    steps_per_year: float
    fail_runs: frozenset[str] = frozenset()


# one task: (run_id, point, replicate, seed, parameter values in `paths` order)
Task = tuple[str, int, int, int, tuple[Any, ...]]


@dataclass
class BatchResult:
    """What a worker sends back for one batch (row lists, small)."""

    runs: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]
    timeseries: dict[str, list] | None

    @classmethod
    def merged(cls, results: Sequence[BatchResult]) -> BatchResult:
        """One result holding the rows of several (for a single commit)."""
        runs = [row for r in results for row in r.runs]
        outcomes = [row for r in results for row in r.outcomes]
        series = [r.timeseries for r in results if r.timeseries is not None]
        timeseries = {k: [x for t in series for x in t[k]] for k in series[0]} if series else None
        return cls(runs, outcomes, timeseries)

    @property
    def wall_times(self) -> list[float]:
        """Seconds each run took."""
        return [r["wall_time"] for r in self.runs]


def _simulate(ctx: RunContext, overrides: Mapping[str, Any], seed: int) -> Any:
    from sim.core.model import DiplomacyModel

    tree = loader.apply_overrides(ctx.base, overrides, source=ctx.source)
    scenario = loader.scenario_from_dict(tree, ctx.source)
    return DiplomacyModel(scenario, rng=seed).run()


def run_batch(ctx: RunContext, tasks: Sequence[Task]) -> BatchResult:
    """Run a batch of runs; a run that raises is recorded as failed (with its traceback)."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    runs, outs = [], []
    series: dict[str, list] | None = (
        {"run_id": [], "step": [], **{m: [] for m in ctx.timeseries}} if ctx.timeseries else None
    )
    for rid, point, replicate, seed, values in tasks:
        t0 = time.perf_counter()
        status, error = "ok", None
        try:
            if rid in ctx.fail_runs:
                raise RuntimeError(f"injected failure for run {rid} ({FAIL_ENV})")
            results = _simulate(ctx, dict(zip(ctx.paths, values, strict=True)), seed)
            values_out = compute_outcomes(
                results,
                ctx.outcomes,
                total_steps=ctx.total_steps,
                steps_per_year=ctx.steps_per_year,
            )
            outs.append({"run_id": rid, **values_out})
            if series is not None:
                world = results.world
                series["run_id"].extend([rid] * len(world))
                series["step"].extend(world["step"].tolist())
                for m in ctx.timeseries:
                    series[m].extend(world[m].astype(float).tolist())
        except Exception:  # noqa: BLE001 - every failure is recorded, the sweep goes on
            status, error = "failed", traceback.format_exc()
        runs.append(
            {
                "run_id": rid,
                "point": point,
                "replicate": replicate,
                "seed": seed,
                "values": values,
                "status": status,
                "error": error,
                "wall_time": time.perf_counter() - t0,
                "worker": worker,
                "finished": datetime.now(UTC),
            }
        )
    return BatchResult(runs, outs, series)


def run_one(
    base_dict: Mapping[str, Any],
    overrides: Mapping[str, Any] | None,
    seed: int,
    steps: int | None = None,
    *,
    outcomes: Sequence[OutcomeSpec] | None = None,
    source: str = "<run_one>",
) -> dict[str, float]:
    """Run one configuration of a scenario dict and return its outcomes.

    ``base_dict``: a scenario as a plain dict (e.g. `sim.scenarios.loader.resolved_scenario_dict`);
    ``overrides``: dotted path -> value; ``steps`` overrides the scenario's run length;
    ``outcomes``: specs (default `sim.experiments.experiment.default_outcomes`).
    """
    over = dict(overrides or {})
    if steps is not None:
        over["steps"] = int(steps)
    tree = loader.apply_overrides(base_dict, over, source=source)
    scenario = loader.scenario_from_dict(tree, source)
    from sim.core.model import DiplomacyModel

    results = DiplomacyModel(scenario, rng=int(seed)).run()
    spy = 12.0 / loader.TIME_UNITS.get(scenario.time_unit, 1)
    return compute_outcomes(
        results,
        tuple(outcomes or default_outcomes()),
        total_steps=scenario.steps,
        steps_per_year=spy,
    )


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _fsync(path: Path) -> None:
    """Flush a file (or directory entry) to disk; a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. directories on Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    _fsync(tmp)
    os.replace(tmp, path)


def _arrow_type(dtype: Any) -> pa.DataType:
    if pd.api.types.is_bool_dtype(dtype):
        return pa.bool_()
    if pd.api.types.is_integer_dtype(dtype):
        return pa.int64()
    if pd.api.types.is_float_dtype(dtype):
        return pa.float64()
    return pa.string()


class SweepStore:
    """A sweep's output directory: manifest, design and partitioned Parquet tables."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_fh: Any = None

    # --- files ----------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        """Path of sweep.json."""
        return self.path / "sweep.json"

    def exists(self) -> bool:
        """True when the directory holds a sweep (has sweep.json)."""
        return self.manifest_path.is_file()

    def read_manifest(self) -> dict[str, Any]:
        """The manifest (sweep.json) as a dict."""
        try:
            return json.loads(self.manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise SweepError(
                f"{self.manifest_path}: cannot read the sweep manifest ({exc})"
            ) from None

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Replace sweep.json atomically."""
        _write_atomic(
            self.manifest_path, (json.dumps(manifest, indent=2, default=str) + "\n").encode()
        )

    def parts(self, table: str) -> list[Path]:
        """Committed-looking part files of one table, in commit order."""
        folder = self.path / table
        if not folder.is_dir():
            return []
        return sorted(
            p for p in folder.iterdir() if p.name.startswith("part-") and p.suffix == ".parquet"
        )

    def lock(self) -> None:
        """Take an exclusive lock on the store (one sweep process writes at a time)."""
        self.path.mkdir(parents=True, exist_ok=True)
        fh = open(self.path / ".lock", "a+")  # noqa: SIM115 - held for the sweep's lifetime
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - Windows: no locking
            pass
        except OSError:
            fh.close()
            raise SweepError(
                f"{self.path}: another ddsim sweep is writing to this directory"
            ) from None
        self._lock_fh = fh

    def unlock(self) -> None:
        """Release the lock."""
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    def reset(self) -> None:
        """Delete the sweep's own files (for --force-new); other files are left alone."""
        for name in STORE_ENTRIES:
            target = self.path / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()

    def clean(self) -> int:
        """Remove temporary files and parts whose runs part was never committed; return count."""
        committed = {p.name for p in self.parts("runs")}
        removed = 0
        for table in TABLES:
            folder = self.path / table
            if not folder.is_dir():
                continue
            for p in folder.iterdir():
                if p.name.endswith(".tmp") or (
                    table != "runs" and p.name.startswith("part-") and p.name not in committed
                ):
                    p.unlink(missing_ok=True)
                    removed += 1
        return removed

    # --- reading ----------------------------------------------------------------------------
    def read_runs(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """All committed runs rows (latest row per run id), optionally only some columns."""
        frames = []
        for p in self.parts("runs"):
            try:
                frames.append(
                    pq.read_table(p, columns=list(columns) if columns else None).to_pandas()
                )
            except (OSError, pa.ArrowException) as exc:
                print(f"warning: skipping unreadable part {p} ({exc})", file=sys.stderr)
        if not frames:
            return pd.DataFrame(columns=list(columns) if columns else ["run_id", "status"])
        runs = pd.concat(frames, ignore_index=True)
        return runs.drop_duplicates("run_id", keep="last").reset_index(drop=True)

    def read_table(self, table: str) -> pd.DataFrame:
        """A results table from its parts that have a committed runs part."""
        committed = {p.name for p in self.parts("runs")}
        files = [p for p in self.parts(table) if p.name in committed]
        if not files:
            return pd.DataFrame()
        import pyarrow.dataset as ds

        try:
            frame = ds.dataset([str(f) for f in files], format="parquet").to_table().to_pandas()
        except (OSError, pa.ArrowException):
            frames = []
            for f in files:
                with contextlib.suppress(OSError, pa.ArrowException):
                    frames.append(pq.read_table(f).to_pandas())
            frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return frame

    # --- writing ----------------------------------------------------------------------------
    def commit(
        self, result: BatchResult, schemas: Mapping[str, pa.Schema], param_names: Sequence[str]
    ) -> None:
        """Write one batch: outcomes and time series parts, then the runs part (the commit)."""
        name = f"part-{time.time_ns():020d}-{secrets.token_hex(4)}.parquet"
        if result.outcomes:
            out = {c: [row.get(c) for row in result.outcomes] for c in schemas["outcomes"].names}
            self._write_part(
                "outcomes", name, pa.Table.from_pydict(out, schema=schemas["outcomes"])
            )
        if result.timeseries is not None and result.timeseries["run_id"]:
            self._write_part(
                "timeseries",
                name,
                pa.Table.from_pydict(result.timeseries, schema=schemas["timeseries"]),
            )
        cols: dict[str, list] = {c: [] for c in schemas["runs"].names}
        for row in result.runs:
            for c in (
                "run_id",
                "point",
                "replicate",
                "seed",
                "status",
                "error",
                "wall_time",
                "worker",
                "finished",
            ):
                cols[c].append(row[c])
            for pname, value in zip(param_names, row["values"], strict=True):
                cols[pname].append(value)
        self._write_part("runs", name, pa.Table.from_pydict(cols, schema=schemas["runs"]))

    def _write_part(self, table: str, name: str, data: pa.Table) -> None:
        folder = self.path / table
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.tmp"
        pq.write_table(data, tmp)
        _fsync(tmp)  # the data is on disk before the name says it is committed
        os.replace(tmp, folder / name)
        if table == "runs":
            _fsync(folder)


def _schemas(exp: Experiment, points: DesignPoints) -> dict[str, pa.Schema]:
    params = [pa.field(p.name, _arrow_type(points.values[p.name].dtype)) for p in exp.parameters]
    runs = pa.schema(
        [
            pa.field("run_id", pa.string()),
            pa.field("point", pa.int64()),
            pa.field("replicate", pa.int64()),
            pa.field("seed", pa.int64()),
            *params,
            pa.field("status", pa.string()),
            pa.field("error", pa.string()),
            pa.field("wall_time", pa.float64()),
            pa.field("worker", pa.string()),
            pa.field("finished", pa.timestamp("ms", tz="UTC")),
        ]
    )
    outcomes = pa.schema(
        [pa.field("run_id", pa.string())] + [pa.field(o.name, pa.float64()) for o in exp.outcomes]
    )
    series = pa.schema(
        [pa.field("run_id", pa.string()), pa.field("step", pa.int64())]
        + [pa.field(m, pa.float64()) for m in exp.timeseries]
    )
    return {"runs": runs, "outcomes": outcomes, "timeseries": series}


# --------------------------------------------------------------------------------------------
# Batching and progress
# --------------------------------------------------------------------------------------------


class _Batcher:
    """Yields batches of pending tasks, sized from the run times seen so far: about
    TARGET_TASK_SECONDS per task, but at least TASKS_PER_WORKER tasks per worker remain."""

    def __init__(
        self, tasks: Iterator[Task], n: int, workers: int, fixed: int | None = None
    ) -> None:
        self.tasks, self.remaining, self.workers, self.fixed = tasks, n, workers, fixed
        self.seconds, self.count = 0.0, 0

    def observe(self, times: Sequence[float]) -> None:
        """Record the wall times of finished runs."""
        self.seconds += float(sum(times))
        self.count += len(times)

    def size(self) -> int:
        """Size of the next batch."""
        if self.fixed:
            return self.fixed
        if not self.count:
            return 1
        by_time = max(1, int(TARGET_TASK_SECONDS / max(self.seconds / self.count, 1e-6)))
        balance = max(1, math.ceil(self.remaining / (self.workers * TASKS_PER_WORKER)))
        return min(by_time, balance)

    def __iter__(self) -> Iterator[list[Task]]:
        while True:
            batch = list(islice(self.tasks, self.size()))
            if not batch:
                return
            self.remaining -= len(batch)
            yield batch


class _Progress:
    """A rich progress bar with ETA on a terminal; otherwise a line every 30 s (unless quiet)."""

    def __init__(self, total: int, done: int, *, quiet: bool, label: str) -> None:
        self.total, self.done, self.quiet = total, done, quiet
        self.bar = None
        self.last_log = time.monotonic()
        self.start = time.monotonic()
        self.start_done = done
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("runs"),
                TextColumn("{task.fields[failed]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self.task = self.bar.add_task(label, total=total, completed=done, failed="")
            self.bar.start()

    def advance(self, n: int, failed: int) -> None:
        """Count n more finished runs (failed: failures so far in this invocation)."""
        self.done += n
        if self.bar is not None:
            self.bar.update(self.task, advance=n, failed=f"[red]{failed} failed" if failed else "")
        elif not self.quiet and time.monotonic() - self.last_log >= LOG_EVERY_SECONDS:
            self.last_log = time.monotonic()
            rate = (self.done - self.start_done) / max(time.monotonic() - self.start, 1e-9)
            eta = (self.total - self.done) / rate if rate > 0 else float("nan")
            print(
                f"  {self.done}/{self.total} runs, {rate:.1f} runs/s, ETA {eta:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        """Stop the bar."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


# --------------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------------


@dataclass
class SweepSummary:
    """What one `run_sweep` call did."""

    out: Path
    n_runs: int
    already_done: int
    ran: int = 0
    ok: int = 0
    failed: int = 0
    failed_total: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    aborted: str | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every run in the store succeeded, 1 if any failed or the executor broke
        down (e.g. a worker process was killed), 130 if interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.failed_total or self.aborted else 0


def _versions(extra: Iterable[str] = ()) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("ddsim", "mesa", "numpy", "pandas", "pyarrow", "scipy", "SALib", *extra):
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    return out


def _hash(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _section_hashes(exp: Experiment, points: DesignPoints) -> dict[str, str]:
    fp = exp.fingerprint()
    out = {k: _hash(v) for k, v in fp.items()}
    out["points"] = _hash(points.values.to_dict(orient="split"))
    return out


def _tasks(
    exp: Experiment, points: DesignPoints, replicates: Iterable[int] | int, skip: set[str]
) -> Iterator[Task]:
    """Pending tasks in (point, replicate) order, skipping the run ids in ``skip``."""
    names = exp.parameter_names
    reps = range(replicates) if isinstance(replicates, int) else replicates
    cols = [points.values[n].tolist() for n in names]
    for point in range(len(points)):
        values = tuple(c[point] for c in cols)
        for rep in reps:
            rid = run_id(point, rep)
            if rid not in skip:
                yield (rid, point, rep, run_seed(exp.seed, point, rep), values)


def _prepare_store(
    store: SweepStore, exp: Experiment, points: DesignPoints, design_hash: str, *, force_new: bool
) -> dict | None:
    """Check an existing store against this experiment; return its manifest (None if new)."""
    if store.path.exists() and not store.path.is_dir():
        raise SweepError(f"{store.path}: expected an output directory, got a file")
    if not store.exists():
        if store.path.is_dir() and any(p.name != ".lock" for p in store.path.iterdir()):
            raise SweepError(
                f"{store.path}: expected a new or existing sweep directory, got a non-empty directory without sweep.json; choose another --out"
            )
        return None
    old = store.read_manifest()
    if force_new:
        store.reset()
        return None
    if old.get("format") != STORE_FORMAT:
        raise SweepError(
            f"{store.path}: expected a {STORE_FORMAT} store, got {old.get('format')!r}; use --force-new or another --out"
        )
    if old.get("design_hash") != design_hash:
        new = _section_hashes(exp, points)
        changed = [k for k, v in new.items() if old.get("section_hashes", {}).get(k) != v] or [
            "design"
        ]
        raise SweepError(
            f"{store.path}: expected the same experiment design as the sweep stored there "
            f"(design hash {old.get('design_hash', '?')[:12]}), got a different one ({design_hash[:12]}; "
            f"changed: {', '.join(changed)}); rerun with --force-new to discard the stored runs, "
            "or choose another --out"
        )
    if int(old.get("replicates", 0)) > exp.replicates:
        raise SweepError(
            f"{store.path}: expected at least the {old['replicates']} replicates already stored, got "
            f"{exp.replicates}; use --replicates {old['replicates']} (or more), --force-new or another --out"
        )
    return old


def run_sweep(
    experiment: str | Path | Experiment,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    replicates: int | None = None,
    scheduler: str | None = None,
    dask_local: bool = False,
    quiet: bool = False,
    force_new: bool = False,
    retry_failed: bool = False,
    batch_size: int | None = None,
    executor: Executor | None = None,
    command: Sequence[str] | None = None,
    commit_every: float = COMMIT_SECONDS,
) -> SweepSummary:
    """Run (or resume) a sweep and return what was done. See the module docstring.

    ``executor`` overrides the one chosen from workers/scheduler/dask_local (tests use it);
    ``commit_every``: seconds finished results may wait in the parent before a commit
    (0: commit every batch as it arrives).
    Raises ExperimentError / SweepError (InputError) for bad input or a mismatched store.
    """
    if executor is None and uses_process_pool(workers, scheduler=scheduler, dask_local=dask_local):
        start_fork_server()  # the pool's fork server imports the model meanwhile
    exp = (
        experiment
        if isinstance(experiment, Experiment)
        else load_experiment(experiment, replicates=replicates)
    )
    if isinstance(experiment, Experiment) and replicates is not None:
        exp = dataclasses.replace(exp, replicates=replicates)
    if batch_size is not None and batch_size < 1:
        raise SweepError(f"--batch-size: expected an integer >= 1, got {batch_size}")
    if workers is not None and workers < 1:
        raise SweepError(f"--workers: expected an integer >= 1, got {workers}")
    if not (commit_every >= 0 and math.isfinite(commit_every)):
        raise SweepError(f"--commit-every: expected seconds >= 0, got {commit_every}")
    points = expand_design(exp)
    design_hash = exp.design_hash(points)
    store = SweepStore(out if out is not None else Path("sweeps") / exp.name)
    if store.path.exists() and not store.path.is_dir():
        raise SweepError(f"{store.path}: expected an output directory, got a file")
    try:
        store.lock()
    except OSError as exc:
        raise SweepError(
            f"cannot create the output directory {store.path}: {_os_reason(exc)}"
        ) from None
    try:
        return _run_locked(
            store,
            exp,
            points,
            design_hash,
            workers,
            scheduler,
            dask_local,
            quiet,
            force_new,
            retry_failed,
            batch_size,
            executor,
            command,
            commit_every,
        )
    finally:
        store.unlock()


def _run_locked(
    store: SweepStore,
    exp: Experiment,
    points: DesignPoints,
    design_hash: str,
    workers: int | None,
    scheduler: str | None,
    dask_local: bool,
    quiet: bool,
    force_new: bool,
    retry_failed: bool,
    batch_size: int | None,
    executor: Executor | None,
    command: Sequence[str] | None,
    commit_every: float,
) -> SweepSummary:
    old = _prepare_store(store, exp, points, design_hash, force_new=force_new)
    n_runs = len(points) * exp.replicates
    removed = store.clean()
    done = store.read_runs(["run_id", "status"])
    failed_before = set(done.loc[done["status"] != "ok", "run_id"]) if len(done) else set()
    skip = set(done["run_id"]) - (failed_before if retry_failed else set())
    valid = (
        {run_id(p, r) for p in range(len(points)) for r in range(exp.replicates)}
        if n_runs <= 2_000_000
        else None
    )
    n_done = len(skip & valid) if valid is not None else len(skip)
    pending = n_runs - n_done

    # --- store metadata (written before any run so a killed sweep is recognisable) ---------
    if old is None:
        store.path.mkdir(parents=True, exist_ok=True)
        design = points.values
        if points.unit is not None:
            unit = pd.DataFrame(points.unit, columns=[f"u:{n}" for n in exp.parameter_names])
            design = pd.concat([design, unit], axis=1)
        design.to_parquet(store.path / "design.parquet", index=False)
        if exp.source_text:
            _write_atomic(store.path / "experiment.yaml", exp.source_text.encode())
        import yaml

        _write_atomic(
            store.path / "scenario.yaml",
            yaml.safe_dump(exp.base, sort_keys=False, allow_unicode=True).encode(),
        )
    scenario = loader.scenario_from_dict(exp.base, exp.source)
    manifest: dict[str, Any] = dict(old or {})
    manifest.update(
        {
            "format": STORE_FORMAT,
            "name": exp.name,
            "description": exp.description,
            "experiment_file": str(Path(exp.path).resolve()) if exp.path else None,
            "experiment_sha256": hashlib.sha256(exp.source_text.encode()).hexdigest()
            if exp.source_text
            else None,
            "design_hash": design_hash,
            "section_hashes": _section_hashes(exp, points),
            "design": exp.design.to_dict(),
            "parameters": [p.to_dict() for p in exp.parameters],
            "outcomes": [o.to_dict() for o in exp.outcomes],
            "timeseries": list(exp.timeseries),
            "scenario": {
                "ref": exp.scenario,
                "path": str(Path(exp.scenario_path).resolve()),
                "name": scenario.name,
                "hash": loader.scenario_hash(scenario),
                "overrides": exp.overrides,
            },
            "steps": exp.run_steps,
            "steps_per_year": exp.steps_per_year,
            "root_seed": exp.seed,
            "seed_rule": "int(SeedSequence(root_seed, spawn_key=(point, replicate)).generate_state(1, uint32)[0])",
            "n_points": len(points),
            "replicates": exp.replicates,
            "n_runs": n_runs,
            "created": (old or {}).get("created", _now()),
            "updated": _now(),
            "status": "running",
        }
    )
    history = list(manifest.get("history", []))

    fail_runs = frozenset(x.strip() for x in os.environ.get(FAIL_ENV, "").split(",") if x.strip())
    ctx = RunContext(
        base=exp.base,
        source=exp.source,
        paths=tuple(p.path for p in exp.parameters),
        outcomes=exp.outcomes,
        timeseries=exp.timeseries,
        total_steps=exp.run_steps,
        steps_per_year=exp.steps_per_year,
        fail_runs=fail_runs,
    )
    schemas = _schemas(exp, points)
    summary = SweepSummary(out=store.path, n_runs=n_runs, already_done=n_done)
    t0 = time.perf_counter()
    own_executor = executor is None and pending > 0
    if own_executor:
        executor = make_executor(workers, scheduler=scheduler, dask_local=dask_local)
    n_workers = executor.workers if executor is not None else (workers or default_workers())
    extra = ("dask", "distributed") if (scheduler or dask_local) else ()
    manifest["versions"] = _versions(extra)
    manifest["command"] = list(command) if command is not None else list(sys.argv)
    store.write_manifest(manifest)

    if not quiet:
        msg = f"sweep {exp.name}: {n_runs} runs ({len(points)} points x {exp.replicates} replicates), "
        msg += f"{pending} to run" + (f", {n_done} already done" if n_done else "")
        if removed:
            msg += f", {removed} uncommitted part files removed"
        where = (
            f"{n_workers} worker(s), {executor.name}" if executor is not None else "nothing to run"
        )
        print(f"{msg}; {where} -> {store.path}", file=sys.stderr, flush=True)

    progress = _Progress(n_runs, n_done, quiet=quiet, label=exp.name) if pending else None
    uncommitted: list[BatchResult] = []  # finished, not yet on disk
    try:
        if pending:
            batcher = _Batcher(
                _tasks(exp, points, exp.replicates, skip), pending, n_workers, batch_size
            )
            last_commit = time.monotonic()
            for result in executor.submit_batches(run_batch, batcher, ctx):
                uncommitted.append(result)
                if time.monotonic() - last_commit >= commit_every:
                    store.commit(BatchResult.merged(uncommitted), schemas, exp.parameter_names)
                    uncommitted.clear()
                    last_commit = time.monotonic()
                batcher.observe(result.wall_times)
                for row in result.runs:
                    summary.ran += 1
                    if row["status"] == "ok":
                        summary.ok += 1
                    else:
                        summary.failed += 1
                        if len(summary.failures) < 5:
                            last = (row["error"] or "").strip().splitlines()
                            summary.failures.append((row["run_id"], last[-1] if last else "error"))
                progress.advance(len(result.runs), summary.failed)
    except KeyboardInterrupt:
        summary.interrupted = True
    except BrokenProcessPool as exc:  # a worker died (OOM killer, signal): runs not committed
        summary.aborted = f"a worker process died ({exc or type(exc).__name__})"
    except OSError as exc:  # the store cannot be written (full disk, lost permissions)
        summary.aborted = f"cannot write to {store.path}: {_os_reason(exc)}"
        uncommitted.clear()  # lost with the failed commit; a rerun runs them again
    finally:
        if progress is not None:
            progress.close()
        if own_executor and executor is not None:
            with contextlib.suppress(Exception):
                executor.close()
        if uncommitted:  # also after Ctrl-C or a dead worker: keep what finished
            try:
                store.commit(BatchResult.merged(uncommitted), schemas, exp.parameter_names)
            except OSError as exc:
                summary.aborted = f"cannot write to {store.path}: {_os_reason(exc)}"
        summary.seconds = time.perf_counter() - t0
        final = store.read_runs(["run_id", "status"])
        if valid is not None and len(final):
            final = final[final["run_id"].isin(valid)]
        n_ok = int((final["status"] == "ok").sum()) if len(final) else 0
        summary.failed_total = int((final["status"] != "ok").sum()) if len(final) else 0
        left = n_runs - len(final)
        manifest["counts"] = {"ok": n_ok, "failed": summary.failed_total, "pending": left}
        manifest["status"] = (
            "complete"
            if left == 0
            else ("interrupted" if summary.interrupted or summary.aborted else "partial")
        )
        manifest["updated"] = _now()
        history.append(
            {
                "started": manifest["updated"],
                "command": manifest["command"],
                "executor": executor.name if executor is not None else None,
                "workers": n_workers,
                "ran": summary.ran,
                "ok": summary.ok,
                "failed": summary.failed,
                "seconds": round(summary.seconds, 3),
            }
        )
        manifest["history"] = history[-50:]
        try:
            store.write_manifest(manifest)
        except OSError as exc:  # committed runs stay readable: the manifest is only a summary
            summary.aborted = summary.aborted or f"cannot write to {store.path}: {_os_reason(exc)}"
    if not quiet:
        _report(summary, left)
    elif summary.aborted:
        _report_abort(summary, left)
    return summary


def _os_reason(exc: OSError) -> str:
    """'No space left on device (sweeps/x/runs/.part-....tmp)' for an OSError."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{reason} ({exc.filename})" if exc.filename else reason


def _report_abort(s: SweepSummary, left: int) -> None:
    print(
        f"ddsim sweep: stopped: {s.aborted}; {s.n_runs - left} of {s.n_runs} runs are stored; "
        "rerun the same command to resume",
        file=sys.stderr,
    )


def _report(s: SweepSummary, left: int) -> None:
    rate = s.ran / s.seconds if s.seconds > 0 and s.ran else 0.0
    if s.aborted:
        _report_abort(s, left)
    if s.interrupted:
        print(
            f"interrupted: {s.n_runs - left} of {s.n_runs} runs are stored; rerun the same command to resume",
            file=sys.stderr,
        )
    line = f"done: ran {s.ran} runs ({s.ok} ok, {s.failed} failed) in {s.seconds:.1f} s"
    if rate:
        line += f" ({rate:.1f} runs/s)"
    print(f"{line}; {s.out}", file=sys.stderr)
    for rid, err in s.failures:
        print(f"  failed {rid}: {err}", file=sys.stderr)
    if s.failed_total:
        print(
            f"{s.failed_total} failed run(s) in the store; tracebacks in the runs table (error column); rerun with --retry-failed to try them again",
            file=sys.stderr,
        )


# --------------------------------------------------------------------------------------------
# Reading results back
# --------------------------------------------------------------------------------------------


@dataclass
class SweepResults:
    """A sweep store loaded as pandas DataFrames.

    ``runs``: one row per run (run_id, point, replicate, seed, parameters, status, error,
    wall_time, ...); ``outcomes``: run_id + one column per outcome; ``timeseries``: run_id,
    step + metrics (empty when none were recorded; loaded on first access); ``design``:
    design points; ``manifest``: sweep.json.
    """

    path: Path
    manifest: dict[str, Any]
    design: pd.DataFrame
    runs: pd.DataFrame
    outcomes: pd.DataFrame
    _timeseries: pd.DataFrame | None = None

    @property
    def timeseries(self) -> pd.DataFrame:
        """Per-step world metrics of each finished run (run_id, step, metrics...)."""
        if self._timeseries is None:
            self._timeseries = SweepStore(self.path).read_table("timeseries")
            if len(self._timeseries):
                self._timeseries = self._timeseries.sort_values(
                    ["run_id", "step"], kind="stable"
                ).reset_index(drop=True)
        return self._timeseries

    @property
    def parameters(self) -> list[str]:
        """Parameter column names."""
        return [p["name"] for p in self.manifest.get("parameters", [])]

    @property
    def outcome_names(self) -> list[str]:
        """Outcome column names."""
        return [o["name"] for o in self.manifest.get("outcomes", [])]

    def table(self, status: str | None = "ok") -> pd.DataFrame:
        """Runs joined with their outcomes (only runs with this status; None = all)."""
        runs = self.runs if status is None else self.runs[self.runs["status"] == status]
        return runs.merge(self.outcomes, on="run_id", how="left")


def load_sweep(path: str | Path) -> SweepResults:
    """Load a sweep directory (committed runs only) as `SweepResults`."""
    store = SweepStore(path)
    if not store.exists():
        raise SweepError(
            f"{store.path}: expected a sweep directory (with sweep.json), got {'no such directory' if not store.path.exists() else 'none'}"
        )
    manifest = store.read_manifest()
    design = (
        pd.read_parquet(store.path / "design.parquet")
        if (store.path / "design.parquet").is_file()
        else pd.DataFrame()
    )
    runs = store.read_runs()
    if len(runs):
        runs = runs.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
    outcomes = store.read_table("outcomes")
    if len(outcomes):
        outcomes = outcomes.drop_duplicates("run_id", keep="last")
        outcomes = outcomes[outcomes["run_id"].isin(runs["run_id"])]
        order = pd.Series(np.arange(len(runs)), index=runs["run_id"].to_numpy())
        outcomes = outcomes.iloc[
            np.argsort(order.reindex(outcomes["run_id"].to_numpy()).to_numpy(), kind="stable")
        ].reset_index(drop=True)
    else:
        outcomes = pd.DataFrame(
            {
                "run_id": pd.Series([], dtype="string"),
                **{o["name"]: pd.Series([], dtype=float) for o in manifest.get("outcomes", [])},
            }
        )
    return SweepResults(Path(path), manifest, design, runs, outcomes)
