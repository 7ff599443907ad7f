"""Extreme but valid inputs run cleanly: no NaN or inf, invariants hold (debug mode on)."""

from __future__ import annotations

import pytest

from sim.core.metrics import InvariantError, check_invariants
from sim.core.model import DiplomacyModel
from sim.scenarios.loader import scenario_from_dict
from tests.worlds import assert_finite_tables


def _scenario(states: list[dict], steps: int = 24, **extra) -> dict:
    return {
        "name": "extreme",
        "steps": steps,
        "seed": 3,
        "parameters": {"debug_invariants": 1},
        "states": states,
        **extra,
    }


def _finite_run(data: dict) -> DiplomacyModel:
    model = DiplomacyModel(scenario_from_dict(data))
    results = model.run()
    check_invariants(model)
    assert_finite_tables(results.tables())
    return model


def _state(sid: str, **kw) -> dict:
    return {"id": sid, "capability": 0.5, "location": [0.0, float(len(sid) * 7)], **kw}


@pytest.mark.parametrize(
    "states",
    [
        [_state("ONE")],  # one state
        [
            _state("AAA", capability=0.0, budget=0.0),
            _state("BBB", capability=0.0, budget=0.0),
        ],  # all zeros
        [
            _state("AAA", budget=1e6, arms_industry=1.0),
            _state("BBB", budget=1e6),
            _state("CCC"),
        ],  # huge budgets
        [_state("AAA", capability=1e6), _state("BBB", capability=1e-9)],  # huge capability spread
        [
            _state("AAA", stability=0.0, governance=0.0),
            _state("BBB", stability=0.0, governance=0.0),
        ],  # collapse
        [
            _state("AAA", autonomy=1.0, arms_industry=1.0),
            _state("BBB", autonomy=1.0, arms_industry=1.0),
        ],
        [
            _state(f"S{k:02d}", location=[0.0, 0.0]) for k in range(5)
        ],  # same capital: zero distances
    ],
    ids=[
        "one-state",
        "zeros",
        "huge-budgets",
        "capability-spread",
        "collapsed",
        "autarkic",
        "same-place",
    ],
)
def test_extreme_states_run_without_nan(states):
    _finite_run(_scenario(states))


def test_no_relations_and_extreme_parameters():
    states = [_state("AAA"), _state("BBB"), _state("CCC")]
    params = {
        "debug_invariants": 1,
        "temperature": 1e-6,
        "crisis_rate": 1.0,
        "crisis_exponent": 0.5,
        "exercise_interop": 1.0,
        "exercise_signal": 1.0,
        "incident_risk": 1.0,
        "entanglement": 1.0,
        "stock_decay": 1.0,
        "interop_decay": 1.0,
        "bank_cap": 1e6,
    }
    _finite_run({**_scenario(states), "parameters": params})


def test_divergent_arms_race_stays_finite():
    states = [
        _state("AAA", richardson={"reactivity": 1e3, "fatigue": 0.0, "ambition": 1e3}),
        _state("BBB", richardson={"reactivity": 1e3, "fatigue": 0.0, "ambition": 1e3}),
    ]
    data = _scenario(states, steps=200, relations={"hostility": {"AAA-BBB": 1.0}})
    data["parameters"] |= {"richardson_dt": 1.0}
    model = _finite_run(data)
    assert model.capability.max() == pytest.approx(model.p.capability_ceiling)


def test_debug_mode_names_the_broken_invariant():
    model = DiplomacyModel(scenario_from_dict(_scenario([_state("AAA"), _state("BBB")])))
    model.trust[0, 1] = 1.5
    with pytest.raises(InvariantError, match="trust outside"):
        check_invariants(model)
    model.trust[0, 1] = 0.5
    model.risk[0, 1] = 0.3  # now asymmetric
    with pytest.raises(InvariantError, match="risk is not symmetric"):
        model.step()
