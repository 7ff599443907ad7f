"""Tests for sim.scenarios.builder: scenarios of year Y from data before Y only.

The no-look-ahead test copies the source datasets and the project tables, perturbs
every row dated Y or later (tests/lookahead.py) and checks that the built scenario
does not change, while the scenario of Y + 1 does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core.model import DiplomacyModel
from sim.scenarios.builder import build_scenario, region_members, scenario_yaml, write_scenario_yaml
from sim.scenarios.loader import load_scenario, scenario_from_dict, scenario_to_dict
from sim.scenarios.rules import PROJECT_DATA
from sim.scenarios.sources import FILES, SOURCE_DIR
from sim.scenarios.tables import DataError, judgement_at
from tests.lookahead import perturb_sources, perturb_tables

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


def test_judgement_changes_reproduce_the_base_table_in_2020() -> None:
    """The base table describes about 2018-2022: in 2020 the year-aware table differs
    from it only where data/README.md says so (the Philippines under Duterte)."""
    base = pd.read_csv(PROJECT_DATA / "judgement.csv", dtype=str, keep_default_na=False)
    base = base.set_index("id")
    now = judgement_at(2020)
    codes = ["align", "regime", "stab", "gov", "aut"]
    differ = {
        (i, c) for i in base.index for c in codes if str(base.loc[i, c]) != str(now.loc[i, c])
    }
    assert differ == {("PHI", "align"), ("PHI", "aut")}


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


def test_bad_access_row_names_file_line_and_column(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(PROJECT_DATA, data)
    path = data / "access_judgement.csv"
    path.write_text(path.read_text().replace("USA,QAT,1.0,", "USA,QAT,high,", 1))
    with pytest.raises(
        DataError,
        match=r"access_judgement.csv:2: access: expected a number in \[0, 1\], got 'high'",
    ) as exc:
        build_scenario(2010, states=["USA", "QAT"], data_dir=data)
    assert "\n" not in str(exc.value)


def test_judged_access_reaches_a_built_scenario() -> None:
    """data/access_judgement.csv rows in force at the year: Al Udeid from 2003, not in 2000."""
    assert build_scenario(2010, states=["USA", "QAT"])["relations"]["access"] == {"USA>QAT": 1.0}
    assert "access" not in build_scenario(2000, states=["USA", "QAT"])["relations"]


def test_judgement_row_dated_before_its_event_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(PROJECT_DATA, data)
    path = data / "rivalries_judgement.csv"
    text = path.read_text().replace("POL,RUS,2015,", "POL,RUS,2014,")
    path.write_text(text)
    with pytest.raises(DataError, match=r"from_year: expected a year after the event \(2014-03\)"):
        build_scenario(2010, states=["USA"], data_dir=data)


def test_ddsim_build_writes_a_loadable_file(tmp_path: Path, cli) -> None:
    out = tmp_path / "ip.yaml"
    done = cli("build", "--year", "2010", "--region", "indo_pacific", "--out", out)
    assert done.returncode == 0, done.stderr
    assert len(load_scenario(str(out)).states) == 22
    printed = cli("build", "--year", "2005", "--states", "USA,CHN")
    assert printed.returncode == 0 and 'start: "2005-01"' in printed.stdout
    bad = cli("build", "--year", "2010", "--region", "asia")
    assert bad.returncode == 2 and bad.stderr.startswith("region: expected one of")
    assert bad.stderr.count("\n") == 1


# ---- no look-ahead ---------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2000, 2010])
def test_no_data_from_the_year_or_later_is_used(year: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(year)
    perturb_sources(SOURCE_DIR, tmp_path / "src", year, rng)
    perturb_tables(PROJECT_DATA, tmp_path / "data", year)
    moved = {"source_dir": tmp_path / "src", "data_dir": tmp_path / "data"}
    assert build_scenario(year, **moved) == build_scenario(year)
    assert build_scenario(year, region="europe", **moved) == build_scenario(year, region="europe")
    # the perturbation is real: the next year's world sees it
    assert scenario_yaml(build_scenario(year + 1, **moved)) != scenario_yaml(
        build_scenario(year + 1)
    )
