"""Scenario files on disk: bundled names, which files may be read, and ``extends:`` chains.

Only regular files named ``.yaml`` or ``.yml`` are read as scenarios, so ``extends:`` (or an
experiment's ``scenario:``) can never make ddsim read, or echo in an error, another file on
the machine; directories, FIFOs, devices and symlink loops are named as such, and nothing is
opened that could block. A relative ``extends:`` resolves against the including file;
absolute paths work; a bare name may also be a bundled scenario. The child is deep-merged
onto its parent (mappings recurse, states merge by id, events append, the rest replaces).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sim
from sim.scenarios.errors import choice_hint, describe_value
from sim.scenarios.pairs import same_pair
from sim.scenarios.yaml_reader import (
    Loc,
    LocDict,
    LocList,
    copy_tree,
    fail,
    parse_yaml,
    read_text_file,
)

__all__ = [
    "SCENARIO_SUFFIXES",
    "as_top",
    "bundled_names",
    "bundled_scenarios_dir",
    "file_problem",
    "load_tree",
    "path_exists",
    "remove_events",
    "resolve_extends",
    "resolve_scenario_path",
]

SCENARIO_SUFFIXES = (".yaml", ".yml")
_PAIR_MAPS = ("trust", "interoperability", "hostility")
_MISSING = object()

Chain = tuple[tuple[Path | None, str], ...]  # (resolved path or None for a dict, display name)


def bundled_scenarios_dir() -> Path:
    """Directory of the scenarios shipped with ddsim (source tree or installed wheel)."""
    package = Path(sim.__file__).parent
    wheel = package / "_bundled" / "scenarios"
    return wheel if wheel.is_dir() else package.parent / "scenarios"


def bundled_names() -> list[str]:
    """Names of the bundled scenarios (file stems)."""
    folder = bundled_scenarios_dir()
    if not folder.is_dir():
        return []
    return sorted({p.stem for p in folder.iterdir() if p.suffix in SCENARIO_SUFFIXES})


def _bundled_path(name: str) -> Path | None:
    """The bundled scenario file called `name` (with or without .yaml), if any."""
    if not name or "/" in name or "\\" in name:
        return None
    stem = name.removesuffix(".yaml").removesuffix(".yml")
    for suffix in SCENARIO_SUFFIXES:
        candidate = bundled_scenarios_dir() / f"{stem}{suffix}"
        if os.path.isfile(candidate):
            return candidate
    return None


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a scenario file (None when it can): not there, a
    directory, a symlink loop, not a regular file, or not named .yaml/.yml."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return "a symlink loop" if exc.errno == errno.ELOOP else exc.strerror or "unreadable"
    except ValueError:  # e.g. a NUL byte in the name
        return "no such file"
    if stat.S_ISDIR(mode):
        return "a directory"
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, device or socket)"
    if Path(path).suffix.lower() not in SCENARIO_SUFFIXES:
        return "not a scenario file (only .yaml or .yml files are read as scenarios)"
    return None


def path_exists(path: Path) -> bool:
    """True if something is at `path`, a broken link or a symlink loop included."""
    try:
        return os.path.lexists(path)
    except (ValueError, OSError):
        return False


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A scenario path as given if something is there, else a bundled scenario name
    (e.g. indo_pacific)."""
    path = Path(name_or_path)
    if path_exists(path):
        return path
    bundled = _bundled_path(str(name_or_path))
    if bundled is not None:
        return bundled
    fail(
        (str(name_or_path), None),
        "",
        "an existing scenario file or a bundled scenario name",
        "no such file",
        choice_hint(str(name_or_path), bundled_names(), "bundled scenarios"),
    )


def read_scenario_file(path: Path, display: str) -> Any:
    """A scenario file's YAML data (regular .yaml/.yml files only)."""
    problem = file_problem(path)
    if problem is not None:
        expected = (
            "a scenario file (.yaml or .yml)"
            if problem != "no such file"
            else ("an existing scenario file")
        )
        fail((display, None), "", expected, problem)
    return parse_yaml(read_text_file(path, display), display)


def as_top(data: Any, loc: Loc) -> LocDict:
    """The document must be a non-empty mapping of scenario keys."""
    if data is None:
        fail(loc, "", "a mapping of scenario keys (name, states, ...)", "an empty document")
    if not isinstance(data, Mapping):
        fail(
            loc,
            "",
            "a mapping of scenario keys (name, states, ...) at the top level",
            describe_value(data),
        )
    return copy_tree(data, loc)


def load_tree(path: Path, display: str, chain: Chain) -> LocDict:
    """Read a scenario file and resolve its extends chain into one merged tree."""
    tree = as_top(read_scenario_file(path, display), (display, None))
    return resolve_extends(tree, path.parent, chain + ((path.resolve(), display),))


def resolve_extends(tree: LocDict, base_dir: Path, chain: Chain) -> LocDict:
    """Merge the parent named by ``extends:`` (relative to base_dir, or bundled) under tree;
    ``remove_events:`` of the child first drops the parent's events it matches."""
    removals = _pop_removals(tree, chain)
    if "extends" not in tree or tree.get("extends") is None:
        if removals is not None:
            fail(
                removals[1],
                "remove_events",
                "a key of a file with extends: (it removes events of the parent)",
                "a file without extends:",
            )
        tree.pop("extends", None)
        tree.locs.pop("extends", None)
        return tree
    ref = tree.pop("extends")
    loc = tree.locs.pop("extends", (chain[-1][1], None))
    if ref is None:
        return tree
    names = " -> ".join(display for _, display in chain)
    expected = "a scenario file (.yaml or .yml) or a bundled scenario name"
    if not isinstance(ref, str) or not ref.strip():
        hint = "YAML reads yes/no/on/off/true/false as booleans; quote the value"
        fail(loc, "extends", expected, describe_value(ref), hint if isinstance(ref, bool) else "")
    candidate = base_dir / ref
    if path_exists(candidate):
        problem = file_problem(candidate)
        if problem is not None:
            fail(
                loc, "extends", expected, f"{ref!r}, {problem}", f"extends chain: {names} -> {ref}"
            )
        parent_path = candidate
        parent_display = str(Path(chain[-1][1]).parent / ref) if chain[-1][0] else ref
    else:
        bundled = _bundled_path(ref)
        if bundled is None:
            fail(
                loc,
                "extends",
                f"an existing scenario file (relative to {base_dir}) or a bundled scenario name",
                f"{ref!r}, which was not found",
                f"extends chain: {names} -> {ref}; "
                + choice_hint(ref, bundled_names(), "bundled scenarios"),
            )
        parent_path, parent_display = bundled, str(bundled)
    if parent_path.resolve() in [p for p, _ in chain]:
        fail(
            loc,
            "extends",
            "an extends chain without cycles",
            f"a cycle {names} -> {parent_display}",
        )
    parent = load_tree(parent_path, parent_display, chain)
    if removals is not None:
        parent = remove_events(parent, *removals, parent_display)
    return merge(parent, tree)


# --------------------------------------------------------------------------------------------
# remove_events: dropping inherited events
# --------------------------------------------------------------------------------------------

REMOVE_EVENTS_EXPECT = (
    "a list of event matchers: an exercise or program name, or a mapping of event fields "
    "(e.g. {type: join_alliance, state: FIN})"
)


def _event_fields() -> list[str]:
    from sim.core.events import EVENT_SCHEMA

    return sorted({"step", "date", "type", *(k for f in EVENT_SCHEMA.values() for k in f)})


def _pop_removals(tree: LocDict, chain: Chain) -> tuple[LocList, Loc] | None:
    """The child's ``remove_events:`` list (checked: names or mappings of known event
    fields), removed from the tree; None when absent."""
    if "remove_events" not in tree:
        return None
    value = tree.pop("remove_events")
    loc = tree.locs.pop("remove_events", (chain[-1][1], None))
    if not isinstance(value, list) or not value:
        fail(loc, "remove_events", REMOVE_EVENTS_EXPECT, describe_value(value))
    fields = _event_fields()
    for k, m in enumerate(value):
        at = value.locs.get(k, loc) if isinstance(value, LocList) else loc
        if isinstance(m, str) and m.strip():
            continue
        if not isinstance(m, Mapping) or not m:
            fail(at, f"remove_events[{k}]", REMOVE_EVENTS_EXPECT, describe_value(m))
        for key in m:
            if key not in fields:
                fail(
                    at,
                    f"remove_events[{k}].{key}",
                    "a field of an event",
                    describe_value(key),
                    choice_hint(key, fields, "event fields"),
                )
    return value, loc


def _matches(event: Any, matcher: Any) -> bool:
    if not isinstance(event, Mapping):
        return False
    if isinstance(matcher, str):
        return event.get("name") == matcher
    return all(k in event and event[k] == v for k, v in matcher.items())


def remove_events(parent: LocDict, matchers: LocList, loc: Loc, parent_display: str) -> LocDict:
    """The parent without the events that any matcher matches: a name matches an event's
    ``name:``; a mapping matches the events whose fields equal all of its fields. A matcher
    that matches no event of the parent is an error (a typo must not pass silently)."""
    events = parent.get("events")
    events = events if isinstance(events, list) else []
    kept = LocList()
    used = [False] * len(matchers)
    for i, event in enumerate(events):
        hit = [k for k, m in enumerate(matchers) if _matches(event, m)]
        for k in hit:
            used[k] = True
        if not hit:
            kept.append(event)
            if isinstance(events, LocList) and i in events.locs:
                kept.locs[len(kept) - 1] = events.locs[i]
    for k, m in enumerate(matchers):
        if not used[k]:
            at = matchers.locs.get(k, loc) if isinstance(matchers, LocList) else loc
            fail(
                at,
                f"remove_events[{k}]",
                f"a matcher of at least one event of {parent_display}",
                f"{describe_value(m)}, which matches none",
                "a name matches an event's name:; a mapping matches events whose fields all "
                "equal its values (date and step are compared as written)",
            )
    out = LocDict(parent)
    out.locs = dict(parent.locs)
    out["events"] = kept
    return out


# --------------------------------------------------------------------------------------------
# Merge rules
# --------------------------------------------------------------------------------------------


def _drop_same_pairs(mapping: LocDict, new_keys: Any) -> LocDict:
    """A copy of a pair mapping without the keys that the new keys restate (e.g. B-A for A-B)."""
    out = LocDict()
    for key, value in mapping.items():
        if not any(same_pair(key, new) and key != new for new in new_keys):
            out[key] = value
            if key in mapping.locs:
                out.locs[key] = mapping.locs[key]
    return out


def merge(parent: LocDict, child: LocDict, path: tuple[str, ...] = ()) -> LocDict:
    """Deep merge for extends: mappings recurse, states merge by id, events append, rest replace."""
    out = LocDict(parent)
    out.locs = dict(parent.locs)
    for key, value in child.items():
        old = out.get(key, _MISSING)
        top_list = not path and isinstance(old, LocList) and isinstance(value, LocList)
        if top_list and key == "states":
            new: Any = _merge_states(old, value)
        elif top_list and key == "events":
            new = LocList([*old, *value])
            new.locs = {**old.locs, **{len(old) + i: loc for i, loc in value.locs.items()}}
        elif isinstance(old, LocDict) and isinstance(value, LocDict):
            if path == ("relations",) and key in _PAIR_MAPS:
                old = _drop_same_pairs(old, list(value))
            new = merge(old, value, (*path, key))
        else:
            new = value
        out[key] = new
        if key in child.locs:
            out.locs[key] = child.locs[key]
    return out


def _merge_states(parent: LocList, child: LocList) -> LocList:
    """States of a child update the parent's entry with the same id, or are appended."""
    out = LocList(parent)
    out.locs = dict(parent.locs)
    by_id = {
        e["id"]: i
        for i, e in enumerate(parent)
        if isinstance(e, LocDict) and isinstance(e.get("id"), str)
    }
    for j, entry in enumerate(child):
        sid = entry.get("id") if isinstance(entry, LocDict) else None
        if isinstance(sid, str) and sid in by_id and isinstance(out[by_id[sid]], LocDict):
            out[by_id[sid]] = merge(out[by_id[sid]], entry, ("states",))
            continue
        out.append(entry)
        if j in child.locs:
            out.locs[len(out) - 1] = child.locs[j]
        if isinstance(sid, str):
            by_id[sid] = len(out) - 1
    return out
