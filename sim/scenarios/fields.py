"""Field types for the pydantic schemas of scenario and experiment files, and the translation
of pydantic's errors into this project's one-line messages.

A field type declares, in one place, what a key accepts, how the value is described in an
error (`Expect`) and what JSON Schema says about it (``minimum``, ``maxLength``, ...).
`validate` runs a schema over a tree read by `sim.scenarios.yaml_reader` and turns every
error into ``file:line: key.path: expected ..., got ...; hint``: the line comes from the
tree, the key path from pydantic's location, the expected text from the field's `Expect`
(or from the validator that found the problem), the found value from `describe_value`.
"""

from __future__ import annotations

import inspect
import math
import re
import types
import typing
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Annotated, Any, ClassVar, Literal, NoReturn, get_args, get_origin

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from sim.scenarios.errors import (
    FileError,
    bool_hint,
    choice_hint,
    describe_value,
    join_path,
    range_text,
)
from sim.scenarios.yaml_reader import ExpFloat, Loc, LocDict, LocList, loc_of

__all__ = [
    "MAX_INT",
    "Choice",
    "Expect",
    "Flag",
    "Number",
    "Schema",
    "Text",
    "locate",
    "problem",
    "validate",
    "without_nulls",
]

MAX_INT = 2**63 - 1  # every integer must fit in 64 bits (numpy arrays downstream)
MAX_TRANSLATED = 200  # errors worded per file (MAX_ERRORS of them are shown, the rest counted)
_MISSING = object()


class Expect:
    """Annotation metadata: how a field's value is described in errors.

    ``text``: what was expected ("a number in [0, 1]"); ``missing``: the text when a required
    key is absent (default: text + " (required)"; "{required}" stands for the enclosing
    mapping's `Schema.required_text`); ``choices``: the allowed values, for a did-you-mean
    hint; ``length``: what a list of the wrong length is called ({n} items); ``tag``: for a
    discriminated union, what its tag is called ("event type")."""

    __slots__ = ("choices", "length", "missing", "tag", "text")

    def __init__(
        self,
        text: str,
        *,
        missing: str | None = None,
        choices: Sequence[Any] = (),
        length: str = "a list of {n}",
        tag: str = "",
    ) -> None:
        self.text = text
        self.missing = missing
        self.choices = tuple(choices)
        self.length = length
        self.tag = tag


class Schema(BaseModel):
    """Base of every file schema: unknown keys are errors. ``what`` names a key of this
    mapping in messages ("a state key"); ``expect`` describes the whole mapping."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)
    what: ClassVar[str] = "key"
    expect: ClassVar[str] = "a mapping"
    required_text: ClassVar[str] = "required"


def problem(expected: str, got: str | None = None, hint: str = "", sub: tuple = ()) -> NoReturn:
    """Raise, from a validator, an error worded by this project: ``sub`` extends the key path
    below the value being validated (e.g. (3, "id") from a list of states)."""
    raise PydanticCustomError(
        "ddsim", "expected {expected}", {"expected": expected, "got": got, "hint": hint, "sub": sub}
    )


# --------------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------------


def _plain_number(value: Any) -> Any:
    if isinstance(value, ExpFloat):
        return float(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_number(
    value: Any, lo: float | None, hi: float | None, integer: bool, expected: str
) -> int | float:
    """A finite number (booleans and strings refused) within [lo, hi]; integer=True accepts
    integral floats (12.0) as integers."""
    value = _plain_number(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        problem(expected)
    if isinstance(value, float) and (
        not math.isfinite(value) or (integer and not value.is_integer())
    ):
        problem(expected)
    number = int(value) if isinstance(value, int) or integer else float(value)
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        problem(expected)
    if integer:
        if abs(number) > MAX_INT:
            problem(expected, hint="integers must fit in 64 bits")
        return int(number)
    try:
        return float(number)
    except OverflowError:
        problem(expected, hint="too large to be a number")


def Number(  # noqa: N802 - a type factory, used like a type
    lo: float | None = None,
    hi: float | None = None,
    *,
    integer: bool = False,
    expected: str | None = None,
) -> Any:
    """A number (or with integer=True a whole number) in [lo, hi] (None: unbounded)."""
    text = expected or range_text(lo, hi, integer)
    check = partial(check_number, lo=lo, hi=hi, integer=integer, expected=text)
    return Annotated[
        int if integer else float, Field(ge=lo, le=hi), BeforeValidator(check), Expect(text)
    ]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def check_text(value: Any, max_len: int, nonempty: bool, multiline: bool, expected: str) -> str:
    """A string of at most max_len characters without control characters (terminal escape
    codes among them; multiline text may hold newlines and tabs)."""
    if isinstance(value, ExpFloat):
        value = value.text
    if not isinstance(value, str) or (nonempty and not value.strip()):
        problem(expected, hint=bool_hint(value))
    if len(value) > max_len:
        problem(f"{expected} of at most {max_len:,} characters", f"{len(value):,} characters")
    bad = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    if bad:
        problem(
            f"{expected} without control characters",
            f"{bad.group()!r} at character {bad.start() + 1}",
            "control characters (such as terminal escape codes) are refused in text",
        )
    return value


def Text(  # noqa: N802 - a type factory, used like a type
    max_len: int,
    *,
    nonempty: bool = False,
    multiline: bool = False,
    expected: str | None = None,
    missing: str | None = None,
) -> Any:
    """A string of at most max_len characters (nonempty: not blank)."""
    text = expected or ("a non-empty string" if nonempty else "a string")
    check = partial(
        check_text, max_len=max_len, nonempty=nonempty, multiline=multiline, expected=text
    )
    pattern = (_CONTROL_MULTILINE if multiline else _CONTROL).pattern
    return Annotated[
        str,
        Field(
            min_length=1 if nonempty else None,
            max_length=max_len,
            pattern=f"^[^{pattern[1:-1]}]*$",
        ),
        BeforeValidator(check),
        Expect(text, missing=missing),
    ]


def Choice(values: Sequence[str], expected: str) -> Any:  # noqa: N802
    """One of a fixed set of strings."""
    return Annotated[Literal[tuple(values)], Expect(expected, choices=values)]


def _check_flag(value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        problem("true or false")
    return bool(value)


Flag = Annotated[bool, BeforeValidator(_check_flag), Expect("true or false")]


# --------------------------------------------------------------------------------------------
# Error translation
# --------------------------------------------------------------------------------------------


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """(type without Annotated and Optional, the metadata found on the way)."""
    meta: list[Any] = []
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            meta.extend(tp.__metadata__)
            tp = get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                break
            tp = args[0]
        else:
            break
    return tp, meta


def _is_model(tp: Any) -> bool:
    return inspect.isclass(tp) and issubclass(tp, BaseModel)


def _tagged(union: Any, tag: Any) -> Any:
    """The model of a discriminated union whose ``type`` literal is `tag` (None if none)."""
    for option in get_args(union):
        option, _ = _unwrap(option)
        field = option.model_fields.get("type") if _is_model(option) else None
        if field is not None and tag in get_args(field.annotation):
            return option
    return None


class _Site:
    """Where an error location points: in the schema (type, metadata, enclosing model) and
    in the file (key path, line, the value found there)."""

    def __init__(self, model: type[BaseModel], tree: Any, root: Loc, loc: Sequence[Any]) -> None:
        tp: Any = model
        self.meta: list[Any] = []
        self.owner: type[BaseModel] | None = None
        self.field: Any = None
        self.path = ""
        self.where = root
        self.node: Any = tree
        for elem in loc:
            base, _ = _unwrap(tp)
            origin = get_origin(base)
            if origin in (typing.Union, types.UnionType) and _tagged(base, elem) is not None:
                tp = _tagged(base, elem)  # a discriminated union's tag: not a key of the file
                continue
            if elem == "[key]":  # the key itself is wrong: the path already names it
                continue
            tp = self._child(base, origin, elem)
            self.where = loc_of(self.node, elem, self.where)
            self.node = _child_value(self.node, elem)
            self.path = join_path(self.path, elem)
        self.type, meta = _unwrap(tp)
        self.meta = meta

    def _child(self, base: Any, origin: Any, elem: Any) -> Any:
        if _is_model(base):
            self.owner = base
            self.field = base.model_fields.get(elem) if isinstance(elem, str) else None
            if self.field is None:
                return None
            if not self.field.metadata:
                return self.field.annotation
            return Annotated[(self.field.annotation, *self.field.metadata)]
        self.field = None
        args = get_args(base)
        if origin in (list, Sequence) and args:
            return args[0]
        if origin is tuple and args:
            index = elem if isinstance(elem, int) else 0
            return args[min(index, len(args) - 1)] if args[-1] is not Ellipsis else args[0]
        if origin in (dict, Mapping) and len(args) == 2:
            return args[1]
        return None

    def expect(self) -> Expect | None:
        for item in reversed(self.meta):
            if isinstance(item, Expect):
                return item
        return None

    def expected_text(self) -> str:
        expect = self.expect()
        if expect is not None:
            return expect.text
        if _is_model(self.type):
            return self.type.expect
        return "a valid value"


def _child_value(node: Any, key: Any) -> Any:
    if isinstance(node, Mapping):
        return node.get(key, _MISSING)
    if isinstance(node, list | tuple) and isinstance(key, int) and 0 <= key < len(node):
        return node[key]
    return _MISSING


def _translate(
    error: Mapping[str, Any],
    model: type[BaseModel],
    tree: Any,
    root: Loc,
    error_class: type[FileError],
) -> FileError:
    """One pydantic error as this project's error (see the module docstring)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    loc = tuple(error["loc"]) + tuple(ctx.get("sub") or ())
    site = _Site(model, tree, root, loc)
    value = error.get("input")

    def make(expected: str, got: str, hint: str = "", path: str | None = None) -> FileError:
        file, line = site.where
        return error_class(file, line, site.path if path is None else path, expected, got, hint)

    if kind == "ddsim":
        got = ctx.get("got") or describe_value(_value_at(site, value, ctx))
        return make(ctx["expected"], got, ctx.get("hint") or "")
    if kind in ("extra_forbidden", "invalid_key"):
        key = loc[-1]
        owner = site.owner or model
        allowed = [f.alias or name for name, f in owner.model_fields.items()]
        got = (
            f"unknown key {key!r}"
            if isinstance(key, str)
            else f"the non-text key {describe_value(key)}"
        )
        return make(f"a {owner.what}", got, choice_hint(key, allowed))
    if kind == "missing":
        expect = site.expect()
        owner = site.owner or model
        template = expect.missing if expect is not None and expect.missing else None
        template = template or f"{site.expected_text()} ({{required}})"
        expected = template.replace("{required}", owner.required_text)
        return make(expected, "nothing")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        expect = site.expect()
        label = expect.tag if expect is not None and expect.tag else "type"
        tags = _tags(site.type)
        file, line = loc_of(site.node, "type", site.where)
        path = join_path(site.path, "type")
        if kind == "union_tag_not_found":
            hint = choice_hint(None, tags, "types")
            return error_class(file, line, path, f"a {label} (required)", "nothing", hint)
        tag = value.get("type") if isinstance(value, Mapping) else None
        hint = choice_hint(tag, tags, "types")
        return error_class(file, line, path, f"a known {label}", describe_value(tag), hint)
    expect = site.expect()
    expected = site.expected_text()
    if kind in ("too_short", "too_long") and "actual_length" in ctx:
        n = ctx["actual_length"]
        template = expect.length if expect is not None else "a list of {n}"
        return make(expected, "an empty list" if n == 0 else template.format(n=n))
    hint = bool_hint(value) if site.type is str else ""
    if kind == "literal_error" and expect is not None and expect.choices:
        hint = choice_hint(value, expect.choices)
    return make(expected, describe_value(value), hint)


def _tags(union: Any) -> list[Any]:
    """The tags of a discriminated union of models (their ``type`` literals), in order."""
    out = []
    for option in get_args(union):
        option, _ = _unwrap(option)
        if _is_model(option) and "type" in option.model_fields:
            out.extend(get_args(option.model_fields["type"].annotation))
    return out


def _value_at(site: _Site, value: Any, ctx: Mapping[str, Any]) -> Any:
    """The value an error with a ``sub`` path points at (the file's), else the input."""
    if ctx.get("sub") and site.node is not _MISSING:
        return site.node
    return value


def locate(tree: Any, root: Loc, loc: Sequence[Any]) -> tuple[str, Loc]:
    """(key path, (file, line)) of a location in a tree read with line numbers."""
    path, where, node = "", root, tree
    for elem in loc:
        where = loc_of(node, elem, where)
        node = _child_value(node, elem)
        path = join_path(path, elem)
    return path, where


def without_nulls(value: Any, keep: Sequence[str] = ()) -> Any:
    """A copy without mapping entries set to null (null means "the default"); the lines of the
    dropped keys are kept for messages. Entries of the top-level keys in `keep` keep their
    nulls (e.g. an experiment's overrides, where null restores a scenario default)."""
    if isinstance(value, LocDict):
        out = LocDict()
        out.locs = value.locs
        for key, item in value.items():
            if item is None:
                continue
            out[key] = item if key in keep else without_nulls(item)
        return out
    if isinstance(value, LocList):
        out_list = LocList(without_nulls(item) for item in value)
        out_list.locs = value.locs
        return out_list
    return value


def validate(
    model: type[BaseModel],
    tree: Any,
    root: Loc,
    error_class: type[FileError],
    context: Mapping[str, Any] | None = None,
) -> Any:
    """``model.model_validate(tree)``, every error raised together as one `error_class`."""
    try:
        return model.model_validate(tree, context=dict(context or {}))
    except ValidationError as exc:
        found = exc.errors(include_url=False, include_context=True)
        errors = [_translate(e, model, tree, root, error_class) for e in found[:MAX_TRANSLATED]]
        combined = error_class.combine(errors)
        combined.omitted = len(found) - len(combined.errors)
        raise combined from None


def field_docs(model: type[BaseModel]) -> dict[str, tuple[Any, Any]]:
    """Name -> (FieldInfo, Expect or None) of a schema's fields, in order (for docs)."""
    out = {}
    for name, info in model.model_fields.items():
        meta = list(info.metadata)
        if not any(isinstance(m, Expect) for m in meta):
            meta += _unwrap(info.annotation)[1]
        expect = next((m for m in reversed(meta) if isinstance(m, Expect)), None)
        out[info.alias or name] = (info, expect)
    return out
