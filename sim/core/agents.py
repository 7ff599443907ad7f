"""States as Mesa agents.

A `StateAgent` is one country. Its attributes live in the model's arrays (so the
model can update all states at once); the agent reads and writes them through
properties. Each step it spends its banked effort on activities, choosing among
(activity, partner) options by softmax over expected utility (Gumbel-max sampling
from the model's seeded generator), and files the chosen activities with the model.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.core.activities import ADVISORY, ARMS, EXERCISE, plan_exercise
from sim.core.scenario import StateSpec

if TYPE_CHECKING:  # pragma: no cover
    from sim.core.model import DiplomacyModel


def _array_attribute(name: str, doc: str) -> property:
    """A property reading/writing this agent's entry of the model array `name`."""

    def get(self: StateAgent) -> float:
        return float(getattr(self.model, name)[self.index])

    def set_(self: StateAgent, value: float) -> None:
        getattr(self.model, name)[self.index] = value

    return property(get, set_, doc=doc)


class StateAgent(mesa.Agent):
    """A state: spends defense-diplomacy effort on exercises, arms transfers, advisory
    missions and dialogues with the partners that promise the most."""

    model: DiplomacyModel

    capability = _array_attribute("capability", "military power (strongest state = 1 at start)")
    budget = _array_attribute("budget", "defense-diplomacy effort per step")
    arms_industry = _array_attribute("arms_industry", "capacity to export arms, 0-1")
    stability = _array_attribute("stability", "domestic political stability, 0-1")
    governance = _array_attribute("governance", "institutional quality / absorptive capacity, 0-1")
    autonomy = _array_attribute("autonomy", "preference for strategic autonomy, 0-1")

    def __init__(self, model: DiplomacyModel, spec: StateSpec, index: int) -> None:
        super().__init__(model)
        self.code = spec.id
        self.name = spec.label
        self.index = index

    @property
    def position(self) -> np.ndarray:
        """Ideal point in political space."""
        return self.model.position[self.index]

    @property
    def location(self) -> np.ndarray:
        """Capital latitude and longitude (degrees)."""
        return self.model.location[self.index]

    def __repr__(self) -> str:
        return f"StateAgent({self.code})"

    def step(self) -> None:
        """Choose and file activities until the banked effort or the per-step limit runs out.

        Diplomacy effort (budget) pays for exercises, advisory missions and dialogues;
        arms transfers draw on a separate export capacity fed by the arms industry.
        Each choice is a softmax over the state's consideration set (`model.choices`), drawn
        by Gumbel-max; the last slot of each draw is 'save the effort' (utility 0).
        """
        model = self.model
        i = self.index
        r = model.option_row[i]
        if r < 0:  # cannot afford any activity this step
            return
        choices = model.choices
        lo, hi = choices.start[r], choices.start[r + 1]
        if lo == hi:  # nothing expected to do better than saving the effort
            return
        options, scores, costs = choices.options[lo:hi], choices.scores[lo:hi], choices.costs[lo:hi]
        n = model.n
        p = model.p
        bank = float(model.bank[i])
        export_bank = float(model.export_bank[i])
        for draw in model.rng.gumbel(size=(p.max_activities, len(options) + 1)).tolist():
            pick, best = -1, -math.inf
            for j, option in enumerate(options):
                if costs[j] > (export_bank if option // n == ARMS else bank):
                    continue  # not affordable any more
                value = draw[j] + scores[j]
                if value > best:
                    pick, best = j, value
            if draw[-1] > best:  # saving the effort wins
                break
            kind, partner = divmod(options[pick], n)
            if kind == EXERCISE:
                plan_exercise(model, i, partner, model.utilities[r])
            elif kind == ARMS:
                model.book.transfers.append((i, partner, p.arms_volume * model.arms_industry[i]))
            elif kind == ADVISORY:
                model.book.advisory.append((i, partner))
            else:
                model.book.dialogues.append((i, partner))
            if kind == ARMS:
                export_bank -= costs[pick]
            else:
                bank -= costs[pick]
            scores[pick] = -math.inf  # each option at most once per step
        model.bank[i] = bank
        model.export_bank[i] = export_bank
