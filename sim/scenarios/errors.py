"""Errors in input files, one line each: ``file:line: key.path: expected X, got Y; hint``.

`FileError` is the shape shared by scenario and experiment files (`ScenarioError` here,
`sim.experiments.experiment.ExperimentError`). One exception can carry every error found in a
file (``errors``, at most `MAX_ERRORS` shown): ``str()`` is then one line per error. The
helpers below word what was found (`describe_value`) and suggest a fix (`choice_hint`).
"""

from __future__ import annotations

import datetime
import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

import numpy as np

from sim.errors import InputError

__all__ = [
    "MAX_ERRORS",
    "FileError",
    "Problems",
    "ScenarioError",
    "bool_hint",
    "choice_hint",
    "describe_value",
    "join_path",
    "range_text",
    "suggest",
]

MAX_ERRORS = 20  # errors shown per file; the rest are counted


class FileError(InputError):
    """A file (or ``--set``) is wrong. Attributes: ``file``, ``line`` (int or None),
    ``key_path`` (e.g. ``states[3].stability``; empty for file-level problems), ``expected``,
    ``got``, ``hint``; ``errors`` holds every error found (this one first) and ``omitted``
    counts those beyond `MAX_ERRORS`."""

    def __init__(
        self,
        file: str,
        line: int | None,
        key_path: str,
        expected: str,
        got: str,
        hint: str = "",
    ) -> None:
        super().__init__(file, line, key_path, expected, got, hint)
        self.file = file
        self.line = line
        self.key_path = key_path
        self.expected = expected
        self.got = got
        self.hint = hint
        self.errors: tuple[FileError, ...] = (self,)
        self.omitted = 0

    @classmethod
    def of(cls, error: FileError, **changes: Any) -> Self:
        """This kind of error made from another's fields (e.g. a scenario error in an experiment)."""
        fields = {k: getattr(error, k) for k in ("file", "line", "key_path", "expected", "got")}
        return cls(**{**fields, "hint": error.hint, **changes})

    @classmethod
    def combine(cls, errors: Sequence[FileError]) -> Self:
        """One exception for several errors: the first (in file and line order) carries all."""
        files = list(dict.fromkeys(e.file for e in errors))
        ordered = sorted(errors, key=lambda e: (files.index(e.file), e.line or 0))
        first = ordered[0] if isinstance(ordered[0], cls) else cls.of(ordered[0])
        first.errors = tuple(ordered[:MAX_ERRORS])
        first.omitted = max(0, len(ordered) - MAX_ERRORS)
        return first

    def line_text(self) -> str:
        """This error alone, on one line."""
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        parts = [where, self.key_path] if self.key_path else [where]
        parts.append(f"expected {self.expected}, got {self.got}")
        text = ": ".join(parts)
        return f"{text}; {self.hint}" if self.hint else text

    def __str__(self) -> str:
        lines = [e.line_text() for e in self.errors]
        if self.omitted:
            lines.append(f"{self.file}: ... and {self.omitted} more errors (first fix those above)")
        return "\n".join(lines)

    def __reduce__(self) -> Any:
        return _rebuild, (type(self), self.args, self.errors[1:], self.omitted)


def _rebuild(cls: type[FileError], args: tuple, others: tuple, omitted: int) -> FileError:
    error = cls(*args)
    error.errors = (error, *others)
    error.omitted = omitted
    return error


class ScenarioError(FileError):
    """A scenario cannot be loaded; ``str()`` is ``file:line: key.path: expected X, got Y``
    (one line per error when a file has several)."""


class Problems:
    """Collects errors (one per line of output) and raises them together."""

    def __init__(self, error_class: type[FileError] = ScenarioError) -> None:
        self.error_class = error_class
        self.found: list[FileError] = []

    def add(self, error: FileError) -> None:
        self.found.append(error)

    def extend(self, errors: Iterable[FileError]) -> None:
        self.found.extend(errors)

    def __bool__(self) -> bool:
        return bool(self.found)

    def raise_if_any(self) -> None:
        if self.found:
            raise self.error_class.combine(self.found)


# --------------------------------------------------------------------------------------------
# Wording: what was found, what was meant
# --------------------------------------------------------------------------------------------


def describe_value(value: Any) -> str:
    """Short human text for a value found in the input (never fails, never huge)."""
    if value is None:
        return "null"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        v = int(value)
        if abs(v) >= 10**15:
            return f"a {int(v.bit_length() * math.log10(2)) + 1}-digit integer"
        return str(v)
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        return repr(v)
    if isinstance(value, str):
        text = repr(value if len(value) <= 200 else value[:200])
        return text if len(text) <= 60 else text[:56] + "...'"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    return f"a {type(value).__name__}"


def suggest(word: Any, choices: Any) -> str | None:
    """The closest choice to a misspelt word (case-insensitive), or None."""
    if not isinstance(word, str):
        return None
    choices = [c for c in choices if isinstance(c, str)]
    lowered = {c.lower(): c for c in choices}
    matches = difflib.get_close_matches(word[:100].lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[matches[0]] if matches else None


def choice_hint(word: Any, choices: Any, label: str = "allowed") -> str:
    """'did you mean X? allowed: a, b, c' (the list cut short when long)."""
    choices = list(choices)
    suggestion = suggest(word, choices)
    shown = ", ".join(_short(c) for c in choices[:30]) + (", ..." if len(choices) > 30 else "")
    prefix = f"did you mean {_short(suggestion)!r}? " if suggestion else ""
    return f"{prefix}{label}: {shown or '(none)'}"


def _short(choice: Any, limit: int = 40) -> str:
    text = str(choice)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def bool_hint(value: Any) -> str:
    """YAML reads yes/no/on/off/true/false as booleans: tell the user to quote."""
    if isinstance(value, bool):
        return "YAML reads yes/no/on/off/true/false as booleans; quote the value"
    return ""


def join_path(path: str, key: Any) -> str:
    """Key path of a mapping key below `path` (dotted) or a list index (``[i]``)."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    text = key if isinstance(key, str) else describe_value(key)
    return f"{path}.{text}" if path else text


def number_text(x: float) -> str:
    """A bound as written in messages: 100000, 1e+06, 9.22337e+18, 0.5."""
    return str(x) if isinstance(x, int) and abs(x) < 10**7 else f"{x:g}"


def range_text(lo: float | None, hi: float | None, integer: bool) -> str:
    """'a number in [0, 1]', 'an integer >= 1', 'a number'."""
    kind = "an integer" if integer else "a number"
    if lo is not None and hi is not None:
        return f"{kind} in [{number_text(lo)}, {number_text(hi)}]"
    if lo is not None:
        return f"{kind} >= {number_text(lo)}"
    if hi is not None:
        return f"{kind} <= {number_text(hi)}"
    return kind


def count_text(lo: int, hi: int | None) -> str:
    """'exactly 2 ', 'at least 2 ' or '' (for lo = 0), to put before a plural noun."""
    if lo == hi:
        return f"exactly {lo} "
    return f"at least {lo} " if lo else ""
