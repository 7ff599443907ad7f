"""Safe YAML with line numbers: text -> plain data whose mappings and lists remember the
(file, line) of every key and item, so that any later error can point at its line.

Parsing uses libyaml (``yaml.CSafeLoader``: its composer keeps the marks of every node) and
is about four times faster than the pure-Python reader (world.yaml: 0.40 s -> 0.1 s). One
pass over libyaml's events first refuses what could exhaust memory or the C stack before
anything is built: more than `MAX_ALIASES` aliases, a document that would expand (aliases
counted where they are used) beyond `MAX_YAML_NODES` values or `MAX_EXPANDED_BYTES` of text,
nesting deeper than `MAX_DEPTH` (libyaml's composer recurses in C and crashes on ~50,000
levels), and aliases of a node that contains itself. Tags that would build Python objects
and duplicate keys are refused. Syntax errors are worded by PyYAML's pure-Python parser,
which names the offending character. Plain scalars such as ``1e9`` or ``1.0e9``, strings to
YAML 1.1 but numbers to YAML 1.2 and to the docs, are read as numbers (`ExpFloat`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import yaml

from sim.scenarios.errors import ScenarioError, describe_value, join_path

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_EXPANDED_BYTES",
    "MAX_FILE_BYTES",
    "MAX_YAML_NODES",
    "ExpFloat",
    "Loc",
    "LocDict",
    "LocList",
    "copy_tree",
    "fail",
    "loc_of",
    "parse_yaml",
    "read_text_file",
]

MAX_ALIASES = 100
MAX_YAML_NODES = 1_000_000  # values after expanding aliases
MAX_FILE_BYTES = 16 * 2**20  # a run's saved scenario.yaml must stay below this too (replay)
MAX_EXPANDED_BYTES = MAX_FILE_BYTES  # text of all scalars after expanding aliases
MAX_DEPTH = 50

Loc = tuple[str, int | None]  # (file or "--set", 1-based line or None)


def fail(loc: Loc, key_path: str, expected: str, got: str, hint: str = "") -> NoReturn:
    """Raise the one-line ScenarioError for a problem at `loc`."""
    raise ScenarioError(loc[0], loc[1], key_path, expected, got, hint)


# --------------------------------------------------------------------------------------------
# Trees that remember where each key came from
# --------------------------------------------------------------------------------------------


class LocDict(dict):
    """A mapping that remembers, per key, the (file, line) it was read from."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locs: dict[Any, Loc] = {}


class LocList(list):
    """A list that remembers, per index, the (file, line) of the item."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.locs: dict[int, Loc] = {}


class ExpFloat(float):
    """A number written like ``1e9`` (a plain scalar that YAML 1.1 would read as a string);
    ``text`` keeps the spelling, so a string field (a name) can take it back as text."""

    text: str

    def __new__(cls, text: str) -> ExpFloat:
        number = super().__new__(cls, text.replace("_", ""))
        number.text = text
        return number


def loc_of(container: Any, key: Any, default: Loc) -> Loc:
    """Where `container[key]` was read from (`default` when unknown)."""
    locs = getattr(container, "locs", None)
    return locs.get(key, default) if locs is not None else default


def copy_tree(value: Any, loc: Loc, keep_locs: bool = True, depth: int = 0) -> Any:
    """Deep copy of mappings and lists into LocDict/LocList (refuses runaway nesting)."""
    if depth > MAX_DEPTH:
        fail(
            loc,
            "",
            f"at most {MAX_DEPTH} levels of nesting",
            "deeper nesting (or a structure that contains itself)",
        )
    if isinstance(value, Mapping):
        out = LocDict()
        for key, item in value.items():
            child = loc_of(value, key, loc) if keep_locs else loc
            out[key] = copy_tree(item, child, keep_locs, depth + 1)
            if keep_locs and key in getattr(value, "locs", {}):
                out.locs[key] = child
        return out
    if isinstance(value, list | tuple):
        out_list = LocList()
        for i, item in enumerate(value):
            child = loc_of(value, i, loc) if keep_locs else loc
            out_list.append(copy_tree(item, child, keep_locs, depth + 1))
            if keep_locs and i in getattr(value, "locs", {}):
                out_list.locs[i] = child
        return out_list
    return value


# --------------------------------------------------------------------------------------------
# Guards, on libyaml's events before anything is composed
# --------------------------------------------------------------------------------------------


def _check_events(text: str, file: str) -> None:
    """Refuse alias bombs, recursive aliases and deep nesting (see the module docstring)."""
    anchors: dict[str, tuple[int, int, int]] = {}  # anchor -> (values, text bytes, height)
    open_anchors: set[str] = set()
    stack: list[list[Any]] = [[None, 0, 0, 0]]  # [anchor, values, text bytes, height] per level
    aliases = 0

    def line(event: yaml.Event) -> int:
        return event.start_mark.line + 1

    def add(event: yaml.Event, values: int, size: int, height: int) -> None:
        parent = stack[-1]
        parent[1] += values
        parent[2] += size
        parent[3] = max(parent[3], height)
        if parent[1] > MAX_YAML_NODES or parent[2] > MAX_EXPANDED_BYTES:
            limit = (
                f"{MAX_YAML_NODES:,} values"
                if parent[1] > MAX_YAML_NODES
                else f"{MAX_EXPANDED_BYTES // 2**20} MiB of text"
            )
            fail(
                (file, line(event)),
                "",
                f"a document of at most {limit} once aliases are expanded",
                "far more (refused: this looks like an alias bomb)",
            )
        if len(stack) + height > MAX_DEPTH + 1:
            fail(
                (file, line(event)), "", f"at most {MAX_DEPTH} levels of nesting", "deeper nesting"
            )

    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) > MAX_DEPTH:
                fail(
                    (file, line(event)),
                    "",
                    f"at most {MAX_DEPTH} levels of nesting",
                    "deeper nesting",
                )
            if event.anchor is not None:
                open_anchors.add(event.anchor)
            stack.append([event.anchor, 1, 0, 0])
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, values, size, height = stack.pop()
            if anchor is not None:
                anchors[anchor] = (values, size, height + 1)
                open_anchors.discard(anchor)
            add(event, values, size, height + 1)
        elif isinstance(event, yaml.ScalarEvent):
            size = len(event.value)
            if event.anchor is not None:
                anchors[event.anchor] = (1, size, 0)
            add(event, 1, size, 0)
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                fail(
                    (file, line(event)),
                    "",
                    f"at most {MAX_ALIASES} YAML aliases (*name)",
                    "more (refused: this looks like an alias bomb)",
                )
            if event.anchor in open_anchors:
                fail(
                    (file, line(event)),
                    "",
                    "YAML aliases that refer to finished nodes",
                    "a recursive alias (a structure that contains itself)",
                )
            if event.anchor not in anchors:
                fail(
                    (file, line(event)),
                    "",
                    "valid YAML",
                    f"a syntax error: found undefined alias {event.anchor!r}",
                )
            add(event, *anchors[event.anchor])


# --------------------------------------------------------------------------------------------
# Composing and constructing
# --------------------------------------------------------------------------------------------

# Numbers in exponent notation that YAML 1.1 reads as strings (1e9, 1.0e9, 2E-3); YAML 1.1's
# own floats (1.0e+9) and ints keep their resolvers, which are tried first.
_EXP_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
_EXP_TAG = "tag:ddsim,2024:exp-float"


class _Loader(yaml.CSafeLoader):
    """libyaml's safe loader building LocDict/LocList, refusing object tags and duplicate keys."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self.file = file

    def _line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Construct as usual; scalar conversion errors (e.g. 2018-02-30) become ScenarioError."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            text = node.value if isinstance(node.value, str) else node.tag
            fail(
                (self.file, self._line(node)),
                "",
                "a valid YAML value",
                f"{describe_value(text)} ({str(exc).split(':')[0][:80]})",
            )

    def construct_loc_map(self, node: yaml.MappingNode) -> Any:
        """Mappings become LocDict with the line of every key; duplicate keys are refused."""
        data = LocDict()
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
                fail((self.file, line), "", "a plain value as mapping key", describe_value(key))
            if id(key_node) in own:
                if key in first_line:
                    fail(
                        (self.file, line),
                        join_path("", key),
                        "each key once per mapping",
                        f"a duplicate key (first on line {first_line[key]})",
                    )
                first_line[key] = line
            data[key] = self.construct_object(value_node)
            data.locs[key] = (self.file, line)

    def construct_loc_seq(self, node: yaml.SequenceNode) -> Any:
        """Sequences become LocList with the line of every item."""
        data = LocList()
        yield data
        for i, child in enumerate(node.value):
            data.append(self.construct_object(child))
            data.locs[i] = (self.file, self._line(child))

    def construct_exp_float(self, node: yaml.ScalarNode) -> ExpFloat:
        return ExpFloat(node.value)

    def construct_refused(self, node: yaml.Node) -> NoReturn:
        """Any tag without a safe constructor (e.g. !!python/object/apply) is refused."""
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        fail(
            (self.file, self._line(node)),
            "",
            "plain YAML data",
            f"the tag {describe_value(tag)}",
            "tags that build Python objects are refused, never executed",
        )


_Loader.add_implicit_resolver(_EXP_TAG, _EXP_FLOAT, list("-+0123456789."))
_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_loc_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_loc_seq)
_Loader.add_constructor(_EXP_TAG, _Loader.construct_exp_float)
_Loader.add_constructor(None, _Loader.construct_refused)


def _syntax_error(text: str, file: str, error: BaseException) -> ScenarioError:
    """The error for text libyaml could not read, worded by PyYAML's own parser when it fails
    too (its messages name the character: "found character '\\t' ...")."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        loader.get_single_node()
    except (yaml.YAMLError, RecursionError) as exc:
        error = exc
    finally:
        if loader is not None:
            loader.dispose()
    if isinstance(error, yaml.reader.ReaderError):
        line = text[: error.position].count("\n") + 1
        got = (
            f"the character #x{error.character:04x} ({error.reason})"
            if isinstance(error.character, int)
            else str(error.reason)
        )
        return ScenarioError(file, line, "", "valid YAML text", got)
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "unreadable input"
        if error.context and error.problem:
            problem = f"{problem} ({error.context})"
        line = mark.line + 1 if mark else None
        return ScenarioError(file, line, "", "valid YAML", f"a syntax error: {problem}")
    if isinstance(error, RecursionError):
        return ScenarioError(
            file, None, "", f"at most {MAX_DEPTH} levels of nesting", "far deeper nesting"
        )
    text_of = str(error).replace("\n", " ")[:200] or type(error).__name__
    return ScenarioError(file, None, "", "valid YAML", text_of)


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document safely; every failure becomes a ScenarioError."""
    loader = None
    try:
        _check_events(text, file)
        loader = _Loader(text, file)
        return loader.get_single_data()
    except ScenarioError:
        raise
    except (yaml.YAMLError, UnicodeError, ValueError) as exc:
        raise _syntax_error(text, file, exc) from None
    finally:
        if loader is not None:
            loader.dispose()


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def read_text_file(path: Path, display: str, what: str = "scenario file") -> str:
    """The UTF-8 text of a regular file of at most `MAX_FILE_BYTES`; a directory, FIFO, device
    or symlink loop is refused before anything is read (so nothing can block)."""
    loc: Loc = (display, None)
    article = "an" if what[:1] in "aeiou" else "a"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        fail(loc, "", f"an existing {what}", "no such file")
    except IsADirectoryError:
        fail(loc, "", f"{article} {what}", "a directory")
    except OSError as exc:
        got = "a symlink loop" if exc.errno == errno.ELOOP else exc.strerror or type(exc).__name__
        fail(loc, "", f"a readable {what}", got)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        fail(loc, "", f"{article} {what} (a regular file)", kind)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        fail(loc, "", f"a file of at most {MAX_FILE_BYTES // 2**20} MiB", "a larger file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        fail(
            (display, line),
            "",
            "UTF-8 text",
            f"byte 0x{data[exc.start]:02x} at offset {exc.start}",
            "save the file as UTF-8",
        )
