"""Synthetic worlds of any size, for property tests, benchmarks and scaling studies.

The generator draws states with heavy-tailed capabilities, ideal points in two
camps plus non-aligned states, capitals on the globe, sparse rivalries between
distant camps, and a few arms dependencies, all from one seed.
"""

from __future__ import annotations

import numpy as np

from sim.core.params import Parameters
from sim.core.scenario import Relations, Scenario, StateSpec


def synthetic_world(
    n: int,
    *,
    seed: int = 0,
    steps: int = 120,
    rivalry_density: float = 0.01,
    parameters: Parameters | None = None,
) -> Scenario:
    """A reproducible random world of `n` states (ids S000, S001, ...)."""
    rng = np.random.default_rng(seed)
    capability = rng.pareto(1.5, n) + 0.01
    capability /= capability.max()
    camp = rng.choice([-1.0, 0.0, 1.0], size=n, p=[0.35, 0.3, 0.35])
    position = np.clip(
        np.column_stack([camp * 0.7, camp * 0.5]) + rng.normal(0, 0.25, (n, 2)), -1, 1
    )
    lat = np.degrees(np.arcsin(rng.uniform(-0.85, 0.95, n)))
    lon = rng.uniform(-180, 180, n)
    industry = np.clip(capability**0.7 * rng.uniform(0.3, 1.0, n), 0, 1)
    width = len(str(max(n - 1, 1)))
    ids = [f"S{k:0{max(width, 3)}d}" for k in range(n)]
    states = tuple(
        StateSpec(
            id=ids[k],
            capability=float(capability[k]),
            budget=float(0.05 + 3.0 * np.sqrt(capability[k])),
            arms_industry=float(industry[k]),
            stability=float(rng.uniform(0.3, 0.95)),
            governance=float(rng.uniform(0.2, 0.95)),
            position=(float(position[k, 0]), float(position[k, 1])),
            autonomy=float(rng.uniform(0.0, 0.8)),
            location=(float(lat[k]), float(lon[k])),
        )
        for k in range(n)
    )
    hostility: dict[tuple[str, str], float] = {}
    opposed = np.argwhere(np.triu(np.abs(camp[:, None] - camp[None, :]) >= 2, 1))
    if len(opposed):
        take = rng.random(len(opposed)) < rivalry_density * 6
        for i, j in opposed[take]:
            hostility[(ids[i], ids[j])] = float(rng.uniform(0.3, 0.9))
    exporters = np.argsort(-industry)[: max(1, n // 10)]
    dependency: dict[str, dict[str, float]] = {}
    for k in range(n):
        friendly = [e for e in exporters if e != k and camp[e] * camp[k] >= 0]
        if friendly and rng.random() < 0.6:
            e = friendly[int(rng.integers(len(friendly)))]
            dependency[ids[k]] = {ids[e]: float(rng.uniform(0.2, 0.8))}
    return Scenario(
        name=f"synthetic-{n}",
        description=f"Synthetic world of {n} states (seed {seed}).",
        states=states,
        steps=steps,
        seed=seed,
        parameters=parameters or Parameters(),
        relations=Relations(hostility=hostility, dependency=dependency),
    )
