"""Experiment files: what a sweep varies, how it samples, what it measures.

An experiment (``experiments/*.yaml``, format in ``docs/sweeps.md``) names a base
scenario, overrides applied to it, the parameters to vary (dotted paths into the
scenario, as accepted by `sim.scenarios.loader.apply_overrides`), a design (full factorial
grid, random, Latin hypercube, Sobol or Morris), replicates per design point, a root
seed and named outcomes (summary statistics per run, optional per-step series).

`load_experiment` validates the file the way scenario files are validated: a bad
file raises `ExperimentError` naming the file, line, key path, what was expected and
what was found, and every parameter's values are tried on the base scenario up front.
`expand_design` turns the design into a table of points; `run_seed` gives the seed of
one run from (root seed, point, replicate) alone; `compute_outcomes` reduces one run's
tables to the named outcome values.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.metrics import ACTIVITY_COUNTS, STATE_COLUMNS, WORLD_REPORTERS
from sim.errors import InputError
from sim.scenarios import loader
from sim.scenarios.loader import ScenarioError

__all__ = [
    "DESIGNS",
    "OUTCOME_STATS",
    "RUN_COLUMNS",
    "WORLD_METRICS",
    "DesignPoints",
    "DesignSpec",
    "Experiment",
    "ExperimentError",
    "OutcomeSpec",
    "ParameterSpec",
    "compute_outcomes",
    "default_outcomes",
    "expand_design",
    "load_experiment",
    "run_id",
    "run_seed",
]

# --------------------------------------------------------------------------------------------
# Accepted keys and choices (docs/sweeps.md documents each)
# --------------------------------------------------------------------------------------------

TOP_KEYS = (
    "name",
    "description",
    "scenario",
    "steps",
    "seed",
    "replicates",
    "overrides",
    "design",
    "parameters",
    "outcomes",
    "timeseries",
)
DESIGN_KEYS = ("type", "samples", "seed", "levels", "second_order")
PARAMETER_KEYS = (
    "path",
    "name",
    "values",
    "range",
    "levels",
    "distribution",
    "mode",
    "mean",
    "sd",
    "integer",
)
OUTCOME_KEYS = (
    "name",
    "table",
    "metric",
    "stat",
    "state",
    "between",
    "outcome",
    "per_year",
    "threshold",
    "window",
    "never",
    "below",
    "above",
    "description",
)
DESIGNS = ("grid", "random", "lhs", "sobol", "morris")
DISTRIBUTIONS = ("uniform", "loguniform", "normal", "triangular")
TABLES = ("world", "states", "crises")
CRISIS_OUTCOMES = ("deescalated", "incident", "war")
WORLD_METRICS = ("crises", "incidents", *ACTIVITY_COUNTS, "arms_volume", *WORLD_REPORTERS)
STATE_METRICS = tuple(STATE_COLUMNS)
# stat -> one-line meaning (docs/sweeps.md repeats these)
OUTCOME_STATS = {
    "final": "value at the last recorded step",
    "initial": "value at step 0 (before the first step)",
    "mean": "mean over the recorded steps 1..T (or the last `window` steps)",
    "min": "minimum over the steps",
    "max": "maximum over the steps",
    "std": "standard deviation over the steps",
    "sum": "sum over the steps (flows such as crises: the total); per_year divides by years",
    "count": "number of recorded steps with value > threshold (crises table: number of crises)",
    "fraction": "share of recorded steps with value > threshold",
    "first": "first step with value > threshold (crises table: first crisis); `never` if none",
    "change": "final minus initial value",
}
CRISIS_STATS = ("count", "first")
PER_YEAR_STATS = ("sum", "count")
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
MAX_POINTS = 10_000_000
MAX_REPLICATES = 100_000

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-\[\]]*$")
_OUTCOME_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MISSING = object()


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ExperimentError(InputError):
    """An experiment file is wrong; ``str()`` is one line: ``file:line: key.path: expected X, got Y``.

    Attributes as `sim.scenarios.loader.ScenarioError`: ``file``, ``line``, ``key_path``, ``expected``,
    ``got``, ``hint``.
    """

    def __init__(
        self, file: str, line: int | None, key_path: str, expected: str, got: str, hint: str = ""
    ) -> None:
        super().__init__(file, line, key_path, expected, got, hint)
        self.file, self.line, self.key_path = file, line, key_path
        self.expected, self.got, self.hint = expected, got, hint

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        parts = [where, self.key_path] if self.key_path else [where]
        parts.append(f"expected {self.expected}, got {self.got}")
        text = ": ".join(parts)
        return f"{text}; {self.hint}" if self.hint else text


def _describe(value: Any) -> str:
    return loader.describe_value(value)


def _did_you_mean(word: Any, choices: Sequence[str], label: str = "allowed") -> str:
    return loader.choice_hint(word, choices, label)


class _Ctx:
    """Where we are in the experiment file: file name and the YAML line of each key."""

    def __init__(self, file: str) -> None:
        self.file = file

    def line(self, container: Any, key: Any = None) -> int | None:
        locs = getattr(container, "locs", None)
        if locs is not None and key in locs:
            return locs[key][1]
        return None

    def fail(self, container: Any, key: Any, path: str, expected: str, got: str, hint: str = ""):
        raise ExperimentError(self.file, self.line(container, key), path, expected, got, hint)


def _join(path: str, key: Any) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _check_keys(ctx: _Ctx, mapping: Mapping, allowed: Sequence[str], path: str, what: str) -> None:
    for key in mapping:
        if not isinstance(key, str) or key not in allowed:
            ctx.fail(
                mapping,
                key,
                _join(path, key),
                f"a known {what}",
                f"unknown key {key!r}" if isinstance(key, str) else _describe(key),
                _did_you_mean(key, allowed),
            )


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _int(
    ctx: _Ctx, box: Mapping, key: str, path: str, lo: int, hi: int, default: Any = _MISSING
) -> int:
    value = box.get(key, _MISSING)
    if value is _MISSING or value is None:
        if default is _MISSING:
            ctx.fail(
                box, key, _join(path, key), f"an integer in [{lo}, {hi}] (required)", "nothing"
            )
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        ctx.fail(box, key, _join(path, key), f"an integer in [{lo}, {hi}]", _describe(value))
    return value


def _bool(ctx: _Ctx, box: Mapping, key: str, path: str, default: bool) -> bool:
    value = box.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        ctx.fail(box, key, _join(path, key), "true or false", _describe(value))
    return value


def _number(ctx: _Ctx, box: Mapping, key: str, path: str, default: Any = _MISSING) -> float:
    value = box.get(key, _MISSING)
    if value is _MISSING or value is None:
        if default is _MISSING:
            ctx.fail(box, key, _join(path, key), "a number (required)", "nothing")
        return default
    if not _is_number(value):
        ctx.fail(box, key, _join(path, key), "a finite number", _describe(value))
    return float(value)


def _text(ctx: _Ctx, box: Mapping, key: str, path: str, default: Any = _MISSING) -> str:
    value = box.get(key, _MISSING)
    if value is _MISSING or value is None:
        if default is _MISSING:
            ctx.fail(box, key, _join(path, key), "a string (required)", "nothing")
        return default
    if not isinstance(value, str) or not value.strip():
        ctx.fail(box, key, _join(path, key), "a non-empty string", _describe(value))
    return value.strip()


def _choice(
    ctx: _Ctx, box: Mapping, key: str, path: str, choices: Sequence[str], default: Any = _MISSING
) -> str:
    value = box.get(key, _MISSING)
    if value is _MISSING or value is None:
        if default is _MISSING:
            ctx.fail(
                box,
                key,
                _join(path, key),
                "one of " + ", ".join(choices) + " (required)",
                "nothing",
            )
        return default
    if not isinstance(value, str) or value not in choices:
        ctx.fail(
            box,
            key,
            _join(path, key),
            "one of " + ", ".join(choices),
            _describe(value),
            _suggestion(value, choices),
        )
    return value


def _suggestion(word: Any, choices: Sequence[str]) -> str:
    """'did you mean X?' when a choice is close (the choices are already in the message)."""
    suggestion = loader.suggest(word, list(choices))
    return f"did you mean {suggestion!r}?" if suggestion else ""


def _plain(value: Any) -> Any:
    """numpy scalars -> Python numbers; containers recursively (for JSON, YAML and overrides)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterSpec:
    """One varied input: a dotted path into the scenario and its values or distribution.

    Either ``values`` (a list: the grid levels, or equally likely choices in sampling designs)
    or ``low``/``high`` (a range) with a ``distribution`` (uniform, loguniform, normal truncated
    to the range with ``mean``/``sd``, triangular with ``mode``); ``levels`` spaces a range
    into a grid; ``integer`` rounds.
    """

    path: str
    name: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    levels: int | None = None
    distribution: str = "uniform"
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None
    integer: bool = False

    @property
    def is_choice(self) -> bool:
        """True when the parameter takes values from a list (no range)."""
        return self.values is not None

    def grid_values(self) -> list[Any]:
        """The grid levels: the listed values, or ``levels`` points spaced over the range."""
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None and self.levels is not None
        if self.distribution == "loguniform":
            pts = np.geomspace(self.low, self.high, self.levels)
        else:
            pts = np.linspace(self.low, self.high, self.levels)
        if self.integer:
            return [int(v) for v in np.floor(pts + 0.5)]
        return [float(v) for v in pts]

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval samples to parameter values (inverse CDF of the distribution)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.values is not None:
            k = len(self.values)
            idx = np.minimum((u * k).astype(np.int64), k - 1)
            out = np.empty(len(u), dtype=object)
            for j, i in enumerate(idx):
                out[j] = self.values[i]
            return out
        lo, hi = float(self.low), float(self.high)  # type: ignore[arg-type]
        if self.integer and self.distribution == "uniform":
            lo_i, hi_i = math.ceil(lo), math.floor(hi)
            return np.minimum(lo_i + np.floor(u * (hi_i - lo_i + 1)), hi_i).astype(np.int64)
        if self.distribution == "uniform":
            x = lo + u * (hi - lo)
        elif self.distribution == "loguniform":
            x = np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
        elif self.distribution == "normal":
            from scipy.stats import truncnorm

            a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd
            x = truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)
        else:  # triangular
            from scipy.stats import triang

            x = triang.ppf(u, (self.mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
        x = np.clip(x, lo, hi)
        return np.floor(x + 0.5).astype(np.int64) if self.integer else x

    def probe_values(self) -> list[Any]:
        """Values tried on the base scenario up front: every listed value, or both range ends."""
        if self.values is not None:
            return list(dict.fromkeys(self.values))[:100]
        vals = self.from_unit(np.array([0.0, 1.0]))
        return [_plain(v) for v in vals]

    def to_dict(self) -> dict[str, Any]:
        """Plain description (for the manifest and the design hash)."""
        return {k: _plain(v) for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class DesignSpec:
    """How design points are chosen. ``samples``: points (random, lhs), base samples N (sobol,
    a power of 2) or trajectories (morris); ``levels``: Morris grid levels."""

    type: str
    seed: int
    samples: int | None = None
    levels: int = 4
    second_order: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain description (for the manifest and the design hash)."""
        return asdict(self)


@dataclass(frozen=True)
class OutcomeSpec:
    """A named summary statistic of one run (see `OUTCOME_STATS`)."""

    name: str
    metric: str | None
    stat: str = "final"
    table: str = "world"
    state: str | None = None
    between: tuple[str, str] | None = None
    outcome: str | None = None
    per_year: bool = False
    threshold: float = 0.0
    window: int | None = None
    never: float = float("nan")
    below: float | None = None
    above: float | None = None
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain description (NaN written as null)."""
        out = {k: _plain(v) for k, v in asdict(self).items() if v is not None and v != ""}
        if isinstance(out.get("never"), float) and math.isnan(out["never"]):
            out.pop("never")
        return out

    def target_text(self) -> str | None:
        """'< 1' / '> 0.5' when the outcome has a target for the analysis, else None."""
        if self.below is not None:
            return f"< {self.below:g}"
        if self.above is not None:
            return f"> {self.above:g}"
        return None

    def meets(self, values: np.ndarray) -> np.ndarray:
        """Boolean array: which values meet the target (all True when there is none)."""
        values = np.asarray(values, dtype=float)
        ok = np.ones(values.shape, dtype=bool)
        if self.below is not None:
            ok &= values < self.below
        if self.above is not None:
            ok &= values > self.above
        return ok


def default_outcomes() -> tuple[OutcomeSpec, ...]:
    """Outcomes recorded when an experiment names none (and by `sim.experiments.sweep.run_one`)."""
    return (
        OutcomeSpec("crises_per_year", "crises", "sum", per_year=True),
        OutcomeSpec("incidents_per_year", "incidents", "sum", per_year=True),
        OutcomeSpec("first_crisis", "crises", "first"),
        OutcomeSpec("mean_risk", "mean_risk", "mean"),
        OutcomeSpec("final_mean_trust", "mean_trust", "final"),
        OutcomeSpec("final_polarization", "polarization", "final"),
        OutcomeSpec("final_n_blocs", "n_blocs", "final"),
    )


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
        """Steps each run simulates."""
        return int(self.base["steps"])

    def n_points(self) -> int:
        """Number of design points (without building them)."""
        d, k = self.design, len(self.parameters)
        if d.type == "grid":
            return math.prod(len(p.grid_values()) for p in self.parameters)
        if d.type in ("random", "lhs"):
            return int(d.samples or 0)
        if d.type == "sobol":
            return int(d.samples or 0) * ((2 * k + 2) if d.second_order else (k + 2))
        return int(d.samples or 0) * (k + 1)

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
        text = json.dumps(_plain(doc), sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# Seeds and run ids
# --------------------------------------------------------------------------------------------


def run_seed(root: int, point: int, replicate: int) -> int:
    """Model seed of one run: depends only on (root seed, design point, replicate).

    Equal to ``SeedSequence(root).spawn(...)`` child (point, replicate) as a 32-bit integer,
    so neither the worker nor the order of execution can change it.
    """
    ss = np.random.SeedSequence(int(root), spawn_key=(int(point), int(replicate)))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def run_id(point: int, replicate: int) -> str:
    """Stable id of a run, e.g. 'p12-r3'."""
    return f"p{int(point)}-r{int(replicate)}"


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def _read_text(path: Path, display: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExperimentError(
            display, None, "", "an existing experiment file", "no such file"
        ) from None
    except IsADirectoryError:
        raise ExperimentError(display, None, "", "an experiment file", "a directory") from None
    except OSError as exc:
        raise ExperimentError(
            display, None, "", "a readable experiment file", exc.strerror or "an error"
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ExperimentError(
            display, line, "", "UTF-8 text", f"byte 0x{data[exc.start]:02x}"
        ) from None


def _parse_yaml(text: str, display: str) -> Any:
    try:
        return loader.parse_yaml(text, display)
    except ScenarioError as exc:
        raise ExperimentError(
            exc.file, exc.line, exc.key_path, exc.expected, exc.got, exc.hint
        ) from None


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
        text = _read_text(Path(path), display)
        data = _parse_yaml(text, display)
    ctx = _Ctx(display)
    if not isinstance(data, Mapping) or not data:
        raise ExperimentError(
            display,
            None,
            "",
            "a mapping of experiment keys (scenario, parameters, ...)",
            _describe(data) if data is not None else "an empty document",
        )
    _check_keys(ctx, data, TOP_KEYS, "", "experiment key")
    base_dir = Path(path).parent

    name = _text(ctx, data, "name", "", Path(path).stem)
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        ctx.fail(
            data,
            "name",
            "name",
            "a name of letters, digits, '_', '-' or '.' (used as a folder name)",
            _describe(name),
        )
    description = data.get("description") or ""
    if not isinstance(description, str):
        ctx.fail(data, "description", "description", "a string", _describe(description))
    seed = _int(ctx, data, "seed", "", 0, 2**63 - 1, 0)
    reps = _int(ctx, data, "replicates", "", 1, MAX_REPLICATES, 1)
    if replicates is not None:
        if not 1 <= replicates <= MAX_REPLICATES:
            raise ExperimentError(
                "--replicates", None, "", f"an integer in [1, {MAX_REPLICATES}]", str(replicates)
            )
        reps = replicates
    steps = _int(ctx, data, "steps", "", 1, loader.MAX_STEPS, None)

    scenario_ref = _text(ctx, data, "scenario", "")
    scenario_path = _resolve_scenario(ctx, data, scenario_ref, base_dir)
    base = _base_scenario(ctx, data, scenario_path, steps, display)

    design = _design(ctx, data, seed)
    params = _parameters(ctx, data, design, base, display)
    outcomes = _outcomes(ctx, data, base, params)
    timeseries = _timeseries(ctx, data)
    overrides = _plain(dict(data.get("overrides") or {}))

    exp = Experiment(
        name=name,
        path=display,
        scenario=scenario_ref,
        scenario_path=str(scenario_path),
        base=base,
        parameters=params,
        design=design,
        outcomes=outcomes,
        seed=seed,
        replicates=reps,
        steps=steps,
        overrides=overrides,
        timeseries=timeseries,
        description=description.strip(),
        source_text=text,
    )
    n = exp.n_points()
    if n * reps > MAX_POINTS:
        ctx.fail(
            data,
            "design",
            "design",
            f"at most {MAX_POINTS:,} runs",
            f"{n:,} points x {reps} replicates",
        )
    return exp


def _resolve_scenario(ctx: _Ctx, data: Mapping, ref: str, base_dir: Path) -> Path:
    candidate = base_dir / ref
    if candidate.is_file():
        return candidate
    try:
        return loader.resolve_scenario_path(ref)
    except ScenarioError as exc:
        ctx.fail(
            data,
            "scenario",
            "scenario",
            f"a scenario file (relative to {base_dir or '.'}) or a bundled scenario name",
            f"{ref!r}, which was not found",
            exc.hint,
        )
        raise  # pragma: no cover


def _base_scenario(
    ctx: _Ctx, data: Mapping, scenario_path: Path, steps: int | None, display: str
) -> dict:
    """Resolved base scenario with the experiment's overrides (and steps) applied and checked."""
    base = loader.resolved_scenario_dict(scenario_path)
    raw = data.get("overrides")
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        ctx.fail(
            data,
            "overrides",
            "overrides",
            "a mapping of dotted scenario path -> value",
            _describe(raw),
        )
    overrides = dict(raw)
    if steps is not None:
        overrides["steps"] = steps
    for key in raw:
        if not isinstance(key, str):
            ctx.fail(raw, key, "overrides", "dotted scenario paths as keys", _describe(key))
        try:
            loader.apply_overrides(base, {key: raw[key]}, source=display)
        except ScenarioError as exc:
            ctx.fail(raw, key, f"overrides.{key}", exc.expected, exc.got, exc.hint)
    try:
        tree = loader.apply_overrides(base, overrides, source=display)
        scenario = loader.scenario_from_dict(tree, display)
    except ScenarioError as exc:
        key = exc.key_path
        inner = f"scenario key {key}: " if key else ""
        line = ctx.line(data, "steps") if steps is not None and key.startswith("events") else None
        line = line or ctx.line(data, "overrides")
        raise ExperimentError(
            display,
            line,
            "overrides" if raw else "steps",
            f"{inner}{exc.expected}",
            exc.got,
            exc.hint,
        ) from None
    return loader.scenario_to_dict(scenario)


def _design(ctx: _Ctx, data: Mapping, root_seed: int) -> DesignSpec:
    raw = data.get("design", _MISSING)
    if raw is _MISSING or raw is None:
        raw = {"type": "grid"}
    if isinstance(raw, str):
        raw = {"type": raw}
    if not isinstance(raw, Mapping):
        ctx.fail(
            data,
            "design",
            "design",
            "a mapping with type (grid, random, lhs, sobol, morris)",
            _describe(raw),
        )
    _check_keys(ctx, raw, DESIGN_KEYS, "design", "design key")
    kind = _choice(ctx, raw, "type", "design", DESIGNS, "grid")
    seed = _int(ctx, raw, "seed", "design", 0, 2**63 - 1, root_seed)
    samples = raw.get("samples")
    if kind == "grid":
        for key in ("samples", "levels", "second_order"):
            if key in raw:
                ctx.fail(
                    raw,
                    key,
                    f"design.{key}",
                    "no such key for a grid design (each parameter lists its values)",
                    f"{key}: {_describe(raw[key])}",
                )
        return DesignSpec("grid", seed)
    samples = _int(ctx, raw, "samples", "design", 1, MAX_POINTS)
    if kind == "sobol":
        if samples & (samples - 1):
            lo = 1 << (samples.bit_length() - 1)
            ctx.fail(
                raw,
                "samples",
                "design.samples",
                "a power of 2 (Saltelli base samples N)",
                str(samples),
                f"try {lo} or {lo * 2}",
            )
    elif "second_order" in raw:
        ctx.fail(
            raw,
            "second_order",
            "design.second_order",
            "second_order only with a sobol design",
            _describe(raw["second_order"]),
        )
    levels = 4
    if kind == "morris":
        levels = _int(ctx, raw, "levels", "design", 2, 1000, 4)
        if levels % 2:
            ctx.fail(raw, "levels", "design.levels", "an even number of Morris levels", str(levels))
    elif "levels" in raw:
        ctx.fail(
            raw,
            "levels",
            "design.levels",
            "levels only with a morris design",
            _describe(raw["levels"]),
        )
    second = _bool(ctx, raw, "second_order", "design", False)
    return DesignSpec(kind, seed, samples, levels, second)


def _parameters(
    ctx: _Ctx, data: Mapping, design: DesignSpec, base: dict, display: str
) -> tuple[ParameterSpec, ...]:
    raw = data.get("parameters", _MISSING)
    if raw is _MISSING or raw is None:
        ctx.fail(
            data,
            "parameters",
            "parameters",
            "a list of parameters to vary (path, values or range)",
            "nothing",
        )
    if not isinstance(raw, list):
        ctx.fail(
            data,
            "parameters",
            "parameters",
            "a list of parameters to vary (path, values or range)",
            _describe(raw),
        )
    items = raw
    if not items:
        ctx.fail(
            data, "parameters", "parameters", "at least one parameter to vary", "an empty list"
        )
    specs: list[ParameterSpec] = []
    seen_paths: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    for i, entry in enumerate(items):
        path = f"parameters[{i}]"
        if not isinstance(entry, Mapping):
            ctx.fail(raw, i, path, "a mapping with path and values or range", _describe(entry))
        where = entry
        spec = _parameter(ctx, entry, path, design)
        if spec.path in seen_paths:
            ctx.fail(
                where,
                "path",
                f"{path}.path",
                "each scenario path varied once",
                f"{spec.path!r} again (also {seen_paths[spec.path]})",
            )
        if spec.name in seen_names or spec.name in RUN_COLUMNS:
            other = seen_names.get(spec.name, "a runs-table column")
            ctx.fail(
                where,
                "name",
                f"{path}.name",
                "a unique column name",
                f"{spec.name!r} (also {other})",
            )
        seen_paths[spec.path] = seen_names[spec.name] = path
        _probe(ctx, where, path, spec, base, display)
        specs.append(spec)
    return tuple(specs)


def _parameter(ctx: _Ctx, entry: Mapping, path: str, design: DesignSpec) -> ParameterSpec:
    _check_keys(ctx, entry, PARAMETER_KEYS, path, "parameter key")
    dotted = _text(ctx, entry, "path", path)
    name = _text(ctx, entry, "name", path, dotted)
    if not _NAME_RE.match(name):
        ctx.fail(
            entry,
            "name",
            f"{path}.name",
            "a column name of letters, digits, '_', '.', '-'",
            _describe(name),
        )
    integer = _bool(ctx, entry, "integer", path, False)
    has_values, has_range = entry.get("values") is not None, entry.get("range") is not None
    if has_values == has_range:
        ctx.fail(
            entry,
            "path",
            path,
            "exactly one of values (a list) or range ([low, high])",
            "both" if has_values else "neither",
        )
    if has_values:
        values = entry["values"]
        if not isinstance(values, list) or not values:
            ctx.fail(
                entry, "values", f"{path}.values", "a non-empty list of values", _describe(values)
            )
        kinds = set()
        for j, v in enumerate(values):
            if _is_number(v):
                kinds.add("number")
            elif isinstance(v, str | bool):
                kinds.add(type(v).__name__)
            else:
                ctx.fail(
                    values, j, f"{path}.values[{j}]", "a number, string or boolean", _describe(v)
                )
        if len(kinds) > 1:
            ctx.fail(
                entry,
                "values",
                f"{path}.values",
                "values of one kind (all numbers, all strings or all booleans)",
                "a mix",
            )
        if len(set(map(repr, values))) != len(values):
            ctx.fail(
                entry,
                "values",
                f"{path}.values",
                "distinct values",
                _describe(values) + " with repeats",
            )
        if integer:
            if kinds != {"number"} or any(float(v) != int(v) for v in values):
                ctx.fail(
                    entry,
                    "values",
                    f"{path}.values",
                    "whole numbers (integer: true)",
                    _describe(values),
                )
            values = [int(v) for v in values]
        for k in ("levels", "distribution", "mode", "mean", "sd"):
            if k in entry:
                ctx.fail(
                    entry,
                    k,
                    f"{path}.{k}",
                    f"{k} only with a range (not with values)",
                    _describe(entry[k]),
                )
        return ParameterSpec(dotted, name, values=tuple(_plain(values)), integer=integer)

    rng_raw = entry["range"]
    if (
        not isinstance(rng_raw, list)
        or len(rng_raw) != 2
        or not all(_is_number(v) for v in rng_raw)
        or not rng_raw[0] < rng_raw[1]
    ):
        ctx.fail(
            entry,
            "range",
            f"{path}.range",
            "[low, high], two numbers with low < high",
            _describe(rng_raw) if not isinstance(rng_raw, list) else str(rng_raw),
        )
    low, high = float(rng_raw[0]), float(rng_raw[1])
    dist = _choice(ctx, entry, "distribution", path, DISTRIBUTIONS, "uniform")
    mode = mean = sd = None
    if dist == "loguniform" and low <= 0:
        ctx.fail(
            entry,
            "range",
            f"{path}.range",
            "a range above 0 for a loguniform distribution",
            str(rng_raw),
        )
    if dist == "normal":
        mean = _number(ctx, entry, "mean", path, (low + high) / 2)
        sd = _number(ctx, entry, "sd", path)
        if sd <= 0:
            ctx.fail(entry, "sd", f"{path}.sd", "a standard deviation > 0", _describe(entry["sd"]))
    else:
        for k in ("mean", "sd"):
            if k in entry:
                ctx.fail(
                    entry,
                    k,
                    f"{path}.{k}",
                    f"{k} only with distribution: normal",
                    _describe(entry[k]),
                )
    if dist == "triangular":
        mode = _number(ctx, entry, "mode", path)
        if not low <= mode <= high:
            ctx.fail(
                entry,
                "mode",
                f"{path}.mode",
                f"a mode in the range [{low:g}, {high:g}]",
                _describe(entry["mode"]),
            )
    elif "mode" in entry:
        ctx.fail(
            entry,
            "mode",
            f"{path}.mode",
            "mode only with distribution: triangular",
            _describe(entry["mode"]),
        )
    if integer and math.floor(high) < math.ceil(low):
        ctx.fail(
            entry,
            "range",
            f"{path}.range",
            "a range containing a whole number (integer: true)",
            str(rng_raw),
        )
    levels = None
    if design.type == "grid":
        if "levels" not in entry:
            ctx.fail(
                entry,
                "range",
                path,
                "values (a list) or range with levels (a grid design needs levels)",
                "a range without levels",
            )
        if dist in ("normal", "triangular"):
            ctx.fail(
                entry,
                "distribution",
                f"{path}.distribution",
                "uniform or loguniform spacing for a grid",
                dist,
            )
        levels = _int(ctx, entry, "levels", path, 2, 10_000)
    elif "levels" in entry:
        ctx.fail(
            entry,
            "levels",
            f"{path}.levels",
            f"levels only with a grid design (this is {design.type}; use design.samples)",
            _describe(entry["levels"]),
        )
    spec = ParameterSpec(
        dotted,
        name,
        low=low,
        high=high,
        levels=levels,
        distribution=dist,
        mode=mode,
        mean=mean,
        sd=sd,
        integer=integer,
    )
    if levels is not None and len(set(spec.grid_values())) != levels:
        ctx.fail(
            entry,
            "levels",
            f"{path}.levels",
            f"at most {int(high) - math.ceil(low) + 1} levels for a whole-number range",
            str(levels),
        )
    return spec


def _probe(
    ctx: _Ctx, entry: Mapping, path: str, spec: ParameterSpec, base: dict, display: str
) -> None:
    """Apply the parameter's values one at a time to the base scenario: bad paths or values fail now."""
    try:
        loader.apply_overrides(base, {spec.path: spec.probe_values()[0]}, source=display)
    except ScenarioError as exc:
        ctx.fail(entry, "path", f"{path}.path", exc.expected, exc.got, exc.hint)
    values_key = "values" if spec.is_choice else "range"
    for j, value in enumerate(spec.probe_values()):
        try:
            tree = loader.apply_overrides(base, {spec.path: value}, source=display)
            loader.scenario_from_dict(tree, display)
        except ScenarioError as exc:
            where = f"{path}.values[{j}]" if spec.is_choice else f"{path}.range"
            inner = (
                f"for scenario key {exc.key_path}: "
                if exc.key_path and exc.key_path != spec.path
                else ""
            )
            ctx.fail(entry, values_key, where, f"{inner}{exc.expected}", exc.got, exc.hint)


def _outcomes(
    ctx: _Ctx, data: Mapping, base: dict, params: Sequence[ParameterSpec]
) -> tuple[OutcomeSpec, ...]:
    raw = data.get("outcomes")
    if raw is None:
        return default_outcomes()
    if not isinstance(raw, list) or not raw:
        ctx.fail(
            data,
            "outcomes",
            "outcomes",
            "a non-empty list of outcomes (name, metric, stat)",
            _describe(raw),
        )
    ids = [s["id"] for s in base["states"]]
    out: list[OutcomeSpec] = []
    names: set[str] = set()
    reserved = set(RUN_COLUMNS) | {p.name for p in params}
    for i, entry in enumerate(raw):
        path = f"outcomes[{i}]"
        if not isinstance(entry, Mapping):
            ctx.fail(raw, i, path, "a mapping with name, metric and stat", _describe(entry))
        _check_keys(ctx, entry, OUTCOME_KEYS, path, "outcome key")
        name = _text(ctx, entry, "name", path)
        if not _OUTCOME_NAME_RE.match(name):
            ctx.fail(
                entry,
                "name",
                f"{path}.name",
                "a name of letters, digits and '_' (a column name)",
                _describe(name),
            )
        if name in names or name in reserved:
            ctx.fail(
                entry,
                "name",
                f"{path}.name",
                "a unique outcome name (not a run or parameter column)",
                f"{name!r} again",
            )
        names.add(name)
        table = _choice(ctx, entry, "table", path, TABLES, "world")
        metric = state = between = crisis_outcome = None
        if table == "crises":
            stat = _choice(ctx, entry, "stat", path, CRISIS_STATS, "count")
            if "metric" in entry or "state" in entry:
                bad = "metric" if "metric" in entry else "state"
                ctx.fail(
                    entry,
                    bad,
                    f"{path}.{bad}",
                    "no metric or state for table: crises (use between and outcome)",
                    _describe(entry[bad]),
                )
            if entry.get("between") is not None:
                pair = entry["between"]
                if not isinstance(pair, list) or len(pair) != 2 or pair[0] == pair[1]:
                    ctx.fail(
                        entry,
                        "between",
                        f"{path}.between",
                        "two different state ids [A, B]",
                        _describe(pair),
                    )
                for j, sid in enumerate(pair):
                    if sid not in ids:
                        ctx.fail(
                            pair,
                            j,
                            f"{path}.between[{j}]",
                            "a state id of the base scenario",
                            _describe(sid),
                            _did_you_mean(sid, ids, "known ids"),
                        )
                between = (pair[0], pair[1])
            crisis_outcome = _choice(ctx, entry, "outcome", path, CRISIS_OUTCOMES, None)
        else:
            for k in ("between", "outcome"):
                if k in entry:
                    ctx.fail(
                        entry, k, f"{path}.{k}", f"{k} only with table: crises", _describe(entry[k])
                    )
            metrics = WORLD_METRICS if table == "world" else STATE_METRICS
            metric = _choice(ctx, entry, "metric", path, metrics)
            stat = _choice(ctx, entry, "stat", path, tuple(OUTCOME_STATS), "final")
            if table == "states":
                state = _text(ctx, entry, "state", path)
                if state not in ids:
                    ctx.fail(
                        entry,
                        "state",
                        f"{path}.state",
                        "a state id of the base scenario",
                        _describe(state),
                        _did_you_mean(state, ids, "known ids"),
                    )
            elif "state" in entry:
                ctx.fail(
                    entry,
                    "state",
                    f"{path}.state",
                    "state only with table: states",
                    _describe(entry["state"]),
                )
        per_year = _bool(ctx, entry, "per_year", path, False)
        if per_year and stat not in PER_YEAR_STATS:
            ctx.fail(
                entry,
                "per_year",
                f"{path}.per_year",
                "per_year only with stat sum or count",
                f"stat {stat}",
            )
        threshold = _number(ctx, entry, "threshold", path, 0.0)
        window = _int(ctx, entry, "window", path, 1, loader.MAX_STEPS, None)
        if window is not None and window > int(base["steps"]):
            ctx.fail(
                entry,
                "window",
                f"{path}.window",
                f"a window of at most the run's {base['steps']} steps",
                str(window),
            )
        never = _number(ctx, entry, "never", path, float("nan"))
        if "never" in entry and stat != "first":
            ctx.fail(entry, "never", f"{path}.never", "never only with stat: first", f"stat {stat}")
        below = _number(ctx, entry, "below", path, None)
        above = _number(ctx, entry, "above", path, None)
        desc = entry.get("description") or ""
        if not isinstance(desc, str):
            ctx.fail(entry, "description", f"{path}.description", "a string", _describe(desc))
        out.append(
            OutcomeSpec(
                name=name,
                metric=metric,
                stat=stat,
                table=table,
                state=state,
                between=between,
                outcome=crisis_outcome,
                per_year=per_year,
                threshold=threshold,
                window=window,
                never=never,
                below=below,
                above=above,
                description=desc.strip(),
            )
        )
    return tuple(out)


def _timeseries(ctx: _Ctx, data: Mapping) -> tuple[str, ...]:
    raw = data.get("timeseries")
    if raw is None or raw is False:
        return ()
    if raw == "all" or raw is True:
        return tuple(m for m in WORLD_METRICS)
    if not isinstance(raw, list):
        ctx.fail(
            data, "timeseries", "timeseries", "a list of world metrics (or 'all')", _describe(raw)
        )
    for j, metric in enumerate(raw):
        if not isinstance(metric, str) or metric not in WORLD_METRICS:
            ctx.fail(
                raw,
                j,
                f"timeseries[{j}]",
                "a world metric",
                _describe(metric),
                _did_you_mean(metric, WORLD_METRICS, "world metrics"),
            )
    if len(set(raw)) != len(raw):
        ctx.fail(data, "timeseries", "timeseries", "each metric once", _describe(raw))
    return tuple(raw)


# --------------------------------------------------------------------------------------------
# Designs
# --------------------------------------------------------------------------------------------


@dataclass
class DesignPoints:
    """Expanded design: ``values`` has columns point + one per parameter (name); ``unit`` holds
    the unit-hypercube samples for sampling designs (rows = points), ``problem`` the SALib
    problem they were drawn for (unit bounds)."""

    values: pd.DataFrame
    unit: np.ndarray | None
    problem: dict[str, Any] | None

    def __len__(self) -> int:
        return len(self.values)

    def overrides(self, point: int, experiment: Experiment) -> dict[str, Any]:
        """Scenario overrides of one point: parameter path -> plain Python value."""
        row = self.values.iloc[point]
        return {p.path: _plain(row[p.name]) for p in experiment.parameters}


def salib_problem(parameters: Sequence[ParameterSpec]) -> dict[str, Any]:
    """SALib problem on the unit hypercube (values are mapped through each parameter's ppf)."""
    return {
        "num_vars": len(parameters),
        "names": [p.name for p in parameters],
        "bounds": [[0.0, 1.0]] * len(parameters),
    }


def _column(spec: ParameterSpec, values: Sequence[Any]) -> pd.Series:
    arr = list(values)
    if spec.integer or (
        spec.is_choice and all(isinstance(v, int) and not isinstance(v, bool) for v in arr)
    ):
        return pd.Series(np.asarray(arr, dtype=np.int64))
    if all(isinstance(v, bool | np.bool_) for v in arr):
        return pd.Series(np.asarray(arr, dtype=bool))
    if all(_is_number(v) or isinstance(v, np.number) for v in arr):
        return pd.Series(np.asarray(arr, dtype=np.float64))
    return pd.Series(np.asarray([str(v) for v in arr], dtype=object), dtype="string")


def expand_design(exp: Experiment) -> DesignPoints:
    """The design points of an experiment (deterministic for the design seed)."""
    params, d = exp.parameters, exp.design
    k = len(params)
    unit = problem = None
    if d.type == "grid":
        combos = list(itertools.product(*(p.grid_values() for p in params)))
        cols = {p.name: _column(p, [c[j] for c in combos]) for j, p in enumerate(params)}
    else:
        if d.type == "random":
            unit = np.random.default_rng(d.seed).random((int(d.samples), k))
        elif d.type == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=k, rng=np.random.default_rng(d.seed)).random(int(d.samples))
        elif d.type == "sobol":
            from SALib.sample import sobol as sobol_sample

            problem = salib_problem(params)
            unit = sobol_sample.sample(
                problem, int(d.samples), calc_second_order=d.second_order, seed=d.seed
            )
        else:  # morris
            from SALib.sample import morris as morris_sample

            problem = salib_problem(params)
            unit = morris_sample.sample(problem, int(d.samples), num_levels=d.levels, seed=d.seed)
        cols = {p.name: _column(p, p.from_unit(unit[:, j])) for j, p in enumerate(params)}
    frame = pd.DataFrame(
        {"point": np.arange(len(next(iter(cols.values()))), dtype=np.int64), **cols}
    )
    return DesignPoints(frame, unit, problem)


# --------------------------------------------------------------------------------------------
# Outcomes of one run
# --------------------------------------------------------------------------------------------


def _series_stat(
    spec: OutcomeSpec, steps: np.ndarray, values: np.ndarray, total_steps: int, spy: float
) -> float:
    """One statistic of a recorded series (steps include 0 = initial state)."""
    if values.size == 0:
        return float("nan")
    if spec.stat == "initial":
        return float(values[0]) if steps[0] == 0 else float("nan")
    if spec.stat == "final":
        return float(values[-1])
    if spec.stat == "change":
        return float(values[-1] - values[0])
    lo = 0 if spec.window is None else total_steps - spec.window
    v = values.astype(float)
    mask = (steps > lo) & ~np.isnan(v)  # undefined values (NaN bloc means) are skipped
    s, v = steps[mask], v[mask]
    if v.size == 0:
        return float("nan")
    span_years = (total_steps - lo) / spy
    if spec.stat == "mean":
        return float(v.mean())
    if spec.stat == "min":
        return float(v.min())
    if spec.stat == "max":
        return float(v.max())
    if spec.stat == "std":
        return float(v.std())
    if spec.stat == "sum":
        total = float(v.sum())
        return total / span_years if spec.per_year else total
    above = v > spec.threshold
    if spec.stat == "count":
        n = float(above.sum())
        return n / span_years if spec.per_year else n
    if spec.stat == "fraction":
        return float(above.mean())
    if spec.stat == "first":
        return float(s[above][0]) if above.any() else float(spec.never)
    raise ValueError(f"unknown stat {spec.stat!r}")  # pragma: no cover


def compute_outcomes(
    results: Any, outcomes: Sequence[OutcomeSpec], *, total_steps: int, steps_per_year: float
) -> dict[str, float]:
    """Reduce one run's `sim.core.metrics.Results` to {outcome name: value}."""
    out: dict[str, float] = {}
    world = results.world
    wsteps = world["step"].to_numpy()
    by_state: dict[str, pd.DataFrame] = {}
    for spec in outcomes:
        if spec.table == "world":
            out[spec.name] = _series_stat(
                spec, wsteps, world[spec.metric].to_numpy(), total_steps, steps_per_year
            )
        elif spec.table == "states":
            if spec.state not in by_state:
                states = results.states
                by_state[spec.state] = states[states["state"] == spec.state]
            df = by_state[spec.state]
            out[spec.name] = _series_stat(
                spec, df["step"].to_numpy(), df[spec.metric].to_numpy(), total_steps, steps_per_year
            )
        else:
            crises = results.crises
            mask = np.ones(len(crises), dtype=bool)
            if spec.between is not None:
                a, b = spec.between
                sa, sb = crises["state_a"].to_numpy(), crises["state_b"].to_numpy()
                mask &= ((sa == a) & (sb == b)) | ((sa == b) & (sb == a))
            if spec.outcome is not None:
                mask &= crises["outcome"].to_numpy() == spec.outcome
            lo = 0 if spec.window is None else total_steps - spec.window
            steps = crises["step"].to_numpy()[mask]
            steps = steps[steps > lo]
            if spec.stat == "count":
                n = float(len(steps))
                out[spec.name] = n / ((total_steps - lo) / steps_per_year) if spec.per_year else n
            else:
                out[spec.name] = float(steps.min()) if len(steps) else float(spec.never)
    return out
