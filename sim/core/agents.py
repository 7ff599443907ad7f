"""States as Mesa agents.

A `StateAgent` is one country. Its attributes live in the model's arrays (so the
model can update all states at once); the agent reads and writes them through
properties. Each step it spends its banked effort on activities, choosing among
(activity, partner) options by softmax over expected utility (Gumbel-max sampling
from the model's seeded generator), and proposes the chosen activities through the
model's verbs (`propose_exercise`, `offer_arms`, `send_advisers`, `hold_dialogue`).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.core.activities import ADVISORY, EXERCISE, EXERCISE_MIX_CDF
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
    budget = _array_attribute("budget", "defense-diplomacy effort per month")
    arms_industry = _array_attribute("arms_industry", "capacity to export arms, 0-1")
    stability = _array_attribute("stability", "domestic political stability, 0-1")
    governance = _array_attribute("governance", "institutional quality / absorptive capacity, 0-1")
    autonomy = _array_attribute("autonomy", "preference for strategic autonomy, 0-1")
    bank = _array_attribute("bank", "banked diplomacy effort, spent on activities")
    export_bank = _array_attribute(
        "export_bank", "banked export capacity (arms volume it can sell)"
    )
    orders = _array_attribute("orders", "arms volume it wants to import (its open order book)")

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
        """Choose activities until the banked effort or the per-step limit runs out, and
        propose each through the model's verbs.

        Diplomacy effort (budget) pays for exercises, advisory missions and dialogues;
        arms transfers are chosen by buyers in the arms market (`sim.core.market`).
        Each choice is a softmax over the state's options (`model.options_for`) and 'save
        the effort' (utility 0), drawn as an exponential race with the state's own noise.
        A declined proposal spends no effort.
        """
        model = self.model
        may_act = model._may_act
        if may_act is not None and not may_act[self.index]:
            return  # its first choice saves the effort, whatever happens before its turn
        options = model.options_for(self.index)
        if options is None:  # cannot afford an activity, or nothing beats saving the effort
            return
        kinds, partners, weights, costs, save_weight, noise, save_noise, kind_draws = options
        i = self.index
        # The bank, read and written once here from the array behind the `bank` property
        # (the property costs 2 Python calls per acting state).
        bank = float(model.bank[i])
        for row, (draw, save, kind_draw) in enumerate(
            zip(noise, save_noise, kind_draws, strict=True)
        ):
            pick, best = -1, save_weight * save
            for j in range(len(kinds)):
                if costs[j] > bank:
                    continue  # not affordable any more
                value = weights[j] * draw[j]
                if value > best:
                    pick, best = j, value
            if pick < 0:  # saving the effort wins
                break
            kind, partner = kinds[pick], partners[pick]
            weights[pick] = 0.0  # each option at most once per step
            if kind == EXERCISE:
                accepted = self.plan_exercise(partner, kind_draw, row)
            elif kind == ADVISORY:
                accepted = model.send_advisers(i, partner)
            else:
                accepted = model.hold_dialogue(i, partner)
            if accepted:  # a declined proposal spends no effort
                bank -= costs[pick]
        model.bank[i] = bank

    def plan_exercise(self, partner: int, kind_draw: float, row: int = 0) -> bool:
        """Propose an exercise with `partner` if it would join (sounded out first: a
        partner that would decline is asked alone, and declines): with probability
        `multilateral_share`, invite up to `max_exercise_size - 2` more of the states this
        one most wants to exercise with (softmax-perturbed expected utility, only those
        worth it); the kind is the `EXERCISE_MIX` quantile of `kind_draw`. The invitation
        draws are this state's for its `row`-th choice this step (invitations stream,
        `model.invitation_noise`). Each invitee accepts or declines (`model.consent`);
        returns whether anyone accepted."""
        model = self.model
        p = model.p
        i = self.index
        kind = bisect.bisect_right(EXERCISE_MIX_CDF, kind_draw)
        if not model.would_join_exercise(partner, i):  # sounded out: no exercise to plan
            # the decline is counted: what `propose_exercise(i, [partner], kind)` does when
            # its one partner would not join, without asking again (measured: 3 in 4
            # planned exercises of the world scenario end here)
            model.declines[EXERCISE] += 1
            return False
        partners = [partner]
        multilateral, size_draw = model.invitation_draws[i, row].tolist()
        if p.max_exercise_size > 2 and multilateral < p.multilateral_share:
            extra = 1 + int(size_draw * (p.max_exercise_size - 2))  # uniform on 1..size-2
            scores = model.expected_utilities(i, EXERCISE) + p.temperature * model.invitation_noise(
                i, row
            )
            scores[i] = scores[partner] = -np.inf
            best = np.argpartition(-scores, extra)[:extra] if extra < model.n else range(model.n)
            partners += [int(c) for c in best if scores[c] > 0.0]
        return model.propose_exercise(i, partners, kind)
