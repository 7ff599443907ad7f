"""Two baselines a hindcast must beat, as `Predictions` the scorer treats like the model's.

    from sim.experiments.baselines import persistence, structural
    pred = structural(2000, 2010, ids=obs.ids)       # fitted on years before 2000 only
    scores = score_all(pred, obs)

persistence(Y0, Y1)
    The previous window of the same length, [Y0 - L, Y0), repeats: exercise intensity =
    participant-weighted shared exercises then, agreement score = DCAD agreements signed
    then, arms flows = SIPRI shares and volumes then, defence pacts and their blocs =
    ATOP at Y0 - 1 (no pact changes, so `alliance_change` is 0.5 by construction, as is
    every "new" score: persistence cannot name a tie it has not seen).
structural(Y0, Y1)
    A small statistical model of the same data, fitted on the years t in [Y0 - 8, Y0)
    only, with features from before each t, then applied to the features of Y0:
    - exercise ties, new DCAD agreements, new defence pacts: logistic regressions of
      "a tie / a signature / a new pact in year t" on the dyad's capital distance,
      land and sea contiguity, defence and consultation pact (ATOP t-1), DCAD agreement
      in force, ongoing TSS rivalry, capabilities (log CINC sum and ratio), number of
      common allies, and its past ties (exercises, agreements, arms deliveries in
      t-5..t-1);
    - arms flows: a gravity model fitted by Poisson pseudo-maximum likelihood (Santos
      Silva & Tenreyro 2006) of the TIV delivered s->r in year t on the past flow and
      share s->r, the exporter's past exports, the importer's past imports, both
      capabilities, distance, contiguity, pact and rivalry;
    - blocs: Louvain communities of the ATOP pacts at Y0 - 1 plus the dyads whose
      predicted chance of a new pact within the window is at least one half.

Both are pure functions of the source datasets (no model import) and cached per window
for the life of the process. The GLMs are fitted with scipy's L-BFGS on standardised
features with a small ridge penalty: a dozen lines, where statsmodels or scikit-learn
would be a new dependency for two likelihoods.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from sim.experiments.observed import (
    agreements_signed,
    arms_flows,
    defence_pacts,
    exercise_ties,
)
from sim.experiments.scoring import Predictions, pact_blocs
from sim.scenarios.builder import agreements_in_force, scenario_ids
from sim.scenarios.sources import Sources, load_sources

TRAIN_YEARS = 8  # years t in [Y0 - 8, Y0) the structural models learn from
HISTORY = 5  # years of past ties behind the "past" features
RIDGE = 1e-3  # L2 penalty on standardised coefficients (not on the intercept)
EARTH_RADIUS_KM = 6371.0

DYAD_FEATURES = (
    "log_distance",
    "land_border",
    "sea_border",
    "pact",
    "consultation",
    "dcad_in_force",
    "rivalry",
    "log_cinc_sum",
    "log_cinc_ratio",
    "common_allies",
    "past_exercises",
    "exercise_last_year",
    "past_agreements",
    "past_arms",
)
FLOW_FEATURES = (
    "past_flow",
    "past_share",
    "past_link",
    "exporter_size",
    "importer_size",
    "log_cinc_supplier",
    "log_cinc_recipient",
    "log_distance",
    "land_border",
    "pact",
    "rivalry",
)


# ---- persistence -----------------------------------------------------------------------------


def persistence(
    start: int,
    end: int,
    *,
    ids: list[str] | tuple[str, ...] | None = None,
    source_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> Predictions:
    """The previous window [start - L, start) repeats (L = end - start)."""
    src = load_sources(source_dir, data_dir)
    cov = src.coverage
    before = start - (end - start)
    ids = (
        tuple(ids)
        if ids is not None
        else tuple(scenario_ids(start, source_dir=source_dir, data_dir=data_dir))
    )
    exercise = agreements = arms = alliance = blocs = None
    if cov.mme[0] <= before and start - 1 <= cov.mme[1]:
        ex = exercise_ties(src, before, start)
        exercise = ex.assign(score=ex.weight)[["a", "b", "score"]]
    if cov.dcad[0] <= before and start - 1 <= cov.dcad[1]:
        ag = agreements_signed(src, before, start)
        agreements = ag.assign(score=ag.n.astype(float))[["a", "b", "score"]]
    if start - 1 <= cov.sipri[1]:
        flows, _ = arms_flows(src, before, start)
        arms = flows.assign(volume=flows.tiv)[["supplier", "recipient", "share", "volume"]]
    if cov.atop[0] <= start - 1 <= cov.atop[1]:
        pacts = defence_pacts(src, start - 1)
        alliance = pacts.assign(score=1.0)
        blocs = pact_blocs(pacts, ids)
    return Predictions(exercise, agreements, arms, alliance, blocs)


# ---- GLMs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GLM:
    """A fitted logistic or Poisson regression on standardised features."""

    family: str
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # intercept first

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability (logistic) or expected count (Poisson) for each row."""
        eta = self.coef[0] + _standardise(frame, self) @ self.coef[1:]
        if self.family == "logistic":
            return 1.0 / (1.0 + np.exp(-eta))
        return np.exp(np.minimum(eta, 50.0))


def _standardise(frame: pd.DataFrame, model: GLM) -> np.ndarray:
    return (frame[list(model.features)].to_numpy(dtype=float) - model.mean) / model.scale


def fit_glm(frame: pd.DataFrame, target: str, features: tuple[str, ...], family: str) -> GLM:
    """Maximum likelihood with a ridge penalty RIDGE on the standardised coefficients."""
    x = frame[list(features)].to_numpy(dtype=float)
    y = frame[target].to_numpy(dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.column_stack([np.ones(len(x)), (x - mean) / scale])
    n = len(y)

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        eta = z @ beta
        if family == "logistic":
            value = np.logaddexp(0.0, eta) - y * eta
            residual = 1.0 / (1.0 + np.exp(-eta)) - y
        else:
            mu = np.exp(np.minimum(eta, 50.0))
            value = mu - y * eta
            residual = mu - y
        penalty = 0.5 * RIDGE * beta[1:] @ beta[1:]
        grad = z.T @ residual / n
        grad[1:] += RIDGE * beta[1:]
        return float(value.mean() + penalty), grad

    beta0 = np.zeros(z.shape[1])
    m = y.mean()
    beta0[0] = np.log(m / (1 - m)) if family == "logistic" else np.log(max(m, 1e-9))
    result = minimize(loss, beta0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return GLM(family, tuple(features), mean, scale, result.x)


# ---- features --------------------------------------------------------------------------------


def _index(ids: list[str]) -> dict[str, int]:
    return {s: k for k, s in enumerate(ids)}


def _matrix(
    frame: pd.DataFrame, ids: list[str], a: str, b: str, value: str | None = None, sym: bool = True
) -> np.ndarray:
    """n x n matrix of frame[value] (or 1) at (frame[a], frame[b]) for ids in `ids`."""
    pos = _index(ids)
    m = np.zeros((len(ids), len(ids)))
    keep = frame[frame[a].isin(pos) & frame[b].isin(pos)]
    i = keep[a].map(pos).to_numpy(dtype=int)
    j = keep[b].map(pos).to_numpy(dtype=int)
    v = keep[value].to_numpy(dtype=float) if value else np.ones(len(keep))
    np.add.at(m, (i, j), v)
    if sym:
        np.add.at(m, (j, i), v)
    return m


@dataclass(frozen=True)
class _Year:
    """Matrices of year t for the world of January t."""

    ids: list[str]
    m: dict[str, np.ndarray]


@functools.lru_cache(maxsize=64)
def _year(t: int, source_dir: Path | None, data_dir: Path | None) -> _Year:
    src = load_sources(source_dir, data_dir)
    cov = src.coverage
    ids = scenario_ids(t, source_dir=source_dir, data_dir=data_dir)
    n = len(ids)
    day = pd.Timestamp(year=t, month=1, day=1)
    cap = src.capitals[src.capitals.start < day].sort_values(["id", "start"]).groupby("id").last()
    cap = cap.reindex(ids)
    lat, lon = np.radians(cap.lat.to_numpy()), np.radians(cap.lon.to_numpy())
    dlat, dlon = lat[:, None] - lat[None, :], lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))
    nmc_year = min(t - 1, cov.nmc[1])
    cinc = src.nmc[src.nmc.year == nmc_year].set_index("id").cinc.reindex(ids)
    log_cinc = np.log(np.maximum(cinc.fillna(0.0).to_numpy(), 1e-7))
    ct = src.contiguity
    data_end = ct.end_year.max()
    ct = ct[(ct.start_year <= t - 1) & ((ct.end_year >= t - 1) | (ct.end_year == data_end))]
    atop_year = min(t - 1, cov.atop[1])
    atop = src.atop[src.atop.year == atop_year]
    pact = _matrix(atop[atop.defense == 1], ids, "a", "b") > 0
    consult = _matrix(atop[(atop.consultation == 1) & (atop.defense == 0)], ids, "a", "b") > 0
    in_force, _ = agreements_in_force(t, src)
    tss = src.tss
    riv = tss[(tss.start < t) & (tss.end.isna() | (tss.end >= t) | (tss.end >= cov.tss[1]))]
    past = exercise_ties(src, t - HISTORY, t)
    last = exercise_ties(src, t - 1, t)
    signed = agreements_signed(src, t - HISTORY, t)
    s = src.sipri[(src.sipri.year >= t - HISTORY) & (src.sipri.year < t)]
    s = s[(s.supplier != "") & (s.recipient != "") & (s.supplier != s.recipient)]
    flows = s.groupby(["supplier", "recipient"]).tiv.sum().reset_index()
    flow = _matrix(flows, ids, "supplier", "recipient", "tiv", sym=False)
    s_all = src.sipri[(src.sipri.year >= t - HISTORY) & (src.sipri.year < t)]
    imports_all = s_all[s_all.recipient != ""].groupby("recipient").tiv.sum().reindex(ids)
    exports_all = s_all[s_all.supplier != ""].groupby("supplier").tiv.sum().reindex(ids)
    m = {
        "log_distance": np.log1p(km),
        "land_border": _matrix(ct[ct.conttype == 1], ids, "a", "b") > 0,
        "sea_border": _matrix(ct[ct.conttype > 1], ids, "a", "b") > 0,
        "pact": pact,
        "consultation": consult,
        "dcad_in_force": _matrix(in_force.reset_index(), ids, "a", "b") > 0,
        "rivalry": _matrix(riv, ids, "a", "b") > 0,
        "log_cinc": np.broadcast_to(log_cinc, (n, n)),
        "common_allies": np.log1p(pact.astype(float) @ pact.astype(float)),
        "past_exercises": np.log1p(_matrix(past, ids, "a", "b", "weight")),
        "exercise_last_year": _matrix(last, ids, "a", "b") > 0,
        "past_agreements": np.log1p(_matrix(signed, ids, "a", "b", "n")),
        "flow": flow,  # supplier x recipient TIV, t-5..t-1
        "imports": imports_all.fillna(0.0).to_numpy(),
        "exports": exports_all.fillna(0.0).to_numpy(),
    }
    return _Year(ids, m)


def dyad_features(
    t: int, source_dir: Path | None = None, data_dir: Path | None = None
) -> pd.DataFrame:
    """One row per dyad a < b of the world of January t: DYAD_FEATURES, from data < t."""
    y = _year(t, source_dir, data_dir)
    order = np.argsort(y.ids)
    ids = [y.ids[k] for k in order]
    i, j = np.triu_indices(len(ids), k=1)
    ii, jj = order[i], order[j]
    m = y.m
    log_cinc = m["log_cinc"][0]
    arms = m["flow"] + m["flow"].T
    out = {
        "a": np.array(ids, dtype=object)[i],
        "b": np.array(ids, dtype=object)[j],
        "log_cinc_sum": log_cinc[ii] + log_cinc[jj],
        "log_cinc_ratio": np.abs(log_cinc[ii] - log_cinc[jj]),
        "past_arms": (arms[ii, jj] > 0).astype(float),
    }
    for name in DYAD_FEATURES:
        if name not in out:
            out[name] = np.asarray(m[name][ii, jj], dtype=float)
    return pd.DataFrame(out)


def flow_features(
    t: int, source_dir: Path | None = None, data_dir: Path | None = None
) -> pd.DataFrame:
    """One row per ordered pair supplier != recipient of the world of January t:
    FLOW_FEATURES, from data < t."""
    y = _year(t, source_dir, data_dir)
    n = len(y.ids)
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    m = y.m
    flow = m["flow"]
    imports = m["imports"]
    share = np.divide(flow, imports[None, :], out=np.zeros_like(flow), where=imports[None, :] > 0)
    log_cinc = m["log_cinc"][0]
    ids = np.array(y.ids, dtype=object)
    return pd.DataFrame(
        {
            "supplier": ids[i],
            "recipient": ids[j],
            "past_flow": np.log1p(flow[i, j]),
            "past_share": share[i, j],
            "past_link": (flow[i, j] > 0).astype(float),
            "exporter_size": np.log1p(m["exports"][i]),
            "importer_size": np.log1p(imports[j]),
            "log_cinc_supplier": log_cinc[i],
            "log_cinc_recipient": log_cinc[j],
            "log_distance": m["log_distance"][i, j],
            "land_border": m["land_border"][i, j].astype(float),
            "pact": m["pact"][i, j].astype(float),
            "rivalry": m["rivalry"][i, j].astype(float),
        }
    )


# ---- structural ------------------------------------------------------------------------------


def _targets_dyad(t: int, src: Sources, frame: pd.DataFrame, kind: str) -> np.ndarray:
    if kind == "exercise":
        got = exercise_ties(src, t, t + 1)
    elif kind == "agreement":
        got = agreements_signed(src, t, t + 1)
    else:
        got = defence_pacts(src, t)
    pairs = pd.MultiIndex.from_arrays([frame.a, frame.b])
    return pairs.isin(pd.MultiIndex.from_arrays([got.a, got.b])).astype(float)


def _training_years(start: int, first: int, last: int) -> list[int]:
    return [t for t in range(start - TRAIN_YEARS, start) if first <= t <= last]


@dataclass(frozen=True)
class StructuralFit:
    """The fitted models of one window start, and the training years of each."""

    models: dict[str, GLM]
    years: dict[str, list[int]]


@functools.lru_cache(maxsize=16)
def _fit(start: int, source_dir: Path | None, data_dir: Path | None) -> StructuralFit:
    src = load_sources(source_dir, data_dir)
    cov = src.coverage
    first_dyad = max(cov.atop[0] + 1, cov.mme[0] + HISTORY)
    spans = {
        "exercise": (first_dyad, min(cov.mme[1], start - 1)),
        "agreement": (first_dyad, min(cov.dcad[1], start - 1)),
        "alliance": (first_dyad, min(cov.atop[1], start - 1)),
        "arms": (cov.sipri[0] + 2, min(cov.sipri[1], start - 1)),
    }
    models, years = {}, {}
    for kind, (lo, hi) in spans.items():
        # a family is predicted only while its data reach the year before the window, so
        # the features of `start` are as current as those it was trained on
        ts = _training_years(start, lo, hi) if hi == start - 1 else []
        if not ts:
            continue
        parts = []
        for t in ts:
            if kind == "arms":
                f = flow_features(t, source_dir, data_dir)
                got = src.sipri[(src.sipri.year == t)]
                got = got.groupby(["supplier", "recipient"]).tiv.sum()
                key = pd.MultiIndex.from_arrays([f.supplier, f.recipient])
                f["target"] = got.reindex(key).fillna(0.0).to_numpy()
            else:
                f = dyad_features(t, source_dir, data_dir)
                f["target"] = _targets_dyad(t, src, f, kind)
                if kind == "alliance":
                    f = f[f.pact == 0]
            parts.append(f)
        train = pd.concat(parts, ignore_index=True)
        if kind == "arms":
            models[kind] = fit_glm(train, "target", FLOW_FEATURES, "poisson")
        else:
            features = tuple(x for x in DYAD_FEATURES if not (kind == "alliance" and x == "pact"))
            models[kind] = fit_glm(train, "target", features, "logistic")
        years[kind] = ts
    return StructuralFit(models, years)


def structural_fit(
    start: int, *, source_dir: str | Path | None = None, data_dir: str | Path | None = None
) -> StructuralFit:
    """The structural models for windows starting in `start` (fitted on years < start)."""
    return _fit(start, _key(source_dir), _key(data_dir))


def _key(path: str | Path | None) -> Path | None:
    return None if path is None else Path(path).resolve()


def structural(
    start: int,
    end: int,
    *,
    ids: list[str] | tuple[str, ...] | None = None,
    source_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> Predictions:
    """Predictions of [start, end) by the structural models fitted on years < start."""
    sd, dd = _key(source_dir), _key(data_dir)
    fit = _fit(start, sd, dd)
    length = end - start
    ids = tuple(ids) if ids is not None else tuple(scenario_ids(start, source_dir=sd, data_dir=dd))
    dyads = dyad_features(start, sd, dd)
    out: dict[str, object] = {}
    for kind, field in (("exercise", "exercise"), ("agreement", "agreements")):
        if kind in fit.models:
            out[field] = dyads[["a", "b"]].assign(score=fit.models[kind].predict(dyads))
    if "alliance" in fit.models:
        p_year = fit.models["alliance"].predict(dyads)
        p_window = np.where(dyads.pact > 0, 1.0, 1.0 - (1.0 - p_year) ** length)
        alliance = dyads[["a", "b"]].assign(score=p_window)
        out["alliance"] = alliance
        edges = alliance[alliance.score >= 0.5]
        out["blocs"] = pact_blocs(edges, ids)
    if "arms" in fit.models:
        flows = flow_features(start, sd, dd)
        mu = fit.models["arms"].predict(flows)
        total = pd.Series(mu).groupby(flows.recipient.to_numpy()).transform("sum").to_numpy()
        out["arms"] = flows[["supplier", "recipient"]].assign(
            share=np.divide(mu, total, out=np.zeros_like(mu), where=total > 0), volume=mu * length
        )
    return Predictions(**out)
