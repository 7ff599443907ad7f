"""States as Mesa agents.

A `StateAgent` is one country. Its attributes live in the model's arrays (so the
model can update all states at once); the agent reads and writes them through
properties. Each step it spends its banked effort on activities, choosing among
(activity, partner) options by softmax over expected utility (Gumbel-max sampling
from the model's seeded generator), and files the chosen activities with the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.activities import ADVISORY, ARMS, EXERCISE, plan_exercise
from sim.scenario import StateSpec

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import DiplomacyModel


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
        """
        model = self.model
        i = self.index
        bank = model.bank[i]
        export_bank = model.export_bank[i]
        if bank < model.min_cost and export_bank < model.p.cost_arms_transfer:
            return
        row = model.utilities[i]
        options = model.shortlists[i]
        utility = row[options]
        keep = utility > 0.0  # options expected to do worse than saving the effort are dropped
        if not keep.any():
            return
        options = options[keep]
        costs = model.costs[options]
        n = model.n
        p = model.p
        is_export = options // n == ARMS
        # Softmax choice by Gumbel-max; the last slot is 'save the effort' (utility 0).
        k = options.size
        scores = np.zeros(k + 1)
        scores[:k] = utility[keep] / p.temperature
        noise = model.rng.gumbel(size=(p.max_activities, k + 1))
        for draw in noise:
            draw += scores
            draw[:k][costs > np.where(is_export, export_bank, bank)] = -np.inf
            pick = int(draw.argmax())
            if pick == k or draw[pick] == -np.inf:
                break
            kind, partner = divmod(int(options[pick]), n)
            if kind == EXERCISE:
                plan_exercise(model, i, partner, row)
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
            scores[pick] = -np.inf
        model.bank[i] = bank
        model.export_bank[i] = export_bank
