"""The experiment file schema: every key an experiment accepts, with its type, range, default
and meaning, in one place (pydantic v2; field types from `sim.scenarios.fields`).

What needs the base scenario (parameter paths and values tried on it, state ids of outcomes,
windows within the run) is checked by `sim.experiments.experiment.load_experiment` once this
schema has passed. ``ddsim schema experiment`` prints `experiment_json_schema`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from sim.experiments.design import DESIGNS, DISTRIBUTIONS, MAX_POINTS
from sim.experiments.outcomes import (
    CRISIS_OUTCOMES,
    CRISIS_STATS,
    DYAD_METRICS,
    OUTCOME_STATS,
    PER_YEAR_STATS,
    STATE_METRICS,
    TABLES,
    WORLD_METRICS,
)
from sim.scenarios.errors import choice_hint, describe_value, suggest
from sim.scenarios.fields import Choice, Expect, Flag, Number, Schema, Text, check_text, problem
from sim.scenarios.schema import MAX_DESCRIPTION, MAX_NAME, MAX_SEED, MAX_STEPS

__all__ = [
    "MAX_REPLICATES",
    "MEASUREMENT_PATHS",
    "RUN_COLUMNS",
    "ExperimentFile",
    "experiment_context",
    "experiment_json_schema",
]

MAX_REPLICATES = 100_000
MAX_LEVELS = 10_000
RUN_COLUMNS = (
    "run_id",
    "point",
    "replicate",
    "seed",
    "status",
    "error",
    "wall_time",
    "worker",
    "finished",
)
# Scenario paths that change what is measured, not what is modelled: refused as sweep
# parameters and overrides, with the reason.
MEASUREMENT_PATHS = {
    "seed": "each run's seed comes from the design (root seed, point, replicate); "
    "set the experiment's seed: instead",
    "parameters.record_every": "it changes which steps are recorded, so the outcome "
    "statistics, not the model; outcomes need every step",
}
FOLDER_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")  # an experiment's name: its store folder
_COLUMN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-\[\]]*$")
_OUTCOME_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _suggestion(word: Any, choices: Any) -> str:
    """'did you mean X?' when a choice is close (the choices are already in the message)."""
    close = suggest(word, list(choices))
    return f"did you mean {close!r}?" if close else ""


def _one_of(value: Any, choices: Any, sub: tuple = ()) -> str:
    if not isinstance(value, str) or value not in choices:
        problem(
            "one of " + ", ".join(choices), describe_value(value), _suggestion(value, choices), sub
        )
    return value


def _measured(path: str, sub: tuple) -> None:
    """Refuse a scenario path that changes what is measured rather than what is modelled."""
    if path in MEASUREMENT_PATHS:
        problem(
            "a scenario path that changes the model (not seed or parameters.record_every)",
            describe_value(path),
            MEASUREMENT_PATHS[path],
            sub,
        )


# --------------------------------------------------------------------------------------------
# design
# --------------------------------------------------------------------------------------------


def _design_shorthand(value: Any) -> Any:
    """``design: sobol`` is ``design: {type: sobol}``."""
    return {"type": value} if isinstance(value, str) else value


class DesignFile(Schema):
    """How design points are chosen."""

    what: ClassVar[str] = "known design key"
    expect: ClassVar[str] = "a mapping with type (grid, random, lhs, sobol, morris)"

    type: Annotated[
        Any, BeforeValidator(lambda v: _one_of(v, DESIGNS)), Expect("one of " + ", ".join(DESIGNS))
    ] = Field(
        "grid",
        description="grid, random, lhs, sobol or morris",
        json_schema_extra={"enum": list(DESIGNS)},
    )
    samples: Number(1, MAX_POINTS, integer=True) | None = Field(
        None,
        description="random/lhs: number of points; sobol: base samples N (a power of 2); "
        "morris: trajectories r",
    )
    seed: Number(0, MAX_SEED, integer=True) | None = Field(
        None, description="design seed (default: the root seed)"
    )
    levels: Number(2, 1000, integer=True) | None = Field(
        None, description="morris: grid levels (even, default 4)"
    )
    second_order: Flag | None = Field(
        None, description="sobol: also second-order indices (more points)"
    )

    @model_validator(mode="after")
    def _keys_of_this_type(self) -> DesignFile:
        given = self.model_fields_set
        if self.type == "grid":
            for key in ("samples", "levels", "second_order"):
                if key in given:
                    got = f"{key}: {describe_value(getattr(self, key))}"
                    expected = "no such key for a grid design (each parameter lists its values)"
                    problem(expected, got, sub=(key,))
            return self
        if self.samples is None:
            problem(f"an integer in [1, {MAX_POINTS}] (required)", "nothing", sub=("samples",))
        if self.type == "sobol":
            if self.samples & (self.samples - 1):
                lo = 1 << (self.samples.bit_length() - 1)
                expected = "a power of 2 (Saltelli base samples N)"
                problem(expected, str(self.samples), f"try {lo} or {lo * 2}", sub=("samples",))
        elif "second_order" in given:
            got = describe_value(self.second_order)
            problem("second_order only with a sobol design", got, sub=("second_order",))
        if self.type == "morris":
            if self.levels is not None and self.levels % 2:
                problem("an even number of Morris levels", str(self.levels), sub=("levels",))
        elif "levels" in given:
            problem(
                "levels only with a morris design", describe_value(self.levels), sub=("levels",)
            )
        return self


# --------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _values(value: Any) -> list[Any]:
    """A non-empty list of distinct numbers, strings or booleans, all of one kind."""
    if not isinstance(value, list | tuple) or not value:
        problem("a non-empty list of values")
    kinds = set()
    for j, v in enumerate(value):
        if _finite(v):
            kinds.add("number")
        elif isinstance(v, str | bool):
            kinds.add(type(v).__name__)
        else:
            problem("a number, string or boolean", describe_value(v), sub=(j,))
    if len(kinds) > 1:
        problem("values of one kind (all numbers, all strings or all booleans)", "a mix")
    if len(set(map(repr, value))) != len(value):
        problem("distinct values", describe_value(value) + " with repeats")
    return list(value)


def _range(value: Any) -> list[float]:
    ok = (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(_finite(v) for v in value)
        and value[0] < value[1]
    )
    if not ok:
        got = str(list(value)) if isinstance(value, list | tuple) else describe_value(value)
        problem("[low, high], two numbers with low < high", got)
    return [float(value[0]), float(value[1])]


def _column_name(value: Any) -> str:
    text = check_text(value, MAX_NAME, True, False, "a non-empty string").strip()
    if not _COLUMN_RE.match(text):
        problem("a column name of letters, digits, '_', '.', '-'", describe_value(text))
    return text


class ParameterFile(Schema):
    """One varied input: a scenario path with values or a range."""

    what: ClassVar[str] = "known parameter key"
    expect: ClassVar[str] = "a mapping with path and values or range"

    path: Text(MAX_NAME, nonempty=True, missing="a dotted scenario path (required)") = Field(
        description="dotted path into the scenario, as for --set: parameters.<name>, "
        "governance.<lever>, states.<ID>.<field>, events.<N>.step, ..."
    )
    name: Annotated[str, BeforeValidator(_column_name), Expect("a column name")] | None = Field(
        None, description="column name in the results (default: the path); unique"
    )
    values: (
        Annotated[list[Any], BeforeValidator(_values), Expect("a non-empty list of values")] | None
    ) = Field(None, description="list of values (numbers, strings or booleans, one kind): a choice")
    range: (
        Annotated[
            list[float],
            Field(min_length=2, max_length=2),
            BeforeValidator(_range),
            Expect("[low, high], two numbers with low < high"),
        ]
        | None
    ) = Field(None, description="[low, high] with low < high: a continuous parameter")
    levels: Number(2, MAX_LEVELS, integer=True) | None = Field(
        None, description="grid only: number of evenly spaced values over range"
    )
    distribution: (
        Annotated[
            Any,
            BeforeValidator(lambda v: _one_of(v, DISTRIBUTIONS)),
            Expect("one of " + ", ".join(DISTRIBUTIONS)),
        ]
        | None
    ) = Field(
        None,
        description="sampling designs: uniform (default), loguniform, normal (truncated to the "
        "range; mean default mid-range, sd required), triangular (mode required)",
        json_schema_extra={"enum": list(DISTRIBUTIONS)},
    )
    mode: Number() | None = Field(None, description="triangular: the mode (in the range)")
    mean: Number() | None = Field(None, description="normal: the mean (default mid-range)")
    sd: Number() | None = Field(None, description="normal: the standard deviation (> 0)")
    integer: Flag = Field(False, description="true: round values to integers")

    @model_validator(mode="after")
    def _values_or_range(self, info: ValidationInfo) -> ParameterFile:
        _measured(self.path, ("path",))
        given = self.model_fields_set
        if (self.values is None) == (self.range is None):
            problem(
                "exactly one of values (a list) or range ([low, high])",
                "both" if self.values is not None else "neither",
            )
        if self.values is not None:
            self._check_values(given)
        else:
            self._check_range(given, (info.context or {}).get("design"))
        return self

    def _check_values(self, given: set[str]) -> None:
        if self.integer:
            if not all(_finite(v) and float(v) == int(v) for v in self.values):
                problem(
                    "whole numbers (integer: true)", describe_value(self.values), sub=("values",)
                )
            self.values = [int(v) for v in self.values]
        for key in ("levels", "distribution", "mode", "mean", "sd"):
            if key in given:
                got = describe_value(getattr(self, key))
                problem(f"{key} only with a range (not with values)", got, sub=(key,))

    def _check_range(self, given: set[str], design: str | None) -> None:
        low, high = self.range
        dist = self.distribution or "uniform"
        if dist == "loguniform" and low <= 0:
            expected = "a range above 0 for a loguniform distribution"
            problem(expected, str(self.range), sub=("range",))
        if dist == "normal":
            if self.mean is None:
                self.mean = (low + high) / 2
            if self.sd is None:
                problem("a number (required)", "nothing", sub=("sd",))
            if self.sd <= 0:
                problem("a standard deviation > 0", describe_value(self.sd), sub=("sd",))
        else:
            for key in ("mean", "sd"):
                if key in given:
                    expected = f"{key} only with distribution: normal"
                    problem(expected, describe_value(getattr(self, key)), sub=(key,))
        if dist == "triangular":
            if self.mode is None:
                problem("a number (required)", "nothing", sub=("mode",))
            if not low <= self.mode <= high:
                expected = f"a mode in the range [{low:g}, {high:g}]"
                problem(expected, describe_value(self.mode), sub=("mode",))
        elif "mode" in given:
            expected = "mode only with distribution: triangular"
            problem(expected, describe_value(self.mode), sub=("mode",))
        if self.integer and math.floor(high) < math.ceil(low):
            expected = "a range containing a whole number (integer: true)"
            problem(expected, str(self.range), sub=("range",))
        if design == "grid":
            if self.levels is None:
                problem(
                    "values (a list) or range with levels (a grid design needs levels)",
                    "a range without levels",
                )
            if dist in ("normal", "triangular"):
                problem("uniform or loguniform spacing for a grid", dist, sub=("distribution",))
            if self.integer and self.levels > math.floor(high) - math.ceil(low) + 1:
                expected = f"at most {math.floor(high) - math.ceil(low) + 1} levels for a whole-number range"
                problem(expected, str(self.levels), sub=("levels",))
        elif design is not None and "levels" in given:
            expected = f"levels only with a grid design (this is {design}; use design.samples)"
            problem(expected, describe_value(self.levels), sub=("levels",))


def _parameters(value: Any) -> Any:
    if not isinstance(value, list | tuple):
        problem("a list of parameters to vary (path, values or range)")
    if not value:
        problem("at least one parameter to vary", "an empty list")
    return value


def _unique_parameters(params: list[ParameterFile]) -> list[ParameterFile]:
    """Each scenario path varied once; column names unique and not a runs-table column."""
    paths: dict[str, int] = {}
    names: dict[str, int] = {}
    for i, p in enumerate(params):
        if p.path in paths:
            got = f"{p.path!r} again (also parameters[{paths[p.path]}])"
            problem("each scenario path varied once", got, sub=(i, "path"))
        name = p.name or p.path
        if name in names or name in RUN_COLUMNS:
            other = f"parameters[{names[name]}]" if name in names else "a runs-table column"
            problem("a unique column name", f"{name!r} (also {other})", sub=(i, "name"))
        paths[p.path] = names[name] = i
    return params


# --------------------------------------------------------------------------------------------
# outcomes
# --------------------------------------------------------------------------------------------


def _outcome_name(value: Any) -> str:
    text = check_text(value, MAX_NAME, True, False, "a non-empty string").strip()
    if not _OUTCOME_NAME_RE.match(text):
        problem("a name of letters, digits and '_' (a column name)", describe_value(text))
    return text


def _between(value: Any) -> list[str]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, str) for v in value)
        or value[0] == value[1]
    ):
        problem("two different state ids [A, B]")
    return list(value)


class OutcomeFile(Schema):
    """A named summary statistic of one run."""

    what: ClassVar[str] = "known outcome key"
    expect: ClassVar[str] = "a mapping with name, metric and stat"

    name: Annotated[
        str, BeforeValidator(_outcome_name), Expect("a name of letters, digits and '_'")
    ] = Field(description="column name (identifier), unique")
    table: Choice(TABLES, "one of " + ", ".join(TABLES)) = Field(
        "world",
        description="world (world metrics per step), states (a state's metric per step), "
        "crises (the crisis log) or dyads (a dyad's series, recorded for the dyads named)",
    )
    metric: Text(MAX_NAME) | None = Field(
        None,
        description="world, states or dyads table: the metric (an unknown name lists them all)",
    )
    stat: Text(MAX_NAME) | None = Field(
        None,
        description="statistic over the run: " + ", ".join(OUTCOME_STATS) + " (default final; "
        "crises table: count or first, default count)",
    )
    state: Text(MAX_NAME) | None = Field(
        None, description="states table: a state id of the base scenario"
    )
    between: (
        Annotated[list[str], BeforeValidator(_between), Expect("two different state ids [A, B]")]
        | None
    ) = Field(
        None, description="crises table: only crises of this dyad [A, B]; dyads table: the dyad"
    )
    outcome: Choice(CRISIS_OUTCOMES, "one of " + ", ".join(CRISIS_OUTCOMES)) | None = Field(
        None,
        description="crises table: only crises that ended so (default: model crises, "
        "deescalated or incident; `war` counts the scripted wars instead)",
    )
    per_year: Flag = Field(
        False, description="sum or count: divide by the years the run (or window) covers"
    )
    threshold: Number() = Field(
        0.0, description="count, fraction, first: a step counts when value > threshold"
    )
    window: Number(1, MAX_STEPS, integer=True) | None = Field(
        None, description="only the last window steps (mean, sum, count, ...)"
    )
    never: Number() | None = Field(
        None, description="first: the value when it never happens (default NaN)"
    )
    below: Number() | None = Field(
        None, description="target: the analysis reports where value < below"
    )
    above: Number() | None = Field(
        None, description="target: the analysis reports where value > above"
    )
    description: Text(MAX_DESCRIPTION, multiline=True) = Field(
        "", description="shown in summary.md"
    )

    @model_validator(mode="after")
    def _fits_its_table(self) -> OutcomeFile:
        given = self.model_fields_set
        if self.table == "crises":
            self.stat = _one_of(self.stat or "count", CRISIS_STATS, ("stat",))
            for key in ("metric", "state"):
                if key in given:
                    expected = "no metric or state for table: crises (use between and outcome)"
                    problem(expected, describe_value(getattr(self, key)), sub=(key,))
        elif self.table == "dyads":
            if self.between is None:
                problem("two different state ids [A, B] (required)", "nothing", sub=("between",))
            for key in ("state", "outcome"):
                if key in given:
                    expected = "no state or outcome for table: dyads (use between and metric)"
                    problem(expected, describe_value(getattr(self, key)), sub=(key,))
            if self.metric is None:
                expected = "one of " + ", ".join(DYAD_METRICS) + " (required)"
                problem(expected, "nothing", sub=("metric",))
            _one_of(self.metric, DYAD_METRICS, ("metric",))
            self.stat = _one_of(self.stat or "mean", tuple(OUTCOME_STATS), ("stat",))
        else:
            for key in ("between", "outcome"):
                if key in given:
                    problem(
                        f"{key} only with table: crises",
                        describe_value(getattr(self, key)),
                        sub=(key,),
                    )
            metrics = WORLD_METRICS if self.table == "world" else STATE_METRICS
            if self.metric is None:
                problem("one of " + ", ".join(metrics) + " (required)", "nothing", sub=("metric",))
            _one_of(self.metric, metrics, ("metric",))
            self.stat = _one_of(self.stat or "final", tuple(OUTCOME_STATS), ("stat",))
            if self.table == "states" and self.state is None:
                problem("a state id (required)", "nothing", sub=("state",))
            if self.table != "states" and "state" in given:
                problem("state only with table: states", describe_value(self.state), sub=("state",))
        if self.per_year and self.stat not in PER_YEAR_STATS:
            problem("per_year only with stat sum or count", f"stat {self.stat}", sub=("per_year",))
        if "never" in given and self.stat != "first":
            problem("never only with stat: first", f"stat {self.stat}", sub=("never",))
        return self


def _outcomes(value: Any) -> Any:
    if not isinstance(value, list | tuple) or not value:
        problem("a non-empty list of outcomes (name, metric, stat)")
    return value


def _unique_outcomes(outcomes: list[OutcomeFile], info: ValidationInfo) -> list[OutcomeFile]:
    reserved = set(RUN_COLUMNS) | set((info.context or {}).get("parameter_names", ()))
    names: set[str] = set()
    for i, o in enumerate(outcomes):
        if o.name in names or o.name in reserved:
            expected = "a unique outcome name (not a run or parameter column)"
            problem(expected, f"{o.name!r} again", sub=(i, "name"))
        names.add(o.name)
    return outcomes


# --------------------------------------------------------------------------------------------
# timeseries, overrides, the file
# --------------------------------------------------------------------------------------------


def _timeseries(value: Any) -> list[str]:
    if value is False:
        return []
    if value == "all" or value is True:
        return list(WORLD_METRICS)
    if not isinstance(value, list | tuple):
        problem("a list of world metrics (or 'all')")
    for j, metric in enumerate(value):
        if not isinstance(metric, str) or metric not in WORLD_METRICS:
            problem(
                "a world metric",
                describe_value(metric),
                choice_hint(metric, WORLD_METRICS, "world metrics"),
                (j,),
            )
    if len(set(value)) != len(value):
        problem("each metric once", describe_value(value))
    return list(value)


def _override_key(value: Any) -> str:
    if not isinstance(value, str):
        problem("dotted scenario paths as keys", describe_value(value))
    return value


def _overrides(table: dict[str, Any]) -> dict[str, Any]:
    for key in table:
        _measured(key, (key,))
    return table


class ExperimentFile(Schema):
    """A ddsim experiment: a base scenario, what varies, how it is sampled, what is measured."""

    what: ClassVar[str] = "known experiment key"
    expect: ClassVar[str] = "a mapping of experiment keys (scenario, parameters, ...)"

    name: (
        Annotated[
            str,
            Field(pattern=FOLDER_NAME.pattern, max_length=MAX_NAME),
            BeforeValidator(
                lambda v: _folder_name(check_text(v, MAX_NAME, True, False, "a non-empty string"))
            ),
            Expect("a name of letters, digits, '_', '-' or '.' (used as a folder name)"),
        ]
        | None
    ) = Field(None, description="the store folder's name (default: the file name)")
    description: Text(MAX_DESCRIPTION, multiline=True) = Field("", description="free text")
    scenario: Text(
        4096, nonempty=True, missing="a scenario file or a bundled scenario name (required)"
    ) = Field(
        description="base scenario: a .yaml file relative to this experiment, or a bundled name"
    )
    steps: Number(1, MAX_STEPS, integer=True) | None = Field(
        None, description="overrides the scenario's run length"
    )
    seed: Number(0, MAX_SEED, integer=True) = Field(0, description="root seed of the runs")
    replicates: Number(1, MAX_REPLICATES, integer=True) = Field(
        1, description="runs per design point (--replicates overrides)"
    )
    overrides: Annotated[
        dict[Annotated[str, BeforeValidator(_override_key)], Any],
        AfterValidator(_overrides),
        Expect("a mapping of dotted scenario path -> value"),
    ] = Field(
        default_factory=dict,
        description="dotted scenario path -> value, applied to the base scenario",
    )
    design: Annotated[DesignFile, BeforeValidator(_design_shorthand)] = Field(
        default_factory=DesignFile, description="how design points are chosen (default grid)"
    )
    parameters: Annotated[
        list[ParameterFile],
        Field(min_length=1),
        BeforeValidator(_parameters),
        AfterValidator(_unique_parameters),
        Expect(
            "a list of parameters to vary (path, values or range)",
            missing="a list of parameters to vary (path, values or range)",
        ),
    ] = Field(description="what varies (at least one)")
    outcomes: (
        Annotated[
            list[OutcomeFile],
            Field(min_length=1),
            BeforeValidator(_outcomes),
            AfterValidator(_unique_outcomes),
            Expect("a non-empty list of outcomes (name, metric, stat)"),
        ]
        | None
    ) = Field(None, description="what is measured per run (default: a standard set)")
    timeseries: Annotated[
        list[str],
        BeforeValidator(_timeseries),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "array", "items": {"enum": list(WORLD_METRICS)}},
                    {"const": "all"},
                    {"type": "boolean"},
                ]
            }
        ),
        Expect("a list of world metrics (or 'all')"),
    ] = Field(
        default_factory=list,
        description="world metrics stored per step of every run (a list, or all)",
    )


def _folder_name(text: str) -> str:
    text = text.strip()
    if not FOLDER_NAME.match(text):
        problem(
            "a name of letters, digits, '_', '-' or '.' (used as a folder name)",
            describe_value(text),
        )
    return text


def experiment_context(tree: Mapping[str, Any]) -> dict[str, Any]:
    """The design type and parameter column names as far as the file states them validly."""
    design = tree.get("design")
    kind = design.get("type", "grid") if isinstance(design, Mapping) else design
    if design is None:
        kind = "grid"
    names = []
    params = tree.get("parameters")
    if isinstance(params, list):
        for p in params:
            if isinstance(p, Mapping):
                name = p.get("name") or p.get("path")
                if isinstance(name, str):
                    names.append(name.strip())
    return {"design": kind if kind in DESIGNS else None, "parameter_names": names}


def experiment_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of experiment files, for editors and other tools."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ddsim.invalid/schema/experiment.json",
        **ExperimentFile.model_json_schema(),
    }
