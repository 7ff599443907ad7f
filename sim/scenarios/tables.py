"""The project's own tables in data/: name crosswalk, year-aware judgement, judged
rivalries, alliance memberships and regions.

These are small hand-kept CSV files (described in data/README.md). Each is read
once per process (per file version) and checked: a bad row stops with one line
naming the file, the row, the column, what was expected and what was found
(`DataError`, which the CLI reports with exit code 2).

Year convention (the builder's "no data from year >= Y" rule): a row with
`from_year F` shows in scenarios that start in January of year F or later, so F
is the year after the public-record event (`event_date`); the checks enforce
F > year of event_date.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.scenarios.rules import PROJECT_DATA

JUDGEMENT_CODES = ("align", "regime", "stab", "gov", "aut")
# code column -> value column of data/judgement.csv
JUDGEMENT_VALUE = {
    "align": "position_x",
    "regime": "position_y",
    "stab": "stability",
    "gov": "governance",
    "aut": "autonomy",
}
RIVALRY_TYPES = ("positional", "spatial", "ideological", "interventionary")
REGION_KINDS = ("all", "state", "region", "rule")


class DataError(InputError):
    """A data table or source dataset is missing or malformed (one-line message)."""


def rivalry_hostility(n_types: int) -> float:
    """The hostility rule of data/README.md: 0.5 + 0.2 per rivalry type beyond the first,
    at most 0.9."""
    return round(min(0.9, 0.5 + 0.2 * max(0, n_types - 1)), 2)


def _per_version(fn):
    """Cache `fn(data_dir, *args)` per data directory and per version of its CSV files, so
    a table is read and checked once however often the builder asks. Callers get a copy."""

    @functools.lru_cache(maxsize=64)
    def cached(data_dir: str, _versions: tuple, *args):
        return fn(Path(data_dir), *args)

    @functools.wraps(fn)
    def wrapper(data_dir: Path = PROJECT_DATA, *args):
        d = Path(data_dir).resolve()
        versions = tuple(_fingerprint(p) for p in sorted(d.glob("*.csv")))
        out = cached(str(d), versions, *args)
        return out.copy() if isinstance(out, pd.DataFrame) else out

    return wrapper


def _fingerprint(path: Path) -> tuple:
    st = path.stat() if path.is_file() else None
    return (str(path), st.st_mtime_ns if st else None, st.st_size if st else None)


def _csv(path: Path) -> pd.DataFrame:
    """Read a project table (cached per file version); empty fields stay empty strings."""
    return _read_csv(*_fingerprint(path)).copy()


@functools.lru_cache(maxsize=32)
def _read_csv(path: str, mtime: int | None, _size: int | None) -> pd.DataFrame:
    if mtime is None:
        raise DataError(f"{path}: expected a data table, got no such file")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _fail(path: Path, row: int, column: str, expected: str, got: object) -> None:
    # row numbers count the header as line 1, like an editor
    raise DataError(f"{path}:{row + 2}: {column}: expected {expected}, got {got!r}")


def _check_columns(path: Path, frame: pd.DataFrame, needed: tuple[str, ...]) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: columns: expected {', '.join(needed)}, got {', '.join(frame.columns)}"
        )


def _years(path: Path, frame: pd.DataFrame, column: str, optional: bool = False) -> pd.Series:
    out = []
    for i, v in enumerate(frame[column]):
        if v == "" and optional:
            out.append(np.nan)
        elif v.isdigit() and 1800 <= int(v) <= 2100:
            out.append(int(v))
        else:
            _fail(path, i, column, "a year such as 2014" + (" or empty" if optional else ""), v)
    return pd.Series(out, index=frame.index, dtype=float)


def _check_events(path: Path, frame: pd.DataFrame) -> None:
    """event_date is YYYY-MM, before from_year; reason is given; kind is 'judgement'."""
    for i, r in frame.iterrows():
        d = r["event_date"]
        if len(d) != 7 or d[4] != "-" or not (d[:4].isdigit() and d[5:].isdigit()):
            _fail(path, i, "event_date", "a month YYYY-MM", d)
        if int(d[:4]) >= int(r["from_year"]):
            _fail(path, i, "from_year", f"a year after the event ({d})", r["from_year"])
        if not r["reason"].strip():
            _fail(path, i, "reason", "a public-record reason", r["reason"])
        if r["kind"] != "judgement":
            _fail(path, i, "kind", "'judgement'", r["kind"])


@_per_version
def read_names(data_dir: Path = PROJECT_DATA) -> tuple[dict[str, str], dict[str, str]]:
    """The name -> COW id crosswalk of data/country_names.csv, and name -> why dropped."""
    path = Path(data_dir) / "country_names.csv"
    t = _csv(path)
    _check_columns(path, t, ("name", "id", "note"))
    mapped = t[t.id != ""]
    names = dict(zip(mapped.name, mapped.id, strict=True))
    dropped = {r.name: r.note for r in t[t.id == ""].itertuples()}
    return names, dropped


# ---- judgement -----------------------------------------------------------------------------


@_per_version
def code_values(data_dir: Path = PROJECT_DATA) -> dict[str, dict[str, float]]:
    """The code -> value tables, read from data/judgement.csv (one value per code)."""
    path = Path(data_dir) / "judgement.csv"
    base = _csv(path)
    _check_columns(path, base, ("id", *JUDGEMENT_CODES, *JUDGEMENT_VALUE.values()))
    out: dict[str, dict[str, float]] = {}
    for code, col in JUDGEMENT_VALUE.items():
        pairs = base[[code, col]].drop_duplicates()
        if pairs[code].duplicated().any():
            bad = pairs[pairs[code].duplicated(keep=False)]
            raise DataError(
                f"{path}: {col}: expected one value per {code} code, got {bad.values.tolist()}"
            )
        out[code] = {c: float(v) for c, v in zip(pairs[code], pairs[col], strict=True)}
    return out


@_per_version
def judgement_changes(data_dir: Path = PROJECT_DATA) -> pd.DataFrame:
    """data/judgement_changes.csv, checked: id, from_year, attribute, value, event_date,
    reason, kind."""
    path = Path(data_dir) / "judgement_changes.csv"
    t = _csv(path)
    _check_columns(
        path, t, ("id", "from_year", "attribute", "value", "event_date", "reason", "kind")
    )
    values = code_values(data_dir)
    base_ids = set(_csv(Path(data_dir) / "judgement.csv").id)
    for i, r in t.iterrows():
        if r["id"] not in base_ids:
            _fail(path, i, "id", "a state id of data/judgement.csv", r["id"])
        if r["attribute"] not in JUDGEMENT_CODES:
            _fail(path, i, "attribute", "one of " + ", ".join(JUDGEMENT_CODES), r["attribute"])
        if r["value"] not in values[r["attribute"]]:
            allowed = ", ".join(sorted(values[r["attribute"]]))
            _fail(path, i, "value", f"a {r['attribute']} code ({allowed})", r["value"])
    t["from_year"] = _years(path, t, "from_year").astype(int)
    _check_events(path, t)
    dup = t.duplicated(["id", "attribute", "from_year"], keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        _fail(path, i, "from_year", "one row per id, attribute and year", t.from_year.iloc[i])
    return t


def judgement_at(year: int, data_dir: Path = PROJECT_DATA) -> pd.DataFrame:
    """Judged attributes of every state for a scenario starting in January of `year`.

    The base codes (data/judgement.csv) describe about 2018-2022. For each state and code
    the latest row of data/judgement_changes.csv with from_year <= year replaces the base
    code; without such a row the base applies. Returns data/judgement.csv's columns (index
    id) with the codes and values of that year; `changes` lists the rows applied.
    """
    return _judgement_at(data_dir, year)


@_per_version
def _judgement_at(data_dir: Path, year: int) -> pd.DataFrame:
    data_dir = Path(data_dir)
    base = _csv(data_dir / "judgement.csv").set_index("id")
    values = code_values(data_dir)
    ch = judgement_changes(data_dir)
    ch = ch[ch.from_year <= year].sort_values("from_year", kind="stable")
    latest = ch.groupby(["id", "attribute"]).tail(1)
    base["changes"] = ""
    for r in latest.itertuples():
        base.loc[r.id, r.attribute] = r.value
        note = f"{r.attribute}={r.value} from {r.from_year}: {r.reason}"
        old = base.loc[r.id, "changes"]
        base.loc[r.id, "changes"] = f"{old}; {note}" if old else note
    for code, col in JUDGEMENT_VALUE.items():
        base[col] = base[code].map(values[code]).astype(float)
    for code in ("stab", "gov", "aut"):
        base[code] = base[code].astype(int)
    return base


# ---- judged rivalries ------------------------------------------------------------------------


@_per_version
def judged_rivalries(data_dir: Path = PROJECT_DATA) -> pd.DataFrame:
    """data/rivalries_judgement.csv, checked: a, b (a < b), from_year, to_year (empty =
    ongoing), types (joined by '+'), event_date, reason, kind; adds n_types and hostility."""
    path = Path(data_dir) / "rivalries_judgement.csv"
    t = _csv(path)
    cols = ("a", "b", "from_year", "to_year", "types", "event_date", "reason", "kind")
    _check_columns(path, t, cols)
    base_ids = set(_csv(Path(data_dir) / "judgement.csv").id)
    for i, r in t.iterrows():
        for side in ("a", "b"):
            if r[side] not in base_ids:
                _fail(path, i, side, "a state id of data/judgement.csv", r[side])
        if not r["a"] < r["b"]:
            _fail(path, i, "b", f"an id after a ({r['a']}) in alphabetical order", r["b"])
        kinds = r["types"].split("+")
        if not kinds or any(k not in RIVALRY_TYPES for k in kinds):
            _fail(
                path,
                i,
                "types",
                "rivalry types joined by '+' from " + ", ".join(RIVALRY_TYPES),
                r["types"],
            )
    t["from_year"] = _years(path, t, "from_year").astype(int)
    t["to_year"] = _years(path, t, "to_year", optional=True)
    _check_events(path, t)
    t["n_types"] = t.types.str.count(r"\+") + 1
    t["hostility"] = t.n_types.map(rivalry_hostility)
    return t


def judged_access(data_dir: Path = PROJECT_DATA) -> pd.DataFrame:
    """data/access_judgement.csv, checked: provider, host (two different state ids of
    data/judgement.csv), access (a number in [0, 1]), from_year, to_year (empty =
    ongoing), reason (the public record), kind (judgement); access as float."""
    path = Path(data_dir) / "access_judgement.csv"
    t = _csv(path)
    _check_columns(
        path, t, ("provider", "host", "access", "from_year", "to_year", "reason", "kind")
    )
    base_ids = set(_csv(Path(data_dir) / "judgement.csv").id)
    values = []
    for i, r in t.iterrows():
        for side in ("provider", "host"):
            if r[side] not in base_ids:
                _fail(path, i, side, "a state id of data/judgement.csv", r[side])
        if r["provider"] == r["host"]:
            _fail(path, i, "host", "a state other than the provider", r["host"])
        try:
            v = float(r["access"])
        except ValueError:
            v = float("nan")
        if not 0.0 <= v <= 1.0:
            _fail(path, i, "access", "a number in [0, 1]", r["access"])
        if r["kind"] != "judgement" or not r["reason"]:
            _fail(path, i, "kind", "judgement, with a public-record reason", r["kind"])
        values.append(v)
    t["access"] = values
    t["from_year"] = _years(path, t, "from_year").astype(int)
    t["to_year"] = _years(path, t, "to_year", optional=True)
    return t


# ---- alliances -------------------------------------------------------------------------------


@_per_version
def alliance_members(data_dir: Path = PROJECT_DATA) -> pd.DataFrame:
    """data/alliance_members.csv, checked: alliance, id, joined, left (dates YYYY-MM-DD,
    left empty while a member), source."""
    path = Path(data_dir) / "alliance_members.csv"
    t = _csv(path)
    _check_columns(path, t, ("alliance", "id", "joined", "left", "source"))
    base_ids = set(_csv(Path(data_dir) / "judgement.csv").id)
    for col in ("joined", "left"):
        parsed = pd.to_datetime(t[col].replace("", None), format="%Y-%m-%d", errors="coerce")
        bad = parsed.isna() & ((t[col] != "") | (col == "joined"))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            _fail(
                path,
                i,
                col,
                "a date YYYY-MM-DD" + (" or empty" if col == "left" else ""),
                t[col].iloc[i],
            )
        t[col] = parsed
    for i, r in t.iterrows():
        if r["id"] not in base_ids:
            _fail(path, i, "id", "a state id of data/judgement.csv", r["id"])
        if not r["source"].strip():
            _fail(path, i, "source", "a public-record source", r["source"])
    return t


def alliances_at(year: int, data_dir: Path = PROJECT_DATA) -> dict[str, list[str]]:
    """Members of each named alliance on 1 January of `year` (joined before, not left)."""
    t = alliance_members(data_dir)
    day = pd.Timestamp(year=year, month=1, day=1)
    on = t[(t.joined < day) & (t.left.isna() | (t.left >= day))]
    return {name: list(g.id) for name, g in on.groupby("alliance", sort=True)}


# ---- regions ---------------------------------------------------------------------------------


@_per_version
def read_regions(data_dir: Path = PROJECT_DATA) -> pd.DataFrame:
    """data/regions.csv, checked: region, kind (all, state, region, rule), value, note."""
    path = Path(data_dir) / "regions.csv"
    t = _csv(path)
    _check_columns(path, t, ("region", "kind", "value", "note"))
    names = set(t.region)
    base_ids = set(_csv(Path(data_dir) / "judgement.csv").id)
    for i, r in t.iterrows():
        if r["kind"] not in REGION_KINDS:
            _fail(path, i, "kind", "one of " + ", ".join(REGION_KINDS), r["kind"])
        if r["kind"] == "state" and r["value"] not in base_ids:
            _fail(path, i, "value", "a state id of data/judgement.csv", r["value"])
        if r["kind"] == "region" and r["value"] not in names:
            _fail(path, i, "value", "a region defined in this file", r["value"])
    return t
