"""Outcomes: named summary statistics of one run (what a sweep measures).

An `OutcomeSpec` names a metric of the world or states table, or the crisis log, and a
statistic over the run (`OUTCOME_STATS`); `compute_outcomes` reduces one run's tables to
{outcome name: value}. Per-year rates and windows use the run's own length and time unit
(from ``results.meta``), so a sweep that varies ``steps`` gets each run's rate right.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from sim.core.crises import WAR
from sim.core.metrics import STATE_COLUMNS, WORLD_COLUMNS
from sim.experiments.design import plain
from sim.scenarios.schema import TIME_UNITS

__all__ = [
    "CRISIS_OUTCOMES",
    "DYAD_METRICS",
    "CRISIS_STATS",
    "OUTCOME_STATS",
    "PER_YEAR_STATS",
    "STATE_METRICS",
    "TABLES",
    "WORLD_METRICS",
    "OutcomeSpec",
    "compute_outcomes",
    "default_outcomes",
]

TABLES = ("world", "states", "crises", "dyads")
# dyads table: a dyad's series, recorded only for the dyads an outcome names
DYAD_METRICS = ("risk", "trust_ab", "trust_ba", "interoperability", "hostility")
CRISIS_OUTCOMES = ("deescalated", "incident", "war")  # war: scripted (`war_shock` events)
WORLD_METRICS = tuple(c for c in WORLD_COLUMNS if c != "step")
STATE_METRICS = tuple(STATE_COLUMNS)
# stat -> one-line meaning (docs/sweeps.md shows them)
OUTCOME_STATS = {
    "final": "value at the last recorded step",
    "initial": "value at step 0 (before the first step)",
    "mean": "mean over the recorded steps 1..T (or the last `window` steps)",
    "min": "minimum over the steps",
    "max": "maximum over the steps",
    "std": "standard deviation over the steps",
    "sum": "sum over the steps (flows such as crises: the total); per_year divides by years",
    "count": "number of recorded steps with value > threshold (crises table: number of model "
    "crises, without scripted wars unless `outcome: war`)",
    "fraction": "share of recorded steps with value > threshold",
    "first": "first step with value > threshold (crises table: first model crisis); `never` if none",
    "change": "final minus initial value",
}
CRISIS_STATS = ("count", "first")
PER_YEAR_STATS = ("sum", "count")


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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutcomeSpec:
        """The spec of a plain description (`to_dict`, e.g. from a sweep manifest)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("between") is not None:
            values["between"] = tuple(values["between"])
        if values.get("never") is None:
            values.pop("never", None)
        values.setdefault("metric", None)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain description (NaN written as null)."""
        out = {k: plain(v) for k, v in asdict(self).items() if v is not None and v != ""}
        if isinstance(out.get("never"), float) and math.isnan(out["never"]):
            out.pop("never")
        return out

    @property
    def has_target(self) -> bool:
        """True when the outcome has a target (``below`` or ``above``) for the analysis."""
        return self.below is not None or self.above is not None

    def target_text(self) -> str | None:
        """'< 1' / '> 0.5' when the outcome has a target for the analysis, else None."""
        if self.below is not None:
            return f"< {self.below:g}"
        if self.above is not None:
            return f"> {self.above:g}"
        return None

    def meets(self, values: np.ndarray) -> np.ndarray:
        """Boolean array: which values meet the target (all True when there is none; NaN and
        infinite values never meet a target)."""
        values = np.asarray(values, dtype=float)
        if not self.has_target:
            return np.ones(values.shape, dtype=bool)
        ok = np.isfinite(values)
        with np.errstate(invalid="ignore"):
            if self.below is not None:
                ok &= values < self.below
            if self.above is not None:
                ok &= values > self.above
        return ok


def default_outcomes() -> tuple[OutcomeSpec, ...]:
    """Outcomes recorded when an experiment names none (and by `sim.experiments.sweep.run_one`)."""
    return (
        # the world table's counters: model crises and incidents (scripted wars are counted
        # apart, in `wars`), so that every default outcome is a world-table one
        OutcomeSpec("crises_per_year", "crises", "sum", per_year=True),
        OutcomeSpec("incidents_per_year", "incidents", "sum", per_year=True),
        OutcomeSpec("first_crisis", "crises", "first"),
        OutcomeSpec("mean_risk", "mean_risk", "mean"),
        OutcomeSpec("final_mean_trust", "mean_trust", "final"),
        OutcomeSpec("final_polarization", "polarization", "final"),
        OutcomeSpec("final_n_blocs", "n_blocs", "final"),
    )


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


def run_length(
    results: Any, total_steps: int | None = None, steps_per_year: float | None = None
) -> tuple[int, float]:
    """(steps, steps per year) of the run that produced `results`: its own (``meta``), else
    the values given, else the last recorded step and monthly steps."""
    meta = getattr(results, "meta", None) or {}
    steps = meta.get("steps")
    if steps is None:
        steps = total_steps if total_steps is not None else int(results.world["step"].max())
    unit = meta.get("time_unit")
    if unit in TIME_UNITS:
        spy = 12.0 / TIME_UNITS[unit]
    else:
        spy = float(steps_per_year) if steps_per_year is not None else 12.0
    return int(steps), spy


def compute_outcomes(
    results: Any,
    outcomes: Sequence[OutcomeSpec],
    *,
    total_steps: int | None = None,
    steps_per_year: float | None = None,
) -> dict[str, float]:
    """Reduce one run's `sim.core.metrics.Results` to {outcome name: value}.

    Per-year values and windows use the run's own length (``results.meta["steps"]``) and
    time unit; ``total_steps`` and ``steps_per_year`` are used only for results without them.
    """
    total_steps, steps_per_year = run_length(results, total_steps, steps_per_year)
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
        elif spec.table == "dyads":
            a, b = spec.between
            dyads = results.dyads
            if dyads is None:
                raise ValueError(f"outcome {spec.name}: the run recorded no dyads")
            sa, sb = dyads["state_a"].to_numpy(), dyads["state_b"].to_numpy()
            df = dyads[((sa == a) & (sb == b)) | ((sa == b) & (sb == a))]
            values = df[spec.metric].to_numpy()
            if (
                sa.size
                and df.size
                and df["state_a"].iloc[0] == b
                and spec.metric.endswith(("_ab", "_ba"))
            ):  # recorded as (b, a): the directed metric of (a, b) is the other column
                other = spec.metric[:-3] + ("_ba" if spec.metric.endswith("_ab") else "_ab")
                values = df[other].to_numpy()
            out[spec.name] = _series_stat(
                spec, df["step"].to_numpy(), values, total_steps, steps_per_year
            )
        else:
            crises = results.crises
            mask = np.ones(len(crises), dtype=bool)
            if spec.between is not None:
                a, b = spec.between
                sa, sb = crises["state_a"].to_numpy(), crises["state_b"].to_numpy()
                mask &= ((sa == a) & (sb == b)) | ((sa == b) & (sb == a))
            outcome = crises["outcome"].to_numpy()
            if spec.outcome is not None:
                mask &= outcome == spec.outcome
            else:  # model crises only: a war is a scripted input (`war_shock`), not a crisis
                mask &= outcome != WAR
            lo = 0 if spec.window is None else total_steps - spec.window
            steps = crises["step"].to_numpy()[mask]
            steps = steps[steps > lo]
            if spec.stat == "count":
                n = float(len(steps))
                out[spec.name] = n / ((total_steps - lo) / steps_per_year) if spec.per_year else n
            else:
                out[spec.name] = float(steps.min()) if len(steps) else float(spec.never)
    return out
