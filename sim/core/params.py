"""Model parameters: every tunable number of the model, with its default, range and meaning.

This is the one place defaults live. Scenario files override any of them under
``parameters:``; ``docs/model.md`` explains the equations they enter, and
``docs/scenarios.md`` lists them (a test keeps that page in step with this module).

Time: one step is one month (scenarios must say ``time_unit: month``), so every rate is
per month and every duration counted in steps is a number of months. Dimensionless
parameters say what they multiply; effort costs are in the units of the states' budgets
(effort per month).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

EXERCISE_KINDS = ("command_post", "live", "naval", "humanitarian", "cyber")
ACTIVITY_KINDS = ("exercise", "arms_transfer", "advisory", "dialogue")
LEVERS = ("transparency", "oversight", "co_creation", "exit_strategy", "cbm_investment")
# Scenario-wide governance levers of a scenario that sets none (each in [0, 1]); the one home
# of these defaults: the model, the scenario schema and the scenario scripts import them.
DEFAULT_LEVERS = {
    "transparency": 0.3,
    "oversight": 0.5,
    "co_creation": 0.5,
    "exit_strategy": 0.5,
    "cbm_investment": 0.2,
}


def _p(default: float | int, lo: float | None, hi: float | None, doc: str) -> Any:
    """A parameter field: default, inclusive bounds (None = open) and a one-line meaning."""
    return field(default=default, metadata={"min": lo, "max": hi, "doc": doc})


@dataclass(frozen=True)
class Parameters:
    """All model parameters. A step is one month: rates are per month, durations in months."""

    # --- decisions -------------------------------------------------------------------------
    activities: int = _p(
        1, 0, 1, "1 = states choose activities; 0 = switched off (events and programs still run)"
    )
    temperature: float = _p(
        0.25, 1e-6, None, "softmax temperature of partner/activity choice (lower = more rational)"
    )
    consideration_set: int = _p(
        3,
        1,
        1000,
        "partners a state shortlists per activity kind each month (its best by expected utility) before the softmax choice",
    )
    max_activities: int = _p(3, 1, 50, "most activities one state can start in a month")
    bank_cap: float = _p(
        3.0, 1.0, None, "unspent effort carries over up to this many months of budget"
    )
    cost_exercise: float = _p(
        2.02,
        1e-6,
        None,
        "effort cost of organising an exercise (calibrated on 2000->2010 hindcasts; kept when a re-fit on the final model was not better held out: data/calibration.yaml; was 1.0)",
    )
    cost_advisory: float = _p(0.7, 1e-6, None, "effort cost of an advisory or training mission")
    cost_dialogue: float = _p(0.3, 1e-6, None, "effort cost of a strategic dialogue / CBM round")
    weight_security: float = _p(
        1.0, 0, None, "utility weight of security gain (partner capability x trust x shared threat)"
    )
    weight_economic: float = _p(1.0, 0, None, "utility weight of export revenue for arms exporters")
    weight_affinity: float = _p(
        0.8, 0, None, "utility weight of political affinity with the partner"
    )
    weight_escalation: float = _p(
        1.0, 0, None, "utility weight of the expected escalation cost of provoking rivals"
    )
    weight_risk_reduction: float = _p(
        1.5, 0, None, "utility weight of lowering escalation risk (drives dialogue)"
    )
    weight_cost: float = _p(
        0.3, 0, None, "utility cost per unit of effort spent (saving effort is worth 0)"
    )
    weight_influence: float = _p(
        1.5, 0, None, "utility weight of influence gained by advising a weak, aligned host"
    )
    multilateral_share: float = _p(
        0.35, 0, 1, "probability an exercise invites further partners (multilateral)"
    )
    max_exercise_size: int = _p(6, 2, 100, "most participants in a chosen multilateral exercise")
    exercise_security_base: float = _p(
        0.25,
        0,
        None,
        "security value of exercising with a partner that shares no threat, added to the shared-threat share (x w_sec x c_j x T_ij)",
    )
    exercise_alliance: float = _p(
        1.0,
        0,
        2,
        "exercise priority among co-members of a named alliance, in utility units (as w_aff x affinity): added to the utility of exercising with a co-member, since a mutual-defence commitment is only credible if the allies train to fight together",
    )
    exercise_saturation: float = _p(
        1.5,
        1.0,
        None,
        "diminishing returns: the security gain of an exercise is multiplied by (exercise_saturation - interoperability)",
    )
    arms_demand_base: float = _p(
        0.3, 0, None, "arms demand of an importer without rivals, added to its rival load (0-1)"
    )
    arms_provocation: float = _p(
        0.5,
        0,
        None,
        "escalation cost an arms sale provokes, relative to an exercise with the same partner",
    )
    backlash_aversion: float = _p(
        10.0,
        0,
        None,
        "utility cost a provider expects per unit of backlash x misfit of an advisory mission",
    )
    consent_max_hostility: float = _p(
        0.3,
        0,
        1,
        "hostility at or above which a state declines any exercise, advisory mission or arms deal with the other (a red line; dialogue stays open)",
    )
    consent_cost_share: float = _p(
        0.5,
        0,
        None,
        "share of an activity's effort cost a consenting partner pays from its own bank, x min(1, its budget / the initiator's) (it declines when it cannot pay)",
    )

    # --- exercise effects --------------------------------------------------------------------
    exercise_interop: float = _p(
        0.08, 0, 1, "interoperability gain of a unit-scale exercise (times 1 - I)"
    )
    exercise_trust: float = _p(
        0.03, 0, 1, "trust gain among participants of a unit-scale exercise (times 1 - T)"
    )
    exercise_signal: float = _p(
        0.04, 0, 1, "risk rise a unit-scale exercise signals to hostile, nearby third states"
    )
    proximity_scale_km: float = _p(
        2500.0, 1.0, None, "distance at which proximity falls to 1/e (signals and crisis exposure)"
    )

    export_capacity: float = _p(
        2.96,
        0,
        None,
        "arms volume per month an exporter with arms_industry 1 can deliver (its export bank, capped at bank_cap months; calibrated on 2000->2010 hindcasts when exporters chose their buyers, was 1.0; a re-fit for the buyer-driven market was not better held out, so kept: data/calibration.yaml)",
    )

    # --- arms transfer effects --------------------------------------------------------------
    arms_capability_gain: float = _p(0.004, 0, None, "importer capability gain per unit volume")
    arms_interop: float = _p(
        0.05, 0, 1, "interoperability gain per unit volume (common platforms, spares)"
    )
    arms_trust: float = _p(0.02, 0, 1, "trust gain per unit volume, both directions")
    arms_signal: float = _p(
        0.03, 0, 1, "risk rise between the importer and its rivals per unit volume"
    )
    stock_decay: float = _p(
        0.01, 0, 1, "share of arms-import stocks lost per month (dependency fades)"
    )
    market_memory: float = _p(
        12.0,
        1.0,
        None,
        "months over which exports count toward market share: market x (1 - 1/market_memory) + exports each month",
    )
    embargo_trust_loss: float = _p(
        0.15, 0, 1, "trust the target loses in the embargoing supplier when an embargo starts"
    )
    arms_demand_rate: float = _p(
        0.35,
        0,
        None,
        "arms volume an importer wants per month per unit of budget x (arms_demand_base + rival load), before saturation",
    )
    arms_order_size: float = _p(
        0.25,
        1e-6,
        None,
        "smallest arms order a buyer places (volume units); demand accrues until then",
    )
    market_revenue: float = _p(
        0.3,
        0,
        None,
        "economic value of a sale to the seller (x weight_economic), against politics and provocation",
    )
    market_temperature: float = _p(
        0.4,
        1e-6,
        None,
        "softmax temperature of a buyer's choice of supplier (lower = more rational)",
    )
    market_trust: float = _p(1.0, 0, None, "buyer's utility weight of its trust in the supplier")
    market_affinity: float = _p(
        1.0, 0, None, "buyer's utility weight of political affinity with the supplier (aff_pos - H)"
    )
    market_lockin: float = _p(
        2.0,
        0,
        None,
        "buyer's utility weight of its existing dependency on the supplier (spare parts, training: lock-in)",
    )
    market_interop: float = _p(
        1.0, 0, None, "buyer's utility weight of interoperability with the supplier"
    )
    market_quality: float = _p(
        0.75,
        0,
        None,
        "buyer's utility weight of the log of the supplier's arms industry relative to the largest (what it can offer)",
    )
    market_diversify: float = _p(
        1.5,
        0,
        None,
        "aversion of an autonomy-minded buyer to concentrated dependency: utility of dependency D is market_lockin x D - market_diversify x autonomy x D^2",
    )
    market_followon: float = _p(
        0.5,
        0,
        1,
        "share of an importer's orders that are follow-on orders for the platforms it holds (spares, upgrades, munitions, more of a type it trained on), placed with a supplier drawn in proportion to its arms stock from each (judgement: lock-in through existing stock)",
    )
    embargo_upkeep: float = _p(
        0.004,
        0,
        1,
        "share of capability an importer loses per month per unit share of its arms stock from suppliers that embargo it",
    )

    # --- advisory missions -------------------------------------------------------------------
    advisory_governance: float = _p(
        0.02, 0, 1, "host governance gain per mission at perfect fit (times 1 - g)"
    )
    advisory_stability: float = _p(
        0.015, 0, 1, "host stability gain per mission at perfect fit (times 1 - s)"
    )
    advisory_trust: float = _p(
        0.02, 0, 1, "host trust gain in the provider per well-fitting mission"
    )
    fit_threshold: float = _p(0.45, 0, 1, "fit below which a mission backfires (backlash)")
    fit_without_co_creation: float = _p(
        0.5,
        0,
        1,
        "mission fit as a share of political affinity without co-creation; full co_creation raises it to 1",
    )
    overreach_misfit: float = _p(
        0.5,
        0,
        None,
        "fit lost per unit of overreach (presence beyond the host's capacity, as a share of it), x (1 - oversight)",
    )
    backlash: float = _p(
        0.06,
        0,
        1,
        "backlash strength: the host's trust falls by backlash_trust_scale x backlash x misfit x (1 - oversight)",
    )
    backlash_trust_scale: float = _p(
        5.0, 0, None, "share of the host's trust lost per unit of backlash x misfit, no oversight"
    )
    advisory_training: float = _p(
        0.5,
        0,
        None,
        "interoperability a mission builds per unit of fit, in unit-scale exercises (x exercise_interop)",
    )
    overreach_capacity: float = _p(
        10.0,
        0,
        None,
        "advisory presence a host with governance 1 absorbs before overreach (presence: missions in place, each decaying by advisory_decay a month; at steady state about missions a year x 10/12, so a host of governance 0.5 absorbs about six missions a year from all providers)",
    )
    advisory_decay: float = _p(0.1, 0, 1, "share of advisory presence lost per month")
    suspension_stability: float = _p(
        0.3, 0, 1, "host stability below which programs are suspended (unless oversight keeps them)"
    )
    suspension_trust_loss: float = _p(
        0.08, 0, 1, "trust lost when a program is suspended (reduced by exit_strategy)"
    )
    oversight_correction: float = _p(
        0.15,
        0,
        1,
        "mission fit that full oversight adds (performance reviews catch misfit: mid-course corrections), x oversight",
    )
    program_presence: float = _p(
        1.5,
        0,
        None,
        "advisory presence at which a provider's missions to a host count as a standing program",
    )
    program_end_presence: float = _p(
        0.5,
        0,
        None,
        "presence below which a standing program has ended (the provider stopped sending missions)",
    )
    program_end_trust_loss: float = _p(
        0.15,
        0,
        1,
        "share of the host's trust in the provider lost when a program ends, x (1 - exit_strategy): an abrupt end costs trust, a planned handover none",
    )
    program_end_governance_loss: float = _p(
        0.05,
        0,
        1,
        "share of the host's governance lost when a program ends, x (1 - exit_strategy): without a handover the gains erode",
    )

    # --- dialogue and confidence-building ---------------------------------------------------
    dialogue_risk_cut: float = _p(
        0.08, 0, 1, "share of escalation risk removed by a dialogue round (x (1 + cbm_investment))"
    )
    dialogue_trust: float = _p(0.015, 0, 1, "trust gain per dialogue round, both directions")
    channel_decay: float = _p(0.03, 0, 1, "share of the dialogue channel stock lost per month")
    hotline_threshold: float = _p(
        3.0, 0, None, "dialogue channel stock at which a standing hotline is set up"
    )

    # --- relaxation --------------------------------------------------------------------------
    trust_relaxation: float = _p(
        0.0231,
        0,
        1,
        "share of the gap to its affinity baseline that trust closes per month (calibrated on 2000->2010 hindcasts; kept when a re-fit on the final model was not better held out: data/calibration.yaml; was 0.02)",
    )
    trust_base: float = _p(
        0.2, 0, 1, "baseline trust between politically distant, non-hostile states"
    )
    trust_affinity: float = _p(0.45, 0, 1, "extra baseline trust for identical political positions")
    trust_hostility: float = _p(0.4, 0, 1, "baseline trust removed by full hostility")
    trust_agreement: float = _p(
        0.15, 0, 1, "extra baseline trust between states with a formal agreement"
    )
    interop_decay: float = _p(
        0.01, 0, 1, "share of interoperability lost per month (equipment and procedures age)"
    )
    risk_relaxation: float = _p(
        0.03, 0, 1, "share of the gap to its structural level that escalation risk closes per month"
    )
    risk_floor: float = _p(0.01, 0, 1, "structural risk between states without rivalry")
    risk_hostility: float = _p(0.4, 0, 1, "structural risk added by full hostility")
    hostility_relaxation: float = _p(
        0.005,
        0,
        1,
        "share of the gap to its structural (initial) level that hostility closes per month",
    )

    # --- capabilities (discrete Richardson process) ----------------------------------------
    richardson_dt: float = _p(
        0.05, 1e-6, 1, "time step of the Richardson arms process per month (one model step)"
    )
    reactivity: float = _p(
        0.05,
        0,
        None,
        "Richardson a: capability effort per unit of rivals' hostility-weighted capability",
    )
    fatigue: float = _p(0.5, 0, None, "Richardson m: restraint proportional to own capability")
    ambition: float = _p(
        -1.0,
        None,
        None,
        "Richardson g; negative = calibrate so initial capability is a steady state",
    )
    capability_ceiling: float = _p(
        1e9, 1.0, None, "upper bound on capability (keeps divergent races finite)"
    )

    # --- crises ------------------------------------------------------------------------------
    crisis_rate: float = _p(
        0.041,
        0,
        1,
        "crisis probability per month of a dyad at escalation risk 1 (calibrated on 2000->2010 hindcasts; kept when a re-fit on the final model was not better held out: data/calibration.yaml; was 0.08)",
    )
    crisis_exponent: float = _p(
        2.0, 0.5, 10, "crisis probability = crisis_rate * risk ** crisis_exponent"
    )
    deescalation_base: float = _p(
        0.6, -10, 10, "log-odds of de-escalation with no trust, dialogue or hotline"
    )
    deescalation_trust: float = _p(2.0, 0, None, "log-odds added per unit of mutual trust")
    deescalation_channel: float = _p(
        0.5,
        0,
        None,
        "log-odds added per unit of dialogue channel stock (up to deescalation_channel_cap)",
    )
    deescalation_channel_cap: float = _p(
        3.0, 0, None, "dialogue channel stock beyond which more channel does not help de-escalation"
    )
    deescalation_hotline: float = _p(1.0, 0, None, "log-odds added by a standing hotline")
    deescalation_cbm: float = _p(
        1.0, 0, None, "log-odds added per unit of the dyad's mean cbm_investment"
    )
    deescalation_hostility: float = _p(2.0, 0, None, "log-odds removed per unit of hostility")
    incident_trust_collapse: float = _p(
        0.6, 0, 1, "share of trust lost in both directions by a militarized incident"
    )
    incident_hostility: float = _p(0.15, 0, 1, "hostility jump of a militarized incident")
    incident_risk: float = _p(0.25, 0, 1, "escalation risk jump of a militarized incident")
    entanglement: float = _p(
        0.2,
        0,
        1,
        "risk rise of a backer with the other side, per unit of trust x interoperability with the side it backs",
    )
    deescalation_trust_gain: float = _p(
        0.02, 0, 1, "share of the missing trust gained, both directions, when a crisis is defused"
    )
    war_hostility: float = _p(
        0.8, 0, 1, "structural hostility a war leaves for good, x severity (never lowered)"
    )
    deterrence: float = _p(
        0.6,
        0,
        1,
        "share of crisis initiation a fully deterred challenger forgoes: each side challenges with half the undeterred probability x (1 - deterrence x the other side's credible backing against it)",
    )
    deescalation_deterrence: float = _p(
        2.0,
        0,
        None,
        "log-odds of de-escalation added per unit of the target's credible backing against the challenger (a backed target's crisis less often becomes an incident)",
    )
    deterrence_agreement: float = _p(
        0.5,
        0,
        1,
        "commitment a formal agreement (alliance or bilateral) adds to a backer's trust in its partner (commitment capped at 1)",
    )
    deterrence_trust_floor: float = _p(
        0.5,
        0,
        0.99,
        "trust a backer must exceed before its trust commits it to a target: commitment from trust = max(0, T - floor) / (1 - floor); diffuse goodwill (trust at the baseline of like-minded states) commits nothing",
    )
    deterrence_interop_floor: float = _p(
        0.3,
        0,
        1,
        "share of a backer's support that counts without any interoperability with the target (rises linearly to 1 at full interoperability)",
    )

    market_ally_solidarity: float = _p(
        0.5,
        0,
        1,
        "share of the capability of a seller's allies that must be at the red line of hostility (consent_max_hostility) with a buyer, not itself an ally, for the seller to refuse it: a seller does not arm its alliance's adversary",
    )

    # --- access and basing (sim/core/access.py) ---------------------------------------------
    access_interval: int = _p(
        6, 1, None, "months between reviews of access and basing (monthly rates compounded)"
    )
    access_rate: float = _p(
        0.02,
        0,
        1,
        "share of the missing access a provider gains per month of sustained cooperation with a host (agreement, host trust >= access_trust, interoperability >= access_interop, provider capability >= access_power x host's, host's arms dependency on the provider >= access_dependency)",
    )
    access_trust: float = _p(
        0.7,
        0,
        1,
        "host's trust in the provider at or above which sustained cooperation builds access",
    )
    access_interop: float = _p(
        0.5, 0, 1, "interoperability at or above which sustained cooperation builds access"
    )
    access_power: float = _p(
        2.0,
        0,
        None,
        "capability ratio provider / host at or above which cooperation builds access (a provider projecting power, not a peer)",
    )
    access_dependency: float = _p(
        0.25,
        0,
        1,
        "host's arms dependency on the provider at or above which cooperation builds access: a host grants bases to the power it relies on for its security (the Gulf states and the USA, Syria and Russia), not to every trusted ally",
    )
    access_lapse_trust: float = _p(
        0.4,
        0,
        1,
        "host's trust in the provider below which access lapses (as it does without an agreement or at the red line of hostility)",
    )
    access_decay: float = _p(
        0.05, 0, 1, "share of access lost per month once the relationship behind it has gone"
    )
    reach_global: float = _p(
        0.5,
        0,
        1,
        "share of the gap to full reach that the most capable state covers without access: reach R = P* + (1 - P*) x reach_global x capability / max capability, P* the proximity extended by access",
    )
    exercise_reach: float = _p(
        0.5,
        0,
        1,
        "weight of reach in an exercise's security gain: x (1 - exercise_reach x (1 - R)) (0: distance does not matter)",
    )
    access_lockin: float = _p(
        1.0,
        0,
        None,
        "arms-stock share a host's full access granted to a supplier counts as in its lock-in with that supplier (x access)",
    )

    # --- events ------------------------------------------------------------------------------
    sanctions_budget_cut: float = _p(
        0.5, 0, 1, "share of the target's diplomacy budget cut by sanctions, x severity"
    )
    sanctions_target_trust_loss: float = _p(
        0.5, 0, 1, "share of the target's trust in each sanctioning state lost, x severity"
    )
    sanctions_sender_trust_loss: float = _p(
        0.3, 0, 1, "share of each sanctioning state's trust in the target lost, x severity"
    )
    coup_governance_loss: float = _p(
        0.5, 0, 1, "share of governance a coup destroys, x severity (stability loses severity)"
    )
    coup_trust_loss: float = _p(
        0.5,
        0,
        1,
        "share of trust lost, both ways, between a state whose government falls and the old regime's backers it turns from (a coup's `against`), x severity",
    )

    # --- alignment ---------------------------------------------------------------------------
    alignment_interval: int = _p(
        12, 1, None, "months (steps) between alignment (bloc) computations"
    )
    affinity_trust: float = _p(1.0, 0, None, "affinity weight of mutual trust")
    affinity_interop: float = _p(0.8, 0, None, "affinity weight of interoperability")
    affinity_dependency: float = _p(
        0.6, 0, None, "affinity weight of arms dependency (both directions)"
    )
    affinity_agreement: float = _p(0.6, 0, None, "affinity weight of a formal agreement")
    affinity_shared_threat: float = _p(0.6, 0, None, "affinity weight of shared rivals")
    affinity_risk: float = _p(1.0, 0, None, "affinity penalty of escalation risk")
    affinity_hostility: float = _p(1.2, 0, None, "affinity penalty of hostility")
    affinity_center: float = _p(
        0.6, 0, None, "subtracted so that indifferent dyads have slightly negative affinity"
    )
    community_resolution: float = _p(
        1.0,
        0.01,
        10,
        "resolution of signed-modularity bloc detection: weight of the null model (higher = more, smaller blocs)",
    )
    bloc_commitment: float = _p(
        0.15,
        0,
        1,
        "tie that co-membership of a named alliance adds between two members in bloc detection, in affinity units, outside signed modularity's null model (a treaty commitment binds the parties whatever else they are tied to)",
    )
    landscape_size_floor: float = _p(
        0.001,
        0,
        None,
        "size every state gets in the landscape, as a share of the largest capability (so states of no capability count)",
    )
    agreement_trust: float = _p(
        0.65, 0, 1, "mutual trust above which a dyad accrues time toward an agreement"
    )
    agreement_interop: float = _p(
        0.4, 0, 1, "interoperability above which a dyad accrues time toward an agreement"
    )
    agreement_steps: int = _p(
        24,
        1,
        None,
        "months (steps) of sustained trust and interoperability that produce an agreement",
    )
    lapse_interop: float = _p(
        0.1, 0, 1, "interoperability below which a non-alliance agreement counts as neglected"
    )
    lapse_trust: float = _p(
        0.45,
        0,
        1,
        "mutual trust below which a neglected non-alliance agreement accrues time toward lapsing",
    )
    lapse_steps: int = _p(
        60, 1, None, "months (steps) of neglect after which a non-alliance agreement lapses"
    )
    bloc_restarts: int = _p(
        8,
        1,
        100,
        "Louvain runs from scratch (random visiting orders) at the first bloc computation, the highest signed modularity wins; later ones run from the previous blocs and bloc_later_restarts times from scratch",
    )
    bloc_later_restarts: int = _p(
        1,
        0,
        100,
        "Louvain runs from scratch at every later bloc computation, besides the run from the previous blocs; the highest signed modularity wins (the previous blocs on ties), so blocs persist unless a better partition is found, not merely because a run from them gets stuck",
    )
    bloc_persistence: float = _p(
        0.02,
        0,
        0.5,
        "share of |signed modularity| by which a partition found from scratch must beat the blocs continued from the previous computation to replace them (alignment is sticky: a group of states hovering between two blocs does not swap back and forth with month-to-month noise; each state still ends in the bloc it prefers)",
    )
    trust_memory: float = _p(
        0.01,
        0,
        1,
        "share of the gap between trust and its baseline that the baseline itself closes per month: experience (cooperation above the baseline, incidents below it) is remembered, so a sustained policy moves the baseline and the move outlasts it",
    )
    position_learning: float = _p(
        0.002,
        0,
        0.1,
        "share of the gap in ideal points a state closes per month and per unit of engagement with a partner (an exercise split over its partners, a unit volume of arms bought from a supplier, an advisory mission hosted): states drift toward those they exercise with, buy from and host advisers from",
    )
    trust_alliance: float = _p(
        0.1,
        0,
        1,
        "extra baseline trust between co-members of a named alliance, on top of trust_agreement (alliance membership is a commitment, not only an agreement)",
    )
    affinity_alliance: float = _p(
        0.4,
        0,
        None,
        "affinity weight of co-membership of a named alliance, on top of the agreement",
    )
    lapse_hostility: float = _p(
        0.4,
        0,
        1,
        "hostility above which a non-alliance agreement counts as hollow and accrues time toward lapsing, whatever trust and interoperability are",
    )
    lapse_hostile_steps: int = _p(
        24,
        1,
        None,
        "months (steps) of hostility above lapse_hostility after which an agreement lapses",
    )

    # --- recording ----------------------------------------------------------------------------
    record_every: int = _p(1, 1, None, "record metrics every this many steps")
    debug_invariants: int = _p(
        0, 0, 1, "1 = check model invariants every step and name the one that broke"
    )

    def replace(self, **changes: Any) -> Parameters:
        """A copy with some values changed (validated)."""
        out = dataclasses.replace(self, **changes)
        out.validate()
        return out

    def validate(self) -> None:
        """Raise ValueError naming the parameter when a value is out of range."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            lo, hi = f.metadata["min"], f.metadata["max"]
            if lo is not None and value < lo or hi is not None and value > hi:
                raise ValueError(f"parameter {f.name}={value!r} outside {describe_range(f.name)}")

    def __post_init__(self) -> None:
        self.validate()


def parameter_fields() -> dict[str, dataclasses.Field]:
    """Name -> dataclass field (with metadata min, max, doc) of every model parameter."""
    return {f.name: f for f in dataclasses.fields(Parameters)}


def describe_range(name: str) -> str:
    """Human text for the allowed range of one parameter, e.g. '[0, 1]' or '>= 0'."""
    meta = parameter_fields()[name].metadata
    lo, hi = meta["min"], meta["max"]
    if lo is not None and hi is not None:
        return f"[{lo:g}, {hi:g}]"
    if lo is not None:
        return f">= {lo:g}"
    if hi is not None:
        return f"<= {hi:g}"
    return "any number"


# Governance levers a state has unless the scenario (`governance:`, or the state's own
# `levers:`) says otherwise; each in [0, 1].
DEFAULT_LEVERS: dict[str, float] = {
    "transparency": 0.3,
    "oversight": 0.5,
    "co_creation": 0.5,
    "exit_strategy": 0.5,
    "cbm_investment": 0.2,
}

# Share of each kind among the exercises states choose (scripted programs name their own
# kind). A judgement value, not calibrated to data.
EXERCISE_MIX: dict[str, float] = {
    "command_post": 0.25,
    "live": 0.25,
    "naval": 0.2,
    "humanitarian": 0.15,
    "cyber": 0.15,
}

# Per exercise kind: multipliers of (interoperability, trust, signal to rivals).
EXERCISE_EFFECTS: dict[str, tuple[float, float, float]] = {
    "command_post": (0.6, 0.5, 0.3),
    "live": (1.0, 0.6, 1.0),
    "naval": (0.9, 0.5, 0.8),
    "humanitarian": (0.4, 0.9, 0.1),
    "cyber": (0.5, 0.3, 0.6),
}
