"""Small worlds built in code for model tests (independent of the YAML loader)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def assert_finite_tables(tables: dict[str, pd.DataFrame]) -> None:
    """Every number in the tables is finite, except within/across-bloc means, which are NaN
    where undefined (no bloc of two states, or a single bloc) and never infinite."""
    for name, table in tables.items():
        numbers = table.select_dtypes("number")
        bloc_means = [c for c in numbers if c.endswith(("_within", "_across"))]
        assert not np.isinf(numbers[bloc_means].to_numpy(dtype=float)).any(), name
        assert np.isfinite(numbers.drop(columns=bloc_means).to_numpy(dtype=float)).all(), name
