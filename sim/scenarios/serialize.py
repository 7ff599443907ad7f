"""The canonical resolved form of a scenario (what a run directory saves) and its hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.core.params import Parameters
from sim.core.scenario import Scenario

__all__ = ["scenario_hash", "scenario_to_dict"]


def _pair_key(pair: tuple[str, str], sep: str) -> str:
    return f"{pair[0]}{sep}{pair[1]}"


def _plain(value: Any) -> Any:
    """Tuples -> lists and numpy scalars -> Python numbers, for YAML and JSON."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """Canonical plain-dict form of a Scenario (every default filled in; loads back equal)."""
    rel = scenario.relations
    return _plain(
        {
            "name": scenario.name,
            "description": scenario.description,
            "sources": list(scenario.sources),
            "time_unit": scenario.time_unit,
            "start": scenario.start,
            "steps": scenario.steps,
            "seed": scenario.seed,
            "parameters": {
                f.name: getattr(scenario.parameters, f.name) for f in dataclasses.fields(Parameters)
            },
            "governance": dict(scenario.governance),
            "alliances": {name: list(ids) for name, ids in scenario.alliances.items()},
            "states": [
                {
                    "id": s.id,
                    "name": s.name,
                    "capability": s.capability,
                    "budget": s.budget,
                    "arms_industry": s.arms_industry,
                    "stability": s.stability,
                    "governance": s.governance,
                    "position": list(s.position),
                    "autonomy": s.autonomy,
                    "location": list(s.location),
                    "levers": dict(s.levers),
                    "richardson": dict(s.richardson),
                }
                for s in scenario.states
            ],
            "relations": {
                "trust": {_pair_key(p, ">"): v for p, v in rel.trust.items()},
                "interoperability": {_pair_key(p, "-"): v for p, v in rel.interoperability.items()},
                "hostility": {_pair_key(p, "-"): v for p, v in rel.hostility.items()},
                "agreements": [_pair_key(p, "-") for p in rel.agreements],
                "hotlines": [_pair_key(p, "-") for p in rel.hotlines],
                "dependency": {imp: dict(row) for imp, row in rel.dependency.items()},
                **(
                    {"access": {_pair_key(p, ">"): v for p, v in rel.access.items()}}
                    if rel.access
                    else {}
                ),
            },
            "events": [{"step": e.step, "type": e.type, **e.args} for e in scenario.events],
        }
    )


def scenario_json(scenario: Scenario) -> str:
    """Canonical JSON text of `scenario_to_dict` (sorted keys, no spaces)."""
    return json.dumps(
        scenario_to_dict(scenario),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def scenario_hash(scenario: Scenario) -> str:
    """sha256 of the canonical JSON of `scenario_to_dict` (the file path does not count)."""
    return hashlib.sha256(scenario_json(scenario).encode("utf-8")).hexdigest()
