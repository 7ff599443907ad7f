"""What the scenario scripted, told apart from what the model produced.

Everything here is derived from what a run already records, without changing the model:

- the scenario's events (`results.scenario.events`, saved in scenario.yaml): wars
  (`war_shock`), alliance joins and leaves, embargoes, sanctions, coups, budget changes,
  lever changes, hotlines, and the standing exercise and arms programs;
- crises with outcome ``war``: only a `war_shock` event produces them, so every war in the
  crises table is an input, never a model outcome;
- activities a program produced: exercise-program iterations carry the program's name in
  ``series``; unnamed exercise programs and arms programs are matched on their schedule
  (step, initiator, partners, and for arms the programmed volume).

An event scheduled at scenario step s is applied in the model's step s + 1, so its effect first
appears in the row of step s + 1; `ScriptedEvent.step` is that step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

PROGRAM_TYPES = ("exercise_program", "arms_program")
# Label priority of point events (lower first when space for labels is short).
_PRIORITY = {
    "war_shock": 0,
    "join_alliance": 1,
    "leave_alliance": 1,
    "sanctions": 2,
    "embargo": 2,
    "lift_embargo": 3,
    "coup": 3,
    "hotline": 4,
    "set_lever": 4,
    "budget_change": 5,
    "turmoil": 5,
}
# Plural nouns for counts, in the order the summary lists them.
KIND_NAMES = {
    "war_shock": ("war", "wars"),
    "exercise_program": ("exercise program", "exercise programs"),
    "arms_program": ("arms program", "arms programs"),
    "join_alliance": ("alliance join", "alliance joins"),
    "leave_alliance": ("alliance exit", "alliance exits"),
    "embargo": ("embargo", "embargoes"),
    "lift_embargo": ("embargo lifted", "embargoes lifted"),
    "sanctions": ("sanctions package", "sanctions packages"),
    "coup": ("coup", "coups"),
    "turmoil": ("domestic turmoil", "domestic turmoil events"),
    "budget_change": ("budget change", "budget changes"),
    "set_lever": ("governance lever change", "governance lever changes"),
    "hotline": ("hotline opened", "hotlines opened"),
}
SHORT_KINDS = (
    "war_shock",
    "exercise_program",
    "arms_program",
    "join_alliance",
    "embargo",
    "sanctions",
)


@dataclass(frozen=True)
class ScriptedEvent:
    """One scheduled event of the scenario."""

    step: int  # the step whose row first shows its effect (scenario step + 1)
    scenario_step: int
    type: str
    states: tuple[str, ...]
    short: str  # a few words for a marker label: 'war India–Pakistan'
    text: str  # one line for tables: 'war_shock India–Pakistan, severity 0.3'

    @property
    def priority(self) -> int:
        """Label priority (0 = most important)."""
        return _PRIORITY.get(self.type, 6)

    @property
    def initial(self) -> bool:
        """True for events at scenario step 0: part of the starting conditions."""
        return self.scenario_step == 0


@dataclass(frozen=True)
class Program:
    """A standing exercise series or arms program."""

    type: str
    name: str
    participants: tuple[str, ...]  # exercise: initiator first; arms: the suppliers
    recipient: str | None
    start: int  # scenario step
    every: int
    until: int | None
    volume: float | None = None

    def steps(self, last: int) -> np.ndarray:
        """Steps (as recorded) at which the program runs, up to `last`."""
        end = last - 1 if self.until is None else min(self.until, last - 1)
        if end < self.start:
            return np.zeros(0, dtype=np.int64)
        return np.arange(self.start, end + 1, max(self.every, 1), dtype=np.int64) + 1

    @property
    def text(self) -> str:
        """One line for tables."""
        if self.type == "exercise_program":
            label = self.name or "unnamed exercise series"
            return f"{label}: {', '.join(self.participants)} every {self.every} steps"
        return (
            f"arms {', '.join(self.participants)} -> {self.recipient}, "
            f"{self.volume:g} every {self.every} steps"
        )


@dataclass(frozen=True)
class ScenarioInputs:
    """The scenario's scripted inputs of one run."""

    events: tuple[ScriptedEvent, ...] = ()
    programs: tuple[Program, ...] = ()
    known: bool = False  # False when the run has no scenario (wars are still known)
    names: Mapping[str, str] = field(default_factory=dict)

    def of_type(self, *types: str) -> list[ScriptedEvent]:
        """Events of these types, in step order."""
        return [e for e in self.events if e.type in types]

    def counts(self) -> dict[str, int]:
        """Number of scripted items per event type (programs included), in `KIND_NAMES` order."""
        out: dict[str, int] = {}
        for kind in KIND_NAMES:
            n = sum(p.type == kind for p in self.programs) + sum(
                e.type == kind for e in self.events
            )
            if n:
                out[kind] = n
        return out

    def counts_text(self, until: int | None = None, short: bool = False) -> str:
        """'wars 3, exercise programs 11, embargoes 2' (only events applied by `until`);
        `short`: the main kinds only (`SHORT_KINDS`), the rest as 'other events k'."""
        parts = []
        rest = 0
        for kind in KIND_NAMES:
            n = sum(
                p.type == kind and (until is None or p.start + 1 <= until) for p in self.programs
            ) + sum(e.type == kind and (until is None or e.step <= until) for e in self.events)
            if n and short and kind not in SHORT_KINDS:
                rest += n
            elif n:
                parts.append(f"{KIND_NAMES[kind][1 if n != 1 else 0]} {n}")
        if rest:
            parts.append(f"other events {rest}")
        return ", ".join(parts)

    def markers(self) -> list[ScriptedEvent]:
        """Point events to mark on time axes: everything but programs and the starting
        conditions (scenario step 0)."""
        return [e for e in self.events if not e.initial]


def _name(names: Mapping[str, str], sid: str) -> str:
    return str(names.get(sid, sid))


def _short_names(names: Mapping[str, str], ids: Sequence[str], limit: int = 2) -> str:
    """'India–Pakistan'; 'Russia' ; '5 states' beyond `limit`; ids when names are long."""
    ids = list(ids)
    if len(ids) > limit:
        return f"{len(ids)} states"
    full = "–".join(_name(names, s) for s in ids)
    return full if len(full) <= 24 else "–".join(ids)


def _describe(event: Any, names: Mapping[str, str]) -> tuple[tuple[str, ...], str, str]:
    """(states involved, short label, one-line text) of a scenario event."""
    a = dict(event.args)
    kind = event.type
    if kind == "war_shock":
        states = tuple(a["states"])
        who = _short_names(names, states)
        return states, f"war {who}", f"war (war_shock) {who}, severity {a.get('severity', 1.0):g}"
    if kind in ("join_alliance", "leave_alliance"):
        verb = "joins" if kind == "join_alliance" else "leaves"
        s = a["state"]
        return (s,), f"{_name(names, s)} {verb} {a['alliance']}", f"{s} {verb} {a['alliance']}"
    if kind in ("embargo", "lift_embargo"):
        targets, suppliers = tuple(a["targets"]), tuple(a["suppliers"])
        who = _short_names(names, targets)
        head = "arms embargo on" if kind == "embargo" else "embargo lifted:"
        until = f" until step {a['until']}" if a.get("until") is not None else ""
        return (
            suppliers + targets,
            f"{head} {who}",
            f"{head} {', '.join(targets)} by {', '.join(suppliers)}{until}",
        )
    if kind == "sanctions":
        t = a["target"]
        return (
            (*a["by"], t),
            f"sanctions on {_name(names, t)}",
            f"sanctions on {t} by {', '.join(a['by'])}, severity {a.get('severity', 0.5):g}",
        )
    if kind in ("coup", "turmoil"):
        s = a["state"]
        return (
            (s,),
            f"{kind} {_name(names, s)}",
            f"{kind} in {s}, severity {a.get('severity', 0):g}",
        )
    if kind == "budget_change":
        s = a["state"]
        return (
            (s,),
            f"{_name(names, s)} budget ×{a['factor']:g}",
            f"{s} defense-diplomacy budget ×{a['factor']:g}",
        )
    if kind == "set_lever":
        who = a.get("state") or "all states"
        return (
            (a["state"],) if a.get("state") else (),
            f"{a['lever']} {a['value']:g}",
            f"governance lever {a['lever']} = {a['value']:g} ({who})",
        )
    if kind == "hotline":
        states = tuple(a["states"])
        who = _short_names(names, states)
        return states, f"hotline {who}", f"hotline {who}"
    return (), kind.replace("_", " "), kind


def scenario_inputs(results: Any, names: Mapping[str, str] | None = None) -> ScenarioInputs:
    """The scripted inputs of a run (`RunResults` with `.scenario`), or of a `Scenario`."""
    scenario = results if hasattr(results, "events") else getattr(results, "scenario", None)
    if names is None:
        meta = getattr(results, "meta", {}) or {}
        ids, raw = list(meta.get("states") or []), meta.get("names") or {}
        names = dict(zip(ids, raw, strict=False)) if isinstance(raw, list) else dict(raw)
        if scenario is not None and not names:
            names = dict(zip(scenario.ids, scenario.labels, strict=True))
    if scenario is None:
        return ScenarioInputs(names=names)
    events, programs = [], []
    for ev in sorted(scenario.events, key=lambda e: e.step):
        a = dict(ev.args)
        if ev.type == "exercise_program":
            programs.append(
                Program(
                    ev.type,
                    str(a.get("name") or ""),
                    tuple(a["participants"]),
                    None,
                    int(ev.step),
                    int(a.get("every", 12)),
                    None if a.get("until") is None else int(a["until"]),
                )
            )
        elif ev.type == "arms_program":
            programs.append(
                Program(
                    ev.type,
                    "",
                    tuple(a["suppliers"]),
                    str(a["recipient"]),
                    int(ev.step),
                    int(a.get("every", 1)),
                    None if a.get("until") is None else int(a["until"]),
                    float(a.get("volume", 0.5)),
                )
            )
        else:
            states, short, text = _describe(ev, names)
            events.append(
                ScriptedEvent(int(ev.step) + 1, int(ev.step), ev.type, states, short, text)
            )
    return ScenarioInputs(tuple(events), tuple(programs), True, names)


def scripted_activities(activities: pd.DataFrame, inputs: ScenarioInputs) -> np.ndarray:
    """Boolean mask of the activities a scripted program produced (see module docstring)."""
    mask = np.zeros(len(activities), dtype=bool)
    if activities.empty:
        return mask
    if "series" in activities:
        mask |= activities["series"].fillna("").astype(str).to_numpy() != ""
    if not inputs.programs:
        return mask
    last = int(activities["step"].max())
    expected = []
    for prog in inputs.programs:
        steps = prog.steps(last)
        if prog.type == "exercise_program":
            if prog.name:  # named series are already flagged by `series`
                continue
            expected.append(
                pd.DataFrame(
                    {
                        "step": steps,
                        "activity": "exercise",
                        "initiator": prog.participants[0],
                        "partners": ";".join(prog.participants[1:]),
                        "size": np.nan,
                    }
                )
            )
        else:
            for supplier in prog.participants:
                expected.append(
                    pd.DataFrame(
                        {
                            "step": steps,
                            "activity": "arms_transfer",
                            "initiator": supplier,
                            "partners": prog.recipient,
                            "size": prog.volume,
                        }
                    )
                )
    if not expected:
        return mask
    keys = ["step", "activity", "initiator", "partners"]
    want = pd.concat(expected, ignore_index=True).drop_duplicates(keys)
    have = activities[keys + ["size"]].copy()
    have["_row"] = np.arange(len(activities))
    have = have[~mask]
    matched = have.merge(want, on=keys, suffixes=("", "_want"))
    ok = matched["size_want"].isna() | np.isclose(matched["size"], matched["size_want"])
    matched = matched[ok].drop_duplicates(keys)  # one program row per scheduled delivery
    mask[matched["_row"].to_numpy()] = True
    return mask


def scripted_crises(crises: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the crises the scenario scripted: wars (only `war_shock` makes them)."""
    if crises.empty:
        return np.zeros(0, dtype=bool)
    return (crises["outcome"].astype(str) == "war").to_numpy()


__all__ = [
    "KIND_NAMES",
    "Program",
    "ScenarioInputs",
    "ScriptedEvent",
    "scenario_inputs",
    "scripted_activities",
    "scripted_crises",
]
