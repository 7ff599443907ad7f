"""Shared rules for turning the derived tables in data/ into scenario YAML.

Used by scripts/build_scenarios.py (regional files) and scripts/build_world.py
(world.yaml), so every generated scenario applies the same rules. The rules
themselves live in sim/scenarios/rules.py (shared with the year-Y builder,
sim/scenarios/builder.py) and are documented in data/README.md ("From tables to
scenarios"); this module adds the source texts of the shipped 2018 scenarios.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from sim.scenarios.rules import (  # noqa: F401  (re-exported for the build scripts)
    DEP_MIN,
    DEP_TOP,
    DORMANT_GAP,
    INTEROP_BASING,
    INTEROP_CAP,
    INTEROP_LAPSED,
    INTEROP_MIN,
    INTEROP_PACT_BONUS,
    INTEROP_SCALE,
    PROJECT_DATA,
    TRUST_AGREEMENT,
    TRUST_DEFENSE,
    TRUST_RIVAL,
    TRUST_RIVAL_WITH_PACT,
    Relations,
    Tables,
    comment_lines,
    derive_relations,
    floor_to,
    flow,
    num,
    pair,
    q,
    render,
    state_entry,
)
from sim.scenarios.tables import judged_access, judged_rivalries

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SCENARIOS = ROOT / "scenarios"

SRC_STATES = (
    "capability: COW NMC v7.0 CINC {cinc_year} (Singer, Bremer & Stuckey 1972), "
    "divided by the largest CINC that year (CHN) so the strongest state = 1 (data/states.csv)"
)
SOURCES_COMMON = [
    SRC_STATES.format(cinc_year=2022),
    "budget: 0.05 + 2.95*sqrt(milex/max milex), COW NMC v7.0 military expenditure, latest year "
    "available (2022 for most states) (data/states.csv); the formula is the authors' choice",
    "arms_industry: sqrt of the state's share of delivered SIPRI TIV 2015-2024 relative to the top "
    "exporter (USA = 1); SIPRI Arms Transfers Database, (c) SIPRI (data/states.csv)",
    "location: capital latitude/longitude, COW capitals via the peacesciencer R package (data/states.csv)",
    "position, autonomy, stability, governance: judgement of the authors, coded once per state in "
    "data/judgement.csv (code tables in data/README.md) and reused in every scenario",
]
SRC_TRUST = (
    "trust: rule on formal ties and rivalries: ATOP v5.1 2018 defense pact 0.70, consultation pact "
    "or DCAD v1.0 agreement in force 2010 or membership of a scenario alliance or basing 0.55 (Leeds et al. 2002; "
    "Kinne 2020), TSS strategic rivalry ongoing at 2020 0.15, or 0.30 when rivals also share a formal tie "
    "(Thompson, Sakuwa & Suhas 2022); ties between states whose judged alignment differs by > 1.2 are "
    "treated as dormant; other pairs are left to the model default (data/alliances_2018.csv, "
    "data/agreements_dcad.csv, data/rivalries.csv)"
)
SRC_INTEROP = (
    "interoperability: 1 - exp(-w/10) with w = MME v7 exercises 2000-2010 shared by the pair, each "
    "weighted 1/(participants-1) (D'Orazio & Galambos; data/exercise_ties.csv), +0.1 with an active "
    "ATOP 2018 defense pact, capped at 0.8, halved for rivals and dormant pairs"
)
SRC_HOSTILITY = (
    "hostility: TSS strategic rivalries ongoing at the data's end (2020): 0.5 + 0.2 per rivalry type "
    "beyond the first, max 0.9 (Thompson, Sakuwa & Suhas 2022; data/rivalries.csv), plus the "
    "rivalries TSS misses that were in force in 2018, judgement with a public-record reason each "
    "(data/rivalries_judgement.csv)"
)
SRC_AGREEMENTS = (
    "agreements: ATOP v5.1 2018 defense or consultation pacts and DCAD v1.0 agreements in force in "
    "2010 between scenario states (not dormant, not already co-members of a scenario alliance) "
    "(data/alliances_2018.csv, data/agreements_dcad.csv)"
)
SRC_DEPENDENCY = (
    "dependency: SIPRI Arms Transfers Database (c) SIPRI, share of the importer's delivered TIV "
    "2015-2024 by supplier, top 4 suppliers present in the scenario with share >= 0.02, rounded "
    "down, suppliers that are TSS rivals of the importer dropped (e.g. Ukraine for Russia) "
    "(data/arms_supply_shares.csv); shares of suppliers outside the scenario are left out"
)


SCENARIO_YEAR = 2018  # the shipped scenarios start in 2018-01


def treaty_alliances(groupings: dict[str, list[str]], data: Path = PROJECT_DATA) -> dict:
    """The named groupings of a scenario that are alliances (a mutual-defence commitment),
    by data/groupings_judgement.csv (judgement, each with its public-record reason): a
    consultative grouping such as the Quad is not entered as an alliance. A grouping
    missing from the table is an error, so every named alliance has its reason."""
    table = pd.read_csv(data / "groupings_judgement.csv", keep_default_na=False)
    kind = dict(zip(table.grouping, table.commitment, strict=True))
    missing = sorted(set(groupings) - set(kind))
    if missing:
        raise SystemExit(f"data/groupings_judgement.csv: no row for grouping(s) {missing}")
    return {g: members for g, members in groupings.items() if kind[g] == "alliance"}


SRC_ACCESS = (
    "access: access and basing rights of data/access_judgement.csv in force in 2018 "
    "(judgement, each with its public-record reason)"
)


def access_in_force(
    ids: list[str], data: Path = PROJECT_DATA, year: int = SCENARIO_YEAR
) -> dict[tuple[str, str], tuple[float, str]]:
    """(provider, host) -> (access, reason) of data/access_judgement.csv for the pairs of
    `ids` in force on 1 January of `year` (judgement, public-record reasons)."""
    t = judged_access(data)
    t = t[(t.from_year <= year) & (t.to_year.isna() | (t.to_year >= year))]
    idset = set(ids)
    return {
        (r.provider, r.host): (r.access, f"judgement: {r.reason}")
        for r in t.itertuples()
        if r.provider in idset and r.host in idset
    }


def load_tables(data: Path = PROJECT_DATA, year: int = SCENARIO_YEAR) -> Tables:
    """The derived tables as the shipped scenarios use them: `Tables.load` with the TSS
    rivalries plus those of data/rivalries_judgement.csv in force on 1 January of `year`
    (judgement, each with its public-record reason; TSS wins where both name a pair): the
    rivalries TSS misses for the years the scenarios cover (issue 14)."""
    t = Tables.load(data)
    j = judged_rivalries(data)
    j = j[(j.from_year <= year) & (j.to_year.isna() | (j.to_year >= year))]
    tss = t.rivalries
    known = set(zip(tss.a, tss.b, strict=True))
    j = j[[(a, b) not in known for a, b in zip(j.a, j.b, strict=True)]]
    judged = pd.DataFrame(
        {
            "a": j.a,
            "b": j.b,
            "rivalry": j.reason,
            "types": j.types,
            "hostility": j.hostility,
            "judged": True,
        }
    )
    rivalries = pd.concat([tss.assign(judged=False), judged], ignore_index=True)
    return dataclasses.replace(t, rivalries=rivalries)
