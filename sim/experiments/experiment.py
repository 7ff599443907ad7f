"""Experiment files: what a sweep varies, how it samples, what it measures.

An experiment (``experiments/*.yaml``, format in ``docs/sweeps.md``) names a base
scenario, overrides applied to it, the parameters to vary (dotted paths into the
scenario, as accepted by `sim.scenarios.loader.apply_overrides`), a design (full factorial
grid, random, Latin hypercube, Sobol or Morris), replicates per design point, a root
seed and named outcomes (summary statistics per run, optional per-step series).

`load_experiment` checks the file against the schema (`sim.experiments.schema`), then what
needs the base scenario: every parameter's values are tried on it up front, outcome state
ids must be among its states. A bad file raises `ExperimentError` naming the file, line,
key path, what was expected and what was found, one line per problem. Designs are in
`sim.experiments.design`, outcomes in `sim.experiments.outcomes`; their public names are
importable from here too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.experiments.design import (
    DESIGNS,
    DISTRIBUTIONS,
    MAX_POINTS,
    DesignPoints,
    DesignSpec,
    ParameterSpec,
    expand_design,
    plain,
    run_id,
    run_seed,
    salib_problem,
)
from sim.experiments.outcomes import (
    CRISIS_OUTCOMES,
    CRISIS_STATS,
    OUTCOME_STATS,
    PER_YEAR_STATS,
    STATE_METRICS,
    TABLES,
    WORLD_METRICS,
    OutcomeSpec,
    _series_stat,
    compute_outcomes,
    default_outcomes,
)
from sim.experiments.schema import (
    FOLDER_NAME,
    MAX_REPLICATES,
    MEASUREMENT_PATHS,
    RUN_COLUMNS,
    ExperimentFile,
    experiment_context,
)
from sim.running.simulate import events_dropped, with_run_length
from sim.scenarios import loader
from sim.scenarios.errors import FileError, Problems, ScenarioError, choice_hint, describe_value
from sim.scenarios.extends import file_problem, path_exists
from sim.scenarios.fields import locate, validate, without_nulls
from sim.scenarios.yaml_reader import copy_tree, read_text_file

__all__ = [
    "CRISIS_OUTCOMES",
    "CRISIS_STATS",
    "DESIGNS",
    "DISTRIBUTIONS",
    "MAX_POINTS",
    "MAX_REPLICATES",
    "MEASUREMENT_PATHS",
    "OUTCOME_STATS",
    "PER_YEAR_STATS",
    "RUN_COLUMNS",
    "STATE_METRICS",
    "TABLES",
    "WORLD_METRICS",
    "DesignPoints",
    "DesignSpec",
    "Experiment",
    "ExperimentError",
    "OutcomeSpec",
    "ParameterSpec",
    "_series_stat",
    "compute_outcomes",
    "default_outcomes",
    "expand_design",
    "load_experiment",
    "run_id",
    "run_seed",
    "salib_problem",
]


class ExperimentError(FileError):
    """An experiment file is wrong; ``str()`` is ``file:line: key.path: expected X, got Y``
    (one line per problem). Attributes as `sim.scenarios.errors.FileError`."""


@dataclass
class Experiment:
    """A validated experiment; ``base`` is the resolved base scenario (plain dict) with the
    experiment's overrides and steps applied, ready for per-run overrides."""

    name: str
    path: str | None
    scenario: str
    scenario_path: str
    base: dict[str, Any]
    parameters: tuple[ParameterSpec, ...]
    design: DesignSpec
    outcomes: tuple[OutcomeSpec, ...]
    seed: int = 0
    replicates: int = 1
    steps: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    timeseries: tuple[str, ...] = ()
    description: str = ""
    source_text: str = ""
    events_dropped: int = 0  # scheduled events after the last step (`steps:`): not run

    @property
    def source(self) -> str:
        """How the experiment is named in messages (its file, or '<dict>')."""
        return self.path or "<dict>"

    @property
    def parameter_names(self) -> list[str]:
        """Column names of the varied parameters, in file order."""
        return [p.name for p in self.parameters]

    @property
    def steps_per_year(self) -> float:
        """Model steps per year from the base scenario's time unit."""
        months = loader.TIME_UNITS.get(self.base.get("time_unit", "month"), 1)
        return 12.0 / months

    @property
    def run_steps(self) -> int:
        """Steps each run simulates (unless a parameter varies them)."""
        return int(self.base["steps"])

    def n_points(self) -> int:
        """Number of design points (without building them)."""
        return self.design.n_points(self.parameters)

    def fingerprint(self) -> dict[str, Any]:
        """Everything that decides the runs except the replicate count (hashed by the sweep)."""
        return {
            "base": self.base,
            "parameters": [p.to_dict() for p in self.parameters],
            "design": self.design.to_dict(),
            "outcomes": [o.to_dict() for o in self.outcomes],
            "timeseries": list(self.timeseries),
            "seed": self.seed,
        }

    def design_hash(self, points: DesignPoints | None = None) -> str:
        """sha256 of the fingerprint and the expanded design points."""
        points = points if points is not None else expand_design(self)
        doc = {**self.fingerprint(), "points": points.values.to_dict(orient="split")}
        text = json.dumps(plain(doc), sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _read(path: Path, display: str) -> tuple[str, Any]:
    """The file's text and YAML data (errors as ExperimentError)."""
    try:
        text = read_text_file(path, display, "experiment file")
        return text, loader.parse_yaml(text, display)
    except ScenarioError as exc:
        raise ExperimentError.combine([ExperimentError.of(e) for e in exc.errors]) from None


class _Checks:
    """Problems found after the schema passed (they need the base scenario), with their lines."""

    def __init__(self, tree: Any, display: str) -> None:
        self.tree = tree
        self.display = display
        self.problems = Problems(ExperimentError)

    def add(self, loc: tuple, expected: str, got: str, hint: str = "", path: str | None = None):
        key_path, (file, line) = locate(self.tree, (self.display, None), loc)
        error = ExperimentError(file, line, key_path if path is None else path, expected, got, hint)
        self.problems.add(error)


def load_experiment(
    path: str | Path, *, replicates: int | None = None, data: Mapping[str, Any] | None = None
) -> Experiment:
    """Read and validate an experiment file (or ``data``, a dict, with ``path`` for messages
    and relative scenario paths). ``replicates`` overrides the file's count.

    Raises ExperimentError (or the loader's ScenarioError for a broken base scenario).
    """
    display = str(path)
    text = ""
    if data is None:
        text, data = _read(Path(path), display)
    if not isinstance(data, Mapping) or not data:
        raise ExperimentError(
            display,
            None,
            "",
            "a mapping of experiment keys (scenario, parameters, ...)",
            describe_value(data) if data is not None else "an empty document",
        )
    if replicates is not None and not 1 <= replicates <= MAX_REPLICATES:
        raise ExperimentError(
            "--replicates", None, "", f"an integer in [1, {MAX_REPLICATES}]", str(replicates)
        )
    tree = without_nulls(copy_tree(data, (display, None)), keep=("overrides",))
    model = validate(
        ExperimentFile, tree, (display, None), ExperimentError, experiment_context(tree)
    )
    checks = _Checks(tree, display)
    name = model.name or Path(path).stem
    if model.name is None and not FOLDER_NAME.match(name):
        expected = "a name of letters, digits, '_', '-' or '.' (used as a folder name)"
        checks.add(("name",), expected, f"{name!r} (the file's name; set name:)")
    scenario_path = _scenario_path(checks, model.scenario, Path(path).parent)
    checks.problems.raise_if_any()
    base, dropped = _base_scenario(checks, model, scenario_path)
    checks.problems.raise_if_any()
    parameters = tuple(_spec(p) for p in model.parameters)
    for i, spec in enumerate(parameters):
        _probe(checks, i, spec, base)
    outcomes = (
        default_outcomes() if model.outcomes is None else tuple(map(_outcome, model.outcomes))
    )
    _check_outcomes(checks, outcomes, base)
    design = model.design
    exp = Experiment(
        name=name,
        path=display,
        scenario=model.scenario,
        scenario_path=str(scenario_path),
        base=base,
        parameters=parameters,
        design=DesignSpec(
            design.type,
            model.seed if design.seed is None else design.seed,
            design.samples,
            4 if design.levels is None else design.levels,
            bool(design.second_order),
        ),
        outcomes=outcomes,
        seed=model.seed,
        replicates=model.replicates if replicates is None else replicates,
        steps=model.steps,
        overrides=plain(dict(model.overrides)),
        timeseries=tuple(model.timeseries),
        description=model.description.strip(),
        source_text=text,
        events_dropped=dropped,
    )
    if not checks.problems:
        n = exp.n_points()
        if n * exp.replicates > MAX_POINTS:
            got = f"{n:,} points x {exp.replicates} replicates"
            checks.add(("design",), f"at most {MAX_POINTS:,} runs", got)
    checks.problems.raise_if_any()
    return exp


def _scenario_path(checks: _Checks, ref: str, base_dir: Path) -> Path:
    """The base scenario: a .yaml file relative to the experiment (or absolute), else a
    bundled name. Only scenario files are read (never another file's content)."""
    candidate = base_dir / ref
    expected = "a scenario file (.yaml or .yml) or a bundled scenario name"
    if path_exists(candidate):
        problem = file_problem(candidate)
        if problem is not None:
            checks.add(("scenario",), expected, f"{ref!r}, {problem}")
        return candidate
    try:
        return loader.resolve_scenario_path(ref)
    except ScenarioError as exc:
        expected = f"a scenario file (relative to {base_dir or '.'}) or a bundled scenario name"
        checks.add(("scenario",), expected, f"{ref!r}, which was not found", exc.hint)
        return candidate


def _base_scenario(checks: _Checks, model: ExperimentFile, scenario_path: Path) -> tuple[dict, int]:
    """Resolved base scenario with the experiment's overrides (and steps) applied and
    checked, and how many scheduled events fall after the last step (not run)."""
    base = loader.resolved_scenario_dict(scenario_path)
    raw = dict(model.overrides)
    overrides = dict(raw)
    for key in raw:
        try:
            loader.apply_overrides(base, {key: raw[key]}, source=checks.display)
        except ScenarioError as exc:
            checks.add(("overrides", key), exc.expected, exc.got, exc.hint, f"overrides.{key}")
    if checks.problems:
        return base, 0
    try:
        tree = loader.apply_overrides(base, overrides, source=checks.display)
        scenario = loader.scenario_from_dict(tree, checks.display)
    except ScenarioError as exc:
        for error in exc.errors:
            key = error.key_path
            inner = f"scenario key {key}: " if key else ""
            checks.add(
                ("overrides",), f"{inner}{error.expected}", error.got, error.hint, "overrides"
            )
        return base, 0
    # the run length of `ddsim run --steps` (one rule, sim.running.simulate): a shorter run
    # ends earlier and the scheduled events after its last step are not run
    scenario = with_run_length(scenario, model.steps)
    return loader.scenario_to_dict(scenario), events_dropped(scenario)


def _spec(p: Any) -> ParameterSpec:
    if p.values is not None:
        return ParameterSpec(
            p.path, p.name or p.path, values=tuple(plain(p.values)), integer=p.integer
        )
    low, high = p.range
    return ParameterSpec(
        p.path,
        p.name or p.path,
        low=low,
        high=high,
        levels=p.levels,
        distribution=p.distribution or "uniform",
        mode=p.mode,
        mean=p.mean,
        sd=p.sd,
        integer=p.integer,
    )


def _probe(checks: _Checks, i: int, spec: ParameterSpec, base: dict) -> None:
    """Apply the parameter's values one at a time to the base scenario: bad paths or values
    fail now, each parameter's first problem reported."""
    source = checks.display
    try:
        loader.apply_overrides(base, {spec.path: spec.probe_values()[0]}, source=source)
    except ScenarioError as exc:
        checks.add(("parameters", i, "path"), exc.expected, exc.got, exc.hint)
        return
    for j, value in enumerate(spec.probe_values()):
        try:
            tree = loader.apply_overrides(base, {spec.path: value}, source=source)
            loader.scenario_from_dict(tree, source)
        except ScenarioError as exc:
            where = ("parameters", i, "values", j) if spec.is_choice else ("parameters", i, "range")
            inner = (
                f"for scenario key {exc.key_path}: "
                if exc.key_path and exc.key_path != spec.path
                else ""
            )
            checks.add(where, f"{inner}{exc.expected}", exc.got, exc.hint)
            return


def _outcome(o: Any) -> OutcomeSpec:
    return OutcomeSpec(
        name=o.name,
        metric=o.metric if o.table != "crises" else None,
        stat=o.stat,
        table=o.table,
        state=o.state,
        between=tuple(o.between) if o.between is not None else None,
        outcome=o.outcome,
        per_year=o.per_year,
        threshold=float(o.threshold),
        window=o.window,
        never=float("nan") if o.never is None else float(o.never),
        below=o.below,
        above=o.above,
        description=o.description.strip(),
    )


def _check_outcomes(checks: _Checks, outcomes: tuple[OutcomeSpec, ...], base: dict) -> None:
    """State ids of the base scenario; windows within the run."""
    ids = [s["id"] for s in base["states"]]
    for i, o in enumerate(outcomes):
        if o.state is not None and o.state not in ids:
            hint = choice_hint(o.state, ids, "known ids")
            checks.add(
                ("outcomes", i, "state"),
                "a state id of the base scenario",
                describe_value(o.state),
                hint,
            )
        for j, sid in enumerate(o.between or ()):
            if sid not in ids:
                hint = choice_hint(sid, ids, "known ids")
                where = ("outcomes", i, "between", j)
                checks.add(where, "a state id of the base scenario", describe_value(sid), hint)
        if o.window is not None and o.window > int(base["steps"]):
            expected = f"a window of at most the run's {base['steps']} steps"
            checks.add(("outcomes", i, "window"), expected, str(o.window))
