"""Model behaviour: Mesa wiring, determinism, analytic cases, events, and invariants."""

from __future__ import annotations

import subprocess
import sys

import mesa
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.core import model as model_module
from sim.core.activities import Proposal
from sim.core.agents import StateAgent
from sim.core.crises import militarized_incident
from sim.core.metrics import InvariantError, check_invariants
from sim.core.model import PHASES, TIMING_GROUPS, DiplomacyModel
from sim.core.params import Parameters
from sim.core.scenario import Event, StateSpec
from sim.core.streams import STREAMS, RandomStreams
from sim.core.synthetic import synthetic_world
from tests.worlds import BASE_STATES, assert_finite_tables, exercise_program, world


def test_states_are_mesa_agents_and_model_uses_rng():
    m = DiplomacyModel(world())
    assert isinstance(m, mesa.Model)
    agents = list(m.agents_by_type[StateAgent])
    assert [a.code for a in agents] == list(BASE_STATES)
    assert all(isinstance(a, mesa.Agent) for a in agents)
    assert isinstance(m.rng, np.random.Generator)
    blu = agents[0]
    blu.stability = 0.5  # agent attributes are views of the model's arrays
    assert m.stability[0] == 0.5 and blu.stability == 0.5


def _tables(model: DiplomacyModel) -> dict[str, pd.DataFrame]:
    return model.run().tables()


def test_same_seed_identical_tables_different_seed_differs():
    a = _tables(DiplomacyModel(world(seed=3)))
    b = _tables(DiplomacyModel(world(seed=3)))
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    c = _tables(DiplomacyModel(world(seed=4)))
    assert not a["activities"].equals(c["activities"])


def test_seed_argument_overrides_scenario_seed():
    a = _tables(DiplomacyModel(world(seed=3), rng=11))
    b = _tables(DiplomacyModel(world(seed=99), rng=11))
    pd.testing.assert_frame_equal(a["world"], b["world"])


def test_identical_across_processes():
    code = (
        "import hashlib, pandas as pd\n"
        "from sim.core.model import DiplomacyModel\n"
        "from sim.core.synthetic import synthetic_world\n"
        "r = DiplomacyModel(synthetic_world(25, seed=5, steps=40)).run()\n"
        "h = hashlib.sha256()\n"
        "for t in r.tables().values(): h.update(pd.util.hash_pandas_object(t, index=True).values.tobytes())\n"
        "print(h.hexdigest())\n"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    }
    assert len(outs) == 1


def _richardson_pair(
    a: float, b: float, m: float, n: float, g: float, h: float, steps: int
) -> np.ndarray:
    states = {
        "XXX": dict(
            capability=0.2,
            location=(0.0, 0.0),
            richardson={"reactivity": a, "fatigue": m, "ambition": g},
        ),
        "YYY": dict(
            capability=0.3,
            location=(0.0, 10.0),
            richardson={"reactivity": b, "fatigue": n, "ambition": h},
        ),
    }
    sc = world(
        states,
        hostility={("XXX", "YYY"): 1.0},
        steps=steps,
        activities=0,
        crisis_rate=0.0,
        richardson_dt=0.05,
    )
    model = DiplomacyModel(sc)
    model.run()
    return model.capability.copy()


@pytest.mark.parametrize(
    ("a", "b", "m", "n", "g", "h"),
    [(1, 1, 2, 2, 1, 1), (1, 0.5, 2, 1, 1, 2), (0.3, 0.8, 1.0, 1.5, 0.2, 0.5)],
)
def test_richardson_converges_to_analytic_equilibrium(a, b, m, n, g, h):
    x_star = (a * h + n * g) / (m * n - a * b)
    y_star = (b * g + m * h) / (m * n - a * b)
    x, y = _richardson_pair(a, b, m, n, g, h, steps=1500)
    assert x == pytest.approx(x_star, rel=0.01)
    assert y == pytest.approx(y_star, rel=0.01)


def test_richardson_diverges_when_reactions_outweigh_fatigue():
    x, y = _richardson_pair(1, 1, 0.5, 0.5, 1, 1, steps=400)  # m*n = 0.25 < a*b = 1
    assert x > 100 and y > 100
    assert np.isfinite([x, y]).all()


def test_militarized_incident_collapses_trust_and_entangles_partners():
    m = DiplomacyModel(world(trust={("AZR", "BLU"): 0.9}, interoperability={("AZR", "BLU"): 0.8}))
    blu, azr, red, gry = (m.index[s] for s in ("BLU", "AZR", "RED", "GRY"))
    before_trust = m.trust[blu, red], m.trust[red, blu]
    before_risk = m.risk[azr, red], m.risk[gry, red]
    before_h = m.hostility[blu, red]
    militarized_incident(m, blu, red, 1.0)
    assert m.trust[blu, red] < before_trust[0] and m.trust[red, blu] < before_trust[1]
    assert m.hostility[blu, red] > before_h
    assert m.risk[azr, red] > before_risk[0] + 0.05  # AZR backs BLU: drawn in
    assert m.risk[gry, red] == pytest.approx(
        before_risk[1], abs=1e-3
    )  # no ties to BLU: not drawn in
    check_invariants(m)


def test_events_change_the_world():
    events = (
        Event(2, "join_alliance", {"state": "GRY", "alliance": "Pact"}),
        Event(5, "coup", {"state": "CYN", "severity": 0.8}),
        Event(3, "embargo", {"suppliers": ["BLU"], "targets": ["CYN"], "until": 10}),
        Event(4, "budget_change", {"state": "AZR", "factor": 2.0}),
        Event(6, "war_shock", {"states": ["RED", "GRY"], "severity": 1.0}),
        Event(7, "set_lever", {"lever": "transparency", "value": 0.9, "state": None}),
        Event(8, "hotline", {"states": ["BLU", "RED"]}),
        Event(9, "leave_alliance", {"state": "AZR", "alliance": "Pact"}),
    )
    m = DiplomacyModel(world(events=events, steps=12, alliances={"Pact": ["BLU", "AZR"]}))
    ix = m.index
    m.run(4)  # events at steps 0..3 applied
    assert m.agreements[ix["GRY"], ix["BLU"]]
    assert m.embargo[ix["BLU"], ix["CYN"]]
    stability_before = m.stability[ix["CYN"]]
    m.run(6)  # through step 9
    assert m.stability[ix["CYN"]] < stability_before * 0.5
    assert m.budget[ix["AZR"]] == pytest.approx(2.0)
    assert m.hostility0[ix["RED"], ix["GRY"]] >= 0.8
    assert (m.levers[:, 0] == 0.9).all()
    assert m.hotline[ix["BLU"], ix["RED"]]
    assert not m.agreements[ix["AZR"], ix["GRY"]]
    m.run(2)
    assert not m.embargo[ix["BLU"], ix["CYN"]]  # ended at step 10
    crises = m.results().crises
    assert (crises.outcome == "war").sum() == 1


def test_embargo_blocks_programmed_transfers():
    program = Event(
        0,
        "arms_program",
        {"suppliers": ["BLU"], "recipient": "GRY", "volume": 1.0, "every": 1, "until": None},
    )
    embargo = Event(0, "embargo", {"suppliers": ["BLU"], "targets": ["GRY"], "until": None})
    free = DiplomacyModel(world(events=(program,), steps=10, activities=0)).run()
    blocked = DiplomacyModel(world(events=(program, embargo), steps=10, activities=0)).run()
    assert (free.activities.activity == "arms_transfer").sum() == 10
    assert (blocked.activities.activity == "arms_transfer").sum() == 0


def test_agreement_emerges_from_sustained_cooperation_and_lapses_with_neglect():
    two = {k: BASE_STATES[k] for k in ("AZR", "CYN")}
    drill = exercise_program(0, ["AZR", "CYN"], every=1, scale=3.0)
    formed = DiplomacyModel(
        world(two, hostility={}, events=(drill,), steps=80, activities=0, crisis_rate=0.0)
    )
    formed.run()
    assert formed.agreements[0, 1] and formed.agreements_formed == 1
    lapsing = DiplomacyModel(
        world(
            two,
            hostility={},
            agreements=(("AZR", "CYN"),),
            steps=60,
            activities=0,
            lapse_steps=24,
            trust={("AZR", "CYN"): 0.2, ("CYN", "AZR"): 0.2},
        )
    )
    lapsing.run()
    assert not lapsing.agreements[0, 1] and lapsing.agreements_lapsed == 1


def test_tables_have_expected_shape():
    sc = world(steps=30, record_every=5)
    r = DiplomacyModel(sc, record_dyads=10).run()
    assert list(r.world.step) == [0, 5, 10, 15, 20, 25, 30]
    assert len(r.states) == 7 * len(sc.states)
    assert len(r.dyads) == 4 * 10  # steps 0, 10, 20, 30 x 10 pairs
    assert set(r.activities.activity) <= {"exercise", "arms_transfer", "advisory", "dialogue"}
    across = [c for c in r.world if c.endswith("_across")]  # undefined with a single bloc
    assert r.world.drop(columns=across).notna().all().all() and r.states.notna().all().all()
    one_bloc = r.states.groupby("step").bloc.nunique() == 1
    assert (r.world.set_index("step")[across].isna().any(axis=1) <= one_bloc).all()


def test_one_state_and_no_relations_run_cleanly():
    solo = world({"ONE": BASE_STATES["BLU"]}, hostility={}, steps=12, debug_invariants=1)
    r = DiplomacyModel(solo).run()
    assert len(r.world) == 13
    assert_finite_tables(r.tables())
    assert r.world["trust_within"].isna().all()  # one state: no pairs, so undefined


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 14),
    seed=st.integers(0, 2**31 - 1),
    temperature=st.floats(0.01, 5.0),
    crisis_rate=st.floats(0.0, 1.0),
    exercise_interop=st.floats(0.0, 1.0),
    exercise_signal=st.floats(0.0, 1.0),
    incident_risk=st.floats(0.0, 1.0),
    entanglement=st.floats(0.0, 1.0),
    stock_decay=st.floats(0.0, 1.0),
    reactivity=st.floats(0.0, 2.0),
    budget_scale=st.floats(0.0, 50.0),
)
def test_invariants_hold_under_random_parameters(
    n,
    seed,
    temperature,
    crisis_rate,
    exercise_interop,
    exercise_signal,
    incident_risk,
    entanglement,
    stock_decay,
    reactivity,
    budget_scale,
):
    params = Parameters(
        temperature=temperature,
        crisis_rate=crisis_rate,
        exercise_interop=exercise_interop,
        exercise_signal=exercise_signal,
        incident_risk=incident_risk,
        entanglement=entanglement,
        stock_decay=stock_decay,
        reactivity=reactivity,
        debug_invariants=1,  # the model checks every step and names what broke
        alignment_interval=5,
    )
    sc = synthetic_world(n, seed=seed, steps=25, parameters=params)
    sc = sc.__class__(
        **{
            **sc.__dict__,
            "states": tuple(
                StateSpec(**{**s.__dict__, "budget": s.budget * budget_scale}) for s in sc.states
            ),
        }
    )
    m = DiplomacyModel(sc)
    r = m.run()
    check_invariants(m)
    assert np.allclose(m.interoperability, m.interoperability.T)
    assert np.allclose(m.risk, m.risk.T) and np.allclose(m.hostility, m.hostility.T)
    assert (m.dependency.sum(axis=1) <= 1 + 1e-9).all()
    assert_finite_tables(r.tables())
    assert ((r.states.hedging >= 0) & (r.states.hedging <= 1)).all()
    assert ((r.world.polarization >= 0) & (r.world.polarization <= 1)).all()


# ------------------------------------------------------------------ the step and the verbs
def test_the_step_is_the_named_sequence_of_phases_each_timed_in_one_group():
    m = DiplomacyModel(world(steps=24))
    assert all(callable(getattr(m, name)) for name in PHASES)
    assert set(TIMING_GROUPS) == set(PHASES)
    timings = m.time_phases()
    assert list(timings) == [
        "decisions",
        "effects",
        "relaxation",
        "crises",
        "alignment",
        "recording",
    ]
    m.run()
    assert all(seconds > 0 for seconds in timings.values()) and m.timings is timings


def test_a_broken_invariant_names_the_phase_that_broke_it():
    class Overtrusting(DiplomacyModel):
        def relax(self) -> None:
            super().relax()
            self.trust[0, 1] = 1.5

    with pytest.raises(InvariantError, match=r"trust outside \[0, 1\].*after phase relax"):
        Overtrusting(world(debug_invariants=1)).run(2)
    Overtrusting(world(debug_invariants=0)).run(2)  # unchecked: no error


class _Declining(DiplomacyModel):
    """A model in which RED declines every proposal (and GRY is never asked)."""

    def consent(self, proposal: Proposal):
        return [k for k in proposal.partners if self.ids[k] != "RED"]


def test_consent_decides_which_proposals_are_filed_but_not_scripted_programs():
    program = exercise_program(0, ["GRY", "RED"], every=6)
    base = DiplomacyModel(world(seed=5, events=(program,), multilateral_share=1.0)).run()
    declined = _Declining(world(seed=5, events=(program,), multilateral_share=1.0)).run()

    def red_as_partner(acts: pd.DataFrame, series: bool) -> pd.DataFrame:
        chosen = acts[(acts.series != "") == series]
        return chosen[chosen.partners.str.split(";").map(lambda p: "RED" in p)]

    assert len(red_as_partner(base.activities, series=False)) > 0  # RED is asked at all
    assert len(red_as_partner(declined.activities, series=False)) == 0
    assert len(red_as_partner(declined.activities, series=True)) == 10  # due at 0, 6, ..., 54


def test_agents_act_through_the_verbs_with_named_options():
    m = DiplomacyModel(world(steps=12))
    calls: list[tuple] = []
    for verb in ("propose_exercise", "offer_arms", "send_advisers", "hold_dialogue"):
        original = getattr(m, verb)

        def spy(*args, _verb=verb, _original=original):
            accepted = _original(*args)
            calls.append((_verb, accepted, *args))
            return accepted

        setattr(m, verb, spy)
    r = m.run()
    kinds = {"propose_exercise": "exercise", "offer_arms": "arms_transfer"}
    kinds |= {"send_advisers": "advisory", "hold_dialogue": "dialogue"}
    filed = r.activities.activity.value_counts().to_dict()
    assert {kinds[c[0]] for c in calls} == set(filed)  # every activity came through a verb
    assert sum(filed.values()) == sum(1 for c in calls if c[1])  # only accepted ones filed
    m.run(1)
    acting = [i for i in range(m.n) if m.options_for(i) is not None]
    options = m.options_for(acting[0])
    assert len(options.kind) == len(options.partner) == len(options.weight) == len(options.cost)
    assert all(0 <= k < 4 for k in options.kind) and acting[0] not in options.partner


def test_modelling_numbers_live_in_params():
    """Every modelling number of the core is a parameter (params.py) or a named constant:
    the model code holds only arithmetic (0, 1/2, 1, 2, 4), tolerances below 1e-5, and
    module-level UPPER_CASE constants (each with a comment). A new modelling literal fails
    here: give it a name, a unit and a meaning in params.py."""
    import ast
    from pathlib import Path

    core = Path(__file__).resolve().parent.parent / "sim" / "core"
    arithmetic = {0.0, 0.5, 1.0, 2.0, 4.0}
    exempt = {"params.py", "scenario.py", "synthetic.py"}  # defaults, specs, test worlds
    found = []
    for path in sorted(core.glob("*.py")):
        if path.name in exempt:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        named = set()
        for node in tree.body:  # module-level NAME = ... (named constants and schemas)
            targets = (
                node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            )
            if any(isinstance(t, ast.Name) and t.id.isupper() for t in targets):
                named |= {id(sub) for sub in ast.walk(node)}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, float)
                and id(node) not in named
                and node.value not in arithmetic
                and abs(node.value) >= 1e-5
            ):
                found.append(f"{path.name}:{node.lineno}: {node.value}")
    assert not found, "modelling literals outside params.py: " + ", ".join(found)


# ------------------------------------------------------------------ randomness
class _Recorded:
    """A random stream that records every draw made from it (see `sim.core.streams`)."""

    def __init__(self, generator: np.random.Generator) -> None:
        self.generator = generator
        self.draws: list[np.ndarray] = []

    @property
    def bit_generator(self):
        return self.generator.bit_generator

    def __getattr__(self, name: str):
        method = getattr(self.generator, name)

        def draw(*args, **kwargs):
            out = method(*args, **kwargs)
            self.draws.append(np.array(out, dtype=float).ravel())
            return out

        return draw

    def sequence(self) -> np.ndarray:
        return np.concatenate(self.draws) if self.draws else np.zeros(0)


def _recorded_run(scenario, steps: int) -> tuple[DiplomacyModel, dict[str, _Recorded]]:
    m = DiplomacyModel(scenario)
    streams = {name: _Recorded(getattr(m.streams, name)) for name in STREAMS}
    for name, recorded in streams.items():
        setattr(m.streams, name, recorded)
    m.run(steps)
    return m, streams


def test_a_mechanism_that_draws_more_shifts_no_other_mechanisms_draws():
    """Multilateral exercises draw invitations; making every exercise multilateral changes
    how many invitation draws are made (and so the run), but the crisis, decision and
    alignment streams draw the very same numbers at every step."""
    base = synthetic_world(40, seed=2, steps=48, rivalry_density=0.05)
    variant = synthetic_world(
        40,
        seed=2,
        steps=48,
        rivalry_density=0.05,
        parameters=Parameters(multilateral_share=1.0),
    )
    a, drawn_a = _recorded_run(base, 48)
    b, drawn_b = _recorded_run(variant, 48)
    invitations_a, invitations_b = (
        drawn_a["invitations"].sequence(),
        drawn_b["invitations"].sequence(),
    )
    assert len(invitations_b) > 1.3 * len(invitations_a)  # far more invitation draws ...
    assert not a.results().crises.equals(b.results().crises)  # ... and a different history
    for name in ("crises", "decisions"):  # ... but the same crisis and decision numbers
        np.testing.assert_array_equal(drawn_a[name].sequence(), drawn_b[name].sequence())
    seeds_a = [d[0] for d in drawn_a["alignment"].draws if d.size == 1]
    seeds_b = [d[0] for d in drawn_b["alignment"].draws if d.size == 1]
    assert seeds_a == seeds_b and len(seeds_a) == 48 // 12  # the same Louvain seeds


def test_crisis_draws_stay_common_when_the_world_changes():
    """Without activities, a war that raises risk changes which crises happen, not the
    numbers they are drawn from: three uniforms per dyad per step (crisis, challenger and
    outcome), in
    both worlds."""
    war = Event(6, "war_shock", {"states": ["BLU", "RED"], "severity": 1.0})
    quiet, drawn_quiet = _recorded_run(world(activities=0, crisis_rate=0.5), 36)
    at_war, drawn_war = _recorded_run(world(activities=0, crisis_rate=0.5, events=(war,)), 36)
    assert len(quiet.crisis_log) != len(at_war.crisis_log)
    crises_quiet, crises_war = drawn_quiet["crises"].sequence(), drawn_war["crises"].sequence()
    assert len(crises_quiet) == 36 * 3 * 10  # 5 states: 10 dyads, three uniforms each
    np.testing.assert_array_equal(crises_quiet, crises_war)


def test_a_crisis_in_both_variants_has_the_same_outcome_when_crises_get_rarer():
    """The outcome of a crisis has its own uniform, so lowering the crisis rate keeps the
    outcome of every crisis both worlds have (one shared uniform would move the outcome
    band to other draws). Step 1 (same state in both): each crisis of the rarer world is
    a crisis of the other, with the same outcome; over seeds, many such crises."""
    shared = 0
    for seed in range(40):
        worlds = [world(seed=seed, activities=0, crisis_rate=rate) for rate in (1.0, 0.6)]
        often, rare = (DiplomacyModel(w) for w in worlds)
        often.step(), rare.step()
        first = {(i, j): outcome for _t, i, j, outcome, _r in often.crisis_log}
        for _t, i, j, outcome, _r in rare.crisis_log:
            assert first[(i, j)] == outcome
            shared += 1
    assert shared >= 5


def test_an_option_keeps_its_decision_noise_when_the_consideration_set_changes():
    """Decision noise has one entry per option (kind, partner): an option that is in the
    consideration set of two variants gets the same noise in both, however many options
    around it differ (a wider consideration set here)."""
    shared = 0
    for width in (3, 4):
        noises = []
        for k in (2, width):
            params = Parameters(consideration_set=k)
            m = DiplomacyModel(synthetic_world(12, seed=4, steps=2, parameters=params))
            m.streams.at_step(1)
            m._bank_effort()
            m._prepare_choices()
            m._draw_decision_noise()
            by_option = {}
            for i in range(m.n):
                opts = m.options_for(i)
                if opts is None:
                    continue
                for j, (kind, partner) in enumerate(zip(opts.kind, opts.partner, strict=True)):
                    by_option[(i, kind, partner)] = [row[j] for row in opts.noise]
            noises.append(by_option)
        narrow, wide = noises
        assert len(wide) > len(narrow)
        for key, noise in narrow.items():
            if key in wide:
                assert wide[key] == noise
                shared += 1
    assert shared > 20


def test_streams_are_independent_named_and_restart_at_each_step():
    streams = RandomStreams(7)
    first = {name: getattr(streams, name).random(4) for name in STREAMS}
    assert len({tuple(v) for v in first.values()}) == len(STREAMS)  # distinct streams
    alone = RandomStreams(7, names=("crises",))  # a stream's draws do not depend on the others
    np.testing.assert_array_equal(alone.crises.random(4), first["crises"])
    streams.at_step(5)
    at_five = streams.crises.random(3)
    streams.decisions.random(1000)
    streams.at_step(5)  # draws made before do not matter
    np.testing.assert_array_equal(streams.crises.random(3), at_five)
    assert not np.array_equal(at_five, first["crises"][:3])
    with pytest.raises(AttributeError, match="no random stream 'dice'"):
        streams.dice  # noqa: B018


def test_worlds_too_big_for_one_noise_block_draw_each_states_noise_when_it_acts(monkeypatch):
    monkeypatch.setattr(model_module, "NOISE_BLOCK_LIMIT", 0)
    a = DiplomacyModel(world(seed=3)).run().tables()
    b = DiplomacyModel(world(seed=3)).run().tables()
    assert len(a["activities"]) > 0
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
