"""The public source datasets, read once, with every party named by its COW id.

The reference datasets (README in the source directory, by default
/work/shared/data, or $DDSIM_SOURCE_DATA) identify states differently: COW, ATOP,
DCAD and TSS by numeric ccode, SIPRI and MME by country name. `load_sources`
reads them all into tidy frames keyed by the COW 3-letter id (`stateabb`), with
the fixes documented in data/README.md ("Data problems found"), and caches the
result per directory for the life of the process: a second call costs nothing.

Names go through data/country_names.csv (the crosswalk scripts/derive_data.py
writes); `Sources.unmapped` lists the names that did not map, with the reason.

Succession: COW codes West Germany (GFR, ccode 260) and united Germany (GMY, 255)
as different states. Exercises, pacts and deliveries of West Germany before 1990
are given to GMY, so the 2000 world remembers them. Czechoslovakia (CZE) has two
successors and is not carried over.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.scenarios.tables import PROJECT_DATA, DataError, read_names

SOURCE_DIR = Path(os.environ.get("DDSIM_SOURCE_DATA", "/work/shared/data"))

FILES = {
    "states": "cow_states_2016.csv",
    "nmc": "cow_nmc_v7_1946_2022.csv",
    "capitals": "cow_capitals.csv",
    "contiguity": "cow_contiguity_v3_2.csv",
    "atop": "atop_v5_1_dyads_1990_2018.csv",
    "tss": "tss_strategic_rivalries_1494_2020.csv",
    "mme": "mme_v7_exercises_1980_2010.csv",
    "dcad": "dcad_v1_0_agreements_1980_2010.csv",
    "sipri": "sipri_arms_transfers_1995_2025.csv",
}
SIPRI_HEADER_LINES = 11  # lines of notes before the column row

SUCCESSOR = {"GFR": "GMY"}  # see the module docstring
BALTIC_STATES = ("EST", "LAT", "LIT")  # MME "Baltic States" (one 1997 exercise)

# Citations, for the `sources:` of built scenarios and for reports.
CITATION = {
    "states": "COW State System Membership v2016 (Correlates of War Project)",
    "nmc": "COW National Material Capabilities v7.0 (Singer, Bremer & Stuckey 1972)",
    "capitals": "COW capitals with coordinates, via the peacesciencer R package",
    "contiguity": "COW Direct Contiguity v3.2 (Correlates of War Project)",
    "atop": "ATOP v5.1 dyad-years (Leeds et al. 2002)",
    "tss": "TSS strategic rivalries 1494-2020 (Thompson, Sakuwa & Suhas 2022)",
    "mme": "Multinational Military Exercises v7 (D'Orazio & Galambos)",
    "dcad": "Defense Cooperation Agreements Dataset v1.0 (Kinne 2020)",
    "sipri": "SIPRI Arms Transfers Database, (c) SIPRI (generated 12 Feb 2026)",
}


@dataclass(frozen=True)
class Coverage:
    """First and last year with data in each dataset (as read, not as labelled)."""

    nmc: tuple[int, int]
    atop: tuple[int, int]
    tss: tuple[int, int]
    mme: tuple[int, int]
    dcad: tuple[int, int]
    sipri: tuple[int, int]
    states_end: int  # the membership list's last day is 31 December of this year


@dataclass(frozen=True)
class Sources:
    """The source datasets as tidy frames; pairs are undirected with a < b unless named
    supplier/recipient. All ids are COW 3-letter codes.

    states: id, ccode, name, start, end (membership periods, pandas Timestamps);
    nmc: id, year, milex (thousands USD), milper, cinc;
    capitals: id, capital, lat, lon, start, end;
    contiguity: a, b, conttype (1 land ... 5 water <= 400 miles), start_year, end_year;
    atop: a, b, year, defense, offense, neutrality, nonaggression, consultation (0/1);
    tss: a, b, tssr_id, rivalry, start, end (NaN = ongoing at the data's end),
        positional, spatial, ideological, interventionary, principal;
    mme: one row per exercise and participant: mme_id (MMEID#row), year, id, n_participants, sea,
        humanitarian (humanitarian or peacekeeping flag);
    mme_pairs: one row per exercise and pair of participants: mme_id, year, a, b, weight
        (1 / (participants - 1): one participant's ties from one exercise sum to 1);
    dcad: one row per agreement: a, b, sign_year, end_year (DCAD endYearEstimate),
        terminated (1, 0, or -88/-99 unknown), type (general/sector), category;
    sipri: one row per deal and delivery year: supplier, recipient (ids, or "" when the
        party is not a state or not mapped), year, tiv (delivered, millions).
    """

    directory: Path
    states: pd.DataFrame
    nmc: pd.DataFrame
    capitals: pd.DataFrame
    contiguity: pd.DataFrame
    atop: pd.DataFrame
    tss: pd.DataFrame
    mme: pd.DataFrame
    mme_pairs: pd.DataFrame
    dcad: pd.DataFrame
    sipri: pd.DataFrame
    coverage: Coverage
    unmapped: dict[str, str] = field(default_factory=dict)  # source name -> why dropped


def _ordered(frame: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Add columns a, b = the pair (x, y) in alphabetical order."""
    lo = np.where(frame[x] < frame[y], frame[x], frame[y])
    hi = np.where(frame[x] < frame[y], frame[y], frame[x])
    return frame.assign(a=lo, b=hi)


def _pairs_by_ccode(frame: pd.DataFrame, code_of: dict[int, str]) -> pd.DataFrame:
    """Rows whose ccode1 and ccode2 are two different known states, with ids a < b."""
    frame = frame.assign(
        x=frame.ccode1.astype(int).map(code_of), y=frame.ccode2.astype(int).map(code_of)
    )
    frame = frame[frame.x.notna() & frame.y.notna() & (frame.x != frame.y)]
    return _ordered(frame, "x", "y")


def _need(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"{path}: expected a source dataset file, got no such file")
    return path


def _read_states(d: Path) -> tuple[pd.DataFrame, dict[int, str]]:
    st = pd.read_csv(_need(d / FILES["states"]))
    st["ccode"] = st["ccode"].astype(int)
    for end in ("st", "end"):
        st[f"{end}_date"] = pd.to_datetime(
            {
                "year": st[f"{end}year"].astype(int),
                "month": st[f"{end}month"].astype(int),
                "day": st[f"{end}day"].astype(int),
            }
        )
    code_of = dict(zip(st.ccode, st.stateabb, strict=False))
    code_of.update({c: SUCCESSOR.get(s, s) for c, s in code_of.items()})
    states = st.rename(columns={"stateabb": "id", "statenme": "name"})
    states = states.assign(start=states.st_date, end=states.end_date)
    return states[["id", "ccode", "name", "start", "end"]].reset_index(drop=True), code_of


def _read_nmc(d: Path, code_of: dict[int, str]) -> pd.DataFrame:
    n = pd.read_csv(_need(d / FILES["nmc"]))
    n["id"] = n.ccode.astype(int).map(code_of)
    n = n[n.id.notna() & (n.ccode != 260)]  # West Germany: its rows end in 1990
    for col in ("milex", "milper", "cinc"):
        n[col] = n[col].where(n[col] >= 0)  # -9 = missing
    return n[["id", "year", "milex", "milper", "cinc"]].reset_index(drop=True)


def _read_capitals(d: Path, code_of: dict[int, str]) -> pd.DataFrame:
    c = pd.read_csv(_need(d / FILES["capitals"]))
    c["id"] = c.ccode.astype(int).map(code_of)
    c = c[c.id.notna() & (c.ccode != 260)].copy()
    # Data fix: Brazil's row holds the country's centroid (-10.33, -53.2), not Brasilia.
    fix = (c.ccode == 140) & ((c.lat + 10.3333).abs() < 0.01)
    c.loc[fix, ["lat", "lng"]] = [-15.7939, -47.8828]
    c["start"] = pd.to_datetime(c.stdate)
    c["end"] = pd.to_datetime(c.enddate)
    c = c.rename(columns={"lng": "lon"})
    return c[["id", "capital", "lat", "lon", "start", "end"]].reset_index(drop=True)


def _read_contiguity(d: Path, code_of: dict[int, str]) -> pd.DataFrame:
    c = _pairs_by_ccode(pd.read_csv(_need(d / FILES["contiguity"])), code_of)
    c["start_year"] = pd.to_datetime(c.stdate).dt.year
    c["end_year"] = pd.to_datetime(c.enddate).dt.year
    c["conttype"] = c.conttype.astype(int)
    cols = ["a", "b", "conttype", "start_year", "end_year"]
    return c[cols].drop_duplicates().reset_index(drop=True)


def _read_atop(d: Path, code_of: dict[int, str]) -> pd.DataFrame:
    a = _pairs_by_ccode(pd.read_csv(_need(d / FILES["atop"])), code_of)
    flags = {
        "atop_defense": "defense",
        "atop_offense": "offense",
        "atop_neutral": "neutrality",
        "atop_nonagg": "nonaggression",
        "atop_consul": "consultation",
    }
    g = a.groupby(["a", "b", "year"], sort=True)[list(flags)].max().reset_index()
    return g.rename(columns=flags).astype({k: "int8" for k in flags.values()})


def _read_tss(d: Path, code_of: dict[int, str]) -> pd.DataFrame:
    t = pd.read_csv(_need(d / FILES["tss"]))
    # Data fix: "Eguatorial Guinea-Gabon" (tssr_id 165) is coded with ccode 438 (Guinea);
    # the rivalry is Equatorial Guinea (411) vs Gabon (481).
    fix = (t.tssr_id == 165) & (t.ccode1 == 438)
    t.loc[fix, "ccode1"] = 411
    t.loc[fix, "rivalry"] = "Equatorial Guinea-Gabon"
    t = _pairs_by_ccode(t, code_of)
    kinds = ["positional", "spatial", "ideological", "interventionary", "principal"]
    t[kinds] = (t[kinds] == 1).astype("int8")
    t["start"] = t.start.astype(int)
    cols = ["a", "b", "tssr_id", "rivalry", "start", "end", *kinds]
    return t[cols].reset_index(drop=True)


def _read_mme(d: Path, names: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    m = pd.read_csv(_need(d / FILES["mme"]), dtype=str)
    # Data problem: three MMEIDs are used twice for different exercises (mme3457, mme3458,
    # mme3460); an exercise is a row, so the key is MMEID plus the row number.
    m["MMEID"] = m.MMEID + "#" + pd.Series(range(len(m)), index=m.index).astype(str)
    m["year"] = pd.to_numeric(m["s.year"], errors="coerce")
    m = m[m.year.notna()].copy()
    m["year"] = m.year.astype(int)

    def flag(col: str) -> pd.Series:
        return pd.to_numeric(m[col], errors="coerce").fillna(0).astype(int)

    m["sea"] = flag("Sea")
    m["humanitarian"] = (flag("Humanitarian") | flag("Peacekeeping")).astype(int)
    pcols = [c for c in m.columns if c.startswith("State")]
    long = m.melt(id_vars=["MMEID", "year", "sea", "humanitarian"], value_vars=pcols)
    long = long[long.value.notna()].copy()
    long["name"] = long.value.str.strip()
    baltic = long[long.name == "Baltic States"]
    expanded = baltic.loc[baltic.index.repeat(len(BALTIC_STATES))].copy()
    expanded["id"] = list(BALTIC_STATES) * len(baltic)
    long["id"] = long.name.map(names)
    unmapped = set(long.name[long.id.isna() & (long.name != "Baltic States")])
    long = pd.concat([long[long.id.notna()], expanded])
    long["id"] = long.id.map(lambda s: SUCCESSOR.get(s, s))
    long = long.drop_duplicates(["MMEID", "id"]).rename(columns={"MMEID": "mme_id"})
    long["n_participants"] = long.groupby("mme_id").id.transform("size")
    cols = ["mme_id", "year", "id", "n_participants", "sea", "humanitarian"]
    mme = long[cols].sort_values(["year", "mme_id", "id"]).reset_index(drop=True)
    both = mme.merge(mme[["mme_id", "id"]], on="mme_id", suffixes=("", "_2"))
    both = both[both.id < both.id_2]
    pairs = both.rename(columns={"id": "a", "id_2": "b"})
    pairs["weight"] = 1.0 / (pairs.n_participants - 1)
    cols = ["mme_id", "year", "a", "b", "weight", "sea", "humanitarian"]
    return mme, pairs[cols].reset_index(drop=True), unmapped


def _read_dcad(d: Path, code_of: dict[int, str]) -> pd.DataFrame:
    dc = _pairs_by_ccode(pd.read_csv(_need(d / FILES["dcad"])), code_of)
    dc = dc.rename(
        columns={
            "signYear": "sign_year",
            "endYearEstimate": "end_year",
            "category1": "category",
            "DCAid": "dcad_id",
        }
    )
    cols = ["dcad_id", "a", "b", "sign_year", "end_year", "terminated", "type", "category"]
    return dc[cols].reset_index(drop=True)


def read_sipri_raw(d: Path) -> pd.DataFrame:
    """The SIPRI trade register as strings, with the trailing ';' of the header removed."""
    s = pd.read_csv(_need(d / FILES["sipri"]), skiprows=SIPRI_HEADER_LINES, dtype=str)
    s.columns = [c.rstrip(";") for c in s.columns]
    return s


def _read_sipri(d: Path, names: dict[str, str]) -> tuple[pd.DataFrame, set[str]]:
    s = read_sipri_raw(d)
    year = pd.to_numeric(s["Delivery year"], errors="coerce")
    tiv = pd.to_numeric(s["TIV delivery values"], errors="coerce").fillna(0.0)
    sup = s.Supplier.str.strip().map(names)
    rec = s.Recipient.str.strip().map(names)
    unmapped = set(s.Supplier[sup.isna()]) | set(s.Recipient[rec.isna()])
    out = pd.DataFrame(
        {
            "supplier": sup.map(lambda x: SUCCESSOR.get(x, x)).fillna(""),
            "recipient": rec.map(lambda x: SUCCESSOR.get(x, x)).fillna(""),
            "supplier_name": s.Supplier,
            "recipient_name": s.Recipient,
            "year": year,
            "tiv": tiv,
        }
    )
    out = out[out.year.notna()].astype({"year": int})
    return out.reset_index(drop=True), unmapped


def _span(values: pd.Series) -> tuple[int, int]:
    return int(values.min()), int(values.max())


def _fingerprint(directory: Path) -> tuple:
    """Modification times and sizes of the source files: a new file means a new read."""
    out = []
    for name in FILES.values():
        p = directory / name
        st = p.stat() if p.is_file() else None
        out.append((name, st.st_mtime_ns if st else None, st.st_size if st else None))
    return tuple(out)


def load_sources(
    directory: str | Path | None = None, data_dir: str | Path | None = None
) -> Sources:
    """Read (once per process and per directory) the source datasets as tidy frames.

    `directory` holds the source CSV files (default $DDSIM_SOURCE_DATA or
    /work/shared/data); `data_dir` holds the project's data/country_names.csv.
    """
    d = Path(directory) if directory is not None else SOURCE_DIR
    dd = Path(data_dir) if data_dir is not None else PROJECT_DATA
    d, dd = d.resolve(), dd.resolve()
    return _load(d, dd, _fingerprint(d), _fingerprint_names(dd))


def _fingerprint_names(data_dir: Path) -> tuple:
    p = data_dir / "country_names.csv"
    st = p.stat() if p.is_file() else None
    return (st.st_mtime_ns, st.st_size) if st else (None, None)


@functools.lru_cache(maxsize=4)
def _load(d: Path, data_dir: Path, _fp: tuple, _fp_names: tuple) -> Sources:
    names, dropped = read_names(data_dir)
    states, code_of = _read_states(d)
    nmc = _read_nmc(d, code_of)
    mme, mme_pairs, mme_unmapped = _read_mme(d, names)
    sipri, sipri_unmapped = _read_sipri(d, names)
    atop = _read_atop(d, code_of)
    tss = _read_tss(d, code_of)
    dcad = _read_dcad(d, code_of)
    unmapped = {
        n: dropped.get(n, "not in data/country_names.csv")
        for n in sorted(mme_unmapped | sipri_unmapped)
    }
    coverage = Coverage(
        nmc=_span(nmc.year),
        atop=_span(atop.year),
        tss=(int(tss.start.min()), int(tss.end.max())),
        mme=_span(mme.year),
        dcad=_span(dcad.sign_year),
        sipri=_span(sipri.year),
        states_end=int(states.end.max().year),
    )
    return Sources(
        directory=d,
        states=states,
        nmc=nmc,
        capitals=_read_capitals(d, code_of),
        contiguity=_read_contiguity(d, code_of),
        atop=atop,
        tss=tss,
        mme=mme,
        mme_pairs=mme_pairs,
        dcad=dcad,
        sipri=sipri,
        coverage=coverage,
        unmapped=unmapped,
    )
