"""Experiment designs: the varied parameters, how points are sampled, and the run seeds.

`ParameterSpec` is one varied input (listed values, or a range with a distribution);
`DesignSpec` how points are chosen (full factorial grid, random, Latin hypercube, Sobol or
Morris); `expand_design` turns them into a table of points; `run_seed` gives the seed of one
run from (root seed, point, replicate) alone.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from sim.experiments.experiment import Experiment

__all__ = [
    "DESIGNS",
    "DISTRIBUTIONS",
    "MAX_POINTS",
    "DesignPoints",
    "DesignSpec",
    "ParameterSpec",
    "expand_design",
    "plain",
    "run_id",
    "run_seed",
    "salib_problem",
]

DESIGNS = ("grid", "random", "lhs", "sobol", "morris")
DISTRIBUTIONS = ("uniform", "loguniform", "normal", "triangular")
MAX_POINTS = 10_000_000


def plain(value: Any) -> Any:
    """numpy scalars -> Python numbers; containers recursively (for JSON, YAML and overrides)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and type(value) is not float:  # e.g. a YAML 1e9 (ExpFloat)
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


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
        return [plain(v) for v in vals]

    def to_dict(self) -> dict[str, Any]:
        """Plain description (for the manifest and the design hash)."""
        return {k: plain(v) for k, v in asdict(self).items() if v is not None}


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

    def n_points(self, parameters: Sequence[ParameterSpec]) -> int:
        """Number of design points for these parameters (without building them)."""
        k = len(parameters)
        if self.type == "grid":
            return math.prod(len(p.grid_values()) for p in parameters)
        if self.type in ("random", "lhs"):
            return int(self.samples or 0)
        if self.type == "sobol":
            return int(self.samples or 0) * ((2 * k + 2) if self.second_order else (k + 2))
        return int(self.samples or 0) * (k + 1)


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
# Expansion
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
        return {p.path: plain(row[p.name]) for p in experiment.parameters}


def salib_problem(parameters: Sequence[ParameterSpec | str]) -> dict[str, Any]:
    """SALib problem on the unit hypercube (values are mapped through each parameter's ppf);
    parameters given as specs or as their names."""
    names = [p if isinstance(p, str) else p.name for p in parameters]
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


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
