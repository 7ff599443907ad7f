#!/usr/bin/env python
"""Write data/judgement.csv: the authors' judgement attributes of every state.

position (2-D ideal point), autonomy, stability and governance have no source
in the reference datasets, so they are judgement. To keep them consistent
across all scenarios, every state gets five letter/number codes, written once
below, and the numbers follow from fixed code -> value tables (CODE_VALUES).
Scenarios (hand-written or generated) take these numbers from
data/judgement.csv and from nowhere else.

The codes describe the situation around 2018-2022 (the scenarios start in
2018-01); later changes (coups, accession to alliances) are scenario events.

    .venv/bin/python scripts/make_judgement.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent.parent / "data"

# code -> value tables (documented in data/README.md)
CODE_VALUES = {
    # position[0]: alignment with the US-led order
    "align": {
        "U": 0.95,  # the United States itself
        "A": 0.75,  # core treaty ally (NATO core, Japan, Australia, ROK, ...)
        "B": 0.55,  # ally or close partner with a standing security tie (bases, MNNA, aspirant)
        "P": 0.30,  # US-leaning partner, or ally that hedges visibly
        "N": 0.00,  # non-aligned / balanced
        "L": -0.30,  # leaning to China or Russia (arms, bases, CSTO/SCO ties)
        "O": -0.60,  # aligned with China/Russia
        "C": -0.85,  # principal challenger or open adversary of the US-led order
    },
    # position[1]: democracy (+) / autocracy (-)
    "regime": {
        "F": 0.85,  # liberal democracy
        "D": 0.55,  # electoral democracy
        "H": 0.10,  # hybrid regime
        "A": -0.45,  # electoral or competitive autocracy, liberalised monarchy
        "C": -0.85,  # closed autocracy
    },
    # stability: 1 consolidated ... 5 conflict / state collapse
    "stab": {1: 0.90, 2: 0.75, 3: 0.60, 4: 0.45, 5: 0.25},
    # governance (institutional quality / absorptive capacity): 1 very high ... 5 very low
    "gov": {1: 0.90, 2: 0.75, 3: 0.55, 4: 0.40, 5: 0.25},
    # autonomy (preference for strategic autonomy): 1 bandwagons on a patron ... 5 non-aligned doctrine
    "aut": {1: 0.10, 2: 0.25, 3: 0.45, 4: 0.65, 5: 0.85},
}

# id align regime stability governance autonomy | note
CODES = """
USA U F 2 1 1 | hub of the US-led order; polarised domestic politics
CAN A F 1 1 2 | NATO, NORAD
BHM P D 2 3 3 | Caribbean, US-leaning
CUB O C 3 4 4 | one-party state, Russia/China-friendly
HAI P H 5 5 3 | state fragility
DOM P D 3 3 3 |
JAM P D 3 3 3 |
TRI P D 3 3 3 |
BAR P F 2 3 3 |
DMA P D 2 3 3 |
GRN P D 2 3 3 |
SLU P D 2 3 3 |
SVG P D 2 3 3 |
AAB P D 2 3 3 |
SKN P D 2 3 3 |
MEX P D 3 3 4 | non-intervention doctrine
BLZ P D 3 4 3 |
GUA P D 3 4 3 |
HON P H 4 4 3 |
SAL P H 3 4 3 |
NIC O A 3 4 4 | Ortega government
COS P F 2 2 3 | no army
PAN P D 3 3 3 |
COL B D 3 3 2 | NATO global partner (2018), US security partner
VEN O A 5 5 4 | Russia/China-supplied, crisis
GUY P D 3 4 3 |
SUR N D 3 4 3 |
ECU P D 3 4 3 |
PER P D 4 3 3 |
BRA N D 3 3 4 | BRICS, autonomist tradition
BOL N D 4 4 4 |
PAR P D 3 4 3 |
CHL B F 2 2 3 |
ARG P D 3 3 3 | major non-NATO ally
URU P F 2 2 3 |
UKG A F 2 1 1 | NATO, Five Eyes
IRE P F 1 1 4 | military neutrality
NTH A F 1 1 2 | NATO
BEL A F 2 1 2 | NATO
LUX A F 1 1 2 | NATO
FRN A F 2 1 3 | NATO; strategic-autonomy doctrine
MNC P F 1 2 3 |
LIE P F 1 2 3 |
SWZ P F 1 1 5 | permanent neutrality
SPN A F 2 2 2 | NATO
AND P F 1 2 3 |
POR A F 1 2 2 | NATO
GMY A F 1 1 2 | NATO
POL A F 2 2 1 | NATO front-line state
AUS P F 1 1 4 | military neutrality
HUN P H 2 3 3 | NATO member that hedges towards Russia/China
CZR A F 2 2 2 | NATO
SLO A D 2 2 2 | NATO (Slovakia)
ITA A F 3 2 2 | NATO
SNM P F 1 3 3 |
MLT P F 2 2 4 | neutrality
ALB A D 3 3 1 | NATO
MNG B D 3 3 2 | NATO since 2017 (Montenegro)
MAC B D 3 3 2 | NATO since 2020 (North Macedonia)
CRO A D 2 2 2 | NATO
YUG N H 3 3 4 | Serbia: military neutrality, close ties to Russia
BOS N D 4 4 3 | divided polity
KOS B D 4 4 2 | US-backed
SLV A F 2 2 2 | NATO (Slovenia)
GRC A F 3 2 2 | NATO
CYP P F 2 2 3 | EU, not NATO
BUL B D 3 3 2 | NATO
MLD P D 4 4 3 | neutral by constitution, EU-leaning
ROM A D 2 3 1 | NATO front-line state
RUS C A 3 4 3 | challenger of the US-led order
EST A F 2 1 1 | NATO front-line state
LAT A F 2 2 1 | NATO front-line state
LIT A F 2 2 1 | NATO front-line state
UKR B D 4 4 2 | NATO aspirant; war with Russia since 2014
BLR O A 3 4 2 | Union State with Russia
ARM L D 4 3 3 | CSTO member, Russian base; democratising after 2018
GRG P D 4 3 2 | NATO aspirant with wavering government
AZE N A 3 4 4 | multi-vector, close to Turkey
FIN B F 1 1 3 | EU, NATO partner until 2023
SWD B F 1 1 3 | EU, NATO partner until 2024
NOR A F 1 1 2 | NATO
DEN A F 1 1 2 | NATO
ICE A F 1 1 2 | NATO
CAP N D 2 3 3 |
STP N D 3 4 3 |
GNB N H 5 5 3 |
EQG N C 3 5 3 |
GAM N D 3 4 3 |
MLI N H 5 5 3 | coups 2020/2021 are scenario events
SEN P D 2 3 3 |
BEN N D 3 4 3 |
MAA N A 3 4 3 |
NIR P H 4 5 3 | US/French partner until 2023 coup
CDI P H 3 4 3 |
GUI N A 4 5 3 |
BFO N H 5 5 3 |
LBR P D 3 4 3 |
SIE N D 3 4 3 |
GHA P D 2 3 3 |
TOG N A 3 4 3 |
CAO N A 4 4 3 |
NIG N D 4 4 3 |
GAB N A 3 4 3 |
CEN L H 5 5 3 | Russian security presence since 2018
CHA P A 4 5 3 | French/US partner
CON N A 3 4 3 |
DRC N H 5 5 3 |
UGA N A 3 4 3 |
KEN P D 3 3 3 |
TAZ N H 2 4 3 |
BUI N A 4 5 3 |
RWA N A 2 3 3 |
SOM P H 5 5 2 | depends on external security assistance
DJI N A 3 4 4 | hosts US, French, Chinese, Japanese bases
ETH N A 4 4 3 |
ERI L C 3 4 4 |
ANG N A 3 4 3 |
MZM N H 4 4 3 |
ZAM N H 3 4 3 |
ZIM L A 4 4 3 |
MAW N D 3 4 3 |
SAF N D 3 3 4 | BRICS, non-aligned
NAM N D 2 3 3 |
LES N D 4 4 3 |
BOT P D 2 2 3 |
SWA N C 3 4 3 |
MAG N H 4 4 3 |
COM N H 4 5 3 |
MAS N D 2 2 3 |
SEY N D 2 3 3 |
MOR P H 2 3 3 | major non-NATO ally
ALG L A 3 4 4 | Russian-supplied, non-aligned doctrine
TUN P D 3 3 3 | major non-NATO ally
LIB N A 5 5 3 | civil war
SUD N A 5 5 3 |
SSD N A 5 5 3 |
IRN C A 3 4 4 | adversary of the US and Israel
TUR P H 3 3 4 | NATO member that hedges (S-400, drones)
IRQ N H 4 5 3 | between the US and Iran
EGY P A 3 4 4 | major non-NATO ally; diversified suppliers
SYR O A 5 5 2 | civil war; dependent on Russia and Iran
LEB N H 5 4 3 |
JOR B H 3 3 2 | close US partner, hosts US forces
ISR A D 3 2 2 | closest US partner in the region
SAU P C 2 3 4 | US partner that hedges (China, Russia/OPEC+)
YEM N A 5 5 3 | civil war
KUW B A 2 3 2 | hosts US forces
BAH B A 3 3 2 | hosts US Fifth Fleet
QAT B A 1 2 3 | hosts Al Udeid; Turkish base
UAE P C 1 2 4 | US and French bases, hedges towards China
OMA P A 2 3 4 | mediator, neutral tradition
AFG B H 5 5 2 | Republic until August 2021 (Taliban takeover is a scenario event)
TKM N C 3 4 5 | permanent neutrality
TAJ L C 3 4 2 | CSTO, Russian base
KYR L H 4 4 2 | CSTO, Russian base
UZB N C 3 4 4 |
KZK L A 3 3 4 | CSTO, multi-vector policy
CHN C C 2 3 3 | challenger of the US-led order
MON N D 3 3 4 | 'third neighbour' policy
TAW B F 2 2 1 | dependent on US support
PRK C C 3 5 3 | open adversary
ROK A F 2 2 3 | US treaty ally, middle power
JPN A F 1 1 2 | US treaty ally
IND P D 2 3 5 | Quad member with strategic-autonomy doctrine
BHU N D 1 3 2 | close to India
PAK L H 4 4 3 | 'iron brother' of China, former US ally
BNG N H 3 4 4 |
MYA N H 4 4 4 | coup 2021 is a scenario event
SRI N D 3 3 4 |
MAD N D 3 4 3 |
NEP N D 3 4 4 |
THI P H 3 3 4 | US treaty ally, military-led, hedges
CAM L A 2 4 2 | closest Chinese partner in ASEAN
LAO L C 2 4 2 |
DRV N C 2 3 5 | 'four no's' defence policy
MAL N D 3 3 4 |
SIN P H 1 1 4 | close US partner without a treaty
BRU N A 1 3 4 |
PHI B D 3 4 3 | US treaty ally; hedging under Duterte (2016-2022)
INS N D 2 3 5 | 'free and active' doctrine
ETM P D 3 4 3 |
AUL A F 1 1 2 | US treaty ally
PNG P D 4 4 3 |
NEW B F 1 1 3 | Five Eyes, independent foreign policy
VAN N D 3 4 3 |
SOL N D 4 4 3 | security pact with China (2022)
KIR N D 3 4 3 |
TUV P D 2 4 3 |
FIJ N H 3 3 3 |
TON P D 3 4 3 |
NAU P D 3 4 3 |
MSI B D 2 4 1 | Compact of Free Association
PAL B D 2 4 1 | Compact of Free Association
FSM B D 2 4 1 | Compact of Free Association
WSM N D 2 3 3 |
"""


def parse() -> pd.DataFrame:
    rows = []
    for line in CODES.strip().splitlines():
        body, _, note = line.partition("|")
        sid, al, rg, st, gv, au = body.split()
        v = CODE_VALUES
        rows.append(
            {
                "id": sid,
                "align": al,
                "regime": rg,
                "stab": int(st),
                "gov": int(gv),
                "aut": int(au),
                "position_x": v["align"][al],
                "position_y": v["regime"][rg],
                "autonomy": v["aut"][int(au)],
                "stability": v["stab"][int(st)],
                "governance": v["gov"][int(gv)],
                "note": note.strip(),
            }
        )
    return pd.DataFrame(rows)


def main() -> int:
    j = parse()
    states = pd.read_csv(DATA / "states.csv")
    dup = j.id[j.id.duplicated()].tolist()
    missing = sorted(set(states.id) - set(j.id))
    extra = sorted(set(j.id) - set(states.id))
    if dup or missing or extra:
        print(f"duplicates {dup}, missing {missing}, unknown {extra}", file=sys.stderr)
        return 1
    j = j.set_index("id").loc[states.id].reset_index()
    j.insert(1, "name", states.name.values)
    j.to_csv(DATA / "judgement.csv", index=False, lineterminator="\n")
    print(f"judgement.csv {len(j)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
