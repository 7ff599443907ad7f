"""Scenario loading: YAML file (or dict) -> validated, typed `sim.core.scenario.Scenario`.

Every scenario the model sees passes through here, so bad input stops with a
`ScenarioError` that names the file, the line, the key path, what was expected and
what was found -- never another exception type and never a half-checked world.

Pipeline: read bytes -> strict UTF-8 -> safe YAML (no object tags, alias bombs
refused while composing, lines remembered per key) -> resolve ``extends:`` (deep
merge, states by id, events appended) -> apply ``--set`` overrides -> validate every
key and value -> typed `Scenario`. `scenario_to_dict` writes the canonical resolved
form back out (what a run directory saves) and `scenario_hash` fingerprints it.
The accepted keys are the module constants below; ``docs/scenarios.md`` documents them.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import yaml

import sim
from sim.core.events import EVENT_SCHEMA, KIND_CHOICES
from sim.core.params import LEVERS, Parameters, describe_range, parameter_fields
from sim.core.scenario import Event, Relations, Scenario, StateSpec
from sim.errors import InputError

__all__ = [
    "DEFAULT_GOVERNANCE",
    "DEFAULT_SCENARIO",
    "EVENT_KEYS",
    "PARAMETER_KEYS",
    "RELATION_KEYS",
    "RICHARDSON_KEYS",
    "STATE_KEYS",
    "TIME_UNITS",
    "TOP_KEYS",
    "InputError",
    "ScenarioError",
    "apply_overrides",
    "bundled_scenarios_dir",
    "load_scenario",
    "parse_set_option",
    "resolve_scenario_path",
    "resolved_scenario_dict",
    "scenario_from_dict",
    "scenario_hash",
    "scenario_to_dict",
]

# --------------------------------------------------------------------------------------------
# Accepted keys, defaults and limits (docs/scenarios.md documents each; a test checks that)
# --------------------------------------------------------------------------------------------

TOP_KEYS = (
    "name",
    "description",
    "sources",
    "time_unit",
    "start",
    "steps",
    "seed",
    "parameters",
    "governance",
    "alliances",
    "states",
    "relations",
    "events",
    "extends",
)
STATE_KEYS = (
    "id",
    "name",
    "capability",
    "budget",
    "arms_industry",
    "stability",
    "governance",
    "position",
    "autonomy",
    "location",
    "levers",
    "richardson",
)
RELATION_KEYS = ("trust", "interoperability", "hostility", "agreements", "hotlines", "dependency")
RICHARDSON_KEYS = ("reactivity", "fatigue", "ambition")
EVENT_KEYS = ("step", "date", "type")  # every event has these; the rest come from EVENT_SCHEMA
PARAMETER_KEYS = tuple(parameter_fields())
TIME_UNITS = {"month": 1, "quarter": 3, "year": 12}  # months per step

DEFAULT_SCENARIO = "indo_pacific"
DEFAULT_GOVERNANCE = {
    "transparency": 0.3,
    "oversight": 0.5,
    "co_creation": 0.5,
    "exit_strategy": 0.5,
    "cbm_investment": 0.2,
}
DEFAULT_STEPS = 120
DEFAULT_SEED = 0

MAX_STEPS = 100_000
MAX_MAGNITUDE = 1e6  # capability, budget, richardson terms, event volumes and factors
MAX_SEED = 2**63 - 1
MAX_INT = 2**63 - 1  # every integer must fit in 64 bits (numpy arrays downstream)
MAX_UNTIL = 10**9
MAX_POSITION_DIM = 5
MAX_ALIASES = 100
MAX_YAML_NODES = 1_000_000  # nodes after expanding aliases
MAX_FILE_BYTES = 16 * 2**20
MAX_DEPTH = 50

_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_INDEX_RE = re.compile(r"\[(\d+)\]")
_PAIR_MAPS = ("trust", "interoperability", "hostility")
_GROUP_SIZES = {("war_shock", "states"): (2, 2), ("hotline", "states"): (2, 2)}
_GROUP_SIZES[("exercise_program", "participants")] = (2, None)
_DISJOINT = {  # event type -> two fields that must not share a state
    "embargo": ("suppliers", "targets"),
    "lift_embargo": ("suppliers", "targets"),
    "sanctions": ("by", "target"),
    "arms_program": ("suppliers", "recipient"),
}
_MISSING = object()

Loc = tuple[str, int | None]  # (file or "--set", 1-based line or None)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ScenarioError(InputError):
    """A scenario cannot be loaded; ``str()`` is one line: ``file:line: key.path: expected X, got Y``.

    Attributes: ``file``, ``line`` (int or None), ``key_path`` (e.g. ``states[3].stability``,
    empty for file-level problems), ``expected``, ``got`` and an optional ``hint``.
    """

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

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        parts = [where]
        if self.key_path:
            parts.append(self.key_path)
        parts.append(f"expected {self.expected}, got {self.got}")
        text = ": ".join(parts)
        return f"{text}; {self.hint}" if self.hint else text


def _fail(loc: Loc, key_path: str, expected: str, got: str, hint: str = "") -> NoReturn:
    raise ScenarioError(loc[0], loc[1], key_path, expected, got, hint)


# --------------------------------------------------------------------------------------------
# Small helpers: descriptions, suggestions, key paths
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
        text = repr(value)
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
    shown = ", ".join(str(c) for c in choices[:30]) + (", ..." if len(choices) > 30 else "")
    prefix = f"did you mean {suggestion!r}? " if suggestion else ""
    return f"{prefix}{label}: {shown or '(none)'}"


def _bool_hint(value: Any) -> str:
    """YAML reads yes/no/on/off/true/false as booleans: tell the user to quote."""
    if isinstance(value, bool):
        return "YAML reads yes/no/on/off/true/false as booleans; quote the value"
    return ""


def _join(path: str, key: Any) -> str:
    """Key path of a mapping key below `path` (dotted) or a list index (``[i]``)."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    text = key if isinstance(key, str) else describe_value(key)
    return f"{path}.{text}" if path else text


def _fmt(x: float) -> str:
    return str(x) if isinstance(x, int) and abs(x) < 10**7 else f"{x:g}"


def _range_text(lo: float | None, hi: float | None, integer: bool) -> str:
    kind = "an integer" if integer else "a number"
    if lo is not None and hi is not None:
        return f"{kind} in [{_fmt(lo)}, {_fmt(hi)}]"
    if lo is not None:
        return f"{kind} >= {_fmt(lo)}"
    if hi is not None:
        return f"{kind} <= {_fmt(hi)}"
    return kind


def _count_text(lo: int, hi: int | None) -> str:
    """'exactly 2 ', 'at least 2 ' or '' (for lo = 0), to put before a plural noun."""
    if lo == hi:
        return f"exactly {lo} "
    return f"at least {lo} " if lo else ""


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


# --------------------------------------------------------------------------------------------
# Trees that remember where each key came from
# --------------------------------------------------------------------------------------------


class _LocDict(dict):
    """A mapping that remembers, per key, the (file, line) it was read from."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locs: dict[Any, Loc] = {}


class _LocList(list):
    """A list that remembers, per index, the (file, line) of the item."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.locs: dict[int, Loc] = {}


def _loc(container: Any, key: Any, default: Loc) -> Loc:
    locs = getattr(container, "locs", None)
    return locs.get(key, default) if locs is not None else default


def _copy_tree(value: Any, loc: Loc, keep_locs: bool = True, depth: int = 0) -> Any:
    """Deep copy of mappings and lists into _LocDict/_LocList (refuses runaway nesting)."""
    if depth > MAX_DEPTH:
        _fail(
            loc,
            "",
            f"at most {MAX_DEPTH} levels of nesting",
            "deeper nesting (or a structure that contains itself)",
        )
    if isinstance(value, Mapping):
        out = _LocDict()
        for key, item in value.items():
            child = _loc(value, key, loc) if keep_locs else loc
            out[key] = _copy_tree(item, child, keep_locs, depth + 1)
            if keep_locs and key in getattr(value, "locs", {}):
                out.locs[key] = child
        return out
    if _is_list(value):
        out_list = _LocList()
        for i, item in enumerate(value):
            child = _loc(value, i, loc) if keep_locs else loc
            out_list.append(_copy_tree(item, child, keep_locs, depth + 1))
            if keep_locs and i in getattr(value, "locs", {}):
                out_list.locs[i] = child
        return out_list
    return value


# --------------------------------------------------------------------------------------------
# Safe YAML with line numbers and alias-bomb protection
# --------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds _LocDict/_LocList, refuses object tags, duplicate keys and bombs."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self.file = file
        self.alias_count = 0
        self.sizes: dict[int, int] = {}  # id(node) -> expanded node count

    def _line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose as usual, counting aliases and the size the document would expand to."""
        is_alias = self.check_event(yaml.AliasEvent)
        if is_alias:
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                mark = self.peek_event().start_mark
                _fail(
                    (self.file, mark.line + 1),
                    "",
                    f"at most {MAX_ALIASES} YAML aliases (*name)",
                    "more (refused: this looks like an alias bomb)",
                )
        node = super().compose_node(parent, index)
        if is_alias:
            if id(node) not in self.sizes:
                _fail(
                    (self.file, self._line(node)),
                    "",
                    "YAML aliases that refer to finished nodes",
                    "a recursive alias (a structure that contains itself)",
                )
            size = self.sizes[id(node)]
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self.sizes[id(child)] for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size = 1 + sum(self.sizes[id(k)] + self.sizes[id(v)] for k, v in node.value)
        else:
            size = 1
        if size > MAX_YAML_NODES:
            _fail(
                (self.file, self._line(node)),
                "",
                f"a document of at most {MAX_YAML_NODES:,} values once aliases are expanded",
                "far more (refused: this looks like an alias bomb)",
            )
        self.sizes[id(node)] = size
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Construct as usual; scalar conversion errors (e.g. 2018-02-30) become ScenarioError."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            text = node.value if isinstance(node.value, str) else node.tag
            _fail(
                (self.file, self._line(node)),
                "",
                "a valid YAML value",
                f"{describe_value(text)} ({str(exc).split(':')[0][:80]})",
            )

    def construct_loc_map(self, node: yaml.MappingNode) -> Any:
        """Mappings become _LocDict with the line of every key; duplicate keys are refused."""
        data = _LocDict()
        yield data
        own = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        self.flatten_mapping(node)
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node)
            line = self._line(key_node)
            try:
                hash(key)
            except TypeError:
                _fail((self.file, line), "", "a plain value as mapping key", describe_value(key))
            if id(key_node) in own:
                if key in first_line:
                    _fail(
                        (self.file, line),
                        _join("", key),
                        "each key once per mapping",
                        f"a duplicate key (first on line {first_line[key]})",
                    )
                first_line[key] = line
            data[key] = self.construct_object(value_node)
            data.locs[key] = (self.file, line)

    def construct_loc_seq(self, node: yaml.SequenceNode) -> Any:
        """Sequences become _LocList with the line of every item."""
        data = _LocList()
        yield data
        for i, child in enumerate(node.value):
            data.append(self.construct_object(child))
            data.locs[i] = (self.file, self._line(child))

    def construct_refused(self, node: yaml.Node) -> NoReturn:
        """Any tag without a safe constructor (e.g. !!python/object/apply) is refused."""
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        _fail(
            (self.file, self._line(node)),
            "",
            "plain YAML data",
            f"the tag {describe_value(tag)}",
            "tags that build Python objects are refused, never executed",
        )


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_loc_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_loc_seq)
_Loader.add_constructor(None, _Loader.construct_refused)


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document safely; every failure becomes a ScenarioError."""
    loader = None
    try:
        loader = _Loader(text, file)
        return loader.get_single_data()
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        _fail(
            (file, line),
            "",
            "valid YAML text",
            f"the character #x{exc.character:04x} ({exc.reason})"
            if isinstance(exc.character, int)
            else str(exc.reason),
        )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "unreadable input"
        if exc.context and exc.problem:
            problem = f"{problem} ({exc.context})"
        line = mark.line + 1 if mark else None
        _fail((file, line), "", "valid YAML", f"a syntax error: {problem}")
    except yaml.YAMLError as exc:
        _fail((file, None), "", "valid YAML", str(exc).replace("\n", " "))
    except RecursionError:
        _fail((file, None), "", f"at most {MAX_DEPTH} levels of nesting", "far deeper nesting")
    finally:
        if loader is not None:
            loader.dispose()


def _read_yaml_file(path: Path, display: str) -> Any:
    """Bytes -> strict UTF-8 -> safe YAML."""
    loc: Loc = (display, None)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        _fail(loc, "", "an existing scenario file", "no such file")
    except IsADirectoryError:
        _fail(loc, "", "a scenario file", "a directory")
    except OSError as exc:
        _fail(loc, "", "a readable scenario file", exc.strerror or type(exc).__name__)
    if len(data) > MAX_FILE_BYTES:
        _fail(loc, "", f"a file of at most {MAX_FILE_BYTES // 2**20} MiB", "a larger file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        _fail(
            (display, line),
            "",
            "UTF-8 text",
            f"byte 0x{data[exc.start]:02x} at offset {exc.start}",
            "save the file as UTF-8",
        )
    return parse_yaml(text, display)


def _as_top(data: Any, loc: Loc) -> _LocDict:
    """The document must be a non-empty mapping of scenario keys."""
    if data is None:
        _fail(loc, "", "a mapping of scenario keys (name, states, ...)", "an empty document")
    if not isinstance(data, Mapping):
        _fail(
            loc,
            "",
            "a mapping of scenario keys (name, states, ...) at the top level",
            describe_value(data),
        )
    return _copy_tree(data, loc)


# --------------------------------------------------------------------------------------------
# Scenario files: bundled names and extends
# --------------------------------------------------------------------------------------------


def bundled_scenarios_dir() -> Path:
    """Directory of the scenarios shipped with ddsim (source tree or installed wheel)."""
    package = Path(sim.__file__).parent
    wheel = package / "_bundled" / "scenarios"
    return wheel if wheel.is_dir() else package.parent / "scenarios"


def _bundled_names() -> list[str]:
    folder = bundled_scenarios_dir()
    if not folder.is_dir():
        return []
    return sorted({p.stem for p in folder.iterdir() if p.suffix in (".yaml", ".yml")})


def _bundled_path(name: str) -> Path | None:
    """The bundled scenario file called `name` (with or without .yaml), if any."""
    if not name or "/" in name or "\\" in name:
        return None
    stem = name.removesuffix(".yaml").removesuffix(".yml")
    for suffix in (".yaml", ".yml"):
        candidate = bundled_scenarios_dir() / f"{stem}{suffix}"
        if os.path.isfile(candidate):
            return candidate
    return None


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A scenario path as given if it exists, else a bundled scenario name (e.g. indo_pacific)."""
    path = Path(name_or_path)
    if os.path.exists(path):  # (os.path treats unusable names as missing)
        return path
    bundled = _bundled_path(str(name_or_path))
    if bundled is not None:
        return bundled
    _fail(
        (str(name_or_path), None),
        "",
        "an existing scenario file or a bundled scenario name",
        "no such file",
        choice_hint(str(name_or_path), _bundled_names(), "bundled scenarios"),
    )


Chain = tuple[tuple[Path | None, str], ...]  # (resolved path or None for a dict, display name)


def _load_tree(path: Path, display: str, chain: Chain) -> _LocDict:
    """Read a scenario file and resolve its extends chain into one merged tree."""
    tree = _as_top(_read_yaml_file(path, display), (display, None))
    return _resolve_extends(tree, path.parent, chain + ((path.resolve(), display),))


def _resolve_extends(tree: _LocDict, base_dir: Path, chain: Chain) -> _LocDict:
    """Merge the parent named by ``extends:`` (relative to base_dir, or bundled) under tree."""
    if "extends" not in tree:
        return tree
    ref = tree.pop("extends")
    loc = tree.locs.pop("extends", (chain[-1][1], None))
    if ref is None:
        return tree
    names = " -> ".join(display for _, display in chain)
    if not isinstance(ref, str) or not ref.strip():
        _fail(
            loc,
            "extends",
            "a scenario file path or bundled scenario name",
            describe_value(ref),
            _bool_hint(ref),
        )
    candidate = base_dir / ref
    if os.path.isfile(candidate):
        parent_path = candidate
        parent_display = str(Path(chain[-1][1]).parent / ref) if chain[-1][0] else ref
    else:
        bundled = _bundled_path(ref)
        if bundled is None:
            _fail(
                loc,
                "extends",
                f"an existing scenario file (relative to {base_dir}) or a bundled scenario name",
                f"{ref!r}, which was not found",
                f"extends chain: {names} -> {ref}; "
                + choice_hint(ref, _bundled_names(), "bundled scenarios"),
            )
        parent_path, parent_display = bundled, str(bundled)
    if parent_path.resolve() in [p for p, _ in chain]:
        _fail(
            loc,
            "extends",
            "an extends chain without cycles",
            f"a cycle {names} -> {parent_display}",
        )
    parent = _load_tree(parent_path, parent_display, chain)
    return _merge(parent, tree)


def _pair_parts(key: Any) -> tuple[str, str, str] | None:
    """'A-B' -> ('A', '-', 'B'); 'A>B' -> ('A', '>', 'B'); anything else -> None."""
    if not isinstance(key, str):
        return None
    for sep in (">", "-"):
        parts = key.split(sep)
        if len(parts) == 2 and all(parts) and not any(s in key for s in "->" if s != sep):
            return parts[0].strip(), sep, parts[1].strip()
    return None


def _same_pair(a: Any, b: Any) -> bool:
    """Two pair keys naming the same relation ('A-B' equals 'B-A'; 'A>B' only itself)."""
    pa, pb = _pair_parts(a), _pair_parts(b)
    if pa is None or pb is None or pa[1] != pb[1]:
        return False
    if pa[1] == ">":
        return pa == pb
    return {pa[0], pa[2]} == {pb[0], pb[2]}


def _drop_same_pairs(mapping: _LocDict, new_keys: Any) -> _LocDict:
    """A copy of a pair mapping without the keys that the new keys restate (e.g. B-A for A-B)."""
    out = _LocDict()
    for key, value in mapping.items():
        if not any(_same_pair(key, new) and key != new for new in new_keys):
            out[key] = value
            if key in mapping.locs:
                out.locs[key] = mapping.locs[key]
    return out


def _merge(parent: _LocDict, child: _LocDict, path: tuple[str, ...] = ()) -> _LocDict:
    """Deep merge for extends: mappings recurse, states merge by id, events append, rest replace."""
    out = _LocDict(parent)
    out.locs = dict(parent.locs)
    for key, value in child.items():
        old = out.get(key, _MISSING)
        if (
            not path
            and key == "states"
            and isinstance(old, _LocList)
            and isinstance(value, _LocList)
        ):
            new: Any = _merge_states(old, value)
        elif (
            not path
            and key == "events"
            and isinstance(old, _LocList)
            and isinstance(value, _LocList)
        ):
            new = _LocList([*old, *value])
            new.locs = {**old.locs, **{len(old) + i: loc for i, loc in value.locs.items()}}
        elif isinstance(old, _LocDict) and isinstance(value, _LocDict):
            if path == ("relations",) and key in _PAIR_MAPS:
                old = _drop_same_pairs(old, list(value))
            new = _merge(old, value, (*path, key))
        else:
            new = value
        out[key] = new
        if key in child.locs:
            out.locs[key] = child.locs[key]
    return out


def _merge_states(parent: _LocList, child: _LocList) -> _LocList:
    """States of a child update the parent's entry with the same id, or are appended."""
    out = _LocList(parent)
    out.locs = dict(parent.locs)
    by_id = {
        e["id"]: i
        for i, e in enumerate(parent)
        if isinstance(e, _LocDict) and isinstance(e.get("id"), str)
    }
    for j, entry in enumerate(child):
        sid = entry.get("id") if isinstance(entry, _LocDict) else None
        if isinstance(sid, str) and sid in by_id and isinstance(out[by_id[sid]], _LocDict):
            out[by_id[sid]] = _merge(out[by_id[sid]], entry, ("states",))
            continue
        out.append(entry)
        if j in child.locs:
            out.locs[len(out) - 1] = child.locs[j]
        if isinstance(sid, str):
            by_id[sid] = len(out) - 1
    return out


# --------------------------------------------------------------------------------------------
# Overrides (--set)
# --------------------------------------------------------------------------------------------


def parse_set_option(text: str) -> tuple[str, Any]:
    """'parameters.temperature=0.1' -> ('parameters.temperature', 0.1); the value is YAML."""
    loc: Loc = ("--set", None)
    if not isinstance(text, str) or "=" not in text:
        _fail(loc, "", "KEY=VALUE (e.g. parameters.temperature=0.1)", describe_value(text))
    key, _, raw = text.partition("=")
    if not key.strip():
        _fail(loc, "", "KEY=VALUE with a key path before '='", describe_value(text))
    return key.strip(), _copy_tree(parse_yaml(raw, "--set"), loc, keep_locs=False)


def _split_path(path: Any, loc: Loc) -> list[str]:
    """'events[3].step' -> ['events', '3', 'step']."""
    if not isinstance(path, str) or not path.strip():
        _fail(loc, "", "a dotted key path such as parameters.temperature", describe_value(path))
    tokens = _INDEX_RE.sub(r".\1", path.strip()).split(".")
    if not all(tokens):
        _fail(loc, path, "a dotted key path such as parameters.temperature", describe_value(path))
    return tokens


def _sub_mapping(parent: _LocDict, key: str, loc: Loc, path: str) -> _LocDict:
    """parent[key] as a mapping, created empty when missing (for setting a key inside it)."""
    value = parent.get(key)
    if value is None:
        value = parent[key] = _LocDict()
        parent.locs[key] = loc
    if not isinstance(value, _LocDict):
        _fail(
            _loc(parent, key, loc),
            path,
            f"{key} to be a mapping to set a key in it",
            describe_value(value),
        )
    return value


def _pick(token: str, choices: Any, loc: Loc, path: str, what: str) -> str:
    if token not in choices:
        _fail(loc, path, f"a known {what}", describe_value(token), choice_hint(token, choices))
    return token


def _depth(tokens: list[str], allowed: int, loc: Loc, path: str, example: str) -> None:
    if len(tokens) > allowed:
        _fail(loc, path, f"a key path like {example}", "a longer path")


def apply_overrides(
    data: Mapping[str, Any], overrides: Mapping[str, Any], source: str = "--set"
) -> dict:
    """A copy of a scenario tree with dotted-path overrides applied (states by id, events by index).

    Paths: top-level keys (``steps``), ``parameters.X``, ``governance.X``, ``alliances.NAME``,
    ``states.ID.KEY`` (``levers``/``richardson`` one level deeper), ``relations.KIND[.PAIR]``,
    ``relations.dependency.IMPORTER[.SUPPLIER]``, ``events.N[.FIELD]`` or ``events[N].FIELD``.
    Values are checked later by the normal validation, which then names ``source`` as the file.
    """
    loc: Loc = (source, None)
    tree = _as_top(data, loc)
    if overrides is None:
        return tree
    if not isinstance(overrides, Mapping):
        _fail(loc, "", "a mapping of key path -> value", describe_value(overrides))
    for path, raw_value in overrides.items():
        tokens = _split_path(path, loc)
        value = _copy_tree(raw_value, loc, keep_locs=False)
        target, key = _override_target(tree, tokens, loc, path)
        target[key] = value
        target.locs[key] = loc
    return tree


def _override_target(tree: _LocDict, tokens: list[str], loc: Loc, path: str) -> tuple[Any, Any]:
    """(container, key) that the override path addresses, creating empty mappings on the way."""
    top = _pick(tokens[0], [k for k in TOP_KEYS if k != "extends"], loc, path, "scenario key")
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
    _fail(loc, path, f"no key below {top}", "a longer path")


def _state_target(tree: _LocDict, rest: list[str], loc: Loc, path: str) -> tuple[Any, Any]:
    states = tree.get("states")
    if not isinstance(states, _LocList):
        _fail(_loc(tree, "states", loc), path, "a states: list to override", describe_value(states))
    ids = [e.get("id") for e in states if isinstance(e, _LocDict)]
    if rest[0] not in ids:
        _fail(
            loc,
            path,
            "an existing state id",
            describe_value(rest[0]),
            choice_hint(rest[0], ids, "known ids"),
        )
    entry = states[
        next(i for i, e in enumerate(states) if isinstance(e, _LocDict) and e.get("id") == rest[0])
    ]
    if len(rest) < 2:
        _fail(loc, path, "a state key after the id, like states.IND.autonomy", "none")
    key = _pick(rest[1], [k for k in STATE_KEYS if k != "id"], loc, path, "state key")
    if len(rest) == 2:
        return entry, key
    if key not in ("levers", "richardson"):
        _fail(loc, path, f"a key path like states.{rest[0]}.{key}", "a longer path")
    _depth(rest, 3, loc, path, f"states.{rest[0]}.{key}.NAME")
    if key == "levers":
        _pick(rest[2], LEVERS, loc, path, "governance lever")
    else:
        _pick(rest[2], RICHARDSON_KEYS, loc, path, "richardson key")
    return _sub_mapping(entry, key, loc, path), rest[2]


def _relation_target(tree: _LocDict, rest: list[str], loc: Loc, path: str) -> tuple[Any, Any]:
    relations = _sub_mapping(tree, "relations", loc, path)
    kind = _pick(rest[0], RELATION_KEYS, loc, path, "relation kind")
    if len(rest) == 1:
        return relations, kind
    if kind in ("agreements", "hotlines"):
        _fail(loc, path, f"relations.{kind} (a whole list)", "a longer path")
    if kind == "dependency":
        _depth(rest, 3, loc, path, "relations.dependency.IMPORTER.SUPPLIER")
        table = _sub_mapping(relations, "dependency", loc, path)
        if len(rest) == 2:
            return table, rest[1]
        return _sub_mapping(table, rest[1], loc, path), rest[2]
    _depth(rest, 2, loc, path, f"relations.{kind}.A-B")
    table = _sub_mapping(relations, kind, loc, path)
    for key in [k for k in table if _same_pair(k, rest[1])]:
        del table[key]
    return table, rest[1]


def _event_target(tree: _LocDict, rest: list[str], loc: Loc, path: str) -> tuple[Any, Any]:
    events = tree.get("events")
    count = len(events) if isinstance(events, _LocList) else 0
    if not rest[0].isdigit() or int(rest[0]) >= count:
        _fail(
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
    if not isinstance(event, _LocDict):
        _fail(_loc(events, index, loc), path, "the event to be a mapping", describe_value(event))
    schema = EVENT_SCHEMA.get(event.get("type")) if isinstance(event.get("type"), str) else None
    fields = list(schema) if schema else sorted({f for s in EVENT_SCHEMA.values() for f in s})
    field = _pick(rest[1], [*EVENT_KEYS, *fields], loc, path, "event field")
    if field in ("step", "date"):  # an event has one of them: setting one drops the other
        event.pop("date" if field == "step" else "step", None)
    return event, field


# --------------------------------------------------------------------------------------------
# Validation: tree -> typed Scenario
# --------------------------------------------------------------------------------------------


def _get(mapping: Mapping, key: str, loc: Loc) -> tuple[Any, Loc]:
    """(value or _MISSING, where it came from); null counts as missing (the default applies)."""
    value = mapping.get(key)
    return (_MISSING if value is None else value), _loc(mapping, key, loc)


def _check_keys(mapping: Mapping, allowed: Any, path: str, loc: Loc, what: str) -> None:
    """Every key must be one of `allowed`; otherwise suggest the closest and list them."""
    for key in mapping:
        if not isinstance(key, str) or key not in allowed:
            got = (
                f"unknown key {key!r}"
                if isinstance(key, str)
                else f"the non-text key {describe_value(key)}"
            )
            _fail(
                _loc(mapping, key, loc),
                _join(path, key),
                f"a {what}",
                got,
                choice_hint(key, allowed),
            )


def _mapping(value: Any, loc: Loc, path: str, what: str) -> Mapping:
    if not isinstance(value, Mapping):
        _fail(loc, path, what, describe_value(value))
    return value


def _sequence(value: Any, loc: Loc, path: str, what: str) -> list | tuple:
    if not _is_list(value):
        _fail(loc, path, what, describe_value(value))
    return value


def _text(value: Any, loc: Loc, path: str, nonempty: bool = False) -> str:
    if not isinstance(value, str) or (nonempty and not value.strip()):
        _fail(
            loc,
            path,
            "a non-empty string" if nonempty else "a string",
            describe_value(value),
            _bool_hint(value),
        )
    return str(value)


def _number(
    value: Any,
    loc: Loc,
    path: str,
    lo: float | None = None,
    hi: float | None = None,
    integer: bool = False,
    expected: str | None = None,
) -> Any:
    """A finite number (bool refused) within [lo, hi]; integer=True accepts only integral values."""
    expected = expected or _range_text(lo, hi, integer)
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        _fail(loc, path, expected, describe_value(value))
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            _fail(loc, path, expected, describe_value(value))
        if integer and not float(value).is_integer():
            _fail(loc, path, expected, describe_value(value))
    number = int(value) if isinstance(value, int | np.integer) or integer else float(value)
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        _fail(loc, path, expected, describe_value(value))
    if integer:
        if abs(number) > MAX_INT:
            _fail(loc, path, expected, describe_value(value), "integers must fit in 64 bits")
        return int(number)
    try:
        return float(number)
    except OverflowError:
        _fail(loc, path, expected, describe_value(value), "too large to be a number")


def _fraction(value: Any, loc: Loc, path: str) -> float:
    return _number(value, loc, path, 0.0, 1.0)


def _month(value: Any, loc: Loc, path: str) -> tuple[int, int]:
    """'YYYY-MM' (or a YAML date; the day is ignored) -> (year, month)."""
    if isinstance(value, datetime.date):
        return value.year, value.month
    match = _MONTH_RE.match(value.strip()) if isinstance(value, str) else None
    if match is None or not 1 <= int(match[2]) <= 12:
        _fail(loc, path, 'a date "YYYY-MM"', describe_value(value))
    return int(match[1]), int(match[2])


class _Validator:
    """Checks one resolved tree and builds the typed Scenario."""

    def __init__(self, tree: _LocDict, source: str) -> None:
        self.tree = tree
        self.root: Loc = (source, None)
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.steps = DEFAULT_STEPS
        self.time_unit = "month"
        self.start: tuple[int, int] | None = None
        self.alliance_map: dict[str, tuple[str, ...]] = {}

    # --- shared checks -----------------------------------------------------------------------

    def known_id(self, value: Any, loc: Loc, path: str) -> str:
        if not isinstance(value, str):
            _fail(loc, path, "a state id", describe_value(value), _bool_hint(value))
        if value not in self.index:
            _fail(
                loc,
                path,
                "a known state id",
                describe_value(value),
                choice_hint(value, self.ids, "known ids"),
            )
        return value

    def id_list(
        self, value: Any, loc: Loc, path: str, min_len: int = 1, max_len: int | None = None
    ) -> tuple[str, ...]:
        """Distinct known state ids, between min_len and max_len of them."""
        expected = f"a list of {_count_text(min_len, max_len)}known state ids"
        items = _sequence(value, loc, path, expected)
        out: list[str] = []
        for i, item in enumerate(items):
            sid = self.known_id(item, _loc(items, i, loc), _join(path, i))
            if sid in out:
                _fail(_loc(items, i, loc), _join(path, i), "distinct state ids", f"{sid!r} twice")
            out.append(sid)
        if len(out) < min_len or (max_len is not None and len(out) > max_len):
            _fail(loc, path, expected, f"{len(out)}")
        return tuple(out)

    def pair(self, key: Any, loc: Loc, path: str, directed: bool = False) -> tuple[str, str, str]:
        """A pair key 'A-B' (or 'A>B' when directed) of two different known states."""
        example = "'A-B' or 'A>B' (A trusts B)" if directed else "'A-B'"
        parts = _pair_parts(key)
        if parts is None or (parts[1] == ">" and not directed):
            _fail(
                loc,
                path,
                f"a pair of state ids like {example}",
                describe_value(key),
                _bool_hint(key),
            )
        a, sep, b = parts
        self.known_id(a, loc, path)
        self.known_id(b, loc, path)
        if a == b:
            _fail(
                loc, path, "a pair of two different states", f"{key!r}, a state paired with itself"
            )
        return a, sep, b

    def ordered(self, a: str, b: str) -> tuple[str, str]:
        """A symmetric pair in state order (so 'B-A' and 'A-B' are the same key)."""
        return (a, b) if self.index[a] <= self.index[b] else (b, a)

    def step_of_month(self, year: int, month: int) -> int:
        assert self.start is not None
        months = (year - self.start[0]) * 12 + month - self.start[1]
        return months // TIME_UNITS[self.time_unit]

    def month_of_step(self, step: int) -> str:
        assert self.start is not None
        months = self.start[0] * 12 + self.start[1] - 1 + step * TIME_UNITS[self.time_unit]
        return f"{months // 12:04d}-{months % 12 + 1:02d}"

    def date_step(self, value: Any, loc: Loc, path: str) -> int:
        """A date -> the step containing it (needs top-level start)."""
        if self.start is None:
            _fail(
                loc,
                path,
                "a step number (dates need a top-level start: YYYY-MM)",
                describe_value(value),
            )
        return self.step_of_month(*_month(value, loc, path))

    # --- sections ----------------------------------------------------------------------------

    def build(self) -> Scenario:
        tree, root = self.tree, self.root
        _check_keys(tree, TOP_KEYS, "", root, "top-level key")
        name, loc = _get(tree, "name", root)
        if name is _MISSING:
            _fail(loc, "name", "a scenario name (required)", "nothing")
        name = _text(name, loc, "name", nonempty=True)
        description, loc = _get(tree, "description", root)
        description = "" if description is _MISSING else _text(description, loc, "description")
        sources, loc = _get(tree, "sources", root)
        sources = () if sources is _MISSING else self.texts(sources, loc, "sources")
        unit, loc = _get(tree, "time_unit", root)
        if unit is not _MISSING:
            self.time_unit = _pick_value(unit, TIME_UNITS, loc, "time_unit", "time unit")
        start, loc = _get(tree, "start", root)
        if start is not _MISSING:
            self.start = _month(start, loc, "start")
        steps, loc = _get(tree, "steps", root)
        if steps is not _MISSING:
            self.steps = _number(steps, loc, "steps", 1, MAX_STEPS, integer=True)
        seed, loc = _get(tree, "seed", root)
        seed = (
            DEFAULT_SEED
            if seed is _MISSING
            else _number(seed, loc, "seed", 0, MAX_SEED, integer=True)
        )
        parameters = self.parameters()
        governance = self.levers(tree, "governance", root, "governance", fill=True)
        states = self.states()
        self.alliance_map = self.alliances()
        return Scenario(
            name=name,
            states=states,
            steps=self.steps,
            seed=seed,
            description=description,
            sources=sources,
            time_unit=self.time_unit,
            start=None if self.start is None else f"{self.start[0]:04d}-{self.start[1]:02d}",
            parameters=parameters,
            governance=governance,
            alliances=self.alliance_map,
            relations=self.relations(),
            events=self.events(),
        )

    def texts(self, value: Any, loc: Loc, path: str) -> tuple[str, ...]:
        items = _sequence(value, loc, path, "a list of strings")
        return tuple(
            _text(item, _loc(items, i, loc), _join(path, i)) for i, item in enumerate(items)
        )

    def parameters(self) -> Parameters:
        raw, loc = _get(self.tree, "parameters", self.root)
        if raw is _MISSING:
            return Parameters()
        raw = _mapping(raw, loc, "parameters", "a mapping of parameter name -> value")
        _check_keys(raw, PARAMETER_KEYS, "parameters", loc, "model parameter")
        fields = parameter_fields()
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if value is None:
                continue
            meta = fields[name].metadata
            integer = fields[name].type in ("int", int)
            kind = "an integer" if integer else "a number"
            span = describe_range(name)
            expected = (
                kind if span == "any number" else f"{kind} {'in ' if span[0] == '[' else ''}{span}"
            )
            path = f"parameters.{name}"
            values[name] = _number(
                value, _loc(raw, name, loc), path, meta["min"], meta["max"], integer, expected
            )
        try:
            return Parameters(**values)
        except (TypeError, ValueError) as exc:
            _fail(loc, "parameters", "parameters the model accepts", str(exc))

    def levers(
        self, parent: Mapping, key: str, loc: Loc, path: str, fill: bool
    ) -> dict[str, float]:
        """A mapping lever -> [0, 1]; with fill, missing levers take DEFAULT_GOVERNANCE."""
        raw, loc = _get(parent, key, loc)
        out = dict(DEFAULT_GOVERNANCE) if fill else {}
        if raw is _MISSING:
            return out
        raw = _mapping(raw, loc, path, "a mapping of lever -> value in [0, 1]")
        _check_keys(raw, LEVERS, path, loc, "governance lever")
        for lever, value in raw.items():
            if value is not None:
                out[lever] = _fraction(value, _loc(raw, lever, loc), f"{path}.{lever}")
        return out

    def states(self) -> tuple[StateSpec, ...]:
        raw, loc = _get(self.tree, "states", self.root)
        expected = "a list of at least one state (mappings with id and capability)"
        if raw is _MISSING:
            _fail(loc, "states", expected + " (required)", "nothing")
        raw = _sequence(raw, loc, "states", expected)
        if not raw:
            _fail(loc, "states", expected, "an empty list")
        specs: list[dict[str, Any]] = []
        dim: tuple[int, str] | None = None  # (dimension, path that set it)
        for i, entry in enumerate(raw):
            spec, given_dim = self.state(entry, _loc(raw, i, loc), f"states[{i}]")
            if given_dim is not None:
                path = f"states[{i}].position"
                if dim is None:
                    dim = (given_dim, path)
                elif given_dim != dim[0]:
                    ploc = _loc(entry, "position", loc)
                    _fail(
                        ploc,
                        path,
                        f"{dim[0]} numbers, like {dim[1]}",
                        f"{given_dim} numbers",
                        "all positions need the same dimension",
                    )
            specs.append(spec)
        width = dim[0] if dim else 2
        for spec in specs:
            spec.setdefault("position", (0.0,) * width)
        return tuple(StateSpec(**spec) for spec in specs)

    def state(self, entry: Any, loc: Loc, path: str) -> tuple[dict[str, Any], int | None]:
        """One state's keyword arguments for StateSpec, and its position dimension if given."""
        entry = _mapping(entry, loc, path, "a mapping with keys id, capability, ...")
        _check_keys(entry, STATE_KEYS, path, loc, "state key")
        sid, iloc = _get(entry, "id", loc)
        if sid is _MISSING:
            _fail(loc, f"{path}.id", "a state id (required)", "nothing")
        if not isinstance(sid, str) or not _ID_RE.match(sid):
            _fail(
                iloc,
                f"{path}.id",
                "an id of letters, digits and _ starting with a letter",
                describe_value(sid),
                _bool_hint(sid),
            )
        if sid in self.index:
            _fail(
                iloc,
                f"{path}.id",
                "a unique state id",
                f"{sid!r} again (first used by states[{self.index[sid]}])",
            )
        self.index[sid] = len(self.ids)
        self.ids.append(sid)
        spec: dict[str, Any] = {"id": sid}
        cap, cloc = _get(entry, "capability", loc)
        if cap is _MISSING:
            _fail(
                loc,
                f"{path}.capability",
                f"{_range_text(0, MAX_MAGNITUDE, False)} (required)",
                "nothing",
            )
        spec["capability"] = _number(cap, cloc, f"{path}.capability", 0, MAX_MAGNITUDE)
        name, nloc = _get(entry, "name", loc)
        if name is not _MISSING:
            spec["name"] = _text(name, nloc, f"{path}.name")
        checks: dict[str, tuple[float, float]] = {
            "budget": (0, MAX_MAGNITUDE),
            "arms_industry": (0, 1),
            "stability": (0, 1),
            "governance": (0, 1),
            "autonomy": (0, 1),
        }
        for key, (lo, hi) in checks.items():
            value, vloc = _get(entry, key, loc)
            if value is not _MISSING:
                spec[key] = _number(value, vloc, f"{path}.{key}", lo, hi)
        dim = None
        position, ploc = _get(entry, "position", loc)
        if position is not _MISSING:
            spec["position"] = self.vector(
                position, ploc, f"{path}.position", [(-1.0, 1.0)] * MAX_POSITION_DIM, 1
            )
            dim = len(spec["position"])
        location, lloc = _get(entry, "location", loc)
        if location is not _MISSING:
            spec["location"] = self.vector(
                location, lloc, f"{path}.location", [(-90.0, 90.0), (-180.0, 180.0)], 2
            )
        spec["levers"] = self.levers(entry, "levers", loc, f"{path}.levers", fill=False)
        spec["richardson"] = self.richardson(entry, loc, f"{path}.richardson")
        return spec, dim

    def vector(
        self, value: Any, loc: Loc, path: str, bounds: list[tuple[float, float]], min_len: int
    ) -> tuple[float, ...]:
        """A list of min_len..len(bounds) numbers, item i within bounds[i]."""
        if len(bounds) == 2 and min_len == 2:
            expected = "[latitude in [-90, 90], longitude in [-180, 180]]"
        else:
            expected = f"a list of {min_len} to {len(bounds)} numbers in [-1, 1]"
        items = _sequence(value, loc, path, expected)
        if not min_len <= len(items) <= len(bounds):
            _fail(loc, path, expected, f"a list of {len(items)}")
        return tuple(
            _number(item, _loc(items, i, loc), _join(path, i), *bounds[i])
            for i, item in enumerate(items)
        )

    def richardson(self, entry: Mapping, loc: Loc, path: str) -> dict[str, float]:
        raw, loc = _get(entry, "richardson", loc)
        if raw is _MISSING:
            return {}
        raw = _mapping(raw, loc, path, "a mapping with keys reactivity, fatigue, ambition")
        _check_keys(raw, RICHARDSON_KEYS, path, loc, "richardson key")
        out = {}
        for key, value in raw.items():
            if value is not None:
                lo = -MAX_MAGNITUDE if key == "ambition" else 0
                out[key] = _number(value, _loc(raw, key, loc), f"{path}.{key}", lo, MAX_MAGNITUDE)
        return out

    def alliances(self) -> dict[str, tuple[str, ...]]:
        raw, loc = _get(self.tree, "alliances", self.root)
        if raw is _MISSING:
            return {}
        raw = _mapping(raw, loc, "alliances", "a mapping of alliance name -> list of state ids")
        out = {}
        for name, members in raw.items():
            aloc = _loc(raw, name, loc)
            path = _join("alliances", name)
            if not isinstance(name, str) or not name.strip():
                _fail(aloc, path, "an alliance name (a non-empty string)", describe_value(name))
            out[name] = () if members is None else self.id_list(members, aloc, path, min_len=0)
        return out

    def relations(self) -> Relations:
        raw, loc = _get(self.tree, "relations", self.root)
        if raw is _MISSING:
            return Relations()
        raw = _mapping(raw, loc, "relations", "a mapping with keys " + ", ".join(RELATION_KEYS))
        _check_keys(raw, RELATION_KEYS, "relations", loc, "relation kind")
        return Relations(
            trust=self.trust(raw, loc),
            interoperability=self.symmetric(raw, "interoperability", loc),
            hostility=self.symmetric(raw, "hostility", loc),
            agreements=self.pair_list(raw, "agreements", loc),
            hotlines=self.pair_list(raw, "hotlines", loc),
            dependency=self.dependency(raw, loc),
        )

    def pair_values(
        self, raw: Mapping, kind: str, loc: Loc, directed: bool
    ) -> list[tuple[tuple[str, str, str], float]]:
        """[(pair, value)] of a pair mapping; the same pair twice is an error."""
        table, loc = _get(raw, kind, loc)
        if table is _MISSING:
            return []
        path = f"relations.{kind}"
        table = _mapping(table, loc, path, "a mapping of pair 'A-B' -> value in [0, 1]")
        seen: dict[Any, str] = {}
        out = []
        for key, value in table.items():
            kloc, kpath = _loc(table, key, loc), _join(path, key)
            a, sep, b = self.pair(key, kloc, kpath, directed)
            norm = (a, b) if sep == ">" else self.ordered(a, b)
            if (sep, norm) in seen:
                _fail(kloc, kpath, "each pair once", f"{key!r} after {seen[(sep, norm)]!r}")
            seen[(sep, norm)] = key
            if value is not None:
                out.append(((a, sep, b), _fraction(value, kloc, kpath)))
        return out

    def trust(self, raw: Mapping, loc: Loc) -> dict[tuple[str, str], float]:
        """Directed trust: 'A-B' sets both directions, 'A>B' one (and wins over 'A-B')."""
        items = self.pair_values(raw, "trust", loc, directed=True)
        out: dict[tuple[str, str], float] = {}
        for (a, _, b), value in (item for item in items if item[0][1] == "-"):
            out[(a, b)] = out[(b, a)] = value
        for (a, _, b), value in (item for item in items if item[0][1] == ">"):
            out[(a, b)] = value
        return out

    def symmetric(self, raw: Mapping, kind: str, loc: Loc) -> dict[tuple[str, str], float]:
        return {
            self.ordered(a, b): v
            for (a, _, b), v in self.pair_values(raw, kind, loc, directed=False)
        }

    def pair_list(self, raw: Mapping, kind: str, loc: Loc) -> tuple[tuple[str, str], ...]:
        value, loc = _get(raw, kind, loc)
        if value is _MISSING:
            return ()
        path = f"relations.{kind}"
        items = _sequence(value, loc, path, "a list of pairs like 'A-B'")
        out: list[tuple[str, str]] = []
        for i, item in enumerate(items):
            iloc, ipath = _loc(items, i, loc), _join(path, i)
            a, _, b = self.pair(item, iloc, ipath)
            if self.ordered(a, b) in out:
                _fail(iloc, ipath, "each pair once", f"{item!r} again")
            out.append(self.ordered(a, b))
        return tuple(out)

    def dependency(self, raw: Mapping, loc: Loc) -> dict[str, dict[str, float]]:
        """importer -> supplier -> share of its arms imports; each row sums to at most 1."""
        table, loc = _get(raw, "dependency", loc)
        if table is _MISSING:
            return {}
        path = "relations.dependency"
        table = _mapping(table, loc, path, "a mapping of importer -> {supplier: share}")
        out: dict[str, dict[str, float]] = {}
        for importer, row in table.items():
            rloc, rpath = _loc(table, importer, loc), _join(path, importer)
            self.known_id(importer, rloc, rpath)
            if row is None:
                continue
            row = _mapping(row, rloc, rpath, "a mapping of supplier id -> share in [0, 1]")
            shares: dict[str, float] = {}
            for supplier, share in row.items():
                sloc, spath = _loc(row, supplier, rloc), _join(rpath, supplier)
                self.known_id(supplier, sloc, spath)
                if supplier == importer:
                    _fail(
                        sloc,
                        spath,
                        "a supplier other than the importer",
                        f"{supplier!r} depending on itself",
                    )
                if share is not None:
                    shares[supplier] = _fraction(share, sloc, spath)
            total = sum(shares.values())
            if total > 1 + 1e-9:
                _fail(rloc, rpath, "supplier shares that sum to at most 1", f"a sum of {total:g}")
            out[importer] = shares
        return out

    # --- events ------------------------------------------------------------------------------

    def events(self) -> tuple[Event, ...]:
        raw, loc = _get(self.tree, "events", self.root)
        if raw is _MISSING:
            return ()
        raw = _sequence(
            raw, loc, "events", "a list of events (mappings with step or date, and type)"
        )
        checked = [(self.event(e, _loc(raw, i, loc), f"events[{i}]"), i) for i, e in enumerate(raw)]
        checked.sort(key=lambda item: item[0].step)
        self.check_memberships(checked, raw, loc)
        return tuple(event for event, _ in checked)

    def event(self, entry: Any, loc: Loc, path: str) -> Event:
        entry = _mapping(entry, loc, path, "an event (a mapping with step or date, and type)")
        kind, tloc = _get(entry, "type", loc)
        if kind is _MISSING:
            _fail(
                loc,
                f"{path}.type",
                "an event type (required)",
                "nothing",
                choice_hint(None, EVENT_SCHEMA, "types"),
            )
        if not isinstance(kind, str) or kind not in EVENT_SCHEMA:
            _fail(
                tloc,
                f"{path}.type",
                "a known event type",
                describe_value(kind),
                choice_hint(kind, EVENT_SCHEMA, "types"),
            )
        schema = EVENT_SCHEMA[kind]
        _check_keys(entry, (*EVENT_KEYS, *schema), path, loc, f"{kind} field")
        step = self.event_step(entry, loc, path)
        args: dict[str, Any] = {}
        for name, spec in schema.items():
            value, vloc = _get(entry, name, loc)
            fpath = f"{path}.{name}"
            if value is _MISSING:
                if spec.required:
                    _fail(
                        loc, fpath, f"{_FIELD_EXPECTED[spec.kind]} (required by {kind})", "nothing"
                    )
                args[name] = spec.default
            else:
                args[name] = _FIELD_CHECKS[spec.kind](self, value, vloc, fpath)
            if spec.kind == "states":
                lo, hi = _GROUP_SIZES.get((kind, name), (1, None))
                if len(args[name]) < lo or (hi is not None and len(args[name]) > hi):
                    expected = f"a list of {_count_text(lo, hi)}state ids"
                    _fail(vloc, fpath, expected, str(len(args[name])))
            if spec.kind == "step" and args[name] is not None and args[name] < step:
                _fail(vloc, fpath, f"a step >= the event's step {step}", str(args[name]))
        if kind in _DISJOINT:
            first, second = _DISJOINT[kind]
            group = args[second] if isinstance(args[second], tuple) else (args[second],)
            shared = [s for s in args[first] if s in group]
            if shared:
                _fail(
                    loc, f"{path}.{second}", f"states not among {first}", f"{shared[0]!r} in both"
                )
        return Event(step=step, type=kind, args=args)

    def event_step(self, entry: Mapping, loc: Loc, path: str) -> int:
        """Exactly one of step (int) or date (YYYY-MM); either must fall inside the run."""
        step, sloc = _get(entry, "step", loc)
        date, dloc = _get(entry, "date", loc)
        if (step is _MISSING) == (date is _MISSING):
            _fail(
                loc,
                path,
                "exactly one of step or date",
                "both" if step is not _MISSING else "neither",
            )
        last = self.steps - 1
        if step is not _MISSING:
            return _number(
                step,
                sloc,
                f"{path}.step",
                0,
                last,
                integer=True,
                expected=f"a step in [0, {last}] (the run has {self.steps} steps)",
            )
        value = self.date_step(date, dloc, f"{path}.date")
        if not 0 <= value <= last:
            expected = (
                f"a date within the run, {self.month_of_step(0)} to {self.month_of_step(last)}"
            )
            where = "before the start" if value < 0 else "after the last step"
            _fail(dloc, f"{path}.date", expected, f"{describe_value(date)} (step {value}, {where})")
        return value

    def check_memberships(self, checked: list[tuple[Event, int]], raw: Any, loc: Loc) -> None:
        """Replay join/leave events in step order: a leave needs an existing alliance and member."""
        members = {name: set(ids) for name, ids in self.alliance_map.items()}
        for event, i in checked:
            if event.type not in ("join_alliance", "leave_alliance"):
                continue
            state, alliance = event.args["state"], event.args["alliance"]
            eloc, path = _loc(raw, i, loc), f"events[{i}]"
            if event.type == "join_alliance":
                group = members.setdefault(alliance, set())
                if state in group:
                    expected = f"a state not yet in {alliance!r} at step {event.step}"
                    _fail(eloc, f"{path}.state", expected, f"{state!r}, already a member")
                group.add(state)
                continue
            if alliance not in members:
                hint = choice_hint(alliance, members, "known alliances")
                expected = "an alliance from alliances: or joined earlier"
                _fail(eloc, f"{path}.alliance", expected, describe_value(alliance), hint)
            if state not in members[alliance]:
                expected = f"a member of {alliance!r} at step {event.step}"
                _fail(eloc, f"{path}.state", expected, f"{state!r}, not a member")
            members[alliance].discard(state)


def _pick_value(value: Any, choices: Any, loc: Loc, path: str, what: str) -> str:
    if not isinstance(value, str) or value not in choices:
        _fail(
            loc,
            path,
            f"a {what}: " + ", ".join(choices),
            describe_value(value),
            choice_hint(value, choices),
        )
    return value


_FIELD_EXPECTED = {  # what a missing required event field of each kind should have been
    "state": "a state id",
    "states": "a list of state ids",
    "alliance": "an alliance name",
    "step": "a step or date",
    "fraction": "a number in [0, 1]",
    "positive": _range_text(0, MAX_MAGNITUDE, False),
    "count": _range_text(1, MAX_STEPS, True),
    "kind": "one of " + ", ".join(KIND_CHOICES["kind"]),
    "lever": "one of " + ", ".join(KIND_CHOICES["lever"]),
    "text": "a string",
}


def _step_field(v: _Validator, value: Any, loc: Loc, path: str) -> int:
    """An event field of kind step (e.g. until): a step number or a date."""
    if isinstance(value, str | datetime.date):
        return v.date_step(value, loc, path)
    return _number(
        value, loc, path, 0, MAX_UNTIL, integer=True, expected="a step >= 0 or a date YYYY-MM"
    )


# How to check an event field of each FieldSpec kind: (validator, value, loc, path) -> value.
_FIELD_CHECKS: dict[str, Callable[[_Validator, Any, Loc, str], Any]] = {
    "state": lambda v, x, loc, p: v.known_id(x, loc, p),
    "states": lambda v, x, loc, p: v.id_list(x, loc, p),
    "alliance": lambda v, x, loc, p: _text(x, loc, p, nonempty=True),
    "step": _step_field,
    "fraction": lambda v, x, loc, p: _fraction(x, loc, p),
    "positive": lambda v, x, loc, p: _number(x, loc, p, 0, MAX_MAGNITUDE),
    "count": lambda v, x, loc, p: _number(x, loc, p, 1, MAX_STEPS, integer=True),
    "kind": lambda v, x, loc, p: _pick_value(x, KIND_CHOICES["kind"], loc, p, "exercise kind"),
    "lever": lambda v, x, loc, p: _pick_value(x, KIND_CHOICES["lever"], loc, p, "lever"),
    "text": lambda v, x, loc, p: _text(x, loc, p),
}


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def _finish(
    tree: _LocDict, source: str, overrides: Mapping[str, Any] | None, path: str | None
) -> Scenario:
    if overrides:
        tree = apply_overrides(tree, overrides)
    scenario = _Validator(tree, source).build()
    return dataclasses.replace(scenario, path=path)


def _display(path: Path, given: str | Path) -> str:
    """How a file is named in messages: as the user gave it, or relative to cwd when bundled."""
    if Path(given) == path:
        return str(given)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, resolve (extends, overrides) and validate a scenario file or bundled scenario name."""
    resolved = resolve_scenario_path(path)
    display = _display(resolved, path)
    try:
        return _finish(_load_tree(resolved, display, ()), display, overrides, str(resolved))
    except ScenarioError as exc:
        if exc.file in (display, "--set") or display in str(exc):
            raise
        hint = "; ".join(filter(None, [exc.hint, f"loaded via {display}"]))
        raise ScenarioError(exc.file, exc.line, exc.key_path, exc.expected, exc.got, hint) from None


def scenario_from_dict(
    data: Mapping[str, Any], source: str = "<dict>", overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """Validate a scenario given as a plain dict (``extends`` resolved relative to cwd)."""
    tree = _as_top(data, (source, None))
    tree = _resolve_extends(tree, Path.cwd(), ((None, source),))
    return _finish(tree, source, overrides, None)


def resolved_scenario_dict(
    path_or_dict: str | Path | Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The fully resolved plain dict (extends merged, overrides applied, defaults filled in,
    dates converted to steps) that, saved as YAML and loaded again, gives the same Scenario."""
    if isinstance(path_or_dict, Mapping):
        return scenario_to_dict(scenario_from_dict(path_or_dict, overrides=overrides))
    return scenario_to_dict(load_scenario(path_or_dict, overrides))


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
            },
            "events": [{"step": e.step, "type": e.type, **e.args} for e in scenario.events],
        }
    )


def scenario_hash(scenario: Scenario) -> str:
    """sha256 of the canonical JSON of `scenario_to_dict` (the file path does not count)."""
    text = json.dumps(
        scenario_to_dict(scenario),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
