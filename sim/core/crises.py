"""Crises: drawn from escalation risk, deterred by the credible backing of the sides,
defused by trust, dialogue, hotlines and backing, or turned into militarized incidents
that collapse trust, raise hostility and entangle partners."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.activities import CBM

if TYPE_CHECKING:  # pragma: no cover
    from sim.core.model import DiplomacyModel

DEESCALATED, INCIDENT, WAR = "deescalated", "incident", "war"


def credible_backing(m: DiplomacyModel, c: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Deterrence d[k] in [0, 1): how far the backing of target x[k] deters challenger
    c[k]. Backer b's support of x is its commitment (trust in x, plus
    `deterrence_agreement` for a formal agreement, at most 1) x interoperability with x
    (`deterrence_interop_floor` without any, rising linearly to 1) x its reach to x
    (`m.reach`, `sim.core.access`: proximity extended by b's access and basing, plus a
    great power's global reach `reach_global` x b's relative capability). The capability behind x, excluding c's own and x's,
    is B = sum_b support_bx cap_b, and d = B / (B + cap_c): backing deters a challenger
    in proportion to the power it adds against it. Computed only for the targets asked
    (a column of support per target), not for every dyad."""
    p = m.p
    cap = m.capability
    targets, col = np.unique(x, return_inverse=True)
    floor = p.deterrence_trust_floor  # diffuse goodwill below it commits nothing
    commit = np.maximum(m.trust[:, targets] - floor, 0.0) / max(1.0 - floor, 1e-12)
    agreed = m.bilateral[:, targets] | (m.alliance_count[:, targets] > 0)
    commit += p.deterrence_agreement * agreed
    np.minimum(commit, 1.0, out=commit)
    floor = p.deterrence_interop_floor
    commit *= floor + (1.0 - floor) * m.interoperability[:, targets]
    commit *= m.reach[:, targets]
    commit *= cap[:, None]  # behind[b, t]: the capability b puts behind target t
    commit[targets, np.arange(len(targets))] = 0.0  # a target does not back itself
    backing = commit.sum(axis=0)[col] - commit[c, col]  # without the challenger's own
    return backing / np.maximum(backing + cap[c], 1e-12)


def initiation(
    m: DiplomacyModel, a: np.ndarray, b: np.ndarray, x: np.ndarray, side: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who challenges whom in the dyads (a[k], b[k]) whose crisis draw fell at x[k] in
    [0, 1) of their undeterred probability. The would-be challenger is a when side[k] < 1/2,
    else b (each side with chance 1/2), and it goes ahead unless the other side's credible
    backing deters it: when x < 1 - deterrence x d_ct (c the challenger, t its target; δ_cx
    in docs/model.md). So a dyad's crisis probability is the
    undeterred one x (1 - deterrence x (d_ab + d_ba) / 2), and crises are started more
    often by the side less deterred. Returns the crises' rows (indices into a), their
    challengers and the target's credible backing against its challenger."""
    a_first = side < 0.5
    challenger = np.where(a_first, a, b)
    target = np.where(a_first, b, a)
    backing = credible_backing(m, challenger, target)
    rows = np.flatnonzero(x < 1.0 - m.p.deterrence * backing)
    return rows, challenger[rows], backing[rows]


def crisis_probability(m: DiplomacyModel, risk: np.ndarray | None = None) -> np.ndarray:
    """Per-dyad undeterred crisis probability this step: crisis_rate * risk **
    crisis_exponent (of the risk matrix, or of the given risk values); deterrence then
    lowers it (`initiation`)."""
    return m.p.crisis_rate * np.power(m.risk if risk is None else risk, m.p.crisis_exponent)


def deescalation_probability(
    m: DiplomacyModel, a: np.ndarray, b: np.ndarray, backing: np.ndarray | None = None
) -> np.ndarray:
    """Chance each crisis (a[k], b[k]) is defused: logistic in mutual trust, the dialogue
    channel, a standing hotline, the pair's investment in confidence-building and (when
    given) the target's credible backing against its challenger: a challenger facing a
    backed target backs down more often."""
    p = m.p
    mutual_trust = 0.5 * (m.trust[a, b] + m.trust[b, a])
    cbm = 0.5 * (m.levers[a, CBM] + m.levers[b, CBM])
    logit = (
        p.deescalation_base
        + p.deescalation_trust * mutual_trust
        + p.deescalation_channel * np.minimum(m.channel[a, b], p.deescalation_channel_cap)
        + p.deescalation_hotline * m.hotline[a, b]
        + p.deescalation_cbm * cbm
        - p.deescalation_hostility * m.hostility[a, b]
    )
    if backing is not None:
        logit = logit + p.deescalation_deterrence * backing
    return 1.0 / (1.0 + np.exp(-logit))


def run_crises(m: DiplomacyModel) -> None:
    """Draw this step's crises over all dyads (upper triangle) and resolve each one.
    A crisis has a challenger and a target (`initiation`): the target's credible backing
    against that challenger lowers both the chance that the challenger starts it, by
    1 - deterrence x backing, and of its becoming an incident (`deescalation_deterrence`):
    deterrence. Backing is computed only for the dyads whose draw falls below the
    undeterred probability (the only ones deterrence can concern).

    Three uniforms per dyad and step from the crises stream, drawn for every dyad whether or
    not it has a crisis: u decides the crisis (u < p x (1 - deterrence x backing)), w the
    would-be challenger (a when w < 1/2) and v the outcome (defused when v < P(defused)).
    The stream thus makes the same draws at every step, and a dyad's crisis, challenger and
    outcome each follow their own number in every variant (common random numbers): a
    variant that lowers p keeps the challenger and the outcome of the crises both runs
    have, where one shared u (challenger where u falls in [0, p), defused when u < p x
    P(defused)) would move them with p.
    """
    p = m.p
    if p.crisis_rate <= 0.0:
        return
    iu = m.upper
    prob = crisis_probability(m, m.risk[m.upper_mask])  # dyads i < j, in the order of iu
    draw, side, settle = m.streams.crises.random((3, prob.shape[0]))
    hit = draw < prob  # candidates: deterrence only lowers the probability
    if not hit.any():
        return
    a, b = iu[0][hit], iu[1][hit]
    rows, challenger, backing = initiation(m, a, b, draw[hit] / prob[hit], side[hit])
    if not rows.size:
        return
    a, b, settle = a[rows], b[rows], settle[hit][rows]
    target = np.where(challenger == a, b, a)
    defused = settle < deescalation_probability(m, challenger, target, backing)
    m.crisis_backing.extend(backing.tolist())  # parallel to the crisis log
    for i, j, c, ok in zip(
        a.tolist(), b.tolist(), challenger.tolist(), defused.tolist(), strict=True
    ):
        risk = float(m.risk[i, j])
        if ok:
            m.trust[i, j] += p.deescalation_trust_gain * (1.0 - m.trust[i, j])
            m.trust[j, i] += p.deescalation_trust_gain * (1.0 - m.trust[j, i])
            m.log_crisis(i, j, DEESCALATED, risk, c)
        else:
            militarized_incident(m, i, j, 1.0)
            m.log_crisis(i, j, INCIDENT, risk, c)


def militarized_incident(m: DiplomacyModel, i: int, j: int, severity: float) -> None:
    """Trust collapses in the dyad, hostility and risk jump, and partners are drawn in:
    each backer k of one side sees its risk with the other side rise in proportion to
    its trust in and interoperability with the side it backs (entanglement)."""
    p = m.p
    keep = 1.0 - p.incident_trust_collapse * severity
    m.trust[i, j] *= keep
    m.trust[j, i] *= keep
    h = min(1.0, m.hostility[i, j] + p.incident_hostility * severity)
    m.hostility[i, j] = m.hostility[j, i] = h
    r = m.risk[i, j] + p.incident_risk * severity * (1.0 - m.risk[i, j])
    m.risk[i, j] = m.risk[j, i] = r
    for side, other in ((i, j), (j, i)):
        backing = m.trust[:, side] * m.interoperability[:, side]
        backing[[i, j]] = 0.0
        rise = p.entanglement * severity * backing * (1.0 - m.risk[:, other])
        m.risk[:, other] += rise
        m.risk[other, :] += rise
    m.incidents += 1


def war_shock(m: DiplomacyModel, i: int, j: int, severity: float) -> None:
    """An open war between i and j: structural hostility rises for good, and the
    incident machinery (trust collapse, entanglement) runs at full severity."""
    h0 = max(m.hostility0[i, j], m.p.war_hostility * severity)
    m.hostility0[i, j] = m.hostility0[j, i] = h0
    m.hostility[i, j] = m.hostility[j, i] = max(m.hostility[i, j], h0)
    m.risk[i, j] = m.risk[j, i] = max(m.risk[i, j], severity)
    militarized_incident(m, i, j, severity)
    m.wars += 1  # counted apart from the model's crises and incidents (sim.core.metrics)
    m.crisis_backing.append(float("nan"))  # a war is not a drawn crisis
    m.log_crisis(min(i, j), max(i, j), WAR, float(m.risk[i, j]), i)
