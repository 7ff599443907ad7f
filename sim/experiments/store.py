"""The sweep store: a directory of Parquet part files, committed atomically and verified on
every read and on every resume.

Layout (``sweeps/<name>/`` by default; docs/sweeps.md)::

    sweep.json          manifest: experiment, design hash, seeds, counts, versions, command
    experiment.yaml     copy of the experiment file
    scenario.yaml       resolved base scenario (experiment overrides applied)
    design.parquet      design points: point + one column per parameter
    runs/part-*.parquet        run_id, point, replicate, seed, parameters, status, error, ...
    outcomes/part-*.parquet    run_id + one column per named outcome (finished runs)
    timeseries/part-*.parquet  run_id, step + the requested world metrics (when asked)
    extra/<name>/part-*.parquet  run_id + the columns of an extract function's table <name>
                        (ensembles, `sim.experiments.ensemble`)
    variants/<name>.yaml the scenario tree of each variant (ensembles)
    damaged/            parts of commits found damaged on resume, moved aside (never read)

**A commit** is the outcomes, time series and extra parts of one name, then the runs part of
the same name, which makes them count. Each part is written to a temporary name, fsynced and
renamed, with Parquet page checksums; the runs part's footer records the row count,
size and sha256 of its sibling parts (``ddsim.commit``). A commit is *sound* when its runs
part reads back (checksums, row count), each recorded sibling has its size and sha256,
and the outcomes hold exactly the commit's finished runs. Readers use sound commits only,
and for each run id only the latest sound commit that holds it, so every table has exactly
one copy of every run's rows. A run whose commit is damaged is "not done": the next
``ddsim sweep`` moves the damaged commit to ``damaged/`` and runs it again. Parts written
before checksums were recorded are verified by reading them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.errors import InputError
from sim.experiments.manifest import StoreManifest
from sim.running.manifest import check_manifest

__all__ = [
    "STORE_ENTRIES",
    "STORE_FORMAT",
    "TABLES",
    "CommitCheck",
    "DamagedStoreWarning",
    "StoreScan",
    "SweepError",
    "SweepResults",
    "SweepStore",
    "arrow_type",
    "extra_table",
    "load_sweep",
    "os_reason",
    "table_schemas",
    "write_atomic",
]

STORE_FORMAT = "ddsim-sweep/1"
TABLES = ("runs", "outcomes", "timeseries")
RESULT_TABLES = ("outcomes", "timeseries")
DAMAGED_DIR = "damaged"
EXTRA_DIR = "extra"  # extra/<name>/: per-run tables of an extract function (ensembles)
EXTRA_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,59}")
RESERVED_COLUMNS = ("run_id", "point", "variant", "replicate", "seed")  # not in extra tables
STORE_ENTRIES = (
    "sweep.json",
    "experiment.yaml",
    "scenario.yaml",
    "design.parquet",
    *TABLES,
    EXTRA_DIR,
    "variants",
    "analysis",
    DAMAGED_DIR,
)
COMMIT_KEY = b"ddsim.commit"  # runs part footer: {"runs": rows, "parts": {table: record}}


class SweepError(InputError):
    """A sweep cannot start or continue (store belongs to another design, is locked, ...)."""


class DamagedStoreWarning(UserWarning):
    """Committed parts of a sweep store cannot be read; the runs committed with them are
    left out of every table (and run again by the next ``ddsim sweep``)."""


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def os_reason(exc: OSError) -> str:
    """'No space left on device (sweeps/x/runs/.part-....tmp)' for an OSError."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{reason} ({exc.filename})" if exc.filename else reason


def fsync_path(path: Path) -> None:
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


def write_file(path: Path, payload: bytes) -> None:
    """Write bytes and flush them to disk (the one place parts reach the disk; tests inject
    a full disk here). A partly written file is removed."""
    try:
        with open(path, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        path.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Replace a file atomically: write a temporary sibling, flush, rename."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    write_file(tmp, data)
    os.replace(tmp, path)


def extra_table(name: str) -> str:
    """The store key (and folder) of the extra table `name`: 'extra/<name>'."""
    return f"{EXTRA_DIR}/{name}"


def arrow_type(dtype: Any) -> pa.DataType:
    """The stored type of a pandas column: int64, float64, bool or string."""
    if pd.api.types.is_bool_dtype(dtype):
        return pa.bool_()
    if pd.api.types.is_integer_dtype(dtype):
        return pa.int64()
    if pd.api.types.is_float_dtype(dtype):
        return pa.float64()
    return pa.string()


def table_schemas(
    parameters: Mapping[str, Any], outcomes: Sequence[str], metrics: Sequence[str]
) -> dict[str, pa.Schema]:
    """Arrow schemas of the three tables: ``parameters`` maps each parameter's column name
    to its design column's dtype; ``outcomes`` and ``metrics`` name the float columns."""
    params = [pa.field(name, arrow_type(dtype)) for name, dtype in parameters.items()]
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
    outcome_schema = pa.schema(
        [pa.field("run_id", pa.string())] + [pa.field(o, pa.float64()) for o in outcomes]
    )
    series = pa.schema(
        [pa.field("run_id", pa.string()), pa.field("step", pa.int64())]
        + [pa.field(m, pa.float64()) for m in metrics]
    )
    return {"runs": runs, "outcomes": outcome_schema, "timeseries": series}


def _parse(payload: bytes) -> pa.Table:
    """A Parquet file's table from its bytes, page checksums verified."""
    table = pq.read_table(pa.BufferReader(payload), page_checksum_verification=True)
    return table.replace_schema_metadata(None)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:160] or type(exc).__name__


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


@dataclass
class CommitCheck:
    """What verifying one commit found: its runs rows (None when unreadable), the parsed
    tables kept for the reader, and the problems (empty when the commit is sound)."""

    name: str
    runs: pa.Table | None = None
    tables: dict[str, pa.Table] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    record: dict[str, Any] | None = None  # the runs part's commit record (None: older parts)

    def extra_names(self) -> list[str]:
        """Names of the extra tables this commit recorded."""
        parts = (self.record or {}).get("parts", {})
        prefix = f"{EXTRA_DIR}/"
        return sorted(k.removeprefix(prefix) for k in parts if k.startswith(prefix))

    @property
    def sound(self) -> bool:
        """True when every part of the commit verified."""
        return not self.problems

    def ok_run_ids(self) -> list[str]:
        """Run ids of the commit's finished (status ok) runs."""
        if self.runs is None:
            return []
        ok = pc.equal(self.runs["status"], "ok")
        return self.runs.filter(ok)["run_id"].to_pylist()


@dataclass
class StoreScan:
    """The verified state of a store: sound commits (in commit order), damaged ones, and
    for each run id the latest sound commit holding it."""

    sound: list[CommitCheck]
    damaged: list[CommitCheck]
    runs: pd.DataFrame  # latest sound row per run id (commit order), plus column "commit"

    def runs_table(self) -> pd.DataFrame:
        """The runs rows without the bookkeeping column."""
        return self.runs.drop(columns=["commit"]).reset_index(drop=True)

    def chosen(self) -> dict[str, list[str]]:
        """Commit name -> the run ids whose rows are read from it."""
        if self.runs.empty:
            return {}
        return {
            str(name): ids["run_id"].tolist()
            for name, ids in self.runs.groupby("commit", sort=False)
        }

    def extra_names(self) -> list[str]:
        """Names of the extra tables recorded by the sound commits."""
        return sorted({n for c in self.sound for n in c.extra_names()})

    def damaged_files(self) -> list[str]:
        """'outcomes/part-...parquet: sha256 differs from the commit record' lines."""
        return [p for c in self.damaged for p in c.problems]

    def damage_message(self, store: Path) -> str | None:
        """One line saying what is damaged and what it costs (None when nothing is)."""
        if not self.damaged:
            return None
        problems = self.damaged_files()
        lost = sum(c.runs.num_rows for c in self.damaged if c.runs is not None)
        unknown = any(c.runs is None for c in self.damaged)
        runs = f"{lost}{'+' if unknown else ''} run(s)" if lost else "the run(s)"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return (
            f"{store}: {len(problems)} damaged part file(s): {problems[0]}{more}; "
            f"{runs} committed with them are left out; rerun the same `ddsim sweep` "
            "command to run them again"
        )


class SweepStore:
    """A sweep's output directory: manifest, design and partitioned Parquet tables."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_fh: Any = None

    # --- manifest and files ---------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        """Path of sweep.json."""
        return self.path / "sweep.json"

    def exists(self) -> bool:
        """True when the directory holds a sweep (has sweep.json)."""
        return self.manifest_path.is_file()

    def read_manifest(self) -> dict[str, Any]:
        """The manifest (sweep.json) as a dict; SweepError when it is unreadable."""
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SweepError(
                f"{self.manifest_path}: cannot read the sweep manifest ({_reason(exc)}); "
                "use --force-new to start afresh or another --out"
            ) from None
        if not isinstance(manifest, dict):
            raise SweepError(
                f"{self.manifest_path}: expected a JSON object (the sweep manifest), got "
                f"{type(manifest).__name__}; use --force-new to start afresh or another --out"
            )
        hint = "; use --force-new to start afresh or another --out"
        return check_manifest(
            StoreManifest, manifest, self.manifest_path, hint=hint, error=SweepError
        )

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Replace sweep.json atomically."""
        text = json.dumps(manifest, indent=2, default=str) + "\n"
        write_atomic(self.manifest_path, text.encode())

    def parts(self, table: str) -> list[Path]:
        """Committed-looking part files of one table, in commit order."""
        folder = self.path / table
        if not folder.is_dir():
            return []
        return sorted(
            p for p in folder.iterdir() if p.name.startswith("part-") and p.suffix == ".parquet"
        )

    def never_started(self) -> bool:
        """True for a directory a sweep began to create but never started (no sweep.json,
        only the store's own entries, no committed run): safe to start afresh in."""
        if self.exists() or not self.path.is_dir():
            return False
        names = {p.name for p in self.path.iterdir()} - {".lock"}
        return names <= set(STORE_ENTRIES) and not self.parts("runs")

    # --- locking ----------------------------------------------------------------------------
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

    # --- housekeeping -----------------------------------------------------------------------
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
        for table in self.table_folders():
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

    def table_folders(self) -> list[str]:
        """The tables' folders: runs, outcomes, timeseries and extra/<name> for each extra
        table present."""
        extra = self.path / EXTRA_DIR
        names = sorted(p.name for p in extra.iterdir() if p.is_dir()) if extra.is_dir() else []
        return [*TABLES, *(extra_table(n) for n in names)]

    def quarantine(self, damaged: Iterable[CommitCheck]) -> int:
        """Move every file of damaged commits to damaged/<table>/ (never read again, kept
        for inspection); return the number of files moved."""
        moved = 0
        folders = self.table_folders()
        for check in damaged:
            for table in folders:
                source = self.path / table / check.name
                if source.exists():
                    target = self.path / DAMAGED_DIR / table
                    target.mkdir(parents=True, exist_ok=True)
                    os.replace(source, target / check.name)
                    moved += 1
        return moved

    # --- verification -----------------------------------------------------------------------
    def check_commit(self, name: str, *, timeseries: bool, keep: Sequence[str] = ()) -> CommitCheck:
        """Verify one commit (see the module docstring); ``timeseries``: whether the sweep
        records time series (a commit with finished runs then has a time series part);
        ``keep``: result tables to keep parsed in the check (for a reader)."""
        check = CommitCheck(name)
        runs_path = self.path / "runs" / name
        try:
            payload = runs_path.read_bytes()
            meta = pq.read_metadata(pa.BufferReader(payload)).metadata or {}
            check.runs = _parse(payload)
        except (OSError, ValueError, pa.ArrowException) as exc:
            check.problems.append(f"runs/{name}: unreadable ({_reason(exc)})")
            return check
        record = json.loads(meta[COMMIT_KEY]) if COMMIT_KEY in meta else None
        check.record = record
        if record is not None and record.get("runs") != check.runs.num_rows:
            check.problems.append(
                f"runs/{name}: {check.runs.num_rows} rows, the commit record says {record.get('runs')}"
            )
        ok_ids = check.ok_run_ids()
        recorded = (record or {}).get("parts", {})
        extras = sorted(k for k in recorded if k not in RESULT_TABLES)
        for table in (*RESULT_TABLES, *extras):
            folder, _, extra_name = table.partition("/")
            if table in extras and not (folder == EXTRA_DIR and EXTRA_NAME.fullmatch(extra_name)):
                check.problems.append(f"runs/{name}: unknown table {table!r} in the commit record")
                continue
            expected = recorded.get(table)
            path = self.path / table / name
            needed = bool(ok_ids) and (table == "outcomes" or timeseries)
            if expected is None and not path.exists():
                if needed and (record is not None or table == "outcomes"):
                    check.problems.append(f"{table}/{name}: missing")
                continue
            problem = self._check_part(check, table, path, expected, keep=table in keep)
            if problem:
                check.problems.append(f"{table}/{name}: {problem}")
        outcomes = check.tables.get("outcomes")
        if outcomes is not None and sorted(outcomes["run_id"].to_pylist()) != sorted(ok_ids):
            check.problems.append(
                f"outcomes/{name}: holds {outcomes.num_rows} rows for the commit's "
                f"{len(ok_ids)} finished runs"
            )
        if "outcomes" not in keep:
            check.tables.pop("outcomes", None)
        return check

    def _check_part(
        self, check: CommitCheck, table: str, path: Path, expected: Mapping | None, *, keep: bool
    ) -> str | None:
        """Problem of one sibling part (None when sound); parsed tables go to check.tables."""
        try:
            payload = path.read_bytes()
        except OSError as exc:
            return f"unreadable ({_reason(exc)})"
        if expected is not None:
            if len(payload) != expected.get("bytes"):
                return f"{len(payload)} bytes, the commit record says {expected.get('bytes')} (truncated?)"
            if hashlib.sha256(payload).hexdigest() != expected.get("sha256"):
                return "contents differ from the commit record (sha256)"
        if expected is None or keep or table == "outcomes":
            try:
                parsed = _parse(payload)
            except (OSError, ValueError, pa.ArrowException) as exc:
                return f"unreadable ({_reason(exc)})"
            if expected is not None and parsed.num_rows != expected.get("rows"):
                return f"{parsed.num_rows} rows, the commit record says {expected.get('rows')}"
            check.tables[table] = parsed
        return None

    def scan(self, *, timeseries: bool, keep: Sequence[str] = ()) -> StoreScan:
        """Verify every commit; sound ones in commit order, damaged ones apart, and the
        latest sound runs row of each run id."""
        sound: list[CommitCheck] = []
        damaged: list[CommitCheck] = []
        for part in self.parts("runs"):
            check = self.check_commit(part.name, timeseries=timeseries, keep=keep)
            (sound if check.sound else damaged).append(check)
        tables = [
            c.runs.append_column("commit", pa.array([c.name] * c.runs.num_rows, pa.string()))
            for c in sound
            if c.runs is not None
        ]
        if tables:
            runs = pa.concat_tables(tables, promote_options="default").to_pandas()
            runs = runs.drop_duplicates("run_id", keep="last").reset_index(drop=True)
        else:
            runs = pd.DataFrame({"run_id": pd.Series([], dtype=object), "status": [], "commit": []})
        return StoreScan(sound, damaged, runs)

    def read_results(self, table: str, scan: StoreScan) -> pd.DataFrame:
        """One results table: from each sound commit, the rows of the runs whose latest
        sound commit it is (exactly one copy of every run's rows)."""
        chosen = scan.chosen()
        pieces = []
        for check in scan.sound:
            ids = chosen.get(check.name)
            if not ids:
                continue
            data = check.tables.get(table)
            if data is None:
                path = self.path / table / check.name
                if not path.exists():
                    continue
                data = self._verified(table, check.name, path)
            wanted = pc.is_in(data["run_id"], value_set=pa.array(ids, pa.string()))
            pieces.append(data.filter(wanted))
        if not pieces:
            return pd.DataFrame()
        promote = "permissive" if table.startswith(f"{EXTRA_DIR}/") else "default"
        return pa.concat_tables(pieces, promote_options=promote).to_pandas()

    def _verified(self, table: str, name: str, path: Path) -> pa.Table:
        """Read a part that passed the scan again (lazily, e.g. time series), checking it
        once more: it may have changed since."""
        runs_meta = pq.read_metadata(self.path / "runs" / name).metadata or {}
        record = json.loads(runs_meta[COMMIT_KEY]) if COMMIT_KEY in runs_meta else {}
        payload = path.read_bytes()
        expected = record.get("parts", {}).get(table)
        if expected is not None and hashlib.sha256(payload).hexdigest() != expected.get("sha256"):
            raise SweepError(f"{path}: changed since the store was loaded; load it again")
        return _parse(payload)

    # --- writing ----------------------------------------------------------------------------
    def commit(self, tables: Mapping[str, pa.Table]) -> str:
        """Write one commit: outcomes, time series and extra parts, then the runs part whose
        footer records them (the commit). Returns the part name."""
        name = f"part-{time.time_ns():020d}-{secrets.token_hex(4)}.parquet"
        record: dict[str, Any] = {}
        extras = sorted(t for t in tables if t.startswith(f"{EXTRA_DIR}/"))
        for table in (*RESULT_TABLES, *extras):
            data = tables.get(table)  # extra tables even when empty: their columns are known
            if data is not None and (data.num_rows or table in extras):
                record[table] = self._write_part(table, name, data)
        runs = tables["runs"]
        footer = {COMMIT_KEY: json.dumps({"runs": runs.num_rows, "parts": record}).encode()}
        self._write_part("runs", name, runs.replace_schema_metadata(footer))
        return name

    def _write_part(self, table: str, name: str, data: pa.Table) -> dict[str, Any]:
        folder = self.path / table
        folder.mkdir(parents=True, exist_ok=True)
        sink = pa.BufferOutputStream()
        pq.write_table(data, sink, write_page_checksum=True)
        payload = sink.getvalue().to_pybytes()
        tmp = folder / f".{name}.tmp"
        write_file(tmp, payload)  # the data is on disk before the name says it is committed
        os.replace(tmp, folder / name)
        if table == "runs":
            fsync_path(folder)
        return {
            "rows": data.num_rows,
            "bytes": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
        }


def warn_damaged(scan: StoreScan, store: Path) -> None:
    """Issue a DamagedStoreWarning when the scan found damaged commits."""
    message = scan.damage_message(store)
    if message:
        warnings.warn(message, DamagedStoreWarning, stacklevel=3)


# --------------------------------------------------------------------------------------------
# Reading results back
# --------------------------------------------------------------------------------------------


@dataclass
class SweepResults:
    """A sweep store loaded as pandas DataFrames (sound commits only).

    ``runs``: one row per run (run_id, point, replicate, seed, parameters, status, error,
    wall_time, ...); ``outcomes``: run_id + one column per outcome; ``timeseries``: run_id,
    step + metrics (empty when none were recorded; loaded on first access); ``design``:
    design points; ``manifest``: sweep.json; ``damaged``: one line per damaged part file
    (their runs are left out of every table, and a `DamagedStoreWarning` was issued).
    """

    path: Path
    manifest: dict[str, Any]
    design: pd.DataFrame
    runs: pd.DataFrame
    outcomes: pd.DataFrame
    damaged: list[str] = field(default_factory=list)
    _scan: StoreScan | None = field(default=None, repr=False)
    _timeseries: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def timeseries(self) -> pd.DataFrame:
        """Per-step world metrics of each finished run (run_id, step, metrics...)."""
        if self._timeseries is None:
            store, scan = self._store_scan()
            frame = store.read_results("timeseries", scan)
            if len(frame):
                frame = frame.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)
            self._timeseries = frame
        return self._timeseries

    @property
    def parameters(self) -> list[str]:
        """Parameter column names."""
        return [p["name"] for p in self.manifest.get("parameters", [])]

    @property
    def outcome_names(self) -> list[str]:
        """Outcome column names."""
        return [o["name"] for o in self.manifest.get("outcomes", [])]

    def _store_scan(self) -> tuple[SweepStore, StoreScan]:
        store = SweepStore(self.path)
        if self._scan is None:
            self._scan = store.scan(timeseries=bool(self.manifest.get("timeseries")))
        return store, self._scan

    @property
    def extra_names(self) -> list[str]:
        """Names of the extra tables (an ensemble's extract function; none in a sweep)."""
        return self._store_scan()[1].extra_names()

    def extra(self, name: str) -> pd.DataFrame:
        """The extra table `name`: run_id + the extract function's columns (ok runs)."""
        store, scan = self._store_scan()
        return store.read_results(extra_table(name), scan)

    def table(self, status: str | None = "ok") -> pd.DataFrame:
        """Runs joined with their outcomes (only runs with this status; None = all)."""
        runs = self.runs if status is None else self.runs[self.runs["status"] == status]
        return runs.merge(self.outcomes, on="run_id", how="left")


def _read_design(store: SweepStore) -> pd.DataFrame:
    path = store.path / "design.parquet"
    if not path.is_file():
        return pd.DataFrame()
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise SweepError(f"{path}: cannot read the design ({_reason(exc)})") from None


def load_sweep(path: str | Path) -> SweepResults:
    """Load a sweep directory (sound commits only) as `SweepResults`; damaged parts are
    left out with a `DamagedStoreWarning` and listed in ``.damaged``."""
    store = SweepStore(path)
    if not store.exists():
        got = "no such directory" if not store.path.exists() else "none"
        raise SweepError(f"{store.path}: expected a sweep directory (with sweep.json), got {got}")
    manifest = store.read_manifest()
    design = _read_design(store)
    scan = store.scan(timeseries=bool(manifest.get("timeseries")), keep=("outcomes",))
    warn_damaged(scan, store.path)
    runs = scan.runs_table()
    if len(runs):
        runs = runs.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
    outcomes = store.read_results("outcomes", scan)
    if len(outcomes):
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
    return SweepResults(
        Path(path), manifest, design, runs, outcomes, damaged=scan.damaged_files(), _scan=scan
    )
