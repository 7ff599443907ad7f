"""Rules that turn state and pair tables into scenario entries, and a compact YAML writer.

One implementation for every generated scenario: the hand-curated regional files
(scripts/build_scenarios.py, scripts/build_world.py, which read data/*.csv) and the
year-Y builder (sim/scenarios/builder.py, which reads the source datasets for year Y).
The rules are documented in data/README.md ("From tables to scenarios"); change them
there and here together.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# The project's own tables (derived data and judgement), see data/README.md.
PROJECT_DATA = Path(__file__).resolve().parents[2] / "data"

# ---- rule constants -------------------------------------------------------
TRUST_DEFENSE = 0.70  # ATOP defense pact in force
TRUST_AGREEMENT = 0.55  # ATOP consultation pact, DCAD agreement in force, or scenario alliance
TRUST_RIVAL = 0.15  # TSS strategic rivalry ongoing
TRUST_RIVAL_WITH_PACT = 0.30  # rivalry and a formal tie at the same time (e.g. GRC-TUR)
DORMANT_GAP = 1.2  # a formal tie between states whose judged alignment differs by more
# than this (|position_x(a) - position_x(b)|) is treated as dormant
INTEROP_SCALE = 10.0  # I = 1 - exp(-w / 10), w = participant-weighted exercise count
INTEROP_LAPSED = 0.5  # x0.5 for rivals and dormant pairs (their past drills have lapsed)
INTEROP_PACT_BONUS = 0.10  # + 0.1 with an active defense pact
INTEROP_CAP = 0.80
INTEROP_BASING = 0.50  # floor for pairs with foreign basing (judgement list, public record)
INTEROP_MIN = 0.05  # smaller values are not written
DEP_TOP = 4  # keep the top 4 suppliers present in the scenario
DEP_MIN = 0.02  # ... with a share of at least 2 %


def q(s: str) -> str:
    """YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(s, ensure_ascii=False)


def num(x: float, nd: int = 3) -> str:
    r = round(float(x), nd)
    if r == int(r):
        return f"{int(r)}.0" if abs(r) < 1e15 else str(r)
    return f"{r:.{nd}f}".rstrip("0")


def floor_to(x: float, nd: int = 3) -> float:
    f = 10**nd
    return math.floor(x * f + 1e-9) / f


def pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _rivalry_source(rivalry) -> str:
    """'TSS' for a rivalry of the TSS data, 'judged' for one of data/rivalries_judgement.csv."""
    return "judged" if getattr(rivalry, "judged", False) else "TSS"


@dataclass
class Tables:
    """The inputs of the rules, one frame per kind (columns as in data/README.md).

    states (index id): name, capability, budget, arms_industry, lat, lon;
    judgement (index id): position_x, position_y, stability, governance, autonomy, the codes
    align, regime, stab, gov, aut and note; alliances (index a, b): level (defense,
    consultation, other, nonaggression); rivalries: a, b, rivalry, types, hostility;
    exercises (index a, b): n_exercises, w_exercises; dcad (index a, b): n_agreements;
    arms: recipient, supplier, share. The labels only name the data in provenance comments.
    """

    states: pd.DataFrame
    judgement: pd.DataFrame
    alliances: pd.DataFrame
    rivalries: pd.DataFrame
    exercises: pd.DataFrame
    dcad: pd.DataFrame
    arms: pd.DataFrame
    atop_label: str = "ATOP 2018"
    mme_label: str = "2000-2010"
    sipri_label: str = "2015-2024"

    @classmethod
    def load(cls, data: Path = PROJECT_DATA) -> Tables:
        """The derived tables in `data` (data/*.csv), as the shipped scenarios use them."""

        def r(n):
            return pd.read_csv(data / n, keep_default_na=False, na_values=[""])

        return cls(
            states=r("states.csv").set_index("id"),
            judgement=r("judgement.csv").set_index("id"),
            alliances=r("alliances_2018.csv").set_index(["a", "b"]),
            rivalries=r("rivalries.csv"),
            exercises=r("exercise_ties.csv").set_index(["a", "b"]),
            dcad=r("agreements_dcad.csv").set_index(["a", "b"]),
            arms=r("arms_supply_shares.csv"),
        )


def state_entry(t: Tables, sid: str, short_names: dict | None = None) -> dict:
    s, j = t.states.loc[sid], t.judgement.loc[sid]
    return {
        "id": sid,
        "name": (short_names or {}).get(sid, s["name"]),
        "capability": round(float(s.capability), 4),
        "budget": round(float(s.budget), 3),
        "arms_industry": round(float(s.arms_industry), 3),
        "stability": float(j.stability),
        "governance": float(j.governance),
        "position": [float(j.position_x), float(j.position_y)],
        "autonomy": float(j.autonomy),
        "location": [round(float(s.lat), 2), round(float(s.lon), 2)],
        "_note": f"judgement {j['align']}{j['regime']}{j['stab']}{j['gov']}{j['aut']}"
        + (f": {j['note']}" if isinstance(j["note"], str) and j["note"] else ""),
    }


@dataclass
class Relations:
    trust: dict = field(default_factory=dict)  # (a, b) -> (value, why)
    interoperability: dict = field(default_factory=dict)
    hostility: dict = field(default_factory=dict)
    agreements: dict = field(default_factory=dict)  # (a, b) -> why
    dependency: dict = field(default_factory=dict)  # importer -> [(supplier, share)], why
    hotlines: list = field(default_factory=list)  # [(a, b, why)]
    access: dict = field(default_factory=dict)  # (provider, host) -> (value, why)
    dormant: list = field(default_factory=list)


def derive_relations(
    t: Tables,
    ids: list[str],
    alliances: dict[str, list[str]] | None = None,
    basing: list[tuple[str, str]] | None = None,
) -> Relations:
    """Apply the table -> relation rules to the states `ids`."""
    ids = list(ids)
    idset = set(ids)
    alliances = alliances or {}
    co_members = set()
    for members in alliances.values():
        for i, x in enumerate(members):
            for y in members[i + 1 :]:
                co_members.add(pair(x, y))
    basing_set = {pair(*p) for p in (basing or [])}
    px = t.judgement.position_x.to_dict()
    # plain dicts: a pandas .loc per pair costs ~2 s for the 18,915 pairs of the world
    level_of = t.alliances["level"].to_dict()
    dcad_n = t.dcad["n_agreements"].to_dict()
    ex_of = dict(
        zip(
            t.exercises.index,
            zip(t.exercises["n_exercises"], t.exercises["w_exercises"], strict=True),
            strict=True,
        )
    )
    rel = Relations()
    riv = {pair(r.a, r.b): r for r in t.rivalries.itertuples() if r.a in idset and r.b in idset}
    srt = sorted(ids)
    for i, a in enumerate(srt):
        for b in srt[i + 1 :]:
            p = (a, b)
            dormant = abs(px[a] - px[b]) > DORMANT_GAP
            level = level_of.get(p)
            has_dcad = p in dcad_n
            if dormant and (level in ("defense", "consultation") or has_dcad):
                rel.dormant.append(
                    (a, b, level if level in ("defense", "consultation") else "DCAD")
                )
            act_def = level == "defense" and not dormant
            act_con = level == "consultation" and not dormant
            act_dcad = has_dcad and not dormant
            named = p in co_members
            why = []
            if act_def:
                why.append(f"{t.atop_label} defense pact")
            elif act_con:
                why.append(f"{t.atop_label} consultation pact")
            if act_dcad:
                why.append(f"DCAD x{int(dcad_n[p])}")
            if named:
                why.append("scenario alliance")
            if p in basing_set:
                why.append("basing (public record)")
            if p in riv:
                r = riv[p]
                tv = TRUST_RIVAL_WITH_PACT if why else TRUST_RIVAL
                rel.trust[p] = (
                    tv,
                    f"{_rivalry_source(r)} rivalry {r.rivalry} ({r.types})"
                    + (" + " + ", ".join(why) if why else ""),
                )
                rel.hostility[p] = (
                    float(r.hostility),
                    f"{_rivalry_source(r)} {r.rivalry}: {r.types}",
                )
            elif act_def:
                rel.trust[p] = (TRUST_DEFENSE, ", ".join(why))
            elif why:
                rel.trust[p] = (TRUST_AGREEMENT, ", ".join(why))
            # agreements (named alliances already give the loader formal ties)
            if (act_def or act_con or act_dcad or p in basing_set) and not named:
                rel.agreements[p] = ", ".join(x for x in why if x != "scenario alliance")
            # interoperability
            n, wx = ex_of.get(p, (0, 0.0))
            n, wx = int(n), float(wx)
            iv = 1 - math.exp(-wx / INTEROP_SCALE) + (INTEROP_PACT_BONUS if act_def else 0.0)
            iv = min(INTEROP_CAP, iv)
            w = f"MME {n} exercises {t.mme_label} (weighted {wx:.1f})" + (
                " + defense pact" if act_def else ""
            )
            if (dormant or p in riv) and iv > 0:
                iv, w = iv * INTEROP_LAPSED, w + " x0.5 lapsed"
            if p in basing_set and iv < INTEROP_BASING:
                iv, w = INTEROP_BASING, w + "; basing floor 0.5"
            if iv >= INTEROP_MIN:
                rel.interoperability[p] = (round(iv, 2), w)
    # dependency
    arms = t.arms[t.arms.recipient.isin(idset) & t.arms.supplier.isin(idset)]
    by_recipient = dict(tuple(arms.groupby("recipient", sort=False)))
    all_by_recipient = dict(tuple(t.arms.groupby("recipient", sort=False)))
    rival_pairs = set(riv)
    for rcp in ids:
        if rcp not in by_recipient:
            continue
        rows = by_recipient[rcp].sort_values("share", ascending=False)
        rows = rows[rows.supplier.map(lambda x, r=rcp: pair(r, x) not in rival_pairs).astype(bool)]
        rows = rows[rows.share >= DEP_MIN].head(DEP_TOP)
        if len(rows):
            top_all = all_by_recipient[rcp].sort_values("share", ascending=False).head(3)
            why = f"SIPRI {t.sipri_label} top suppliers overall: " + ", ".join(
                f"{r.supplier} {r.share:.2f}" for r in top_all.itertuples()
            )
            rel.dependency[rcp] = (
                [(r.supplier, floor_to(r.share)) for r in rows.itertuples()],
                why,
            )
    return rel


# ---- YAML writer ------------------------------------------------------------


def flow(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int,)) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return num(v, 4)
    if isinstance(v, str):
        return v if _plain_ok(v) else q(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {flow(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def _plain_ok(s: str) -> bool:
    return (
        bool(re.fullmatch(r"[A-Z]{2,3}", s))
        and s not in {"NO", "ON", "OFF", "YES"}
        or bool(
            re.fullmatch(r"[a-z_]+", s)
            and s not in {"yes", "no", "on", "off", "true", "false", "null", "y", "n"}
        )
    )


def comment_lines(text: str | None, indent: str = "") -> list[str]:
    if not text:
        return []
    return [f"{indent}# {ln}".rstrip() for ln in text.strip("\n").splitlines()]


def render(sc: dict, comments: dict | None = None, line_comments: bool = True) -> str:
    """Render a scenario dict as commented YAML.

    sc keys: name, description, sources, time_unit, start, steps, seed, parameters,
    governance, alliances, states (list of state entries), relations (Relations),
    events (list of (event dict, comment)).
    comments: optional {section: comment text} printed above each section, plus
    'header' for the top of the file.
    """
    c = comments or {}
    out: list[str] = []
    out += comment_lines(c.get("header"))
    out.append(f"name: {q(sc['name'])}")
    out.append("description: >")
    for ln in sc["description"].strip().splitlines():
        out.append("  " + ln.strip())
    out += comment_lines(c.get("sources"))
    out.append("sources:")
    for s in sc["sources"]:
        out.append(f"  - {q(s)}")
    out.append(f"time_unit: {sc.get('time_unit', 'month')}")
    if sc.get("start"):
        out.append(f"start: {q(sc['start'])}")
    out.append(f"steps: {int(sc['steps'])}")
    out.append(f"seed: {int(sc['seed'])}")
    out += comment_lines(c.get("parameters"))
    out.append(f"parameters: {flow(sc.get('parameters') or {})}")
    if sc.get("governance"):
        out += comment_lines(c.get("governance"))
        out.append("governance:")
        for k, v in sc["governance"].items():
            out.append(f"  {k}: {num(v, 3)}")
    if sc.get("alliances"):
        out += comment_lines(c.get("alliances"))
        out.append("alliances:")
        for k, v in sc["alliances"].items():
            out.append(f"  {flow(k)}: {flow(v)}")
    out += comment_lines(c.get("states"))
    out.append("states:")
    for st in sc["states"]:
        d = {k: v for k, v in st.items() if not k.startswith("_")}
        line = f"  - {flow(d)}"
        if line_comments and st.get("_note"):
            line += f"  # {st['_note']}"
        out.append(line)
    rel: Relations = sc.get("relations")
    if rel is not None:
        out += comment_lines(c.get("relations"))
        out.append("relations:")
        lc = line_comments

        def tail(w):
            return f"  # {w}" if lc and w else ""

        if rel.trust:
            out.append("  trust:")
            for (a, b), (v, w) in sorted(rel.trust.items()):
                out.append(f"    {a}-{b}: {num(v, 2)}{tail(w)}")
        if rel.interoperability:
            out.append("  interoperability:")
            for (a, b), (v, w) in sorted(rel.interoperability.items()):
                out.append(f"    {a}-{b}: {num(v, 2)}{tail(w)}")
        if rel.hostility:
            out.append("  hostility:")
            for (a, b), (v, w) in sorted(rel.hostility.items()):
                out.append(f"    {a}-{b}: {num(v, 2)}{tail(w)}")
        if rel.agreements:
            if lc:
                out.append("  agreements:")
                for (a, b), w in sorted(rel.agreements.items()):
                    out.append(f"    - {a}-{b}{tail(w)}")
            else:
                items = [f"{a}-{b}" for a, b in sorted(rel.agreements)]
                rows = [", ".join(items[i : i + 12]) for i in range(0, len(items), 12)]
                out.append("  agreements: [" + ",\n    ".join(rows) + "]")
        if rel.dependency:
            out.append("  dependency:")
            for rcp, (rows, w) in rel.dependency.items():
                out.append(
                    f"    {rcp}: {{"
                    + ", ".join(f"{s}: {num(v, 3)}" for s, v in rows)
                    + "}"
                    + tail(w)
                )
        if rel.hotlines:
            out.append("  hotlines:")
            for a, b, w in rel.hotlines:
                out.append(f"    - {a}-{b}{tail(w)}")
        if rel.access:
            out.append("  access:")
            for (a, b), (v, w) in sorted(rel.access.items()):
                out.append(f"    {a}>{b}: {num(v, 2)}{tail(w)}")
    if sc.get("events"):
        out += comment_lines(c.get("events"))
        out.append("events:")
        for ev, w in sc["events"]:
            out += comment_lines(w, "  ")
            out.append(f"  - {flow(ev)}")
    return "\n".join(out) + "\n"
