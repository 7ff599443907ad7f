"""``--set PATH=VALUE`` overrides: parsing the option and applying dotted paths to a tree.

Paths: top-level keys (``steps``), ``parameters.X``, ``governance.X``, ``alliances.NAME``,
``states.ID.KEY`` (``levers``/``richardson`` one level deeper), ``relations.KIND[.PAIR]``,
``relations.dependency.IMPORTER[.SUPPLIER]``, ``events.N[.FIELD]`` or ``events[N].FIELD``.
Values are checked afterwards by the schema, which names the override's source (``--set``,
or the option or file a `Sourced` value says it came from) as the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from sim.core.events import EVENT_SCHEMA
from sim.core.params import LEVERS
from sim.scenarios.errors import choice_hint, describe_value
from sim.scenarios.extends import as_top
from sim.scenarios.pairs import same_pair
from sim.scenarios.schema import (
    EVENT_KEYS,
    PARAMETER_KEYS,
    RELATION_KEYS,
    RICHARDSON_KEYS,
    STATE_KEYS,
    TOP_KEYS,
)
from sim.scenarios.yaml_reader import Loc, LocDict, LocList, copy_tree, fail, loc_of, parse_yaml

__all__ = ["Sourced", "apply_overrides", "parse_set_option"]

_INDEX_RE = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Sourced:
    """An override value with where it came from, for messages (e.g. ``Sourced(7, "--seed")``:
    a bad value is reported as ``--seed: seed: expected ...``, not as ``--set``)."""

    value: Any
    source: str


def parse_set_option(text: str) -> tuple[str, Any]:
    """'parameters.temperature=0.1' -> ('parameters.temperature', 0.1); the value is YAML
    (``KEY=null`` restores the default; an empty value is an error, not a silent default)."""
    loc: Loc = ("--set", None)
    if not isinstance(text, str) or "=" not in text:
        fail(loc, "", "KEY=VALUE (e.g. parameters.temperature=0.1)", describe_value(text))
    key, _, raw = text.partition("=")
    if not key.strip():
        fail(loc, "", "KEY=VALUE with a key path before '='", describe_value(text))
    if not raw.strip():
        fail(
            loc,
            key.strip(),
            "a value after '='",
            "nothing",
            f"write {key.strip()}=null to use the default",
        )
    return key.strip(), copy_tree(parse_yaml(raw, "--set"), loc, keep_locs=False)


def _split_path(path: Any, loc: Loc) -> list[str]:
    """'events[3].step' -> ['events', '3', 'step']."""
    if not isinstance(path, str) or not path.strip():
        fail(loc, "", "a dotted key path such as parameters.temperature", describe_value(path))
    tokens = _INDEX_RE.sub(r".\1", path.strip()).split(".")
    if not all(tokens):
        fail(loc, path, "a dotted key path such as parameters.temperature", describe_value(path))
    return tokens


def _sub_mapping(parent: LocDict, key: str, loc: Loc, path: str) -> LocDict:
    """parent[key] as a mapping, created empty when missing (for setting a key inside it)."""
    value = parent.get(key)
    if value is None:
        value = parent[key] = LocDict()
        parent.locs[key] = loc
    if not isinstance(value, LocDict):
        fail(
            loc_of(parent, key, loc),
            path,
            f"{key} to be a mapping to set a key in it",
            describe_value(value),
        )
    return value


def _pick(token: str, choices: Any, loc: Loc, path: str, what: str) -> str:
    if token not in choices:
        fail(loc, path, f"a known {what}", describe_value(token), choice_hint(token, choices))
    return token


def _depth(tokens: list[str], allowed: int, loc: Loc, path: str, example: str) -> None:
    if len(tokens) > allowed:
        fail(loc, path, f"a key path like {example}", "a longer path")


def apply_overrides(
    data: Mapping[str, Any], overrides: Mapping[str, Any], source: str = "--set"
) -> dict:
    """A copy of a scenario tree with dotted-path overrides applied (states by id, events by
    index). A value may be a `Sourced` to name where it came from in messages."""
    loc: Loc = (source, None)
    tree = as_top(data, loc)
    if overrides is None:
        return tree
    if not isinstance(overrides, Mapping):
        fail(loc, "", "a mapping of key path -> value", describe_value(overrides))
    for path, raw_value in overrides.items():
        where = loc
        if isinstance(raw_value, Sourced):
            raw_value, where = raw_value.value, (raw_value.source, None)
        tokens = _split_path(path, where)
        value = copy_tree(raw_value, where, keep_locs=False)
        target, key = _override_target(tree, tokens, where, path)
        target[key] = value
        target.locs[key] = where
    return tree


def _override_target(tree: LocDict, tokens: list[str], loc: Loc, path: str) -> tuple[Any, Any]:
    """(container, key) that the override path addresses, creating empty mappings on the way."""
    top = _pick(
        tokens[0],
        [k for k in TOP_KEYS if k not in ("extends", "remove_events")],
        loc,
        path,
        "scenario key",
    )
    rest = tokens[1:]
    if not rest:
        return tree, top
    if top in ("parameters", "governance", "alliances"):
        _depth(rest, 1, loc, path, f"{top}.NAME")
        if top == "parameters":
            _pick(rest[0], PARAMETER_KEYS, loc, path, "model parameter")
        elif top == "governance":
            _pick(rest[0], LEVERS, loc, path, "governance lever")
        return _sub_mapping(tree, top, loc, path), rest[0]
    if top == "states":
        return _state_target(tree, rest, loc, path)
    if top == "relations":
        return _relation_target(tree, rest, loc, path)
    if top == "events":
        return _event_target(tree, rest, loc, path)
    _no_deeper(loc, path, top)


def _no_deeper(loc: Loc, path: str, top: str) -> NoReturn:
    fail(loc, path, f"no key below {top}", "a longer path")


def _state_target(tree: LocDict, rest: list[str], loc: Loc, path: str) -> tuple[Any, Any]:
    states = tree.get("states")
    if not isinstance(states, LocList):
        fail(
            loc_of(tree, "states", loc), path, "a states: list to override", describe_value(states)
        )
    ids = [e.get("id") for e in states if isinstance(e, LocDict)]
    if rest[0] not in ids:
        fail(
            loc,
            path,
            "an existing state id",
            describe_value(rest[0]),
            choice_hint(rest[0], ids, "known ids"),
        )
    entry = states[
        next(i for i, e in enumerate(states) if isinstance(e, LocDict) and e.get("id") == rest[0])
    ]
    if len(rest) < 2:
        fail(loc, path, "a state key after the id, like states.IND.autonomy", "none")
    key = _pick(rest[1], [k for k in STATE_KEYS if k != "id"], loc, path, "state key")
    if len(rest) == 2:
        return entry, key
    if key not in ("levers", "richardson"):
        fail(loc, path, f"a key path like states.{rest[0]}.{key}", "a longer path")
    _depth(rest, 3, loc, path, f"states.{rest[0]}.{key}.NAME")
    if key == "levers":
        _pick(rest[2], LEVERS, loc, path, "governance lever")
    else:
        _pick(rest[2], RICHARDSON_KEYS, loc, path, "richardson key")
    return _sub_mapping(entry, key, loc, path), rest[2]


def _relation_target(tree: LocDict, rest: list[str], loc: Loc, path: str) -> tuple[Any, Any]:
    relations = _sub_mapping(tree, "relations", loc, path)
    kind = _pick(rest[0], RELATION_KEYS, loc, path, "relation kind")
    if len(rest) == 1:
        return relations, kind
    if kind in ("agreements", "hotlines"):
        fail(loc, path, f"relations.{kind} (a whole list)", "a longer path")
    if kind == "dependency":
        _depth(rest, 3, loc, path, "relations.dependency.IMPORTER.SUPPLIER")
        table = _sub_mapping(relations, "dependency", loc, path)
        if len(rest) == 2:
            return table, rest[1]
        return _sub_mapping(table, rest[1], loc, path), rest[2]
    _depth(rest, 2, loc, path, f"relations.{kind}.A-B")
    table = _sub_mapping(relations, kind, loc, path)
    for key in [k for k in table if same_pair(k, rest[1])]:
        del table[key]
    return table, rest[1]


def _event_target(tree: LocDict, rest: list[str], loc: Loc, path: str) -> tuple[Any, Any]:
    events = tree.get("events")
    count = len(events) if isinstance(events, LocList) else 0
    if not rest[0].isdigit() or int(rest[0]) >= count:
        fail(
            loc,
            path,
            f"an event index in [0, {count - 1}]"
            if count
            else "an existing event (there are none)",
            describe_value(rest[0]),
        )
    index = int(rest[0])
    if len(rest) == 1:
        return events, index
    _depth(rest, 2, loc, path, f"events.{index}.FIELD")
    event = events[index]
    if not isinstance(event, LocDict):
        fail(loc_of(events, index, loc), path, "the event to be a mapping", describe_value(event))
    schema = EVENT_SCHEMA.get(event.get("type")) if isinstance(event.get("type"), str) else None
    fields = list(schema) if schema else sorted({f for s in EVENT_SCHEMA.values() for f in s})
    field = _pick(rest[1], [*EVENT_KEYS, *fields], loc, path, "event field")
    if field in ("step", "date"):  # an event has one of them: setting one drops the other
        event.pop("date" if field == "step" else "step", None)
    return event, field
