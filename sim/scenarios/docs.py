"""Markdown tables of a file schema's keys, for the generated blocks of docs/*.md.

A page marks each generated block ``<!-- BEGIN name ... -->`` ... ``<!-- END name -->``;
`replace_blocks` rewrites them and the tests check they are current, so the docs say what
the schema accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from sim.scenarios.fields import field_docs

__all__ = ["block", "key_table", "replace_blocks"]


def _value_text(info: Any, expect: Any) -> str:
    """What a key takes, from its `Expect` (without the article) or its mapping's."""
    if expect is not None and expect.choices:
        return "one of " + ", ".join(f"`{c}`" for c in expect.choices)
    text = expect.text if expect is not None else None
    if text is None:
        annotation = info.annotation
        for option in getattr(annotation, "__args__", (annotation,)):
            if isinstance(option, type) and issubclass(option, BaseModel):
                text = option.expect
                break
    text = text or "value"
    return re.sub(r"^(a|an) ", "", text)


def _default_text(info: Any) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        made = info.default_factory()
        if isinstance(made, BaseModel):
            return "all defaults"
        return f"`{made!r}`".replace("'", "")
    default = info.default
    if default is None or default is PydanticUndefined:
        return "none"
    if default == "":
        return '`""`'
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, tuple):
        default = list(default)
    if isinstance(default, float) and default.is_integer() and abs(default) < 1e6:
        return f"`{default:g}`" if default != 0 else "`0`"
    return f"`{default}`"


def key_table(
    model: type[BaseModel],
    *,
    key: str = "key",
    skip: tuple[str, ...] = (),
    value: Callable[[str, Any, Any], str] | None = None,
) -> str:
    """| key | value | default | meaning | for every field of a schema, in order."""
    rows = [f"| {key} | value | default | meaning |", "|---|---|---|---|"]
    for name, (info, expect) in field_docs(model).items():
        if name in skip:
            continue
        text = value(name, info, expect) if value else _value_text(info, expect)
        meaning = (info.description or "").replace("|", "/")
        rows.append(f"| `{name}` | {text} | {_default_text(info)} | {meaning} |")
    return "\n".join(rows)


def block(text: str, name: str) -> re.Match | None:
    """The generated block `name` of a page (group 2 is its content)."""
    return re.search(rf"(<!-- BEGIN {name} [^\n]*-->\n)(.*?)(<!-- END {name} -->)", text, re.S)


def replace_blocks(text: str, blocks: Mapping[str, Callable[[], str]]) -> str:
    """The page with every named block rewritten by its generator."""
    for name, make in blocks.items():
        match = block(text, name)
        if match is None:
            raise ValueError(f"no BEGIN/END {name} markers")
        text = text[: match.start(2)] + "\n" + make() + "\n\n" + text[match.end(2) :]
    return text
