"""Small worlds built in code for model tests (independent of the YAML loader)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.core.params import Parameters
from sim.core.scenario import Event, Relations, Scenario, StateSpec

# Three partners in the western Pacific and a nearby rival, plus a distant bystander.
BASE_STATES = {
    "BLU": dict(
        capability=1.0,
        budget=2.0,
        arms_industry=1.0,
        stability=0.9,
        governance=0.85,
        position=(0.9, 0.8),
        location=(38.9, -77.0),
    ),
    "AZR": dict(
        capability=0.3,
        budget=1.0,
        arms_industry=0.2,
        stability=0.9,
        governance=0.9,
        position=(0.8, 0.8),
        location=(35.7, 139.7),
    ),
    "CYN": dict(
        capability=0.15,
        budget=0.7,
        arms_industry=0.05,
        stability=0.8,
        governance=0.6,
        position=(0.6, 0.5),
        location=(14.6, 121.0),
    ),
    "RED": dict(
        capability=0.9,
        budget=2.0,
        arms_industry=0.6,
        stability=0.8,
        governance=0.5,
        position=(-0.7, -0.8),
        location=(39.9, 116.4),
    ),
    "GRY": dict(
        capability=0.1,
        budget=0.4,
        arms_industry=0.0,
        stability=0.6,
        governance=0.4,
        position=(0.0, 0.1),
        location=(-15.8, -47.9),
    ),
}


def world(
    states: dict | None = None,
    *,
    steps: int = 60,
    seed: int = 1,
    hostility: dict | None = None,
    trust: dict | None = None,
    interoperability: dict | None = None,
    agreements: tuple = (),
    dependency: dict | None = None,
    events: tuple = (),
    governance: dict | None = None,
    alliances: dict | None = None,
    access: dict | None = None,
    **params,
) -> Scenario:
    """A scenario from plain values; `params` override model parameters."""
    states = BASE_STATES if states is None else states
    specs = tuple(StateSpec(id=k, **v) for k, v in states.items())
    hostility = (
        {("BLU", "RED"): 0.7, ("AZR", "RED"): 0.6, ("CYN", "RED"): 0.5}
        if hostility is None
        else hostility
    )
    return Scenario(
        name="test-world",
        states=specs,
        steps=steps,
        seed=seed,
        parameters=Parameters(**params),
        governance=governance or {},
        alliances={k: tuple(v) for k, v in (alliances or {}).items()},
        relations=Relations(
            trust=trust or {},
            interoperability=interoperability or {},
            hostility=hostility,
            agreements=tuple(agreements),
            dependency=dependency or {},
            access=access or {},
        ),
        events=tuple(
            sorted((Event(*e) if isinstance(e, tuple) else e for e in events), key=lambda e: e.step)
        ),
    )


def exercise_program(
    step: int, participants: list[str], every: int = 1, scale: float = 1.5, kind: str = "live"
) -> Event:
    """A standing exercise series from `step` to the end of the run."""
    return Event(
        step,
        "exercise_program",
        {
            "participants": participants,
            "kind": kind,
            "every": every,
            "until": None,
            "scale": scale,
            "name": "series",
        },
    )


def deterrence_world(steps: int = 600, targets: int = 8) -> tuple[Scenario, list[str], list[str]]:
    """A challenger (RED, capability 0.9) facing `targets` allied and as many unallied
    small states (capability 0.15) at the same hostility 0.9, the same place and the same
    distance in ideal-point space from RED. The allied ones are allied with BLU
    (capability 1), which trusts them 0.8 and is interoperable 0.6; the unallied ones sit
    about as far from BLU's ideal point (1.60) as from RED's (1.70), so BLU courts them little and they stay
    weakly backed (at BLU's own distance they come to be backed nearly as well as the
    allies over the run). Returns the scenario and the allied and unallied ids."""
    small = dict(capability=0.15, budget=0.7, arms_industry=0.0, stability=0.8, governance=0.6)
    states = {"BLU": BASE_STATES["BLU"], "RED": BASE_STATES["RED"]}
    allied, unallied = [f"B{k}" for k in range(targets)], [f"U{k}" for k in range(targets)]
    for k in range(targets):  # RED at (-0.7, -0.8): both positions 1.70 from it
        states[allied[k]] = dict(small, position=(0.5, 0.4), location=(30.0 + k, 125.0))
        states[unallied[k]] = dict(small, position=(1.0, -0.8), location=(30.0 + k, 125.5))
    sc = world(
        states,
        steps=steps,
        hostility={("RED", t): 0.9 for t in allied + unallied},
        alliances={"PACT": ["BLU", *allied]},
        trust={("BLU", t): 0.8 for t in allied} | {(t, "BLU"): 0.8 for t in allied},
        interoperability={("BLU", t): 0.6 for t in allied},
    )
    return sc, allied, unallied


def allied_incident_contrast(
    models: list, allied: list[str], unallied: list[str], challenger: str = "RED"
) -> tuple[float, float, float, np.ndarray]:
    """Incident share of the crises `challenger` started against the `allied` targets minus
    that against the `unallied` ones, pooled over the runs, with a 95% bootstrap interval
    that resamples runs (the crises of one run share its history): (estimate, low, high,
    per-run counts). The counts are rows of (incidents and crises against allied targets,
    incidents and crises against unallied ones, their mean backing against the
    challenger)."""
    counts = np.zeros((len(models), 6))
    for k, m in enumerate(models):
        c = m.index[challenger]
        group = {m.index[t]: 0 for t in allied} | {m.index[t]: 1 for t in unallied}
        backing: list[list[float]] = [[], []]
        for row, (_step, i, j, outcome, _risk) in enumerate(m.crisis_log):
            target = j if i == c else i
            if outcome == "war" or m.crisis_challenger[row] != c or target not in group:
                continue
            g = group[target]
            counts[k, 2 * g] += outcome == "incident"
            counts[k, 2 * g + 1] += 1
            backing[g].append(m.crisis_backing[row])
        counts[k, 4:] = [np.mean(b) if b else np.nan for b in backing]

    def contrast(inc_a, n_a, inc_u, n_u, axis=-1):
        return inc_a.sum(axis) / n_a.sum(axis) - inc_u.sum(axis) / n_u.sum(axis)

    columns = list(counts[:, :4].T)
    ci = stats.bootstrap(
        columns, contrast, paired=True, vectorized=True, method="percentile", rng=0
    ).confidence_interval
    return float(contrast(*columns)), float(ci.low), float(ci.high), counts


def assert_finite_tables(tables: dict[str, pd.DataFrame]) -> None:
    """Every number in the tables is finite, except within/across-bloc means, which are NaN
    where undefined (no bloc of two states, or a single bloc) and never infinite, and the
    crises table's `backing`, NaN exactly on the rows of scripted wars."""
    for name, table in tables.items():
        numbers = table.select_dtypes("number")
        if name == "crises":
            war = (table["outcome"] == "war").to_numpy()
            backing = table["backing"].to_numpy(dtype=float)
            assert np.isnan(backing[war]).all() and np.isfinite(backing[~war]).all(), name
            numbers = numbers.drop(columns=["backing"])
        bloc_means = [c for c in numbers if c.endswith(("_within", "_across"))]
        assert not np.isinf(numbers[bloc_means].to_numpy(dtype=float)).any(), name
        assert np.isfinite(numbers.drop(columns=bloc_means).to_numpy(dtype=float)).all(), name
