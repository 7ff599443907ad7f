"""Parameter sweeps: run an experiment's design, stream results to a resumable store.

``ddsim sweep FILE`` expands the experiment's design (`sim.experiments.experiment`), gives
every run a seed that depends only on (root seed, design point, replicate), and runs the
runs in batches on an executor (`sim.experiments.executors`: in-process, a local process
pool, or Dask). Each run goes through the one simulation path,
`sim.running.simulate.simulate`. Finished batches are committed to the store
(`sim.experiments.store`: verified Parquet parts) every ``--commit-every`` seconds
(default 10), so the parent holds at most those seconds of results and an interrupted,
killed or damaged sweep resumes where it stopped when run again: a kill costs at most the
uncommitted seconds of work, a damaged commit is moved aside and run again.

`load_sweep` reads a store back as pandas DataFrames; `run_one` runs a single
configuration and returns its outcomes (for benchmarks and notebooks). The runner itself
is generic (`StoreRunner`, `run_in_store`): `sim.experiments.ensemble` runs named variants
x replicates on it, with per-point scenarios (`PointScenario`) and extract tables.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib
import json
import math
import os
import platform
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.experiments.defaults import (
    COMMIT_SECONDS,
    LOG_EVERY_SECONDS,
    TARGET_TASK_SECONDS,
    TASKS_PER_WORKER,
)
from sim.experiments.executors import (
    Executor,
    ExecutorError,
    check_scheduler_address,
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
from sim.experiments.store import (
    EXTRA_NAME,
    RESERVED_COLUMNS,
    STORE_FORMAT,
    SweepError,
    SweepResults,
    SweepStore,
    arrow_type,
    extra_table,
    load_sweep,
    os_reason,
    table_schemas,
    write_atomic,
)
from sim.running.resources import check_sweep_memory
from sim.running.simulate import simulate, steps_per_year
from sim.scenarios import loader

__all__ = [
    "COMMIT_SECONDS",
    "PointScenario",
    "RunContext",
    "SweepError",
    "SweepOptions",
    "SweepResults",
    "SweepSummary",
    "StoreRunner",
    "extract_tables",
    "load_extract",
    "load_sweep",
    "run_batch",
    "run_in_store",
    "run_one",
    "run_sweep",
]

DESIGN_HASH_RULE = 2  # 1 (no key): JSON of every point; 2: the columns' bytes (see design_digest)
TASK_CHUNK = 10_000  # design points turned into tasks at a time


# --------------------------------------------------------------------------------------------
# Running runs (this part executes in the workers)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointScenario:
    """The scenario of one design point when the points are variants (an ensemble): a
    scenario tree, the overrides applied on top, and how it is named in messages."""

    scenario: Mapping[str, Any]
    overrides: Mapping[str, Any]
    source: str


@dataclass(frozen=True)
class RunContext:
    """Everything a worker needs besides the batch: shipped once per worker.

    A sweep runs ``base`` with each task's values at ``paths``; when ``points`` is given
    (an ensemble), design point k runs ``points[k]`` instead and the task's values are
    only recorded. ``steps`` shortens or lengthens every run (as ``ddsim run --steps``);
    ``extract`` ("package.module:function") adds per-run tables (`extract_tables`)."""

    base: dict[str, Any]
    source: str
    paths: tuple[str, ...]
    outcomes: tuple[OutcomeSpec, ...]
    timeseries: tuple[str, ...]
    points: tuple[PointScenario, ...] = ()
    steps: int | None = None
    extract: str | None = None

    def scenario_of(
        self, point: int, values: tuple[Any, ...]
    ) -> tuple[Mapping[str, Any], dict[str, Any], str]:
        """(scenario, overrides, source) of a run of this design point."""
        if self.points:
            spec = self.points[point]
            return spec.scenario, dict(spec.overrides), spec.source
        return self.base, dict(zip(self.paths, values, strict=True)), self.source


# one task: (run_id, point, replicate, seed, parameter values in `paths` order)
Task = tuple[str, int, int, int, tuple[Any, ...]]


@dataclass
class BatchResult:
    """What a worker sends back for one batch: run rows, outcome rows, the time series
    as one array per run and column (numpy arrays pickle far faster than lists), and the
    extract function's tables (name -> one Arrow table per run)."""

    runs: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]
    timeseries: dict[str, list[np.ndarray]] | None
    extra: dict[str, list[pa.Table]] = field(default_factory=dict)

    @classmethod
    def merged(cls, results: Sequence[BatchResult]) -> BatchResult:
        """One result holding the rows of several (for a single commit)."""
        runs = [row for r in results for row in r.runs]
        outcomes = [row for r in results for row in r.outcomes]
        series = [r.timeseries for r in results if r.timeseries is not None]
        timeseries = {k: [x for t in series for x in t[k]] for k in series[0]} if series else None
        extra: dict[str, list[pa.Table]] = {}
        for r in results:
            for name, tables in r.extra.items():
                extra.setdefault(name, []).extend(tables)
        return cls(runs, outcomes, timeseries, extra)

    @property
    def wall_times(self) -> list[float]:
        """Seconds each run took."""
        return [r["wall_time"] for r in self.runs]


def dyad_pairs(specs: Sequence[OutcomeSpec]) -> list[tuple[str, str]] | None:
    """The dyads a run must record for these outcomes (table dyads), or None (no dyad is
    recorded: the runs of most sweeps)."""
    pairs = [tuple(o.between) for o in specs if o.table == "dyads" and o.between is not None]
    return list(dict.fromkeys(pairs)) or None


def run_outcomes(results: Any, specs: Sequence[OutcomeSpec]) -> dict[str, float]:
    """One run's outcomes, per year and per window in the run's own steps and time unit."""
    world = results.scenario
    return compute_outcomes(
        results,
        specs,
        total_steps=int(world.steps),
        steps_per_year=steps_per_year(world.time_unit),
    )


@functools.cache
def load_extract(spec: str) -> Callable[[Any], Mapping[str, pd.DataFrame]]:
    """The function named by "package.module:function" (imported once per process)."""
    module_name, _, attr = spec.partition(":")
    function = importlib.import_module(module_name)
    for part in attr.split("."):
        function = getattr(function, part)
    if not callable(function):
        raise TypeError(f"extract {spec}: expected a function, got {type(function).__name__}")
    return function


def extract_tables(spec: str, results: Any, rid: str) -> dict[str, pa.Table]:
    """Call the extract function on one run's results: its tables (name -> DataFrame),
    each with run_id prepended and every column stored as int64, float64, bool or string
    (so the parts of every run have one schema). Anything else it returns raises."""
    frames = load_extract(spec)(results)
    if not isinstance(frames, Mapping):
        raise TypeError(
            f"extract {spec}: expected a dict of table name -> pandas DataFrame, got "
            f"{type(frames).__name__}"
        )
    tables = {}
    for name, frame in frames.items():
        if not isinstance(name, str) or not EXTRA_NAME.fullmatch(name):
            raise ValueError(
                f"extract {spec}: expected table names of letters, digits and '_' "
                f"(starting with a letter), got {name!r}"
            )
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(
                f"extract {spec}: table {name}: expected a pandas DataFrame, got "
                f"{type(frame).__name__}"
            )
        columns = [str(c) for c in frame.columns]
        clash = sorted(set(columns) & set(RESERVED_COLUMNS))
        if clash or len(set(columns)) != len(columns):
            what = f"reserved column(s) {', '.join(clash)}" if clash else "duplicate columns"
            raise ValueError(f"extract {spec}: table {name}: expected unique columns, got {what}")
        data = frame.set_axis(columns, axis=1).reset_index(drop=True)
        schema = pa.schema([(c, arrow_type(data[c].dtype)) for c in columns])
        table = pa.Table.from_pandas(data, preserve_index=False).cast(schema)
        ids = pa.array([rid] * len(data), pa.string())
        tables[name] = table.add_column(0, "run_id", ids)
    return tables


def _series_arrays(world: pd.DataFrame, rid: str, metrics: Sequence[str]) -> dict[str, np.ndarray]:
    """One run's time series columns (run_id, step, metrics) as arrays."""
    arrays = {
        "run_id": np.full(len(world), rid, dtype=object),
        "step": world["step"].to_numpy(dtype=np.int64),
    }
    for m in metrics:
        arrays[m] = world[m].to_numpy(dtype=float)
    return arrays


def run_batch(ctx: RunContext, tasks: Sequence[Task]) -> BatchResult:
    """Run a batch of runs; a run that raises (in the model, its outcomes or the extract
    function) is recorded as failed (with its traceback) and nothing else of it is kept."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    runs, outs = [], []
    series: dict[str, list[np.ndarray]] | None = (
        {"run_id": [], "step": [], **{m: [] for m in ctx.timeseries}} if ctx.timeseries else None
    )
    extra: dict[str, list[pa.Table]] = {}
    for rid, point, replicate, seed, values in tasks:
        t0 = time.perf_counter()
        status, error = "ok", None
        try:
            scenario, overrides, source = ctx.scenario_of(point, values)
            # an extract function may read the start and final dyads (a hindcast does)
            results = simulate(
                scenario,
                overrides,
                seed,
                steps=ctx.steps,
                source=source,
                dyad_snapshots=ctx.extract is not None,
                dyad_pairs=dyad_pairs(ctx.outcomes),
            )
            row = {"run_id": rid, **run_outcomes(results, ctx.outcomes)}
            arrays = (
                _series_arrays(results.world, rid, ctx.timeseries) if series is not None else {}
            )
            tables = extract_tables(ctx.extract, results, rid) if ctx.extract else {}
        except Exception:  # noqa: BLE001 - every failure is recorded, the sweep goes on
            status, error = "failed", traceback.format_exc()
        else:
            outs.append(row)
            if series is not None:
                for key, array in arrays.items():
                    series[key].append(array)
            for name, table in tables.items():
                extra.setdefault(name, []).append(table)
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
    return BatchResult(runs, outs, series, extra)


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
    results = simulate(base_dict, over, int(seed), source=source)
    return run_outcomes(results, tuple(outcomes or default_outcomes()))


def batch_tables(
    result: BatchResult, schemas: Mapping[str, pa.Schema], param_names: Sequence[str]
) -> dict[str, pa.Table]:
    """The Arrow tables of one commit from the rows of finished batches."""
    tables: dict[str, pa.Table] = {}
    if result.outcomes:
        out = {c: [row.get(c) for row in result.outcomes] for c in schemas["outcomes"].names}
        tables["outcomes"] = pa.Table.from_pydict(out, schema=schemas["outcomes"])
    if result.timeseries is not None and result.timeseries["run_id"]:
        cols = {k: np.concatenate(v) for k, v in result.timeseries.items()}
        tables["timeseries"] = pa.Table.from_pydict(cols, schema=schemas["timeseries"])
    fixed = ("run_id", "point", "replicate", "seed", "status", "error", "wall_time")
    cols: dict[str, list] = {c: [row[c] for row in result.runs] for c in fixed}
    cols["worker"] = [row["worker"] for row in result.runs]
    cols["finished"] = [row["finished"] for row in result.runs]
    for k, name in enumerate(param_names):
        cols[name] = [row["values"][k] for row in result.runs]
    tables["runs"] = pa.Table.from_pydict(
        {c: cols[c] for c in schemas["runs"].names}, schema=schemas["runs"]
    )
    for name, parts in sorted(result.extra.items()):
        try:
            tables[extra_table(name)] = pa.concat_tables(parts, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise SweepError(
                f"extract table {name}: expected the same columns and types from every run, "
                f"got {' '.join(str(exc).split())[:200]}"
            ) from None
    return tables


# --------------------------------------------------------------------------------------------
# The design: points, hash, tasks
# --------------------------------------------------------------------------------------------


def expand_points(exp: Experiment) -> DesignPoints:
    """The design points, as `expand_design` gives them; a grid is built column by column
    from each parameter's own values (numpy indexing) instead of a Python tuple per point,
    which took 137 s and 2.4 GB for a grid of 10^7 points."""
    if exp.design.type != "grid" or not exp.parameters:
        return expand_design(exp)
    columns = [
        expand_design(dataclasses.replace(exp, parameters=(p,))).values[p.name]
        for p in exp.parameters
    ]
    sizes = [len(c) for c in columns]
    n = math.prod(sizes)
    data: dict[str, Any] = {"point": np.arange(n, dtype=np.int64)}
    inner = n
    for spec, column, size in zip(exp.parameters, columns, sizes, strict=True):
        inner //= size  # points per value of this parameter (later ones vary faster)
        index = np.tile(np.repeat(np.arange(size), inner), n // (size * inner) if n else 0)
        data[spec.name] = column.array.take(index)
    return DesignPoints(pd.DataFrame(data), None, None)


def json_hash(obj: Any) -> str:
    """sha256 of an object's canonical JSON (sorted keys; other objects as str)."""
    text = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def design_digest(points: DesignPoints) -> str:
    """sha256 of the design points' columns (name, dtype and the values' bytes): seconds
    for 10^7 points, where JSON of every point took minutes and gigabytes."""
    digest = hashlib.sha256()
    for name, column in points.values.items():
        digest.update(f"{name}\x00{column.dtype}\x00".encode())
        values = column.to_numpy()
        if values.dtype.kind in "biuf":
            digest.update(np.ascontiguousarray(values).tobytes())
        else:
            digest.update("\x1f".join(map(str, values)).encode())
    return digest.hexdigest()


@dataclass
class SweepDesign:
    """An experiment's expanded design and its hashes (what decides the runs)."""

    points: DesignPoints
    digest: str
    hash: str
    sections: dict[str, str]

    @classmethod
    def of(cls, exp: Experiment) -> SweepDesign:
        """Expand and hash the design of `exp`."""
        points = expand_points(exp)
        digest = design_digest(points)
        sections = {k: json_hash(v) for k, v in exp.fingerprint().items()}
        sections["points"] = digest
        return cls(points, digest, json_hash({"sections": sections}), sections)

    def matches(self, manifest: Mapping[str, Any], exp: Experiment) -> bool:
        """Whether a stored sweep's manifest has this design (stores of the first hash rule
        are compared by that rule)."""
        if manifest.get("design_hash_rule") == DESIGN_HASH_RULE:
            return manifest.get("design_hash") == self.hash
        return manifest.get("design_hash") == exp.design_hash(self.points)


def _tasks(
    exp: Experiment, points: DesignPoints, replicates: int, skip: set[str]
) -> Iterator[Task]:
    """Pending tasks in (point, replicate) order, skipping the run ids in ``skip``; points
    are turned into Python values a chunk at a time."""
    names = exp.parameter_names
    for start in range(0, len(points), TASK_CHUNK):
        chunk = points.values.iloc[start : start + TASK_CHUNK]
        cols = [chunk[n].tolist() for n in names]
        for k in range(len(chunk)):
            point = start + k
            values = tuple(c[k] for c in cols)
            for rep in range(replicates):
                rid = run_id(point, rep)
                if rid not in skip:
                    yield (rid, point, rep, run_seed(exp.seed, point, rep), values)


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


@dataclass(frozen=True)
class SweepOptions:
    """How to run a sweep (the ``ddsim sweep`` options); `check` validates them before
    anything is created."""

    workers: int | None = None
    scheduler: str | None = None
    dask_local: bool = False
    quiet: bool = False
    force_new: bool = False
    retry_failed: bool = False
    batch_size: int | None = None
    executor: Executor | None = None
    command: Sequence[str] | None = None
    commit_every: float = COMMIT_SECONDS

    def check(self) -> None:
        """Raise SweepError (or ExecutorError) for an invalid option."""
        if self.batch_size is not None and self.batch_size < 1:
            raise SweepError(f"--batch-size: expected an integer >= 1, got {self.batch_size}")
        if self.workers is not None and self.workers < 1:
            raise SweepError(f"--workers: expected an integer >= 1, got {self.workers}")
        if not (self.commit_every >= 0 and math.isfinite(self.commit_every)):
            raise SweepError(f"--commit-every: expected seconds >= 0, got {self.commit_every}")
        if self.scheduler is not None:
            check_scheduler_address(self.scheduler)

    @property
    def uses_dask(self) -> bool:
        """Whether the runs go to Dask."""
        return bool(self.scheduler or self.dask_local)

    @property
    def local_workers(self) -> int | None:
        """Worker processes on this machine (None: the runs go to Dask), for the memory check."""
        return None if self.uses_dask else (self.workers or default_workers())

    def start_pool_early(self) -> None:
        """Start the process pool's fork server now when one will be used, so it imports
        the model while this process checks its input."""
        if self.executor is None and uses_process_pool(
            self.workers, scheduler=self.scheduler, dask_local=self.dask_local
        ):
            start_fork_server()


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
    damaged_moved: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every run in the store succeeded, 1 if any failed or the executor broke
        down (e.g. a worker process was killed), 130 if interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.failed_total or self.aborted else 0

    def count(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Count finished runs (and remember the first failures)."""
        for row in rows:
            self.ran += 1
            if row["status"] == "ok":
                self.ok += 1
                continue
            self.failed += 1
            if len(self.failures) < 5:
                last = (row["error"] or "").strip().splitlines()
                self.failures.append((row["run_id"], last[-1] if last else "error"))


def _versions(extra: Iterable[str] = ()) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("ddsim", "mesa", "numpy", "pandas", "pyarrow", "scipy", "SALib", *extra):
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _load(experiment: str | Path | Experiment, replicates: int | None) -> Experiment:
    if not isinstance(experiment, Experiment):
        return load_experiment(experiment, replicates=replicates)
    if replicates is not None:
        return dataclasses.replace(experiment, replicates=replicates)
    return experiment


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
    Raises ExperimentError / SweepError (InputError) for bad input or a mismatched store;
    nothing is created before the options, the experiment and the scheduler address are
    checked.
    """
    options = SweepOptions(
        workers=workers,
        scheduler=scheduler,
        dask_local=dask_local,
        quiet=quiet,
        force_new=force_new,
        retry_failed=retry_failed,
        batch_size=batch_size,
        executor=executor,
        command=command,
        commit_every=commit_every,
    )
    options.check()
    options.start_pool_early()
    exp = _load(experiment, replicates)
    check_sweep_memory(exp.base, workers=options.local_workers)
    design = SweepDesign.of(exp)
    out = out if out is not None else Path("sweeps") / exp.name
    return run_in_store(out, lambda store: _Sweep(store, exp, design, options))


def run_in_store(out: str | Path, make: Callable[[SweepStore], StoreRunner]) -> SweepSummary:
    """Lock the store at `out`, run ``make(store)`` in it and return its summary; a store
    this call created is removed again when the executor cannot be set up (nothing ran)."""
    store = SweepStore(out)
    if store.path.exists() and not store.path.is_dir():
        raise SweepError(f"{store.path}: expected an output directory, got a file")
    created = not store.path.exists()
    try:
        store.lock()
    except OSError as exc:
        raise SweepError(
            f"cannot create the output directory {store.path}: {os_reason(exc)}"
        ) from None
    try:
        return make(store).run()
    except ExecutorError:
        if created:  # nothing ran: leave no trace of a store that never started
            store.unlock()
            with contextlib.suppress(OSError):
                store.reset()
                (store.path / ".lock").unlink(missing_ok=True)
                store.path.rmdir()
        raise
    finally:
        store.unlock()


class StoreRunner:
    """One invocation of a set of runs on a locked store: check the store, find what is
    done, run the rest, commit, and record the outcome in the manifest.

    What the runs are comes from a subclass: `_Sweep` (an experiment's design points) and
    `sim.experiments.ensemble` (variants x replicates). It sets the attributes below and
    implements the methods that raise NotImplementedError."""

    kind = "sweep"  # the manifest's "kind" (absent in sweep stores)
    label: str  # name in messages and the progress bar
    n_runs: int
    replicates: int
    timeseries: tuple[str, ...]
    param_names: list[str]  # columns of the runs table filled from each task's values
    design: SweepDesign

    def __init__(self, store: SweepStore, options: SweepOptions) -> None:
        self.store, self.options = store, options
        self.moved = 0  # files of damaged commits moved aside

    # --- what a subclass provides -----------------------------------------------------------
    def schemas(self) -> dict[str, pa.Schema]:
        """Arrow schemas of the runs, outcomes and timeseries tables."""
        raise NotImplementedError

    def check_same(self, old: Mapping[str, Any]) -> None:
        """Raise SweepError unless the stored runs (manifest `old`) are runs of this design."""
        raise NotImplementedError

    def write_metadata(self) -> None:
        """Files of a new store besides the manifest and the tables."""
        raise NotImplementedError

    def manifest(self, old: Mapping[str, Any] | None) -> dict[str, Any]:
        """The manifest to write (``old``: the stored one)."""
        raise NotImplementedError

    def context(self) -> RunContext:
        """What every worker needs."""
        raise NotImplementedError

    def tasks(self, skip: set[str]) -> Iterator[Task]:
        """The runs still to do (run ids in ``skip`` are done)."""
        raise NotImplementedError

    def describe(self) -> str:
        """'smoke: 8 runs (4 points x 2 replicates)' for the first line."""
        raise NotImplementedError

    # --- before running ---------------------------------------------------------------------
    def _previous(self) -> tuple[dict[str, Any] | None, bool]:
        """Check an existing store against these runs: its manifest (None when the store is
        new, was never started, or is discarded with --force-new) and whether its files
        are to be discarded (done by `run` once the executor is up)."""
        store = self.store
        if store.never_started() or (self.options.force_new and store.exists()):
            return None, True
        if not store.exists():
            if store.path.is_dir() and any(p.name != ".lock" for p in store.path.iterdir()):
                raise SweepError(
                    f"{store.path}: expected a new or existing {self.kind} directory, got a "
                    "non-empty directory without sweep.json; choose another --out"
                )
            return None, False
        old = store.read_manifest()
        if old.get("format") != STORE_FORMAT:
            raise SweepError(
                f"{store.path}: expected a {STORE_FORMAT} store, got {old.get('format')!r}; "
                "use --force-new or another --out"
            )
        stored_kind = old.get("kind", "sweep")
        if stored_kind != self.kind:
            raise SweepError(
                f"{store.path}: expected a {self.kind} store, got the store of a "
                f"{stored_kind}; use --force-new to discard it, or another --out"
            )
        self.check_same(old)
        if int(old.get("replicates", 0)) > self.replicates:
            raise SweepError(
                f"{store.path}: expected at least the {old['replicates']} replicates already "
                f"stored, got {self.replicates}; use --replicates {old['replicates']} (or "
                "more), --force-new or another --out"
            )
        return old, False

    def _changed_message(self, old: Mapping[str, Any], what: str) -> str:
        """'... expected the same <what> as stored there ..., changed: ...' for check_same."""
        stored = old.get("section_hashes", {})
        changed = [k for k, v in self.design.sections.items() if stored.get(k) != v]
        return (
            f"{self.store.path}: expected the same {what} as the {self.kind} stored there "
            f"(design hash {str(old.get('design_hash', '?'))[:12]}), got a different one "
            f"({self.design.hash[:12]}; changed: {', '.join(changed) or 'design'}); rerun "
            "with --force-new to discard the stored runs, or choose another --out"
        )

    def _done(self) -> tuple[set[str], int]:
        """Run ids not to run again and how many of them count as done: every run of a
        sound commit (failed runs too, unless --retry-failed). Damaged commits are moved
        aside, so their runs are run again and no table ends up with two copies."""
        scan = self.store.scan(timeseries=bool(self.timeseries))
        message = scan.damage_message(self.store.path)
        self.moved = self.store.quarantine(scan.damaged)
        if message:
            print(f"warning: {message} (moved to {self.store.path / 'damaged'})", file=sys.stderr)
        runs = scan.runs
        if self.options.retry_failed and len(runs):
            runs = runs[runs["status"] == "ok"]
        skip = set(runs["run_id"])
        return skip, len(skip)

    def _open_executor(self, pending: int) -> tuple[Executor | None, bool]:
        """The executor to use, and whether this run owns (and closes) it."""
        o = self.options
        if o.executor is not None:
            return o.executor, False
        if not pending:
            return None, False
        return make_executor(o.workers, scheduler=o.scheduler, dask_local=o.dask_local), True

    def _run_record(self, old: Mapping[str, Any] | None) -> dict[str, Any]:
        """Manifest entries common to every kind of store: sizes, times, status (running),
        versions and command."""
        extra = ("dask", "distributed") if self.options.uses_dask else ()
        command = self.options.command
        return {
            "n_points": len(self.design.points),
            "replicates": self.replicates,
            "n_runs": self.n_runs,
            "created": (old or {}).get("created", _now()),
            "updated": _now(),
            "status": "running",
            "versions": _versions(extra),
            "command": list(command) if command is not None else list(sys.argv),
        }

    # --- running ----------------------------------------------------------------------------
    def run(self) -> SweepSummary:
        """Run the pending runs and return the summary (see `run_sweep`)."""
        old, discard = self._previous()
        removed = 0 if discard else self.store.clean()
        skip, n_done = (set(), 0) if discard else self._done()
        pending = self.n_runs - n_done
        executor, own = self._open_executor(pending)  # first: a bad scheduler changes nothing
        try:
            if discard:
                self.store.reset()
            if old is None:
                self.store.path.mkdir(parents=True, exist_ok=True)
                self.write_metadata()
            manifest = self.manifest(old)
            self.store.write_manifest(manifest)
            n_workers = executor.workers if executor is not None else (self.options.workers or 1)
            summary = SweepSummary(out=self.store.path, n_runs=self.n_runs, already_done=n_done)
            summary.damaged_moved = self.moved
            self._announce(pending, n_done, removed, executor, n_workers)
            t0 = time.perf_counter()
            try:
                self._execute(summary, executor, pending, skip, n_workers)
            finally:
                summary.seconds = time.perf_counter() - t0
                left = self._finish(summary, manifest, executor, n_workers)
        finally:
            if own and executor is not None:
                with contextlib.suppress(Exception):
                    executor.close()
        if not self.options.quiet:
            _report(summary, left)
        elif summary.aborted:
            _report_abort(summary, left)
        return summary

    def _announce(
        self, pending: int, n_done: int, removed: int, executor: Executor | None, n_workers: int
    ) -> None:
        if self.options.quiet:
            return
        msg = f"{self.describe()}, {pending} to run" + (
            f", {n_done} already done" if n_done else ""
        )
        if removed:
            msg += f", {removed} uncommitted part files removed"
        where = (
            f"{n_workers} worker(s), {executor.name}" if executor is not None else "nothing to run"
        )
        print(f"{msg}; {where} -> {self.store.path}", file=sys.stderr, flush=True)

    def _execute(
        self,
        summary: SweepSummary,
        executor: Executor | None,
        pending: int,
        skip: set[str],
        n_workers: int,
    ) -> None:
        """Run the pending runs, committing on the clock; faults end up in the summary."""
        if not pending or executor is None:
            return
        o = self.options
        ctx = self.context()
        progress = _Progress(self.n_runs, self.n_runs - pending, quiet=o.quiet, label=self.label)
        batcher = _Batcher(self.tasks(skip), pending, n_workers, o.batch_size)
        uncommitted: list[BatchResult] = []  # finished, not yet on disk
        last_commit = time.monotonic()
        try:
            for result in executor.submit_batches(run_batch, batcher, ctx):
                uncommitted.append(result)
                if time.monotonic() - last_commit >= o.commit_every:
                    self._commit(uncommitted)
                    last_commit = time.monotonic()
                batcher.observe(result.wall_times)
                summary.count(result.runs)
                progress.advance(len(result.runs), summary.failed)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM through the command line
            summary.interrupted = True
        except BrokenProcessPool as exc:  # a worker died (OOM killer, signal): runs not committed
            summary.aborted = f"a worker process died ({exc or type(exc).__name__})"
        except OSError as exc:  # the store cannot be written (full disk, lost permissions)
            summary.aborted = f"cannot write to {self.store.path}: {os_reason(exc)}"
            uncommitted.clear()  # lost with the failed commit; a rerun runs them again
        finally:
            progress.close()
            if uncommitted:  # also after Ctrl-C or a dead worker: keep what finished
                try:
                    self._commit(uncommitted)
                except OSError as exc:
                    summary.aborted = f"cannot write to {self.store.path}: {os_reason(exc)}"

    def _commit(self, uncommitted: list[BatchResult]) -> None:
        merged = BatchResult.merged(uncommitted)
        self.store.commit(batch_tables(merged, self.schemas(), self.param_names))
        uncommitted.clear()

    def _finish(
        self,
        summary: SweepSummary,
        manifest: dict[str, Any],
        executor: Executor | None,
        n_workers: int,
    ) -> int:
        """Counts, status and history into the manifest; returns the runs not stored."""
        final = self.store.scan(timeseries=bool(self.timeseries)).runs
        n_ok = int((final["status"] == "ok").sum()) if len(final) else 0
        summary.failed_total = int((final["status"] != "ok").sum()) if len(final) else 0
        left = self.n_runs - len(final)
        manifest["counts"] = {"ok": n_ok, "failed": summary.failed_total, "pending": left}
        if left == 0:
            manifest["status"] = "complete"
        elif summary.interrupted or summary.aborted:
            manifest["status"] = "interrupted"
        else:
            manifest["status"] = "partial"
        manifest["updated"] = _now()
        history = list(manifest.get("history", []))
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
            self.store.write_manifest(manifest)
        except OSError as exc:  # committed runs stay readable: the manifest is only a summary
            summary.aborted = (
                summary.aborted or f"cannot write to {self.store.path}: {os_reason(exc)}"
            )
        return left


class _Sweep(StoreRunner):
    """The runs of an experiment: every (design point, replicate)."""

    def __init__(
        self, store: SweepStore, exp: Experiment, design: SweepDesign, options: SweepOptions
    ) -> None:
        super().__init__(store, options)
        self.exp, self.design = exp, design
        self.points = design.points
        self.label = exp.name
        self.replicates = exp.replicates
        self.n_runs = len(self.points) * exp.replicates
        self.timeseries = exp.timeseries
        self.param_names = exp.parameter_names
        self._schemas = table_schemas(
            {p.name: self.points.values[p.name].dtype for p in exp.parameters},
            [o.name for o in exp.outcomes],
            exp.timeseries,
        )

    def schemas(self) -> dict[str, pa.Schema]:
        """Arrow schemas of the three tables."""
        return self._schemas

    def check_same(self, old: Mapping[str, Any]) -> None:
        """Refuse a store of another experiment design."""
        if not self.design.matches(old, self.exp):
            raise SweepError(self._changed_message(old, "experiment design"))

    def write_metadata(self) -> None:
        """design.parquet, experiment.yaml and scenario.yaml of a new store."""
        import yaml

        exp, points, path = self.exp, self.points, self.store.path
        design = points.values
        if points.unit is not None:
            unit = pd.DataFrame(points.unit, columns=[f"u:{n}" for n in exp.parameter_names])
            design = pd.concat([design, unit], axis=1)
        design.to_parquet(path / "design.parquet", index=False)
        if exp.source_text:
            write_atomic(path / "experiment.yaml", exp.source_text.encode())
        text = yaml.safe_dump(exp.base, sort_keys=False, allow_unicode=True)
        write_atomic(path / "scenario.yaml", text.encode())

    def manifest(self, old: Mapping[str, Any] | None) -> dict:
        """sweep.json: the experiment, its design hash, seeds, counts, versions."""
        exp = self.exp
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
                "design_hash": self.design.hash,
                "design_hash_rule": DESIGN_HASH_RULE,
                "section_hashes": self.design.sections,
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
                "steps": scenario.steps,
                "events_dropped": exp.events_dropped,
                "steps_per_year": steps_per_year(scenario.time_unit),
                "root_seed": exp.seed,
                "seed_rule": "int(SeedSequence(root_seed, spawn_key=(point, replicate)).generate_state(1, uint32)[0])",
            }
        )
        manifest.update(self._run_record(old))
        return manifest

    def context(self) -> RunContext:
        """The base scenario, parameter paths and what to measure."""
        exp = self.exp
        return RunContext(
            base=exp.base,
            source=exp.source,
            paths=tuple(p.path for p in exp.parameters),
            outcomes=exp.outcomes,
            timeseries=exp.timeseries,
        )

    def tasks(self, skip: set[str]) -> Iterator[Task]:
        """Pending (point, replicate) runs."""
        return _tasks(self.exp, self.points, self.exp.replicates, skip)

    def describe(self) -> str:
        """'sweep smoke: 8 runs (4 points x 2 replicates)'."""
        exp = self.exp
        return f"sweep {exp.name}: {self.n_runs} runs ({len(self.points)} points x {exp.replicates} replicates)"


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
