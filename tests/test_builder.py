"""Tests for sim.scenarios.builder: scenarios of year Y from data before Y only.

The no-look-ahead test copies the source datasets and the project tables, perturbs
every row dated Y or later (values, partners, years moved within Y.., new rows) and
checks that the built scenario does not change, while the scenario of Y + 1 does.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# The scenario loader and the model: the only imports that move with the restructure.
from sim.loader import load_scenario, scenario_from_dict, scenario_to_dict
from sim.model import DiplomacyModel
from sim.scenarios import builder
from sim.scenarios.builder import build_scenario, region_members, scenario_yaml, write_scenario_yaml
from sim.scenarios.rules import PROJECT_DATA
from sim.scenarios.sources import FILES, SIPRI_HEADER_LINES, SOURCE_DIR
from sim.scenarios.tables import DataError, judgement_at

pytestmark = pytest.mark.skipif(
    not (SOURCE_DIR / FILES["sipri"]).is_file(), reason=f"source datasets not in {SOURCE_DIR}"
)


def _relations(sc: dict) -> dict:
    return sc["relations"]


# ---- validity --------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2000, 2010])
def test_world_validates_round_trips_and_runs(year: int, tmp_path: Path) -> None:
    sc = build_scenario(year)
    world = scenario_from_dict(sc)
    assert world.start == f"{year}-01"
    assert len(world.states) > 185
    path = write_scenario_yaml(sc, tmp_path / f"world_{year}.yaml")
    assert scenario_to_dict(load_scenario(str(path))) == scenario_to_dict(world)
    model = DiplomacyModel(world)
    for _ in range(3):
        model.step()
    assert np.isfinite(model.trust).all()
    assert any(s.startswith("capability:") and f"CINC {year - 1}" in s for s in sc["sources"])


@pytest.mark.parametrize("region", ["indo_pacific", "europe", "middle_east", "middle_powers"])
def test_regions_come_from_the_table(region: str) -> None:
    table = pd.read_csv(PROJECT_DATA / "regions.csv", keep_default_na=False)
    listed = list(table[(table.region == region) & (table.kind == "state")].value)
    sc = build_scenario(2010, region=region)
    assert [s["id"] for s in sc["states"]] == listed  # all of them existed in 2010
    scenario_from_dict(sc)


def test_arms_market_rule_picks_exporters_from_before_the_year() -> None:
    ids = region_members("arms_market", 2010)
    assert ids[:3] == ["USA", "RUS", "GMY"]  # SIPRI 2000-2009 ranking
    assert "IND" in ids and "CHN" in ids


def test_states_not_in_the_system_are_left_out_and_named() -> None:
    sc = build_scenario(2000, states=["USA", "MNG", "SSD", "IND"])
    assert [s["id"] for s in sc["states"]] == ["USA", "IND"]
    states_line = next(s for s in sc["sources"] if s.startswith("states:"))
    assert "MNG (not in the COW state system on 1 January 2000)" in states_line
    assert "SSD" in states_line


# ---- what each dataset contributes -----------------------------------------------------------


def test_pacts_are_those_in_force_before_the_year() -> None:
    """ATOP Y-1: ATOP codes Estonia's NATO obligations from 2003 (accession protocol signed
    in March 2003), so the 2003 world (ATOP 2002) has no US-Estonia pact and the 2004 world
    has one. Membership of the named alliance follows accession (29 March 2004)."""
    ids = ["USA", "EST", "GMY"]
    before, after, member = (build_scenario(y, states=ids) for y in (2003, 2004, 2005))
    assert _relations(before)["trust"]["EST-USA"] == 0.55  # a DCAD agreement, no pact
    assert _relations(after)["trust"]["EST-USA"] == 0.7
    assert "EST" not in after["alliances"].get("NATO", [])
    assert "EST" in member["alliances"]["NATO"]


def test_after_the_last_atop_year_the_builder_says_so() -> None:
    sc = build_scenario(2021, states=["USA", "JPN"])
    line = next(s for s in sc["sources"] if s.startswith("agreements"))
    assert "2018 (2 years stale)" in line
    assert _relations(sc)["trust"]["JPN-USA"] == 0.7


def test_judgement_changes_with_time() -> None:
    """Ukraine: non-bloc (N) until 2005, Western course (P) 2006-2010, non-bloc again
    2011-2014, partner (B) from 2015; the Philippines under Duterte (P) 2017-2022."""
    px = {y: judgement_at(y).position_x for y in (2000, 2008, 2012, 2016, 2018, 2024)}
    assert [px[y]["UKR"] for y in (2000, 2008, 2012, 2016)] == [0.0, 0.3, 0.0, 0.55]
    assert [px[y]["PHI"] for y in (2008, 2018, 2024)] == [0.55, 0.3, 0.55]
    sc = build_scenario(2012, states=["UKR", "RUS"])
    assert sc["states"][0]["position"][0] == 0.0


def test_judged_rivalries_start_in_their_year() -> None:
    ids = ["POL", "RUS", "CHN", "DRV"]
    early, late = (build_scenario(y, states=ids) for y in (2014, 2016))
    assert "POL-RUS" not in _relations(early)["hostility"]
    assert _relations(late)["hostility"]["POL-RUS"] == 0.5
    assert _relations(late)["hostility"]["CHN-DRV"] == 0.5


def test_dependency_and_interoperability_come_from_before_the_year() -> None:
    sc = build_scenario(2010, states=["IND", "RUS", "FRN", "ISR", "USA"])
    dep = _relations(sc)["dependency"]["IND"]
    assert max(dep, key=dep.get) == "RUS"  # India's main supplier 2000-2009
    assert sum(dep.values()) <= 1.0
    assert _relations(sc)["interoperability"]["IND-USA"] > 0  # Malabar etc. before 2010


# ---- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"year": 1980}, "year: expected a year in 1992.."),
        ({"year": 2010, "region": "asia"}, "region: expected one of"),
        ({"year": 2010, "states": ["USA", "XYZ"]}, "states: expected COW state ids"),
        ({"year": 2010, "region": "world", "states": ["USA"]}, "expected one of them"),
    ],
)
def test_bad_requests_fail_with_one_line(kwargs: dict, message: str) -> None:
    with pytest.raises(DataError) as exc:
        build_scenario(**kwargs)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_bad_judgement_row_names_file_line_and_column(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(PROJECT_DATA, data)
    path = data / "judgement_changes.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace(",align,", ",alignment,", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"judgement_changes.csv:2: attribute: expected one of"):
        build_scenario(2010, states=["USA"], data_dir=data)


def test_judgement_row_dated_before_its_event_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(PROJECT_DATA, data)
    path = data / "rivalries_judgement.csv"
    text = path.read_text().replace("POL,RUS,2015,", "POL,RUS,2014,")
    path.write_text(text)
    with pytest.raises(DataError, match=r"from_year: expected a year after the event \(2014-03\)"):
        build_scenario(2010, states=["USA"], data_dir=data)


def test_command_line_writes_a_loadable_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "ip.yaml"
    assert builder.main(["--year", "2010", "--region", "indo_pacific", "--out", str(out)]) == 0
    assert len(load_scenario(str(out)).states) == 22
    assert builder.main(["--year", "2010", "--region", "asia"]) == 2
    assert "region: expected one of" in capsys.readouterr().err


# ---- no look-ahead ---------------------------------------------------------------------------


def _perturb_sources(src: Path, dst: Path, year: int, rng: np.random.Generator) -> None:
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


def _perturb_tables(src: Path, dst: Path, year: int) -> None:
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


@pytest.mark.parametrize("year", [2000, 2010])
def test_no_data_from_the_year_or_later_is_used(year: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(year)
    _perturb_sources(SOURCE_DIR, tmp_path / "src", year, rng)
    _perturb_tables(PROJECT_DATA, tmp_path / "data", year)
    moved = {"source_dir": tmp_path / "src", "data_dir": tmp_path / "data"}
    assert build_scenario(year, **moved) == build_scenario(year)
    assert build_scenario(year, region="europe", **moved) == build_scenario(year, region="europe")
    # the perturbation is real: the next year's world sees it
    assert scenario_yaml(build_scenario(year + 1, **moved)) != scenario_yaml(
        build_scenario(year + 1)
    )
