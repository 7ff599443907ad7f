"""The defense-diplomacy model: states (Mesa agents) and the relation matrices they shape.

One step (one month by default):
 1. scheduled events and standing programs (exercise series, arms programs);
 2. every state banks effort and chooses activities (`StateAgent.step`, random order);
 3. the activities' effects are applied in bulk (`sim.core.activities`);
 4. relations relax toward their baselines, stocks decay, dependency is recomputed;
 5. capabilities follow a discrete Richardson process driven by rivals;
 6. crises are drawn and resolved (`sim.core.crises`);
 7. agreements form or lapse; every `alignment_interval` steps blocs are recomputed;
 8. metrics are recorded every `record_every` steps.
"""

from __future__ import annotations

from collections import defaultdict
from time import perf_counter

import mesa
import numpy as np

from sim.core import alignment
from sim.core.activities import (
    ActivityBook,
    UtilityWorkspace,
    apply_advisory,
    apply_dialogues,
    apply_exercises,
    apply_transfers,
    choice_sets,
    option_costs,
    option_utilities,
    shortlist,
)
from sim.core.agents import StateAgent
from sim.core.crises import run_crises, war_shock
from sim.core.events import apply_event
from sim.core.metrics import Recorder, Results, check_invariants
from sim.core.params import DEFAULT_LEVERS, EXERCISE_KINDS, LEVERS, Parameters
from sim.core.relations import (
    dependency_from_stock,
    great_circle_km,
    initial_relations,
    position_affinity,
    relax,
    structural_risk,
    trust_baseline,
)
from sim.core.scenario import Scenario

PHASES = ("decisions", "effects", "relaxation", "crises", "alignment", "recording")


class _PhaseClock:
    """Adds the wall time since the previous lap to `totals[phase]` (see `time_phases`)."""

    def __init__(self) -> None:
        self.totals = dict.fromkeys(PHASES, 0.0)
        self._last = perf_counter()

    def start(self) -> None:
        self._last = perf_counter()

    def lap(self, phase: str) -> None:
        now = perf_counter()
        self.totals[phase] += now - self._last
        self._last = now


class _NoClock:
    """The default: phase timing off, laps cost one no-op call."""

    def start(self) -> None:
        pass

    def lap(self, phase: str) -> None:
        pass


class DiplomacyModel(mesa.Model):
    """A world of states practising defense diplomacy.

    Args:
        world: the validated scenario (see `sim.scenarios.loader.load_scenario`).
        rng: seed for every random draw; defaults to the scenario's seed.
        record_dyads: record dyad snapshots every this many steps (0 = never).
    """

    def __init__(self, world: Scenario, *, rng: int | None = None, record_dyads: int = 0) -> None:
        seed = int(world.seed if rng is None else rng)
        super().__init__(rng=seed)
        self.seed = seed
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
        self.stock = rel.stock
        self.other_stock = rel.other_stock
        self.other_inflow = (
            rel.other_stock * self.p.stock_decay
        )  # keeps outside suppliers' share steady
        self.dependency = dependency_from_stock(self.stock, self.other_stock)
        self.channel = np.zeros((n, n))
        self.presence = np.zeros((n, n))
        self.embargo = np.zeros((n, n), dtype=bool)
        self.embargo_until = np.full((n, n), -1, dtype=np.int64)
        self.agreement_clock = np.zeros((n, n), dtype=np.int32)
        self.lapse_clock = np.zeros((n, n), dtype=np.int32)
        self._update_shared_threat()
        self._init_richardson()

        self.costs = option_costs(self.p, n)
        self._utility_workspace = UtilityWorkspace(n)  # reused by every step's utilities
        self.min_cost = float(self.costs[:-1].min())
        self.max_cost = float(self.costs[:-1].max())
        self.book = ActivityBook()
        self.programs: list[dict] = []
        self.events_at: dict[int, list] = defaultdict(list)
        for event in world.events:
            self.events_at[event.step].append(event)

        self.crises_total = 0
        self.incidents = 0
        self.suspensions = 0
        self.backlashes = 0
        self.agreements_formed = 0
        self.agreements_lapsed = 0
        self._crises_before = 0
        self._incidents_before = 0
        self.crisis_log: list[tuple] = []
        self.activity_log: list[tuple] = []

        for k, spec in enumerate(world.states):
            StateAgent(self, spec, k)
        self.state_agents = list(self.agents_by_type[StateAgent]) if n else []

        self.side = np.zeros(n, dtype=np.int8)
        self.bloc = np.zeros(n, dtype=np.int64)
        self.same_bloc = np.zeros((n, n), dtype=bool)
        self.cross_bloc = np.zeros((n, n), dtype=bool)
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

        self.recorder = Recorder(self, record_dyads=record_dyads)
        self.recorder.record(0)
        self._clock: _PhaseClock | _NoClock = _NoClock()

    def time_phases(self) -> dict[str, float]:
        """Start timing the phases of every following step; returns the dict of seconds per
        phase (decisions, effects, relaxation, crises, alignment, recording), filled as the
        model runs. Off by default: the untimed step pays one no-op call per phase."""
        self._clock = _PhaseClock()
        return self._clock.totals

    @property
    def timings(self) -> dict[str, float] | None:
        """Seconds spent in each phase since `time_phases()` was called (None if never)."""
        return getattr(self._clock, "totals", None)

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

    # ------------------------------------------------------------------ helpers used by events
    def index_of(self, state_id: str) -> int:
        """Model index of a state id."""
        return self.index[state_id]

    def join_alliance(self, i: int, name: str) -> None:
        """State i joins alliance `name` (created if new): formal agreements with every member."""
        members = self.alliances.setdefault(name, set())
        if i in members:
            return
        for k in members:
            self.alliance_count[i, k] += 1
            self.alliance_count[k, i] += 1
        members.add(i)

    def leave_alliance(self, i: int, name: str) -> None:
        """State i leaves alliance `name`; agreements it holds only through it end."""
        members = self.alliances.get(name, set())
        if i not in members:
            return
        members.discard(i)
        for k in members:
            self.alliance_count[i, k] -= 1
            self.alliance_count[k, i] -= 1

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

    def log_crisis(self, i: int, j: int, outcome: str, risk: float) -> None:
        """Append a crisis to the log (outcome: deescalated, incident or war)."""
        self.crisis_log.append((self.steps, i, j, outcome, risk))
        self.crises_total += 1

    @property
    def agreements(self) -> np.ndarray:
        """Formal agreements: bilateral ones plus shared alliance membership (bool, symmetric)."""
        return self.bilateral | (self.alliance_count > 0)

    # ------------------------------------------------------------------ the step
    def step(self) -> None:
        """Advance the world by one time unit: decisions, effects, relaxation, crises,
        alignment (every `alignment_interval` steps) and recording (see `time_phases`)."""
        t = self.steps  # Mesa has already counted this step: events at step s run in step s + 1
        p = self.p
        clock = self._clock
        clock.start()
        self._decide(t - 1)
        clock.lap("decisions")
        self.apply_effects()
        clock.lap("effects")
        self.relax_relations()
        clock.lap("relaxation")
        run_crises(self)
        self._update_agreements()
        clock.lap("crises")
        if t % p.alignment_interval == 0:
            self._update_shared_threat()
            self.update_alignment()
        clock.lap("alignment")
        self._log_activities()
        if p.debug_invariants:
            check_invariants(self)
        if t % p.record_every == 0 or t == self.world.steps:
            self.recorder.record(t)
        clock.lap("recording")

    def _decide(self, t: int) -> None:
        """Events and standing programs due at step t, then every state that can afford an
        activity chooses its activities (filed in `self.book`)."""
        p = self.p
        self.exports[:] = 0.0
        self.book.clear()
        for event in self.events_at.get(t, ()):
            apply_event(self, event)
        self._expire_embargoes(t)
        self._run_programs(t)
        if not p.activities:
            return
        pace = np.minimum(1.0, self.stability / max(p.suspension_stability, 1e-9))
        self.bank += self.budget * pace
        np.minimum(self.bank, np.maximum(p.bank_cap * self.budget, self.max_cost), out=self.bank)
        self.export_bank += self.arms_industry * p.export_capacity
        export_cap = np.maximum(
            p.bank_cap * self.arms_industry * p.export_capacity, p.cost_arms_transfer
        )
        np.minimum(self.export_bank, export_cap, out=self.export_bank)
        # Only states that can afford an activity choose; each gets a row of options.
        acting = np.flatnonzero(
            (self.bank >= self.min_cost) | (self.export_bank >= p.cost_arms_transfer)
        )
        option_row = np.full(self.n, -1)
        option_row[acting] = np.arange(len(acting))
        self.option_row = option_row.tolist()  # state -> its row of utilities (-1: none)
        self.utilities = option_utilities(self, acting, workspace=self._utility_workspace)
        shortlists = shortlist(self.utilities, p.consideration_set)
        self.choices = choice_sets(self.utilities, shortlists, self.costs, p.temperature)
        self.agents.shuffle_do("step")

    def apply_effects(self) -> None:
        """Apply the effects of every activity filed in `self.book` this step."""
        apply_exercises(self)
        apply_transfers(self)
        apply_advisory(self)
        apply_dialogues(self)

    def relax_relations(self) -> None:
        """Relations relax toward their baselines and stocks decay; dependency, arms market
        and capabilities (discrete Richardson process) follow."""
        p = self.p
        agreements = self.agreements  # bool: counts as 0/1 in the trust baseline
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
        relax(
            arrays,
            p,
            trust_baseline(p, self.affinity_pos, self.hostility, agreements),
            structural_risk(p, self.hostility),
        )
        self.other_stock = self.other_stock * (1.0 - p.stock_decay) + self.other_inflow
        self.dependency = dependency_from_stock(self.stock, self.other_stock)
        self.market = self.market * (1.0 - 1.0 / 12.0) + self.exports

        threat = self.hostility @ self.capability
        self.capability += p.richardson_dt * (
            self.reactivity * threat - self.fatigue * self.capability + self.ambition
        )
        np.clip(self.capability, 0.0, p.capability_ceiling, out=self.capability)

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

    # ------------------------------------------------------------------ step parts
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
        """Standing exercise series and arms programs that are due this step."""
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

    def _update_agreements(self) -> None:
        """Sustained mutual trust and interoperability produce agreements; neglect ends them.

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
        if lapsed.any():
            self.bilateral &= ~lapsed
            self.agreements_lapsed += int(lapsed.sum()) // 2
            clock[lapsed] = 0

    def _update_shared_threat(self) -> None:
        """Share of each state's threat (hostility-weighted capability) that a partner also faces."""
        weighted = self.hostility * self.capability[None, :]
        common = weighted @ self.hostility.T
        own = weighted.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            shared = np.where(own[:, None] > 0, common / own[:, None], 0.0)
        self.shared_threat = np.clip(shared, 0.0, 1.0)
        np.fill_diagonal(self.shared_threat, 0.0)

    def affinity_matrix(self) -> np.ndarray:
        """Affinity in (-1, 1): trust, interoperability, dependency, agreements and shared
        threats, minus escalation risk and hostility (see docs/model.md)."""
        p = self.p
        raw = (
            p.affinity_trust * 0.5 * (self.trust + self.trust.T)
            + p.affinity_interop * self.interoperability
            + p.affinity_dependency * (self.dependency + self.dependency.T)
            + p.affinity_agreement * self.agreements
            + p.affinity_shared_threat * 0.5 * (self.shared_threat + self.shared_threat.T)
            - p.affinity_risk * self.risk
            - p.affinity_hostility * self.hostility
            - p.affinity_center
        )
        aff = np.tanh(raw)
        np.fill_diagonal(aff, 0.0)
        return aff

    def update_alignment(self, initial: bool = False) -> None:
        """Recompute the two-coalition landscape, bloc communities and per-state margins."""
        n = self.n
        if n == 0:
            return
        aff = self.affinity_matrix()
        self.affinity = aff
        sizes = self.capability + 1e-3 * max(float(self.capability.max()), 1e-9)
        if initial:
            weights = sizes[:, None] * sizes[None, :] * aff
            _, vecs = np.linalg.eigh(weights)
            lead = vecs[:, -1]
            start = (lead < 0).astype(np.int8) if n > 1 else np.zeros(n, dtype=np.int8)
        else:
            start = self.side
        side = alignment.landscape_descent(sizes, aff, start, self.rng)
        if initial and side[int(np.argmax(self.capability))] == 1:
            side = 1 - side
        self.side = side.astype(np.int8)
        seed = int(self.rng.integers(2**31 - 1))
        labels = alignment.detect_communities(aff, seed, resolution=self.p.community_resolution)
        labels = alignment.match_labels(
            None if initial else self.bloc, labels, next_id=self._next_bloc
        )
        self.bloc = labels
        same = labels[:, None] == labels[None, :]
        self.cross_bloc = ~same  # dyads across blocs (for the recorded bloc-level means)
        np.fill_diagonal(same, False)
        self.same_bloc = same  # distinct dyads within a bloc
        self._next_bloc = max(self._next_bloc, int(labels.max()) + 1)
        self.margin, self.hedging = alignment.bloc_margin_and_hedging(aff, labels)
        counts = np.bincount(labels)
        self.alignment_stats = {
            "n_blocs": int((counts >= 2).sum()),
            "polarization": float(alignment.polarization(sizes, aff, self.side)),
            "modularity": float(alignment.modularity(aff, labels)),
            "landscape_energy": float(alignment.landscape_energy(sizes, aff, self.side)),
        }
