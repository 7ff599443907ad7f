"""Defense-diplomacy activities: what states expect from them, and what they do to the world.

Each step the model computes, once and vectorized, every state's utility for every
(activity, partner) option (`option_utilities`). Agents sample from their own row and
file requests in an `ActivityBook`; the model then applies all requests of a kind
at once (`apply_*`), with matrix products instead of per-dyad loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.params import ACTIVITY_KINDS, EXERCISE_EFFECTS, EXERCISE_KINDS, LEVERS, Parameters
from sim.relations import IMPORT_STOCK, saturating_gain, zero_diagonal

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import DiplomacyModel

EXERCISE, ARMS, ADVISORY, DIALOGUE = range(4)
TRANSPARENCY, OVERSIGHT, CO_CREATION, EXIT_STRATEGY, CBM = (LEVERS.index(x) for x in LEVERS)
EXERCISE_MIX = np.array(
    [0.25, 0.25, 0.2, 0.15, 0.15]
)  # command_post, live, naval, humanitarian, cyber
EXERCISE_MIX_CDF = np.cumsum(EXERCISE_MIX)[:-1]
KIND_EFFECTS = np.array([EXERCISE_EFFECTS[k] for k in EXERCISE_KINDS])


def option_costs(p: Parameters, n: int) -> np.ndarray:
    """Effort cost of each option in a utility row: 4 blocks of n partners, then 'abstain'."""
    per_kind = [p.cost_exercise, p.cost_arms_transfer, p.cost_advisory, p.cost_dialogue]
    return np.concatenate([np.repeat(per_kind, n), [0.0]])


def shortlist(utilities: np.ndarray, k: int) -> np.ndarray:
    """Each state's consideration set: its k best partners for each activity kind (bounded
    attention), as option indices into a utility row."""
    n_states = utilities.shape[0]
    blocks = utilities[:, :-1].reshape(n_states, len(ACTIVITY_KINDS), -1)  # last column: abstain
    width = blocks.shape[2]
    offsets = (np.arange(len(ACTIVITY_KINDS)) * width)[None, :, None]
    if k >= width:
        best = np.broadcast_to(np.arange(width), blocks.shape)
    else:
        best = np.argpartition(blocks, width - k, axis=2)[:, :, width - k :]
    return (best + offsets).reshape(n_states, -1)


def option_utilities(m: DiplomacyModel) -> np.ndarray:
    """(N, 4N + 1) expected utility of every option for every state; -inf where not allowed.

    Security gain: partner's relative capability x trust x (base + shared threat).
    Exercises cost an escalation term for provoking the partner's rivals that are not
    already one's own (damped by transparency) and an autonomy term for concentrating
    on one partner. Exporters value demand and affinity; importers' consent falls with
    distrust and, for autonomy-minded importers, with concentrated dependency.
    Advisory missions buy influence over weak, aligned hosts but risk misfit. Dialogue
    is worth the escalation risk it removes.
    """
    p = m.p
    n = m.n
    cap = m.capability
    rel_cap = cap / max(cap.max(), 1e-12)
    trust, hostility, risk = m.trust, m.hostility, m.risk
    transparency = m.levers[:, TRANSPARENCY]
    autonomy = m.autonomy[:, None]

    affinity = m.affinity_pos - hostility  # political affinity in [-1, 1]
    security = rel_cap[None, :] * trust * (0.25 + m.shared_threat) * (1.0 - hostility)
    rival_load = hostility @ rel_cap
    rival_load = rival_load / max(rival_load.max(), 1e-12)
    provocation = rival_load[None, :] * (1.0 - m.shared_threat) * (1.0 - transparency[:, None])
    interop_total = m.interoperability.sum(axis=1, keepdims=True)
    concentration = m.interoperability / np.maximum(interop_total, 1e-9)

    u = np.empty((n, 4 * n + 1))
    exercise = u[:, :n]
    np.multiply(p.weight_security, security, out=exercise)
    exercise *= 1.5 - m.interoperability  # diminishing returns
    exercise += p.weight_affinity * affinity
    exercise -= p.weight_escalation * provocation
    exercise -= autonomy * concentration
    low_stability = m.stability < p.suspension_stability
    exercise[:, low_stability] = -np.inf

    arms = u[:, n : 2 * n]
    stock = m.stock.sum(axis=1) + m.other_stock
    demand = ((0.3 + rival_load) * IMPORT_STOCK / (IMPORT_STOCK + stock))[
        None, :
    ]  # saturates with stock
    consent = (
        (0.5 + 0.5 * trust.T)
        * (1.0 - m.autonomy[None, :] * m.dependency.T)
        * (1.0 - m.arms_industry[None, :])
    )
    np.multiply(p.weight_economic, demand, out=arms)
    arms += p.weight_affinity * affinity + p.weight_security * m.shared_threat * rel_cap[None, :]
    arms *= consent
    arms -= p.weight_escalation * 0.5 * provocation
    arms[m.arms_industry <= 0.0, :] = -np.inf
    arms[m.embargo | (affinity < 0.0)] = -np.inf  # no sales to rivals or political opposites

    advisory = u[:, 2 * n : 3 * n]
    fit = m.affinity_pos * (0.5 + 0.5 * m.levers[:, CO_CREATION, None])
    weakness = (1.0 - m.governance)[None, :] * (1.0 - rel_cap)[None, :]
    np.multiply(
        p.weight_influence * rel_cap[:, None], weakness * np.maximum(affinity, 0.0), out=advisory
    )
    advisory /= 1.0 + m.presence  # a mission already in place makes the next worth less
    advisory -= p.backlash * 10.0 * np.maximum(p.fit_threshold - fit, 0.0)

    dialogue = u[:, 3 * n : 4 * n]
    np.multiply(p.weight_risk_reduction * risk, 1.0 + m.levers[:, CBM, None], out=dialogue)
    dialogue /= 1.0 + m.channel  # an open channel makes the next round worth less

    u[:, : 4 * n] -= p.weight_cost * m.costs[None, :-1]

    u[:, 4 * n] = 0.0  # abstain (save the effort)
    diag = np.arange(n)
    for k in range(4):
        u[diag, k * n + diag] = -np.inf
    return u


@dataclass
class ActivityBook:
    """Requests filed by agents during a step, applied in bulk afterwards."""

    exercises: list[tuple[np.ndarray, float, int, str]] = field(
        default_factory=list
    )  # participants, scale, kind, series
    transfers: list[tuple[int, int, float]] = field(
        default_factory=list
    )  # supplier, recipient, volume
    advisory: list[tuple[int, int]] = field(default_factory=list)  # provider, host
    dialogues: list[tuple[int, int]] = field(default_factory=list)

    def clear(self) -> None:
        """Forget this step's requests."""
        self.exercises.clear()
        self.transfers.clear()
        self.advisory.clear()
        self.dialogues.clear()

    def counts(self) -> dict[str, int]:
        """Number of activities of each kind this step."""
        return dict(
            zip(
                ACTIVITY_KINDS,
                (len(self.exercises), len(self.transfers), len(self.advisory), len(self.dialogues)),
                strict=True,
            )
        )


def plan_exercise(m: DiplomacyModel, initiator: int, partner: int, utility_row: np.ndarray) -> None:
    """Turn a chosen exercise into participants, scale and kind; possibly invite more partners."""
    p = m.p
    rng = m.rng
    participants = [initiator, partner]
    if p.max_exercise_size > 2 and rng.random() < p.multilateral_share:
        extra = int(rng.integers(1, p.max_exercise_size - 1))
        scores = utility_row[: m.n] + p.temperature * rng.gumbel(size=m.n)
        scores[participants] = -np.inf
        best = np.argpartition(-scores, extra)[:extra] if extra < m.n else np.arange(m.n)
        participants += [int(c) for c in best if scores[c] > 0.0]
    kind = int(np.searchsorted(EXERCISE_MIX_CDF, rng.random(), side="right"))
    scale = float(np.sqrt(len(participants) / 2.0))
    m.book.exercises.append((np.array(participants), scale, kind, ""))


def apply_exercises(m: DiplomacyModel) -> None:
    """Exercises raise interoperability and trust among participants (with scale and kind),
    and signal to hostile third states, whose risk with the participants rises with scale
    x hostility x proximity x (1 - transparency)."""
    if not m.book.exercises:
        return
    p = m.p
    n_ex = len(m.book.exercises)
    member = np.zeros((n_ex, m.n))
    scale = np.empty(n_ex)
    kind = np.empty(n_ex, dtype=int)
    for e, (participants, s, k, _) in enumerate(m.book.exercises):
        member[e, participants] = 1.0
        scale[e] = s
        kind[e] = k
    effects = KIND_EFFECTS[kind]  # (n_ex, 3): interop, trust, signal
    size = member.sum(axis=1)

    pair_interop = zero_diagonal((member.T * (scale * effects[:, 0])) @ member)
    pair_trust = zero_diagonal((member.T * (scale * effects[:, 1])) @ member)
    m.interoperability[:] = saturating_gain(m.interoperability, p.exercise_interop, pair_interop)
    m.trust[:] = saturating_gain(m.trust, p.exercise_trust, pair_trust)

    transparency = (member @ m.levers[:, TRANSPARENCY]) / size
    weight = scale * effects[:, 2] * (1.0 - transparency) / size
    exposure = (m.hostility * m.proximity) @ member.T  # (N, n_ex): summed over participants
    exposure *= weight[None, :]
    exposure[member.T > 0] = 0.0  # participants do not signal to themselves
    signal = exposure @ member  # (N, N): third state x -> participant
    signal = zero_diagonal(signal + signal.T)
    m.risk[:] = saturating_gain(m.risk, p.exercise_signal, signal)


def apply_transfers(m: DiplomacyModel) -> None:
    """Arms transfers raise the importer's capability and import stock (dependency), build
    interoperability and trust, and raise risk between the importer and its rivals."""
    if not m.book.transfers:
        return
    p = m.p
    sup, rec, vol = (np.array(x) for x in zip(*m.book.transfers, strict=True))
    volume = np.zeros((m.n, m.n))  # supplier -> recipient
    np.add.at(volume, (sup.astype(int), rec.astype(int)), vol.astype(float))
    received = volume.sum(axis=0)
    m.exports += volume.sum(axis=1)
    m.capability += p.arms_capability_gain * received
    m.stock += volume.T
    both = volume + volume.T
    m.interoperability[:] = saturating_gain(m.interoperability, p.arms_interop, both)
    m.trust[:] = saturating_gain(m.trust, p.arms_trust, both)
    reaction = m.hostility * received[None, :]  # rival x reacts to recipient's imports
    m.risk[:] = saturating_gain(m.risk, p.arms_signal, reaction + reaction.T)


def apply_advisory(m: DiplomacyModel) -> None:
    """Advisory missions improve host governance and stability in proportion to fit; misfit
    and overreach cost the host's trust (less with oversight); missions to collapsing hosts
    are suspended unless oversight keeps them going, costing trust (less with an exit strategy)."""
    if not m.book.advisory:
        return
    p = m.p
    prov, host = (np.array(x, dtype=int) for x in zip(*m.book.advisory, strict=True))
    oversight = m.levers[prov, OVERSIGHT]
    collapsing = m.stability[host] < p.suspension_stability
    suspended = collapsing & (m.rng.random(len(prov)) > oversight)
    if suspended.any():
        sp, sh = prov[suspended], host[suspended]
        loss = p.suspension_trust_loss * (1.0 - m.levers[sp, EXIT_STRATEGY])
        np.multiply.at(m.trust, (sh, sp), 1.0 - loss)
        m.suspensions += int(suspended.sum())
        prov, host, oversight = prov[~suspended], host[~suspended], oversight[~suspended]
    if len(prov) == 0:
        return
    np.add.at(m.presence, (prov, host), 1.0)
    load = m.presence.sum(axis=0)[host] / np.maximum(
        p.overreach_capacity * m.governance[host], 1e-6
    )
    overreach = np.maximum(load - 1.0, 0.0)
    fit = m.affinity_pos[prov, host] * (0.5 + 0.5 * m.levers[prov, CO_CREATION]) - 0.5 * overreach
    good = np.clip(fit, 0.0, 1.0)
    gov_gain = np.zeros(m.n)
    np.add.at(gov_gain, host, good)
    m.governance[:] = saturating_gain(m.governance, p.advisory_governance, gov_gain)
    m.stability[:] = saturating_gain(m.stability, p.advisory_stability, gov_gain)
    misfit = np.maximum(p.fit_threshold - fit, 0.0)
    trust_factor = np.where(
        misfit > 0,
        np.clip(1.0 - p.backlash * misfit * (1.0 - oversight) * 5.0, 0.0, 1.0),
        1.0,
    )
    np.multiply.at(m.trust, (host, prov), trust_factor)
    gain = np.zeros((m.n, m.n))
    np.add.at(gain, (host, prov), np.where(misfit > 0, 0.0, good))
    m.trust[:] = saturating_gain(m.trust, p.advisory_trust, gain)
    training = np.zeros((m.n, m.n))
    np.add.at(training, (prov, host), 0.5 * good)
    m.interoperability[:] = saturating_gain(
        m.interoperability, p.exercise_interop, training + training.T
    )
    m.backlashes += int((misfit > 0).sum())


def apply_dialogues(m: DiplomacyModel) -> None:
    """Dialogue rounds cut escalation risk (more with CBM investment), build a little trust,
    and accumulate a channel; a sustained channel becomes a standing hotline."""
    if not m.book.dialogues:
        return
    p = m.p
    a, b = (np.array(x, dtype=int) for x in zip(*m.book.dialogues, strict=True))
    rounds = np.zeros((m.n, m.n))
    np.add.at(rounds, (a, b), 1.0)
    rounds += rounds.T
    cbm = m.levers[:, CBM]
    cut = np.clip(p.dialogue_risk_cut * (1.0 + 0.5 * (cbm[:, None] + cbm[None, :])), 0.0, 1.0)
    m.risk *= (1.0 - cut) ** rounds
    m.trust[:] = saturating_gain(m.trust, p.dialogue_trust, rounds)
    m.channel += rounds
    m.hotline |= m.channel >= p.hotline_threshold
