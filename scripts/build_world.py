#!/usr/bin/env python
"""Generate scenarios/world.yaml: every state in data/states.csv (195), 600 steps.

    .venv/bin/python scripts/build_world.py

Relations follow the common rules in scripts/scenario_lib.py (alliances ->
agreements and trust, rivalries -> hostility, SIPRI shares -> dependency,
exercise ties -> interoperability). Named alliances, hotlines and events are
public record (severities/volumes judgement), written below.
"""

from __future__ import annotations

import sys

from build_scenarios import (
    GOVERNANCE_DEFAULT,
    SRC_EVENTS,
    SRC_GOVERNANCE,
    SRC_HOTLINES,
    ev,
    event_step,
    one_off,
)
from scenario_lib import (
    SCENARIOS,
    SOURCES_COMMON,
    SRC_ACCESS,
    SRC_AGREEMENTS,
    SRC_DEPENDENCY,
    SRC_HOSTILITY,
    SRC_INTEROP,
    SRC_TRUST,
    access_in_force,
    derive_relations,
    load_tables,
    render,
    state_entry,
    treaty_alliances,
)

END = "2067-12"  # step 599 with start 2018-01

NATO_2018 = [
    "USA",
    "CAN",
    "UKG",
    "FRN",
    "GMY",
    "ITA",
    "SPN",
    "POR",
    "NTH",
    "BEL",
    "LUX",
    "DEN",
    "NOR",
    "ICE",
    "GRC",
    "TUR",
    "POL",
    "CZR",
    "HUN",
    "SLO",
    "SLV",
    "EST",
    "LAT",
    "LIT",
    "ROM",
    "BUL",
    "ALB",
    "CRO",
    "MNG",
]
CSTO = ["RUS", "BLR", "ARM", "KZK", "KYR", "TAJ"]
QUAD = ["USA", "JPN", "IND", "AUL"]
EU = [
    "FRN",
    "GMY",
    "ITA",
    "SPN",
    "POR",
    "NTH",
    "BEL",
    "LUX",
    "DEN",
    "IRE",
    "GRC",
    "POL",
    "CZR",
    "HUN",
    "SLO",
    "SLV",
    "EST",
    "LAT",
    "LIT",
    "ROM",
    "BUL",
    "CRO",
    "AUS",
    "FIN",
    "SWD",
    "CYP",
    "MLT",
]
WEST_EXPORTERS = [
    "USA",
    "UKG",
    "FRN",
    "GMY",
    "ITA",
    "SPN",
    "NTH",
    "SWD",
    "NOR",
    "CAN",
    "CZR",
    "POL",
]
RUS_SANCTIONERS = sorted(
    set(
        EU
        + [
            "USA",
            "CAN",
            "UKG",
            "NOR",
            "ICE",
            "JPN",
            "AUL",
            "NEW",
            "ROK",
            "SIN",
            "TAW",
            "SWZ",
            "ALB",
            "MNG",
            "MAC",
        ]
    )
)

EVENTS = [
    ev(
        "EU (2014) and US arms restrictions on Russia; EU embargo on Belarus (2011)",
        step=0,
        type="embargo",
        suppliers=sorted(set(EU) & set(WEST_EXPORTERS)) + ["USA", "UKG", "CAN", "NOR"],
        targets=["RUS", "BLR"],
    ),
    ev(
        "UN Security Council arms embargo on North Korea (binding on every UN member)",
        step=0,
        type="embargo",
        suppliers=["USA", "RUS", "CHN"],  # main() sets every state but North Korea
        targets=["PRK"],
    ),
    ev(
        "UN arms embargo on Iran (UNSCR 2231), in force until October 2020",
        step=0,
        type="embargo",
        suppliers=["USA", "RUS", "CHN", "UKG", "FRN", "GMY", "ITA", "ROK", "ISR", "TUR"],
        targets=["IRN"],
    ),
    ev(
        "Sanctions on Russia after the annexation of Crimea; severity judgement",
        step=0,
        type="sanctions",
        by=sorted(set(EU + ["USA", "CAN", "UKG", "NOR", "JPN", "AUL"])),
        target="RUS",
        severity=0.3,
    ),
    ev(
        "Cobra Gold (Thailand, annual)",
        date="2018-02",
        type="exercise_program",
        name="Cobra Gold",
        participants=["THI", "USA", "SIN", "INS", "MAL", "JPN", "ROK"],
        kind="live",
        every=12,
        until=END,
        scale=1.0,
    ),
    ev(
        "Malabar as a trilateral until Australia rejoins",
        date="2018-06",
        type="exercise_program",
        name="Malabar",
        participants=["USA", "IND", "JPN"],
        kind="naval",
        every=12,
        until="2020-10",
        scale=1.0,
    ),
    ev(
        "RIMPAC (biennial); scale judgement",
        date="2018-06",
        type="exercise_program",
        name="RIMPAC",
        participants=[
            "USA",
            "AUL",
            "JPN",
            "ROK",
            "IND",
            "SIN",
            "MAL",
            "INS",
            "PHI",
            "THI",
            "DRV",
            "FRN",
            "NEW",
            "CAN",
            "UKG",
            "CHL",
            "MEX",
            "PER",
            "COL",
            "BRU",
            "SRI",
            "ISR",
            "GMY",
            "NTH",
            "DEN",
        ],
        kind="naval",
        every=24,
        until=END,
        scale=1.5,
    ),
    ev(
        "BALTOPS (annual, Baltic Sea)",
        date="2018-06",
        type="exercise_program",
        name="BALTOPS",
        participants=[
            "USA",
            "UKG",
            "FRN",
            "GMY",
            "POL",
            "DEN",
            "NOR",
            "NTH",
            "BEL",
            "EST",
            "LAT",
            "LIT",
            "FIN",
            "SWD",
            "CAN",
            "ITA",
            "SPN",
        ],
        kind="naval",
        every=12,
        until=END,
        scale=1.0,
    ),
    one_off("2018-09", "Vostok-2018", ["RUS", "CHN", "MON"], "live", 1.5, "Vostok-2018"),
    ev(
        "US 'maximum pressure' sanctions on Iran; severity judgement",
        date="2018-11",
        type="sanctions",
        by=["USA"],
        target="IRN",
        severity=0.8,
    ),
    ev(
        "Pulwama attack and Balakot strikes; severity judgement",
        date="2019-02",
        type="war_shock",
        states=["IND", "PAK"],
        severity=0.3,
    ),
    ev(
        "North Macedonia joins NATO (27 March 2020)",
        date="2020-03",
        type="join_alliance",
        state="MAC",
        alliance="NATO",
    ),
    ev(
        "Galwan valley clash; severity judgement",
        date="2020-06",
        type="war_shock",
        states=["CHN", "IND"],
        severity=0.3,
    ),
    ev(
        "Mali coup (August 2020; again May 2021); severity judgement",
        date="2020-08",
        type="coup",
        state="MLI",
        severity=0.6,
    ),
    ev(
        "Belarus: protests after the disputed election; severity judgement",
        date="2020-08",
        type="turmoil",
        state="BLR",
        severity=0.4,
    ),
    ev(
        "Second Nagorno-Karabakh war; severity judgement",
        date="2020-09",
        type="war_shock",
        states=["ARM", "AZE"],
        severity=0.6,
    ),
    ev(
        "UN arms embargo on Iran expires",
        date="2020-10",
        type="lift_embargo",
        suppliers=["RUS", "CHN"],
        targets=["IRN"],
    ),
    ev(
        "Malabar with Australia (November 2020 onwards)",
        date="2020-11",
        type="exercise_program",
        name="Malabar-Quad",
        participants=QUAD,
        kind="naval",
        every=12,
        until=END,
        scale=1.0,
    ),
    ev(
        "Ethiopia: Tigray war; severity judgement",
        date="2020-11",
        type="turmoil",
        state="ETH",
        severity=0.6,
    ),
    ev(
        "Myanmar military coup; severity judgement",
        date="2021-02",
        type="coup",
        state="MYA",
        severity=0.7,
    ),
    ev(
        "Chad: military council takes power after Deby's death; severity judgement",
        date="2021-04",
        type="coup",
        state="CHA",
        severity=0.5,
    ),
    ev(
        "Afghanistan: Taliban takeover; severity judgement",
        date="2021-08",
        type="coup",
        state="AFG",
        severity=0.9,
    ),
    ev("Guinea coup; severity judgement", date="2021-09", type="coup", state="GUI", severity=0.6),
    ev(
        "Zapad (Russia-Belarus, every four years)",
        date="2021-09",
        type="exercise_program",
        name="Zapad",
        participants=["RUS", "BLR"],
        kind="live",
        every=48,
        until=END,
        scale=1.5,
    ),
    ev("Sudan coup; severity judgement", date="2021-10", type="coup", state="SUD", severity=0.6),
    ev(
        "Burkina Faso coup (January 2022; again September 2022); severity judgement",
        date="2022-01",
        type="coup",
        state="BFO",
        severity=0.6,
    ),
    ev(
        "Russia's full-scale invasion of Ukraine",
        date="2022-02",
        type="war_shock",
        states=["RUS", "UKR"],
        severity=1.0,
    ),
    ev(
        "Sanctions on Russia after the invasion; severity judgement",
        date="2022-03",
        type="sanctions",
        by=RUS_SANCTIONERS,
        target="RUS",
        severity=0.8,
    ),
    ev(
        "Export bans on military goods to Russia by further suppliers",
        date="2022-03",
        type="embargo",
        suppliers=["JPN", "ROK", "AUL", "SWZ", "TAW", "SIN"],
        targets=["RUS"],
    ),
    ev(
        "Western military aid to Ukraine (main donors); volume per supplier per month, judgement",
        date="2022-03",
        type="arms_program",
        suppliers=[
            "USA",
            "UKG",
            "GMY",
            "POL",
            "FRN",
            "CAN",
            "NTH",
            "DEN",
            "NOR",
            "CZR",
            "SWD",
            "FIN",
        ],
        recipient="UKR",
        volume=0.3,
        every=1,
        until="2025-12",
    ),
    ev(
        "Sri Lanka: economic collapse and protests; severity judgement",
        date="2022-07",
        type="turmoil",
        state="SRI",
        severity=0.5,
    ),
    ev(
        "China-Japan maritime and aerial communication hotline (March 2023)",
        date="2023-03",
        type="hotline",
        states=["CHN", "JPN"],
    ),
    ev(
        "Finland joins NATO (4 April 2023)",
        date="2023-04",
        type="join_alliance",
        state="FIN",
        alliance="NATO",
    ),
    ev(
        "Sudan: war between the army and the RSF; severity judgement",
        date="2023-04",
        type="turmoil",
        state="SUD",
        severity=0.6,
    ),
    ev("Niger coup; severity judgement", date="2023-07", type="coup", state="NIR", severity=0.6),
    ev("Gabon coup; severity judgement", date="2023-08", type="coup", state="GAB", severity=0.5),
    ev(
        "Sweden joins NATO (7 March 2024)",
        date="2024-03",
        type="join_alliance",
        state="SWD",
        alliance="NATO",
    ),
    ev(
        "First direct Iran-Israel exchange of strikes; severity judgement",
        date="2024-04",
        type="war_shock",
        states=["ISR", "IRN"],
        severity=0.5,
    ),
    ev(
        "Russia-DPRK Comprehensive Strategic Partnership: Russia stops observing the embargo",
        date="2024-06",
        type="lift_embargo",
        suppliers=["RUS"],
        targets=["PRK"],
    ),
    ev(
        "Bangladesh: Hasina government ousted; severity judgement",
        date="2024-08",
        type="turmoil",
        state="BNG",
        severity=0.5,
    ),
    ev(
        "Fall of the Assad government; severity judgement. The new government turns from "
        "Assad's backers: Iranian forces leave, the Tartus port lease is cancelled (January "
        "2025) and Russia's bases are in question (judgement)",
        date="2024-12",
        type="coup",
        state="SYR",
        severity=0.8,
        against=["RUS", "IRN"],
    ),
    ev(
        "Pahalgam attack and Operation Sindoor; severity judgement",
        date="2025-05",
        type="war_shock",
        states=["IND", "PAK"],
        severity=0.4,
    ),
    ev(
        "Israel-Iran war; severity judgement",
        date="2025-06",
        type="war_shock",
        states=["ISR", "IRN"],
        severity=0.8,
    ),
    ev(
        "US strikes on Iranian nuclear sites; severity judgement",
        date="2025-06",
        type="war_shock",
        states=["USA", "IRN"],
        severity=0.4,
    ),
]


def main() -> int:
    t = load_tables()
    ids = list(t.states.index)
    alliances = treaty_alliances({"NATO": NATO_2018, "CSTO": CSTO, "Quad": QUAD})
    rel = derive_relations(t, ids, alliances)
    rel.hotlines = [("CHN", "USA", ""), ("IND", "PAK", ""), ("RUS", "USA", "")]
    rel.access = access_in_force(ids)
    states = [state_entry(t, s) for s in ids]
    sources = [
        "states: all 195 members of the COW state system at the end of 2016 (COW State System 2016; "
        "data/states.csv)"
    ]
    sources += SOURCES_COMMON + [
        SRC_TRUST,
        SRC_INTEROP,
        SRC_HOSTILITY,
        SRC_AGREEMENTS,
        SRC_DEPENDENCY,
        "alliances: NATO membership at 2018-01, CSTO members (public record); the Quad is a "
        "consultative dialogue, not an alliance (judgement, data/groupings_judgement.csv)",
        SRC_HOTLINES,
        SRC_ACCESS,
        SRC_GOVERNANCE,
        SRC_EVENTS,
    ]
    start = "2018-01"
    events = sorted(EVENTS, key=lambda e: event_step(e[0], start))
    for event, _ in events:  # the UN embargo binds every UN member, not only the listed
        if event["type"] == "embargo" and event["targets"] == ["PRK"]:
            event["suppliers"] = [s for s in ids if s != "PRK"]
    sc = dict(
        name="World",
        description="""
            Every state of the COW state system (195), initialised from the derived tables: formal alliances
            (ATOP 2018) and defence cooperation agreements (DCAD) give agreements and trust, strategic rivalries
            (TSS) give hostility, SIPRI arms-supply shares give dependency and shared multinational exercises
            (MME) give interoperability. For global questions: how many blocs emerge over fifty years, who
            hedges, and how regional crises propagate through partners (entanglement).""",
        sources=sources,
        time_unit="month",
        start=start,
        steps=600,
        seed=20180100,
        parameters={},
        governance=GOVERNANCE_DEFAULT,
        alliances=alliances,
        states=states,
        relations=rel,
        events=events,
    )
    comments = {
        "header": "Generated by scripts/build_world.py from the tables in data/ -- edit the script, not this file.\n"
        "Rules: data/README.md ('From tables to scenarios'). State lines: data/states.csv and\n"
        "data/judgement.csv. Per-line provenance is omitted here to keep the file small; the regional\n"
        "files carry it.",
        "relations": f"{len(rel.dormant)} formal ties treated as dormant (alignment gap > 1.2) are left out.",
        "events": "Dates are public record; severities, volumes, scales and cadences are judgement.",
    }
    text = render(sc, comments, line_comments=False)
    path = SCENARIOS / "world.yaml"
    path.write_text(text, encoding="utf-8")
    print(
        f"{path}: {len(text) / 1024:.1f} KB; trust {len(rel.trust)}, interoperability "
        f"{len(rel.interoperability)}, hostility {len(rel.hostility)}, agreements {len(rel.agreements)}, "
        f"dependency rows {len(rel.dependency)}, dormant {len(rel.dormant)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
