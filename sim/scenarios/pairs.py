"""Pair keys of scenario relations: ``A-B`` (symmetric, or both directions of trust) and
``A>B`` (A trusts B). Shared by the schema, ``extends`` merging and ``--set`` paths."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["pair_parts", "same_pair"]


def pair_parts(key: Any) -> tuple[str, str, str] | None:
    """'A-B' -> ('A', '-', 'B'); 'A>B' -> ('A', '>', 'B'); anything else -> None."""
    return _parts(key) if isinstance(key, str) else None


@lru_cache(maxsize=2**16)  # a world names thousands of pairs, each looked at several times
def _parts(key: str) -> tuple[str, str, str] | None:
    for sep, other in ((">", "-"), ("-", ">")):
        parts = key.split(sep)
        if len(parts) == 2 and parts[0] and parts[1] and other not in key:
            return parts[0].strip(), sep, parts[1].strip()
    return None


def same_pair(a: Any, b: Any) -> bool:
    """Two pair keys naming the same relation ('A-B' equals 'B-A'; 'A>B' only itself)."""
    pa, pb = pair_parts(a), pair_parts(b)
    if pa is None or pb is None or pa[1] != pb[1]:
        return False
    if pa[1] == ">":
        return pa == pb
    return {pa[0], pa[2]} == {pb[0], pb[2]}
