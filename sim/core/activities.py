"""Defense-diplomacy activities: what states expect from them, and what they do to the world.

Each step the model computes, once and vectorized, the utility of every (activity, partner)
option for every state that can afford an activity (`option_utilities`) and cuts each row
to a small consideration set (`shortlist`, `choice_sets`). Agents draw from their own set
and act through the model's verbs, which file the accepted activities in an `ActivityBook`;
the model then applies all activities of a kind at once (`apply_*`), vectorized over the
entries they touch, with no per-dyad loops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.core.access import exercise_gain
from sim.core.params import (
    ACTIVITY_KINDS,
    EXERCISE_EFFECTS,
    EXERCISE_KINDS,
    LEVERS,
    Parameters,
)
from sim.core.params import EXERCISE_MIX as EXERCISE_SHARES
from sim.core.relations import pair_sums, saturating_gain

if TYPE_CHECKING:  # pragma: no cover
    from sim.core.model import DiplomacyModel

EXERCISE, ARMS, ADVISORY, DIALOGUE = range(4)
TRANSPARENCY, OVERSIGHT, CO_CREATION, EXIT_STRATEGY, CBM = (LEVERS.index(x) for x in LEVERS)
EXERCISE_MIX = np.array([EXERCISE_SHARES[k] for k in EXERCISE_KINDS])  # in EXERCISE_KINDS order
EXERCISE_MIX_CDF = np.cumsum(EXERCISE_MIX)[:-1].tolist()  # a uniform draw below entry k: kind k
KIND_EFFECTS = np.array([EXERCISE_EFFECTS[k] for k in EXERCISE_KINDS])


def option_costs(p: Parameters, n: int) -> np.ndarray:
    """Effort cost of each option in a utility row: 4 blocks of n partners, then 'abstain'.
    Arms transfers are not chosen from a state's effort (buyers choose them in the arms
    market, `sim.core.market`): their block costs infinity."""
    per_kind = [p.cost_exercise, np.inf, p.cost_advisory, p.cost_dialogue]
    return np.concatenate([np.repeat(per_kind, n), [0.0]])


def shortlist(utilities: np.ndarray, k: int) -> np.ndarray:
    """Each state's consideration set: its k best partners for each activity kind (bounded
    attention), as option indices into a utility row; among partners of equal utility the
    lower index is preferred.

    Only blocks (state, kind) with an option worth more than saving the effort (utility > 0)
    are searched; the entries of the others point at the block's first option, which
    `choice_sets` drops with every option of utility <= 0.
    """
    n_states = utilities.shape[0]
    kinds = len(ACTIVITY_KINDS)
    width = (utilities.shape[1] - 1) // kinds  # last column: abstain
    blocks = utilities[:, :-1].reshape(n_states, kinds, width)
    offsets = (np.arange(kinds) * width)[None, :, None]
    if k >= width:
        best = np.broadcast_to(np.arange(width), blocks.shape)
    else:
        best = np.zeros((n_states, kinds, k), dtype=np.intp)
        # compared on the contiguous rows, then cut into blocks: measured 1.6x faster
        # than comparing the strided blocks
        live = (utilities > 0.0)[:, :-1].reshape(blocks.shape).any(axis=2)
        best[live] = top_k(blocks[live], k)
    return (best + offsets).reshape(n_states, kinds * best.shape[2])


TOP_K_BY_ARGMAX = 8  # up to this k, k passes of argmax; beyond, a stable sort


def top_k(rows: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k largest values of each row, largest first, ties to the lower
    index. Overwrites `rows` (pass a copy).

    For a small k, k passes of argmax (each a fast vectorized scan, the winner then masked):
    measured 10x faster than `argpartition` on the world scenario's consideration sets
    (about 40 us against 500 us a step, a tenth of a world run).
    """
    if k > TOP_K_BY_ARGMAX:
        return np.argsort(-rows, axis=1, kind="stable")[:, :k]
    np.maximum(rows, -np.finfo(float).max, out=rows)  # -inf: below all, above a taken entry
    out = np.empty((rows.shape[0], k), dtype=np.intp)
    every = np.arange(rows.shape[0])
    for c in range(k):
        best = rows.argmax(axis=1)
        out[:, c] = best
        rows[every, best] = -np.inf
    return out


@dataclass
class ChoiceSets:
    """The acting states' consideration sets, cut to the options worth more than saving the
    effort (utility > 0), stored row after row as flat Python lists for the agents' few
    sequential draws: row r's options are entries `start[r]:start[r + 1]`, in option order,
    each with its activity `kind` (EXERCISE, ARMS, ADVISORY or DIALOGUE), `partner`, softmax
    `weight` and effort `cost`; `save_weight[r]` is the softmax weight of saving the effort;
    `option` holds the options' indices (kind x N + partner).

    Weights are exp((utility - best utility of the row) / temperature): proportional to the
    softmax probabilities, at most 1, so they never overflow at any temperature."""

    kind: list[int]
    partner: list[int]
    weight: list[float]
    cost: list[float]
    start: list[int]
    save_weight: list[float]
    option: list[int]  # each option's index kind x N + partner


class Options(NamedTuple):
    """One state's options this step (see `ChoiceSets`: parallel lists, one entry per
    option; `save_weight` is saving the effort's) and its random draws to choose among them,
    one entry per choice it may make: `noise`, a row of exponential-race noise 1 / E
    (E ~ Exp(1); entry j for option j), `save_noise`, that of saving the effort, and
    `kind_draws`, a uniform for an exercise's kind. The option (or saving) of largest
    weight x noise wins with probability weight / total weight: a softmax draw."""

    kind: list[int]
    partner: list[int]
    weight: list[float]
    cost: list[float]
    save_weight: float
    noise: list[list[float]]
    save_noise: list[float]
    kind_draws: list[float]


def choice_sets(
    utilities: np.ndarray, shortlists: np.ndarray, costs: np.ndarray, temperature: float
) -> ChoiceSets:
    """Cut every row's shortlist to its options with positive utility (see `ChoiceSets`),
    in the order of their option index (kind, then partner): the order decides which
    noise entry an option gets, so the same options get the same noise in every variant."""
    shortlists = np.sort(shortlists, axis=1)
    utility = np.take_along_axis(utilities, shortlists, axis=1)
    keep = utility > 0.0
    options = shortlists[keep]  # row-major: row after row, shortlist order within a row
    start = np.zeros(len(shortlists) + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=1), out=start[1:])
    n = (utilities.shape[1] - 1) // len(ACTIVITY_KINDS)  # a row: one block of n per kind
    kind, partner = np.divmod(options, n)
    score = utility[keep] / temperature
    count = np.diff(start)
    top = np.zeros(len(count))  # each row's best score (0, saving's, for an empty row)
    if score.size:
        top[count > 0] = np.maximum.reduceat(score, start[:-1][count > 0])
    return ChoiceSets(
        kind=kind.tolist(),
        partner=partner.tolist(),
        weight=np.exp(score - np.repeat(top, count)).tolist(),
        cost=costs[options].tolist(),
        start=start.tolist(),
        save_weight=np.exp(-top).tolist(),
        option=options.tolist(),
    )


class UtilityWorkspace:
    """Arrays `option_utilities` reuses from step to step, for up to N rows: the result and
    its (R, N) intermediates. Fresh arrays of these sizes were mapped anew by the memory
    allocator at most steps (freed memory goes back to the system), and those page faults
    cost more than the arithmetic."""

    def __init__(self, n: int) -> None:
        self.result = np.empty((n, 4 * n + 1))
        _fixed_columns(self.result, n)  # never written by a step: set once
        self._rows = np.empty((7, n, n))
        self._kept: dict[str, tuple] = {}

    def intermediates(self, r: int) -> list[np.ndarray]:
        """Seven contiguous (r, N) arrays."""
        return list(self._rows[:, :r])

    def kept(
        self, name: str, same: tuple, equal: tuple, compute: Callable[[], np.ndarray]
    ) -> np.ndarray:
        """`compute()`, kept under `name` and computed again only when its inputs change:
        `same` are objects the model replaces rather than changes (the parameters, the
        matrices recomputed at a realignment: compared by identity), `equal` arrays it may
        change in place (levers: compared by value). For the terms of the utilities that
        change only at a realignment (measured on the world scenario: 7 fewer passes over
        N x N a step, a sixth of `option_utilities`)."""
        held = self._kept.get(name)
        if (
            held is not None
            and all(a is b for a, b in zip(held[0], same, strict=True))
            and all(np.array_equal(a, b) for a, b in zip(held[1], equal, strict=True))
        ):
            return held[2]
        value = compute()
        self._kept[name] = (same, tuple(np.array(a, copy=True) for a in equal), value)
        return value


def option_utilities(
    m: DiplomacyModel,
    rows: np.ndarray | None = None,
    *,
    workspace: UtilityWorkspace | None = None,
) -> np.ndarray:
    """(R, 4N + 1) expected utility of every option for the states `rows` (default: all N);
    -inf where not allowed. With a `workspace` the result is a view of its buffer, valid
    until the next call with that workspace.

    Security gain: partner's relative capability x trust x (base + shared threat).
    Co-members of a named alliance add a fixed priority (allies owe each other training).
    Exercises cost an escalation term for provoking the partner's rivals that are not
    already one's own (damped by transparency) and an autonomy term for concentrating
    on one partner. Arms transfers are not options here: buyers choose their suppliers
    in the arms market (`sim.core.market`), so their block is -inf. Advisory missions
    buy influence over weak, aligned hosts but risk misfit. Dialogue
    is worth the escalation risk it removes.

    Each row depends only on its own state's relations (and on partner-level vectors), so
    a caller may ask only for some rows. Each block of options is computed in place in a
    contiguous (R, N) buffer (much faster than operating on its strided slice of the
    result) and copied into the result once. For all rows (`rows` None) the state
    matrices are read directly instead of being copied row by row first (measured on the
    world scenario: 9 fewer passes over (N, N), about a fifth of the function's time).
    """
    n = m.n
    every = rows is None  # all rows: read the matrices themselves, no row copies
    rows = np.arange(n) if every else np.asarray(rows, dtype=np.intp)
    r = len(rows)
    if workspace is None:
        u = np.empty((r, 4 * n + 1))
        _fixed_columns(u, n)
        buffers = [np.empty((r, n)) for _ in range(7)]
    else:
        u = workspace.result[:r]
        buffers = workspace.intermediates(r)
    affinity, provocation, block, scratch = buffers[:4]
    take = None if every else rows
    hostility = _rows_of(m.hostility, take, buffers[4])
    interop = _rows_of(m.interoperability, take, buffers[6])
    cap = m.capability
    rel_cap = cap / max(cap.max(), 1e-12)
    rival_load = m.hostility @ rel_cap
    rival_load = rival_load / max(rival_load.max(), 1e-12)
    # exposure to a partner's rivals that are not already one's own: 1 - shared threat
    if every and workspace is not None:  # terms that change only at a realignment, kept
        exposure = workspace.kept(
            "exposure", (m.p, m.shared_threat), (), lambda: 1.0 - m.shared_threat
        )
        np.multiply(exposure, rival_load, out=provocation)
        misfit = workspace.kept(
            "misfit", (m.p, m.affinity_pos), (m.levers,), lambda: _misfit_penalty(m, None)
        )
    else:
        np.subtract(1.0, _rows_of(m.shared_threat, take, buffers[5]), out=provocation)
        provocation *= rival_load
        misfit = _misfit_penalty(m, take)
    provocation *= (1.0 - m.levers[rows, TRANSPARENCY])[:, None]
    _rows_op(
        np.subtract, m.affinity_pos, take, hostility, affinity
    )  # political affinity in [-1, 1]

    _exercise_utilities(
        m, take, block, scratch, rel_cap, hostility, buffers[5], interop, affinity, provocation
    )
    u[:, :n] = block
    _advisory_utilities(m, take, block, scratch, rel_cap, affinity, misfit)  # clips affinity
    u[:, 2 * n : 3 * n] = block
    _dialogue_utilities(m, take, block, scratch)
    u[:, 3 * n : 4 * n] = block
    own = np.arange(r)[:, None]
    u[own, rows[:, None] + np.arange(0, 4 * n, n)] = -np.inf  # no activity with oneself
    return u


def _misfit_penalty(m: DiplomacyModel, rows: np.ndarray | None) -> np.ndarray:
    """(R, N) expected backlash of an advisory mission's misfit for the providers `rows`
    (None: all): backlash x backlash_aversion x max(0, fit_threshold - fit), the fit
    the share of political affinity that co-creation makes fit plus oversight's correction."""
    p = m.p
    levers = _row_values(m.levers, rows)
    fit = np.multiply(
        _row_values(m.affinity_pos, rows), _fit_share(p, levers[:, CO_CREATION, None])
    )
    fit += p.oversight_correction * levers[:, OVERSIGHT, None]
    np.subtract(p.fit_threshold, fit, out=fit)
    np.maximum(fit, 0.0, out=fit)
    fit *= p.backlash * p.backlash_aversion
    return fit


def _fixed_columns(u: np.ndarray, n: int) -> None:
    """The columns of a utility array no state's relations change: arms (chosen by buyers
    in the market, `sim.core.market`: -inf) and abstain (save the effort: 0)."""
    u[:, n : 2 * n] = -np.inf
    u[:, 4 * n] = 0.0


def _rows_of(matrix: np.ndarray, rows: np.ndarray | None, out: np.ndarray) -> np.ndarray:
    """`matrix[rows]` written into `out`, or `matrix` itself for all rows (None): for
    arrays only read."""
    if rows is None:
        return matrix
    return np.take(matrix, rows, axis=0, out=out, mode="clip")  # rows valid: "clip" skips checks


def _rows_op(
    op: np.ufunc, matrix: np.ndarray, rows: np.ndarray | None, other, out: np.ndarray
) -> np.ndarray:
    """`op(matrix[rows], other)` into `out`, in one pass from `matrix` for all rows (None)."""
    if rows is None:
        return op(matrix, other, out=out)
    np.take(matrix, rows, axis=0, out=out, mode="clip")
    return op(out, other, out=out)


def _row_values(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """`values[rows]`, or `values` for all rows (None)."""
    return values if rows is None else values[rows]


def _minus_cost(block: np.ndarray, m: DiplomacyModel, kind: int) -> None:
    """Subtract the weighted effort cost of the activity `kind` from its block, in place."""
    block -= m.p.weight_cost * m.costs[kind * m.n]


def _exercise_utilities(
    m: DiplomacyModel,
    rows: np.ndarray | None,
    out: np.ndarray,
    scratch: np.ndarray,
    rel_cap: np.ndarray,
    hostility: np.ndarray,
    spare: np.ndarray,
    interop: np.ndarray,
    affinity: np.ndarray,
    provocation: np.ndarray,
) -> None:
    """Exercise block into `out`: weighted security gain x diminishing returns + affinity,
    minus provocation and concentration (see `option_utilities`; `spare`: a buffer)."""
    p = m.p
    _rows_op(np.multiply, m.trust, rows, rel_cap, out)  # security gain ...
    out *= _rows_of(exercise_gain(m), rows, scratch)  # (base + ST) x reach (sim.core.access)
    np.subtract(1.0, hostility, out=scratch)
    out *= scratch
    out *= p.weight_security
    np.subtract(p.exercise_saturation, interop, out=scratch)  # ... with diminishing returns
    out *= scratch
    np.multiply(affinity, p.weight_affinity, out=scratch)
    out += scratch
    if p.exercise_alliance:  # allies owe each other training (priority among co-members)
        out += _rows_op(np.multiply, m.allied, rows, p.exercise_alliance, spare)
    np.multiply(provocation, p.weight_escalation, out=scratch)
    out -= scratch
    interop_total = interop.sum(axis=1, keepdims=True)
    np.divide(interop, np.maximum(interop_total, 1e-9), out=scratch)  # concentration
    scratch *= _row_values(m.autonomy, rows)[:, None]
    out -= scratch
    out[:, m.stability < p.suspension_stability] = -np.inf
    _minus_cost(out, m, EXERCISE)


def _advisory_utilities(
    m: DiplomacyModel,
    rows: np.ndarray | None,
    out: np.ndarray,
    scratch: np.ndarray,
    rel_cap: np.ndarray,
    affinity: np.ndarray,
    misfit: np.ndarray,
) -> None:
    """Advisory block into `out`: influence over weak, aligned hosts (less where a mission
    is already in place) minus the expected backlash of misfit (`misfit`, see
    `_misfit_penalty`). Clips `affinity` at 0."""
    p = m.p
    np.maximum(affinity, 0.0, out=affinity)
    affinity *= (1.0 - m.governance) * (1.0 - rel_cap)  # weakness
    np.multiply(affinity, p.weight_influence * _row_values(rel_cap, rows)[:, None], out=out)
    _rows_op(np.add, m.presence, rows, 1.0, scratch)
    out /= scratch  # a mission already in place makes the next worth less
    out -= misfit
    _minus_cost(out, m, ADVISORY)


def _fit_share(p: Parameters, co_creation: np.ndarray) -> np.ndarray:
    """Share of political affinity that becomes a mission's fit: `fit_without_co_creation`,
    rising linearly to 1 with the provider's co-creation lever."""
    return p.fit_without_co_creation + (1.0 - p.fit_without_co_creation) * co_creation


def _dialogue_utilities(
    m: DiplomacyModel, rows: np.ndarray | None, out: np.ndarray, scratch: np.ndarray
) -> None:
    """Dialogue block into `out`: the escalation risk a round removes (more with CBM
    investment), less where a channel is already open."""
    p = m.p
    _rows_op(np.multiply, m.risk, rows, p.weight_risk_reduction, out)
    out *= 1.0 + _row_values(m.levers, rows)[:, CBM, None]
    _rows_op(np.add, m.channel, rows, 1.0, scratch)
    out /= scratch  # an open channel makes the next round worth less
    _minus_cost(out, m, DIALOGUE)


def acceptance_utility(m: DiplomacyModel, partner: int, initiator: int) -> float:
    """What `partner` expects from an exercise proposed by `initiator`, by its own view:
    the exercise utility of its own option row toward the initiator (`option_utilities`:
    security from the initiator's capability and its trust in it, political affinity,
    the cost of provoking the initiator's rivals, its wish to spread its ties) with its
    share `consent_cost_share` of the effort instead of the whole. -inf where it will not:
    at hostility >= consent_max_hostility, under the initiator's arms embargo, in turmoil
    (its own or the initiator's), or without the effort to act this step (no option row:
    a state that cannot afford the cheapest activity cannot pay its share either)."""
    p = m.p
    r = m._option_row[partner]
    if (
        r < 0
        or m.hostility[partner, initiator] >= p.consent_max_hostility
        or m.embargo[initiator, partner]
        or m.stability[partner] < p.suspension_stability
    ):
        return -np.inf
    u = float(m._utilities[r, EXERCISE * m.n + initiator])
    return u + p.weight_cost * p.cost_exercise * (1.0 - p.consent_cost_share)


def host_utility(m: DiplomacyModel, host: int, provider: int) -> float:
    """What `host` expects from an advisory mission of `provider`: the governance it may
    gain (its trust in the provider x its institutional gap x the mission's expected fit)
    plus political affinity, less its share of the effort; -inf at or above
    consent_max_hostility or under the provider's embargo."""
    p = m.p
    h = float(m.hostility[host, provider])
    if h >= p.consent_max_hostility or m.embargo[provider, host]:
        return -np.inf
    fit = float(m.affinity_pos[host, provider]) * float(
        _fit_share(p, m.levers[provider, CO_CREATION])
    ) + p.oversight_correction * float(m.levers[provider, OVERSIGHT])
    gain = p.weight_security * float(m.trust[host, provider]) * (1.0 - m.governance[host]) * fit
    affinity = p.weight_affinity * (float(m.affinity_pos[host, provider]) - h)
    return gain + affinity - p.weight_cost * p.cost_advisory * p.consent_cost_share


def dialogue_utility(m: DiplomacyModel, partner: int, proposer: int) -> float:
    """What `partner` expects from a round of dialogue with `proposer`: the escalation risk
    it removes (more with its own CBM investment, less where a channel is open), less its
    share of the effort. Rivals talk: no hostility line here."""
    p = m.p
    value = (
        p.weight_risk_reduction
        * float(m.risk[partner, proposer])
        * (1.0 + float(m.levers[partner, CBM]))
        / (1.0 + float(m.channel[partner, proposer]))
    )
    return value - p.weight_cost * p.cost_dialogue * p.consent_cost_share


class Proposal(NamedTuple):
    """An activity one state proposes to others. Each partner accepts or declines it
    (`DiplomacyModel.consent`); the model files the activity with those that accept."""

    activity: int  # EXERCISE, ARMS, ADVISORY or DIALOGUE
    initiator: int
    partners: Sequence[int]
    exercise_kind: int = -1  # index into EXERCISE_KINDS (exercises only)
    volume: float = 0.0  # arms transfers only


@dataclass
class ActivityBook:
    """The activities filed during a step (accepted proposals and scripted programs),
    applied in bulk afterwards by the `apply_*` functions."""

    exercises: list[tuple[np.ndarray, float, int, str]] = field(
        default_factory=list
    )  # participants (initiator first), scale, kind (index of EXERCISE_KINDS), series name
    transfers: list[tuple[int, int, float]] = field(
        default_factory=list
    )  # supplier, recipient, volume
    advisory: list[tuple[int, int]] = field(default_factory=list)  # provider, host
    dialogues: list[tuple[int, int]] = field(default_factory=list)  # proposer, partner

    def clear(self) -> None:
        """Forget this step's activities."""
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


def _ranges(start: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ranges [start[g], start[g] + count[g]): (g, value) of every element."""
    g = np.repeat(np.arange(len(start)), count)
    return g, start[g] + np.arange(len(g)) - np.repeat(np.cumsum(count) - count, count)


def apply_exercises(m: DiplomacyModel) -> None:
    """Exercises raise interoperability and trust among participants (with scale and kind),
    and signal to hostile third states, whose risk with the participants rises with scale
    x hostility x proximity x (1 - transparency).

    Works on (exercise, participant) rows and on the participants' hostile dyads, so the
    cost grows with N x participants, not with N x exercises x N.
    """
    book = m.book.exercises  # participants of an exercise are distinct states
    if not book:
        return
    p = m.p
    n, n_ex = m.n, len(book)
    gain = np.array([s for _, s, _, _ in book])[:, None] * KIND_EFFECTS[[k for *_, k, _ in book]]
    size = np.array([len(part) for part, *_ in book])
    ex = np.repeat(np.arange(n_ex), size)  # one row per (exercise, participant)
    who = np.concatenate([part for part, *_ in book]).astype(np.intp)
    first = np.cumsum(size) - size  # each exercise's first row

    a, b = _ranges(first[ex], size[ex])  # row a with every row b of its exercise
    pair = a != b
    a, b = a[pair], b[pair]
    i, j, (interop, trust) = pair_sums(n, who[a], who[b], gain[ex[a], :2].T)
    m.interoperability[i, j] = saturating_gain(
        m.interoperability[i, j], p.exercise_interop, interop
    )
    m.trust[i, j] = saturating_gain(m.trust[i, j], p.exercise_trust, trust)

    # Signal from participant j's exercise to j's rivals x, received by every participant.
    # Rivals x of each participant row k (hostility is symmetric); flatnonzero of a boolean
    # mask is several times faster than of the float rows themselves.
    k, x = np.divmod(np.flatnonzero(m.hostility[who] != 0.0), n)
    member = np.zeros((n_ex, n), dtype=bool)
    member[ex, who] = True
    third = ~member[ex[k], x]  # participants do not signal to themselves
    k, x = k[third], x[third]
    transparency = np.bincount(ex, weights=m.levers[who, TRANSPARENCY], minlength=n_ex) / size
    weight = gain[:, 2] * (1.0 - transparency) / size
    j = who[k]
    exposure = m.hostility[x, j] * m.proximity[x, j] * weight[ex[k]]
    src, q = _ranges(first[ex[k]], size[ex[k]])  # every participant q of the exercise
    i, j, signal = pair_sums(n, x[src], who[q], exposure[src], symmetric=True)
    m.risk[i, j] = saturating_gain(m.risk[i, j], p.exercise_signal, signal)


def apply_transfers(m: DiplomacyModel) -> None:
    """Arms transfers raise the importer's capability and import stock (dependency), build
    interoperability and trust, and raise risk between the importer and its rivals."""
    if not m.book.transfers:
        return
    p = m.p
    n = m.n
    sup, rec, vol = (np.array(x) for x in zip(*m.book.transfers, strict=True))
    sup, rec, vol = sup.astype(np.intp), rec.astype(np.intp), vol.astype(float)
    received = np.bincount(rec, weights=vol, minlength=n)
    m.exports += np.bincount(sup, weights=vol, minlength=n)
    m.capability += p.arms_capability_gain * received
    np.add.at(m.stock, (rec, sup), vol)
    i, j, both = pair_sums(n, sup, rec, vol, symmetric=True)
    m.interoperability[i, j] = saturating_gain(m.interoperability[i, j], p.arms_interop, both)
    m.trust[i, j] = saturating_gain(m.trust[i, j], p.arms_trust, both)
    importers = np.flatnonzero(received)
    k, x = np.divmod(np.flatnonzero(m.hostility[importers] != 0.0), n)  # each importer's rivals
    r = importers[k]
    i, j, reaction = pair_sums(n, x, r, m.hostility[x, r] * received[r], symmetric=True)
    m.risk[i, j] = saturating_gain(m.risk[i, j], p.arms_signal, reaction)


def end_programs(m: DiplomacyModel) -> None:
    """Standing advisory programs (presence >= program_presence) whose presence has
    decayed below program_end_presence have ended: the host loses trust in the provider
    (program_end_trust_loss) and governance (program_end_governance_loss), each x
    (1 - the provider's exit_strategy): a planned handover keeps the gains, an abrupt end
    costs them. Programs start in `apply_advisory` (presence only grows with missions)."""
    p = m.p
    standing = np.flatnonzero(m.program)  # few: only these can end
    ended = standing[m.presence.flat[standing] < p.program_end_presence]
    if ended.size:
        prov, host = np.divmod(ended, m.n)
        abrupt = 1.0 - m.levers[prov, EXIT_STRATEGY]
        np.multiply.at(m.trust, (host, prov), 1.0 - p.program_end_trust_loss * abrupt)
        np.multiply.at(m.governance, host, 1.0 - p.program_end_governance_loss * abrupt)
        m.program.flat[ended] = False
        m.program_ended.flat[ended] = True
        m.programs_ended += len(prov)


FEW_DRAWS = 32  # up to this many entries of a block are drawn one by one (`block_uniforms`)


def block_uniforms(draws: np.random.Generator, size: int, flat: np.ndarray) -> np.ndarray:
    """The entries at `flat` of the block `draws.random(size)`, leaving `draws` where that
    block leaves it. A few entries are drawn one by one, each after jumping to its place
    (`PCG64.advance`: one 64-bit draw per uniform), the same numbers as the whole block
    (measured on the world scenario: about 6 us an entry against 100-200 us for the N x N
    block of advisory draws, drawn at most steps for a few missions)."""
    if len(flat) > FEW_DRAWS:
        return draws.random(size)[flat]
    bits = draws.bit_generator
    start = bits.state
    out = np.empty(len(flat))
    for k, at in enumerate(flat.tolist()):
        bits.state = start
        bits.advance(at)
        out[k] = draws.random()
    bits.state = start
    bits.advance(size)
    return out


def apply_advisory(m: DiplomacyModel) -> None:
    """Advisory missions improve host governance and stability in proportion to fit; misfit
    and overreach cost the host's trust (less with oversight, whose reviews also correct
    misfit: `oversight_correction`); missions to collapsing hosts are suspended unless
    oversight keeps them going, costing trust (less with an exit strategy); programs that
    end cost trust and governance unless handed over (`end_programs`)."""
    end_programs(m)
    if not m.book.advisory:
        return
    p = m.p
    prov, host = (np.array(x, dtype=int) for x in zip(*m.book.advisory, strict=True))
    oversight = m.levers[prov, OVERSIGHT]
    collapsing = m.stability[host] < p.suspension_stability
    # one uniform per (provider, host) pair, drawn for all N x N pairs: a mission's draw
    # does not depend on how many other missions there are this step (common random numbers)
    keep = block_uniforms(m.streams.missions, m.n * m.n, prov * m.n + host)
    suspended = collapsing & (keep > oversight)
    if suspended.any():
        sp, sh = prov[suspended], host[suspended]
        loss = p.suspension_trust_loss * (1.0 - m.levers[sp, EXIT_STRATEGY])
        np.multiply.at(m.trust, (sh, sp), 1.0 - loss)
        m.suspensions += int(suspended.sum())
        prov, host, oversight = prov[~suspended], host[~suspended], oversight[~suspended]
    if len(prov) == 0:
        return
    np.add.at(m.presence, (prov, host), 1.0)
    m.program[prov, host] |= m.presence[prov, host] >= p.program_presence  # standing now
    load = m.presence[:, host].sum(axis=0) / np.maximum(
        p.overreach_capacity * m.governance[host], 1e-6
    )
    overreach = np.maximum(load - 1.0, 0.0)
    m.overreaches += int(np.count_nonzero(overreach))
    fit = m.affinity_pos[prov, host] * _fit_share(p, m.levers[prov, CO_CREATION])
    fit += p.oversight_correction * oversight
    fit -= p.overreach_misfit * overreach * (1.0 - oversight)  # steering checks mission creep
    good = np.clip(fit, 0.0, 1.0)
    gov_gain = np.zeros(m.n)
    np.add.at(gov_gain, host, good)
    m.governance[:] = saturating_gain(m.governance, p.advisory_governance, gov_gain)
    m.stability[:] = saturating_gain(m.stability, p.advisory_stability, gov_gain)
    misfit = np.maximum(p.fit_threshold - fit, 0.0)
    trust_factor = np.where(
        misfit > 0,
        np.clip(1.0 - p.backlash * misfit * (1.0 - oversight) * p.backlash_trust_scale, 0.0, 1.0),
        1.0,
    )
    np.multiply.at(m.trust, (host, prov), trust_factor)
    i, j, gain = pair_sums(m.n, host, prov, np.where(misfit > 0, 0.0, good))
    m.trust[i, j] = saturating_gain(m.trust[i, j], p.advisory_trust, gain)
    i, j, training = pair_sums(m.n, prov, host, p.advisory_training * good, symmetric=True)
    m.interoperability[i, j] = saturating_gain(
        m.interoperability[i, j], p.exercise_interop, training
    )
    m.backlashes += int((misfit > 0).sum())


def apply_dialogues(m: DiplomacyModel) -> None:
    """Dialogue rounds cut escalation risk (more with CBM investment), build a little trust
    (less between hostile states: the gain scales with 1 - hostility), and accumulate a
    channel; a sustained channel becomes a standing hotline."""
    if not m.book.dialogues:
        return
    p = m.p
    a, b = (np.array(x, dtype=np.intp) for x in zip(*m.book.dialogues, strict=True))
    i, j, rounds = pair_sums(m.n, a, b, np.ones(len(a)), symmetric=True)
    cbm = m.levers[:, CBM]
    cut = np.clip(p.dialogue_risk_cut * (1.0 + 0.5 * (cbm[i] + cbm[j])), 0.0, 1.0)  # pair's mean
    m.risk[i, j] *= (1.0 - cut) ** rounds
    # talks between enemies cut risk but rebuild little trust: the gain scales with the
    # room hostility leaves, so a war's mark on trust is not talked away within months
    gain = rounds * (1.0 - m.hostility[i, j])
    m.trust[i, j] = saturating_gain(m.trust[i, j], p.dialogue_trust, gain)
    m.channel[i, j] += rounds
    # Channels only grow here, so only these can newly reach the hotline threshold.
    m.hotline[i, j] |= m.channel[i, j] >= p.hotline_threshold
