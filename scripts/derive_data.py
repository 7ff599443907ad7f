#!/usr/bin/env python
"""Derive the small tidy tables in data/ from the reference datasets.

Run by a developer, never at simulation run time:

    .venv/bin/python scripts/derive_data.py [--src /work/shared/data] [--out data]

The simulation must not read the source directory; it reads only the CSV files
this script writes (and the scenario YAML files built from them). Every table,
its columns, its derivation and the citation of its source are described in
data/README.md. Re-running the script is deterministic.

Conventions
- State ids are COW 3-letter abbreviations (`stateabb` in cow_states_2016.csv)
  of states that are system members at the end of 2016 (195 states).
- Pair tables are undirected with columns a, b and a < b (alphabetical ids).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SRC_DEFAULT = Path("/work/shared/data")
OUT_DEFAULT = Path(__file__).resolve().parent.parent / "data"

# SIPRI window: deliveries in these years (the register ends with 2024 deliveries).
SIPRI_FIRST, SIPRI_LAST = 2015, 2025
# MME window for exercise ties.
MME_FIRST, MME_LAST = 2000, 2010
ATOP_YEAR = 2018
DCAD_YEAR = 2010
RIVALRY_DATA_END = 2020
CONTIGUITY_YEAR = 2016

# budget = BUDGET_FLOOR + BUDGET_SPAN * sqrt(milex / max milex)  -> USA = 3.0
BUDGET_FLOOR, BUDGET_SPAN = 0.05, 2.95

# --------------------------------------------------------------------------
# Name -> COW code. Names not equal to a COW `statenme` are listed here.
# A value of None means "dropped" and the string says why.
# --------------------------------------------------------------------------
ALIASES: dict[str, str | None] = {
    # SIPRI spellings
    "Antigua and Barbuda": "AAB",
    "Bosnia-Herzegovina": "BOS",
    "Cabo Verde": "CAP",
    "Congo": "CON",
    "Cote d'Ivoire": "CDI",
    "Czechia": "CZR",
    "DR Congo": "DRC",
    "Timor-Leste": "ETM",
    "Turkiye": "TUR",
    "UAE": "UAE",
    "United States": "USA",
    "Viet Nam": "DRV",
    "eSwatini": "SWA",
    "North Macedonia": "MAC",
    "Serbia": "YUG",  # COW treats Serbia (2006-) as the continuation of Yugoslavia, ccode 345
    # MME spellings
    "Antigua & Barbuda": "AAB",
    "Bosnia & Herzegovina": "BOS",
    "Congo - Brazzaville": "CON",
    "Congo - Kinshasa": "DRC",
    "Côte d’Ivoire": "CDI",
    "Eswatini": "SWA",
    "Myanmar (Burma)": "MYA",
    "St. Kitts & Nevis": "SKN",
    "st. christopher": "SKN",
    "St. Vincent & Grenadines": "SVG",
    "São Tomé & Príncipe": "STP",
    "Trinidad & Tobago": "TRI",
    "Federal Republic of Germany": "GFR",  # only 1980-1990 in MME; not a 2016 member
    "German Democratic Republic": "GDR",
    "Czechoslovakia": "CZE",
    # common variants (not in the current files, shipped for convenience)
    "Korea, South": "ROK",
    "Korea, North": "PRK",
    "Republic of Korea": "ROK",
    "Vietnam": "DRV",
    "Turkey": "TUR",
    "Russian Federation": "RUS",
    "Iran, Islamic Republic of": "IRN",
    "Syrian Arab Republic": "SYR",
    "United States of America": "USA",
    "Great Britain": "UKG",
    "Britain": "UKG",
    "Burma": "MYA",
    "East Timor": "ETM",
    "Swaziland": "SWA",
    "Macedonia": "MAC",
    "Ivory Coast": "CDI",
    "Cape Verde": "CAP",
    "Democratic Republic of the Congo": "DRC",
    "Republic of the Congo": "CON",
    "Czech Republic": "CZR",
    "Brunei Darussalam": "BRU",
}
DROPPED: dict[str, str] = {
    "Palestine": "not a COW state system member in 2016",
    "Northern Cyprus": "not a COW state system member",
    "Western Sahara": "not a COW state system member",
    "Aruba": "not a COW state (part of the Kingdom of the Netherlands)",
    "Bermuda": "not a COW state (British overseas territory)",
    "Netherlands Antilles": "not a COW state (part of the Kingdom of the Netherlands)",
    "New Caledonia": "not a COW state (French territory)",
    "Hong Kong SAR China": "not a COW state (part of China)",
    "NATO": "international organisation, not a state",
    "-9": "missing value code in MME",
    "Baltic States": "expanded to EST, LAT, LIT in exercise_ties (single 1997 exercise; outside the 2000-2010 window)",
}

PAIR_COLS = ["a", "b"]


def ordered_pair(x: str, y: str) -> tuple[str, str]:
    return (x, y) if x < y else (y, x)


def load_states(src: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (all COW states one row per code, members alive at end of 2016)."""
    st = pd.read_csv(src / "cow_states_2016.csv")
    st["ccode"] = st["ccode"].astype(int)
    last = st.sort_values(["ccode", "endyear", "endmonth", "endday"]).groupby("ccode").tail(1)
    alive = last[(last.endyear == 2016) & (last.endmonth == 12) & (last.endday == 31)].copy()
    allst = last[["stateabb", "ccode", "statenme"]].copy()
    alive = alive[["stateabb", "ccode", "statenme"]].sort_values("ccode").reset_index(drop=True)
    return allst, alive


def name_table(src: Path, allst: pd.DataFrame, alive_ids: set[str]) -> tuple[pd.DataFrame, dict]:
    """Build the name -> code table for every country name in SIPRI and MME."""
    sipri = read_sipri(src)
    mme = pd.read_csv(src / "mme_v7_exercises_1980_2010.csv", dtype=str)
    pcols = [c for c in mme.columns if c.startswith("State")]
    mme_names = set(pd.Series(mme[pcols].values.ravel()).dropna().str.strip())
    sipri_names = set(sipri.Supplier) | set(sipri.Recipient)
    by_name = dict(zip(allst.statenme, allst.stateabb, strict=False))
    ccode_of = dict(zip(allst.stateabb, allst.ccode, strict=False))
    rows = []
    for source, names in (("sipri", sipri_names), ("mme", mme_names), ("alias", set(ALIASES))):
        for n in sorted(names):
            if source == "alias" and (n in sipri_names or n in mme_names):
                continue
            code, note = None, ""
            if n in DROPPED:
                note = "dropped: " + DROPPED[n]
            elif n.endswith("**"):
                note = "dropped: international organisation"
            elif n.endswith("*"):
                note = "dropped: non-state armed group"
            elif n.startswith("unknown"):
                note = "dropped: unknown party"
            elif n in by_name and ALIASES.get(n, by_name[n]) == by_name[n]:
                code = by_name[n]
                note = "exact COW name"
            elif n in ALIASES:
                code = ALIASES[n]
                note = "alias"
            else:
                note = "dropped: no COW match"
            if code is not None and code not in alive_ids:
                note += "; not a state system member at end of 2016 (dropped from derived tables)"
            rows.append(
                {
                    "source": source,
                    "name": n,
                    "id": code or "",
                    "ccode": ccode_of.get(code, "") if code else "",
                    "in_system_2016": int(bool(code) and code in alive_ids),
                    "note": note,
                }
            )
    tab = pd.DataFrame(rows)
    mapping = {r["name"]: r["id"] for r in rows if r["in_system_2016"]}
    return tab, mapping


def read_sipri(src: Path) -> pd.DataFrame:
    s = pd.read_csv(src / "sipri_arms_transfers_1995_2025.csv", skiprows=11, dtype=str)
    s.columns = [c.rstrip(";") for c in s.columns]
    s["year"] = pd.to_numeric(s["Delivery year"], errors="coerce")
    s["tiv"] = pd.to_numeric(s["TIV delivery values"], errors="coerce").fillna(0.0)
    return s


def capitals(src: Path) -> pd.DataFrame:
    c = pd.read_csv(src / "cow_capitals.csv")
    c["ccode"] = c["ccode"].astype(int)
    c = c.sort_values(["ccode", "enddate", "stdate"]).groupby("ccode").tail(1)
    c = c.set_index("ccode")
    # Data fix: cow_capitals gives Brazil's geographic centroid (-10.33, -53.2)
    # for Brasilia; use the city's coordinates.
    if 140 in c.index and abs(c.loc[140, "lat"] + 10.3333) < 0.01:
        c.loc[140, ["lat", "lng"]] = [-15.7939, -47.8828]
    return c


def build_states(src: Path, alive: pd.DataFrame, sipri_sup: pd.DataFrame) -> pd.DataFrame:
    n = pd.read_csv(src / "cow_nmc_v7_1946_2022.csv")
    n = n[n.ccode.isin(alive.ccode)]
    cinc_year = int(n.year.max())
    cinc = n[n.year == cinc_year].set_index("ccode")["cinc"]
    max_cinc = cinc.max()

    def latest(col: str) -> pd.DataFrame:
        x = n[n[col].notna() & (n[col] >= 0)].sort_values("year").groupby("ccode").tail(1)
        return x.set_index("ccode")[[col, "year"]]

    milex = latest("milex")
    milper = latest("milper")
    cap = capitals(src)
    df = alive.rename(columns={"stateabb": "id", "statenme": "name"}).copy()
    df["lat"] = df.ccode.map(cap["lat"]).round(3)
    df["lon"] = df.ccode.map(cap["lng"]).round(3)
    df["capital"] = df.ccode.map(cap["capital"])
    df["cinc"] = df.ccode.map(cinc)
    df["cinc_year"] = cinc_year
    df["capability"] = (df["cinc"] / max_cinc).round(4)
    df["milex"] = df.ccode.map(milex["milex"])
    df["milex_year"] = df.ccode.map(milex["year"]).astype("Int64")
    df["milper"] = df.ccode.map(milper["milper"])
    df["milper_year"] = df.ccode.map(milper["year"]).astype("Int64")
    mx = df["milex"].max()
    df["budget"] = (BUDGET_FLOOR + BUDGET_SPAN * np.sqrt(df["milex"].fillna(0.0) / mx)).round(3)
    exp = df.id.map(sipri_sup["exports"]).fillna(0.0)
    imp = df.id.map(sipri_sup["imports"]).fillna(0.0)
    df["tiv_exports"] = exp.round(1)
    df["tiv_imports"] = imp.round(1)
    share = exp / exp.sum()
    df["arms_industry"] = np.sqrt(share / share.max()).round(3)
    cols = [
        "id",
        "ccode",
        "name",
        "capital",
        "lat",
        "lon",
        "cinc",
        "cinc_year",
        "capability",
        "milex",
        "milex_year",
        "milper",
        "milper_year",
        "budget",
        "tiv_exports",
        "tiv_imports",
        "arms_industry",
    ]
    return df[cols]


def build_arms(sipri: pd.DataFrame, mapping: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    s = sipri[(sipri.year >= SIPRI_FIRST) & (sipri.year <= SIPRI_LAST)].copy()
    s["sup"] = s.Supplier.map(mapping)
    s["rec"] = s.Recipient.map(mapping)
    # Recipient totals over all suppliers (incl. unknown/non-state suppliers),
    # so that a recipient's shares sum to <= 1.
    rec_total = s[s.rec.notna()].groupby("rec").tiv.sum()
    sup_total = s[s.sup.notna()].groupby("sup").tiv.sum()
    pairs = s[s.sup.notna() & s.rec.notna() & (s.sup != s.rec)]
    g = pairs.groupby(["rec", "sup"]).tiv.sum().reset_index()
    g = g[g.tiv > 0]
    g["share"] = g.tiv / g.rec.map(rec_total)
    g["rank"] = g.groupby("rec").tiv.rank(ascending=False, method="first").astype(int)
    g = g.rename(columns={"rec": "recipient", "sup": "supplier"})
    g["tiv"] = g.tiv.round(2)
    g["share"] = g.share.round(4)
    g = g.sort_values(["recipient", "rank"]).reset_index(drop=True)
    totals = pd.DataFrame({"exports": sup_total, "imports": rec_total}).fillna(0.0)
    return g[["recipient", "supplier", "tiv", "share", "rank"]], totals


def build_alliances(src: Path, code_of_ccode: dict) -> pd.DataFrame:
    a = pd.read_csv(src / "atop_v5_1_dyads_1990_2018.csv")
    a = a[a.year == ATOP_YEAR].copy()
    a["x"] = a.ccode1.map(code_of_ccode)
    a["y"] = a.ccode2.map(code_of_ccode)
    a = a[a.x.notna() & a.y.notna() & (a.x != a.y)]
    ab = a.apply(lambda r: ordered_pair(r.x, r.y), axis=1)
    a["a"] = [p[0] for p in ab]
    a["b"] = [p[1] for p in ab]
    flags = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"]
    g = a.groupby(["a", "b"])[flags].max().reset_index()
    g.columns = ["a", "b", "defense", "offense", "neutrality", "nonaggression", "consultation"]
    g["level"] = np.where(
        g.defense == 1,
        "defense",
        np.where(
            g.consultation == 1,
            "consultation",
            np.where(g.offense + g.neutrality > 0, "other", "nonaggression"),
        ),
    )
    return g.sort_values(["a", "b"]).reset_index(drop=True)


def build_rivalries(src: Path, code_of_ccode: dict) -> pd.DataFrame:
    t = pd.read_csv(src / "tss_strategic_rivalries_1494_2020.csv")
    # Data fix: "Eguatorial Guinea-Gabon" (tssr_id 165) is coded with ccode 438
    # (Guinea); the rivalry is Equatorial Guinea (411) vs Gabon (481).
    fix = (t.tssr_id == 165) & (t.ccode1 == 438)
    t.loc[fix, "ccode1"] = 411
    t.loc[fix, "rivalry"] = "Equatorial Guinea-Gabon"
    t = t[t.end.isna() | (t.end >= RIVALRY_DATA_END)].copy()
    t["x"] = t.ccode1.astype(int).map(code_of_ccode)
    t["y"] = t.ccode2.astype(int).map(code_of_ccode)
    t = t[t.x.notna() & t.y.notna()]
    types = ["positional", "spatial", "ideological", "interventionary"]
    rows = []
    for _, r in t.iterrows():
        a, b = ordered_pair(r.x, r.y)
        ty = [k for k in types if r[k] == 1]
        rows.append(
            {
                "a": a,
                "b": b,
                "rivalry": r.rivalry,
                "tssr_id": int(r.tssr_id),
                "start": int(r.start),
                "end": "" if pd.isna(r.end) else int(r.end),
                **{k: int(r[k] == 1) for k in types},
                "n_types": len(ty),
                "types": "+".join(ty),
                "principal": int(r.principal == 1),
                "hostility": round(min(0.9, 0.5 + 0.2 * max(0, len(ty) - 1)), 2),
            }
        )
    return pd.DataFrame(rows).sort_values(["a", "b"]).reset_index(drop=True)


def build_exercises(src: Path, mapping: dict) -> pd.DataFrame:
    m = pd.read_csv(src / "mme_v7_exercises_1980_2010.csv", dtype=str)
    m["y"] = pd.to_numeric(m["s.year"], errors="coerce")
    m = m[(m.y >= MME_FIRST) & (m.y <= MME_LAST)]
    pcols = [c for c in m.columns if c.startswith("State")]

    def flag(col):
        return pd.to_numeric(m[col], errors="coerce").fillna(0).astype(int)

    m = m.assign(sea=flag("Sea"), hum=flag("Humanitarian") | flag("Peacekeeping"))
    counts: dict[tuple[str, str], list[int]] = {}
    for _, r in m.iterrows():
        ids = set()
        for c in pcols:
            v = r[c]
            if isinstance(v, str):
                v = v.strip()
                if v == "Baltic States":
                    ids.update(["EST", "LAT", "LIT"])
                elif v in mapping:
                    ids.add(mapping[v])
        ids = sorted(ids)
        k = len(ids)
        for i in range(k):
            for j in range(i + 1, k):
                c = counts.setdefault((ids[i], ids[j]), [0, 0.0, 0, 0, 0, 0])
                c[0] += 1
                c[1] += 1.0 / (k - 1)  # each participant's ties from one exercise sum to 1
                c[2] += int(k == 2)
                c[3] += int(r.sea)
                c[4] += int(r.hum)
                c[5] = max(c[5], int(r.y))
    df = pd.DataFrame(
        [(a, b, *v) for (a, b), v in counts.items()],
        columns=[
            "a",
            "b",
            "n_exercises",
            "w_exercises",
            "n_bilateral",
            "n_naval",
            "n_humanitarian_or_pk",
            "last_year",
        ],
    )
    df["w_exercises"] = df.w_exercises.round(3)
    df["interop"] = np.minimum(0.8, 1 - np.exp(-df.w_exercises / 10.0)).round(3)
    return df.sort_values(["a", "b"]).reset_index(drop=True)


def build_dcad(src: Path, code_of_ccode: dict) -> tuple[pd.DataFrame, int]:
    d = pd.read_csv(src / "dcad_v1_0_agreements_1980_2010.csv")
    d["x"] = d.ccode1.map(code_of_ccode)
    d["y"] = d.ccode2.map(code_of_ccode)
    n_unmapped = int((d.x.isna() | d.y.isna()).sum())
    d = d[d.x.notna() & d.y.notna()]
    inforce = d[(d.terminated != 1) & (d.endYearEstimate >= DCAD_YEAR)].copy()
    inforce["a"] = [ordered_pair(x, y)[0] for x, y in zip(inforce.x, inforce.y, strict=False)]
    inforce["b"] = [ordered_pair(x, y)[1] for x, y in zip(inforce.x, inforce.y, strict=False)]
    g = (
        inforce.groupby(["a", "b"])
        .agg(
            n_agreements=("DCAid", "size"),
            n_general=("type", lambda s: int((s == "general").sum())),
            n_sector=("type", lambda s: int((s == "sector").sum())),
            first_signed=("signYear", "min"),
            last_signed=("signYear", "max"),
            categories=("category1", lambda s: "+".join(sorted(set(s.dropna())))),
        )
        .reset_index()
    )
    return g.sort_values(["a", "b"]).reset_index(drop=True), n_unmapped


def build_contiguity(src: Path, code_of_ccode: dict) -> pd.DataFrame:
    c = pd.read_csv(src / "cow_contiguity_v3_2.csv")
    c = c[c.enddate >= f"{CONTIGUITY_YEAR}-01-01"].copy()
    c["x"] = c.ccode1.astype(int).map(code_of_ccode)
    c["y"] = c.ccode2.astype(int).map(code_of_ccode)
    c = c[c.x.notna() & c.y.notna()]
    c["a"] = [ordered_pair(x, y)[0] for x, y in zip(c.x, c.y, strict=False)]
    c["b"] = [ordered_pair(x, y)[1] for x, y in zip(c.x, c.y, strict=False)]
    g = c.groupby(["a", "b"]).conttype.min().astype(int).reset_index()
    return g.sort_values(["a", "b"]).reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", type=Path, default=SRC_DEFAULT)
    ap.add_argument("--out", type=Path, default=OUT_DEFAULT)
    args = ap.parse_args(argv)
    src, out = args.src, args.out
    out.mkdir(parents=True, exist_ok=True)

    allst, alive = load_states(src)
    alive_ids = set(alive.stateabb)
    code_of_ccode = dict(zip(alive.ccode, alive.stateabb, strict=False))

    names, mapping = name_table(src, allst, alive_ids)
    sipri = read_sipri(src)
    arms, totals = build_arms(sipri, mapping)
    states = build_states(src, alive, totals)
    alliances = build_alliances(src, code_of_ccode)
    rivalries = build_rivalries(src, code_of_ccode)
    ex = build_exercises(src, mapping)
    dcad, dcad_unmapped = build_dcad(src, code_of_ccode)
    cont = build_contiguity(src, code_of_ccode)

    tables = {
        "country_names.csv": names,
        "states.csv": states,
        "arms_supply_shares.csv": arms,
        "alliances_2018.csv": alliances,
        "rivalries.csv": rivalries,
        "exercise_ties.csv": ex,
        "agreements_dcad.csv": dcad,
        "contiguity.csv": cont,
    }
    for fn, df in tables.items():
        df.to_csv(out / fn, index=False, lineterminator="\n")
        print(f"{fn:28s} {len(df):6d} rows  {(out / fn).stat().st_size / 1024:7.1f} KB")

    # Diagnostics for data/README.md and the report
    sy = sipri.year
    print(f"SIPRI delivery years present: {int(sy.min())}-{int(sy.max())}")
    unm = names[(names.source != "alias") & (names.in_system_2016 == 0)]
    sip = read_sipri(src)
    sip = sip[(sip.year >= SIPRI_FIRST) & (sip.year <= SIPRI_LAST)]
    lost = sip[~sip.Supplier.isin(mapping) | ~sip.Recipient.isin(mapping)].tiv.sum()
    print(
        f"SIPRI {SIPRI_FIRST}-{SIPRI_LAST}: TIV total {sip.tiv.sum():.0f}, "
        f"in rows with an unmapped party {lost:.0f} ({100 * lost / sip.tiv.sum():.1f}%)"
    )
    print(f"names not mapped to a 2016 member: {len(unm)}")
    print(f"DCAD agreements with a party not in the 2016 system: {dcad_unmapped}")
    miss = states[states.milex_year != states.cinc_year][["id", "milex_year"]]
    print(
        "milex not from latest year:",
        ", ".join(f"{r.id}:{r.milex_year}" for r in miss.itertuples()),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
