"""Ensembles: named variants of a scenario, each run for the same replicates, with common
random numbers (``ddsim compare``, ``ddsim run --replicates``, ``ddsim hindcast``).

A `Variant` is a scenario tree (`sim.scenarios.loader.resolved_scenario_dict`) plus dotted
overrides (the ``--set`` syntax). `run_ensemble` runs every variant for replicates
0..R-1; replicate r gets the seed `replicate_seed(root_seed, r)` in *every* variant, so
differences between variants are paired, not blurred by different seeds. The runs go
through the sweep machinery (`sim.experiments.sweep`): the same executors (in-process,
process pool, Dask), the same verified and resumable store (`sim.experiments.store`), the
same one simulation path (`sim.running.simulate.simulate`). Design point k of the store
is variant k; run ids are ``<variant>-r<replicate>``.

An optional extract function ("package.module:function", importable in the workers) is
called on each run's `RunResults` and returns ``{name: DataFrame}``: per-run tables
(per-dyad exercise intensity for a hindcast, say) stored as verified parts of the store
(``extra/<name>/``), resumed like the outcomes and read back by `load_ensemble`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.errors import InputError
from sim.experiments.defaults import COMMIT_SECONDS
from sim.experiments.design import DesignPoints, plain
from sim.experiments.executors import Executor
from sim.experiments.outcomes import WORLD_METRICS, OutcomeSpec, default_outcomes
from sim.experiments.schema import MAX_REPLICATES
from sim.experiments.store import (
    STORE_FORMAT,
    SweepError,
    SweepResults,
    SweepStore,
    load_sweep,
    table_schemas,
    write_atomic,
)
from sim.experiments.sweep import (
    DESIGN_HASH_RULE,
    PointScenario,
    RunContext,
    StoreRunner,
    SweepDesign,
    SweepOptions,
    SweepSummary,
    Task,
    design_digest,
    json_hash,
    load_extract,
    run_in_store,
)
from sim.running.resources import check_sweep_memory
from sim.running.simulate import prepare_scenario, steps_per_year
from sim.scenarios import loader
from sim.scenarios.errors import choice_hint
from sim.scenarios.overrides import Sourced

__all__ = [
    "SEED_RULE",
    "VARIANT_NAME",
    "EnsembleResults",
    "Variant",
    "ensemble_run_id",
    "load_ensemble",
    "replicate_seed",
    "run_ensemble",
]

VARIANT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,59}")
SEED_RULE = "int(SeedSequence(root_seed, spawn_key=(replicate,)).generate_state(1, uint32)[0])"
EXTRACT_SPEC = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
VARIANTS_DIR = "variants"


def replicate_seed(root_seed: int, replicate: int) -> int:
    """Model seed of replicate `replicate` of an ensemble, the same in every variant
    (common random numbers): depends only on (root seed, replicate); see `SEED_RULE`."""
    ss = np.random.SeedSequence(int(root_seed), spawn_key=(int(replicate),))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def ensemble_run_id(variant: str, replicate: int) -> str:
    """Stable id of a run, e.g. 'transparent-r3'."""
    return f"{variant}-r{int(replicate)}"


@dataclass(frozen=True)
class Variant:
    """One variant of an ensemble: a resolved scenario tree and dotted overrides applied on
    top (the ``--set`` syntax); ``label`` names it in reports (default: the name)."""

    name: str
    scenario: Mapping[str, Any]
    overrides: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name)

    @classmethod
    def load(
        cls,
        name: str,
        scenario: str | Path | Mapping[str, Any],
        overrides: Mapping[str, Any] | None = None,
        label: str = "",
    ) -> Variant:
        """A variant of a scenario file, bundled name or dict (resolved here)."""
        return cls(name, loader.resolved_scenario_dict(scenario), dict(overrides or {}), label)

    def plain_overrides(self) -> dict[str, Any]:
        """The overrides as plain values (a `Sourced` value unwrapped)."""
        return {
            str(k): plain(v.value if isinstance(v, Sourced) else v)
            for k, v in self.overrides.items()
        }

    @property
    def source(self) -> str:
        """How the variant is named in messages."""
        return f"variant {self.name}"


# --------------------------------------------------------------------------------------------
# Checking the input (before anything is created)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    """An ensemble's input, checked: variants with their scenarios as they will run."""

    variants: tuple[Variant, ...]
    worlds: tuple[Any, ...]  # the prepared Scenario of each variant
    replicates: int
    root_seed: int
    steps: int | None
    outcomes: tuple[OutcomeSpec, ...]
    timeseries: tuple[str, ...]
    extract: str | None


def _check_variants(variants: Sequence[Variant]) -> tuple[Variant, ...]:
    if isinstance(variants, Variant | str | Mapping) or not isinstance(variants, Sequence):
        raise InputError(f"variants: expected a list of Variant, got {type(variants).__name__}")
    if not variants:
        raise InputError("variants: expected at least one variant, got none")
    seen: set[str] = set()
    for v in variants:
        if not isinstance(v, Variant):
            raise InputError(f"variants: expected Variant objects, got {type(v).__name__}")
        if not isinstance(v.name, str) or not VARIANT_NAME.fullmatch(v.name):
            raise InputError(
                f"variant name: expected 1-60 letters, digits, '_', '.' or '-' (not starting "
                f"with '.' or '-'), got {v.name!r}"
            )
        if v.name in seen:
            raise InputError(f"variant name: expected unique names, got {v.name!r} twice")
        seen.add(v.name)
        if not isinstance(v.scenario, Mapping):
            raise InputError(
                f"variant {v.name}: expected a scenario tree (a dict, e.g. from "
                f"loader.resolved_scenario_dict), got {type(v.scenario).__name__}"
            )
        if not isinstance(v.overrides, Mapping):
            raise InputError(
                f"variant {v.name}: overrides: expected a mapping of dotted path -> value, "
                f"got {type(v.overrides).__name__}"
            )
    return tuple(variants)


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= value <= high
    ):
        raise InputError(f"{name}: expected an integer in [{low}, {high}], got {value!r}")
    return int(value)


def _check_outcomes(specs: tuple[OutcomeSpec, ...], v: Variant, world: Any) -> None:
    """Outcome state ids are states of the variant; windows fit in its run."""
    ids = [s.id for s in world.states]
    for o in specs:
        for sid in (o.state, *(o.between or ())):
            if sid is not None and sid not in ids:
                hint = choice_hint(sid, ids, "known ids")
                raise InputError(
                    f"outcome {o.name}: expected a state id of variant {v.name}, got "
                    f"{sid!r}{f' ({hint})' if hint else ''}"
                )
        if o.window is not None and o.window > int(world.steps):
            raise InputError(
                f"outcome {o.name}: expected a window of at most variant {v.name}'s "
                f"{world.steps} steps, got {o.window}"
            )


def _check_extract(extract: str | None) -> str | None:
    if extract is None:
        return None
    if not isinstance(extract, str) or not EXTRACT_SPEC.fullmatch(extract):
        raise InputError(f"extract: expected 'package.module:function', got {extract!r}")
    try:
        load_extract(extract)
    except Exception as exc:  # noqa: BLE001 - any import problem is bad input
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise InputError(f"extract: cannot import {extract!r} ({reason})") from None
    return extract


def _check(
    variants: Sequence[Variant],
    replicates: int,
    root_seed: int,
    steps: int | None,
    outcomes: Sequence[OutcomeSpec] | None,
    timeseries: Sequence[str] | str,
    extract: str | None,
) -> _Checked:
    checked = _check_variants(variants)
    replicates = _check_int("replicates", replicates, 1, MAX_REPLICATES)
    root_seed = _check_int("root_seed", root_seed, 0, loader.MAX_SEED)
    if steps is not None:
        steps = _check_int("steps", steps, 1, 10**9)
    specs = tuple(outcomes) if outcomes is not None else default_outcomes()
    if not specs or not all(isinstance(o, OutcomeSpec) for o in specs):
        raise InputError("outcomes: expected a non-empty list of OutcomeSpec")
    names = [o.name for o in specs]
    if len(set(names)) != len(names):
        raise InputError(f"outcomes: expected unique names, got {names}")
    metrics = tuple(WORLD_METRICS) if timeseries == "all" else tuple(timeseries)
    for m in metrics:
        if m not in WORLD_METRICS:
            hint = choice_hint(m, WORLD_METRICS, "world metrics")
            raise InputError(f"timeseries: expected world metrics, got {m!r} ({hint})")
    extract = _check_extract(extract)
    worlds = []
    for v in checked:
        world = prepare_scenario(v.scenario, overrides=v.overrides, steps=steps, source=v.source)
        _check_outcomes(specs, v, world)
        worlds.append(world)
    return _Checked(checked, tuple(worlds), replicates, root_seed, steps, specs, metrics, extract)


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def _design(c: _Checked) -> SweepDesign:
    """Points (point, variant) and the hashes that identify the ensemble: each variant's
    tree and overrides, the steps, outcomes, time series, root seed and extract function
    (not the labels, not the replicate count)."""
    names = [v.name for v in c.variants]
    points = DesignPoints(
        pd.DataFrame({"point": np.arange(len(names), dtype=np.int64), "variant": names}),
        None,
        None,
    )
    sections = {
        "variants": json_hash(names),
        **{
            f"variant {v.name}": json_hash(
                {"scenario": plain(dict(v.scenario)), "overrides": v.plain_overrides()}
            )
            for v in c.variants
        },
        "steps": json_hash(c.steps),
        "outcomes": json_hash([o.to_dict() for o in c.outcomes]),
        "timeseries": json_hash(list(c.timeseries)),
        "seed": json_hash(c.root_seed),
        "extract": json_hash(c.extract),
    }
    digest = design_digest(points)
    sections["points"] = digest
    return SweepDesign(points, digest, json_hash({"sections": sections}), sections)


class _Ensemble(StoreRunner):
    """The runs of an ensemble: every (replicate, variant), replicate by replicate (so an
    interrupted ensemble holds mostly complete pairs)."""

    kind = "ensemble"

    def __init__(
        self, store: SweepStore, checked: _Checked, options: SweepOptions, label: str
    ) -> None:
        super().__init__(store, options)
        self.c = checked
        self.design = _design(checked)
        self.label = label
        self.replicates = checked.replicates
        self.n_runs = len(checked.variants) * checked.replicates
        self.timeseries = checked.timeseries
        self.param_names = ["variant"]
        self._schemas = table_schemas(
            {"variant": object}, [o.name for o in checked.outcomes], checked.timeseries
        )

    def schemas(self) -> dict[str, pa.Schema]:
        """Runs (with a variant column), outcomes and timeseries schemas."""
        return self._schemas

    def check_same(self, old: Mapping[str, Any]) -> None:
        """Refuse a store of other variants, steps, outcomes, seed or extract function."""
        if old.get("design_hash_rule") != DESIGN_HASH_RULE or (
            old.get("design_hash") != self.design.hash
        ):
            raise SweepError(self._changed_message(old, "variants, steps and outcomes"))

    def write_metadata(self) -> None:
        """design.parquet (point, variant) and variants/<name>.yaml (each scenario tree)."""
        import yaml

        self.design.points.values.to_parquet(self.store.path / "design.parquet", index=False)
        folder = self.store.path / VARIANTS_DIR
        folder.mkdir(exist_ok=True)
        for v in self.c.variants:
            text = yaml.safe_dump(plain(dict(v.scenario)), sort_keys=False, allow_unicode=True)
            write_atomic(folder / f"{v.name}.yaml", text.encode())

    def manifest(self, old: Mapping[str, Any] | None) -> dict[str, Any]:
        """sweep.json of an ensemble (kind "ensemble")."""
        c = self.c
        manifest: dict[str, Any] = dict(old or {})
        variants = [
            {
                "name": v.name,
                "label": v.label,
                "overrides": v.plain_overrides(),
                "scenario_file": f"{VARIANTS_DIR}/{v.name}.yaml",
                "scenario_name": world.name,
                "scenario_hash": loader.scenario_hash(world),
                "steps": int(world.steps),
                "steps_per_year": steps_per_year(world.time_unit),
            }
            for v, world in zip(c.variants, c.worlds, strict=True)
        ]
        manifest.update(
            {
                "format": STORE_FORMAT,
                "kind": "ensemble",
                "name": self.label,
                "design_hash": self.design.hash,
                "design_hash_rule": DESIGN_HASH_RULE,
                "section_hashes": self.design.sections,
                "design": {"type": "ensemble"},
                "parameters": [],
                "variants": variants,
                "outcomes": [o.to_dict() for o in c.outcomes],
                "timeseries": list(c.timeseries),
                "extract": c.extract,
                "steps": c.steps,
                "root_seed": c.root_seed,
                "seed_rule": SEED_RULE,
            }
        )
        manifest.update(self._run_record(old))
        return manifest

    def context(self) -> RunContext:
        """One PointScenario per variant."""
        c = self.c
        points = tuple(
            PointScenario(dict(v.scenario), v.plain_overrides(), v.source) for v in c.variants
        )
        return RunContext(
            base={},
            source="<ensemble>",
            paths=(),
            outcomes=c.outcomes,
            timeseries=c.timeseries,
            points=points,
            steps=c.steps,
            extract=c.extract,
        )

    def tasks(self, skip: set[str]) -> Iterator[Task]:
        """Pending runs, replicate by replicate; the seed depends on the replicate only."""
        for rep in range(self.c.replicates):
            seed = replicate_seed(self.c.root_seed, rep)
            for point, v in enumerate(self.c.variants):
                rid = ensemble_run_id(v.name, rep)
                if rid not in skip:
                    yield (rid, point, rep, seed, (v.name,))

    def describe(self) -> str:
        """'ensemble NAME: 40 runs (2 variants x 20 replicates)'."""
        n, r = len(self.c.variants), self.c.replicates
        return f"ensemble {self.label}: {self.n_runs} runs ({n} variants x {r} replicates)"


def run_ensemble(
    variants: Sequence[Variant],
    replicates: int,
    *,
    out: str | Path,
    root_seed: int = 0,
    steps: int | None = None,
    outcomes: Sequence[OutcomeSpec] | None = None,
    timeseries: Sequence[str] | str = "all",
    extract: str | None = None,
    name: str | None = None,
    workers: int | None = None,
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
    """Run (or resume) every variant for replicates 0..replicates-1 into the store `out`.

    Replicate r has the seed ``replicate_seed(root_seed, r)`` in every variant. ``steps``
    replaces every variant's run length (as ``ddsim run --steps``; None: each its own);
    ``outcomes``: `OutcomeSpec`s (default `default_outcomes()`); ``timeseries``: world
    metrics stored per step ("all", the default, or a list; () for none); ``extract``:
    "package.module:function" called as ``function(results) -> {name: DataFrame}`` in the
    workers, its tables stored per run; ``name``: for messages and the manifest (default:
    the folder's name). The rest as `sim.experiments.sweep.run_sweep`.

    Rerunning the same call resumes (finished runs are skipped; more replicates extend the
    store); other variants, steps, outcomes, time series, seed or extract function in the
    same `out` are refused unless ``force_new``. Raises InputError (one line) for bad input,
    before anything is created; a run that raises (model or extract) is recorded failed.
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
    checked = _check(variants, replicates, root_seed, steps, outcomes, timeseries, extract)
    options.start_pool_early()
    for world in checked.worlds:
        check_sweep_memory(
            {
                "states": world.states,
                "steps": world.steps,
                "parameters": {"record_every": world.parameters.record_every},
            },
            workers=options.local_workers,
        )
    label = name or Path(out).name
    return run_in_store(out, lambda store: _Ensemble(store, checked, options, label))


# --------------------------------------------------------------------------------------------
# Reading back
# --------------------------------------------------------------------------------------------


@dataclass
class EnsembleResults:
    """An ensemble store loaded as pandas DataFrames (sound commits only).

    ``runs``: run_id, point, replicate, seed, variant, status, error, wall_time, ...;
    ``outcomes``: run_id, variant, replicate + one column per outcome (ok runs);
    ``timeseries``: run_id, variant, replicate, step + metrics (loaded on first access);
    ``extra``: extract table name -> run_id, variant, replicate + its columns (loaded on
    first access); ``variants``: the `Variant`s as stored; ``manifest``: sweep.json;
    ``damaged``: damaged part files left out (see `sim.experiments.store.load_sweep`).
    """

    path: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    outcomes: pd.DataFrame
    variants: list[Variant]
    damaged: list[str]
    sweep: SweepResults = field(repr=False)
    _timeseries: pd.DataFrame | None = field(default=None, repr=False)
    _extra: dict[str, pd.DataFrame] | None = field(default=None, repr=False)

    def _keyed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` with variant and replicate after run_id, in run order (variant, replicate)."""
        keys = self.runs[["run_id", "variant", "replicate"]]
        if "run_id" not in frame.columns:  # nothing stored
            return keys.iloc[:0].reset_index(drop=True)
        order = pd.Series(np.arange(len(keys)), index=keys["run_id"].to_numpy())
        rank = order.reindex(frame["run_id"].to_numpy()).to_numpy()
        frame = frame.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)
        merged = frame[["run_id"]].merge(keys, on="run_id", how="left")
        rest = frame.drop(columns=["run_id"])
        return pd.concat([merged, rest], axis=1)

    @property
    def timeseries(self) -> pd.DataFrame:
        """Per-step world metrics: run_id, variant, replicate, step, metrics..."""
        if self._timeseries is None:
            self._timeseries = self._keyed(self.sweep.timeseries)
        return self._timeseries

    @property
    def extra(self) -> dict[str, pd.DataFrame]:
        """Extract tables: name -> run_id, variant, replicate + the function's columns."""
        if self._extra is None:
            self._extra = {n: self._keyed(self.sweep.extra(n)) for n in self.sweep.extra_names}
        return self._extra

    @property
    def outcome_names(self) -> list[str]:
        """Outcome column names."""
        return self.sweep.outcome_names

    @property
    def variant_names(self) -> list[str]:
        """Variant names in ensemble order."""
        return [v.name for v in self.variants]

    def paired(self, outcome: str) -> pd.DataFrame:
        """One outcome as a replicate x variant table (ok runs; NaN where a run is missing
        or failed): the rows are the common-random-number pairs."""
        wide = self.outcomes.pivot(index="replicate", columns="variant", values=outcome)
        return wide.reindex(columns=self.variant_names)


def load_ensemble(out: str | Path) -> EnsembleResults:
    """Load an ensemble store as `EnsembleResults` (damaged parts left out with a
    `DamagedStoreWarning`, as `load_sweep`). SweepError when `out` holds no ensemble."""
    import yaml

    res = load_sweep(out)
    manifest = res.manifest
    if manifest.get("kind") != "ensemble":
        raise SweepError(
            f"{res.path}: expected an ensemble store (sweep.json with kind 'ensemble'), got "
            f"{'a sweep' if 'kind' not in manifest else repr(manifest.get('kind'))}"
        )
    variants = []
    for entry in manifest.get("variants", []):
        path = res.path / entry["scenario_file"]
        try:
            tree = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            reason = " ".join(str(exc).split())[:160]
            raise SweepError(f"{path}: cannot read the variant's scenario ({reason})") from None
        variants.append(Variant(entry["name"], tree, entry.get("overrides", {}), entry["label"]))
    runs = res.runs
    if "variant" not in runs.columns:
        runs = runs.assign(variant=pd.Series([], dtype=object))
    results = EnsembleResults(
        res.path, manifest, runs, pd.DataFrame(), variants, res.damaged, sweep=res
    )
    results.outcomes = results._keyed(res.outcomes)
    return results
