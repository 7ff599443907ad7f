"""Tests for sim.scenarios.loader: validation, extends, overrides, dates, round trips, docs and fuzzing.

Run ``python tests/test_loader.py`` to rewrite the generated tables in docs/scenarios.md
after changing sim/params.py or sim/events.py.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import importlib.util
import json
import pickle
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim.scenarios.loader as loader
from sim.cli import main
from sim.core.events import EVENT_SCHEMA, KIND_CHOICES
from sim.core.params import LEVERS, Parameters
from sim.core.scenario import Event, Relations, Scenario, StateSpec
from sim.scenarios import extends
from sim.scenarios.docs import block, key_table, replace_blocks
from sim.scenarios.loader import (
    DEFAULT_GOVERNANCE,
    EVENT_KEYS,
    PARAMETER_KEYS,
    RELATION_KEYS,
    RICHARDSON_KEYS,
    STATE_KEYS,
    TIME_UNITS,
    TOP_KEYS,
    InputError,
    ScenarioError,
    apply_overrides,
    load_scenario,
    parse_set_option,
    resolve_scenario_path,
    resolved_scenario_dict,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
)
from sim.scenarios.schema import (
    EVENT_MODELS,
    Governance,
    ParametersFile,
    Richardson,
    ScenarioFile,
    State,
)
from sim.scenarios.schema import (
    Relations as RelationsFile,
)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "scenarios.md"

# --------------------------------------------------------------------------------------------
# Generated documentation tables (the doc must contain exactly these, made from the schema)
# --------------------------------------------------------------------------------------------


def events_tables() -> str:
    """One markdown table per event type: its fields, values, defaults and meanings."""
    parts = []
    for kind, model in EVENT_MODELS.items():
        table = key_table(model, key="field", skip=EVENT_KEYS)
        parts.append(f"### `{kind}`\n\n{table}")
    return "\n\n".join(parts)


def event_keys_table() -> str:
    """The keys every event has (those of any event type less its own fields)."""
    rows = key_table(EVENT_MODELS["coup"], skip=tuple(EVENT_SCHEMA["coup"])).splitlines()
    return "\n".join(rows[:2] + [r for r in rows[2:] if "`type`" not in r])


GENERATED = {
    "top-keys": lambda: key_table(ScenarioFile),
    "state-keys": lambda: key_table(State),
    "richardson": lambda: key_table(Richardson),
    "governance": lambda: key_table(Governance, key="lever"),
    "relation-keys": lambda: key_table(RelationsFile),
    "event-keys": event_keys_table,
    "events": events_tables,
    "parameters": lambda: key_table(ParametersFile, key="parameter"),
}


def write_docs() -> None:
    """Rewrite the generated blocks of docs/scenarios.md."""
    DOC.write_text(replace_blocks(DOC.read_text(encoding="utf-8"), GENERATED), encoding="utf-8")


@pytest.mark.parametrize("name", list(GENERATED))
def test_generated_doc_tables_are_current(name: str) -> None:
    match = block(DOC.read_text(encoding="utf-8"), name)
    assert match, f"docs/scenarios.md lacks the BEGIN/END {name} markers"
    assert match[2].strip() == GENERATED[name]().strip(), "run: python tests/test_loader.py"


def test_docs_mention_every_accepted_key() -> None:
    text = DOC.read_text(encoding="utf-8")
    keys = {
        *TOP_KEYS,
        *STATE_KEYS,
        *RELATION_KEYS,
        *RICHARDSON_KEYS,
        *EVENT_KEYS,
        *PARAMETER_KEYS,
        *LEVERS,
        *TIME_UNITS,
    }
    keys |= set(EVENT_SCHEMA) | {f for fields in EVENT_SCHEMA.values() for f in fields}
    keys |= {choice for choices in KIND_CHOICES.values() for choice in choices}
    missing = sorted(k for k in keys if f"`{k}`" not in text)
    assert not missing, f"docs/scenarios.md does not document: {missing}"


def test_full_doc_example_is_valid() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    scenario = scenario_from_dict(yaml.safe_load(blocks[-1]))
    assert scenario.name == "Two rivals and a hedger"
    assert [e.step for e in scenario.events] == [12, 18, 41, 50]


def test_default_governance_covers_every_lever() -> None:
    assert tuple(DEFAULT_GOVERNANCE) == LEVERS
    assert all(0 <= v <= 1 for v in DEFAULT_GOVERNANCE.values())


# --------------------------------------------------------------------------------------------
# A valid tiny world
# --------------------------------------------------------------------------------------------

# One valid value per event field kind, so every event type can be built.
FIELD_VALUES = {
    "state": "C",
    "states": ["A", "B"],
    "alliance": "Pact",
    "step": 20,
    "fraction": 0.4,
    "positive": 2.0,
    "count": 3,
    "kind": "naval",
    "lever": "oversight",
    "text": "series",
}


def tiny() -> dict[str, Any]:
    """A small valid scenario dict touching every section."""
    return {
        "name": "tiny",
        "description": "three states",
        "sources": ["made up"],
        "start": "2020-01",
        "steps": 36,
        "seed": 5,
        "parameters": {"temperature": 0.5, "max_activities": 2},
        "governance": {"transparency": 0.6},
        "alliances": {"Pact": ["A"]},
        "states": [
            {
                "id": "A",
                "name": "Aland",
                "capability": 1,
                "budget": 2,
                "position": [0.5, 0.1, -0.2],
                "levers": {"oversight": 0.9},
            },
            {
                "id": "B",
                "capability": 0.5,
                "location": [10, 20],
                "richardson": {"fatigue": 0.3, "ambition": -1},
            },
            {"id": "C", "capability": 0.2, "stability": 0.4, "autonomy": 0.9},
        ],
        "relations": {
            "trust": {"A-B": 0.5, "B>A": 0.8},
            "interoperability": {"B-A": 0.3},
            "hostility": {"C-A": 0.6},
            "agreements": ["A-B"],
            "hotlines": ["C-A"],
            "dependency": {"C": {"A": 0.5, "B": 0.25}},
        },
        "events": [
            {"date": "2021-01", "type": "coup", "state": "C"},
            {
                "step": 3,
                "type": "embargo",
                "suppliers": ["A"],
                "targets": ["C"],
                "until": "2020-12",
            },
            {"step": 3, "type": "join_alliance", "state": "B", "alliance": "Pact"},
            {
                "step": 5,
                "type": "exercise_program",
                "participants": ["A", "B"],
                "kind": "naval",
                "every": 6.0,
            },
        ],
    }


def test_tiny_dict_gives_typed_objects() -> None:
    s = scenario_from_dict(tiny())
    assert isinstance(s, Scenario) and s.path is None
    assert (s.name, s.steps, s.seed, s.start, s.time_unit) == ("tiny", 36, 5, "2020-01", "month")
    assert s.sources == ("made up",)
    assert s.parameters == Parameters(temperature=0.5, max_activities=2)
    assert s.governance == {**DEFAULT_GOVERNANCE, "transparency": 0.6}
    assert s.alliances == {"Pact": ("A",)}
    a, b, c = s.states
    assert a == StateSpec(
        id="A",
        name="Aland",
        capability=1.0,
        budget=2.0,
        position=(0.5, 0.1, -0.2),
        levers={"oversight": 0.9},
    )
    assert isinstance(a.capability, float) and isinstance(a.budget, float)
    assert b.position == (0.0, 0.0, 0.0) and b.location == (10.0, 20.0)
    assert b.richardson == {"fatigue": 0.3, "ambition": -1.0}
    assert c.label == "C" and c.stability == 0.4
    assert s.relations == Relations(
        trust={("A", "B"): 0.5, ("B", "A"): 0.8},
        interoperability={("A", "B"): 0.3},
        hostility={("A", "C"): 0.6},
        agreements=(("A", "B"),),
        hotlines=(("A", "C"),),
        dependency={"C": {"A": 0.5, "B": 0.25}},
    )
    assert s.events == (
        Event(3, "embargo", {"suppliers": ("A",), "targets": ("C",), "until": 11}),
        Event(3, "join_alliance", {"state": "B", "alliance": "Pact"}),
        Event(
            5,
            "exercise_program",
            {
                "participants": ("A", "B"),
                "kind": "naval",
                "every": 6,
                "until": None,
                "scale": 1.0,
                "name": "",
            },
        ),
        Event(12, "coup", {"state": "C", "severity": 0.6, "against": None}),
    )
    assert isinstance(s.events[2].args["every"], int)


def test_defaults_of_a_minimal_scenario() -> None:
    s = scenario_from_dict({"name": "min", "states": [{"id": "A", "capability": 0}]})
    assert (s.steps, s.seed, s.time_unit, s.start, s.events) == (120, 0, "month", None, ())
    assert s.states[0] == StateSpec(id="A", capability=0.0)
    assert s.governance == DEFAULT_GOVERNANCE and s.parameters == Parameters()


def test_every_event_type_and_field_kind_loads() -> None:
    events = []
    for kind, fields in EVENT_SCHEMA.items():
        event = {
            "step": 10,
            "type": kind,
            **{name: FIELD_VALUES[spec.kind] for name, spec in fields.items()},
        }
        if kind == "exercise_program":
            event["participants"] = ["A", "B", "C"]
        if kind in ("embargo", "lift_embargo"):
            event["suppliers"] = ["C"]
        if kind == "leave_alliance":
            event.update(state="A")
        events.append(event)
    s = scenario_from_dict({**tiny(), "events": events})
    assert [e.type for e in s.events] == list(EVENT_SCHEMA)
    for event in s.events:
        assert set(event.args) == set(EVENT_SCHEMA[event.type])


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"steps": True}, "steps: expected an integer in [1, 100000], got true"),
        ({"steps": 12.5}, "got 12.5"),
        ({"seed": -1}, "seed: expected an integer in [0, 9.22337e+18], got -1"),
        (
            {"parameters": {"max_activities": 2.5}},
            "parameters.max_activities: expected an integer in [1, 50]",
        ),
        (
            {"parameters": {"temperature": 0.0}},
            "parameters.temperature: expected a number >= 1e-06, got 0.0",
        ),
        ({"parameters": {"temperature": 10**400}}, "got a 401-digit integer"),
        (
            {"parameters": {"ambition": float("nan")}},
            "parameters.ambition: expected a number, got .nan",
        ),
        (
            {"governance": {"transparency": np.float64(1.5)}},
            "governance.transparency: expected a number in [0, 1], got 1.5",
        ),
        ({"start": "2020-1"}, 'start: expected a date "YYYY-MM"'),
        ({"time_unit": "months"}, "did you mean 'month'?"),
        ({"alliances": {"Pact": ["A", "A"]}}, "alliances.Pact[1]: expected distinct state ids"),
        (
            {"relations": {"trust": {"A-B": 0.5, "A>B": 0.2, "B-A": 0.1}}},
            "relations.trust.B-A: expected each pair once",
        ),
        (
            {"relations": {"agreements": ["A-B", "B-A"]}},
            "relations.agreements[1]: expected each pair once",
        ),
        (
            {"relations": {"hostility": {"A>B": 0.5}}},
            "relations.hostility.A>B: expected a pair of state ids like 'A-B'",
        ),
        (
            {"relations": {"dependency": {"C": {"A": 0.6, "B": 0.5}}}},
            "relations.dependency.C: expected supplier shares that sum to at most 1, got a sum of 1.1",
        ),
        (
            {"events": [{"step": 1, "type": "leave_alliance", "state": "B", "alliance": "Pact"}]},
            "events[0].state: expected a member of 'Pact' at step 1",
        ),
        (
            {"events": [{"step": 1, "type": "leave_alliance", "state": "B", "alliance": "Nato"}]},
            "events[0].alliance: expected an alliance from alliances: or joined earlier",
        ),
        (
            {"events": [{"step": 1, "type": "join_alliance", "state": "A", "alliance": "Pact"}]},
            "already a member",
        ),
        (
            {"events": [{"step": 1, "type": "sanctions", "by": ["A", "C"], "target": "C"}]},
            "events[0].target: expected a state not among by, got 'C' in both",
        ),
        (
            {"events": [{"step": 1, "type": "exercise_program", "participants": ["A"]}]},
            "expected a list of at least 2 state ids, got 1",
        ),
        (
            {"events": [{"step": 1, "type": "hotline", "states": ["A", "B", "C"]}]},
            "expected a list of exactly 2 state ids, got 3",
        ),
        (
            {"events": [{"step": 1, "type": "set_lever", "lever": "transparancy", "value": 1}]},
            "did you mean 'transparency'?",
        ),
        (
            {
                "events": [
                    {"step": 9, "type": "embargo", "suppliers": ["A"], "targets": ["B"], "until": 8}
                ]
            },
            "expected a step >= the event's step 9, got 8",
        ),
        (
            {"events": [{"step": 1, "type": "turmoil"}]},
            "events[0].state: expected a state id (required by turmoil), got nothing",
        ),
        (
            {
                "states": [
                    {"id": "A", "capability": 1, "position": [0.1]},
                    {"id": "B", "capability": 1, "position": [0.1, 0.2]},
                ]
            },
            "all positions need the same dimension",
        ),
    ],
)
def test_invalid_values_are_reported(change: dict, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({**tiny(), **change}, source="tiny")
    assert fragment in str(info.value)
    assert str(info.value).startswith("tiny")


def test_trust_direction_wins_over_pair_and_integral_floats_are_ints() -> None:
    s = scenario_from_dict(
        {**tiny(), "steps": 24.0, "seed": 3.0, "relations": {"trust": {"B>A": 0.9, "A-B": 0.2}}}
    )
    assert s.relations.trust == {("A", "B"): 0.2, ("B", "A"): 0.9}
    assert (s.steps, s.seed) == (24, 3) and isinstance(s.steps, int)


def test_null_means_default() -> None:
    data = {**tiny(), "events": None, "governance": None}
    data["states"][0]["budget"] = None
    s = scenario_from_dict(data)
    assert s.events == () and s.governance == DEFAULT_GOVERNANCE and s.states[0].budget == 0.5


def test_scenario_error_is_one_line_picklable_input_error() -> None:
    err = ScenarioError("x.yaml", 14, "states[3].stability", "a number in [0, 1]", "1.7")
    assert str(err) == "x.yaml:14: states[3].stability: expected a number in [0, 1], got 1.7"
    assert isinstance(err, InputError)
    again = pickle.loads(pickle.dumps(err))
    assert (again.file, again.line, again.key_path, str(again)) == (
        "x.yaml",
        14,
        "states[3].stability",
        str(err),
    )
    assert (
        str(ScenarioError("x.yaml", None, "", "UTF-8 text", "byte 0xff", "hint"))
        == "x.yaml: expected UTF-8 text, got byte 0xff; hint"
    )


def test_line_numbers_point_at_the_key(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nstates:\n  - id: A\n    capability: 1\n  - id: B\n    capability: 1\n    stability: 1.7\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert (info.value.line, info.value.key_path) == (7, "states[1].stability")
    assert str(info.value) == f"{path}:7: states[1].stability: expected a number in [0, 1], got 1.7"


# --------------------------------------------------------------------------------------------
# extends
# --------------------------------------------------------------------------------------------


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def test_extends_merge_rules(tmp_path: Path) -> None:
    _write(tmp_path / "base" / "parent.yaml", tiny())
    child = {
        "extends": "base/parent.yaml",
        "name": "child",
        "sources": ["other"],
        "parameters": {"max_activities": 4},
        "states": [{"id": "B", "budget": 3}, {"id": "D", "capability": 0.1}],
        "relations": {
            "hostility": {"A-C": 0.2},
            "dependency": {"C": {"B": 0.1}},
            "agreements": ["B-C"],
        },
        "events": [{"step": 3, "type": "coup", "state": "D"}],
        "alliances": {"Pact": ["A", "D"]},
    }
    s = load_scenario(_write(tmp_path / "child.yaml", child))
    assert s.name == "child" and s.description == "three states"
    assert s.sources == ("other",)
    assert s.parameters == Parameters(temperature=0.5, max_activities=4)
    assert s.ids == ["A", "B", "C", "D"]
    b = s.states[1]
    assert (b.budget, b.location, b.richardson) == (
        3.0,
        (10.0, 20.0),
        {"fatigue": 0.3, "ambition": -1.0},
    )
    assert s.alliances == {"Pact": ("A", "D")}
    assert s.relations.hostility == {("A", "C"): 0.2}
    assert s.relations.dependency == {"C": {"A": 0.5, "B": 0.1}}
    assert s.relations.agreements == (("B", "C"),)
    assert [(e.step, e.type) for e in s.events] == [
        (3, "embargo"),
        (3, "join_alliance"),
        (3, "coup"),
        (5, "exercise_program"),
        (12, "coup"),
    ]


def test_extends_chain_and_errors_name_the_right_file(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", {**tiny(), "steps": 40})
    _write(tmp_path / "b.yaml", {"extends": "a.yaml", "seed": 9})
    _write(tmp_path / "c.yaml", {"extends": "b.yaml", "name": "c"})
    s = load_scenario(tmp_path / "c.yaml")
    assert (s.name, s.steps, s.seed) == ("c", 40, 9)
    _write(tmp_path / "d.yaml", "extends: c.yaml\nstates:\n  - id: B\n    stability: 2\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "d.yaml")
    assert (Path(info.value.file).name, info.value.line) == ("d.yaml", 4)


def test_extends_cycle_and_missing(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", {**tiny(), "extends": "b.yaml"})
    _write(tmp_path / "b.yaml", {"extends": "a.yaml"})
    with pytest.raises(ScenarioError, match=r"a cycle .*a\.yaml -> .*b\.yaml -> .*a\.yaml"):
        load_scenario(tmp_path / "a.yaml")
    _write(tmp_path / "m.yaml", {"extends": "nothere.yaml"})
    with pytest.raises(
        ScenarioError,
        match=r"'nothere.yaml', which was not found; extends chain: .*m\.yaml -> nothere\.yaml",
    ):
        load_scenario(tmp_path / "m.yaml")


def test_extends_bundled_name_and_dict_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "bundle" / "small.yaml", tiny())
    monkeypatch.setattr(extends, "bundled_scenarios_dir", lambda: tmp_path / "bundle")
    monkeypatch.chdir(tmp_path)
    s = scenario_from_dict({"extends": "small", "name": "from dict"})
    assert s.name == "from dict" and s.ids == ["A", "B", "C"]
    assert resolve_scenario_path("small.yaml") == tmp_path / "bundle" / "small.yaml"
    assert load_scenario("small").path == str(tmp_path / "bundle" / "small.yaml")
    with pytest.raises(ScenarioError, match="bundled scenarios: small"):
        resolve_scenario_path("smal")


def test_bundled_scenarios_dir_is_the_project_folder() -> None:
    assert loader.bundled_scenarios_dir() == ROOT / "scenarios"
    assert loader.DEFAULT_SCENARIO == "indo_pacific"


# --------------------------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------------------------


def test_override_paths() -> None:
    overrides = {
        "steps": 48,
        "seed": 11,
        "parameters.temperature": 0.1,
        "governance.oversight": 0.2,
        "states.C.autonomy": 0.1,
        "states.B.levers.transparency": 0.7,
        "states.B.richardson.fatigue": 0.9,
        "events.3.step": 7,
        "events[1].until": 30,
        "relations.hostility.A-C": 0.9,
        "relations.trust.C>A": 0.1,
        "relations.dependency.C.B": 0.5,
        "alliances.Quad": ["A", "B"],
        "relations.hotlines": ["A-B"],
    }
    s = scenario_from_dict(tiny(), overrides=overrides)
    assert (s.steps, s.seed, s.parameters.temperature) == (48, 11, 0.1)
    assert s.governance["oversight"] == 0.2 and s.states[2].autonomy == 0.1
    assert s.states[1].levers == {"transparency": 0.7} and s.states[1].richardson["fatigue"] == 0.9
    assert [(e.step, e.type) for e in s.events][:3] == [
        (3, "embargo"),
        (3, "join_alliance"),
        (7, "exercise_program"),
    ]
    assert s.events[0].args["until"] == 30
    assert s.relations.hostility == {("A", "C"): 0.9}  # replaced the entry written C-A
    assert s.relations.trust[("C", "A")] == 0.1
    assert s.relations.dependency["C"] == {"A": 0.5, "B": 0.5}
    assert s.alliances == {"Pact": ("A",), "Quad": ("A", "B")}
    assert s.relations.hotlines == (("A", "B"),)
    # setting the step of a dated event drops its date (and vice versa)
    s = scenario_from_dict(tiny(), overrides={"events.0.step": 2, "events[3].date": "2020-09"})
    assert [(e.step, e.type) for e in s.events] == [
        (2, "coup"),
        (3, "embargo"),
        (3, "join_alliance"),
        (8, "exercise_program"),
    ]


def test_apply_overrides_copies_its_input() -> None:
    data = tiny()
    before = copy.deepcopy(data)
    out = apply_overrides(data, {"states.A.capability": 3, "parameters.temperature": 1})
    assert data == before
    assert out["states"][0]["capability"] == 3 and out["parameters"]["temperature"] == 1


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        (
            "stepz",
            1,
            "--set: stepz: expected a known scenario key, got 'stepz'; did you mean 'steps'?",
        ),
        ("parameters.temperatur", 1, "did you mean 'temperature'?"),
        ("governance.transparancy", 1, "did you mean 'transparency'?"),
        ("states.D.autonomy", 1, "states.D.autonomy: expected an existing state id, got 'D'"),
        ("states.a.autonomy", 1, "did you mean 'A'?"),
        ("states.A.autonmy", 1, "did you mean 'autonomy'?"),
        ("states.A", 1, "expected a state key after the id"),
        ("states.A.id", "Z", "expected a known state key, got 'id'"),
        ("states.A.levers.oversigt", 1, "did you mean 'oversight'?"),
        ("states.A.budget.x", 1, "expected a key path like states.A.budget"),
        ("events.9.step", 1, "events.9.step: expected an event index in [0, 3], got '9'"),
        ("events.0.sevrity", 1, "did you mean 'severity'?"),
        ("relations.hostilty.A-B", 1, "did you mean 'hostility'?"),
        ("relations.agreements.0", 1, "a whole list"),
        ("steps.x", 1, "expected no key below steps"),
        ("extends", "x.yaml", "expected a known scenario key, got 'extends'"),
        ("states..x", 1, "expected a dotted key path"),
        (
            "states.A.stability",
            1.7,
            "--set: states[0].stability: expected a number in [0, 1], got 1.7",
        ),
        (
            "relations.hostility.A-Q",
            0.5,
            "--set: relations.hostility.A-Q: expected a known state id, got 'Q'",
        ),
    ],
)
def test_bad_overrides(path: str, value: Any, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(tiny(), overrides={path: value})
    assert fragment in str(info.value)
    assert info.value.file == "--set"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("steps=24", ("steps", 24)),
        ("parameters.temperature = 0.1", ("parameters.temperature", 0.1)),
        ("alliances.Quad=[USA, JPN]", ("alliances.Quad", ["USA", "JPN"])),
        ("states.A.levers={oversight: 0.2}", ("states.A.levers", {"oversight": 0.2})),
        ("name=a=b", ("name", "a=b")),
        ("description=null", ("description", None)),
        ("events[2].type=coup", ("events[2].type", "coup")),
    ],
)
def test_parse_set_option(text: str, expected: tuple[str, Any]) -> None:
    assert parse_set_option(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("steps", "KEY=VALUE"),
        ("=3", "a key path before '='"),
        ("x=[1", "valid YAML"),
        ("x=*a", "undefined alias"),
        ("steps=", "--set: steps: expected a value after '=', got nothing; write steps=null"),
        ("steps=  ", "expected a value after '='"),
    ],
)
def test_parse_set_option_errors(text: str, fragment: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(fragment)):
        parse_set_option(text)


# --------------------------------------------------------------------------------------------
# Dates and time units
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("date", "step"), [("2020-01", 0), ("2021-03", 14)])
def test_date_to_step(date: str, step: int) -> None:
    s = scenario_from_dict(
        {**tiny(), "time_unit": "month", "events": [{"date": date, "type": "coup", "state": "A"}]}
    )
    assert s.events[0].step == step


@pytest.mark.parametrize("unit", ["quarter", "year", "week"])
def test_only_monthly_steps(unit: str) -> None:
    """The model's rates are per month: another time unit would silently change the model."""
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({**tiny(), "time_unit": unit}, source="tiny")
    assert str(info.value) == (
        "tiny: time_unit: expected month (the model's rates are per month; quarter and year "
        f"are not supported), got {unit!r}; allowed: month"
    )


def test_yaml_dates_and_until_dates(tmp_path: Path) -> None:
    text = "name: d\nstart: 2020-01-15\nsteps: 24\nstates: [{id: A, capability: 1}, {id: B, capability: 1}]\n"
    text += "events:\n  - {date: 2020-06-30, type: embargo, suppliers: [A], targets: [B], until: 2030-01}\n"
    s = load_scenario(_write(tmp_path / "d.yaml", text))
    assert s.start == "2020-01"
    assert s.events[0] == Event(
        5, "embargo", {"suppliers": ("A",), "targets": ("B",), "until": 120}
    )
    assert scenario_from_dict({**tiny(), "start": datetime.date(2019, 12, 1)}).start == "2019-12"


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        (
            {"date": "2023-01"},
            "expected a date within the run, 2020-01 to 2022-12, got '2023-01' (step 36, after the last step)",
        ),
        ({"date": "2019-12"}, "before the start"),
        ({"date": "2020-13"}, "expected a date \"YYYY-MM\", got '2020-13'"),
        ({"step": 36}, "events[0].step: expected a step in [0, 35] (the run has 36 steps), got 36"),
        (
            {"step": 1, "date": "2020-02"},
            "events[0]: expected exactly one of step or date, got both",
        ),
        ({}, "got neither"),
    ],
)
def test_bad_event_times(event: dict, fragment: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(fragment)):
        scenario_from_dict({**tiny(), "events": [{**event, "type": "coup", "state": "A"}]})


def test_dates_need_start() -> None:
    data = {k: v for k, v in tiny().items() if k != "start"}
    with pytest.raises(
        ScenarioError,
        match=re.escape(
            "events[0].date: expected a step number (dates need a top-level start: YYYY-MM)"
        ),
    ):
        scenario_from_dict(data)


# --------------------------------------------------------------------------------------------
# Resolved form, round trips and hashes
# --------------------------------------------------------------------------------------------


def _reload(data: dict, tmp_path: Path) -> Scenario:
    return load_scenario(_write(tmp_path / "resolved.yaml", data))


def test_round_trip_of_resolved_dict(tmp_path: Path) -> None:
    s = scenario_from_dict(tiny(), overrides={"states.A.capability": 0.75})
    resolved = resolved_scenario_dict(tiny(), overrides={"states.A.capability": 0.75})
    assert resolved == scenario_to_dict(s)
    assert set(resolved) == set(TOP_KEYS) - {"extends", "remove_events"}
    assert set(resolved["parameters"]) == set(PARAMETER_KEYS)
    assert all("date" not in e for e in resolved["events"])
    again = _reload(resolved, tmp_path)
    assert dataclasses.replace(again, path=None) == s
    assert scenario_hash(again) == scenario_hash(s)
    assert scenario_to_dict(again) == resolved


def test_resolved_dict_of_a_file_with_extends(tmp_path: Path) -> None:
    _write(tmp_path / "p.yaml", tiny())
    child = _write(
        tmp_path / "c.yaml", {"extends": "p.yaml", "states": [{"id": "E", "capability": 2}]}
    )
    resolved = resolved_scenario_dict(child)
    assert "extends" not in resolved and [st["id"] for st in resolved["states"]] == [
        "A",
        "B",
        "C",
        "E",
    ]
    assert dataclasses.replace(_reload(resolved, tmp_path), path=None) == dataclasses.replace(
        load_scenario(child), path=None
    )


BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_scenarios_load_and_round_trip(path: Path, tmp_path: Path) -> None:
    s = load_scenario(path)
    again = _reload(resolved_scenario_dict(path), tmp_path)
    assert dataclasses.replace(again, path=s.path) == s
    assert scenario_hash(again) == scenario_hash(s)


def test_scenario_to_dict_of_a_hand_built_scenario() -> None:
    s = Scenario(
        name="hand",
        states=(StateSpec("A", 1.0), StateSpec("B", np.float64(0.5))),
        relations=Relations(hostility={("A", "B"): 0.5}),
    )
    d = scenario_to_dict(s)
    assert d["states"][1]["capability"] == 0.5 and type(d["states"][1]["capability"]) is float
    assert d["relations"]["hostility"] == {"A-B": 0.5}
    assert len(scenario_hash(s)) == 64


def test_hash_depends_on_content_only() -> None:
    a = scenario_from_dict(tiny())
    shuffled = dict(reversed(list(tiny().items())))
    assert scenario_hash(a) == scenario_hash(scenario_from_dict(shuffled))
    assert scenario_hash(a) == scenario_hash(dataclasses.replace(a, path="elsewhere.yaml"))
    assert scenario_hash(a) != scenario_hash(scenario_from_dict(tiny(), overrides={"seed": 6}))


# --------------------------------------------------------------------------------------------
# CLI (in-process; the subprocess runs are in test_bad_inputs.py)
# --------------------------------------------------------------------------------------------


def test_cli_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path / "good.yaml", tiny())
    bad = _write(tmp_path / "bad.yaml", {**tiny(), "steps": 0})
    assert main(["validate", str(good)]) == 0
    assert capsys.readouterr().out == f"ok  {good}  (3 states, 36 steps, 4 events)\n"
    assert main(["validate", str(good), str(bad)]) == 2
    out, err = capsys.readouterr()
    assert (
        out.startswith("ok  ")
        and err == f"{bad}:6: steps: expected an integer in [1, 100000], got 0\n"
    )
    assert main(["validate", str(good), "--set", "steps=24"]) == 0
    assert "24 steps" in capsys.readouterr().out
    assert main(["validate", str(good), "--set", "steps"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_cli_version_help_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("ddsim ")
    assert main([]) == 2
    assert main(["validate"]) == 2
    assert main(["frobnicate"]) == 2


# --------------------------------------------------------------------------------------------
# Property tests: anything either loads or raises ScenarioError
# --------------------------------------------------------------------------------------------

NAMES = [
    *TOP_KEYS,
    *STATE_KEYS,
    *RELATION_KEYS,
    *LEVERS,
    *EVENT_KEYS,
    *EVENT_SCHEMA,
    "A",
    "B",
    "C",
    "A-B",
    "B>A",
    "Pact",
    "temperature",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, 1, 0.5, -1, 2, 119, 120, 10**6 + 1, "2020-06", "2030-01"])
    | st.sampled_from(NAMES)
    | st.text(max_size=12)
    | st.dates()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=16,
)
DOCUMENTS = st.dictionaries(st.sampled_from(TOP_KEYS) | st.text(max_size=6), VALUES, max_size=6)


def _paths(tree: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a node below the root of a nested dict/list."""
    out = []
    items = (
        tree.items()
        if isinstance(tree, dict)
        else enumerate(tree)
        if isinstance(tree, list)
        else []
    )
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_paths(value, (*prefix, key)))
    return out


@st.composite
def mutated_scenarios(draw: st.DrawFn) -> dict:
    """The tiny valid scenario with 1-3 random keys dropped or set to random values."""
    doc = tiny()
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(VALUES)
    return doc


def _loads_or_scenario_error(call: Any, *args: Any, **kwargs: Any) -> None:
    try:
        result = call(*args, **kwargs)
    except ScenarioError as exc:
        assert str(exc) and "\n" not in exc.expected
    else:
        assert isinstance(result, Scenario)


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(DOCUMENTS | VALUES)
def test_random_documents_load_or_raise_scenario_error(doc: Any) -> None:
    _loads_or_scenario_error(scenario_from_dict, doc)


@PROPERTY
@given(
    mutated_scenarios(),
    st.dictionaries(
        st.sampled_from(
            [
                "steps",
                "states.A.budget",
                "events.0.step",
                "relations.trust.A-B",
                "parameters.temperature",
                "x",
            ]
        ),
        SCALARS,
        max_size=2,
    ),
)
def test_mutated_scenarios_load_or_raise_scenario_error(doc: dict, overrides: dict) -> None:
    _loads_or_scenario_error(scenario_from_dict, doc)
    _loads_or_scenario_error(scenario_from_dict, doc, overrides=overrides)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "doc.yaml"


@PROPERTY
@given(mutated_scenarios() | DOCUMENTS)
def test_random_yaml_files_load_or_raise_scenario_error(scratch: Path, doc: Any) -> None:
    scratch.write_text(yaml.safe_dump(doc, allow_unicode=True))
    _loads_or_scenario_error(load_scenario, scratch)


YAML_CHARS = st.sampled_from(
    list("{}[]:,-&*!|>'\"#%@`?\n\t .e0159abAB")
    + [
        "name: x\n",
        "states:\n",
        "  - ",
        "!!python/",
        "<<: ",
        "&a ",
        "*a",
        "2020-02-30",
        ".inf",
        "\x00",
        "\ufeff",
        "é",
    ]
)


@PROPERTY
@given(
    st.lists(YAML_CHARS, max_size=40).map(lambda parts: "".join(parts).encode("utf-8"))
    | st.binary(max_size=60)
)
def test_random_bytes_load_or_raise_scenario_error(scratch: Path, data: bytes) -> None:
    scratch.write_bytes(data)
    _loads_or_scenario_error(load_scenario, scratch)


# --------------------------------------------------------------------------------------------
# Every error at once; limits on text; numbers as the docs write them; sources of values
# --------------------------------------------------------------------------------------------


def test_every_error_of_a_file_is_reported_at_once(tmp_path: Path, cli) -> None:
    data = tiny()
    data["steps"] = 0
    data["states"][1]["stability"] = 2
    data["relations"]["hostility"] = {"C-Q": 0.5}
    data["events"][0]["state"] = "Z"
    path = _write(tmp_path / "bad.yaml", data)
    result = cli("validate", path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "steps",
        "states[1].stability",
        "relations.hostility.C-Q",
        "events[0].state",
    ]
    assert all(line.startswith(f"{path}:") for line in lines)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value) and len(again.errors) == 4


def test_at_most_twenty_errors_are_shown() -> None:
    states = [{"id": f"S{i}", "capability": -1} for i in range(30)]
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"name": "many", "states": states}, source="many")
    lines = str(info.value).splitlines()
    assert len(lines) == 21 and len(info.value.errors) == 20
    assert lines[-1] == "many: ... and 10 more errors (first fix those above)"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            {"name": "x" * 100_000},
            "name: expected a non-empty string of at most 200 characters, got 100,000 characters",
        ),
        (
            {"description": "d" * 10_001},
            "description: expected a string of at most 10,000 characters",
        ),
        ({"sources": ["s" * 10_001]}, "sources[0]: expected a string of at most 10,000 characters"),
        (
            {"alliances": {"P" * 201: ["A"]}},
            "expected an alliance name (a non-empty string) of at most 200 characters",
        ),
        (
            {"states": [{"id": "A" * 201, "capability": 1}]},
            "states[0].id: expected an id of at most 200 characters",
        ),
        (
            {"name": "red \x1b[31malert"},
            "name: expected a non-empty string without control characters, got '\\x1b' at character 5",
        ),
        ({"description": "two\nlines\tand a tab"}, None),
        ({"description": "bell\x07"}, "description: expected a string without control characters"),
    ],
)
def test_text_is_bounded_and_free_of_control_characters(change: dict, fragment: str | None) -> None:
    data = {**tiny(), **change}
    if fragment is None:
        assert scenario_from_dict(data).description == change["description"]
        return
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="tiny")
    assert fragment in str(info.value)
    assert all(len(line) < 1000 for line in str(info.value).splitlines())


def test_exponent_numbers_are_numbers(tmp_path: Path) -> None:
    """1e9 (the docs' notation) is a string to YAML 1.1; here it is a number, and a text
    field written like a number keeps its text (a saved scenario loads back equal)."""
    path = _write(
        tmp_path / "e.yaml",
        "name: 1e9\nstates: [{id: A, capability: 1E-3, name: 2.5e3}]\n"
        "parameters: {capability_ceiling: 1e9, temperature: 5.0e-1}\n",
    )
    s = load_scenario(path)
    assert s.parameters.capability_ceiling == 1e9 and s.parameters.temperature == 0.5
    assert s.states[0].capability == 0.001 and (s.name, s.states[0].name) == ("1e9", "2.5e3")
    assert (
        scenario_from_dict(tiny(), overrides={"steps": parse_set_option("steps=2.4e1")[1]}).steps
        == 24
    )
    again = load_scenario(_write(tmp_path / "saved.yaml", loader.saved_scenario_text(s)))
    assert dataclasses.replace(again, path=None) == dataclasses.replace(s, path=None)


def test_empty_set_value_is_an_error(tmp_path: Path, cli) -> None:
    good = _write(tmp_path / "good.yaml", tiny())
    result = cli("validate", good, "--set", "steps=")
    assert result.returncode == 2
    assert result.stderr == (
        "--set: steps: expected a value after '=', got nothing; write steps=null to use the default\n"
    )
    assert cli("validate", good, "--set", "steps=null").stdout.endswith(
        "(3 states, 120 steps, 4 events)\n"
    )


def test_a_bad_value_names_its_real_source(tmp_path: Path) -> None:
    """A seed above 2^63 from --seed is not reported as coming from --set (nor a file's)."""
    path = _write(tmp_path / "s.yaml", tiny())
    expected = "seed: expected an integer in [0, 9.22337e+18], got a 20-digit integer"
    for overrides, source in (
        ({"seed": loader.Sourced(2**64, "--seed")}, "--seed"),
        ({"seed": 2**64}, "--set"),
    ):
        with pytest.raises(ScenarioError) as info:
            load_scenario(path, overrides)
        assert str(info.value) == f"{source}: {expected}"
    _write(path, {**tiny(), "seed": 2**64})
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, {"description": "from --set"})
    assert str(info.value) == f"{path}:7: {expected}"


def test_bundled_scenarios_match_the_data_tables() -> None:
    """What scripts/check_scenarios.py checks beyond the schema: numbers come from data/."""
    spec = importlib.util.spec_from_file_location("check", ROOT / "scripts" / "check_scenarios.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    tables = check.data_tables()
    for path in BUNDLED:
        assert check.data_mismatches(load_scenario(path), tables) == [], path.name
    moved = scenario_from_dict(
        resolved_scenario_dict("minimal"), overrides={"states.USA.budget": 9}
    )
    assert check.data_mismatches(moved, tables) == [
        "USA.budget: 9.0 differs from the data tables ("
        + str(round(float(tables[0].loc["USA"].budget), 3))
        + ")"
    ]


# --------------------------------------------------------------------------------------------
# JSON Schema for editors
# --------------------------------------------------------------------------------------------


def _json_data(value: Any) -> Any:
    """YAML data as JSON sees it (a YAML 1.2 editor reads dates as strings)."""
    if isinstance(value, dict):
        return {str(k): _json_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_data(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


@pytest.mark.parametrize(
    ("kind", "files", "bad"),
    [
        (
            "scenario",
            "scenarios/*.yaml",
            ["unknown_top_key", "state_stability_range", "event_unknown_type", "time_unit_year"],
        ),
        (
            "experiment",
            "experiments/*.yaml",
            ["unknown_top_key", "replicates_zero", "steps_not_int"],
        ),
    ],
)
def test_json_schema_accepts_every_shipped_file(cli, kind: str, files: str, bad: list[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    result = cli("schema", kind)
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    shipped = sorted(ROOT.glob(files))
    assert shipped
    for path in shipped:
        data = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        errors = list(validator.iter_errors(_json_data(data)))
        assert errors == [], (path.name, errors[:1])
    folder = ROOT / "tests" / ("bad_inputs" if kind == "scenario" else "bad_experiments")
    for name in bad:
        data = _json_data(yaml.safe_load((folder / f"{name}.yaml").read_text()))
        assert not validator.is_valid(data), name


def test_manifest_schemas_accept_what_ddsim_writes(cli, tmp_path: Path) -> None:
    """`ddsim schema run-manifest|sweep-manifest` print JSON Schemas that accept the manifests a
    real run and a real sweep write, and reject one without its seed."""
    jsonschema = pytest.importorskip("jsonschema")
    assert cli("run", "minimal", "--steps", "6", "--no-plots", "-q", "--out",
               str(tmp_path / "run")).returncode == 0  # fmt: skip
    assert cli("sweep", str(ROOT / "experiments" / "smoke.yaml"), "--out", str(tmp_path / "s"),
               "--workers", "1", "--quiet").returncode == 0  # fmt: skip
    for kind, path in (("run-manifest", "run/manifest.json"), ("sweep-manifest", "s/sweep.json")):
        schema = json.loads(cli("schema", kind).stdout)
        jsonschema.Draft202012Validator.check_schema(schema)
        data = json.loads((tmp_path / path).read_text())
        jsonschema.validate(data, schema)
        data.pop("root_seed" if kind == "sweep-manifest" else "seed")
        assert not jsonschema.Draft202012Validator(schema).is_valid(data)


# --------------------------------------------------------------------------------------------
# remove_events
# --------------------------------------------------------------------------------------------


def _named_program(tmp_path: Path) -> Path:
    parent = tiny()
    parent["events"] = [*parent["events"], {**parent["events"][3], "name": "Drill", "step": 7}]
    return _write(tmp_path / "p.yaml", parent)


def test_remove_events_drops_matching_inherited_events(tmp_path: Path) -> None:
    _named_program(tmp_path)
    child = {
        "extends": "p.yaml",
        "remove_events": [{"type": "join_alliance", "state": "B"}, "Drill"],
        "events": [{"step": 4, "type": "join_alliance", "state": "B", "alliance": "Pact"}],
    }
    s = load_scenario(_write(tmp_path / "c.yaml", child))
    parent = load_scenario(tmp_path / "p.yaml")
    assert [e.type for e in parent.events].count("join_alliance") == 1
    kept = [(e.step, e.type) for e in s.events]
    assert (3, "join_alliance") not in kept and (4, "join_alliance") in kept  # own event kept
    assert len(s.events) == len(parent.events) - 1  # two removed, one added
    assert all(e.args.get("name") != "Drill" for e in s.events)
    # a mapping matches on all its fields: a list value compares as a whole
    child = {"extends": "p.yaml", "remove_events": [{"type": "embargo", "suppliers": ["A"]}]}
    s = load_scenario(_write(tmp_path / "d.yaml", child))
    assert "embargo" not in [e.type for e in s.events]


@pytest.mark.parametrize(
    ("remove", "fragment"),
    [
        (
            [{"type": "coup", "state": "A"}],
            "remove_events[0]: expected a matcher of at least one event",
        ),
        (["Nope"], "'Nope', which matches none"),
        ([{"type": "coup", "stat": "C"}], "remove_events[0].stat: expected a field of an event"),
        ([], "remove_events: expected a list of event matchers"),
        ("Drill", "remove_events: expected a list of event matchers"),
        ([3], "remove_events[0]: expected a list of event matchers"),
    ],
)
def test_bad_remove_events(tmp_path: Path, remove: Any, fragment: str) -> None:
    _named_program(tmp_path)
    path = _write(tmp_path / "c.yaml", {"extends": "p.yaml", "remove_events": remove})
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert fragment in text and "\n" not in text, text


def test_remove_events_without_extends_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.yaml", {**tiny(), "remove_events": ["Drill"]})
    with pytest.raises(ScenarioError, match="remove_events: expected a key of a file with extends"):
        load_scenario(path)


def test_shipped_variants_remove_what_they_say() -> None:
    base = load_scenario("europe_nato")
    out = load_scenario(ROOT / "scenarios" / "variants" / "no_nordic_accession.yaml")
    joins = [e.args["state"] for e in base.events if e.type == "join_alliance"]
    assert sorted(joins) == ["FIN", "SWD"]
    assert not [e for e in out.events if e.type == "join_alliance"]
    assert len(out.events) == len(base.events) - 2
    embargo = load_scenario(ROOT / "scenarios" / "variants" / "saudi_embargo.yaml")
    on_saudi = [e for e in embargo.events if e.type == "embargo" and "SAU" in e.args["targets"]]
    assert len(on_saudi) == 1 and sorted(on_saudi[0].args["suppliers"]) == ["FRN", "UKG", "USA"]


if __name__ == "__main__":
    write_docs()
    sys.exit(0)
