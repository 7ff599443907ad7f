#!/usr/bin/env python
"""Lightweight checker for scenarios/*.yaml (not the real loader).

    .venv/bin/python scripts/check_scenarios.py [files...]      # default: scenarios/*.yaml

Checks: YAML parses with yaml.safe_load; only the documented keys are used;
ids unique and every id referenced in alliances/relations/events exists;
event steps/dates and `until` fall inside [0, steps); values in range;
dependency rows sum to <= 1; and every state attribute equals the value in
data/states.csv / data/judgement.csv (numbers come from the derived tables).
Exit code 0 if all files pass, 1 otherwise.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
TOP = {
    "name",
    "description",
    "sources",
    "time_unit",
    "start",
    "steps",
    "seed",
    "parameters",
    "governance",
    "alliances",
    "states",
    "relations",
    "events",
}
STATE = {
    "id",
    "name",
    "capability",
    "budget",
    "arms_industry",
    "stability",
    "governance",
    "position",
    "autonomy",
    "location",
    "levers",
}
LEVERS = {"transparency", "oversight", "co_creation", "exit_strategy", "cbm_investment"}
REL = {"trust", "interoperability", "hostility", "agreements", "dependency", "hotlines"}
KINDS = {"command_post", "live", "naval", "humanitarian", "cyber"}
EVENTS = {  # type -> (required keys, optional keys)
    "join_alliance": ({"state", "alliance"}, set()),
    "leave_alliance": ({"state", "alliance"}, set()),
    "embargo": ({"suppliers", "targets"}, {"until"}),
    "lift_embargo": ({"suppliers", "targets"}, set()),
    "sanctions": ({"by", "target", "severity"}, set()),
    "coup": ({"state", "severity"}, set()),
    "turmoil": ({"state", "severity"}, set()),
    "budget_change": ({"state", "factor"}, set()),
    "exercise_program": ({"name", "participants"}, {"kind", "every", "until", "scale"}),
    "arms_program": ({"suppliers", "recipient"}, {"volume", "every", "until"}),
    "war_shock": ({"states"}, {"severity"}),
    "set_lever": ({"lever", "value"}, {"state"}),
    "hotline": ({"states"}, set()),
}
DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
TOL = 1e-9


class Checker:
    def __init__(self, path: Path, states_tab: pd.DataFrame, judg: pd.DataFrame):
        self.path, self.st, self.j = path, states_tab, judg
        self.errors: list[str] = []

    def err(self, where: str, msg: str):
        self.errors.append(f"{self.path.name}: {where}: {msg}")

    def unit01(self, where, v):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not (0 - TOL <= v <= 1 + TOL):
            self.err(where, f"expected a number in [0, 1], got {v!r}")

    def to_step(self, where, v):
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        if isinstance(v, str) and DATE.match(v):
            if not self.start:
                self.err(where, "date used but no `start`")
                return None
            y0, m0 = map(int, self.start.split("-"))
            y, m = map(int, v.split("-"))
            return {
                "month": (y - y0) * 12 + (m - m0),
                "quarter": ((y - y0) * 12 + (m - m0)) // 3,
                "year": y - y0,
            }[self.unit]
        self.err(where, f"expected a step (int) or 'YYYY-MM', got {v!r}")
        return None

    def run(self) -> list[str]:
        try:
            d = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            self.err("yaml", str(e))
            return self.errors
        if not isinstance(d, dict):
            self.err("top", "not a mapping")
            return self.errors
        for k in set(d) - TOP:
            self.err(k, "unknown key")
        for k in ("name", "states", "steps"):
            if k not in d:
                self.err(k, "missing")
        if not isinstance(d.get("name"), str):
            self.err("name", "expected a string")
        if not isinstance(d.get("sources", []), list) or not all(
            isinstance(s, str) for s in d.get("sources", [])
        ):
            self.err("sources", "expected a list of strings")
        self.unit = d.get("time_unit", "month")
        if self.unit not in ("month", "quarter", "year"):
            self.err("time_unit", f"bad value {self.unit!r}")
        self.start = d.get("start")
        if self.start is not None and not (isinstance(self.start, str) and DATE.match(self.start)):
            self.err("start", f"expected 'YYYY-MM', got {self.start!r}")
            self.start = None
        steps = d.get("steps")
        if not isinstance(steps, int) or steps < 1:
            self.err("steps", "expected int >= 1")
            steps = 10**9
        if not isinstance(d.get("seed", 0), int) or d.get("seed", 0) < 0:
            self.err("seed", "expected int >= 0")
        if not isinstance(d.get("parameters", {}), dict):
            self.err("parameters", "expected a mapping")
        for k, v in (d.get("governance") or {}).items():
            if k not in LEVERS:
                self.err(f"governance.{k}", "unknown lever")
            self.unit01(f"governance.{k}", v)

        ids: list[str] = []
        for i, s in enumerate(d.get("states") or []):
            w = f"states[{i}]"
            if not isinstance(s, dict) or "id" not in s:
                self.err(w, "needs an id")
                continue
            sid = s["id"]
            w = f"states[{i}]({sid})"
            ids.append(sid)
            for k in set(s) - STATE:
                self.err(f"{w}.{k}", "unknown key")
            if "capability" not in s:
                self.err(w, "capability missing")
            elif not isinstance(s["capability"], (int, float)) or s["capability"] < 0:
                self.err(f"{w}.capability", "expected a number >= 0")
            if not isinstance(s.get("budget", 0), (int, float)) or s.get("budget", 0) < 0:
                self.err(f"{w}.budget", "expected a number >= 0")
            for k in ("arms_industry", "stability", "governance", "autonomy"):
                if k in s:
                    self.unit01(f"{w}.{k}", s[k])
            pos = s.get("position", [0, 0])
            if not (
                isinstance(pos, list)
                and len(pos) == 2
                and all(isinstance(x, (int, float)) and -1 <= x <= 1 for x in pos)
            ):
                self.err(f"{w}.position", f"expected 2 numbers in [-1, 1], got {pos!r}")
            loc = s.get("location", [0, 0])
            if not (
                isinstance(loc, list)
                and len(loc) == 2
                and -90 <= loc[0] <= 90
                and -180 <= loc[1] <= 180
            ):
                self.err(f"{w}.location", f"expected [lat, lon], got {loc!r}")
            for k, v in (s.get("levers") or {}).items():
                if k not in LEVERS:
                    self.err(f"{w}.levers.{k}", "unknown lever")
                self.unit01(f"{w}.levers.{k}", v)
            self.against_tables(w, s)
        if len(ids) != len(set(ids)):
            self.err("states", f"duplicate ids {sorted({x for x in ids if ids.count(x) > 1})}")
        idset = set(ids)

        def known(where, x):
            if x not in idset:
                self.err(where, f"unknown state id {x!r}")

        alliances = d.get("alliances") or {}
        for name, members in alliances.items():
            for m in members:
                known(f"alliances.{name}", m)

        def pair(where, key, directed_ok):
            m = re.fullmatch(r"([A-Z]{2,3})([->])([A-Z]{2,3})", str(key))
            if not m or (m.group(2) == ">" and not directed_ok):
                self.err(where, f"bad pair {key!r}")
                return
            known(where, m.group(1))
            known(where, m.group(3))
            if m.group(1) == m.group(3):
                self.err(where, f"self pair {key!r}")

        rel = d.get("relations") or {}
        for k in set(rel) - REL:
            self.err(f"relations.{k}", "unknown key")
        for name in ("trust", "interoperability", "hostility"):
            seen = set()
            for key, v in (rel.get(name) or {}).items():
                pair(f"relations.{name}.{key}", key, name == "trust")
                self.unit01(f"relations.{name}.{key}", v)
                a, b = re.split(r"[->]", key)
                if name != "trust" and frozenset((a, b)) in seen:
                    self.err(f"relations.{name}.{key}", "pair given twice")
                seen.add(frozenset((a, b)))
        for name in ("agreements", "hotlines"):
            for key in rel.get(name) or []:
                pair(f"relations.{name}", key, False)
        for imp, row in (rel.get("dependency") or {}).items():
            known(f"relations.dependency.{imp}", imp)
            tot = 0.0
            for sup, v in row.items():
                known(f"relations.dependency.{imp}.{sup}", sup)
                if sup == imp:
                    self.err(f"relations.dependency.{imp}", "self-supply")
                self.unit01(f"relations.dependency.{imp}.{sup}", v)
                tot += v
            if tot > 1 + TOL:
                self.err(f"relations.dependency.{imp}", f"row sums to {tot:.4f} > 1")

        for i, e in enumerate(d.get("events") or []):
            w = f"events[{i}]"
            t = e.get("type")
            if t not in EVENTS:
                self.err(w, f"unknown type {t!r}")
                continue
            w = f"events[{i}]({t})"
            req, opt = EVENTS[t]
            for k in set(e) - req - opt - {"type", "step", "date"}:
                self.err(f"{w}.{k}", "unknown key")
            for k in req - set(e):
                self.err(w, f"missing {k}")
            if ("step" in e) == ("date" in e):
                self.err(w, "needs exactly one of step/date")
            s0 = self.to_step(w, e.get("step", e.get("date")))
            if s0 is not None and not (0 <= s0 < steps):
                self.err(w, f"step {s0} outside [0, {steps})")
            if "until" in e:
                s1 = self.to_step(f"{w}.until", e["until"])
                if s1 is not None and s0 is not None and not (s0 <= s1 < steps):
                    self.err(f"{w}.until", f"step {s1} not in [{s0}, {steps})")
            for k in ("state", "target", "recipient"):
                if k in e:
                    known(f"{w}.{k}", e[k])
            for k in ("suppliers", "targets", "by", "participants", "states"):
                for x in e.get(k, []) or []:
                    known(f"{w}.{k}", x)
            for k in ("severity", "value"):
                if k in e:
                    self.unit01(f"{w}.{k}", e[k])
            if "alliance" in e and e["alliance"] not in alliances:
                self.err(f"{w}.alliance", f"unknown alliance {e['alliance']!r}")
            if t == "set_lever" and e.get("lever") not in LEVERS:
                self.err(f"{w}.lever", f"unknown lever {e.get('lever')!r}")
            if "kind" in e and e["kind"] not in KINDS:
                self.err(f"{w}.kind", f"unknown kind {e['kind']!r}")
            for k in ("every",):
                if k in e and (not isinstance(e[k], int) or e[k] < 1):
                    self.err(f"{w}.{k}", "expected int >= 1")
            for k in ("volume", "scale", "factor"):
                if k in e and (not isinstance(e[k], (int, float)) or e[k] < 0):
                    self.err(f"{w}.{k}", "expected a number >= 0")
            if t in ("hotline", "war_shock") and len(e.get("states", [])) < 2:
                self.err(w, "needs at least two states")
        return self.errors

    def against_tables(self, w: str, s: dict):
        sid = s["id"]
        if sid not in self.st.index:
            self.err(w, "id not in data/states.csv")
            return
        st, j = self.st.loc[sid], self.j.loc[sid]
        expect = {
            "capability": round(float(st.capability), 4),
            "budget": round(float(st.budget), 3),
            "arms_industry": round(float(st.arms_industry), 3),
            "stability": float(j.stability),
            "governance": float(j.governance),
            "autonomy": float(j.autonomy),
        }
        for k, v in expect.items():
            if k in s and abs(s[k] - v) > 1e-6:
                self.err(f"{w}.{k}", f"{s[k]} differs from the derived tables ({v})")
        if "position" in s and [round(x, 6) for x in s["position"]] != [
            float(j.position_x),
            float(j.position_y),
        ]:
            self.err(f"{w}.position", f"{s['position']} differs from data/judgement.csv")
        if "location" in s and (
            abs(s["location"][0] - st.lat) > 0.01 or abs(s["location"][1] - st.lon) > 0.01
        ):
            self.err(
                f"{w}.location",
                f"{s['location']} differs from data/states.csv ({st.lat}, {st.lon})",
            )


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted((ROOT / "scenarios").glob("*.yaml"))
    st = pd.read_csv(ROOT / "data" / "states.csv").set_index("id")
    j = pd.read_csv(ROOT / "data" / "judgement.csv", keep_default_na=False).set_index("id")
    bad = 0
    for f in files:
        errs = Checker(f, st, j).run()
        d = (
            yaml.safe_load(f.read_text(encoding="utf-8"))
            if not errs or "yaml" not in errs[0]
            else {}
        )
        size = f.stat().st_size / 1024
        if errs:
            bad += 1
            print(f"FAIL {f.name}")
            for e in errs[:50]:
                print("  " + e)
            if len(errs) > 50:
                print(f"  ... {len(errs) - 50} more")
        else:
            rel = d.get("relations") or {}
            print(
                f"ok   {f.name}: {len(d['states'])} states, {d['steps']} steps, {len(d.get('events') or [])} "
                f"events, {sum(len(rel.get(k) or []) for k in ('trust', 'interoperability', 'hostility'))} "
                f"weighted pairs, {size:.0f} KB"
            )
        if size > 1024:
            print(f"  warning: {f.name} is larger than 1 MB")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
