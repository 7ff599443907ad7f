"""Resolved scenario tree -> typed `sim.core.scenario.Scenario`, through the schema.

A key set to null counts as absent (its default applies; an alliance set to null has no
members); then `sim.scenarios.schema`
checks every key and value at once, and every problem found is raised together as one
`ScenarioError` (one line per problem). A valid file becomes the typed objects the model
runs: states in file order, pairs in state order, events sorted by step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.core.events import EVENT_SCHEMA
from sim.core.params import LEVERS, Parameters
from sim.core.scenario import Event, Relations, Scenario, StateSpec
from sim.scenarios.errors import ScenarioError
from sim.scenarios.fields import validate, without_nulls
from sim.scenarios.pairs import pair_parts
from sim.scenarios.schema import ScenarioFile, State, validation_context
from sim.scenarios.yaml_reader import Loc, LocDict, fail

__all__ = ["build_scenario"]


def build_scenario(tree: LocDict, source: str) -> Scenario:
    """Check a resolved tree (extends merged, overrides applied) and build the Scenario."""
    root: Loc = (source, None)
    if not isinstance(tree, Mapping):
        fail(root, "", "a mapping of scenario keys (name, states, ...)", "something else")
    tree = without_nulls(tree, keep=("alliances",))
    model = validate(ScenarioFile, tree, root, ScenarioError, validation_context(tree))
    return _scenario(model, tree)


def _in_file_order(raw: Any, values: Mapping[str, Any]) -> dict[str, float]:
    """The given keys of a small mapping (levers, richardson terms), in the file's order."""
    if not isinstance(raw, Mapping):
        return {}
    return {k: float(values[k]) for k in raw if values.get(k) is not None}


def _state(state: State, raw: Mapping[str, Any], width: int) -> StateSpec:
    given = {k for k in raw if k in State.model_fields}
    spec: dict[str, Any] = {"id": state.id, "capability": float(state.capability)}
    for key in ("name", "budget", "arms_industry", "stability", "governance", "autonomy"):
        if key in given:
            spec[key] = getattr(state, key)
    spec["position"] = tuple(state.position) if state.position is not None else (0.0,) * width
    if "location" in given:
        spec["location"] = tuple(state.location)
    spec["levers"] = _in_file_order(raw.get("levers"), dict(state.levers or {}))
    spec["richardson"] = _in_file_order(raw.get("richardson"), dict(state.richardson or {}))
    return StateSpec(**spec)


def _relations(model: ScenarioFile, index: Mapping[str, int]) -> Relations:
    rel = model.relations

    def ordered(a: str, b: str) -> tuple[str, str]:
        return (a, b) if index[a] <= index[b] else (b, a)

    def parts(key: str) -> tuple[str, str, str]:
        return pair_parts(key)  # type: ignore[return-value]  # checked by the schema

    def directed(table: Mapping[str, float]) -> dict[tuple[str, str], float]:
        out: dict[tuple[str, str], float] = {}
        for key, value in table.items():  # A-B sets both directions, A>B one and wins
            a, sep, b = parts(key)
            if sep == "-":
                out[(a, b)] = out[(b, a)] = value
        for key, value in table.items():
            a, sep, b = parts(key)
            if sep == ">":
                out[(a, b)] = value
        return out

    trust = directed(rel.trust)

    def symmetric(table: Mapping[str, float]) -> dict[tuple[str, str], float]:
        return {ordered(*parts(key)[::2]): value for key, value in table.items()}

    def pair_list(items: list[str]) -> tuple[tuple[str, str], ...]:
        return tuple(ordered(*parts(item)[::2]) for item in items)

    return Relations(
        trust=trust,
        interoperability=symmetric(rel.interoperability),
        hostility=symmetric(rel.hostility),
        agreements=pair_list(rel.agreements),
        hotlines=pair_list(rel.hotlines),
        dependency={imp: dict(row) for imp, row in rel.dependency.items()},
        access=directed(rel.access),
    )


def _events(model: ScenarioFile) -> tuple[Event, ...]:
    events = []
    for entry in model.events:
        step = entry.step if entry.step is not None else entry.date
        args = {}
        for name, spec in EVENT_SCHEMA[entry.type].items():
            value = getattr(entry, name)
            args[name] = tuple(value) if spec.kind == "states" and value is not None else value
        events.append(Event(step=step, type=entry.type, args=args))
    events.sort(key=lambda e: e.step)
    return tuple(events)


def _scenario(model: ScenarioFile, tree: Mapping[str, Any]) -> Scenario:
    raw_states = tree["states"]
    width = next((len(s.position) for s in model.states if s.position is not None), 2)
    states = tuple(
        _state(state, raw, width) for state, raw in zip(model.states, raw_states, strict=True)
    )
    index = {s.id: i for i, s in enumerate(states)}
    raw_params = tree.get("parameters")
    given = {k: getattr(model.parameters, k) for k in raw_params} if raw_params else {}
    return Scenario(
        name=model.name,
        states=states,
        steps=model.steps,
        seed=model.seed,
        description=model.description,
        sources=tuple(model.sources),
        time_unit=model.time_unit,
        start=model.start,
        parameters=Parameters(**given),
        governance={lever: getattr(model.governance, lever) for lever in LEVERS},
        alliances={name: tuple(ids or ()) for name, ids in model.alliances.items()},
        relations=_relations(model, index),
        events=_events(model),
    )
