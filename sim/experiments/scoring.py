"""Hindcast scores: how well a prediction of the window [Y0, Y1) matches what happened.

Pure functions of two inputs, so the model and the baselines are scored alike:

- a prediction, in the frames of `Predictions` (below): dyad scores (`a`, `b`,
  `score`; higher = more of it; order of a and b free; dyads left out score 0),
  supplier->recipient flows (`supplier`, `recipient`, `share`, `volume`) and bloc
  labels (a Series id -> label);
- the observation of the same window, `Observed` (built from the source datasets by
  `sim.experiments.observed.observe`), restricted to the states `ids` that are scored.

Every score is a float; NaN when the data do not cover the window or the score is
undefined (for example no new tie happened, so there is nothing to rank). The ten
names are fixed (`SCORES`), so runs can be compared; what each means:

exercise_ties_auc
    ROC AUC of the predicted dyad exercise intensity against "the pair took part in at
    least one exercise together in [Y0, Y1)" (MME), over every dyad of `ids`.
    1 = every tied dyad ranked above every untied one; 0.5 = no better than chance.
exercise_ties_aupr
    Average precision (area under the precision-recall curve, step-wise as in
    scikit-learn) of the same ranking. Chance level = the share of tied dyads.
exercise_new_ties_auc
    ROC AUC as above over the dyads with no shared exercise in the previous window
    [Y0 - L, Y0), L = Y1 - Y0: does the prediction find the ties that are new?
agreement_new_auc
    ROC AUC of the predicted dyad score against "signed at least one DCAD defence
    cooperation agreement in [Y0, Y1)", over the dyads with no DCAD agreement in force
    on 1 January Y0.
arms_flow_r
    Pearson correlation of predicted and observed supplier->recipient shares over every
    ordered pair (s, r) of `ids`, s != r, whose recipient imported anything in [Y0, Y1).
    Observed share = SIPRI TIV delivered s->r / r's TIV from all suppliers (named or not)
    in the window; missing flows are 0.
arms_main_supplier_hit
    Share of the 30 largest importers among `ids` (by TIV in the window, with at least
    one supplier among `ids`) whose observed main supplier among `ids` is strictly the
    largest predicted share. A tie in the prediction is a miss.
arms_exporter_share_mae
    Mean absolute error, in percentage points, of the 10 largest exporters' shares of all
    TIV delivered between states of `ids` in the window (fewer if fewer exported);
    predicted shares come from `volume`.
arms_new_links_auc
    ROC AUC of the predicted share against "at least one delivery s->r in [Y0, Y1)" over
    the ordered pairs with no delivery in the previous window.
alliance_change
    ROC AUC of the predicted dyad score against "the pair has an ATOP defence pact at the
    end of the window (ATOP Y1 - 1)" over the dyads without one at its start (ATOP
    Y0 - 1): where did the prediction put the joiners (e.g. NATO's 2004 enlargement,
    coded by ATOP from 2003)?
bloc_ari
    Adjusted Rand index of the predicted blocs against the communities of the ATOP
    defence-pact network of `ids` at the end of the window (Louvain, seed 0; a state
    without a pact is its own community). 1 = the same partition; about 0 = chance.
    States without a predicted label count as singletons.

Hand-rolled, with a measured reason: ROC AUC (the rank-sum identity, with scipy's
tie-aware ranks), average precision and the adjusted Rand index are a few lines each,
while scikit-learn 1.9.1 would add 32 MB (plus joblib and threadpoolctl) and 4.2 s to
import sklearn.metrics on the project's shared host. In a throwaway environment the
three agreed with scikit-learn's to 2e-16 on 300 random cases with heavy ties;
tests/test_scoring.py checks them against scikit-learn's documented examples.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import comb

import networkx as nx
import numpy as np
import pandas as pd
from scipy.stats import rankdata
from scipy.stats.contingency import crosstab

SCORES = (
    "exercise_ties_auc",
    "exercise_ties_aupr",
    "exercise_new_ties_auc",
    "agreement_new_auc",
    "arms_flow_r",
    "arms_main_supplier_hit",
    "arms_exporter_share_mae",
    "arms_new_links_auc",
    "alliance_change",
    "bloc_ari",
)
FAMILY = {  # score -> (family, field of Predictions it reads)
    "exercise_ties_auc": ("exercises", "exercise"),
    "exercise_ties_aupr": ("exercises", "exercise"),
    "exercise_new_ties_auc": ("exercises", "exercise"),
    "agreement_new_auc": ("agreements", "agreements"),
    "arms_flow_r": ("arms", "arms"),
    "arms_main_supplier_hit": ("arms", "arms"),
    "arms_exporter_share_mae": ("arms", "arms"),
    "arms_new_links_auc": ("arms", "arms"),
    "alliance_change": ("alliances", "alliance"),
    "bloc_ari": ("alliances", "blocs"),
}
TOP_IMPORTERS = 30
TOP_EXPORTERS = 10
LOUVAIN_SEED = 0


@dataclass(frozen=True)
class Predictions:
    """A prediction of the window, by the model or a baseline. Any field may be None
    (its scores are then NaN).

    exercise, agreements, alliance: dyads `a`, `b`, `score` (exercise intensity, chance
        of a new agreement, chance of a defence pact at the end of the window);
    arms: `supplier`, `recipient`, `share` (of the recipient's imports in the window),
        `volume` (flow in the window, any unit, compared only as shares of the total);
    blocs: Series id -> bloc label at the end of the window.
    """

    exercise: pd.DataFrame | None = None
    agreements: pd.DataFrame | None = None
    arms: pd.DataFrame | None = None
    alliance: pd.DataFrame | None = None
    blocs: pd.Series | None = None


@dataclass(frozen=True)
class Observed:
    """What happened in [start, end) among `ids`. Frames are None where the data do not
    cover the window (`notes` says why).

    exercise, exercise_before: dyads `a`, `b` (a < b), `n` exercises, `weight`
        (participant-weighted count), in the window and in the previous window of the
        same length;
    agreements_new: dyads `a`, `b`, `n` DCAD agreements signed in the window;
    agreements_in_force: dyads `a`, `b` with a DCAD agreement in force on 1 January start;
    arms, arms_before: `supplier`, `recipient`, `tiv`, `n_deliveries`, `share` (of the
        recipient's imports from every supplier) in the window / the previous window;
    arms_imports: recipient -> TIV imported in the window from every supplier;
    pacts_start, pacts_end: dyads `a`, `b` with an ATOP defence pact at start-1 / end-1.
    """

    start: int
    end: int
    ids: tuple[str, ...]
    exercise: pd.DataFrame | None = None
    exercise_before: pd.DataFrame | None = None
    agreements_new: pd.DataFrame | None = None
    agreements_in_force: pd.DataFrame | None = None
    arms: pd.DataFrame | None = None
    arms_before: pd.DataFrame | None = None
    arms_imports: pd.Series | None = None
    pacts_start: pd.DataFrame | None = None
    pacts_end: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()

    @property
    def length(self) -> int:
        return self.end - self.start

    def restrict(self, ids: list[str] | tuple[str, ...]) -> Observed:
        """The same observation for the states `ids` only (a region)."""
        keep = set(ids)

        def dyads(f: pd.DataFrame | None) -> pd.DataFrame | None:
            return None if f is None else f[f.a.isin(keep) & f.b.isin(keep)]

        def flows(f: pd.DataFrame | None) -> pd.DataFrame | None:
            return None if f is None else f[f.supplier.isin(keep) & f.recipient.isin(keep)]

        imports = self.arms_imports
        return replace(
            self,
            ids=tuple(s for s in ids if s in set(self.ids)),
            exercise=dyads(self.exercise),
            exercise_before=dyads(self.exercise_before),
            agreements_new=dyads(self.agreements_new),
            agreements_in_force=dyads(self.agreements_in_force),
            arms=flows(self.arms),
            arms_before=flows(self.arms_before),
            arms_imports=None if imports is None else imports[imports.index.isin(keep)],
            pacts_start=dyads(self.pacts_start),
            pacts_end=dyads(self.pacts_end),
        )


# ---- generic measures ------------------------------------------------------------------------


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: the chance that a random positive outranks a random
    negative, ties counting one half (Mann-Whitney). NaN without both classes."""
    labels = np.asarray(labels, dtype=bool)
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(np.asarray(scores, dtype=float))
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Sum over score thresholds (tied scores form one threshold) of the gain in recall
    times the precision at that threshold. NaN without positives."""
    labels = np.asarray(labels, dtype=bool)
    n_pos = int(labels.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    s, y = np.asarray(scores, dtype=float)[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tp = np.cumsum(y)[last_of_tie]
    precision = tp / (last_of_tie + 1)
    recall_gain = np.diff(np.r_[0, tp]) / n_pos
    return float(np.sum(recall_gain * precision))


def adjusted_rand(labels_a: np.ndarray, labels_b: np.ndarray) -> float:
    """Adjusted Rand index of two partitions of the same items (Hubert & Arabie 1985)."""
    a, b = np.asarray(labels_a), np.asarray(labels_b)
    if a.size != b.size:
        raise ValueError("adjusted_rand: expected two labelings of the same items")
    n = a.size
    if n < 2:
        return 1.0
    table = crosstab(a, b).count
    pairs = sum(comb(int(x), 2) for x in table.ravel())
    rows = sum(comb(int(x), 2) for x in table.sum(axis=1))
    cols = sum(comb(int(x), 2) for x in table.sum(axis=0))
    expected = rows * cols / comb(n, 2)
    maximum = (rows + cols) / 2
    if maximum == expected:  # both all singletons, or both one cluster
        return 1.0
    return float((pairs - expected) / (maximum - expected))


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r; NaN when either side is constant."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


# ---- frames -> aligned vectors ---------------------------------------------------------------


def all_dyads(ids: tuple[str, ...] | list[str]) -> pd.MultiIndex:
    """Every unordered pair of `ids`, as (a, b) with a < b."""
    s = sorted(set(ids))
    a, b = np.triu_indices(len(s), k=1)
    arr = np.array(s, dtype=object)
    return pd.MultiIndex.from_arrays([arr[a], arr[b]], names=["a", "b"])


def all_flows(ids: tuple[str, ...] | list[str]) -> pd.MultiIndex:
    """Every ordered pair (supplier, recipient) of different states of `ids`."""
    s = sorted(set(ids))
    sup, rec = np.meshgrid(np.arange(len(s)), np.arange(len(s)), indexing="ij")
    keep = sup != rec
    arr = np.array(s, dtype=object)
    return pd.MultiIndex.from_arrays(
        [arr[sup[keep]], arr[rec[keep]]], names=["supplier", "recipient"]
    )


def dyad_values(frame: pd.DataFrame | None, column: str, index: pd.MultiIndex) -> np.ndarray:
    """frame[column] on the dyads of `index` (a < b), 0 where absent. The pair order in the
    frame is free; a dyad given twice is an error."""
    if frame is None or len(frame) == 0:
        return np.zeros(len(index))
    a, b = frame["a"].to_numpy(dtype=object), frame["b"].to_numpy(dtype=object)
    lo, hi = np.where(a < b, a, b), np.where(a < b, b, a)
    values = pd.Series(
        frame[column].to_numpy(dtype=float), index=pd.MultiIndex.from_arrays([lo, hi])
    )
    if values.index.duplicated().any():
        dup = values.index[values.index.duplicated()][0]
        raise ValueError(f"{column}: expected each dyad once, got {dup[0]}-{dup[1]} twice")
    return values.reindex(index).fillna(0.0).to_numpy()


def flow_values(frame: pd.DataFrame | None, column: str, index: pd.MultiIndex) -> np.ndarray:
    """frame[column] on the (supplier, recipient) pairs of `index`, 0 where absent."""
    if frame is None or len(frame) == 0:
        return np.zeros(len(index))
    values = frame.set_index(["supplier", "recipient"])[column].astype(float)
    if values.index.duplicated().any():
        dup = values.index[values.index.duplicated()][0]
        raise ValueError(f"{column}: expected each flow once, got {dup[0]}->{dup[1]} twice")
    return values.reindex(index).fillna(0.0).to_numpy()


def _present(frame: pd.DataFrame | None, index: pd.MultiIndex) -> np.ndarray:
    return dyad_values(None if frame is None else frame.assign(_one=1.0), "_one", index) > 0


# ---- exercise ties ---------------------------------------------------------------------------


def exercise_ties_auc(pred: pd.DataFrame | None, obs: Observed) -> float:
    """ROC AUC of predicted exercise intensity against observed ties, all dyads."""
    if pred is None or obs.exercise is None:
        return float("nan")
    idx = all_dyads(obs.ids)
    return roc_auc(_present(obs.exercise, idx), dyad_values(pred, "score", idx))


def exercise_ties_aupr(pred: pd.DataFrame | None, obs: Observed) -> float:
    """Average precision of predicted exercise intensity against observed ties."""
    if pred is None or obs.exercise is None:
        return float("nan")
    idx = all_dyads(obs.ids)
    return average_precision(_present(obs.exercise, idx), dyad_values(pred, "score", idx))


def _new_dyads_auc(
    pred: pd.DataFrame | None,
    ids: tuple[str, ...],
    had: pd.DataFrame | None,
    has: pd.DataFrame | None,
) -> float:
    """ROC AUC of `pred` for the dyads in `has` among the dyads of `ids` not in `had`."""
    if pred is None or had is None or has is None:
        return float("nan")
    idx = all_dyads(ids)
    fresh = ~_present(had, idx)
    return roc_auc(_present(has, idx)[fresh], dyad_values(pred, "score", idx)[fresh])


def exercise_new_ties_auc(pred: pd.DataFrame | None, obs: Observed) -> float:
    """ROC AUC over the dyads without a shared exercise in the previous window."""
    return _new_dyads_auc(pred, obs.ids, obs.exercise_before, obs.exercise)


# ---- agreements ------------------------------------------------------------------------------


def agreement_new_auc(pred: pd.DataFrame | None, obs: Observed) -> float:
    """ROC AUC of new DCAD agreements over the dyads without one in force at the start."""
    return _new_dyads_auc(pred, obs.ids, obs.agreements_in_force, obs.agreements_new)


# ---- arms ------------------------------------------------------------------------------------


def _importers(obs: Observed) -> list[str]:
    imports = obs.arms_imports
    return sorted(imports[imports > 0].index) if imports is not None else []


def arms_flow_r(pred: pd.DataFrame | None, obs: Observed) -> float:
    """Pearson r of predicted and observed shares over the pairs whose recipient imported."""
    if pred is None or obs.arms is None:
        return float("nan")
    idx = all_flows(obs.ids)
    keep = idx.get_level_values("recipient").isin(_importers(obs))
    return pearson(flow_values(pred, "share", idx)[keep], flow_values(obs.arms, "share", idx)[keep])


def arms_main_supplier_hit(pred: pd.DataFrame | None, obs: Observed) -> float:
    """Share of the top importers whose observed main supplier is the predicted one."""
    if pred is None or obs.arms is None or len(obs.arms) == 0:
        return float("nan")
    ids = set(obs.ids)
    got = obs.arms[obs.arms.supplier.isin(ids) & obs.arms.recipient.isin(ids)]
    got = got[got.tiv > 0]
    if len(got) == 0:
        return float("nan")
    imports = obs.arms_imports.reindex(got.recipient.unique()).sort_values(ascending=False)
    top = list(imports.index[:TOP_IMPORTERS])
    main = (
        got.sort_values(["tiv", "supplier"], ascending=[False, True]).groupby("recipient").head(1)
    )
    main = dict(zip(main.recipient, main.supplier, strict=True))
    p = pred[pred.supplier.isin(ids) & pred.recipient.isin(top) & (pred.supplier != pred.recipient)]
    hits = 0
    for rec, rows in p.groupby("recipient"):
        shares = rows.set_index("supplier")["share"].astype(float)
        best = shares.get(main[rec], 0.0)
        hits += int(best > 0 and (shares.drop(main[rec], errors="ignore") < best).all())
    return hits / len(top)


def arms_exporter_share_mae(pred: pd.DataFrame | None, obs: Observed) -> float:
    """Mean absolute error (points) of the top exporters' shares of TIV among `ids`."""
    if pred is None or obs.arms is None or len(obs.arms) == 0:
        return float("nan")
    idx = all_flows(obs.ids)
    observed = pd.Series(flow_values(obs.arms, "tiv", idx), index=idx)
    predicted = pd.Series(flow_values(pred, "volume", idx), index=idx)
    if observed.sum() <= 0 or predicted.sum() <= 0:
        return float("nan")
    obs_share = observed.groupby(level="supplier").sum() / observed.sum()
    pred_share = predicted.groupby(level="supplier").sum() / predicted.sum()
    top = obs_share[obs_share > 0].sort_values(ascending=False).index[:TOP_EXPORTERS]
    return float(100 * np.mean(np.abs(obs_share[top] - pred_share.reindex(top).fillna(0.0))))


def arms_new_links_auc(pred: pd.DataFrame | None, obs: Observed) -> float:
    """ROC AUC of the predicted share for links with no delivery in the previous window."""
    if pred is None or obs.arms is None or obs.arms_before is None:
        return float("nan")
    idx = all_flows(obs.ids)
    fresh = flow_values(obs.arms_before, "n_deliveries", idx) == 0
    labels = flow_values(obs.arms, "n_deliveries", idx)[fresh] > 0
    return roc_auc(labels, flow_values(pred, "share", idx)[fresh])


# ---- alliances -------------------------------------------------------------------------------


def alliance_change(pred: pd.DataFrame | None, obs: Observed) -> float:
    """ROC AUC of defence pacts gained in the window, over dyads without one at its start."""
    return _new_dyads_auc(pred, obs.ids, obs.pacts_start, obs.pacts_end)


def pact_blocs(pacts: pd.DataFrame, ids: tuple[str, ...] | list[str]) -> pd.Series:
    """Communities of the defence-pact network of `ids` (Louvain, seed 0, edges weighted
    by `weight` when given); a state without a pact is its own community. Labels are
    the alphabetically first member of each community."""
    g = nx.Graph()
    g.add_nodes_from(sorted(ids))
    keep = pacts[pacts.a.isin(set(ids)) & pacts.b.isin(set(ids))]
    weights = keep["weight"] if "weight" in keep else pd.Series(1.0, index=keep.index)
    g.add_weighted_edges_from(zip(keep.a, keep.b, weights.astype(float), strict=True))
    groups = nx.community.louvain_communities(g, weight="weight", seed=LOUVAIN_SEED)
    label = {s: min(group) for group in groups for s in group}
    return pd.Series(label).reindex(sorted(ids))


def bloc_ari(pred: pd.Series | None, obs: Observed) -> float:
    """Adjusted Rand index of predicted blocs against the ATOP pact communities at the end."""
    if pred is None or obs.pacts_end is None:
        return float("nan")
    observed = pact_blocs(obs.pacts_end, obs.ids)
    predicted = pred.reindex(observed.index).astype(object)
    missing = predicted.isna()
    predicted[missing] = ["_alone_" + s for s in predicted.index[missing]]
    return adjusted_rand(observed.to_numpy(), predicted.astype(str).to_numpy())


# ---- all of them -----------------------------------------------------------------------------

_FUNCTIONS = {
    "exercise_ties_auc": exercise_ties_auc,
    "exercise_ties_aupr": exercise_ties_aupr,
    "exercise_new_ties_auc": exercise_new_ties_auc,
    "agreement_new_auc": agreement_new_auc,
    "arms_flow_r": arms_flow_r,
    "arms_main_supplier_hit": arms_main_supplier_hit,
    "arms_exporter_share_mae": arms_exporter_share_mae,
    "arms_new_links_auc": arms_new_links_auc,
    "alliance_change": alliance_change,
    "bloc_ari": bloc_ari,
}
assert tuple(_FUNCTIONS) == SCORES


def score_all(pred: Predictions, obs: Observed) -> dict[str, float]:
    """Every score of `SCORES` for one prediction of one window."""
    return {name: fn(getattr(pred, FAMILY[name][1]), obs) for name, fn in _FUNCTIONS.items()}
