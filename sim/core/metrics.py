"""What a run records: world metrics, per-state values, activity and crisis logs, dyad snapshots.

Small reporter functions compute each world metric from the model; the `Recorder`
keeps them in column buffers (cheap per record) and turns them into tidy pandas
tables at the end. `check_invariants` is the debug-mode guard of the model's bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.core.access import ACCESS_HELD
from sim.core.params import EXERCISE_KINDS

if TYPE_CHECKING:  # pragma: no cover
    from sim.core.model import DiplomacyModel


def _offdiag_mean(m: np.ndarray) -> float:
    n = m.shape[0]
    return float((m.sum() - np.trace(m)) / (n * (n - 1))) if n > 1 else 0.0


@dataclass(frozen=True)
class BlocDyads:
    """Flat indices of the dyads within and across blocs, in the row-major order the model's
    `same_bloc` and `cross_bloc` masks select them, and the masks as flat 0/1 weights.

    Built once per alignment; the bloc-level means of every record are dot products of a
    matrix with these weights (one BLAS pass, no gather: measured on the world scenario,
    the six bloc-level means 3x faster than gathering the entries), and they equal
    `alignment.within_bloc_mean` / `cross_bloc_mean` up to rounding.
    """

    within: np.ndarray
    across: np.ndarray
    within_weight: np.ndarray
    across_weight: np.ndarray

    @classmethod
    def of(cls, same_bloc: np.ndarray, cross_bloc: np.ndarray) -> BlocDyads:
        return cls(
            np.flatnonzero(same_bloc),
            np.flatnonzero(cross_bloc),
            same_bloc.ravel().astype(float),
            cross_bloc.ravel().astype(float),
        )


def _bloc_mean(values: np.ndarray, index: np.ndarray, weight: np.ndarray) -> float:
    """Mean of `values` at the flat indices `index`, whose 0/1 mask is `weight` (NaN if
    none: undefined, not zero)."""
    return float(values.ravel() @ weight) / index.size if index.size else float("nan")


def _mutual_trust_mean(trust: np.ndarray, index: np.ndarray, weight: np.ndarray) -> float:
    """Mean mutual trust (T_ij + T_ji) / 2 over the dyads at `index` (NaN if none): the
    dyads within (across) blocs include each dyad's transpose, so it is the mean of T."""
    return _bloc_mean(trust, index, weight)


def _pair_count(m: np.ndarray) -> int:
    """Number of dyads set in a symmetric boolean matrix with an empty diagonal."""
    return int(np.count_nonzero(m)) // 2


# World reporters: name -> function(model) -> number. Order here is column order.
WORLD_REPORTERS = {
    "mean_trust": lambda m: _offdiag_mean(m.trust),
    "trust_within": lambda m: _mutual_trust_mean(
        m.trust, m.bloc_dyads.within, m.bloc_dyads.within_weight
    ),
    "trust_across": lambda m: _mutual_trust_mean(
        m.trust, m.bloc_dyads.across, m.bloc_dyads.across_weight
    ),
    "mean_interoperability": lambda m: _offdiag_mean(m.interoperability),
    "interoperability_within": lambda m: _bloc_mean(
        m.interoperability, m.bloc_dyads.within, m.bloc_dyads.within_weight
    ),
    "interoperability_across": lambda m: _bloc_mean(
        m.interoperability, m.bloc_dyads.across, m.bloc_dyads.across_weight
    ),
    "mean_risk": lambda m: _offdiag_mean(m.risk),
    "max_risk": lambda m: float(m.risk.max()) if m.n > 1 else 0.0,
    "risk_within": lambda m: _bloc_mean(m.risk, m.bloc_dyads.within, m.bloc_dyads.within_weight),
    "risk_across": lambda m: _bloc_mean(m.risk, m.bloc_dyads.across, m.bloc_dyads.across_weight),
    "mean_hostility": lambda m: _offdiag_mean(m.hostility),
    "total_capability": lambda m: float(m.capability.sum()),
    "agreements": lambda m: _pair_count(m.agreements),
    "hotlines": lambda m: _pair_count(m.hotline),
    "agreements_formed": lambda m: m.agreements_formed,
    "agreements_lapsed": lambda m: m.agreements_lapsed,
    # model outcomes only: a scripted war is logged as a crisis and an incident, and
    # counted apart in `wars_total`
    "crises_total": lambda m: m.crises_total - m.wars,
    "incidents_total": lambda m: m.incidents - m.wars,
    "wars_total": lambda m: m.wars,
    "suspensions_total": lambda m: m.suspensions,
    "backlashes_total": lambda m: m.backlashes,
    "declines_total": lambda m: sum(m.declines),
    "access_pairs": lambda m: int(np.count_nonzero(m.access >= ACCESS_HELD)),
    "n_blocs": lambda m: m.alignment_stats["n_blocs"],
    "polarization": lambda m: m.alignment_stats["polarization"],
    "modularity": lambda m: m.alignment_stats["modularity"],
    "landscape_energy": lambda m: m.alignment_stats["landscape_energy"],
}
ACTIVITY_COUNTS = ("exercises", "arms_transfers", "advisory", "dialogues")
# Columns of a recorded world row (`Recorder.record`), in order: the world table's columns.
WORLD_COLUMNS = (
    "step",
    "crises",
    "incidents",
    "wars",
    *ACTIVITY_COUNTS,
    "arms_volume",
    *WORLD_REPORTERS,
)

STATE_COLUMNS = (
    "capability",
    "budget",
    "stability",
    "governance",
    "bloc",
    "side",
    "margin",
    "hedging",
    "exports",
    "market_share",
    "import_dependency",
    "top_supplier_share",
    "trust_received",
    "max_risk",
)

DYAD_COLUMNS = (
    "trust_ab",
    "trust_ba",
    "interoperability",
    "risk",
    "hostility",
    "dependency_ab",
    "dependency_ba",
    "agreement",
    "hotline",
    "access_ab",
    "access_ba",
)


def label_column(
    labels: np.ndarray, index: np.ndarray
) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """``labels[index]`` as a table column (state ids of every row, say). pandas types the
    few distinct labels once and then takes them, rather than inferring the type of each
    of the len(index) Python objects, which allocates float, int, bool and complex128
    scratch arrays of that length (about 41 bytes a row; 1 GB for the 12.5 M dyads of
    5,000 states). Same column (values and dtype) as ``pd.Series(labels[index])``."""
    if len(index) == 0:
        return labels[index]
    return pd.Series(labels, copy=False).array.take(index)


def state_values(m: DiplomacyModel) -> dict[str, np.ndarray]:
    """Per-state columns for one record (vectorized over states)."""
    n = m.n
    market_total = m.market.sum()
    trust_received = (m.trust.sum(axis=0)) / max(n - 1, 1)
    return {
        "capability": m.capability.copy(),
        "budget": m.budget.copy(),
        "stability": m.stability.copy(),
        "governance": m.governance.copy(),
        "bloc": m.bloc.copy(),
        "side": m.side.astype(np.int64),
        "margin": m.margin.copy(),
        "hedging": m.hedging.copy(),
        "exports": m.exports.copy(),
        "market_share": m.market / market_total if market_total > 0 else np.zeros(n),
        "import_dependency": m.dependency.sum(axis=1),
        "top_supplier_share": m.dependency.max(axis=1) if n else np.zeros(0),
        "trust_received": trust_received,
        "max_risk": m.risk.max(axis=1) if n else np.zeros(0),
    }


@dataclass
class Results:
    """Tidy tables of one run (pandas DataFrames)."""

    world: pd.DataFrame
    states: pd.DataFrame
    activities: pd.DataFrame
    crises: pd.DataFrame
    dyads: pd.DataFrame | None = None
    meta: dict = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Name -> table, skipping dyads when they were not recorded."""
        out = {
            "world": self.world,
            "states": self.states,
            "activities": self.activities,
            "crises": self.crises,
        }
        if self.dyads is not None:
            out["dyads"] = self.dyads
        return out


def arms_flows(activities: pd.DataFrame) -> pd.DataFrame:
    """supplier, recipient, volume: the arms transfers of an activities table summed per
    pair (an arms transfer has one partner, its recipient)."""
    tr = activities[activities["activity"] == "arms_transfer"]
    frame = pd.DataFrame(
        {
            "supplier": tr["initiator"].astype(str).astype(object).to_numpy(),
            "recipient": tr["partners"].astype(str).astype(object).to_numpy(),
            "volume": tr["size"].astype(float).to_numpy(),
        }
    )
    return frame.groupby(["supplier", "recipient"], as_index=False).volume.sum()


class Recorder:
    """Collects metrics during a run in column buffers."""

    def __init__(
        self,
        model: DiplomacyModel,
        record_dyads: int = 0,
        dyad_pairs: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.model = model
        self.record_dyads = record_dyads
        # the dyads recorded: all (a < b, in the order of model.upper) or the given (a, b)
        self.pairs = model.upper if dyad_pairs is None else dyad_pairs
        self.world_rows: list[list] = []
        self.state_steps: list[int] = []
        self.state_cols: dict[str, list[np.ndarray]] = {c: [] for c in STATE_COLUMNS}
        self.dyad_steps: list[int] = []
        self.dyad_cols: dict[str, list[np.ndarray]] = {c: [] for c in DYAD_COLUMNS}
        self._last_activity_count = 0
        self._last_crisis_count = 0
        self._last_incidents = 0
        self._last_wars = 0

    def record(self, step: int) -> None:
        """Record world and state values (and dyads when due) at this step."""
        m = self.model
        log = m.activity_log[self._last_activity_count :]
        self._last_activity_count = len(m.activity_log)
        kinds = [row[1] for row in log]
        counts = [kinds.count(k) for k in ("exercise", "arms_transfer", "advisory", "dialogue")]
        volume = float(sum(row[5] for row in log if row[1] == "arms_transfer"))
        # model crises and incidents; scripted wars apart (each is logged as both)
        wars = m.wars - self._last_wars
        crises = m.crises_total - self._last_crisis_count - wars
        incidents = m.incidents - self._last_incidents - wars
        self._last_crisis_count, self._last_incidents = m.crises_total, m.incidents
        self._last_wars = m.wars
        row = [step, crises, incidents, wars, *counts, volume]
        row += [fn(m) for fn in WORLD_REPORTERS.values()]
        self.world_rows.append(row)

        self.state_steps.append(step)
        for name, values in state_values(m).items():
            self.state_cols[name].append(values)

        if self.record_dyads and step % self.record_dyads == 0:
            a, b = self.pairs  # dyads (a, b), a < b
            self.dyad_steps.append(step)
            for name, values in (
                ("trust_ab", m.trust[a, b]),
                ("trust_ba", m.trust[b, a]),
                ("interoperability", m.interoperability[a, b]),
                ("risk", m.risk[a, b]),
                ("hostility", m.hostility[a, b]),
                ("dependency_ab", m.dependency[a, b]),
                ("dependency_ba", m.dependency[b, a]),
                ("agreement", m.agreements[a, b]),
                ("hotline", m.hotline[a, b]),
                ("access_ab", m.access[a, b]),
                ("access_ba", m.access[b, a]),
            ):
                self.dyad_cols[name].append(values)

    def results(self) -> Results:
        """Build the tidy tables."""
        m = self.model
        ids = np.array(m.ids, dtype=object)
        world = pd.DataFrame(self.world_rows, columns=list(WORLD_COLUMNS))

        n_rec = len(self.state_steps)
        states = pd.DataFrame(
            {
                "step": np.repeat(np.array(self.state_steps, dtype=np.int64), m.n),
                "state": label_column(ids, np.tile(np.arange(m.n), n_rec)),
                **{c: np.concatenate(v) if v else np.zeros(0) for c, v in self.state_cols.items()},
            }
        )
        activities = self._activities_table(ids)
        crises = self._crises_table(ids)

        dyads = None
        if self.record_dyads:
            a, b = self.pairs
            k = len(self.dyad_steps)
            dyads = pd.DataFrame(
                {
                    "step": np.repeat(np.array(self.dyad_steps, dtype=np.int64), len(a)),
                    "state_a": label_column(ids, np.tile(a, k)),
                    "state_b": label_column(ids, np.tile(b, k)),
                    **{
                        c: np.concatenate(v) if v else np.zeros(0)
                        for c, v in self.dyad_cols.items()
                    },
                }
            )
        meta = {
            "seed": m.seed,
            "steps": m.steps,
            "scenario": m.world.name,
            "states": list(m.ids),
            "names": m.world.labels,
        }
        return Results(
            world=world, states=states, activities=activities, crises=crises, dyads=dyads, meta=meta
        )

    def _activities_table(self, ids: np.ndarray) -> pd.DataFrame:
        """The activity log as a table, built column by column (one pass over the log)."""
        acts = self.model.activity_log
        columns = zip(*acts, strict=True) if acts else [()] * 7
        step, activity, kind, initiator, partners, size, series = columns
        kind_names = np.array(EXERCISE_KINDS + ("",), dtype=object)
        names = list(self.model.ids)
        joined: dict[tuple, str] = {}  # partner groups repeat (series, bilateral pairs)
        for group in partners:
            if group not in joined:
                joined[group] = ";".join([names[k] for k in group])
        return pd.DataFrame(
            {
                "step": np.array(step, dtype=np.int64),
                "activity": np.array(activity, dtype=object),
                "exercise_kind": label_column(kind_names, np.array(kind, dtype=np.int64)),
                "initiator": label_column(ids, np.array(initiator, dtype=np.int64)),
                "partners": np.array([joined[g] for g in partners], dtype=object),
                "n_participants": np.fromiter(map(len, partners), np.int64, len(partners)) + 1,
                "size": np.array([float(x) for x in size], dtype=float),
                "series": np.array(series, dtype=object),
            }
        )

    def _crises_table(self, ids: np.ndarray) -> pd.DataFrame:
        """The crisis log as a table, built column by column."""
        m = self.model
        cl = m.crisis_log
        step, a, b, outcome, risk = zip(*cl, strict=True) if cl else [()] * 5
        return pd.DataFrame(
            {
                "step": np.array(step, dtype=np.int64),
                "state_a": label_column(ids, np.array(a, dtype=np.int64)),
                "state_b": label_column(ids, np.array(b, dtype=np.int64)),
                "outcome": np.array(outcome, dtype=object),
                "risk": np.array(risk, dtype=float),
                "challenger": label_column(ids, np.array(m.crisis_challenger, dtype=np.int64)),
                "backing": np.array(m.crisis_backing, dtype=float),
            }
        )


class InvariantError(AssertionError):
    """A model invariant broke; the message names it."""


def check_invariants(m: DiplomacyModel) -> None:
    """Raise InvariantError naming the first broken invariant (debug mode)."""
    tol = 1e-9
    for name in ("trust", "interoperability", "risk", "hostility"):
        arr = getattr(m, name)
        if not np.isfinite(arr).all():
            raise InvariantError(f"step {m.steps}: {name} has NaN or inf")
        if arr.min() < -tol or arr.max() > 1 + tol:
            raise InvariantError(
                f"step {m.steps}: {name} outside [0, 1] (min {arr.min():g}, max {arr.max():g})"
            )
        if np.abs(np.diag(arr)).max(initial=0.0) > tol:
            raise InvariantError(f"step {m.steps}: {name} has a non-zero diagonal")
    for name in ("interoperability", "risk", "hostility"):
        arr = getattr(m, name)
        if not np.allclose(arr, arr.T, atol=1e-12):
            raise InvariantError(f"step {m.steps}: {name} is not symmetric")
    rows = m.dependency.sum(axis=1)
    if (
        not np.isfinite(m.dependency).all()
        or (m.dependency < -tol).any()
        or (rows > 1 + 1e-9).any()
    ):
        raise InvariantError(
            f"step {m.steps}: dependency rows must be shares summing to <= 1 (max {rows.max(initial=0):g})"
        )
    for name in ("stability", "governance", "arms_industry", "autonomy"):
        arr = getattr(m, name)
        if not np.isfinite(arr).all() or arr.min(initial=0) < -tol or arr.max(initial=0) > 1 + tol:
            raise InvariantError(f"step {m.steps}: {name} outside [0, 1]")
    for name in ("capability", "budget", "bank", "export_bank"):
        arr = getattr(m, name)
        if not np.isfinite(arr).all() or arr.min(initial=0) < -tol:
            raise InvariantError(f"step {m.steps}: {name} negative or not finite")
