"""Dyadic relations as N x N numpy arrays: geography, baselines, saturating updates, relaxation.

Everything here is vectorized over whole matrices; nothing loops over dyads.
Conventions: `trust[i, j]` is how far i trusts j (directed); interoperability,
escalation risk and hostility are symmetric; every diagonal is kept at zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist

from sim.core.params import Parameters
from sim.core.scenario import Scenario

EARTH_RADIUS_KM = 6371.0
IMPORT_STOCK = 12.0  # arms-import stock (volume units) that a scenario's dependency shares describe


def great_circle_km(latlon: np.ndarray) -> np.ndarray:
    """Pairwise great-circle distances (km) between capitals given as (N, 2) degrees."""
    lat = np.radians(latlon[:, 0])[:, None]
    lon = np.radians(latlon[:, 1])[:, None]
    dlat = lat - lat.T
    dlon = lon - lon.T
    h = np.sin(dlat / 2) ** 2 + np.cos(lat) * np.cos(lat.T) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def position_affinity(position: np.ndarray) -> np.ndarray:
    """1 - normalised distance between ideal points: 1 = same position, 0 = opposite corners.

    Euclidean distances by `scipy.spatial.distance.cdist` (the same sums in the same order
    as broadcasting the differences, so the same values, without the (N, N, d) array)."""
    dims = position.shape[1]
    dist = cdist(position, position)
    return 1.0 - dist / (2.0 * np.sqrt(dims))


def zero_diagonal(m: np.ndarray) -> np.ndarray:
    """Set the diagonal to zero in place and return the array."""
    np.fill_diagonal(m, 0)
    return m


def saturating_gain(current: np.ndarray, rate: float, amount: np.ndarray) -> np.ndarray:
    """Move a [0, 1] quantity toward 1 by `rate * amount` units of effort, never past 1.

    1 - (1 - x) * exp(-rate * amount): additive for small effects, bounded for any amount,
    and the order of simultaneous activities does not matter.
    """
    return 1.0 - (1.0 - current) * np.exp(-rate * amount)


def pair_sums(
    n: int,
    rows: np.ndarray,
    cols: np.ndarray,
    amounts: np.ndarray,
    *,
    symmetric: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum amounts over repeated (row, col) entries of an n x n matrix, as sparse triplets.

    `amounts` has one value per entry, or one row per quantity (shape (q, entries)). With
    `symmetric`, every amount counts for (row, col) and for (col, row). Entries of a state
    with itself are dropped (relations with oneself stay zero). Returns the distinct entries
    (rows, cols) and their totals (last axis: entries); the cost grows with the number of
    entries, not with n x n.
    """
    keys = rows * n + cols
    amounts = np.asarray(amounts, dtype=float)
    if symmetric:
        keys = np.concatenate([keys, cols * n + rows])
        amounts = np.concatenate([amounts, amounts], axis=-1)
    keys, which = np.unique(keys, return_inverse=True)
    if amounts.ndim == 1:
        totals = np.bincount(which, amounts, len(keys))
    else:
        totals = np.array([np.bincount(which, a, len(keys)) for a in amounts])
    i, j = np.divmod(keys, n)
    off = i != j
    return i[off], j[off], totals[..., off]


def trust_ties(
    p: Parameters,
    affinity_pos: np.ndarray,
    agreements: np.ndarray,
    alliance: np.ndarray | None = None,
) -> np.ndarray:
    """The part of the trust baseline that changes only with positions and formal ties:
    trust_base + trust_affinity x political affinity + trust_agreement x agreement
    (+ trust_alliance x co-membership of a named alliance). Unclipped."""
    base = np.multiply(affinity_pos, p.trust_affinity)
    base += p.trust_base
    scratch = np.multiply(agreements, p.trust_agreement)
    base += scratch
    if alliance is not None:
        np.multiply(alliance, p.trust_alliance, out=scratch)
        base += scratch
    return base


def trust_baseline_from(
    p: Parameters, ties: np.ndarray, hostility: np.ndarray, learned: np.ndarray | None = None
) -> np.ndarray:
    """Trust baseline from `trust_ties`: minus rivalry, plus remembered experience
    (`learned`, see `learn_trust`), clipped to [0, 1] with a zero diagonal."""
    base = np.multiply(hostility, -p.trust_hostility)
    base += ties
    if learned is not None:
        base += learned
    return zero_diagonal(np.clip(base, 0.0, 1.0, out=base))


def trust_baseline(
    p: Parameters,
    affinity_pos: np.ndarray,
    hostility: np.ndarray,
    agreements: np.ndarray,
    alliance: np.ndarray | None = None,
    learned: np.ndarray | None = None,
) -> np.ndarray:
    """Trust each dyad relaxes toward: political affinity, minus rivalry, plus formal ties
    (`agreements`: 0/1, float or bool), plus co-membership of a named alliance (`alliance`,
    0/1) and the experience the dyad remembers (`learned`, see `learn_trust`)."""
    return trust_baseline_from(
        p, trust_ties(p, affinity_pos, agreements, alliance), hostility, learned
    )


def learn_trust(learned: np.ndarray, trust: np.ndarray, baseline: np.ndarray, rate: float) -> None:
    """The baseline remembers experience, in place: `learned += rate * (trust - baseline)`.
    Cooperation that holds trust above its baseline raises the baseline slowly, an
    incident that drops trust below it lowers it; once the policy ends trust relaxes toward
    the moved baseline, so the move outlasts the policy. `learned` needs no bounds of its
    own: where the clipped baseline cannot follow (trust above a baseline already at 1, or
    below one at 0) the gap closes from the other side."""
    if rate <= 0:
        return
    gap = np.subtract(trust, baseline)
    gap *= rate
    learned += gap


def engagement_pull(
    position: np.ndarray,
    exercises: list,
    transfers: list,
    advisory: list,
) -> tuple[np.ndarray, np.ndarray]:
    """How strongly, and toward where, each state's partners pulled its ideal point this step.

    With pull[i, j] the weight of j's pull on i -- each exercise gives every participant its
    scale split over its partners (both ways), an arms transfer pulls the buyer toward the
    supplier by its volume, an advisory mission pulls the host toward the provider by 1 --
    returns (sum_j pull_ij, sum_j pull_ij x_j) per state, summed over the activities (the
    cost grows with the number of activities, not with n x n)."""
    n, dims = position.shape
    who: list[np.ndarray] = []  # the pulled state of each pull
    weight: list[np.ndarray] = []  # its weight
    where: list[np.ndarray] = []  # weight x the partners' (mean) position
    groups, scales = [], []
    for participants, scale, _kind, _series in exercises:
        if len(participants) >= 2:
            groups.append(participants)
            scales.append(scale)
    if groups:
        sizes = np.fromiter(map(len, groups), np.int64, len(groups))
        members = np.concatenate(groups)
        scale = np.repeat(scales, sizes)
        x = position[members]
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        others = np.repeat(np.add.reduceat(x, starts, axis=0), sizes, axis=0) - x
        who.append(members)
        weight.append(scale)
        where.append((scale / (np.repeat(sizes, sizes) - 1))[:, None] * others)
    if transfers:
        supplier, buyer, volume = (np.asarray(c) for c in zip(*transfers, strict=True))
        who.append(buyer.astype(np.int64))
        weight.append(volume.astype(float))
        where.append(volume[:, None] * position[supplier.astype(np.int64)])
    if advisory:
        provider, host = (np.asarray(c, dtype=np.int64) for c in zip(*advisory, strict=True))
        who.append(host)
        weight.append(np.ones(host.size))
        where.append(position[provider])
    if not who:
        return np.zeros(n), np.zeros((n, dims))
    pulled = np.concatenate(who)
    total = np.bincount(pulled, np.concatenate(weight), n)
    toward_all = np.concatenate(where)
    toward = np.stack([np.bincount(pulled, toward_all[:, d], n) for d in range(dims)], axis=1)
    return total, toward


def drift_positions(
    position: np.ndarray, total: np.ndarray, toward: np.ndarray, rate: float
) -> bool:
    """Ideal points drift toward the partners a state engages with, in place:
    x_i += min(1, rate * sum_j pull_ij) * (sum_j pull_ij x_j / sum_j pull_ij - x_i) (a state
    never overshoots its partners' weighted mean), kept in [-1, 1]; `total` and `toward`
    as `engagement_pull` returns them. Returns whether anything moved."""
    if rate <= 0:
        return False
    moving = total > 0
    if not moving.any():
        return False
    weight = np.minimum(rate * total[moving], 1.0)
    target = toward[moving] / total[moving, None]
    position[moving] += weight[:, None] * (target - position[moving])
    np.clip(position, -1.0, 1.0, out=position)
    return True


def structural_risk(p: Parameters, hostility: np.ndarray) -> np.ndarray:
    """Escalation risk each dyad relaxes toward: a floor plus a share of hostility."""
    base = np.multiply(hostility, p.risk_hostility)
    base += p.risk_floor
    return zero_diagonal(np.clip(base, 0.0, 1.0, out=base))


@dataclass
class InitialRelations:
    """Initial matrices for a scenario (specified pairs, derived defaults elsewhere)."""

    trust: np.ndarray
    interoperability: np.ndarray
    hostility: np.ndarray
    risk: np.ndarray
    bilateral: np.ndarray
    hotline: np.ndarray
    stock: np.ndarray
    other_stock: np.ndarray
    access: np.ndarray


def initial_relations(
    scenario: Scenario, affinity_pos: np.ndarray, alliance_ties: np.ndarray
) -> InitialRelations:
    """Build the initial matrices: the scenario's pairs, and defaults derived from attributes.

    Unspecified trust is the affinity baseline; unspecified risk is the structural level;
    dependency shares become import stocks scaled to `IMPORT_STOCK`, with the rest of a
    state's imports held as stock from suppliers outside the scenario.
    """
    ids = {s: k for k, s in enumerate(scenario.ids)}
    n = len(ids)
    p = scenario.parameters
    rel = scenario.relations

    hostility = np.zeros((n, n))
    for (a, b), v in rel.hostility.items():
        hostility[ids[a], ids[b]] = hostility[ids[b], ids[a]] = v
    interop = np.zeros((n, n))
    for (a, b), v in rel.interoperability.items():
        interop[ids[a], ids[b]] = interop[ids[b], ids[a]] = v
    bilateral = np.zeros((n, n), dtype=bool)
    for a, b in rel.agreements:
        bilateral[ids[a], ids[b]] = bilateral[ids[b], ids[a]] = True
    hotline = np.zeros((n, n), dtype=bool)
    for a, b in rel.hotlines:
        hotline[ids[a], ids[b]] = hotline[ids[b], ids[a]] = True

    agreements = (bilateral | alliance_ties).astype(float)
    trust = trust_baseline(p, affinity_pos, hostility, agreements, alliance_ties)
    for (a, b), v in rel.trust.items():
        trust[ids[a], ids[b]] = v

    stock = np.zeros((n, n))
    other = np.zeros(n)
    for importer, shares in rel.dependency.items():
        i = ids[importer]
        for supplier, share in shares.items():
            stock[i, ids[supplier]] = share * IMPORT_STOCK
        other[i] = max(0.0, 1.0 - sum(shares.values())) * IMPORT_STOCK

    access = np.zeros((n, n))
    for (provider, host), v in rel.access.items():
        access[ids[provider], ids[host]] = v

    return InitialRelations(
        trust=zero_diagonal(trust),
        interoperability=zero_diagonal(interop),
        hostility=zero_diagonal(hostility),
        risk=structural_risk(p, hostility),
        bilateral=bilateral,
        hotline=hotline,
        stock=stock,
        other_stock=other,
        access=access,
    )


def dependency_from_stock(stock: np.ndarray, other_stock: np.ndarray) -> np.ndarray:
    """Share of each importer's arms-import stock held from each supplier (rows sum <= 1)."""
    total = (stock.sum(axis=1) + other_stock)[:, None]
    importer = total > 0
    if importer.all():  # the usual case: a plain division, measured 2.5x faster than masked
        return np.divide(stock, total)
    dep = np.divide(stock, total, out=np.empty_like(stock), where=importer)
    dep[~importer[:, 0]] = 0.0  # no stock at all: no dependency
    return dep


def relax(
    model_arrays: dict[str, np.ndarray],
    p: Parameters,
    trust_base: np.ndarray,
    risk_base: np.ndarray,
) -> None:
    """One step of relaxation and decay, in place (the 'bare kernel' the benchmarks time).

    Trust moves toward its baseline, interoperability decays, risk moves toward its
    structural level, hostility toward its structural (initial) level, and stocks decay.
    The three moves share one scratch array for the gap still to close.
    """
    gap = np.empty_like(trust_base)
    for name, base, rate in (
        ("trust", trust_base, p.trust_relaxation),
        ("risk", risk_base, p.risk_relaxation),
        ("hostility", model_arrays["hostility0"], p.hostility_relaxation),
    ):
        current = model_arrays[name]
        np.subtract(base, current, out=gap)
        gap *= rate
        current += gap
    model_arrays["interoperability"] *= 1.0 - p.interop_decay
    model_arrays["stock"] *= 1.0 - p.stock_decay
    model_arrays["channel"] *= 1.0 - p.channel_decay
    model_arrays["presence"] *= 1.0 - p.advisory_decay
