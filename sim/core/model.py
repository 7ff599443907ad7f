"""The defense-diplomacy model: states (Mesa agents) and the relation matrices they shape.

States spend effort on exercises, arms transfers, advisory missions and dialogues with the
partners that promise the most; what they do moves trust, interoperability and escalation
risk, risk breeds crises, and blocs emerge from the resulting affinities.

One step (one month) is the sequence `PHASES`, each a method of `DiplomacyModel`:
 1. `run_events_and_programs`: scheduled events, embargo ends, standing programs;
 2. `decide`: every state banks effort and chooses activities (`StateAgent.step`, random
    order), acting through the model's verbs (`propose_exercise`, `send_advisers`, ...),
    each answered by its partners (`consent`);
    `trade_arms`: importers with demand choose among willing suppliers (`sim.core.market`);
 3. `apply_effects`: the activities' effects, in bulk (`sim.core.activities`);
 4. `relax`: relations relax toward their baselines, stocks decay, dependency and
    capabilities (a discrete Richardson process driven by rivals) follow;
 5. `resolve_crises`: crises are drawn and resolved (`sim.core.crises`);
 6. `form_and_lapse_agreements`: sustained cooperation signs agreements, neglect ends them;
 7. `realign`: every `alignment_interval` steps, shared threats and blocs are recomputed;
 8. `record`: the activity log, and metrics every `record_every` steps.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from time import perf_counter

import mesa
import numpy as np

from sim.core import alignment
from sim.core.access import review_access, update_reach
from sim.core.activities import (
    ADVISORY,
    ARMS,
    DIALOGUE,
    EXERCISE,
    ActivityBook,
    Options,
    Proposal,
    UtilityWorkspace,
    acceptance_utility,
    apply_advisory,
    apply_dialogues,
    apply_exercises,
    apply_transfers,
    choice_sets,
    dialogue_utility,
    host_utility,
    option_costs,
    option_utilities,
    shortlist,
)
from sim.core.agents import StateAgent
from sim.core.crises import run_crises, war_shock
from sim.core.events import apply_event
from sim.core.market import embargo_upkeep, run_market
from sim.core.metrics import BlocDyads, InvariantError, Recorder, Results, check_invariants
from sim.core.params import ACTIVITY_KINDS, DEFAULT_LEVERS, EXERCISE_KINDS, LEVERS, Parameters
from sim.core.relations import (
    dependency_from_stock,
    drift_positions,
    engagement_pull,
    great_circle_km,
    initial_relations,
    learn_trust,
    position_affinity,
    structural_risk,
    trust_baseline_from,
    trust_ties,
)
from sim.core.relations import relax as relax_and_decay
from sim.core.scenario import Scenario
from sim.core.streams import RandomStreams

__all__ = ["DEFAULT_LEVERS", "PHASES", "TIMING_GROUPS", "DiplomacyModel"]

PHASES = (
    "run_events_and_programs",
    "decide",
    "trade_arms",
    "apply_effects",
    "relax",
    "resolve_crises",
    "form_and_lapse_agreements",
    "realign",
    "record",
)
"""The phases of one step, in order: each names a method of `DiplomacyModel`."""

TIMING_GROUPS = {
    "run_events_and_programs": "decisions",
    "decide": "decisions",
    "trade_arms": "decisions",
    "apply_effects": "effects",
    "relax": "relaxation",
    "resolve_crises": "crises",
    "form_and_lapse_agreements": "crises",
    "realign": "alignment",
    "record": "recording",
}
"""Phase -> the column of `time_phases` it is timed in (the columns the benchmarks report)."""

NOISE_BLOCK_LIMIT = 2**21  # most decision-noise values drawn in one block per step (16 MB)
OPTION_NOISE_LIMIT = 2**17  # most values of a block with one noise entry per option (1 MB)


def race_noise(draws: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Exponential-race noise 1 / E, E ~ Exp(1): weight x noise is largest for option j with
    probability weight_j / total weight, the softmax, as with Gumbel-max sampling but from
    one fast ziggurat draw per entry instead of two logarithms (measured: the world's
    decision noise 330 -> 160 us a step)."""
    noise = draws.standard_exponential(shape)
    with np.errstate(divide="ignore"):  # E = 0 (a 2**-53 event) gives inf: that entry wins
        return np.reciprocal(noise, out=noise)


def _timed(phase: Callable[[], None], totals: dict[str, float], group: str) -> Callable[[], None]:
    """`phase`, adding its wall time to `totals[group]` (see `DiplomacyModel.time_phases`)."""

    def run() -> None:
        start = perf_counter()
        phase()
        totals[group] += perf_counter() - start

    return run


def _checked(phase: Callable[[], None], model: DiplomacyModel, name: str) -> Callable[[], None]:
    """`phase`, then the model's invariants; a broken one is reported with the phase's name."""

    def run() -> None:
        phase()
        try:
            check_invariants(model)
        except InvariantError as broken:
            raise InvariantError(f"{broken} (after phase {name})") from None

    return run


class DiplomacyModel(mesa.Model):
    """A world of states practising defense diplomacy.

    Args:
        world: the validated scenario (see `sim.scenarios.loader.load_scenario`).
        rng: the run seed, which decides every random draw (`sim.core.streams`); defaults
            to the scenario's seed.
        record_dyads: record dyad snapshots every this many steps (0 = never).
        dyad_pairs: record only these dyads (pairs of state ids; default all dyads).
    """

    def __init__(
        self,
        world: Scenario,
        *,
        rng: int | None = None,
        record_dyads: int = 0,
        dyad_pairs: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        seed = int(world.seed if rng is None else rng)
        super().__init__(rng=seed)  # Mesa's generators: model.random orders the agents
        self.seed = seed
        self.streams = RandomStreams(seed)  # every draw of the model, one stream per purpose
        self.world = world
        self.p: Parameters = world.parameters
        self.ids = world.ids
        self.n = n = len(world.states)
        self.index = {s: k for k, s in enumerate(self.ids)}
        self._init_attributes()

        self.distance_km = great_circle_km(self.location)
        self.proximity = np.exp(-self.distance_km / self.p.proximity_scale_km)
        np.fill_diagonal(self.proximity, 0.0)
        self.affinity_pos = position_affinity(self.position)
        np.fill_diagonal(self.affinity_pos, 0.0)
        self.upper = np.triu_indices(n, k=1)
        self.upper_mask = np.triu(np.ones((n, n), dtype=bool), k=1)  # same dyads, faster to index

        self.alliances: dict[str, set[int]] = {}
        self.alliance_count = np.zeros((n, n), dtype=np.int32)
        self.allied = np.zeros((n, n))  # 1.0 where two states share a named alliance
        for name, members in world.alliances.items():
            for s in members:
                self.join_alliance(self.index[s], name)
        rel = initial_relations(world, self.affinity_pos, self.alliance_count > 0)
        self.trust = rel.trust
        self.interoperability = rel.interoperability
        self.hostility = rel.hostility
        self.hostility0 = rel.hostility.copy()
        self.risk = rel.risk
        self.bilateral = rel.bilateral
        self.hotline = rel.hotline
        self.access = rel.access  # (provider, host): access and basing rights
        self.reach = np.empty((n, n))  # reach extended by access (sim.core.access)
        self.exercise_reach = np.empty((n, n))  # its discount of exercises' security gain
        self.exercise_gain_cache: tuple[Parameters, np.ndarray] | None = None  # see exercise_gain
        self.stock = rel.stock
        self.other_stock = rel.other_stock
        self.other_inflow = (
            rel.other_stock * self.p.stock_decay
        )  # keeps outside suppliers' share steady
        self.dependency = dependency_from_stock(self.stock, self.other_stock)
        self.channel = np.zeros((n, n))
        self.presence = np.zeros((n, n))
        self.program = np.zeros((n, n), dtype=bool)  # standing advisory programs (provider, host)
        self.program_ended = np.zeros((n, n), dtype=bool)  # pairs whose program has ever ended
        self.embargo = np.zeros((n, n), dtype=bool)
        self.embargo_until = np.full((n, n), -1, dtype=np.int64)
        self.agreement_clock = np.zeros((n, n), dtype=np.int32)
        self.lapse_clock = np.zeros((n, n), dtype=np.int32)
        self.hollow_clock = np.zeros((n, n), dtype=np.int32)
        self.learned = np.zeros((n, n))  # remembered experience in the trust baseline
        self._positions_moved = False  # ideal points moved since affinity_pos was computed
        self._ties_cache: tuple[Parameters, np.ndarray] | None = None  # see _trust_ties
        self._update_shared_threat()
        self._init_richardson()
        update_reach(self)  # reach extended by access (sim.core.access)

        self.set_option_costs()
        self._utility_workspace = UtilityWorkspace(n)  # reused by every step's utilities
        self._may_act: list[bool] | None = None  # which states may act this step (decide)
        self.book = ActivityBook()
        self.programs: list[dict] = []
        self.events_at: dict[int, list] = defaultdict(list)
        for event in world.events:
            self.events_at[event.step].append(event)

        self.crises_total = 0  # crises logged, scripted wars included
        self.incidents = 0  # militarized incidents, scripted wars included
        self.wars = 0  # scripted wars (war_shock events)
        self.suspensions = 0
        self.backlashes = 0
        self.overreaches = 0  # missions that found the host over its absorptive capacity
        self.programs_ended = 0
        self.declines = [0] * len(ACTIVITY_KINDS)  # partners that declined, by activity kind
        self.agreements_formed = 0
        self.agreements_lapsed = 0
        self._crises_before = 0
        self._incidents_before = 0
        self.crisis_log: list[tuple] = []
        self.crisis_backing: list[float] = []  # each drawn crisis's target's credible backing
        self.crisis_challenger: list[int] = []  # who started each crisis (parallel to the log)
        self.activity_log: list[tuple] = []

        for k, spec in enumerate(world.states):
            StateAgent(self, spec, k)
        self.state_agents = list(self.agents_by_type[StateAgent]) if n else []

        self.side = np.zeros(n, dtype=np.int8)
        self.bloc = np.zeros(n, dtype=np.int64)
        self.same_bloc = np.zeros((n, n), dtype=bool)
        self.cross_bloc = np.zeros((n, n), dtype=bool)
        self.bloc_dyads = BlocDyads.of(self.same_bloc, self.cross_bloc)
        self.margin = np.zeros(n)
        self.hedging = np.zeros(n)
        self.affinity = np.zeros((n, n))
        self.alignment_stats = {
            "n_blocs": 0,
            "polarization": 0.0,
            "modularity": 0.0,
            "landscape_energy": 0.0,
        }
        self._next_bloc = 0
        self.update_alignment(initial=True)

        pairs = None
        if dyad_pairs is not None:  # each pair once, a < b in scenario order
            keys = sorted({tuple(sorted((self.index[a], self.index[b]))) for a, b in dyad_pairs})
            pairs = (
                np.array([p[0] for p in keys], dtype=np.intp),
                np.array([p[1] for p in keys], dtype=np.intp),
            )
        self.recorder = Recorder(self, record_dyads=record_dyads, dyad_pairs=pairs)
        self.recorder.record(0)
        self._timings: dict[str, float] | None = None
        self._bind_phases()

    def _bind_phases(self) -> None:
        """Bind the step's phases once, each wrapped in the instrumentation asked for: timing
        (`time_phases`) and invariant checks (`debug_invariants`). Without either, a step
        is the bare sequence of `PHASES`."""
        phases = []
        for name in PHASES:
            phase = getattr(self, name)
            if self._timings is not None:
                phase = _timed(phase, self._timings, TIMING_GROUPS[name])
            if self.p.debug_invariants:
                phase = _checked(phase, self, name)
            phases.append(phase)
        self._phases: tuple[Callable[[], None], ...] = tuple(phases)

    def time_phases(self) -> dict[str, float]:
        """Start timing the phases of every following step; returns the dict of seconds per
        timing group (decisions, effects, relaxation, crises, alignment, recording; see
        `TIMING_GROUPS`), filled as the model runs. Off by default: no cost when off."""
        self._timings = dict.fromkeys(dict.fromkeys(TIMING_GROUPS.values()), 0.0)
        self._bind_phases()
        return self._timings

    @property
    def timings(self) -> dict[str, float] | None:
        """Seconds spent in each timing group since `time_phases()` was called (None if never)."""
        return self._timings

    # ------------------------------------------------------------------ set-up
    def _init_attributes(self) -> None:
        states = self.world.states
        col = lambda name: np.array([float(getattr(s, name)) for s in states])  # noqa: E731
        self.capability = col("capability")
        self.budget = col("budget")
        self.arms_industry = col("arms_industry")
        self.stability = col("stability")
        self.governance = col("governance")
        self.autonomy = col("autonomy")
        dims = max((len(s.position) for s in states), default=2)
        self.position = np.array([list(s.position) for s in states], dtype=float).reshape(
            self.n, dims
        )
        self.location = np.array([list(s.location) for s in states], dtype=float).reshape(self.n, 2)
        base = {**DEFAULT_LEVERS, **self.world.governance}
        self.levers = np.array(
            [[float(s.levers.get(k, base[k])) for k in LEVERS] for s in states]
        ).reshape(self.n, len(LEVERS))
        self.bank = np.zeros(self.n)
        self.export_bank = np.zeros(self.n)
        self.orders = np.zeros(self.n)  # arms volume each state wants to import
        self.exports = np.zeros(self.n)
        self.market = np.zeros(self.n)

    def _init_richardson(self) -> None:
        """Per-state Richardson coefficients; ambition calibrated so the start is a steady state."""
        p = self.p

        def coef(key: str, default: float) -> np.ndarray:
            return np.array([float(s.richardson.get(key, default)) for s in self.world.states])

        self.reactivity = coef("reactivity", p.reactivity)
        self.fatigue = coef("fatigue", p.fatigue)
        threat = self.hostility @ self.capability
        calibrated = self.fatigue * self.capability - self.reactivity * threat
        default_ambition = calibrated if p.ambition < 0 else np.full(self.n, p.ambition)
        self.ambition = np.array(
            [
                float(s.richardson["ambition"])
                if "ambition" in s.richardson
                else default_ambition[k]
                for k, s in enumerate(self.world.states)
            ]
        )

    def set_option_costs(self) -> None:
        """The effort cost of every option (`option_costs`) and the cheapest and dearest
        activity a state can choose (arms transfers, bought in the market, cost no effort
        of the supplier's and are left out); called again when a cost parameter changes."""
        self.costs = option_costs(self.p, self.n)
        finite = self.costs[:-1][np.isfinite(self.costs[:-1])]
        self.min_cost = float(finite.min())
        self.max_cost = float(finite.max())

    # ------------------------------------------------------------------ helpers used by events
    def index_of(self, state_id: str) -> int:
        """Model index of a state id."""
        return self.index[state_id]

    def join_alliance(self, i: int, name: str) -> None:
        """State i joins alliance `name` (created if new): formal agreements with every member."""
        members = self.alliances.setdefault(name, set())
        if i in members:
            return
        self._ties_cache = None
        for k in members:
            self.alliance_count[i, k] += 1
            self.alliance_count[k, i] += 1
            self.allied[i, k] = self.allied[k, i] = 1.0
        members.add(i)

    def leave_alliance(self, i: int, name: str) -> None:
        """State i leaves alliance `name`; agreements it holds only through it end."""
        members = self.alliances.get(name, set())
        if i not in members:
            return
        self._ties_cache = None
        members.discard(i)
        for k in members:
            self.alliance_count[i, k] -= 1
            self.alliance_count[k, i] -= 1
            self.allied[i, k] = self.allied[k, i] = float(self.alliance_count[i, k] > 0)

    def set_embargo(
        self, suppliers: list[int], targets: list[int], on: bool, until: int | None = None
    ) -> None:
        """Start (or lift) an arms embargo of suppliers against targets; starting one costs trust."""
        s = np.array(suppliers)[:, None]
        t = np.array(targets)[None, :]
        if on:
            newly = ~self.embargo[s, t]
            self.embargo[s, t] = True
            self.embargo_until[s, t] = -1 if until is None else until
            loss = np.where(newly, 1.0 - self.p.embargo_trust_loss, 1.0)
            self.trust[t, s] *= loss
        else:
            self.embargo[s, t] = False
            self.embargo_until[s, t] = -1
        np.fill_diagonal(self.embargo, False)

    def war_shock(self, i: int, j: int, severity: float) -> None:
        """Open war between i and j (see `sim.core.crises.war_shock`)."""
        war_shock(self, i, j, severity)

    def log_crisis(self, i: int, j: int, outcome: str, risk: float, challenger: int) -> None:
        """Append a crisis between i < j, started by `challenger` (i or j), to the log
        (outcome: deescalated, incident or war)."""
        self.crisis_log.append((self.steps, i, j, outcome, risk))
        self.crisis_challenger.append(challenger)
        self.crises_total += 1

    def break_with(self, i: int, others: list[int], severity: float) -> None:
        """A new government in i turns from the old regime's backers `others`: its bilateral
        agreements with them end (so their access and basing lapse, `sim.core.access`) and
        trust both ways falls by `coup_trust_loss x severity`."""
        k = np.asarray(others, dtype=np.intp)
        self.bilateral[i, k] = self.bilateral[k, i] = False
        self.agreement_clock[i, k] = self.agreement_clock[k, i] = 0
        self._ties_cache = None
        keep = 1.0 - self.p.coup_trust_loss * severity
        self.trust[i, k] *= keep
        self.trust[k, i] *= keep

    @property
    def agreements(self) -> np.ndarray:
        """Formal agreements: bilateral ones plus shared alliance membership (bool, symmetric)."""
        return self.bilateral | (self.alliance_count > 0)

    # ------------------------------------------------------------------ the step
    def step(self) -> None:
        """Advance the world by one month: the phases of `PHASES`, in order, each drawing
        from its own random streams at this step's block."""
        self.streams.at_step(self.steps)
        for phase in self._phases:
            phase()

    def run(self, steps: int | None = None, progress=None) -> Results:
        """Run `steps` steps (default: the scenario's) and return the recorded tables.

        `progress`, if given, is called with the number of steps done after each step.
        """
        total = self.world.steps if steps is None else steps
        for k in range(total):
            self.step()
            if progress is not None:
                progress(k + 1)
        return self.results()

    def results(self) -> Results:
        """The tables recorded so far (world, states, activities, crises, dyads)."""
        return self.recorder.results()

    # ------------------------------------------------------------------ the phases
    def run_events_and_programs(self) -> None:
        """A new step's book opens: events scheduled for it happen, embargoes past their end
        are lifted, and standing programs that are due file their activities."""
        t = self.steps - 1  # Mesa has already counted this step: events at step s run in step s + 1
        self.exports[:] = 0.0
        self.book.clear()
        for event in self.events_at.get(t, ()):
            apply_event(self, event)
        self._expire_embargoes(t)
        self._run_programs(t)

    def decide(self) -> None:
        """Every state banks effort, and those that can afford an activity choose theirs, in
        random order (`StateAgent.step`), through the model's verbs."""
        if not self.p.activities:
            return
        self._bank_effort()
        self._prepare_choices()
        self._draw_decision_noise()
        self._draw_invitations()
        self._screen_choices()
        may_act = self._may_act
        if may_act is None:
            self.agents.shuffle_do("step")
        else:  # `shuffle_do`'s order (its shuffle of the same list by the same generator),
            # calling only the states the screen lets act (measured: 50 us a world step)
            order = list(self.agents)
            self.agents.random.shuffle(order)
            for agent in order:
                if may_act[agent.index]:
                    agent.step()
        self._may_act = None  # a step outside `decide` screens nothing

    def trade_arms(self) -> None:
        """The arms market: embargoes cost upkeep, importers' demand accrues, and buyers
        choose among the suppliers willing to sell (`sim.core.market.run_market`)."""
        embargo_upkeep(self)
        if self.p.activities:
            run_market(self)

    def apply_effects(self) -> None:
        """Apply the effects of every activity filed in `self.book` this step."""
        apply_exercises(self)
        apply_transfers(self)
        apply_advisory(self)
        apply_dialogues(self)

    def relax(self) -> None:
        """Relations relax toward their baselines and stocks decay; dependency, arms market
        and capabilities (discrete Richardson process) follow."""
        p = self.p
        baseline = trust_baseline_from(p, self._trust_ties(), self.hostility, self.learned)
        arrays = {
            "trust": self.trust,
            "interoperability": self.interoperability,
            "risk": self.risk,
            "hostility": self.hostility,
            "hostility0": self.hostility0,
            "stock": self.stock,
            "channel": self.channel,
            "presence": self.presence,
        }
        relax_and_decay(arrays, p, baseline, structural_risk(p, self.hostility))
        learn_trust(self.learned, self.trust, baseline, p.trust_memory)
        self._drift_positions()
        self.other_stock = self.other_stock * (1.0 - p.stock_decay) + self.other_inflow
        self.dependency = dependency_from_stock(self.stock, self.other_stock)
        self.market = self.market * (1.0 - 1.0 / p.market_memory) + self.exports

        threat = self.hostility @ self.capability
        self.capability += p.richardson_dt * (
            self.reactivity * threat - self.fatigue * self.capability + self.ambition
        )
        np.clip(self.capability, 0.0, p.capability_ceiling, out=self.capability)

    relax_relations = relax  # the name benchmarks/single.py times

    def _trust_ties(self) -> np.ndarray:
        """The trust baseline's part from positions and formal ties (`trust_ties`), kept
        until positions, agreements, alliances or the parameters change."""
        if self._ties_cache is None or self._ties_cache[0] is not self.p:
            allied = self.alliance_count > 0
            ties = trust_ties(self.p, self.affinity_pos, self.bilateral | allied, allied)
            self._ties_cache = (self.p, ties)
        return self._ties_cache[1]

    def _drift_positions(self) -> None:
        """Ideal points drift toward this step's partners (exercises, arms suppliers,
        advisers; `sim.core.relations.drift_positions`). Political affinity follows them
        at the next realignment (`realign`), every `alignment_interval` steps."""
        book = self.book
        if not (book.exercises or book.transfers or book.advisory):
            return
        total, toward = engagement_pull(
            self.position, book.exercises, book.transfers, book.advisory
        )
        if drift_positions(self.position, total, toward, self.p.position_learning):
            self._positions_moved = True

    def resolve_crises(self) -> None:
        """Draw this step's crises from escalation risk and resolve each (`sim.core.crises`)."""
        run_crises(self)

    def form_and_lapse_agreements(self) -> None:
        """Sustained mutual trust and interoperability produce agreements; neglect ends them.
        Access and basing are then reviewed (`sim.core.access.review_access`).

        Mutual trust is the smaller of the two directed trusts, so it exceeds (falls below) a
        level when both (either) do: compared on `trust` and its transpose as booleans, which
        is cheaper than building the float matrix of mutual trust. Clocks count in place.
        """
        p = self.p
        trust, interop = self.trust, self.interoperability
        formal = self.alliance_count > 0  # agreements held through an alliance
        trusting = trust > p.agreement_trust
        ripe = trusting & trusting.T
        ripe &= interop > p.agreement_interop
        ripe &= ~(self.bilateral | formal)
        clock = self.agreement_clock
        clock += 1
        clock *= ripe  # consecutive ripe steps; 0 where not ripe
        formed = clock >= p.agreement_steps
        if formed.any():
            self.bilateral |= formed
            self._ties_cache = None
            self.agreements_formed += int(formed.sum()) // 2
            clock[formed] = 0
        distrusting = trust < p.lapse_trust
        neglected = distrusting | distrusting.T
        neglected &= self.bilateral
        neglected &= ~formal
        neglected &= interop < p.lapse_interop
        clock = self.lapse_clock
        clock += 1
        clock *= neglected  # consecutive neglected steps; 0 where not neglected
        lapsed = clock >= p.lapse_steps
        # Hollow agreements: the relationship behind them has turned hostile.
        hollow = self.hostility > p.lapse_hostility
        hollow &= self.bilateral
        hollow &= ~formal
        hollow_clock = self.hollow_clock
        hollow_clock += 1
        hollow_clock *= hollow
        lapsed |= hollow_clock >= p.lapse_hostile_steps
        if lapsed.any():
            self.bilateral &= ~lapsed
            self._ties_cache = None
            self.agreements_lapsed += int(lapsed.sum()) // 2
            clock[lapsed] = 0
            hollow_clock[lapsed] = 0
        review_access(self)

    def realign(self) -> None:
        """Every `alignment_interval` steps: shared threats, the landscape and the blocs."""
        if self.steps % self.p.alignment_interval == 0:
            if self._positions_moved:
                self.affinity_pos = position_affinity(self.position)
                np.fill_diagonal(self.affinity_pos, 0.0)
                self._positions_moved = False
                self._ties_cache = None
            self._update_shared_threat()
            self.update_alignment()

    def record(self) -> None:
        """Log this step's activities; record the metrics every `record_every` steps and at
        the scenario's last step."""
        t = self.steps
        self._log_activities()
        if t % self.p.record_every == 0 or t == self.world.steps:
            self.recorder.record(t)

    # ------------------------------------------------------------------ the verbs agents act through
    def options_for(self, i: int) -> Options | None:
        """State i's options this step: its consideration set cut to the options worth more
        than saving the effort, with their activity kinds, partners, softmax weights and
        costs, and its draws from the decisions stream to choose among them; None if it
        cannot afford an activity or has nothing worth doing."""
        r = self._option_row[i]
        if r < 0:
            return None
        choices = self._choices
        lo, hi = choices.start[r], choices.start[r + 1]
        if lo == hi:
            return None
        if self._noise_by_option:  # each option's own noise, gathered for this step
            noise = self._option_noise[lo:hi].T.tolist()
        elif self._noise is not None:
            noise = self._noise[i, :, : hi - lo].tolist()
        else:  # a world too big for one block: this state's noise, drawn when it acts
            noise = race_noise(self.streams.decisions, (self.p.max_activities, hi - lo)).tolist()
        return Options(
            choices.kind[lo:hi],
            choices.partner[lo:hi],
            choices.weight[lo:hi],
            choices.cost[lo:hi],
            choices.save_weight[r],
            noise,
            self._save_noise[i].tolist(),
            self._kind_draws[i].tolist(),
        )

    def expected_utilities(self, i: int, kind: int) -> np.ndarray:
        """State i's expected utility this step of activity `kind` with every state (a
        read-only view; -inf where not allowed). Only for states with options this step."""
        row = self._utilities[self._option_row[i]]
        return row[kind * self.n : (kind + 1) * self.n]

    def consent(self, proposal: Proposal) -> Sequence[int]:
        """The partners of `proposal` that accept it, each by its own expected utility
        (two-sided diplomacy; docs/model.md, "Consent"); the verbs file only what is
        accepted, and every decline is counted (`declines`, by activity kind).

        - Exercise: partner j accepts if its own utility `acceptance_utility(j, i)` is
          positive (not at the red line of hostility, not under the initiator's embargo,
          not in turmoil), it is below `consent_max_hostility` with every participant that
          has already accepted (a multilateral exercise never adds a rival of a
          participant), and it can pay its share of the effort from its bank.
        - Advisory mission: the host's `host_utility` is positive and it can pay its share.
        - Dialogue: the partner's `dialogue_utility` is positive and it can pay its share.
        - Arms: the buyer (who chose the supplier in the market) is not at the red line.

        Accepting partners pay `consent_cost_share` of the activity's effort cost, scaled
        down by their budget relative to the initiator's (`partner_share`).
        """
        p = self.p
        i = proposal.initiator
        kind = proposal.activity
        full = p.consent_cost_share * self.costs[kind * self.n]
        bank = self.bank
        share = self.partner_share  # share(j) = what partner j pays
        accepted: list[int] = []
        if kind == EXERCISE:
            hostile = self.hostility
            for j in proposal.partners:
                if self.would_join_exercise(j, i) and all(
                    hostile[j, q] < p.consent_max_hostility for q in accepted
                ):
                    accepted.append(j)
        elif kind == ADVISORY:
            accepted = [
                j
                for j in proposal.partners
                if bank[j] >= share(full, j, i) and host_utility(self, j, i) > 0.0
            ]
        elif kind == DIALOGUE:
            accepted = [
                j
                for j in proposal.partners
                if bank[j] >= share(full, j, i) and dialogue_utility(self, j, i) > 0.0
            ]
        else:  # arms: the buyer chose this supplier; only the red line is checked
            accepted = [
                j
                for j in proposal.partners
                if self.hostility[j, i] < p.consent_max_hostility and not self.embargo[i, j]
            ]
            full = 0.0
        for j in accepted:
            bank[j] -= share(full, j, i)
        self.declines[kind] += len(proposal.partners) - len(accepted)
        return accepted

    def partner_share(self, full: float, partner: int, initiator: int) -> float:
        """The effort a consenting partner pays of a `full` share
        (`consent_cost_share x cost`): scaled down by its budget relative to the
        initiator's, min(1, budget_partner / budget_initiator) (a large state pays for a
        small partner's participation, as sponsors of exercises and training do)."""
        budget = self.budget
        if full <= 0.0 or budget[partner] >= budget[initiator]:
            return full
        return full * float(budget[partner]) / max(float(budget[initiator]), 1e-12)

    def would_join_exercise(self, partner: int, initiator: int) -> bool:
        """Whether `partner` would accept a bilateral exercise with `initiator` now: its own
        `acceptance_utility` is positive and it can pay its share of the effort (what a
        state sounds out before planning an exercise around a partner)."""
        cost = self.partner_share(
            self.p.consent_cost_share * self.p.cost_exercise, partner, initiator
        )
        return self.bank[partner] >= cost and acceptance_utility(self, partner, initiator) > 0.0

    def propose_exercise(self, initiator: int, partners: Sequence[int], kind: int) -> bool:
        """`initiator` proposes an exercise of kind `kind` (index of `EXERCISE_KINDS`) to
        `partners`; it is filed with the partners that accept, at scale sqrt(participants / 2)
        (a bilateral exercise has scale 1). Returns whether any partner accepted."""
        accepted = self.consent(Proposal(EXERCISE, initiator, partners, exercise_kind=kind))
        if not accepted:
            return False
        participants = [initiator, *accepted]
        scale = math.sqrt(len(participants) / 2.0)
        self.book.exercises.append((np.array(participants), scale, kind, ""))
        return True

    def offer_arms(self, supplier: int, buyer: int, volume: float) -> bool:
        """`supplier` offers `buyer` an arms transfer of `volume`; filed if the buyer accepts."""
        if not self.consent(Proposal(ARMS, supplier, (buyer,), volume=volume)):
            return False
        self.book.transfers.append((supplier, buyer, volume))
        return True

    def send_advisers(self, provider: int, host: int) -> bool:
        """`provider` offers `host` an advisory or training mission; filed if the host accepts."""
        if not self.consent(Proposal(ADVISORY, provider, (host,))):
            return False
        self.book.advisory.append((provider, host))
        return True

    def hold_dialogue(self, a: int, b: int) -> bool:
        """`a` proposes a round of strategic dialogue to `b`; filed if `b` accepts."""
        if not self.consent(Proposal(DIALOGUE, a, (b,))):
            return False
        self.book.dialogues.append((a, b))
        return True

    # ------------------------------------------------------------------ parts of the phases
    def _bank_effort(self) -> None:
        """Each state adds its budget (less in turmoil) to its diplomacy bank, capped at
        `bank_cap` steps' worth (export capacity is banked by the arms market)."""
        p = self.p
        pace = np.minimum(1.0, self.stability / max(p.suspension_stability, 1e-9))
        self.bank += self.budget * pace
        np.minimum(self.bank, np.maximum(p.bank_cap * self.budget, self.max_cost), out=self.bank)

    def _prepare_choices(self) -> None:
        """The expected utilities and consideration sets of every state that can afford an
        activity (one row each; `options_for` reads them)."""
        p = self.p
        able = self.bank >= self.min_cost
        # state -> its row of utilities (-1: none). Every state's row is computed (reading
        # the N x N matrices directly is cheaper than copying most of their rows first:
        # measured on the world scenario, where nearly all states can act); the rows of
        # states that cannot act are then ruled out (-inf: no option, see `choice_sets`).
        self._option_row = np.where(able, np.arange(self.n), -1).tolist()
        utilities = option_utilities(self, workspace=self._utility_workspace)
        if not able.all():
            utilities[~able, : len(ACTIVITY_KINDS) * self.n] = -np.inf
        self._utilities = utilities
        shortlists = shortlist(utilities, p.consideration_set)
        self._choices = choice_sets(self._utilities, shortlists, self.costs, p.temperature)

    def _draw_decision_noise(self) -> None:
        """Draw this step's decision noise in blocks by state: row i belongs to state i
        whatever the activation order and whatever other states choose, so a state's noise
        stays common between variants in which only others' options differ. Up to
        `OPTION_NOISE_LIMIT` values, every option (kind, partner) has its own entry, so an
        option keeps its noise when the consideration set around it changes (common
        random numbers between variants that reorder utilities). Bigger worlds draw one
        entry per slot of the consideration set (options in a fixed order; see
        `choice_sets`), and worlds whose block would be huge (many states x a wide
        consideration set) draw each state's option noise when it acts instead.
        """
        p = self.p
        draws = self.streams.decisions
        n, rows = self.n, p.max_activities
        # arrays: rows become lists only for the states that act (`options_for`), a few
        # dozen of the world's 195 a step after `_screen_choices`
        self._kind_draws = draws.random((n, rows))
        self._save_noise = race_noise(draws, (n, rows))
        every = len(ACTIVITY_KINDS) * n  # one entry per option a state could have
        width = len(ACTIVITY_KINDS) * min(p.consideration_set, n)  # most options a state has
        self._noise_by_option = n * rows * every <= OPTION_NOISE_LIMIT
        if self._noise_by_option:
            self._noise = race_noise(draws, (n, rows, every))
            choices = self._choices  # every option's noise: (options, rows), row by row
            owner = np.repeat(np.arange(n), np.diff(choices.start))  # row r: state r
            self._option_noise = self._noise[owner, :, choices.option]
        elif n * rows * width <= NOISE_BLOCK_LIMIT:
            self._noise = race_noise(draws, (n, rows, width))
        else:
            self._noise = None

    def _screen_choices(self) -> None:
        """Which states may do anything this step (`_may_act`, read by `StateAgent.step`),
        from their first choice, computed for all states at once: a state whose first draw
        goes to saving the effort with the bank it has now saves it whatever happens before
        its turn (other states' proposals only take from its bank, which only removes
        options), so it does nothing and its turn is skipped. The others choose as always.
        Measured on the world scenario: about 150 of 195 states save at their first choice,
        and their `options_for` and choice loop were a third of the agents' time.

        The first choice is the same race as `StateAgent.step`'s: the first option of
        largest weight x noise among the affordable ones, if larger than saving's (NaN
        values, from a zero weight x infinite noise, never win there and are dropped here).
        A world whose noise is drawn when a state acts (`_noise` None) screens nothing."""
        if self._noise is None:
            self._may_act = None
            return
        n = self.n
        choices = self._choices
        start = np.asarray(choices.start)
        count = np.diff(start)
        owner = np.repeat(np.arange(n), count)  # row r of the choice sets is state r
        if self._noise_by_option:
            first = self._option_noise[:, 0]
        else:
            slot = np.arange(len(owner)) - np.repeat(start[:-1], count)
            first = self._noise[owner, 0, slot]
        value = np.asarray(choices.weight) * first
        value[np.asarray(choices.cost) > self.bank[owner]] = -np.inf
        value[np.isnan(value)] = -np.inf
        best = np.full(n, -np.inf)
        some = count > 0  # each state's best value: a max over its own run of options
        if value.size:  # (reduceat over the runs: measured 5x faster than maximum.at)
            best[some] = np.maximum.reduceat(value, start[:-1][some])
        save = np.asarray(choices.save_weight) * self._save_noise[:, 0]
        self._may_act = (best > save).tolist()

    def _draw_invitations(self) -> None:
        """This step's invitation draws in blocks by state and choice: two uniforms per
        (state, choice) now (multilateral or not; how many to invite), and a block of N
        Gumbel values per (state, choice) reserved in the stream for whom to invite, drawn
        only when used (`invitation_noise`). State i's k-th exercise thus draws the same
        numbers whatever the other states chose before it (common random numbers between
        variants in which others' choices differ)."""
        draws = self.streams.invitations
        self.invitation_draws = draws.random((self.n, self.p.max_activities, 2))
        self._invite_state = draws.bit_generator.state  # the Gumbel blocks start here

    def invitation_noise(self, i: int, row: int) -> np.ndarray:
        """The N Gumbel values of state i's `row`-th choice this step (invitations stream;
        block (i, row) of this step's reserved draws, one 64-bit draw per value)."""
        draws = self.streams.invitations
        bits = draws.bit_generator
        bits.state = self._invite_state
        bits.advance((i * self.p.max_activities + row) * self.n)
        return draws.gumbel(size=self.n)

    def _expire_embargoes(self, t: int) -> None:
        """Lift the embargoes whose end (`embargo_until`, -1: never) is due by step t; only
        the few embargoed dyads are looked at."""
        embargoed = np.flatnonzero(self.embargo)
        until = self.embargo_until.flat[embargoed]
        ended = embargoed[(until >= 0) & (until <= t)]
        if ended.size:
            self.embargo.flat[ended] = False
            self.embargo_until.flat[ended] = -1

    def _run_programs(self, t: int) -> None:
        """Standing exercise series and arms programs that are due this step. Scripted
        programs are what happened: they are filed as written, without consent."""
        for prog in self.programs:
            until = prog["until"]
            if (
                t < prog["start"]
                or (until is not None and t > until)
                or (t - prog["start"]) % prog["every"]
            ):
                continue
            if prog["kind"] == "exercise":
                kind = EXERCISE_KINDS.index(prog["exercise_kind"])
                self.book.exercises.append(
                    (prog["participants"], prog["scale"], kind, prog["name"])
                )
            else:
                r = prog["recipient"]
                for s in prog["suppliers"]:
                    if not self.embargo[s, r]:
                        self.book.transfers.append((int(s), r, prog["volume"]))

    def _log_activities(self) -> None:
        t = self.steps
        log = self.activity_log
        for participants, scale, kind, series in self.book.exercises:
            log.append(
                (
                    t,
                    "exercise",
                    kind,
                    int(participants[0]),
                    tuple(np.asarray(participants[1:]).tolist()),
                    scale,
                    series,
                )
            )
        for s, r, v in self.book.transfers:
            log.append((t, "arms_transfer", -1, s, (r,), v, ""))
        for s, r in self.book.advisory:
            log.append((t, "advisory", -1, s, (r,), 1.0, ""))
        for s, r in self.book.dialogues:
            log.append((t, "dialogue", -1, s, (r,), 1.0, ""))

    def _update_shared_threat(self) -> None:
        """Share of each state's threat (hostility-weighted capability) that a partner also faces."""
        weighted = self.hostility * self.capability[None, :]
        common = weighted @ self.hostility.T
        own = weighted.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            shared = np.where(own[:, None] > 0, common / own[:, None], 0.0)
        self.shared_threat = np.clip(shared, 0.0, 1.0)
        np.fill_diagonal(self.shared_threat, 0.0)
        self.exercise_gain_cache = None  # sim.core.access.exercise_gain
        # ally_enemy[i, j]: allies of i holding at least `market_ally_solidarity` of the
        # capability of all of i's allies are at the red line of hostility with j, and j is
        # not i's ally itself: a seller does not arm its alliance's adversary (Turkey and
        # Russia), but arms a state at odds with one minor ally (the USA and Saudi Arabia,
        # a rival of Turkey's), and two allies at odds (Greece and Turkey). sim.core.market
        red = (self.hostility >= self.p.consent_max_hostility).astype(float)
        weighted = self.allied * self.capability[None, :]
        at_red = weighted @ red
        total = weighted.sum(axis=1, keepdims=True)
        self.ally_enemy = (at_red >= self.p.market_ally_solidarity * total) & (total > 0.0)
        self.ally_enemy &= self.allied == 0.0

    def affinity_matrix(self) -> np.ndarray:
        """Affinity in (-1, 1): trust, interoperability, dependency, agreements and shared
        threats, minus escalation risk and hostility (see docs/model.md)."""
        p = self.p
        raw = (
            p.affinity_trust * 0.5 * (self.trust + self.trust.T)
            + p.affinity_interop * self.interoperability
            + p.affinity_dependency * (self.dependency + self.dependency.T)
            + p.affinity_agreement * self.agreements
            + p.affinity_alliance * (self.alliance_count > 0)
            + p.affinity_shared_threat * 0.5 * (self.shared_threat + self.shared_threat.T)
            - p.affinity_risk * self.risk
            - p.affinity_hostility * self.hostility
            - p.affinity_center
        )
        aff = np.tanh(raw)
        np.fill_diagonal(aff, 0.0)
        return aff

    def engagement_ties(self) -> np.ndarray:
        """What each state relies on each partner for (directed, >= 0): its arms-import
        dependency on the partner plus their interoperability weighted by its trust in the
        partner -- the stocks that past arms purchases, exercises and training leave."""
        size = self.capability + self.p.landscape_size_floor * max(self.capability.max(), 1e-9)
        reliance = size[None, :] / (size[:, None] + size[None, :])
        ties = self.interoperability * self.trust
        ties *= reliance
        ties += self.dependency
        return ties

    def update_alignment(self, initial: bool = False) -> None:
        """Recompute the two-coalition landscape, bloc communities and per-state margins."""
        n = self.n
        if n == 0:
            return
        aff = self.affinity_matrix()
        self.affinity = aff
        largest = max(float(self.capability.max()), 1e-9)
        sizes = self.capability + self.p.landscape_size_floor * largest
        if initial:
            weights = sizes[:, None] * sizes[None, :] * aff
            _, vecs = np.linalg.eigh(weights)
            lead = vecs[:, -1]
            start = (lead < 0).astype(np.int8) if n > 1 else np.zeros(n, dtype=np.int8)
        else:
            start = self.side
        draws = self.streams.alignment
        seed = int(draws.integers(2**31 - 1))  # first: the descent's draws vary in number
        side = alignment.landscape_descent(sizes, aff, start, draws)
        if initial and side[int(np.argmax(self.capability))] == 1:
            side = 1 - side
        self.side = side.astype(np.int8)
        resolution = self.p.community_resolution
        commitment = self.allied * self.p.bloc_commitment  # outside the null model
        matrix = alignment.signed_modularity_matrix(aff, resolution, commitment)
        labels = alignment.signed_communities(
            aff,
            np.random.default_rng(seed),
            resolution=resolution,
            restarts=self.p.bloc_restarts if initial else self.p.bloc_later_restarts,
            start=None if initial else self.bloc,
            matrix=matrix,
            persistence=self.p.bloc_persistence,
        )
        labels = alignment.match_labels(
            None if initial else self.bloc, labels, next_id=self._next_bloc
        )
        self.bloc = labels
        same = labels[:, None] == labels[None, :]
        self.cross_bloc = ~same  # dyads across blocs (for the recorded bloc-level means)
        np.fill_diagonal(same, False)
        self.same_bloc = same  # distinct dyads within a bloc
        self.bloc_dyads = BlocDyads.of(same, self.cross_bloc)
        self._next_bloc = max(self._next_bloc, int(labels.max()) + 1)
        self.margin = alignment.bloc_margin(aff, labels, matrix=matrix)
        self.hedging = alignment.hedging_index(aff, labels, self.engagement_ties(), sizes)
        counts = np.bincount(labels)
        self.alignment_stats = {
            "n_blocs": int((counts >= 2).sum()),
            "polarization": float(alignment.polarization(sizes, aff, self.side)),
            "modularity": float(alignment.signed_modularity(aff, labels, matrix=matrix)),
            # landscape_energy(sizes, aff, side) for this symmetric, zero-diagonal affinity:
            # the size-weighted affinity across the two sides, without building s s^T p.
            "landscape_energy": float((sizes * self.side) @ aff @ (sizes * (1 - self.side))),
        }
