"""Replays: compare the tables of a run with those of its rerun, exactly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from sim.running.rundir import TABLE_ORDER

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from sim.core.metrics import Results

__all__ = ["compare_tables", "run_tables"]


def _column_difference(a: pd.Series, b: pd.Series) -> str | None:
    """How two columns of equal length differ (None when identical, NaN equal to NaN)."""
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    if a.equals(b):
        return None
    if a.dtype != b.dtype:
        return f"dtype {a.dtype} vs {b.dtype}"
    try:
        same = (a == b) | (a.isna() & b.isna())
    except TypeError:
        same = a.astype(str) == b.astype(str)
    rows = np.flatnonzero(~same.to_numpy(dtype=bool))
    if len(rows) == 0:
        return "values differ"
    first = int(rows[0])
    return (
        f"{len(rows)} row{'s' if len(rows) != 1 else ''} differ "
        f"(first: row {first}, {a.iloc[first]!r} vs {b.iloc[first]!r})"
    )


def compare_tables(
    original: Mapping[str, pd.DataFrame], replay: Mapping[str, pd.DataFrame]
) -> dict[str, list[str]]:
    """Exact comparison of two runs' tables: {table: [differences]} (empty when identical)."""
    problems: dict[str, list[str]] = {}
    for name in [*TABLE_ORDER, *sorted((set(original) | set(replay)) - set(TABLE_ORDER))]:
        a, b = original.get(name), replay.get(name)
        if a is None and b is None:
            continue
        if a is None or b is None:
            problems[name] = ["missing in the " + ("original" if a is None else "replay")]
            continue
        found: list[str] = []
        if list(a.columns) != list(b.columns):
            only_a = [c for c in a.columns if c not in b.columns]
            only_b = [c for c in b.columns if c not in a.columns]
            found.append(
                "columns differ"
                + (f"; only in the original: {', '.join(map(str, only_a))}" if only_a else "")
                + (f"; only in the replay: {', '.join(map(str, only_b))}" if only_b else "")
            )
        if len(a) != len(b):
            found.append(f"{len(a)} rows in the original, {len(b)} in the replay")
        else:
            for col in [c for c in a.columns if c in b.columns]:
                diff = _column_difference(a[col], b[col])
                if diff:
                    found.append(f"column {col}: {diff}")
        if found:
            problems[name] = found
    return problems


def run_tables(results: Results) -> dict[str, pd.DataFrame]:
    return results.all_tables() if hasattr(results, "all_tables") else dict(results.tables())
