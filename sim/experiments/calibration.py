"""Calibration of a few model parameters on the calibration window 2000 -> 2010 only, and
their held-out check on 2010 -> 2018 and 2018 -> 2024 (``scripts/calibrate.py``).

Objective of a parameter point (higher is better), over `REGIONS` at `WINDOW`:

    objective = mean over regions of skill(region) - TEMPO_WEIGHT * mean tempo penalty

- skill(region): the mean, over the replicates' scores, of each score mapped to "0 = no
  skill, up = better": AUC - 0.5 for the five AUCs, r / 2, hit share / 2, ARI / 2 and
  -MAE / 100 (`SKILL`; AUPR is left out, it ranks the same dyads as the tie AUC). Scores
  NaN in a window are left out of its mean.
- tempo penalty: exercises per year of the model (mean over replicates) against the MME
  exercises per year among the same states in the window: 0 inside the range of the
  observed yearly counts, else |log| of the ratio to the nearest end of that range
  (`tempo_band`). MME gives 31-58 a year in middle_east, 45-95 in indo_pacific and 45-88
  in europe for 2000-09.

Search: a Latin hypercube (scipy.stats.qmc, through `ParameterSpec.from_unit` of
`sim.experiments.design`) over `PARAMETERS`, then a refinement hypercube in a box of
half-width `REFINE_HALF_WIDTH` (unit coordinates) around the best point. Every point runs
through `run_ensemble` (the points are the variants, with common random numbers), so a
search is resumable and can use workers or Dask.

The held-out windows are never used to choose anything: `held_out` scores the chosen
point and the defaults there, once, with the same regions and replicates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.design import ParameterSpec
from sim.experiments.ensemble import Variant, run_ensemble
from sim.experiments.hindcast import EXTRACT, STEPS_PER_YEAR, score_runs
from sim.experiments.observed import observe
from sim.experiments.scoring import SCORES
from sim.scenarios.builder import build_scenario
from sim.scenarios.sources import load_sources

WINDOW = (2000, 2010)
HELD_OUT = ((2010, 2018), (2018, 2024))
REGIONS = ("indo_pacific", "europe", "middle_east")
TEMPO_WEIGHT = 0.2
REFINE_HALF_WIDTH = 0.15
PARAMETERS = (
    ParameterSpec(
        "parameters.cost_exercise", "cost_exercise", low=1.0, high=4.0, distribution="loguniform"
    ),
    ParameterSpec(
        "parameters.export_capacity",
        "export_capacity",
        low=0.25,
        high=4.0,
        distribution="loguniform",
    ),
    ParameterSpec(
        "parameters.trust_relaxation",
        "trust_relaxation",
        low=0.005,
        high=0.08,
        distribution="loguniform",
    ),
    ParameterSpec(
        "parameters.crisis_rate", "crisis_rate", low=0.02, high=0.3, distribution="loguniform"
    ),
)
AUCS = (
    "exercise_ties_auc",
    "exercise_new_ties_auc",
    "agreement_new_auc",
    "arms_new_links_auc",
    "alliance_change",
)
SKILL = {name: (lambda v: v - 0.5) for name in AUCS} | {
    "arms_flow_r": lambda v: v / 2,
    "arms_main_supplier_hit": lambda v: v / 2,
    "bloc_ari": lambda v: v / 2,
    "arms_exporter_share_mae": lambda v: -v / 100,
}
assert set(SKILL) <= set(SCORES)


def skill(scores: Mapping[str, float]) -> float:
    """Mean skill of one run's (or a mean run's) scores; NaN scores left out."""
    vals = [f(scores[k]) for k, f in SKILL.items() if np.isfinite(scores.get(k, np.nan))]
    return float(np.mean(vals)) if vals else float("nan")


def tempo_band(start: int, end: int, ids: Sequence[str]) -> tuple[float, float, float]:
    """(lowest, mean, highest) MME exercises per year among `ids` in [start, end); NaN
    when MME does not cover the window."""
    src = load_sources()
    if start < src.coverage.mme[0] or end - 1 > src.coverage.mme[1]:
        return (float("nan"),) * 3
    keep = set(ids)
    p = src.mme_pairs[(src.mme_pairs.year >= start) & (src.mme_pairs.year < end)]
    p = p[p.a.isin(keep) & p.b.isin(keep)]
    per_year = p.groupby("year").mme_id.nunique().reindex(range(start, end), fill_value=0)
    return float(per_year.min()), float(per_year.mean()), float(per_year.max())


def tempo_penalty(tempo: float, band: tuple[float, float, float]) -> float:
    """0 inside [lowest, highest], else |log(tempo / nearest end)| (tempo floored at 0.1);
    NaN without a band."""
    lo, _, hi = band
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return float("nan")
    t = max(tempo, 0.1)
    if t < lo:
        return math.log(lo / t)
    if t > hi:
        return math.log(t / hi)
    return 0.0


def unit_points(n: int, seed: int, box: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """n Latin-hypercube points in the unit cube (or in the sub-box lo..hi of it)."""
    from scipy.stats import qmc

    u = qmc.LatinHypercube(d=len(PARAMETERS), rng=np.random.default_rng(seed)).random(n)
    if box is not None:
        lo, hi = box
        u = lo + u * (hi - lo)
    return u


def to_values(unit: np.ndarray) -> pd.DataFrame:
    """Parameter values of unit points (one column per parameter name)."""
    return pd.DataFrame({p.name: p.from_unit(unit[:, j]) for j, p in enumerate(PARAMETERS)})


def to_unit(values: Mapping[str, float]) -> np.ndarray:
    """Unit coordinates of parameter values (inverse of `to_values`, log-uniform ranges)."""
    out = []
    for p in PARAMETERS:
        lo, hi, v = math.log(p.low), math.log(p.high), math.log(values[p.name])
        out.append(min(max((v - lo) / (hi - lo), 0.0), 1.0))
    return np.array(out)


def defaults() -> dict[str, float]:
    """The current defaults of the calibrated parameters (sim.core.params)."""
    from sim.core.params import Parameters

    base = Parameters()
    return {p.name: float(getattr(base, p.name)) for p in PARAMETERS}


def evaluate(
    points: pd.DataFrame,
    window: tuple[int, int],
    *,
    out: str | Path,
    regions: Sequence[str] = REGIONS,
    replicates: int = 3,
    root_seed: int = 0,
    workers: int | None = None,
    quiet: bool = True,
    force_new: bool = False,
) -> pd.DataFrame:
    """Run every point (a row of parameter values, index = point name) in every region for
    `replicates` replicates and score them in `window`: one row per (point, region) with
    skill, exercises_per_year, tempo_penalty, the mean of each score, and the objective
    of the point (mean skill - TEMPO_WEIGHT x mean penalty over the regions)."""
    start, end = window
    steps = STEPS_PER_YEAR * (end - start)
    rows = []
    for region in regions:
        scenario = build_scenario(start, region=region, steps=steps)
        variants = [
            Variant(
                str(name),
                scenario,
                {p.path: float(row[p.name]) for p in PARAMETERS if p.name in row},
            )
            for name, row in points.iterrows()
        ]
        store = Path(out) / f"{start}_{end}_{region}"
        run_ensemble(
            variants,
            replicates,
            out=store,
            root_seed=root_seed,
            steps=steps,
            timeseries=(),
            extract=EXTRACT,
            workers=workers,
            quiet=quiet,
            force_new=force_new,
        )
        ids = [s["id"] for s in scenario["states"]]
        obs = observe(start, end, ids=ids)
        band = tempo_band(start, end, ids)
        reps, _ = score_runs(store, obs, keep_predictions=False)
        for name, group in reps.groupby("variant", sort=False):
            means = group[list(SCORES)].mean()  # NaN when NaN in some replicate
            tempo = float(group.exercises_per_year.mean())
            rows.append(
                {
                    "point": name,
                    "region": region,
                    "skill": float(np.mean([skill(r) for r in group.to_dict("records")])),
                    "exercises_per_year": tempo,
                    "mme_per_year": band[1],
                    "tempo_penalty": tempo_penalty(tempo, band),
                    **means.to_dict(),
                }
            )
    table = pd.DataFrame(rows)
    per_point = table.groupby("point", sort=False).agg(
        skill=("skill", "mean"), penalty=("tempo_penalty", "mean")
    )
    # no MME data in the window (held-out windows): no penalty can be measured
    objective = per_point.skill - TEMPO_WEIGHT * per_point.penalty.fillna(0.0)
    table["objective"] = table.point.map(objective)
    return table


def objective_of(table: pd.DataFrame) -> pd.Series:
    """point -> objective, best first."""
    return table.groupby("point", sort=False).objective.first().sort_values(ascending=False)


def search(
    *,
    out: str | Path,
    samples: int = 24,
    refine: int = 12,
    replicates: int = 3,
    regions: Sequence[str] = REGIONS,
    seed: int = 2000,
    workers: int | None = None,
    quiet: bool = True,
    force_new: bool = False,
) -> dict[str, Any]:
    """LHS, then refinement around the best, on `WINDOW` only; the defaults are evaluated
    beside them (point "default"). Returns the tables and the chosen values."""
    first = to_values(unit_points(samples, seed))
    first.index = [f"lhs{k:02d}" for k in range(samples)]
    base = pd.DataFrame([defaults()], index=["default"])

    def run(points: pd.DataFrame, folder: str) -> pd.DataFrame:
        return evaluate(
            points,
            WINDOW,
            out=Path(out) / folder,
            regions=regions,
            replicates=replicates,
            workers=workers,
            quiet=quiet,
            force_new=force_new,
        )

    t1 = run(pd.concat([base, first]), "lhs")
    best = objective_of(t1[t1.point != "default"]).index[0]
    centre = to_unit(first.loc[best].to_dict())
    box = (
        np.clip(centre - REFINE_HALF_WIDTH, 0, 1),
        np.clip(centre + REFINE_HALF_WIDTH, 0, 1),
    )
    second = to_values(unit_points(refine, seed + 1, box))
    second.index = [f"ref{k:02d}" for k in range(refine)]
    t2 = run(second, "refine")
    table = pd.concat([t1, t2], ignore_index=True)
    points = pd.concat([base, first, second])
    ranked = objective_of(table)
    chosen = ranked[ranked.index != "default"].index[0]
    return {
        "table": table,
        "points": points,
        "chosen": chosen,
        "values": {k: float(v) for k, v in points.loc[chosen].items()},
        "objective": float(ranked[chosen]),
        "default_objective": float(ranked["default"]),
    }


def held_out(
    values: Mapping[str, float],
    *,
    out: str | Path,
    windows: Sequence[tuple[int, int]] = (WINDOW, *HELD_OUT),
    regions: Sequence[str] = REGIONS,
    replicates: int = 3,
    workers: int | None = None,
    quiet: bool = True,
    force_new: bool = False,
) -> pd.DataFrame:
    """The calibrated `values` and the defaults scored in each window (the calibration
    window again with fresh seeds, and the held-out windows): evaluate's rows plus a
    window column."""
    points = pd.DataFrame([defaults(), dict(values)], index=["default", "calibrated"])
    parts = []
    for w in windows:
        t = evaluate(
            points,
            w,
            out=Path(out) / f"check_{w[0]}_{w[1]}",
            regions=regions,
            replicates=replicates,
            root_seed=1,  # not the search's seeds
            workers=workers,
            quiet=quiet,
            force_new=force_new,
        )
        parts.append(t.assign(window=f"{w[0]}-{w[1]}"))
    return pd.concat(parts, ignore_index=True)
