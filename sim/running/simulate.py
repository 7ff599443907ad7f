"""One path from a scenario to results: load it, apply overrides, run the model.

Every command and API that runs the model goes through `simulate` (``ddsim run``, the
sweep workers and `run_one`, comparisons, hindcasts, notebooks)::

    from sim import run_scenario
    res = run_scenario("indo_pacific", steps=120, seed=1, overrides={"parameters.temperature": 0.1})
    res.world.plot(x="step", y="mean_risk")

Nothing is written here; `sim.running.rundir` saves results as a run directory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.core.scenario import Scenario
from sim.errors import InputError
from sim.scenarios.loader import (
    DEFAULT_SCENARIO,
    TIME_UNITS,
    Sourced,
    apply_overrides,
    load_scenario,
    parse_set_option,
    scenario_from_dict,
    scenario_to_dict,
)

# pandas, the model and the metrics take seconds to import; the CLI imports this module at
# start-up, so they are imported where used, and `RunResults` (a subclass of
# `sim.core.metrics.Results`) is built on first access (see `__getattr__`).
if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from sim.core.metrics import Results
    from sim.core.model import DiplomacyModel

    RunResults = Results  # for type checkers; the runtime class adds the fields below

__all__ = [
    "RunResults",
    "dyad_snapshot",
    "events_dropped",
    "prepare_scenario",
    "run_model",
    "run_scenario",
    "simulate",
    "steps_per_year",
    "with_run_length",
]

# ----------------------------------------------------------------------------------------------
# Results of one run
# ----------------------------------------------------------------------------------------------


_RUN_RESULTS: type | None = None


def _run_results_class() -> type:
    """The `RunResults` class (defined on first use so that importing this module is fast)."""
    global _RUN_RESULTS
    if _RUN_RESULTS is None:
        import pandas as pd  # noqa: F401  (named in the annotations below)

        from sim.core.metrics import Results

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

    from sim.core.metrics import DYAD_COLUMNS, label_column

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
        "access_ab": model.access[a, b],
        "access_ba": model.access[b, a],
    }
    assert tuple(cols) == tuple(DYAD_COLUMNS), "keep in step with sim.core.metrics.DYAD_COLUMNS"
    return pd.DataFrame(
        {
            "step": np.full(len(a), int(model.steps), dtype=np.int64),
            "state_a": label_column(ids, a),
            "state_b": label_column(ids, b),
            **cols,  # fancy indexing made copies already
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


def steps_per_year(time_unit: str) -> float:
    """Model steps per year for a scenario's time unit (month: 12, quarter: 4, year: 1)."""
    return 12.0 / TIME_UNITS[time_unit]


def prepare_scenario(
    scenario: str | Path | Scenario | Mapping[str, Any] = DEFAULT_SCENARIO,
    *,
    steps: int | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    record_every: int | None = None,
    source: str | None = None,
) -> Scenario:
    """Load and validate a scenario with overrides applied; `steps`, `seed` and
    `record_every` are overrides too (so the saved scenario says what ran).

    A shorter run length, from `steps` or from a ``steps`` override (``--set steps=60``,
    an experiment's ``steps:``, a swept ``steps``), follows one rule (`with_run_length`):
    the run ends earlier and the scheduled events after its last step are not run
    (`events_dropped` says how many; run metadata records it).

    `scenario`: a bundled name, a path, a `Scenario`, or a scenario as a plain dict (an
    experiment's resolved base scenario, say); `source` names a dict in messages.
    Raises `sim.scenarios.loader.ScenarioError` (an `InputError`) on bad input."""
    merged = _override_map(overrides)
    if seed is not None:
        merged["seed"] = Sourced(seed, "--seed")
    if record_every is not None:
        merged["parameters.record_every"] = Sourced(record_every, "--every")
    length = merged.pop("steps", None)
    world = _load(scenario, merged, source)
    if length is not None:
        value = length.value if isinstance(length, Sourced) else length
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= world.steps:
            world = with_run_length(world, value)
        else:  # longer, or not a valid length: the schema checks it (and its error names it)
            world = _load(scenario, {**merged, "steps": length}, source)
    return with_run_length(world, steps)


def _load(
    scenario: str | Path | Scenario | Mapping[str, Any],
    merged: dict[str, Any],
    source: str | None,
) -> Scenario:
    if isinstance(scenario, Scenario):
        if not merged:
            return scenario
        source = scenario.path or f"<scenario {scenario.name}>"
        rebuilt = scenario_from_dict(scenario_to_dict(scenario), source=source, overrides=merged)
        return dataclasses.replace(rebuilt, path=scenario.path)
    if isinstance(scenario, Mapping):
        name = source or "<dict>"
        return scenario_from_dict(apply_overrides(scenario, merged, source=name), name)
    return load_scenario(scenario, merged or None)


def with_run_length(world: Scenario, steps: int | None) -> Scenario:
    """The scenario run for `steps` steps instead of its own: a shorter run simply ends
    earlier, so scheduled events that fall after its last step are left out (the saved
    scenario then says exactly what ran; `events_dropped` counts them)."""
    if steps is None or steps == world.steps:
        return world
    if steps < 1:
        raise InputError(f"--steps: expected a whole number >= 1, got {steps}")
    events = tuple(e for e in world.events if e.step < steps)
    shorter = dataclasses.replace(world, steps=int(steps), events=events)
    dropped = events_dropped(world) + len(world.events) - len(events)
    object.__setattr__(shorter, _DROPPED, dropped)  # Scenario (sim.core) has no field for it
    return shorter


_DROPPED = "_events_dropped"


def events_dropped(world: Scenario) -> int:
    """How many scheduled events of the scenario file fall after the last step of this run
    (left out by `with_run_length`); 0 for a scenario run at its own length."""
    return int(getattr(world, _DROPPED, 0))


def check_recording(world: Scenario, record_dyads: int) -> None:
    """Raise InputError unless dyads can be recorded every `record_dyads` steps: snapshots
    are taken on recorded steps only, so the interval must be a multiple of the scenario's
    ``record_every`` (``--dyads 7 --every 100`` would silently record step 0 alone)."""
    if record_dyads < 0:
        raise InputError(f"--dyads: expected a number of steps >= 1, got {record_dyads}")
    every = int(world.parameters.record_every)
    if record_dyads and record_dyads % every:
        lower = max(every, record_dyads - record_dyads % every)
        raise InputError(
            f"--dyads {record_dyads}: expected a multiple of the recording interval "
            f"(--every / parameters.record_every = {every}): dyad snapshots are taken on "
            f"recorded steps only; use --dyads {lower} or {lower + every}, or a smaller --every"
        )


def _scenario_meta(world: Scenario) -> dict[str, Any]:
    return {
        "start": world.start,
        "time_unit": world.time_unit,
        "record_every": int(world.parameters.record_every),
        "locations": {s.id: [float(v) for v in s.location] for s in world.states},
        "scenario_path": world.path,
        "events_dropped": events_dropped(world),
    }


def simulate(
    scenario: str | Path | Scenario | Mapping[str, Any] = DEFAULT_SCENARIO,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    seed: int | None = None,
    *,
    steps: int | None = None,
    record_every: int | None = None,
    record_dyads: int = 0,
    dyad_pairs: Sequence[tuple[str, str]] | None = None,
    dyad_snapshots: bool = False,
    progress: Callable[[int], None] | None = None,
    source: str | None = None,
) -> RunResults:
    """The one path from a scenario and overrides to a run's tables (nothing is written):
    ``ddsim run``, sweeps (`sim.experiments.sweep`), comparisons and hindcasts all run the
    model through here.

    Args:
        scenario: a `Scenario` (used as is when there is nothing to override), a bundled
            name or path, or a scenario as a plain dict (an experiment's base scenario).
        overrides: {"parameters.temperature": 0.1, ...} or ["parameters.temperature=0.1"].
        seed, steps, record_every: replace the scenario's values.
        record_dyads: also record all dyads every this many steps (0 = never; a multiple
            of the recording interval).
        dyad_pairs: record only these dyads (pairs of state ids; unknown ids are an
            InputError), at every recorded step unless `record_dyads` says otherwise: how
            sweeps and comparisons get a dyad's series without recording every dyad.
        dyad_snapshots: also keep all dyads at the start and at the end
            (`RunResults.start_dyads` / `final_dyads`, for a run directory and its
            figures); off for sweeps, which need only the recorded tables.
        progress: called with the number of steps done after each step.
        source: how a dict scenario is named in messages (e.g. the experiment file).
    """
    world = prepare_scenario(
        scenario,
        steps=steps,
        seed=seed,
        overrides=overrides,
        record_every=record_every,
        source=source,
    )
    return run_model(
        world,
        record_dyads=record_dyads,
        dyad_pairs=dyad_pairs,
        dyad_snapshots=dyad_snapshots,
        progress=progress,
    )


def run_model(
    world: Scenario,
    *,
    record_dyads: int = 0,
    dyad_pairs: Sequence[tuple[str, str]] | None = None,
    dyad_snapshots: bool = False,
    progress: Callable[[int], None] | None = None,
) -> RunResults:
    """Run a prepared scenario for its `steps` (see `simulate`)."""
    from sim.core.model import DiplomacyModel

    if dyad_pairs is not None:
        known = set(world.ids)
        for pair in dyad_pairs:
            for sid in pair:
                if sid not in known:
                    raise InputError(
                        f"dyad {'-'.join(pair)}: expected state ids of {world.name}, got {sid!r}"
                    )
        if not record_dyads:
            record_dyads = world.parameters.record_every
    check_recording(world, int(record_dyads))
    model = DiplomacyModel(world, record_dyads=int(record_dyads), dyad_pairs=dyad_pairs)
    start = dyad_snapshot(model) if dyad_snapshots else None
    res = model.run(progress=progress)
    final = dyad_snapshot(model) if dyad_snapshots else None
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
    """Run a scenario in memory and return its tables (no files are written): `simulate`
    with the start and final dyad snapshots, as ``ddsim run`` saves them.

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
    return simulate(
        scenario,
        overrides,
        seed,
        steps=steps,
        record_every=record_every,
        record_dyads=record_dyads,
        dyad_snapshots=True,
        progress=progress,
    )
