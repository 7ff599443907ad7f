"""The scenario file schema: every key a scenario accepts, with its type, range, default and
meaning, in one place (pydantic v2).

Model parameters come from `sim.core.params` (their dataclass fields carry default, range and
meaning), event fields from `sim.core.events.EVENT_SCHEMA`, state defaults from
`sim.core.scenario.StateSpec` and the governance lever defaults from
`sim.core.params.DEFAULT_LEVERS`: the schema is generated from them, not restated. Checks
that need the whole file (known state ids, dates, pairs, memberships) are validators of these
models; the state ids, ``steps`` and ``start`` they need come in the validation context
(`validation_context`). `sim.scenarios.validation` runs the schema and builds the typed
`sim.core.scenario.Scenario`; ``ddsim schema scenario`` prints `scenario_json_schema`;
``docs/scenarios.md`` shows the tables `sim.scenarios.docs` makes from it.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    model_validator,
)

from sim.core.events import EVENT_SCHEMA, KIND_CHOICES, FieldSpec
from sim.core.params import DEFAULT_LEVERS, LEVERS, parameter_fields
from sim.core.scenario import Scenario, StateSpec
from sim.scenarios.errors import bool_hint, choice_hint, count_text, describe_value, range_text
from sim.scenarios.fields import (
    Choice,
    Expect,
    Number,
    Schema,
    Text,
    check_number,
    check_text,
    problem,
)
from sim.scenarios.pairs import pair_parts

__all__ = [
    "EVENT_KEYS",
    "MAX_DESCRIPTION",
    "MAX_MAGNITUDE",
    "MAX_NAME",
    "MAX_POSITION_DIM",
    "MAX_SEED",
    "MAX_STEPS",
    "MAX_UNTIL",
    "PARAMETER_KEYS",
    "RELATION_KEYS",
    "RICHARDSON_KEYS",
    "STATE_KEYS",
    "TIME_UNITS",
    "TOP_KEYS",
    "ScenarioFile",
    "scenario_json_schema",
    "validation_context",
]

# --------------------------------------------------------------------------------------------
# Limits and defaults
# --------------------------------------------------------------------------------------------

MAX_STEPS = 100_000
MAX_MAGNITUDE = 1e6  # capability, budget, richardson terms, event volumes and factors
MAX_SEED = 2**63 - 1
MAX_UNTIL = 10**9
MAX_POSITION_DIM = 5
MAX_NAME = 200  # names, ids, alliance names, event names: what summaries and figures print
MAX_DESCRIPTION = 10_000  # a description; each source
TIME_UNITS = {"month": 1}  # months per step: the model's rates are per month
DEFAULT_STEPS: int = Scenario.__dataclass_fields__["steps"].default
DEFAULT_SEED: int = Scenario.__dataclass_fields__["seed"].default
_STATE_DEFAULTS = {f.name: f.default for f in dataclasses.fields(StateSpec)}

_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_MONTH_PATTERN = r"^\d{4}-\d{2}(-\d{2})?$"
_GROUP_SIZES = {("war_shock", "states"): (2, 2), ("hotline", "states"): (2, 2)}
_GROUP_SIZES[("exercise_program", "participants")] = (2, None)
_DISJOINT = {  # event type -> two fields that must not share a state
    "embargo": ("suppliers", "targets"),
    "lift_embargo": ("suppliers", "targets"),
    "sanctions": ("by", "target"),
    "arms_program": ("suppliers", "recipient"),
    "coup": ("against", "state"),
}

# --------------------------------------------------------------------------------------------
# Validation context: what the cross-references need from the rest of the file
# --------------------------------------------------------------------------------------------


def parse_month(value: Any) -> tuple[int, int] | None:
    """'YYYY-MM' (or a YAML date; the day is ignored) -> (year, month); None if neither."""
    if isinstance(value, datetime.date):
        return value.year, value.month
    match = _MONTH_RE.match(value.strip()) if isinstance(value, str) else None
    if match is None or not 1 <= int(match[2]) <= 12:
        return None
    return int(match[1]), int(match[2])


def month_text(start: tuple[int, int], step: int) -> str:
    """The calendar month of a step, 'YYYY-MM'."""
    months = start[0] * 12 + start[1] - 1 + step * TIME_UNITS["month"]
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


def validation_context(tree: Mapping[str, Any]) -> dict[str, Any]:
    """State ids, run length and start as far as the file states them validly (a key that is
    itself wrong is reported on its own and checks that need it are skipped)."""
    states = tree.get("states")
    ids: list[str] = []
    if isinstance(states, list):
        ids = [e["id"] for e in states if isinstance(e, Mapping) and isinstance(e.get("id"), str)]
    raw_steps = tree.get("steps")
    steps: int | None = DEFAULT_STEPS
    if raw_steps is not None:
        try:
            steps = int(check_number(raw_steps, 1, MAX_STEPS, True, ""))
        except ValueError:
            steps = None
    raw_start = tree.get("start")
    return {
        "ids": ids,
        "index": {sid: i for i, sid in reversed(list(enumerate(ids)))},
        "steps": steps,
        "start": parse_month(raw_start) if raw_start is not None else None,
        "start_given": raw_start is not None,
    }


def _context(info: ValidationInfo) -> dict[str, Any]:
    return info.context or {}


# --------------------------------------------------------------------------------------------
# Field types that look at the rest of the file
# --------------------------------------------------------------------------------------------


def _known(value: Any, info: ValidationInfo) -> str:
    """A state id of this scenario."""
    if not isinstance(value, str):
        problem("a state id", describe_value(value), bool_hint(value))
    index = _context(info).get("index")
    if index is not None and value not in index:
        hint = choice_hint(value, _context(info)["ids"], "known ids")
        problem("a known state id", describe_value(value), hint)
    return value


StateRef = Annotated[str, Field(max_length=MAX_NAME), BeforeValidator(_known), Expect("a state id")]


def _state_list(lo: int, hi: int | None, expected: str) -> Any:
    """A list of lo..hi distinct known state ids."""

    def sized(value: Any) -> Any:
        if not isinstance(value, list | tuple):
            problem(expected)
        if len(value) < lo or (hi is not None and len(value) > hi):
            problem(expected, str(len(value)))
        return value

    return Annotated[
        list[StateRef],
        Field(min_length=lo, max_length=hi),
        BeforeValidator(sized),
        AfterValidator(_distinct),
        Expect(expected),
    ]


def _distinct(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    for j, sid in enumerate(ids):
        if sid in seen:
            problem("distinct state ids", f"{sid!r} twice", sub=(j,))
        seen.add(sid)
    return ids


def _pair(value: Any, info: ValidationInfo, directed: bool) -> str:
    """A pair key 'A-B' (or 'A>B' when directed) of two different known states."""
    example = "'A-B' or 'A>B' (A trusts B)" if directed else "'A-B'"
    parts = pair_parts(value)
    if parts is None or (parts[1] == ">" and not directed):
        problem(f"a pair of state ids like {example}", describe_value(value), bool_hint(value))
    a, _, b = parts
    _known(a, info)
    _known(b, info)
    if a == b:
        problem("a pair of two different states", f"{value!r}, a state paired with itself")
    return value


def _pair_key(directed: bool) -> Any:
    example = "A-B or A>B (A trusts B)" if directed else "A-B"
    return Annotated[
        str,
        BeforeValidator(partial(_pair, directed=directed)),
        Expect(f"a pair of state ids like {example}"),
    ]


def _ordered(info_index: Mapping[str, int], a: str, b: str) -> tuple[str, str]:
    return (a, b) if info_index.get(a, 0) <= info_index.get(b, 0) else (b, a)


def _unique_pairs(table: dict[str, float], info: ValidationInfo) -> dict[str, float]:
    """Each pair once ('A-B' and 'B-A' are one pair; 'A>B' is its own)."""
    index = _context(info).get("index") or {}
    seen: dict[Any, str] = {}
    for key in table:
        a, sep, b = pair_parts(key)  # type: ignore[misc]
        norm = (sep, (a, b) if sep == ">" else _ordered(index, a, b))
        if norm in seen:
            problem("each pair once", f"{key!r} after {seen[norm]!r}", sub=(key,))
        seen[norm] = key
    return table


def _unique_pair_list(items: list[str], info: ValidationInfo) -> list[str]:
    index = _context(info).get("index") or {}
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(items):
        a, _, b = pair_parts(item)  # type: ignore[misc]
        pair = _ordered(index, a, b)
        if pair in seen:
            problem("each pair once", f"{item!r} again", sub=(i,))
        seen.add(pair)
    return items


def _date_step(value: Any, info: ValidationInfo, expected: str) -> int:
    """A date -> the step containing it (0 when the file's start is itself wrong)."""
    ctx = _context(info)
    start = ctx.get("start")
    if start is None:
        if ctx.get("start_given"):
            return 0  # the start is reported; this date cannot be checked
        problem("a step number (dates need a top-level start: YYYY-MM)", describe_value(value))
    month = parse_month(value)
    if month is None:
        problem(expected, describe_value(value))
    months = (month[0] - start[0]) * 12 + month[1] - start[1]
    return months // TIME_UNITS["month"]


def _event_date(value: Any, info: ValidationInfo) -> int:
    """An event's date: the step containing it, which must fall inside the run."""
    step = _date_step(value, info, 'a date "YYYY-MM"')
    ctx = _context(info)
    steps, start = ctx.get("steps"), ctx.get("start")
    if steps is not None and start is not None and not 0 <= step <= steps - 1:
        expected = (
            f"a date within the run, {month_text(start, 0)} to {month_text(start, steps - 1)}"
        )
        where = "before the start" if step < 0 else "after the last step"
        problem(expected, f"{describe_value(value)} (step {step}, {where})")
    return step


def _event_step(value: Any, info: ValidationInfo) -> int:
    steps = _context(info).get("steps")
    if steps is None:
        return int(check_number(value, 0, MAX_STEPS, True, "a step >= 0"))
    expected = f"a step in [0, {steps - 1}] (the run has {steps} steps)"
    return int(check_number(value, 0, steps - 1, True, expected))


def _until(value: Any, info: ValidationInfo) -> int:
    """An event field of kind step (e.g. until): a step number or a date."""
    if isinstance(value, str | datetime.date):
        return _date_step(value, info, 'a date "YYYY-MM"')
    return int(check_number(value, 0, MAX_UNTIL, True, "a step >= 0 or a date YYYY-MM"))


_DATE_SCHEMA = {"type": "string", "pattern": _MONTH_PATTERN}
EventStep = Annotated[int, Field(ge=0), BeforeValidator(_event_step), Expect("a step >= 0")]
EventDate = Annotated[
    int,
    BeforeValidator(_event_date),
    WithJsonSchema({**_DATE_SCHEMA, "description": "a month YYYY-MM (needs start)"}),
    Expect('a date "YYYY-MM"'),
]
Until = Annotated[
    int,
    BeforeValidator(_until),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0}, _DATE_SCHEMA]}),
    Expect("a step or date", missing="a step or date ({required})"),
]


def _start(value: Any) -> str:
    month = parse_month(value)
    if month is None:
        problem('a date "YYYY-MM"')
    return f"{month[0]:04d}-{month[1]:02d}"


Start = Annotated[
    str, BeforeValidator(_start), WithJsonSchema(_DATE_SCHEMA), Expect('a date "YYYY-MM"')
]

# --------------------------------------------------------------------------------------------
# Levers, Richardson terms, parameters
# --------------------------------------------------------------------------------------------

Fraction = Number(0, 1)
LEVER_DOCS = {
    "transparency": "openness about exercises: lowers the escalation signal third states read into them",
    "oversight": "monitoring of advisory missions and programs: less backlash, programs survive instability",
    "co_creation": "programs designed with the host: better fit of advisory missions",
    "exit_strategy": "planned exits: less trust lost when a program is suspended",
    "cbm_investment": "investment in confidence-building measures: stronger dialogue, more de-escalation",
}
assert tuple(LEVER_DOCS) == LEVERS


class _Levers(Schema):
    what: ClassVar[str] = "governance lever"
    expect: ClassVar[str] = "a mapping of lever -> value in [0, 1]"


Governance = create_model(
    "Governance",
    __base__=_Levers,
    __doc__="Scenario-wide governance levers, each in [0, 1].",
    **{
        lever: (Fraction, Field(DEFAULT_LEVERS[lever], description=LEVER_DOCS[lever]))
        for lever in LEVERS
    },
)
StateLevers = create_model(
    "StateLevers",
    __base__=_Levers,
    __doc__="A state's own governance levers (override the scenario-wide ones).",
    **{lever: (Fraction | None, Field(None, description=LEVER_DOCS[lever])) for lever in LEVERS},
)


class Richardson(Schema):
    """A state's own Richardson arms-race terms (override the parameters of the same name)."""

    what: ClassVar[str] = "richardson key"
    expect: ClassVar[str] = "a mapping with keys reactivity, fatigue, ambition"

    reactivity: Number(0, MAX_MAGNITUDE) | None = Field(
        None, description="effort per unit of rivals' capability"
    )
    fatigue: Number(0, MAX_MAGNITUDE) | None = Field(
        None, description="restraint per unit of own capability"
    )
    ambition: Number(-MAX_MAGNITUDE, MAX_MAGNITUDE) | None = Field(
        None,
        description="grievance/ambition term; negative = calibrate so the initial capability is a steady state",
    )


def _parameter_type(f: dataclasses.Field) -> Any:
    lo, hi = f.metadata["min"], f.metadata["max"]
    return Number(lo, hi, integer=f.type in ("int", int))


class _Parameters(Schema):
    what: ClassVar[str] = "model parameter"
    expect: ClassVar[str] = "a mapping of parameter name -> value"


ParametersFile = create_model(
    "Parameters",
    __base__=_Parameters,
    __doc__="Model parameters (sim/core/params.py); unset ones keep their defaults.",
    **{
        name: (_parameter_type(f), Field(f.default, description=f.metadata["doc"]))
        for name, f in parameter_fields().items()
    },
)

# --------------------------------------------------------------------------------------------
# States
# --------------------------------------------------------------------------------------------


def _position(value: Any) -> Any:
    expected = f"a list of 1 to {MAX_POSITION_DIM} numbers in [-1, 1]"
    if not isinstance(value, list | tuple):
        problem(expected)
    if not 1 <= len(value) <= MAX_POSITION_DIM:
        problem(expected, f"a list of {len(value)}")
    return value


def _location(value: Any) -> Any:
    if not isinstance(value, list | tuple):
        problem("[latitude in [-90, 90], longitude in [-180, 180]]")
    if len(value) != 2:
        problem("[latitude in [-90, 90], longitude in [-180, 180]]", f"a list of {len(value)}")
    return value


def _state_id(value: Any) -> str:
    if not isinstance(value, str) or not _ID_RE.match(value):
        problem("an id of letters, digits and _ starting with a letter", hint=bool_hint(value))
    if len(value) > MAX_NAME:
        problem(f"an id of at most {MAX_NAME} characters", f"{len(value):,} characters")
    return value


StateId = Annotated[
    str,
    Field(pattern=_ID_RE.pattern, max_length=MAX_NAME),
    BeforeValidator(_state_id),
    Expect(
        "an id of letters, digits and _ starting with a letter", missing="a state id (required)"
    ),
]


class State(Schema):
    """One state (an agent)."""

    what: ClassVar[str] = "state key"
    expect: ClassVar[str] = "a mapping with keys id, capability, ..."

    id: StateId = Field(
        description="short identifier used everywhere else (USA, IND): letters, digits and _, "
        "starting with a letter; unique"
    )
    name: Text(MAX_NAME) = Field(
        _STATE_DEFAULTS["name"], description="display name (the id is shown when empty)"
    )
    capability: Number(0, MAX_MAGNITUDE) = Field(
        description="military power (e.g. CINC share, or an index with the strongest state = 1)"
    )
    budget: Number(0, MAX_MAGNITUDE) = Field(
        _STATE_DEFAULTS["budget"],
        description="defense-diplomacy effort the state can spend per step",
    )
    arms_industry: Fraction = Field(
        _STATE_DEFAULTS["arms_industry"], description="capacity to export arms"
    )
    stability: Fraction = Field(
        _STATE_DEFAULTS["stability"],
        description="domestic political stability (low values suspend programs)",
    )
    governance: Fraction = Field(
        _STATE_DEFAULTS["governance"],
        description="institutional quality / absorptive capacity for advice",
    )
    position: (
        Annotated[
            list[Number(-1, 1)],
            Field(min_length=1, max_length=MAX_POSITION_DIM),
            BeforeValidator(_position),
            Expect(f"a list of 1 to {MAX_POSITION_DIM} numbers in [-1, 1]"),
        ]
        | None
    ) = Field(
        None,
        description="ideal point in a political space; every state must use the same dimension "
        "(states without one get zeros of that dimension; 2 if none is given)",
    )
    autonomy: Fraction = Field(
        _STATE_DEFAULTS["autonomy"],
        description="preference for strategic autonomy (spreads partners and suppliers)",
    )
    location: Annotated[
        tuple[Number(-90, 90), Number(-180, 180)],
        BeforeValidator(_location),
        Expect("[latitude in [-90, 90], longitude in [-180, 180]]"),
    ] = Field(_STATE_DEFAULTS["location"], description="capital, for distances and proximity")
    levers: StateLevers | None = Field(  # type: ignore[valid-type]
        None,
        description="this state's own governance levers, overriding the scenario-wide governance:",
    )
    richardson: Richardson | None = Field(
        None,
        description="this state's own Richardson arms-race terms (override the parameters of "
        "the same name)",
    )


def _consistent_states(states: list[State]) -> list[State]:
    """Ids are unique; positions share one dimension."""
    first: dict[str, int] = {}
    for i, state in enumerate(states):
        if state.id in first:
            got = f"{state.id!r} again (first used by states[{first[state.id]}])"
            problem("a unique state id", got, sub=(i, "id"))
        first[state.id] = i
    dim: tuple[int, int] | None = None  # (dimension, index of the state that set it)
    for i, state in enumerate(states):
        if state.position is None:
            continue
        if dim is None:
            dim = (len(state.position), i)
        elif len(state.position) != dim[0]:
            problem(
                f"{dim[0]} numbers, like states[{dim[1]}].position",
                f"{len(state.position)} numbers",
                "all positions need the same dimension",
                sub=(i, "position"),
            )
    return states


# --------------------------------------------------------------------------------------------
# Relations
# --------------------------------------------------------------------------------------------


def _dependency_rows(table: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """A state is not its own supplier; an importer's shares sum to at most 1."""
    for importer, row in table.items():
        if importer in row:
            problem(
                "a supplier other than the importer",
                f"{importer!r} depending on itself",
                sub=(importer, importer),
            )
        total = sum(row.values())
        if total > 1 + 1e-9:
            problem("supplier shares that sum to at most 1", f"a sum of {total:g}", sub=(importer,))
    return table


def _pair_table(directed: bool) -> Any:
    return Annotated[
        dict[_pair_key(directed), Fraction],
        AfterValidator(_unique_pairs),
        Expect("a mapping of pair 'A-B' -> value in [0, 1]"),
    ]


_PairList = Annotated[
    list[_pair_key(False)],
    AfterValidator(_unique_pair_list),
    Expect("a list of pairs like 'A-B'"),
]


class Relations(Schema):
    """Initial dyadic relations; pairs not named are derived by the model from the states."""

    what: ClassVar[str] = "relation kind"
    expect: ClassVar[str] = (
        "a mapping with keys trust, interoperability, hostility, agreements, hotlines, dependency, "
        "access"
    )

    trust: _pair_table(True) = Field(  # type: ignore[valid-type]
        default_factory=dict,
        description="how far one state trusts another (directed), in [0, 1]. A-B sets both "
        "directions, A>B (A trusts B) one direction and wins over an A-B entry for that direction",
    )
    interoperability: _pair_table(False) = Field(  # type: ignore[valid-type]
        default_factory=dict,
        description="shared procedures, equipment, communications (symmetric), in [0, 1]",
    )
    hostility: _pair_table(False) = Field(  # type: ignore[valid-type]
        default_factory=dict, description="structural rivalry (symmetric, slow), in [0, 1]"
    )
    agreements: _PairList = Field(
        default_factory=list, description="formal defense pacts / cooperation agreements"
    )
    hotlines: _PairList = Field(default_factory=list, description="standing crisis channels")
    dependency: Annotated[
        dict[
            StateRef,
            Annotated[
                dict[StateRef, Fraction], Expect("a mapping of supplier id -> share in [0, 1]")
            ],
        ],
        AfterValidator(_dependency_rows),
        Expect("a mapping of importer -> {supplier: share}"),
    ] = Field(
        default_factory=dict,
        description="importer -> supplier -> share of the importer's arms-import stock; a row "
        "sums to at most 1; a state cannot be its own supplier",
    )
    access: _pair_table(True) = Field(  # type: ignore[valid-type]
        default_factory=dict,
        description="access and basing rights, in [0, 1]: A>B is provider A's access in host B "
        "(1 = a main operating base); A-B sets both directions, A>B wins over it",
    )


# --------------------------------------------------------------------------------------------
# Events (generated from sim.core.events.EVENT_SCHEMA)
# --------------------------------------------------------------------------------------------


class _EventBase(Schema):
    expect: ClassVar[str] = "an event (a mapping with step or date, and type)"
    event_type: ClassVar[str] = ""

    step: EventStep | None = Field(
        None, description="step at which the event happens, 0 <= step < steps"
    )
    date: EventDate | None = Field(
        None,
        description='"YYYY-MM" month (or a YAML date); needs start; the step containing it, '
        "inside the run",
    )

    @model_validator(mode="after")
    def _when(self) -> Any:
        """Exactly one of step or date; `until` not before the event; no state on both sides."""
        if (self.step is None) == (self.date is None):
            problem("exactly one of step or date", "both" if self.step is not None else "neither")
        step = self.step if self.step is not None else self.date
        for name, spec in EVENT_SCHEMA[self.event_type].items():
            value = getattr(self, name)
            if spec.kind == "step" and value is not None and value < step:
                problem(f"a step >= the event's step {step}", str(value), sub=(name,))
        if self.event_type in _DISJOINT:
            first, second = _DISJOINT[self.event_type]
            other = getattr(self, second)
            group = other if isinstance(other, list) else [other]
            shared = [s for s in getattr(self, first) or () if s in group]
            if shared:
                what = "states" if isinstance(other, list) else "a state"
                problem(f"{what} not among {first}", f"{shared[0]!r} in both", sub=(second,))
        return self


_KIND_TEXT = {  # what an event field of each FieldSpec kind takes, for messages and docs
    "state": "a state id",
    "states": "a list of state ids",
    "alliance": "an alliance name",
    "step": "a step or date",
    "fraction": "a number in [0, 1]",
    "positive": range_text(0, MAX_MAGNITUDE, False),
    "count": range_text(1, MAX_STEPS, True),
    "kind": "one of " + ", ".join(KIND_CHOICES["kind"]),
    "lever": "one of " + ", ".join(KIND_CHOICES["lever"]),
    "text": "a string",
}


def _event_field_type(event_type: str, name: str, spec: FieldSpec) -> Any:
    missing = f"{_KIND_TEXT[spec.kind]} ({{required}})"
    if spec.kind == "state":
        return Annotated[StateRef, Expect("a state id", missing=missing)]
    if spec.kind == "states":
        lo, hi = _GROUP_SIZES.get((event_type, name), (1, None))
        text = (
            "a non-empty list of state ids"
            if (lo, hi) == (1, None)
            else f"a list of {count_text(lo, hi)}state ids"
        )
        return Annotated[_state_list(lo, hi, text), Expect(text, missing=missing)]
    if spec.kind == "alliance":
        return Annotated[
            Text(MAX_NAME, nonempty=True), Expect("a non-empty string", missing=missing)
        ]
    if spec.kind == "step":
        return Until
    if spec.kind == "fraction":
        return Fraction
    if spec.kind == "positive":
        return Number(0, MAX_MAGNITUDE)
    if spec.kind == "count":
        return Number(1, MAX_STEPS, integer=True)
    if spec.kind == "kind":
        choices = KIND_CHOICES["kind"]
        return Choice(choices, "an exercise kind: " + ", ".join(choices))
    if spec.kind == "lever":
        return Choice(LEVERS, "a lever: " + ", ".join(LEVERS))
    return Text(MAX_NAME)


def _event_model(event_type: str, fields: Mapping[str, FieldSpec]) -> type[_EventBase]:
    definitions: dict[str, Any] = {"type": (Literal[event_type], Field(description="event type"))}
    for name, spec in fields.items():
        default = ... if spec.required else spec.default
        annotation = _event_field_type(event_type, name, spec)
        if not spec.required and spec.default is None:
            annotation = annotation | None
        definitions[name] = (annotation, Field(default, description=spec.doc))
    model = create_model(
        f"Event_{event_type}",
        __base__=_EventBase,
        __doc__=f"Event {event_type}.",
        **definitions,
    )
    model.what = f"{event_type} field"
    model.required_text = f"required by {event_type}"
    model.event_type = event_type
    return model


EVENT_MODELS = {kind: _event_model(kind, fields) for kind, fields in EVENT_SCHEMA.items()}
Event = Annotated[
    Union[tuple(EVENT_MODELS.values())],  # noqa: UP007 - a Union built from the schema
    Field(discriminator="type"),
    Expect("an event (a mapping with step or date, and type)", tag="event type"),
]

# --------------------------------------------------------------------------------------------
# The scenario file
# --------------------------------------------------------------------------------------------


def _alliance_name(value: Any) -> str:
    return check_text(value, MAX_NAME, True, False, "an alliance name (a non-empty string)")


AllianceName = Annotated[
    str,
    Field(max_length=MAX_NAME),
    BeforeValidator(_alliance_name),
    Expect("an alliance name (a non-empty string)"),
]
Members = Annotated[
    list[StateRef],
    AfterValidator(_distinct),
    Expect("a list of known state ids"),
]


class ScenarioFile(Schema):
    """A ddsim scenario file: a world of states, their relations, parameters and events."""

    what: ClassVar[str] = "top-level key"
    expect: ClassVar[str] = "a mapping of scenario keys (name, states, ...) at the top level"

    name: Text(MAX_NAME, nonempty=True, missing="a scenario name (required)") = Field(
        description="scenario name (non-empty)"
    )
    description: Text(MAX_DESCRIPTION, multiline=True) = Field(
        "", description="what the scenario is for, what questions it lets an analyst ask"
    )
    sources: Annotated[list[Text(MAX_DESCRIPTION, multiline=True)], Expect("a list of strings")] = (
        Field(default_factory=list, description="where the numbers come from")
    )
    time_unit: Annotated[
        Literal["month"],
        Expect(
            "month (the model's rates are per month; quarter and year are not supported)",
            choices=tuple(TIME_UNITS),
        ),
    ] = Field(
        "month",
        description="length of one step; the model's rates are per month, so only month",
    )
    start: Start | None = Field(
        None,
        description="calendar month of step 0, YYYY-MM; needed for event dates. A YAML date "
        "(2018-01-01) is accepted (the day is ignored)",
    )
    steps: Number(1, MAX_STEPS, integer=True) = Field(
        DEFAULT_STEPS, description="length of a run in steps"
    )
    seed: Number(0, MAX_SEED, integer=True) = Field(
        DEFAULT_SEED, description="root seed; one seed decides everything"
    )
    parameters: ParametersFile = Field(  # type: ignore[valid-type]
        default_factory=ParametersFile, description="model parameters (see Parameters)"
    )
    governance: Governance = Field(  # type: ignore[valid-type]
        default_factory=Governance, description="scenario-wide governance levers"
    )
    alliances: Annotated[
        dict[AllianceName, Members | None],
        Expect("a mapping of alliance name -> list of state ids"),
    ] = Field(default_factory=dict, description="formal alliances at step 0")
    states: Annotated[
        list[State],
        AfterValidator(_consistent_states),
        Field(min_length=1),
        Expect(
            "a list of at least one state (mappings with id and capability)",
            missing="a list of at least one state (mappings with id and capability) (required)",
        ),
    ] = Field(description="the states (agents)")
    relations: Relations = Field(default_factory=Relations, description="initial dyadic relations")
    events: Annotated[
        list[Event],
        Expect("a list of events (mappings with step or date, and type)"),
    ] = Field(default_factory=list, description="scheduled events")
    extends: Text(4096) | None = Field(
        None,
        description="start from another scenario: a .yaml file (relative to this file) or a "
        "bundled scenario name",
    )
    remove_events: Annotated[
        list[Text(MAX_NAME, nonempty=True) | dict[str, Any]] | None,
        Expect("a list of event names or mappings of event fields"),
    ] = Field(
        None,
        description="with extends: drop the parent's events that match: a name (an event's "
        "name:) or a mapping of event fields, e.g. {type: join_alliance, state: FIN}; each "
        "must match at least one event (applied before this file's own events are appended)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioFile:
        """Alliance leaves follow joins, in step order."""
        members = {name: set(ids or ()) for name, ids in self.alliances.items()}
        order = sorted(
            range(len(self.events)),
            key=lambda i: (
                self.events[i].step if self.events[i].step is not None else self.events[i].date
            ),
        )
        for i in order:
            event = self.events[i]
            if event.type not in ("join_alliance", "leave_alliance"):
                continue
            step = event.step if event.step is not None else event.date
            state, alliance = event.state, event.alliance
            if event.type == "join_alliance":
                group = members.setdefault(alliance, set())
                if state in group:
                    problem(
                        f"a state not yet in {alliance!r} at step {step}",
                        f"{state!r}, already a member",
                        sub=("events", i, "state"),
                    )
                group.add(state)
                continue
            if alliance not in members:
                problem(
                    "an alliance from alliances: or joined earlier",
                    describe_value(alliance),
                    choice_hint(alliance, members, "known alliances"),
                    sub=("events", i, "alliance"),
                )
            if state not in members[alliance]:
                problem(
                    f"a member of {alliance!r} at step {step}",
                    f"{state!r}, not a member",
                    sub=("events", i, "state"),
                )
            members[alliance].discard(state)
        return self


TOP_KEYS = tuple(ScenarioFile.model_fields)
STATE_KEYS = tuple(State.model_fields)
RELATION_KEYS = tuple(Relations.model_fields)
RICHARDSON_KEYS = tuple(Richardson.model_fields)
EVENT_KEYS = ("step", "date", "type")  # every event has these; the rest come from EVENT_SCHEMA
PARAMETER_KEYS = tuple(parameter_fields())


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of scenario files, for editors and other tools.

    A file with ``extends:`` is a patch on its parent: then no key is required, and a state
    needs only its id (the merged result is checked when the scenario is loaded)."""
    schema = ScenarioFile.model_json_schema()
    required = schema.pop("required", [])
    defs = schema["$defs"]
    defs["StatePatch"] = {
        **defs["State"],
        "title": "StatePatch",
        "description": "A state in a file with extends: an id updates that state, or adds one.",
        "required": ["id"],
    }
    states = schema["properties"]["states"]
    states.pop("items")
    schema["allOf"] = [
        {
            "if": {"required": ["extends"]},
            "then": {"properties": {"states": {"items": {"$ref": "#/$defs/StatePatch"}}}},
            "else": {
                "required": required,
                "properties": {"states": {"items": {"$ref": "#/$defs/State"}}},
            },
        }
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ddsim.invalid/schema/scenario.json",
        **schema,
    }
