"""Copies of the source datasets and project tables with every row dated Y or later
changed: values scaled, partners shuffled, years moved within Y.., rows added. Anything
built "from data before Y" must come out the same from such a copy."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from sim.scenarios.sources import FILES, SIPRI_HEADER_LINES


def perturb_sources(src: Path, dst: Path, year: int, rng: np.random.Generator) -> None:
    """Copy the source datasets to `dst`, changing every row dated `year` or later."""
    dst.mkdir()

    def later(values: pd.Series) -> pd.Series:
        return pd.to_numeric(values, errors="coerce") >= year

    def move(values: pd.Series, hi: int) -> np.ndarray:
        return rng.integers(year, hi + 1, size=len(values))

    # COW states: late joiners get other late start years; one new state joins.
    st = pd.read_csv(src / FILES["states"])
    late = st.styear >= year
    st.loc[late, "styear"] = move(st[late], 2016)
    new_state = st.iloc[[0]].assign(stateabb="ZZZ", ccode=999, statenme="Later", styear=year)
    pd.concat([st, new_state]).to_csv(dst / FILES["states"], index=False)

    nmc = pd.read_csv(src / FILES["nmc"])
    late = nmc.year >= year
    for col in ("milex", "milper", "cinc"):
        nmc.loc[late, col] = nmc.loc[late, col] * rng.uniform(0.1, 10.0, late.sum())
    extra = nmc[(nmc.ccode == 2) & (nmc.year == year)].assign(ccode=999)
    pd.concat([nmc, extra]).to_csv(dst / FILES["nmc"], index=False)

    cap = pd.read_csv(src / FILES["capitals"])
    late = pd.to_datetime(cap.stdate).dt.year >= year
    cap.loc[late, "lat"] = rng.uniform(-60, 60, late.sum())
    moved = cap[cap.ccode == 2].assign(
        capital="Elsewhere", stdate=f"{year}-06-01", lat=0.0, lng=0.0
    )
    pd.concat([cap, moved]).to_csv(dst / FILES["capitals"], index=False)
    shutil.copy(src / FILES["contiguity"], dst / FILES["contiguity"])

    atop = pd.read_csv(src / FILES["atop"])
    late = atop.year >= year
    for col in ("atop_defense", "atop_consul", "atop_nonagg"):
        atop.loc[late, col] = rng.integers(0, 2, late.sum())
    fake = pd.DataFrame(
        [[2, 710, y, 1, 0, 0, 1, 1] for y in range(year, 2019)], columns=atop.columns
    )  # a US-China defense pact from Y on
    pd.concat([atop, fake]).to_csv(dst / FILES["atop"], index=False)

    tss = pd.read_csv(src / FILES["tss"])
    late = tss.start >= year
    tss.loc[late, "ccode1"] = rng.choice(tss.ccode1.dropna().to_numpy(), late.sum())
    ends = tss.end.notna() & (tss.end >= year)
    tss.loc[ends, "end"] = move(tss[ends], 2020)
    new = tss.iloc[[0]].assign(tssr_id=999, rivalry="USA-Canada", ccode1=2, ccode2=20, start=year)
    pd.concat([tss, new]).to_csv(dst / FILES["tss"], index=False)

    mme = pd.read_csv(src / FILES["mme"], dtype=str)
    late = later(mme["s.year"])
    parts = [c for c in mme.columns if c.startswith("State")]
    shuffled = mme.loc[late, parts].to_numpy()
    mme.loc[late, parts] = shuffled[rng.permutation(len(shuffled))]
    new = mme.iloc[[0]].copy()
    new[parts] = np.nan
    new[["MMEID", "s.year", "StateA", "StateB"]] = ["late", str(year), "United States", "Cuba"]
    pd.concat([mme, new]).to_csv(dst / FILES["mme"], index=False)

    dcad = pd.read_csv(src / FILES["dcad"])
    late = dcad.signYear >= year
    dcad.loc[late, "ccode2"] = rng.choice(dcad.ccode2.to_numpy(), late.sum())
    ends = dcad.endYearEstimate >= year
    dcad.loc[ends, "endYearEstimate"] = move(dcad[ends], 2010)
    new = dcad.iloc[[0]].assign(ccode2=40, signYear=year, DCAid="late")  # USA-Cuba
    pd.concat([dcad, new]).to_csv(dst / FILES["dcad"], index=False)

    with open(src / FILES["sipri"], encoding="utf-8") as f:
        head = [next(f) for _ in range(SIPRI_HEADER_LINES)]
    sip = pd.read_csv(src / FILES["sipri"], skiprows=SIPRI_HEADER_LINES, dtype=str)
    late = later(sip["Delivery year"])
    tiv = pd.to_numeric(sip.loc[late, "TIV delivery values"], errors="coerce")
    sip.loc[late, "TIV delivery values"] = (tiv * rng.uniform(0.1, 10, late.sum())).astype(str)
    sip.loc[late, "Supplier"] = rng.permutation(sip.loc[late, "Supplier"].to_numpy())
    new = sip.iloc[[0]].assign(Supplier="Russia", Recipient="India", **{"Delivery year": str(year)})
    new["TIV delivery values"] = "100000"
    with open(dst / FILES["sipri"], "w", encoding="utf-8", newline="") as f:
        f.writelines(head)
        pd.concat([sip, new]).to_csv(f, index=False)


def perturb_tables(src: Path, dst: Path, year: int) -> None:
    """Copy data/ to `dst`, changing the judgement rows that show from a later year."""
    shutil.copytree(src, dst)
    ch = pd.read_csv(dst / "judgement_changes.csv", dtype=str, keep_default_na=False)
    late = ch.from_year.astype(int) > year
    ch.loc[late & (ch.attribute == "align"), "value"] = "C"
    extra = {
        "id": "USA",
        "from_year": str(year + 1),
        "attribute": "align",
        "value": "C",
        "event_date": f"{year}-02",
        "reason": "test: a change that shows only after the year",
        "kind": "judgement",
    }
    pd.concat([ch, pd.DataFrame([extra])]).to_csv(
        dst / "judgement_changes.csv", index=False, quoting=csv.QUOTE_MINIMAL
    )
    riv = pd.read_csv(dst / "rivalries_judgement.csv", dtype=str, keep_default_na=False)
    late = riv.from_year.astype(int) > year
    riv.loc[late, "types"] = "positional+spatial+ideological"
    new = riv.iloc[[0]].assign(
        a="CAN", b="USA", from_year=str(year + 1), event_date=f"{year}-05", reason="test"
    )
    pd.concat([riv, new]).to_csv(dst / "rivalries_judgement.csv", index=False)
    al = pd.read_csv(dst / "alliance_members.csv", dtype=str, keep_default_na=False)
    late = al.joined >= f"{year}-01-01"
    al.loc[late, "joined"] = f"{year}-12-31"
    new = al.iloc[[0]].assign(id="CHN", joined=f"{year}-03-01", source="test")
    pd.concat([al, new]).to_csv(dst / "alliance_members.csv", index=False)
