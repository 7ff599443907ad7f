"""Policy comparison (``ddsim compare``): paired differences between variants of a scenario.

Every variant runs the same replicates through `sim.experiments.ensemble.run_ensemble`, and
replicate r has the same seed in every variant (common random numbers; the model draws from
one named stream per mechanism, `sim.core.streams`, so a change in one mechanism does not
shift the draws of the others). The differences are therefore paired: for each outcome and
variant, ``d_r = variant_r - base_r`` over the replicates r where both runs finished, and

- ``mean`` is the mean of d_r, with a 95% Student t interval ``mean +- t(0.975, n-1) sd/sqrt(n)``
  (zero width when every d_r is equal, e.g. a variant identical to the base);
- ``effect`` is the standardized effect ``mean / sqrt((var_base + var_variant) / 2)``
  (Cohen's d over the replicates: the difference in units of the outcome's spread between
  seeds, not of the much smaller spread of the paired differences).

A standard deviation below `REL_TOL` times the scale of the values (the largest |value| of
base and variant, at least 1e-12) is floating-point rounding and counts as zero: the
interval then has zero width and a non-zero difference has an infinite effect (``+inf``
/ ``-inf``; shown as ``+∞ (SD 0)``), instead of a difference divided by rounding noise.
A difference below that tolerance is zero.

Per-state and per-dyad outcomes (`focus_outcomes`) are ordinary outcomes of the ensemble
named ``<outcome>@<ID>`` / ``<outcome>@<A>-<B>``, so they are stored, resumed and paired like
the others. `compare_tables` reads a store back into the tables that ``ddsim compare``
writes (`write_tables`): outcomes.parquet, differences.csv, bands.parquet/.csv, states.csv,
dyads.csv. Figures and the report page are drawn in `sim.reports.compare`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.experiments.ensemble import EnsembleResults, load_ensemble
from sim.experiments.outcomes import OutcomeSpec, default_outcomes
from sim.experiments.store import write_atomic
from sim.scenarios.errors import choice_hint

__all__ = [
    "CI_LEVEL",
    "BAND_QUANTILES",
    "ComparisonTables",
    "compare_tables",
    "comparison_outcomes",
    "ensemble_summary",
    "focus_outcomes",
    "paired_differences",
    "parse_dyad",
    "scenario_diff",
    "t_interval",
    "time_bands",
    "welch_interval",
    "write_tables",
]

CI_LEVEL = 0.95
# quantile -> column of the time-series bands: median, 50% and 90% central bands
BAND_QUANTILES = {0.05: "p05", 0.25: "p25", 0.5: "median", 0.75: "p75", 0.95: "p95"}
FOCUS_SEP = "@"
# per-state outcomes of a --state: (name, metric of the states table, stat)
STATE_OUTCOMES = (
    ("mean_max_risk", "max_risk", "mean"),
    ("mean_trust_received", "trust_received", "mean"),
    ("final_hedging", "hedging", "final"),
    ("final_capability", "capability", "final"),
)
# per-dyad outcomes of a --dyad: (name, crisis outcome or None for all crises, stat)
DYAD_OUTCOMES = (
    ("crises_per_year", None, "count"),
    ("incidents_per_year", "incident", "count"),
    ("first_crisis", None, "first"),
)
# per-dyad outcomes of the dyad's recorded series (table dyads): (name, metric, stat)
DYAD_SERIES_OUTCOMES = (
    ("mean_risk", "risk", "mean"),
    ("risk_change", "risk", "change"),
    ("mean_trust_ab", "trust_ab", "mean"),
)

DIFFERENCE_COLUMNS = (
    "outcome",
    "focus",
    "measure",
    "variant",
    "base",
    "n",
    "base_mean",
    "variant_mean",
    "mean",
    "ci_low",
    "ci_high",
    "sd",
    "effect",
)
OUTCOMES_FILE = "outcomes.parquet"
DIFFERENCES_FILE = "differences.csv"
BANDS_FILES = ("bands.parquet", "bands.csv")
STATES_FILE = "states.csv"
DYADS_FILE = "dyads.csv"


# --------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------


def parse_dyad(text: str) -> tuple[str, str]:
    """'CHN-IND' -> ('CHN', 'IND'); InputError (one line) otherwise."""
    parts = str(text).split("-")
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise InputError(
            f"--dyad: expected two different state ids as A-B (e.g. CHN-IND), got {text!r}"
        )
    return parts[0], parts[1]


def _check_ids(option: str, given: Sequence[str], known: Sequence[str], where: str) -> None:
    for sid in given:
        if sid not in known:
            hint = choice_hint(sid, list(known), "known ids")
            raise InputError(
                f"{option}: expected a state id of {where}, got {sid!r}{f' ({hint})' if hint else ''}"
            )


def focus_outcomes(
    states: Sequence[str] = (),
    dyads: Sequence[str] = (),
    known: Sequence[str] | None = None,
    where: str = "the scenario",
) -> tuple[OutcomeSpec, ...]:
    """Per-state outcomes for each id in `states` and per-dyad outcomes for each 'A-B' in
    `dyads` (named ``<outcome>@ID`` and ``<outcome>@A-B``). With `known` (the scenario's
    state ids) an unknown id is an InputError naming the option."""
    specs: list[OutcomeSpec] = []
    pairs = [parse_dyad(d) for d in dyads]
    if known is not None:
        _check_ids("--state", states, known, where)
        _check_ids("--dyad", [s for p in pairs for s in p], known, where)
    for sid in dict.fromkeys(states):
        for name, metric, stat in STATE_OUTCOMES:
            specs.append(
                OutcomeSpec(f"{name}{FOCUS_SEP}{sid}", metric, stat, table="states", state=sid)
            )
    for a, b in dict.fromkeys(pairs):
        for name, kind, stat in DYAD_OUTCOMES:
            specs.append(
                OutcomeSpec(
                    f"{name}{FOCUS_SEP}{a}-{b}",
                    None,
                    stat,
                    table="crises",
                    between=(a, b),
                    outcome=kind,
                    per_year=stat == "count",
                )
            )
        for name, metric, stat in DYAD_SERIES_OUTCOMES:
            specs.append(
                OutcomeSpec(
                    f"{name}{FOCUS_SEP}{a}-{b}", metric, stat, table="dyads", between=(a, b)
                )
            )
    return tuple(specs)


def comparison_outcomes(
    states: Sequence[str] = (),
    dyads: Sequence[str] = (),
    known: Sequence[str] | None = None,
    where: str = "the scenario",
) -> tuple[OutcomeSpec, ...]:
    """The outcomes of a comparison: `default_outcomes()` and the focus outcomes."""
    return (*default_outcomes(), *focus_outcomes(states, dyads, known, where))


def _focus_of(name: str) -> tuple[str, str | None]:
    """('mean_max_risk', 'IND') for 'mean_max_risk@IND'; (name, None) for a plain outcome."""
    if FOCUS_SEP in name:
        head, _, who = name.partition(FOCUS_SEP)
        return head, who
    return name, None


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


REL_TOL = 1e-9  # a spread below REL_TOL x the values' scale is rounding: zero


def negligible(spread: float, scale: float) -> bool:
    """Whether a standard deviation (or difference) is floating-point rounding, i.e. below
    `REL_TOL` times `scale` (the values' largest magnitude, at least 1e-12)."""
    return bool(abs(spread) <= REL_TOL * max(abs(scale), 1e-12))


def t_interval(
    values: Sequence[float] | np.ndarray, level: float = CI_LEVEL, scale: float | None = None
) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the finite `values`: the Student t interval of the mean.
    Zero width when all values are equal, or their standard deviation is `negligible`
    against `scale` (default the largest |value|: pass the scale of the outcome when
    `values` are differences); (nan, nan, nan, n) for fewer than 2 values (the mean
    alone for 1)."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    sd = float(x.std(ddof=1))
    scale = float(np.abs(x).max()) if scale is None else scale
    if sd == 0.0 or np.all(x == x[0]) or negligible(sd, max(scale, abs(mean))):
        return mean, mean, mean, n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half, n


def welch_interval(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, level: float = CI_LEVEL
) -> tuple[float, float, float]:
    """(mean(b) - mean(a), low, high): the Welch t interval of a difference of means of two
    independent samples (what a comparison without common random numbers gets)."""
    from scipy import stats

    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    diff = float(y.mean() - x.mean())
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(vx + vy)
    if se == 0.0:
        return diff, diff, diff
    dof = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * se
    return diff, diff - half, diff + half


def paired_differences(
    ens: EnsembleResults, base: str | None = None, level: float = CI_LEVEL
) -> pd.DataFrame:
    """Per outcome and variant (other than `base`, default the first variant): the paired
    differences variant - base over the replicates where both are finite.

    Columns: outcome, focus (state id, 'A-B' or ''), measure (the outcome without its focus),
    variant, base, n, base_mean, variant_mean, mean, ci_low, ci_high, sd, effect."""
    names = ens.variant_names
    base = base or names[0]
    if base not in names:
        raise InputError(f"base: expected one of the variants {names}, got {base!r}")
    rows = []
    for outcome in ens.outcome_names:
        wide = ens.paired(outcome)
        measure, focus = _focus_of(outcome)
        for v in names:
            if v == base:
                continue
            pair = wide[[base, v]].astype(float)
            pair = pair[np.isfinite(pair).all(axis=1)]
            d = (pair[v] - pair[base]).to_numpy()
            scale = float(np.abs(pair.to_numpy()).max()) if len(pair) else 0.0
            mean, lo, hi, n = t_interval(d, level, scale=scale)
            if n and negligible(mean, scale):  # rounding, not a difference
                mean = 0.0
                if lo == hi:
                    lo = hi = 0.0
            sd = float(d.std(ddof=1)) if n > 1 else math.nan
            if n > 1 and lo == hi:
                sd = 0.0  # all differences equal up to rounding
            spread = (
                math.sqrt((pair[base].var(ddof=1) + pair[v].var(ddof=1)) / 2) if n > 1 else math.nan
            )
            if n and mean == 0.0:
                effect = 0.0
            elif n > 1 and negligible(spread, scale):
                effect = math.copysign(math.inf, mean)  # no spread between seeds at all
            elif spread and math.isfinite(spread):
                effect = mean / spread
            else:
                effect = math.nan
            rows.append(
                {
                    "outcome": outcome,
                    "focus": focus or "",
                    "measure": measure,
                    "variant": v,
                    "base": base,
                    "n": n,
                    "base_mean": float(pair[base].mean()) if n else math.nan,
                    "variant_mean": float(pair[v].mean()) if n else math.nan,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "sd": sd,
                    "effect": effect,
                }
            )
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def time_bands(ens: EnsembleResults) -> pd.DataFrame:
    """Per variant, world metric and step, over the replicates: n, p05, p25, median, p75,
    p95 (median with 50% and 90% central bands). Long format."""
    ts = ens.timeseries
    metrics = [c for c in ts.columns if c not in ("run_id", "variant", "replicate", "step")]
    if ts.empty or not metrics:
        return pd.DataFrame(columns=["variant", "metric", "step", "n", *BAND_QUANTILES.values()])
    long = ts.melt(
        id_vars=["variant", "step"], value_vars=metrics, var_name="metric", value_name="value"
    )
    grouped = long.groupby(["variant", "metric", "step"], sort=False)["value"]
    out = grouped.quantile(list(BAND_QUANTILES)).unstack()
    out.columns = list(BAND_QUANTILES.values())
    out.insert(0, "n", grouped.count())
    out = out.reset_index()
    order = {v: k for k, v in enumerate(ens.variant_names)}
    out["_v"] = out["variant"].map(order)
    out = out.sort_values(["_v", "metric", "step"], kind="stable").drop(columns="_v")
    return out.reset_index(drop=True)


def ensemble_summary(ens: EnsembleResults) -> pd.DataFrame:
    """Per variant and outcome, over the replicates (ok runs, finite values): n, mean, p05,
    p25, median, p75, p95 (``ddsim run --replicates``: the median with its 50% and 90%
    intervals). A first crisis that never happened is left out (n says how many remain)."""
    rows = []
    for v in ens.variant_names:
        mine = ens.outcomes[ens.outcomes["variant"] == v]
        for outcome in ens.outcome_names:
            x = mine[outcome].astype(float).to_numpy()
            x = x[np.isfinite(x)]
            q = np.quantile(x, list(BAND_QUANTILES)) if x.size else [math.nan] * len(BAND_QUANTILES)
            row = {"variant": v, "outcome": outcome, "n": int(x.size)}
            row["mean"] = float(x.mean()) if x.size else math.nan
            row.update(
                {name: float(val) for name, val in zip(BAND_QUANTILES.values(), q, strict=True)}
            )
            rows.append(row)
    return pd.DataFrame(rows, columns=["variant", "outcome", "n", "mean", *BAND_QUANTILES.values()])


# --------------------------------------------------------------------------------------------
# What changed between the scenarios
# --------------------------------------------------------------------------------------------


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths -> values; states keyed by id, events compared as a whole list."""
    out: dict[str, Any] = {}
    if isinstance(tree, Mapping):
        for k, v in tree.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if k == "events" and not prefix:
                out[key] = v
            else:
                out.update(_flatten(v, key))
    elif (
        isinstance(tree, list) and tree and all(isinstance(x, Mapping) and "id" in x for x in tree)
    ):
        for x in tree:
            out.update(_flatten({k: v for k, v in x.items() if k != "id"}, f"{prefix}.{x['id']}"))
    else:
        out[prefix] = tree
    return out


def _short(value: Any, width: int = 70) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def scenario_diff(base: Mapping[str, Any], other: Mapping[str, Any], limit: int = 40) -> list[str]:
    """What `other` changes against `base` (resolved scenario trees), one line per change:
    'governance.transparency: 0.3 -> 0.8', 'events: + {...}'. At most `limit` lines."""
    a, b = _flatten(base), _flatten(other)
    lines = []
    for key in (
        [k for k in a if k in b] + [k for k in b if k not in a] + [k for k in a if k not in b]
    ):
        if key == "events":
            continue
        if key not in b:
            lines.append(f"{key}: removed (was {_short(a[key])})")
        elif key not in a:
            lines.append(f"{key}: added {_short(b[key])}")
        elif a[key] != b[key]:
            lines.append(f"{key}: {_short(a[key], 40)} -> {_short(b[key], 40)}")
    ea = [json.dumps(e, sort_keys=True, default=str) for e in a.get("events") or []]
    eb = [json.dumps(e, sort_keys=True, default=str) for e in b.get("events") or []]
    for e in eb:
        if e in ea:
            ea.remove(e)
        else:
            lines.append(f"event added: {_short(json.loads(e), 110)}")
    lines += [f"event removed: {_short(json.loads(e), 110)}" for e in ea]
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more changes"]
    return lines


# --------------------------------------------------------------------------------------------
# The tables of a comparison
# --------------------------------------------------------------------------------------------


@dataclass
class ComparisonTables:
    """Everything ``ddsim compare`` writes, as DataFrames, with the ensemble it came from."""

    ensemble: EnsembleResults
    base: str
    outcomes: pd.DataFrame  # long: variant, replicate, seed, outcome, value
    differences: pd.DataFrame
    bands: pd.DataFrame
    diffs: dict[str, list[str]]  # variant -> what changed against the base

    @property
    def states(self) -> pd.DataFrame:
        """The per-state differences (--state)."""
        d = self.differences
        return d[(d["focus"] != "") & ~d["focus"].str.contains("-")].reset_index(drop=True)

    @property
    def dyads(self) -> pd.DataFrame:
        """The per-dyad differences (--dyad)."""
        d = self.differences
        return d[d["focus"].str.contains("-")].reset_index(drop=True)

    @property
    def main(self) -> pd.DataFrame:
        """The differences of the scenario-wide outcomes."""
        return self.differences[self.differences["focus"] == ""].reset_index(drop=True)

    def spec(self, outcome: str) -> dict[str, Any]:
        """The outcome's spec as stored in the manifest."""
        for o in self.ensemble.manifest.get("outcomes", []):
            if o["name"] == outcome:
                return o
        return {"name": outcome}


def compare_tables(out: str | Path | EnsembleResults, base: str | None = None) -> ComparisonTables:
    """Read a comparison (an ensemble store) into its tables; `base`: default the first
    variant."""
    from sim.scenarios import loader

    ens = out if isinstance(out, EnsembleResults) else load_ensemble(out)
    if not ens.variants:
        raise InputError(f"{ens.path}: the store holds no variants")
    base = base or ens.variant_names[0]
    seeds = ens.runs[["run_id", "seed"]]
    wide = ens.outcomes.merge(seeds, on="run_id", how="left")
    long = wide.melt(
        id_vars=["variant", "replicate", "seed"],
        value_vars=ens.outcome_names,
        var_name="outcome",
        value_name="value",
    )
    long = long.sort_values(["outcome", "variant", "replicate"], kind="stable").reset_index(
        drop=True
    )
    trees = {
        v.name: loader.resolved_scenario_dict(v.scenario, v.plain_overrides()) for v in ens.variants
    }
    diffs = {n: scenario_diff(trees[base], t) for n, t in trees.items() if n != base}
    return ComparisonTables(ens, base, long, paired_differences(ens, base), time_bands(ens), diffs)


def write_tables(tables: ComparisonTables, out: str | Path) -> list[Path]:
    """outcomes.parquet, differences.csv, bands.parquet, bands.csv, and states.csv / dyads.csv
    when there are per-state / per-dyad outcomes; written atomically into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, frame: pd.DataFrame) -> None:
        import io

        buf = io.BytesIO()
        if name.endswith(".parquet"):
            frame.to_parquet(buf, index=False)
        else:
            buf.write(frame.to_csv(index=False, float_format="%.6g").encode())
        write_atomic(out / name, buf.getvalue())
        written.append(out / name)

    put(OUTCOMES_FILE, tables.outcomes)
    put(DIFFERENCES_FILE, tables.differences)
    for name in BANDS_FILES:
        put(name, tables.bands)
    if len(tables.states):
        put(STATES_FILE, tables.states)
    if len(tables.dyads):
        put(DYADS_FILE, tables.dyads)
    return written
