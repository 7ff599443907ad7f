"""Build the world as it stood at the start of a year, from the source datasets alone.

    from sim.scenarios.builder import build_scenario, write_scenario_yaml
    world = build_scenario(2010)                       # every state in the system
    asia = build_scenario(2010, region="indo_pacific")  # a region of data/regions.csv
    pair = build_scenario(2010, states=["USA", "CHN"])
    write_scenario_yaml(asia, "indo_pacific_2010.yaml")

`build_scenario(Y)` returns a plain dict in the scenario format of docs/scenarios.md,
starting in January of Y. It uses only data from years before Y (tests/test_builder.py
moves every row of later years and checks that the result does not change):

- states: COW system members on 1 January of Y (the list ends in 2016; later years
  use the members at its end);
- capability: CINC share of Y-1 / largest CINC of Y-1 (COW NMC); budget from the
  latest military expenditure up to Y-1 (0.05 + 2.95 sqrt(milex / max milex));
- arms_industry: sqrt of the state's share of SIPRI TIV exported in Y-10..Y-1;
- location: the capital in use on 1 January of Y;
- position, autonomy, stability, governance: data/judgement.csv with the changes of
  data/judgement_changes.csv up to Y (`sim.scenarios.tables.judgement_at`);
- defence pacts: ATOP at Y-1 (the dyad-year Y would already hold the pacts signed
  during Y, such as NATO's enlargements of March 1999 and 2004); after 2018 the last
  ATOP year, 2018, said so in `sources`;
- named alliances: NATO and CSTO members on 1 January of Y (data/alliance_members.csv);
- rivalries: TSS rivalries ongoing at Y (started before Y; an end coded 2020 is the
  data's end, read as ongoing) plus data/rivalries_judgement.csv;
- interoperability: MME exercises before Y, participant-weighted, decayed by age;
- agreements: DCAD agreements signed before Y and not ended by Y (after 2010: those
  in force at the end of 2010, the data's end);
- dependency: SIPRI deliveries Y-10..Y-1, decayed by age, as shares of each
  recipient's imports.

The relation rules (trust levels, dormant ties, interoperability, top suppliers) are
those of the shipped scenarios, in `sim.scenarios.rules`. The builder writes no
events or hotlines: those are hand-written per scenario. Access and basing rights come
from data/access_judgement.csv (judgement, each row with its public-record reason), the
rows in force at Y.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.scenarios import rules
from sim.scenarios.rules import Tables, derive_relations, flow, q, state_entry
from sim.scenarios.sources import CITATION, Sources, load_sources
from sim.scenarios.tables import (
    PROJECT_DATA,
    DataError,
    alliances_at,
    judged_access,
    judged_rivalries,
    judgement_at,
    read_regions,
    rivalry_hostility,
)

FIRST_YEAR = 1992  # ATOP starts in 1990 and the world after the USSR in 1992
STEPS_DEFAULT = 120  # ten years of monthly steps
ARMS_WINDOW = 10  # years of SIPRI deliveries before Y behind dependency and arms_industry
# Yearly retention of arms stocks and exercise ties: the model's default stock_decay and
# interop_decay (0.01 a month) compounded over a year, 0.99 ** 12 = 0.886 (half-life 5.7 y).
YEARLY_RETENTION = 0.99**12
BUDGET_FLOOR, BUDGET_SPAN = 0.05, 2.95  # as scripts/derive_data.py
RIVALRY_TYPES = ("positional", "spatial", "ideological", "interventionary")


@dataclass(frozen=True)
class YearInputs:
    """What the builder derived for year Y: the rule inputs, and what was left out."""

    year: int
    ids: list[str]
    tables: Tables
    alliances: dict[str, list[str]]
    years_used: dict[str, str]  # dataset -> the years it contributed, for `sources`
    dropped: dict[str, str]  # requested id -> why it is not in the scenario
    access: dict[tuple[str, str], float] = field(default_factory=dict)  # judged, in force at Y


# ---- states in a year ------------------------------------------------------------------------


def _check_year(year: int, src: Sources) -> None:
    last = src.coverage.sipri[1] + 1
    if not isinstance(year, int | np.integer) or not FIRST_YEAR <= year <= last:
        raise DataError(f"year: expected a year in {FIRST_YEAR}..{last}, got {year!r}")


def states_in_system(year: int, src: Sources) -> list[str]:
    """COW system members on 1 January of `year`, in ccode order. The membership list ends
    on 31 December 2016; a membership running to that day counts as ongoing."""
    day = pd.Timestamp(year=year, month=1, day=1)
    end_of_data = src.states.end.max()
    st = src.states
    on = st[(st.start < day) & ((st.end >= day) | (st.end == end_of_data))]
    return list(on.sort_values("ccode").id.drop_duplicates())


def region_members(
    region: str,
    year: int,
    *,
    source_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> list[str]:
    """The ids of a region of data/regions.csv in `year`, in table order, before dropping
    states that are not in the system that year (see `build_scenario`)."""
    data_dir = Path(data_dir) if data_dir is not None else PROJECT_DATA
    src = load_sources(source_dir, data_dir)
    regions = read_regions(data_dir)
    return _members(region, year, src, regions, set())


def _members(
    region: str, year: int, src: Sources, regions: pd.DataFrame, seen: set[str]
) -> list[str]:
    if region not in set(regions.region):
        known = ", ".join(sorted(set(regions.region)))
        raise DataError(f"region: expected one of {known} (data/regions.csv), got {region!r}")
    if region in seen:
        raise DataError(f"data/regions.csv: region {region!r}: expected no cycle, got one")
    out: list[str] = []
    for r in regions[regions.region == region].itertuples():
        if r.kind == "all":
            new = states_in_system(year, src)
        elif r.kind == "state":
            new = [r.value]
        elif r.kind == "region":
            new = _members(r.value, year, src, regions, seen | {region})
        else:
            new = _rule_members(r.value, year, src)
        out += [s for s in new if s not in out]
    return out


def _rule_members(rule: str, year: int, src: Sources) -> list[str]:
    """`top_exporters=K;top_clients=M`: the K largest exporters by SIPRI TIV delivered in the
    ten years before `year`, then for each the M largest clients that are not exporters
    (as scripts/build_scenarios.py picks the shipped arms_market states)."""
    try:
        opts = {k: int(v) for k, v in (part.split("=") for part in rule.split(";"))}
        k, m = opts["top_exporters"], opts["top_clients"]
    except (ValueError, KeyError):
        raise DataError(
            f"data/regions.csv: rule: expected 'top_exporters=K;top_clients=M', got {rule!r}"
        ) from None
    s = _window(src.sipri, year - ARMS_WINDOW, year)
    s = s[(s.supplier != "") & (s.recipient != "") & (s.supplier != s.recipient)]
    flows = s.groupby(["supplier", "recipient"]).tiv.sum()
    exporters = list(s.groupby("supplier").tiv.sum().sort_values(ascending=False).index[:k])
    out = list(exporters)
    for e in exporters:
        top = flows.loc[e].sort_values(ascending=False).head(m).index
        out += [r for r in top if r not in exporters and r not in out]
    return out


def _window(frame: pd.DataFrame, first: int, end: int) -> pd.DataFrame:
    """Rows with first <= year < end."""
    return frame[(frame.year >= first) & (frame.year < end)]


# ---- per-year tables -------------------------------------------------------------------------


def _state_table(year: int, ids: list[str], system: list[str], src: Sources) -> pd.DataFrame:
    """capability, budget, arms_industry, lat, lon, name for `ids` (index id)."""
    cinc_year = min(year - 1, src.coverage.nmc[1])
    nmc = src.nmc[src.nmc.year <= year - 1]
    cinc = nmc[nmc.year == cinc_year].set_index("id").cinc.reindex(system)
    milex = nmc[nmc.milex.notna()].sort_values("year").groupby("id").milex.last()
    milex = milex.reindex(system)
    s = _window(src.sipri, year - ARMS_WINDOW, year)
    s = s[s.supplier != ""]
    exports = s.groupby("supplier").tiv.sum().reindex(system).fillna(0.0)
    share = exports / exports.sum() if exports.sum() > 0 else exports
    industry = np.sqrt(share / share.max()) if share.max() > 0 else share
    day = pd.Timestamp(year=year, month=1, day=1)
    cap = src.capitals[src.capitals.start < day].sort_values(["id", "start"])
    cap = cap.groupby("id").last().reindex(system)
    names = src.states.drop_duplicates("id", keep="last").set_index("id").name
    df = pd.DataFrame(
        {
            "name": names.reindex(system),
            "cinc": cinc,
            "capability": (cinc / cinc.max()).round(4),
            "budget": (BUDGET_FLOOR + BUDGET_SPAN * np.sqrt(milex.fillna(0.0) / milex.max())).round(
                3
            ),
            "arms_industry": industry.round(3),
            "lat": cap.lat.round(3),
            "lon": cap.lon.round(3),
        },
        index=pd.Index(system, name="id"),
    )
    return df.loc[ids]


def pacts_at(year: int, src: Sources) -> tuple[pd.DataFrame, int]:
    """ATOP pairs with any obligation at min(year - 1, last ATOP year), with `level`."""
    atop_year = min(year - 1, src.coverage.atop[1])
    a = src.atop[src.atop.year == atop_year]
    level = np.where(
        a.defense == 1,
        "defense",
        np.where(
            a.consultation == 1,
            "consultation",
            np.where(a.offense + a.neutrality > 0, "other", "nonaggression"),
        ),
    )
    return a.assign(level=level).set_index(["a", "b"])[["level"]], atop_year


def _rivalries(year: int, src: Sources, data_dir: Path) -> pd.DataFrame:
    """TSS rivalries ongoing on 1 January of `year` plus judged ones (TSS wins a tie)."""
    t = src.tss
    data_end = src.coverage.tss[1]
    ongoing = t[(t.start < year) & (t.end.isna() | (t.end >= year) | (t.end >= data_end))]
    kinds = ongoing[list(RIVALRY_TYPES)].to_numpy()
    types = ["+".join(k for k, f in zip(RIVALRY_TYPES, row, strict=True) if f) for row in kinds]
    tss = pd.DataFrame(
        {
            "a": ongoing.a.to_numpy(),
            "b": ongoing.b.to_numpy(),
            "rivalry": ongoing.rivalry.to_numpy(),
            "types": types,
            "hostility": [rivalry_hostility(int(row.sum())) for row in kinds],
        }
    )
    j = judged_rivalries(data_dir)
    j = j[(j.from_year <= year) & (j.to_year.isna() | (j.to_year >= year))]
    judged = pd.DataFrame(
        {
            "a": j.a,
            "b": j.b,
            "rivalry": "judgement: " + j.reason,
            "types": j.types,
            "hostility": j.hostility,
        }
    )
    tss_pairs = set(zip(tss.a, tss.b, strict=True))
    judged = judged[[p not in tss_pairs for p in zip(judged.a, judged.b, strict=True)]]
    out = pd.concat([tss, judged], ignore_index=True)
    return out.drop_duplicates(["a", "b"]).sort_values(["a", "b"]).reset_index(drop=True)


def _exercises(year: int, src: Sources) -> pd.DataFrame:
    """Pairs with MME exercises before `year`: n_exercises, w_exercises (decayed weight)."""
    p = src.mme_pairs[src.mme_pairs.year < year]
    age = (year - 1) - p.year
    p = p.assign(w=p.weight * YEARLY_RETENTION**age)
    g = p.groupby(["a", "b"]).agg(n_exercises=("w", "size"), w_exercises=("w", "sum"))
    g["w_exercises"] = g.w_exercises.round(3)
    return g


def agreements_in_force(year: int, src: Sources) -> tuple[pd.DataFrame, str]:
    """DCAD agreements in force on 1 January of `year`, counted per pair."""
    d = src.dcad
    last = src.coverage.dcad[1]
    if year <= last:
        on = d[(d.sign_year < year) & (d.end_year >= year)]
        used = f"signed before {year}, not ended by {year}"
    else:
        on = d[(d.terminated != 1) & (d.end_year >= last)]
        used = f"in force at the end of {last} (the data's end; {year - 1 - last} years stale)"
    return on.groupby(["a", "b"]).size().rename("n_agreements").to_frame(), used


def _arms_shares(year: int, src: Sources) -> pd.DataFrame:
    """recipient, supplier, tiv, share: SIPRI deliveries year-10..year-1, decayed by age,
    as shares of the recipient's decayed imports from every supplier (named or not)."""
    s = _window(src.sipri, year - ARMS_WINDOW, year)
    s = s[s.recipient != ""]
    s = s.assign(w=s.tiv * YEARLY_RETENTION ** ((year - 1) - s.year))
    total = s.groupby("recipient").w.sum()
    pairs = s[(s.supplier != "") & (s.supplier != s.recipient)]
    g = pairs.groupby(["recipient", "supplier"]).w.sum().reset_index()
    g = g[g.w > 0]
    g["share"] = (g.w / g.recipient.map(total)).round(4)
    g = g.rename(columns={"w": "tiv"})
    return g.sort_values(["recipient", "share"], ascending=[True, False]).reset_index(drop=True)


def _select(
    year: int,
    region: str | None,
    states: list[str] | None,
    src: Sources,
    data_dir: Path,
    judged: set[str],
) -> tuple[list[str], dict[str, str], list[str]]:
    """(ids in the scenario, requested ids left out -> why, all system members with data)."""
    if region is not None and states is not None:
        raise DataError("region/states: expected one of them, got both")
    system = states_in_system(year, src)
    if states is not None:
        wanted = list(dict.fromkeys(states))
        unknown = [s for s in wanted if s not in set(src.states.id)]
        if unknown:
            raise DataError(f"states: expected COW state ids, got unknown {', '.join(unknown)}")
    else:
        wanted = _members(region or "world", year, src, read_regions(data_dir), set())
    nmc_year = min(year - 1, src.coverage.nmc[1])
    has_cinc = set(src.nmc[(src.nmc.year == nmc_year) & src.nmc.cinc.notna()].id)
    dropped = {}
    for s in wanted:
        if s not in system:
            dropped[s] = f"not in the COW state system on 1 January {year}"
        elif s not in has_cinc:
            dropped[s] = f"no COW NMC CINC for {nmc_year}"
        elif s not in judged:
            dropped[s] = "no row in data/judgement.csv"
    ids = [s for s in wanted if s not in dropped]
    if not ids:
        raise DataError(f"states: expected at least one state in the system in {year}, got none")
    return ids, dropped, [s for s in system if s in has_cinc]


def scenario_ids(
    year: int,
    *,
    region: str | None = None,
    states: list[str] | None = None,
    source_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> list[str]:
    """The ids `build_scenario` would put in the year-`year` scenario, in its order."""
    data_dir = Path(data_dir) if data_dir is not None else PROJECT_DATA
    src = load_sources(source_dir, data_dir)
    _check_year(year, src)
    judged = set(judgement_at(year, data_dir).index)
    return _select(year, region, states, src, data_dir, judged)[0]


def year_inputs(
    year: int,
    *,
    region: str | None = None,
    states: list[str] | None = None,
    source_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> YearInputs:
    """The rule inputs of the year-Y scenario (what `build_scenario` turns into a dict)."""
    data_dir = Path(data_dir) if data_dir is not None else PROJECT_DATA
    src = load_sources(source_dir, data_dir)
    year = int(year) if isinstance(year, np.integer) else year
    _check_year(year, src)
    judgement = judgement_at(year, data_dir)
    ids, dropped, system = _select(year, region, states, src, data_dir, set(judgement.index))
    nmc_year = min(year - 1, src.coverage.nmc[1])
    pacts, atop_year = pacts_at(year, src)
    dcad, dcad_used = agreements_in_force(year, src)
    alliances = {
        name: [s for s in members if s in ids]
        for name, members in alliances_at(year, data_dir).items()
    }
    alliances = {k: v for k, v in alliances.items() if len(v) >= 2}
    arms_first = max(year - ARMS_WINDOW, src.coverage.sipri[0])
    mme_last = min(year - 1, src.coverage.mme[1])
    tables = Tables(
        states=_state_table(year, ids, system, src),
        judgement=judgement,
        alliances=pacts,
        rivalries=_rivalries(year, src, data_dir),
        exercises=_exercises(year, src),
        dcad=dcad,
        arms=_arms_shares(year, src),
        atop_label=f"ATOP {atop_year}",
        mme_label=f"{src.coverage.mme[0]}-{mme_last}",
        sipri_label=f"{arms_first}-{year - 1}",
    )

    def stale(last: int) -> str:
        return f" ({year - 1 - last} years stale)" if year - 1 > last else ""

    years_used = {
        "states": f"members on 1 January {year}"
        + (
            f" (the list ends in {src.coverage.states_end})"
            if year > src.coverage.states_end + 1
            else ""
        ),
        "nmc": f"CINC {nmc_year}{stale(src.coverage.nmc[1])}, military expenditure: latest year up to {nmc_year}",
        "atop": f"{atop_year}{stale(src.coverage.atop[1])}",
        "tss": f"rivalries ongoing on 1 January {year}"
        + (
            f" (data end {src.coverage.tss[1]}, read as ongoing)"
            if year > src.coverage.tss[1]
            else ""
        ),
        "mme": f"exercises {src.coverage.mme[0]}-{mme_last}{stale(src.coverage.mme[1])}",
        "dcad": dcad_used,
        "sipri": f"deliveries {arms_first}-{year - 1}",
    }
    judged = judged_access(data_dir)
    judged = judged[(judged.from_year <= year) & (judged.to_year.isna() | (judged.to_year >= year))]
    idset = set(ids)
    access = {
        (r.provider, r.host): float(r.access)
        for r in judged.itertuples()
        if r.provider in idset and r.host in idset
    }
    return YearInputs(year, ids, tables, alliances, years_used, dropped, access)


# ---- the scenario ----------------------------------------------------------------------------


def _sources_text(inp: YearInputs) -> list[str]:
    y, u = inp.year, inp.years_used
    half_life = math.log(0.5) / math.log(YEARLY_RETENTION)
    decay = f"weights x{YEARLY_RETENTION:.3f} per year of age (half-life {half_life:.1f} years)"
    out = [
        f"built by sim.scenarios.builder for January {y} from data before {y} only",
        f"states: {CITATION['states']}, {u['states']}"
        + (
            "; left out: " + ", ".join(f"{k} ({v})" for k, v in inp.dropped.items())
            if inp.dropped
            else ""
        ),
        f"capability: CINC share / largest CINC, {CITATION['nmc']}, {u['nmc']}; budget: "
        "0.05 + 2.95*sqrt(milex / max milex) (the authors' formula)",
        f"arms_industry: sqrt of the share of SIPRI TIV exported, {CITATION['sipri']}, {u['sipri']}",
        f"location: capital on 1 January {y}, {CITATION['capitals']}",
        "position, autonomy, stability, governance: judgement of the authors, data/judgement.csv "
        f"with the year-aware changes of data/judgement_changes.csv up to {y}",
        f"agreements and trust: defence and consultation pacts of {CITATION['atop']}, {u['atop']}; "
        f"{CITATION['dcad']}, agreements {u['dcad']}; rules of sim.scenarios.rules",
        "alliances: NATO and CSTO members on 1 January "
        f"{y} (data/alliance_members.csv, public record)",
        f"hostility: {CITATION['tss']}, {u['tss']}, plus data/rivalries_judgement.csv (judgement)",
        f"interoperability: {CITATION['mme']}, {u['mme']}, participant-weighted, {decay}",
        f"dependency: {CITATION['sipri']}, {u['sipri']}, {decay}, shares of each recipient's imports",
    ]
    return out


def _pair_key(p: tuple[str, str]) -> str:
    return f"{p[0]}-{p[1]}"


def scenario_from_inputs(
    inp: YearInputs, *, steps: int = STEPS_DEFAULT, seed: int | None = None, name: str | None = None
) -> dict[str, Any]:
    """Apply the rules of `sim.scenarios.rules` to year inputs: a scenario dict."""
    rel = derive_relations(inp.tables, inp.ids, inp.alliances)
    states = []
    for sid in inp.ids:
        entry = {k: v for k, v in state_entry(inp.tables, sid).items() if not k.startswith("_")}
        states.append(entry)
    relations: dict[str, Any] = {
        "trust": {_pair_key(p): v for p, (v, _) in sorted(rel.trust.items())},
        "interoperability": {_pair_key(p): v for p, (v, _) in sorted(rel.interoperability.items())},
        "hostility": {_pair_key(p): v for p, (v, _) in sorted(rel.hostility.items())},
        "agreements": [_pair_key(p) for p in sorted(rel.agreements)],
        "dependency": {
            rcp: {s: share for s, share in rows} for rcp, (rows, _) in rel.dependency.items()
        },
    }
    if inp.access:  # data/access_judgement.csv in force at Y (judgement, public record)
        relations["access"] = {f"{a}>{b}": v for (a, b), v in sorted(inp.access.items())}
    y = inp.year
    return {
        "name": name or f"World {y}",
        "description": (
            f"The world as it stood in January {y}, built from the public datasets by "
            f"sim.scenarios.builder using only data from before {y}: {len(inp.ids)} states."
        ),
        "sources": _sources_text(inp),
        "time_unit": "month",
        "start": f"{y}-01",
        "steps": int(steps),
        "seed": int(seed) if seed is not None else y * 100,
        "alliances": inp.alliances,
        "states": states,
        "relations": relations,
    }


def build_scenario(
    year: int,
    *,
    region: str | None = None,
    states: list[str] | None = None,
    steps: int = STEPS_DEFAULT,
    seed: int | None = None,
    source_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> dict[str, Any]:
    """The world (or `region` of data/regions.csv, or the explicit `states`) as it stood
    in January `year`, as a plain scenario dict, built from data before `year` only.

    `source_dir` holds the public datasets (default $DDSIM_SOURCE_DATA or
    /work/shared/data), `data_dir` the project's tables (default data/). States of a
    region that are not in the system that year are left out and named in `sources`.
    Raises `DataError` (one line) on an unknown region, id or an unsupported year.
    """
    inp = year_inputs(year, region=region, states=states, source_dir=source_dir, data_dir=data_dir)
    label = region or ("selected states" if states is not None else "world")
    name = f"World {year}" if label == "world" else f"{label} {year}"
    return scenario_from_inputs(inp, steps=steps, seed=seed, name=name)


# ---- YAML ------------------------------------------------------------------------------------


def scenario_yaml(scenario: dict[str, Any], header: str | None = None) -> str:
    """Compact, commented YAML of a scenario dict: one line per state and per relation."""
    out = rules.comment_lines(header or "Generated by sim.scenarios.builder; see `sources`.")
    for key in ("name", "description"):
        out.append(f"{key}: {q(scenario[key])}")
    out.append("sources:")
    out += [f"  - {q(s)}" for s in scenario.get("sources", [])]
    for key in ("time_unit", "start", "steps", "seed"):
        if key in scenario:
            v = scenario[key]
            out.append(f"{key}: {q(v) if isinstance(v, str) else flow(v)}")
    for key in ("parameters", "governance"):
        if scenario.get(key):
            out.append(f"{key}: {flow(scenario[key])}")
    if scenario.get("alliances"):
        out.append("alliances:")
        out += [f"  {q(k)}: {flow(list(v))}" for k, v in scenario["alliances"].items()]
    out.append("states:")
    out += [f"  - {flow(s)}" for s in scenario["states"]]
    rel = scenario.get("relations") or {}
    if rel:
        out.append("relations:")
        for key, value in rel.items():
            if isinstance(value, dict):
                out.append(f"  {key}:" + ("" if value else " {}"))
                out += [f"    {flow(k)}: {flow(v)}" for k, v in value.items()]
            else:
                out.append(f"  {key}: {flow(list(value))}")
    if scenario.get("events"):
        out.append("events:")
        out += [f"  - {flow(e)}" for e in scenario["events"]]
    return "\n".join(out) + "\n"


def write_scenario_yaml(
    scenario: dict[str, Any], path: str | Path, header: str | None = None
) -> Path:
    """Write `scenario` as YAML to `path` (through a temporary file, so a failed write
    leaves no half-written scenario behind). Returns the path."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(scenario_yaml(scenario, header), encoding="utf-8")
    tmp.replace(path)
    return path
