#!/usr/bin/env python
"""Check that the bundled scenarios load and that their numbers match data/.

    .venv/bin/python scripts/check_scenarios.py [files...]      # default: scenarios/*.yaml

Each file is loaded with the real loader (`sim.scenarios.loader.load_scenario`: the one
schema, every key, range and cross-reference), then every state's capability, budget,
arms_industry and location is compared with data/states.csv, and its stability,
governance, autonomy and position with data/judgement.csv (the scenario builders derive
them from those tables). Exit code 0 if all files pass, 1 otherwise.
tests/test_loader.py runs `data_mismatches` on every bundled scenario.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sim.core.scenario import Scenario, StateSpec
from sim.scenarios.loader import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent


def data_tables(root: Path = ROOT) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(data/states.csv, data/judgement.csv), indexed by state id."""
    states = pd.read_csv(root / "data" / "states.csv").set_index("id")
    judgement = pd.read_csv(root / "data" / "judgement.csv", keep_default_na=False).set_index("id")
    return states, judgement


def _state_mismatches(s: StateSpec, states: pd.DataFrame, judgement: pd.DataFrame) -> list[str]:
    if s.id not in states.index or s.id not in judgement.index:
        return [f"{s.id}: not in data/states.csv and data/judgement.csv"]
    st, j = states.loc[s.id], judgement.loc[s.id]
    expect = {
        "capability": round(float(st.capability), 4),
        "budget": round(float(st.budget), 3),
        "arms_industry": round(float(st.arms_industry), 3),
        "stability": float(j.stability),
        "governance": float(j.governance),
        "autonomy": float(j.autonomy),
    }
    out = [
        f"{s.id}.{key}: {getattr(s, key)} differs from the data tables ({value})"
        for key, value in expect.items()
        if abs(getattr(s, key) - value) > 1e-6
    ]
    if [round(x, 6) for x in s.position] != [float(j.position_x), float(j.position_y)]:
        out.append(f"{s.id}.position: {list(s.position)} differs from data/judgement.csv")
    if abs(s.location[0] - st.lat) > 0.01 or abs(s.location[1] - st.lon) > 0.01:
        out.append(f"{s.id}.location: {list(s.location)} differs from data/states.csv")
    return out


def data_mismatches(scenario: Scenario, tables: tuple[pd.DataFrame, pd.DataFrame]) -> list[str]:
    """Every state attribute of a scenario that differs from the derived data tables."""
    return [m for s in scenario.states for m in _state_mismatches(s, *tables)]


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted((ROOT / "scenarios").glob("*.yaml"))
    tables = data_tables()
    bad = 0
    for f in files:
        try:
            scenario = load_scenario(f)
        except ScenarioError as exc:
            bad += 1
            print(f"FAIL {f.name}\n  " + str(exc).replace("\n", "\n  "))
            continue
        problems = data_mismatches(scenario, tables)
        if problems:
            bad += 1
            print(f"FAIL {f.name}")
            for line in problems[:50]:
                print(f"  {line}")
            if len(problems) > 50:
                print(f"  ... {len(problems) - 50} more")
            continue
        pairs = sum(
            len(getattr(scenario.relations, k)) for k in ("trust", "interoperability", "hostility")
        )
        print(
            f"ok   {f.name}: {len(scenario.states)} states, {scenario.steps} steps, "
            f"{len(scenario.events)} events, {pairs} relation entries, {f.stat().st_size / 1024:.0f} KB"
        )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
