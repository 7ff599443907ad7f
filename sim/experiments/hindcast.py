"""Hindcasts: build the world of January Y0 from the data, run it to Y1, score it against
what happened in [Y0, Y1) beside two baselines (``ddsim hindcast``).

    from sim.experiments.hindcast import hindcast
    h = hindcast(2000, 2010, region="indo_pacific", replicates=5, out="hindcasts/ip")
    h.scores          # score, model, model_lo, model_hi, persistence, structural, activities_off

Steps:

1. `sim.scenarios.builder.build_scenario(Y0)` (data before Y0 only, no events), run for
   12 (Y1 - Y0) monthly steps;
2. two variants on the ensemble machinery (`sim.experiments.ensemble.run_ensemble`:
   workers, Dask, resumable store in OUT/ensemble), with common random numbers:
   ``model`` (the scenario as built, plus any overrides) and ``activities_off``
   (``parameters.activities = 0``: states choose no activities);
3. each run's predictions are taken in the worker by `prediction_tables` (stored per run)
   and turned into `sim.experiments.scoring.Predictions` by `run_predictions`:

   - exercise: participant-weighted count of the model's exercises per dyad over the run
     (each exercise adds 1 / (participants - 1) to each pair, as the MME observation);
   - agreements: 1 for an agreement the run formed (none at the start, one at the end),
     plus (mean mutual trust + interoperability) / 4 at the end, so the dyads nearest the
     model's formation thresholds rank next;
   - arms: the model's transfers over the run, supplier -> recipient volume and its share
     of the recipient's imports from the scenario's states;
   - alliance: 1 for dyads in the same final bloc, plus mean mutual trust / 2 at the end
     (the model forms no pacts by itself; named alliances change only through events, and
     a built scenario has none);
   - blocs: the model's bloc labels at the last step;

4. every run is scored with `score_all` against `sim.experiments.observed.observe`;
   ``model`` is the mean over replicates with a 95% t-interval of that mean
   (``model_lo``, ``model_hi``; clipped to the score's valid range, `RANGES`; NaN with
   one replicate or when a score is NaN in some replicate), ``activities_off`` the mean of its replicates; the baselines are
   `sim.experiments.baselines.persistence` and `.structural`.

Written to OUT: ``scores.csv`` (one row per score of `SCORES`, in that order),
``replicates.csv`` (every run's scores), ``predictions.parquet`` (the replicate-mean model
prediction and each baseline, for the figures) and ``hindcast.json`` (the window, region,
replicates, overrides, notes of the data). Figures and report.md are drawn by
`sim.reports.hindcast` (a layer above this one).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.core.metrics import arms_flows
from sim.errors import InputError
from sim.experiments.baselines import persistence, structural
from sim.experiments.ensemble import Variant, load_ensemble, run_ensemble
from sim.experiments.observed import observe
from sim.experiments.scoring import SCORES, Observed, Predictions, score_all

__all__ = [
    "COLUMNS",
    "Hindcast",
    "hindcast",
    "prediction_tables",
    "run_predictions",
    "summarise",
]

COLUMNS = ("score", "model", "model_lo", "model_hi", "persistence", "structural", "activities_off")
EXTRACT = "sim.experiments.hindcast:prediction_tables"
STEPS_PER_YEAR = 12
VARIANT_MODEL = "model"
VARIANT_OFF = "activities_off"
CI_LEVEL = 0.95
PREDICTION_FIELDS = ("exercise", "agreements", "arms", "alliance")
# Valid range of each score: the t-interval of a few replicates is clipped to it.
RANGES = {name: (0.0, 1.0) for name in SCORES} | {
    "arms_flow_r": (-1.0, 1.0),
    "arms_exporter_share_mae": (0.0, 100.0),
    "bloc_ari": (-1.0, 1.0),
}


# ---- one run -> its prediction tables (in the worker) -----------------------------------------


def _pairs_of_exercises(acts: pd.DataFrame) -> pd.DataFrame:
    """a < b, score: participant-weighted shared exercises (1 / (n - 1) per exercise)."""
    ex = acts[acts.activity == "exercise"]
    rows_a: list[str] = []
    rows_b: list[str] = []
    weights: list[float] = []
    for initiator, partners in zip(ex.initiator.astype(str), ex.partners.astype(str), strict=True):
        group = sorted({initiator, *[p for p in partners.split(";") if p]})
        if len(group) < 2:
            continue
        w = 1.0 / (len(group) - 1)
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                rows_a.append(a)
                rows_b.append(b)
                weights.append(w)
    frame = pd.DataFrame(
        {
            "a": pd.Series(rows_a, dtype=object),
            "b": pd.Series(rows_b, dtype=object),
            "score": pd.Series(weights, dtype=float),
        }
    )
    return frame.groupby(["a", "b"], as_index=False).score.sum()


def prediction_tables(results: Any) -> dict[str, pd.DataFrame]:
    """The extract function of a hindcast run (`run_ensemble(extract=EXTRACT)`): tables
    exercise (a, b, score), arms (supplier, recipient, volume), dyads (a, b,
    agreement_start, agreement_end, trust, interoperability), blocs (state, bloc) and
    counts (exercises, arms_transfers, steps: one row)."""
    acts = results.activities
    start, end = results.start_dyads, results.final_dyads
    a = end.state_a.astype(str).to_numpy(dtype=object)
    b = end.state_b.astype(str).to_numpy(dtype=object)
    lo, hi = np.where(a < b, a, b), np.where(a < b, b, a)
    dyads = pd.DataFrame(
        {
            "a": lo,
            "b": hi,
            "agreement_start": start.agreement.to_numpy(dtype=bool),
            "agreement_end": end.agreement.to_numpy(dtype=bool),
            "trust": 0.5 * (end.trust_ab.to_numpy(float) + end.trust_ba.to_numpy(float)),
            "interoperability": end.interoperability.to_numpy(float),
        }
    )
    last = results.states[results.states.step == results.states.step.max()]
    blocs = pd.DataFrame(
        {
            "state": last.state.astype(str).astype(object).to_numpy(),
            "bloc": last.bloc.astype(str).astype(object).to_numpy(),
        }
    )
    kinds = acts.activity.value_counts()
    counts = pd.DataFrame(
        {
            "exercises": [int(kinds.get("exercise", 0))],
            "arms_transfers": [int(kinds.get("arms_transfer", 0))],
            "steps": [int(end.step.max())],
        }
    )
    return {
        "counts": counts,
        "exercise": _pairs_of_exercises(acts),
        "arms": arms_flows(acts),
        "dyads": dyads,
        "blocs": blocs,
    }


def run_predictions(tables: Mapping[str, pd.DataFrame]) -> Predictions:
    """`Predictions` of one run from its `prediction_tables` (see the module doc)."""
    ex = tables["exercise"][["a", "b", "score"]]
    d = tables["dyads"]
    formed = (d.agreement_end & ~d.agreement_start).astype(float)
    agreements = d[["a", "b"]].assign(
        score=formed + (d.trust.astype(float) + d.interoperability.astype(float)) / 4
    )
    blocs = tables["blocs"].set_index("state")["bloc"].astype(str)
    label = d.a.map(blocs).to_numpy(dtype=object)
    same = (label == d.b.map(blocs).to_numpy(dtype=object)).astype(float)
    alliance = d[["a", "b"]].assign(score=same + d.trust.astype(float) / 2)
    arms = tables["arms"][["supplier", "recipient", "volume"]].copy()
    total = arms.groupby("recipient").volume.transform("sum")
    arms["share"] = (arms.volume / total).where(total > 0, 0.0)
    return Predictions(
        exercise=ex, agreements=agreements, arms=arms, alliance=alliance, blocs=blocs
    )


def mean_predictions(preds: Sequence[Predictions]) -> Predictions:
    """The replicate-mean prediction (dyad scores, volumes and shares averaged over runs;
    absent = 0); blocs of the first run. For figures, not for the scores."""
    k = len(preds)

    def avg(frames: list[pd.DataFrame], keys: list[str], cols: list[str]) -> pd.DataFrame:
        both = pd.concat(frames, ignore_index=True)
        return (both.groupby(keys, as_index=False)[cols].sum()).assign(
            **{c: lambda f, c=c: f[c] / k for c in cols}
        )

    return Predictions(
        exercise=avg([p.exercise for p in preds], ["a", "b"], ["score"]),
        agreements=avg([p.agreements for p in preds], ["a", "b"], ["score"]),
        arms=avg([p.arms for p in preds], ["supplier", "recipient"], ["volume", "share"]),
        alliance=avg([p.alliance for p in preds], ["a", "b"], ["score"]),
        blocs=preds[0].blocs,
    )


# ---- summaries --------------------------------------------------------------------------------


def mean_ci(values: Sequence[float], level: float = CI_LEVEL) -> tuple[float, float, float]:
    """Mean and a `level` t-interval of the mean; NaN bounds with fewer than two values,
    NaN everywhere when any value is NaN (a score undefined in some replicate)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0 or np.isnan(x).any():
        return (float("nan"),) * 3
    m = float(x.mean())
    if x.size < 2:
        return m, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return m, m - half, m + half


def summarise(
    replicates: pd.DataFrame, baselines: Mapping[str, Mapping[str, float]]
) -> pd.DataFrame:
    """scores.csv: one row per score, columns `COLUMNS`. `replicates` holds variant,
    replicate and one column per score; `baselines` name -> {score: value}."""
    rows = []
    for name in SCORES:
        model = replicates.loc[replicates.variant == VARIANT_MODEL, name]
        off = replicates.loc[replicates.variant == VARIANT_OFF, name]
        m, lo, hi = mean_ci(model.to_numpy())
        lo, hi = max(lo, RANGES[name][0]), min(hi, RANGES[name][1])  # NaN stays NaN
        rows.append(
            {
                "score": name,
                "model": m,
                "model_lo": lo,
                "model_hi": hi,
                "persistence": baselines["persistence"][name],
                "structural": baselines["structural"][name],
                "activities_off": mean_ci(off.to_numpy())[0] if len(off) else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


# ---- the hindcast -----------------------------------------------------------------------------


@dataclass
class Hindcast:
    """A finished hindcast: its window, the scores and what the figures need."""

    start: int
    end: int
    region: str | None
    out: Path
    scores: pd.DataFrame
    replicates: pd.DataFrame
    observed: Observed
    predictions: dict[str, Predictions] = field(repr=False)  # model (mean), baselines
    overrides: dict[str, Any] = field(default_factory=dict)
    n_replicates: int = 0
    exercises_per_year: float = float("nan")  # model, mean over replicates


def check_window(start: int, end: int) -> None:
    """One-line InputError unless start < end are years (the builder checks the range)."""
    for name, v in (("start", start), ("end", end)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise InputError(f"{name}: expected a year (integer), got {v!r}")
    if not start < end:
        raise InputError(f"end: expected a year after start {start}, got {end}")


def hindcast(
    start: int,
    end: int,
    *,
    out: str | Path,
    region: str | None = None,
    states: list[str] | None = None,
    replicates: int = 5,
    overrides: Mapping[str, Any] | None = None,
    root_seed: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: bool = False,
    quiet: bool = False,
    activities_off: bool = True,
    force_new: bool = False,
) -> Hindcast:
    """Build Y0 = `start`, run `replicates` replicates to `end`, score, write OUT (see the
    module doc). `overrides`: dotted scenario overrides (``parameters.cost_exercise``...)
    applied to both variants. Raises InputError (one line) on bad input."""
    from sim.scenarios.builder import build_scenario
    from sim.scenarios.sources import load_sources

    check_window(start, end)
    cov = load_sources().coverage
    last = max(cov.sipri[1], cov.atop[1], cov.mme[1], cov.dcad[1])
    if end - 1 > last:
        raise InputError(f"end: expected at most {last + 1} (the data end in {last}), got {end}")
    out = Path(out)
    steps = STEPS_PER_YEAR * (end - start)
    scenario = build_scenario(start, region=region, states=states, steps=steps)
    overrides = dict(overrides or {})
    variants = [Variant(VARIANT_MODEL, scenario, overrides)]
    if activities_off:
        variants.append(Variant(VARIANT_OFF, scenario, {**overrides, "parameters.activities": 0}))
    out.mkdir(parents=True, exist_ok=True)
    summary = run_ensemble(
        variants,
        replicates,
        out=out / "ensemble",
        root_seed=root_seed,
        steps=steps,
        timeseries=(),
        extract=EXTRACT,
        name=f"hindcast {start}-{end} {region or 'world'}",
        workers=workers,
        scheduler=scheduler,
        dask_local=dask_local,
        quiet=quiet,
        force_new=force_new,
    )
    if getattr(summary, "interrupted", False):
        raise KeyboardInterrupt
    ids = [s["id"] for s in scenario["states"]]
    obs = observe(start, end, ids=ids)
    return score_store(start, end, out, obs, region=region, overrides=overrides)


def score_runs(
    store: Path, obs: Observed, keep_predictions: bool = True
) -> tuple[pd.DataFrame, list[tuple[str, Predictions]]]:
    """Every ok run of the ensemble `store` scored against `obs`: a frame run_id, variant,
    replicate, exercises_per_year and the scores, and (variant, Predictions) per run
    (empty unless `keep_predictions`). InputError when no run finished."""
    ens = load_ensemble(store)
    extra = ens.extra
    runs = ens.runs[ens.runs.status == "ok"]
    if runs.empty:
        raise InputError(f"{store}: expected finished runs, got none (all failed)")
    by_run = {n: t.groupby("run_id") for n, t in extra.items()}
    rows, preds = [], []
    for rid, variant, rep in zip(runs.run_id, runs.variant, runs.replicate, strict=True):
        tables = {n: _group(g, rid, extra[n]) for n, g in by_run.items()}
        pred = run_predictions(tables)
        c = tables["counts"].iloc[0]
        tempo = STEPS_PER_YEAR * float(c.exercises) / max(int(c.steps), 1)
        head = {"run_id": rid, "variant": variant, "replicate": int(rep)}
        rows.append(head | {"exercises_per_year": tempo} | score_all(pred, obs))
        if keep_predictions:
            preds.append((variant, pred))
    return pd.DataFrame(rows), preds


def score_store(
    start: int,
    end: int,
    out: Path,
    obs: Observed,
    *,
    region: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Hindcast:
    """Score every run of OUT/ensemble and the baselines against `obs`; write the files."""
    reps, runs = score_runs(out / "ensemble", obs)
    model_preds = [p for v, p in runs if v == VARIANT_MODEL]
    tempo = reps.loc[reps.variant == VARIANT_MODEL, "exercises_per_year"].to_numpy()
    base = {
        "persistence": persistence(start, end, ids=obs.ids),
        "structural": structural(start, end, ids=obs.ids),
    }
    scores = summarise(reps, {k: score_all(p, obs) for k, p in base.items()})
    preds = {"model": mean_predictions(model_preds), **base}
    h = Hindcast(
        start,
        end,
        region,
        out,
        scores,
        reps,
        obs,
        preds,
        dict(overrides or {}),
        int(len(model_preds)),
        float(np.mean(tempo)),
    )
    write_outputs(h)
    return h


def _group(groups: Any, rid: str, frame: pd.DataFrame) -> pd.DataFrame:
    try:
        return groups.get_group(rid).drop(columns=["run_id", "variant", "replicate"])
    except KeyError:  # a run with no rows in this table (no transfers, say)
        return frame.iloc[:0].drop(columns=["run_id", "variant", "replicate"])


def write_outputs(h: Hindcast) -> None:
    """scores.csv, replicates.csv, predictions.parquet and hindcast.json in h.out."""
    h.scores.to_csv(h.out / "scores.csv", index=False, float_format="%.6g")
    h.replicates.to_csv(h.out / "replicates.csv", index=False, float_format="%.6g")
    frames = []
    for source, p in h.predictions.items():
        for fname in PREDICTION_FIELDS:
            f = getattr(p, fname)
            if f is None:
                continue
            f = f.rename(columns={"supplier": "a", "recipient": "b"})
            cols = [c for c in ("score", "share", "volume") if c in f.columns]
            frames.append(f[["a", "b", *cols]].assign(source=source, field=fname))
    pd.concat(frames, ignore_index=True).to_parquet(h.out / "predictions.parquet", index=False)
    meta = {
        "start": h.start,
        "end": h.end,
        "region": h.region or "world",
        "states": len(h.observed.ids),
        "replicates": h.n_replicates,
        "overrides": {k: _plain(v) for k, v in h.overrides.items()},
        "exercises_per_year": h.exercises_per_year,
        "notes": list(h.observed.notes),
    }
    (h.out / "hindcast.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
