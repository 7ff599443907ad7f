"""Two-sided defense diplomacy (issue 15), at default parameters over several seeds:
partners consent, buyers choose suppliers, embargoes bite, backing deters."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from scipy import stats

from sim.core.model import DiplomacyModel
from sim.scenarios.loader import load_scenario
from tests.worlds import exercise_program, world

ROOT = Path(__file__).resolve().parents[1]
SEEDS = range(10)


def _scenario(name: str, **changes):
    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    return dataclasses.replace(sc, **changes) if changes else sc


def _ci(values) -> tuple[float, float]:
    """95% t confidence interval of the mean."""
    x = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return x.mean() - half, x.mean() + half


def _hostile_exercises(m: DiplomacyModel, scripted: bool) -> int:
    """Exercises (chosen or scripted) with two participants at hostility >= the red line
    at the start of the run."""
    count = 0
    for _t, kind, _k, init, partners, _s, series, *_ in m.activity_log:
        if kind == "exercise" and bool(series) == scripted:
            who = [init, *partners]
            count += bool((m.hostility0[np.ix_(who, who)] >= m.p.consent_max_hostility).any())
    return count


def test_no_chosen_exercise_between_rivals_but_scripted_programs_run():
    """Middle East (Iran, Israel, Gulf states, Turkey ...): before consent, about 89 chosen
    exercises a run paired rivals; now none, over 10 seeds. A scripted series between
    rivals still runs as written."""
    program = exercise_program(0, ["BLU", "RED"], every=6)
    for seed in SEEDS:
        m = DiplomacyModel(_scenario("middle_east", steps=60), rng=seed)
        m.run()
        assert _hostile_exercises(m, scripted=False) == 0
        assert sum(m.declines) > 0
        small = DiplomacyModel(world(steps=24, events=(program,)), rng=seed)
        small.run()
        assert _hostile_exercises(small, scripted=True) == 4  # steps 0, 6, 12, 18


def test_multilateral_invitations_never_add_rivals_of_participants():
    for seed in SEEDS:
        m = DiplomacyModel(world(steps=36, multilateral_share=1.0), rng=seed)
        m.run()
        assert _hostile_exercises(m, scripted=False) == 0
        sizes = [len(r[4]) for r in m.activity_log if r[1] == "exercise"]
        assert max(sizes) >= 2  # multilateral exercises still happen
