"""Scheduled events: what each event type takes and what it does to the world.

`EVENT_SCHEMA` is the single description of event fields, used by the loader to
validate scenario files and by `docs/scenarios.md`. `apply_event` changes the
model's arrays; it is called by the model at the start of the event's step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.core.params import EXERCISE_KINDS, LEVERS

if TYPE_CHECKING:  # pragma: no cover
    from sim.core.model import DiplomacyModel
    from sim.core.scenario import Event


@dataclass(frozen=True)
class FieldSpec:
    """One event field. kind: state | states | alliance | step | fraction | positive | count | kind | lever | text."""

    kind: str
    required: bool = True
    default: Any = None
    doc: str = ""


EVENT_SCHEMA: dict[str, dict[str, FieldSpec]] = {
    "join_alliance": {
        "state": FieldSpec("state", doc="the joining state"),
        "alliance": FieldSpec("alliance", doc="alliance name (created if new)"),
    },
    "leave_alliance": {
        "state": FieldSpec("state", doc="the leaving state"),
        "alliance": FieldSpec("alliance", doc="alliance name"),
    },
    "embargo": {
        "suppliers": FieldSpec("states", doc="states that stop selling arms"),
        "targets": FieldSpec("states", doc="states they stop selling to"),
        "until": FieldSpec(
            "step", required=False, doc="step or date the embargo ends (default: never)"
        ),
    },
    "lift_embargo": {
        "suppliers": FieldSpec("states", doc="suppliers lifting the embargo"),
        "targets": FieldSpec("states", doc="targets it is lifted for"),
    },
    "sanctions": {
        "by": FieldSpec("states", doc="sanctioning states (also embargo arms)"),
        "target": FieldSpec("state", doc="sanctioned state"),
        "severity": FieldSpec(
            "fraction", required=False, default=0.5, doc="budget cut and trust loss, 0-1"
        ),
        "until": FieldSpec("step", required=False, doc="step or date the arms embargo part ends"),
    },
    "coup": {
        "state": FieldSpec("state", doc="state suffering a coup"),
        "severity": FieldSpec(
            "fraction", required=False, default=0.6, doc="stability and governance drop, 0-1"
        ),
        "against": FieldSpec(
            "states",
            required=False,
            doc="states the new government turns from (the old regime's backers): its "
            "bilateral agreements with them end, so their access and basing lapse, and trust "
            "both ways falls by coup_trust_loss x severity",
        ),
    },
    "turmoil": {
        "state": FieldSpec("state", doc="state in domestic turmoil"),
        "severity": FieldSpec("fraction", required=False, default=0.3, doc="stability drop, 0-1"),
    },
    "budget_change": {
        "state": FieldSpec("state", doc="state whose defense-diplomacy budget changes"),
        "factor": FieldSpec("positive", doc="multiplier of the budget (>= 0)"),
    },
    "exercise_program": {
        "participants": FieldSpec("states", doc="states exercising together (at least two)"),
        "kind": FieldSpec("kind", required=False, default="live", doc="exercise kind"),
        "every": FieldSpec("count", required=False, default=12, doc="steps between iterations"),
        "until": FieldSpec(
            "step", required=False, doc="last step of the series (default: end of run)"
        ),
        "scale": FieldSpec("positive", required=False, default=1.0, doc="size of each iteration"),
        "name": FieldSpec(
            "text", required=False, default="", doc="series name, for the activity log"
        ),
    },
    "arms_program": {
        "suppliers": FieldSpec("states", doc="supplying states"),
        "recipient": FieldSpec("state", doc="receiving state"),
        "volume": FieldSpec(
            "positive", required=False, default=0.5, doc="volume per supplier per iteration"
        ),
        "every": FieldSpec("count", required=False, default=1, doc="steps between deliveries"),
        "until": FieldSpec("step", required=False, doc="last delivery step (default: end of run)"),
    },
    "war_shock": {
        "states": FieldSpec("states", doc="the two belligerents"),
        "severity": FieldSpec("fraction", required=False, default=1.0, doc="0-1"),
    },
    "set_lever": {
        "lever": FieldSpec("lever", doc="governance lever name"),
        "value": FieldSpec("fraction", doc="new value, 0-1"),
        "state": FieldSpec("state", required=False, doc="only this state (default: every state)"),
    },
    "hotline": {
        "states": FieldSpec("states", doc="the two states opening a standing crisis channel"),
    },
}

EVENT_TYPES = tuple(EVENT_SCHEMA)
KIND_CHOICES = {"kind": EXERCISE_KINDS, "lever": LEVERS}


def _with_defaults(event: Event) -> dict[str, Any]:
    """The event's fields, with `EVENT_SCHEMA`'s default for every optional field it omits."""
    defaults = {
        name: spec.default for name, spec in EVENT_SCHEMA[event.type].items() if not spec.required
    }
    return {**defaults, **event.args}


def apply_event(model: DiplomacyModel, event: Event) -> None:
    """Change the model's world as the event says (called at the event's step)."""
    a = _with_defaults(event)
    idx = model.index_of
    kind = event.type
    p = model.p
    if kind == "join_alliance":
        model.join_alliance(idx(a["state"]), a["alliance"])
    elif kind == "leave_alliance":
        model.leave_alliance(idx(a["state"]), a["alliance"])
    elif kind in ("embargo", "lift_embargo"):
        sup = [idx(s) for s in a["suppliers"]]
        tgt = [idx(s) for s in a["targets"]]
        model.set_embargo(sup, tgt, kind == "embargo", until=a.get("until"))  # lift: no until
    elif kind == "sanctions":
        by = [idx(s) for s in a["by"]]
        target = idx(a["target"])
        sev = float(a["severity"])
        model.set_embargo(by, [target], True, until=a["until"])
        model.budget[target] *= 1.0 - p.sanctions_budget_cut * sev
        model.trust[target, by] *= 1.0 - p.sanctions_target_trust_loss * sev
        model.trust[by, target] *= 1.0 - p.sanctions_sender_trust_loss * sev
    elif kind == "coup":
        i = idx(a["state"])
        sev = float(a["severity"])
        model.stability[i] *= 1.0 - sev
        model.governance[i] *= 1.0 - p.coup_governance_loss * sev
        if a["against"]:
            model.break_with(i, [idx(s) for s in a["against"]], sev)
    elif kind == "turmoil":
        model.stability[idx(a["state"])] *= 1.0 - float(a["severity"])
    elif kind == "budget_change":
        model.budget[idx(a["state"])] *= float(a["factor"])
    elif kind == "exercise_program":
        model.programs.append(
            {
                "kind": "exercise",
                "participants": np.array([idx(s) for s in a["participants"]]),
                "exercise_kind": a["kind"],
                "every": int(a["every"]),
                "start": event.step,
                "until": a["until"],
                "scale": float(a["scale"]),
                "name": a["name"],
            }
        )
    elif kind == "arms_program":
        model.programs.append(
            {
                "kind": "arms",
                "suppliers": np.array([idx(s) for s in a["suppliers"]]),
                "recipient": idx(a["recipient"]),
                "volume": float(a["volume"]),
                "every": int(a["every"]),
                "start": event.step,
                "until": a["until"],
            }
        )
    elif kind == "war_shock":
        i, j = (idx(s) for s in a["states"])
        model.war_shock(i, j, float(a["severity"]))
    elif kind == "set_lever":
        col = LEVERS.index(a["lever"])
        if a["state"] is None:
            model.levers[:, col] = float(a["value"])
        else:
            model.levers[idx(a["state"]), col] = float(a["value"])
    elif kind == "hotline":
        i, j = (idx(s) for s in a["states"])
        model.hotline[i, j] = model.hotline[j, i] = True
    else:  # pragma: no cover - the loader rejects unknown types
        raise ValueError(f"unknown event type {kind!r}")
