"""Emergent alignment: landscape theory, bloc detection and bloc-level summaries.

Two complementary views of alignment among states:

* Axelrod & Bennett (1993) landscape theory splits states into two coalitions so as to
  minimise size-weighted frustration (``landscape_minima`` enumerates every stable split
  exactly for small n; ``landscape_descent`` follows the myopic dynamics for any n).
* Community detection on the positive-affinity graph finds an arbitrary number of blocs
  (``detect_communities``), whose ids are kept stable over time with ``match_labels``.

The remaining helpers summarise how cleanly states sit in their blocs (margin, hedging) and
how polarised the system is. Only numpy, scipy and the standard library are used.
"""

from __future__ import annotations

import random
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

__all__ = [
    "LandscapeMinimum",
    "bloc_margin",
    "cross_bloc_mean",
    "detect_communities",
    "hedging_index",
    "landscape_descent",
    "landscape_energy",
    "landscape_minima",
    "louvain",
    "match_labels",
    "modularity",
    "polarization",
    "signed_communities",
    "signed_modularity",
    "signed_modularity_matrix",
    "within_bloc_mean",
]

# A single switch counts as improving only if it lowers the energy by more than this fraction
# of the energy scale (sum of |s_i s_j p_ij| over pairs), so exact ties never count as moves.
_REL_TOL = 1e-12
# Configurations evaluated per vectorised block in ``landscape_minima`` (bounds memory).
_CHUNK = 1 << 16


@dataclass(frozen=True)
class LandscapeMinimum:
    """A locally stable two-coalition configuration and its landscape energy."""

    energy: float
    coalition: np.ndarray  # int8 0/1 labels, state 0 always in coalition 0


# --------------------------------------------------------------------------------------------
# Landscape theory
# --------------------------------------------------------------------------------------------


def _landscape_weights(sizes: npt.ArrayLike, propensity: npt.ArrayLike) -> tuple[np.ndarray, float]:
    """Validate inputs and return the pair weights W_ij = s_i s_j p_ij (zero diagonal).

    Also returns the improvement tolerance (``_REL_TOL`` times the energy scale).
    """
    s = np.asarray(sizes, dtype=float)
    p = np.asarray(propensity, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"sizes must be a 1-D array, got shape {s.shape}")
    n = s.shape[0]
    if p.shape != (n, n):
        raise ValueError(f"propensity must have shape ({n}, {n}) to match sizes, got {p.shape}")
    if not np.all(np.isfinite(s)) or not np.all(np.isfinite(p)):
        raise ValueError("sizes and propensity must contain only finite values")
    if np.any(s < 0):
        raise ValueError("sizes must be non-negative")
    if not np.array_equal(p, p.T) and not np.allclose(p, p.T):  # exact test first: cheaper
        raise ValueError("propensity must be symmetric")
    w = np.outer(s, s) * (0.5 * (p + p.T))
    np.fill_diagonal(w, 0.0)
    scale = 0.5 * float(np.abs(w).sum())
    return w, _REL_TOL * scale


def _as_coalition(coalition: npt.ArrayLike, n: int, name: str) -> np.ndarray:
    """Validate a 0/1 coalition vector of length n and return it as int8."""
    c = np.asarray(coalition)
    if c.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {c.shape}")
    if not np.all((c == 0) | (c == 1)):
        raise ValueError(f"{name} must contain only 0/1 labels")
    return c.astype(np.int8)


def landscape_energy(
    sizes: npt.ArrayLike, propensity: npt.ArrayLike, coalition: npt.ArrayLike
) -> float:
    """Landscape energy E = sum_{i<j} s_i s_j p_ij d_ij of a two-coalition split.

    d_ij is 1 when i and j are on different sides; lower energy means less frustration.
    """
    w, _ = _landscape_weights(sizes, propensity)
    x = _as_coalition(coalition, w.shape[0], "coalition").astype(float)
    return float(x @ w @ (1.0 - x))


def landscape_minima(
    sizes: npt.ArrayLike, propensity: npt.ArrayLike, *, max_n: int = 22
) -> list[LandscapeMinimum]:
    """Every local minimum of the two-coalition energy landscape, lowest energy first.

    Exact enumeration of the 2^(n-1) partitions (state 0 fixed in coalition 0), vectorised in
    chunks. A configuration is a local minimum when no single state's switch lowers the energy
    by more than a tiny relative tolerance. Ties in energy are ordered by the configuration
    code sum_i x_i 2^i, so the output is deterministic.
    """
    w, tol = _landscape_weights(sizes, propensity)
    n = w.shape[0]
    if n > max_n:
        raise ValueError(
            f"landscape_minima enumerates 2^(n-1) configurations; n={n} exceeds "
            f"max_n={max_n}; use landscape_descent"
        )
    if n <= 1:
        return [LandscapeMinimum(energy=0.0, coalition=np.zeros(n, dtype=np.int8))]

    m = n - 1
    total = 1 << m
    row_sum = w.sum(axis=1)
    shifts = np.arange(m, dtype=np.int64)
    codes_found: list[np.ndarray] = []
    energies_found: list[np.ndarray] = []
    for start in range(0, total, _CHUNK):
        codes = np.arange(start, min(start + _CHUNK, total), dtype=np.int64)
        x = np.zeros((codes.shape[0], n))
        x[:, 1:] = (codes[:, None] >> shifts) & 1
        wx = x @ w  # row c holds (W x_c)^T since W is symmetric
        energy = np.einsum("ci,ci->c", x, row_sum - wx)  # x^T W (1 - x)
        # Energy change from flipping state i, with spins sigma = 1 - 2x: sigma_i (W sigma)_i.
        delta = (1.0 - 2.0 * x) * (row_sum - 2.0 * wx)
        stable = np.all(delta >= -tol, axis=1)
        codes_found.append(codes[stable])
        energies_found.append(energy[stable])

    codes_all = np.concatenate(codes_found)
    energies_all = np.concatenate(energies_found)
    order = np.lexsort((codes_all, energies_all))
    codes_all = codes_all[order]
    energies_all = energies_all[order]
    coalitions = np.zeros((codes_all.shape[0], n), dtype=np.int8)
    coalitions[:, 1:] = (codes_all[:, None] >> shifts) & 1
    return [
        LandscapeMinimum(energy=float(e), coalition=c)
        for e, c in zip(energies_all.tolist(), coalitions, strict=True)
    ]


def landscape_descent(
    sizes: npt.ArrayLike,
    propensity: npt.ArrayLike,
    start: npt.ArrayLike,
    rng: np.random.Generator,
    *,
    max_sweeps: int = 1000,
) -> np.ndarray:
    """Myopic landscape dynamics: states switch side one at a time until none gains by moving.

    Each sweep visits states in an order drawn from ``rng``; a visited state switches if that
    strictly lowers its frustration (equivalently the total energy). Labels are not normalised,
    so they stay comparable with ``start``. Returns the final int8 0/1 coalition array; warns
    (RuntimeWarning) if ``max_sweeps`` is exhausted before reaching a local minimum.
    """
    w, tol = _landscape_weights(sizes, propensity)
    n = w.shape[0]
    x0 = _as_coalition(start, n, "start")
    sigma = 1.0 - 2.0 * x0.astype(float)
    for _ in range(max_sweeps):
        field = w @ sigma  # recomputed each sweep to avoid drift in the running updates
        gain = sigma * field  # energy change if each state switched now
        if not np.any(gain < -tol):
            return ((1.0 - sigma) / 2.0).astype(np.int8)
        order = rng.permutation(n)
        pos = 0
        while pos < n:
            # Jump straight to the next state in the sweep order that wants to move.
            improving = gain[order[pos:]] < -tol
            k = int(np.argmax(improving))
            if not improving[k]:
                break
            i = order[pos + k]
            old = sigma[i]
            sigma[i] = -old
            field -= 2.0 * old * w[:, i]
            gain = sigma * field
            pos += k + 1
    if np.any(sigma * (w @ sigma) < -tol):
        warnings.warn(
            f"landscape_descent did not converge within max_sweeps={max_sweeps}",
            RuntimeWarning,
            stacklevel=2,
        )
    return ((1.0 - sigma) / 2.0).astype(np.int8)


# --------------------------------------------------------------------------------------------
# Community detection
# --------------------------------------------------------------------------------------------


def _square_finite(matrix: npt.ArrayLike, name: str) -> np.ndarray:
    """Return ``matrix`` as a float square array, raising ValueError otherwise."""
    a = np.asarray(matrix, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be a square 2-D array, got shape {a.shape}")
    return a


def _positive_graph(affinity: npt.ArrayLike) -> np.ndarray:
    """Symmetrised positive part of an affinity matrix with zero diagonal (graph weights)."""
    a = _square_finite(affinity, "affinity")
    if not np.all(np.isfinite(a)):
        raise ValueError("affinity must contain only finite values")
    a = 0.5 * (a + a.T)
    pos = np.where(a > 0, a, 0.0)
    np.fill_diagonal(pos, 0.0)
    return pos


def _canonical_labels(labels: npt.ArrayLike) -> tuple[np.ndarray, int]:
    """Map arbitrary labels to 0..B-1 and return (codes, B)."""
    lab = np.asarray(labels)
    if lab.ndim != 1:
        raise ValueError(f"labels must be a 1-D array, got shape {lab.shape}")
    uniq, inv = np.unique(lab, return_inverse=True)
    return inv.reshape(-1), uniq.shape[0]


def _one_hot(codes: np.ndarray, n_blocs: int) -> np.ndarray:
    """n x B float indicator matrix of bloc membership."""
    onehot = np.zeros((codes.shape[0], n_blocs))
    onehot[np.arange(codes.shape[0]), codes] = 1.0
    return onehot


def detect_communities(
    affinity: npt.ArrayLike,
    rng_seed: int,
    *,
    resolution: float = 1.0,
    top_k: int | None = 12,
) -> np.ndarray:
    """Louvain blocs on the positive-affinity graph; labels 0..B-1 by lowest member index.

    Only off-diagonal positive affinities (symmetrised as (A + A^T)/2) become edges. With
    ``top_k`` each state keeps only its ``top_k`` strongest positive ties (union over both
    endpoints), which keeps large dense systems fast while preserving bloc structure. States
    with no positive tie form singleton blocs. Deterministic for a given ``rng_seed``.
    """
    pos = _positive_graph(affinity)
    n = pos.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    edges = pos > 0
    if top_k is not None:
        if top_k < 1:
            raise ValueError(f"top_k must be a positive integer or None, got {top_k}")
        if top_k < n - 1:
            keep_idx = np.argpartition(-pos, top_k - 1, axis=1)[:, :top_k]
            keep = np.zeros((n, n), dtype=bool)
            keep[np.arange(n)[:, None], keep_idx] = True
            keep &= edges
            keep |= keep.T
            edges = keep

    # Both directions (pos is exactly symmetric); flat indices of a 1-D mask come faster.
    rows, cols = np.divmod(np.flatnonzero(edges), n)
    if len(rows) == 0:
        return np.arange(n, dtype=np.int64)
    # Each node's neighbours in increasing order: the order networkx sees when the edges
    # (u, v), u < v, are added row by row.
    ends = np.searchsorted(rows, np.arange(1, n + 1)).tolist()
    neighbours, weights = cols.tolist(), pos[rows, cols].tolist()
    adjacency = [
        dict(zip(neighbours[start:end], weights[start:end], strict=True))
        for start, end in zip([0, *ends[:-1]], ends, strict=True)
    ]
    communities = louvain(adjacency, resolution=resolution, seed=rng_seed)
    labels = np.empty(n, dtype=np.int64)
    for new_id, members in enumerate(sorted(communities, key=min)):
        labels[list(members)] = new_id
    return labels


def louvain(
    adjacency: list[dict[int, float]],
    *,
    resolution: float = 1.0,
    seed: int = 0,
    threshold: float = 1e-7,
) -> list[set[int]]:
    """Louvain communities of an undirected weighted graph (Blondel et al. 2008).

    `adjacency[u]` maps each neighbour of node u (nodes 0..n-1) to the edge weight, in the
    order the edges were added. This is `networkx.community.louvain_communities` (networkx
    3.x) written on plain lists and dicts: the same moves in the same order from the same
    `random.Random(seed)`, the same sums (Python's `sum`) and the same aggregation, so the
    same communities, without building networkx graph objects at every level (which took
    most of the time of bloc detection).
    """
    rng = random.Random(seed)
    degrees = _weighted_degrees(adjacency)
    m = sum(degrees) / 2
    partition = [{u} for u in range(len(adjacency))]
    mod = _louvain_modularity(adjacency, degrees, partition, resolution)
    members: list[set[int]] | None = None  # original nodes behind each node (None: itself)
    partition, inner, improvement = _louvain_level(
        adjacency, degrees, members, partition, m, resolution, rng
    )
    improvement = True
    result = partition
    while improvement:
        result = [c.copy() for c in partition]
        new_mod = _louvain_modularity(adjacency, degrees, inner, resolution)
        if new_mod - mod <= threshold:
            break
        mod = new_mod
        adjacency, members = _louvain_aggregate(adjacency, members, inner)
        degrees = _weighted_degrees(adjacency)
        partition, inner, improvement = _louvain_level(
            adjacency, degrees, members, partition, m, resolution, rng
        )
    return result


def _weighted_degrees(adjacency: list[dict[int, float]]) -> list[float]:
    """Weighted degree of every node; a self-loop counts twice (as in networkx)."""
    return [sum(nbrs.values()) + (u in nbrs and nbrs[u]) for u, nbrs in enumerate(adjacency)]


def _louvain_modularity(
    adjacency: list[dict[int, float]],
    degrees: list[float],
    communities: list[set[int]],
    resolution: float,
) -> float:
    """networkx.community.modularity of a partition of this level's graph."""
    deg_sum = sum(degrees)
    m = deg_sum / 2
    norm = 1 / deg_sum**2

    def internal(comm: set[int]):
        seen: set[int] = set()
        for u in comm:
            for v, wt in adjacency[u].items():
                if v not in seen and v in comm:
                    yield wt
            seen.add(u)

    def contribution(community: set[int]) -> float:
        comm = set(community)
        if len(comm) == 1:  # a lone node: its only internal edge is a self-loop, if any
            (u,) = comm
            loop = [adjacency[u][u]] if u in adjacency[u] else []
            return sum(loop) / m - resolution * degrees[u] * degrees[u] * norm
        degree_sum = sum(degrees[u] for u in comm)
        return sum(internal(comm)) / m - resolution * degree_sum * degree_sum * norm

    return sum(map(contribution, communities))


def _louvain_level(
    adjacency: list[dict[int, float]],
    degrees: list[float],
    members: list[set[int]] | None,
    partition: list[set[int]],
    m: float,
    resolution: float,
    rng: random.Random,
) -> tuple[list[set[int]], list[set[int]], bool]:
    """One level: move nodes, in a shuffled order, to the neighbouring community of largest
    modularity gain until none moves; returns (partition, this level's partition, moved).

    A node's edge weight toward each neighbouring community (summed in neighbour order) is
    kept until a neighbour moves, and only then summed again: the same sums in the same
    order, without redoing them for the many nodes whose neighbourhood is unchanged.
    """
    n = len(adjacency)
    node2com = list(range(n))
    inner = [{u} for u in range(n)]
    gamma = resolution / 2
    total = list(degrees)
    nbrs = [[(v, w) for v, w in adjacency[u].items() if v != u] for u in range(n)]
    weight_to: list[dict[int, float] | None] = [None] * n  # None: summed again when needed
    order = list(range(n))
    rng.shuffle(order)
    moves, improvement = 1, False
    while moves > 0:
        moves = 0
        for u in order:
            u_com = node2com[u]
            by_com = weight_to[u]
            if by_com is None:
                by_com = weight_to[u] = {}
                for nbr, wt in nbrs[u]:
                    com = node2com[nbr]
                    if com in by_com:
                        by_com[com] += wt
                    else:
                        by_com[com] = wt  # == 0.0 + wt (for any weight but -0.0)
            degree = degrees[u]
            total[u_com] -= degree
            best_gain = by_com.get(u_com, 0.0) * m - gamma * (total[u_com] * degree)
            best_com = u_com
            for com, wt in by_com.items():
                gain = wt * m - gamma * (total[com] * degree)
                if gain > best_gain:
                    best_gain, best_com = gain, com
            total[best_com] += degree
            if best_com != u_com:
                u_nodes = {u} if members is None else members[u]
                partition[u_com].difference_update(u_nodes)
                partition[best_com].update(u_nodes)
                inner[u_com].remove(u)
                inner[best_com].add(u)
                improvement = True
                moves += 1
                node2com[u] = best_com
                for nbr, _ in nbrs[u]:
                    weight_to[nbr] = None
    return [p for p in partition if p], [p for p in inner if p], improvement


def _louvain_aggregate(
    adjacency: list[dict[int, float]], members: list[set[int]] | None, inner: list[set[int]]
) -> tuple[list[dict[int, float]], list[set[int]]]:
    """The next level's graph: one node per community, edge weights summed."""
    node2com: dict[int, int] = {}
    new_members = []
    for i, part in enumerate(inner):
        nodes: set[int] = set()
        for node in part:
            node2com[node] = i
            nodes.update({node} if members is None else members[node])
        new_members.append(nodes)
    new: list[dict[int, float]] = [{} for _ in inner]
    seen: set[int] = set()
    for u, nbrs in enumerate(adjacency):
        for v, wt in nbrs.items():
            if v not in seen:
                c1, c2 = node2com[u], node2com[v]
                if c2 in new[c1]:
                    new[c1][c2] = new[c2][c1] = wt + new[c1][c2]
                else:
                    new[c1][c2] = new[c2][c1] = wt
        seen.add(u)
    return new, new_members


def modularity(affinity: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Newman modularity of ``labels`` on the positive-affinity graph (0.0 without edges).

    Q = (1/2m) sum_ij [A_ij - k_i k_j / 2m] delta(c_i, c_j), A the positive part of the
    symmetrised affinity with zero diagonal; the same graph ``detect_communities`` starts from.
    """
    pos = _positive_graph(affinity)
    codes, n_blocs = _canonical_labels(labels)
    if codes.shape[0] != pos.shape[0]:
        raise ValueError(f"labels has length {codes.shape[0]}, expected {pos.shape[0]}")
    two_m = float(pos.sum())
    if two_m <= 0.0:
        return 0.0
    onehot = _one_hot(codes, n_blocs)
    within = float(np.sum(onehot * (pos @ onehot)))
    bloc_degree = onehot.T @ pos.sum(axis=1)
    return within / two_m - float(bloc_degree @ bloc_degree) / two_m**2


def match_labels(
    previous: np.ndarray | None, current: np.ndarray, *, next_id: int | None = None
) -> np.ndarray:
    """Relabel ``current`` blocs to maximise overlap with ``previous`` so ids persist in time.

    Uses an optimal assignment (Hungarian) on the contingency table. Current blocs without an
    overlapping match get fresh ids above every id in ``previous`` (and at least ``next_id`` if
    given, so callers can avoid reusing ids of blocs that dissolved earlier), assigned in order
    of each bloc's lowest member index. With ``previous=None`` a copy of ``current`` is returned.
    """
    cur = np.asarray(current)
    if cur.ndim != 1:
        raise ValueError(f"current must be a 1-D array, got shape {cur.shape}")
    if previous is None:
        return cur.astype(np.int64, copy=True)
    prev = np.asarray(previous)
    if prev.shape != cur.shape:
        raise ValueError(f"previous shape {prev.shape} does not match current shape {cur.shape}")
    prev_ids, prev_codes = np.unique(prev, return_inverse=True)
    cur_ids, cur_codes = np.unique(cur, return_inverse=True)
    prev_codes = prev_codes.reshape(-1)
    cur_codes = cur_codes.reshape(-1)

    table = np.zeros((cur_ids.shape[0], prev_ids.shape[0]), dtype=np.int64)
    np.add.at(table, (cur_codes, prev_codes), 1)
    mapping = np.full(cur_ids.shape[0], -1, dtype=np.int64)
    assigned = np.zeros(cur_ids.shape[0], dtype=bool)
    if table.size:
        row_ind, col_ind = linear_sum_assignment(table, maximize=True)
        for r, c in zip(row_ind.tolist(), col_ind.tolist(), strict=True):
            if table[r, c] > 0:
                mapping[r] = int(prev_ids[c])
                assigned[r] = True

    fresh = int(prev_ids.max()) + 1 if prev_ids.size else 0
    if next_id is not None:
        fresh = max(fresh, int(next_id))
    unmatched = np.flatnonzero(~assigned)
    if unmatched.size:
        first_member = np.full(cur_ids.shape[0], cur.shape[0], dtype=np.int64)
        np.minimum.at(first_member, cur_codes, np.arange(cur.shape[0]))
        for r in unmatched[np.argsort(first_member[unmatched], kind="stable")].tolist():
            mapping[r] = fresh
            fresh += 1
    return mapping[cur_codes]


# --------------------------------------------------------------------------------------------
# Bloc-level summaries
# --------------------------------------------------------------------------------------------


def signed_modularity_matrix(
    affinity: npt.ArrayLike,
    resolution: float = 1.0,
    commitment: npt.ArrayLike | None = None,
) -> tuple[np.ndarray, float]:
    """Signed modularity matrix B and its normaliser (Gomez, Jensen & Arenas 2009).

    With A the symmetrised affinity (zero diagonal), A+ and A- its positive and negative
    parts, k+ and k- their row sums and 2w+ = sum k+, 2w- = sum k-:
    B_ij = A_ij - resolution (k+_i k+_j / 2w+ - k-_i k-_j / 2w-), normaliser 2w+ + 2w-.
    Q = sum_ij B_ij delta(c_i, c_j) / (2w+ + 2w-): friends in one bloc and enemies in
    different blocs both raise Q, each against what random ties of the same strength would
    give. A normaliser of 0 means no ties at all.

    `commitment` (symmetric; e.g. a weight times co-membership of a treaty alliance,
    minus a weight times rivalry) is a second layer without a null model (multilayer
    modularity, Mucha et al. 2010, with the layer's resolution 0): B += C, normaliser +=
    sum |C|. A commitment binds its parties (and a rivalry divides them) whatever else they
    are tied to, so it is not discounted by how many friends (or enemies) they have.
    """
    a = _square_finite(affinity, "affinity")
    if not np.all(np.isfinite(a)):
        raise ValueError("affinity must contain only finite values")
    a = 0.5 * (a + a.T)
    np.fill_diagonal(a, 0.0)
    pos = np.maximum(a, 0.0)
    neg = np.maximum(-a, 0.0)
    kp, kn = pos.sum(axis=1), neg.sum(axis=1)
    wp, wn = float(kp.sum()), float(kn.sum())
    b = a.copy()
    if wp > 0:
        b -= resolution * np.outer(kp, kp) / wp
    if wn > 0:
        b += resolution * np.outer(kn, kn) / wn
    norm = wp + wn
    if commitment is not None:
        c = _square_finite(commitment, "commitment")
        if c.shape != b.shape or not np.all(np.isfinite(c)):
            raise ValueError(f"commitment must be finite and of shape {b.shape}")
        c = 0.5 * (c + c.T)
        np.fill_diagonal(c, 0.0)
        b += c
        norm += float(np.abs(c).sum())
    return b, norm


def signed_modularity(
    affinity: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    resolution: float = 1.0,
    matrix: tuple[np.ndarray, float] | None = None,
) -> float:
    """Signed modularity Q of a partition (see `signed_modularity_matrix`; 0 without ties;
    `matrix` as in `signed_communities`)."""
    b, norm = signed_modularity_matrix(affinity, resolution) if matrix is None else matrix
    codes, n_blocs = _canonical_labels(labels)
    if codes.shape[0] != b.shape[0]:
        raise ValueError(f"labels has length {codes.shape[0]}, expected {b.shape[0]}")
    if norm <= 0:
        return 0.0
    onehot = _one_hot(codes, n_blocs)
    return float(np.sum(onehot * (b @ onehot)) / norm)


def _local_moves(
    m: np.ndarray, labels: np.ndarray, rng: np.random.Generator, tol: float, max_sweeps: int = 200
) -> np.ndarray:
    """Move nodes one at a time (random order each sweep) to the community, or to a
    community of their own, that raises sum_ij M_ij delta(c_i, c_j) most, until none gains.

    `m` is a symmetric (aggregated) modularity matrix; `labels` the starting communities
    (ids below m.shape[0]). Every node ends where it prefers to be: its own community beats
    every other and being alone."""
    k = m.shape[0]
    start = labels.astype(np.int64)
    # s[u, c]: sum of M[u, j] over members j of c. From singletons (every Louvain level
    # starts so), M times the identity is M itself: a k^3 product saved, the same values.
    alone = np.array_equal(start, np.arange(k))
    s = m.copy() if alone else m @ _one_hot(start, k)
    # Plain lists for the per-node bookkeeping: the loop runs in Python, and indexing a
    # list is much cheaper than indexing a numpy array for one value.
    lab = start.tolist()
    counts = np.bincount(start, minlength=k).tolist()
    diag = np.diag(m).tolist()
    rows = np.arange(k)
    # An empty community's column of s stays 0 (up to rounding): the value of being alone.
    for _ in range(max_sweeps):
        order = rng.permutation(k).tolist()
        if not _any_move(s, np.asarray(lab), np.asarray(counts), np.asarray(diag), rows, tol):
            break  # the sweep below would move nobody: skip its loop (same result)
        moved = False
        for u in order:
            cu = lab[u]
            row = s[u]
            best = int(row.argmax())
            if best == cu:
                self_term = diag[u]
                if self_term <= 0.0:
                    continue  # staying is worth at least its own column: no gain
                # Its own column is inflated by its self-term: compare the others with
                # staying (the ties to the rest of its own community).
                with_self = row.item(cu)
                stay = with_self - self_term
                row[cu] = stay
                best = int(row.argmax())
                gain = row.item(best)
                row[cu] = with_self
            else:  # the same choice as with its own column replaced by staying
                gain = row.item(best)
                stay = row.item(cu) - diag[u]  # ties to the rest of its own community
            if counts[best] == 0 and counts[cu] == 1:
                continue  # already alone
            if gain > stay + tol:
                s[:, cu] -= m[:, u]
                s[:, best] += m[:, u]
                counts[cu] -= 1
                counts[best] += 1
                lab[u] = best
                moved = True
        if not moved:
            break
    return np.asarray(lab, dtype=np.int64)


def _any_move(
    s: np.ndarray,
    lab: np.ndarray,
    counts: np.ndarray,
    diag: np.ndarray,
    rows: np.ndarray,
    tol: float,
) -> bool:
    """Whether any node of `_local_moves` would move at the start of a sweep, evaluated
    for all nodes at once with the loop's own rule (best community by argmax, a node
    already alone does not move to an empty community)."""
    stay = s[rows, lab] - diag
    row = s.copy()
    row[rows, lab] = stay
    best = row.argmax(axis=1)
    gain = row[rows, best]
    alone = (counts[best] == 0) & (counts[lab] == 1)
    return bool(np.any((gain > stay + tol) & ~alone))


def _compress(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0..B-1 in order of each community's lowest member."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first, kind="stable"), kind="stable")
    return order[inverse.reshape(-1)].astype(np.int64)


def _signed_louvain(
    b: np.ndarray, rng: np.random.Generator, tol: float, start: np.ndarray
) -> np.ndarray:
    """Louvain (Blondel et al. 2008) on a dense signed modularity matrix: local moves,
    aggregation of communities into nodes, repeated while a level merges anything; then a
    last round of single-state moves on the full matrix (so each state prefers its bloc)."""
    labels = _compress(start)
    m = b
    node_labels = labels  # level nodes of each state
    level_start = labels
    while True:
        moved = _compress(_local_moves(m, level_start, rng, tol))
        node_labels = moved[node_labels]
        k = int(moved.max()) + 1
        if k == m.shape[0]:
            break
        c = _one_hot(moved, k)
        m = c.T @ m @ c
        level_start = np.arange(k)
    return _compress(_local_moves(b, node_labels, rng, tol))


def signed_communities(
    affinity: npt.ArrayLike,
    rng: np.random.Generator,
    *,
    resolution: float = 1.0,
    restarts: int = 8,
    start: npt.ArrayLike | None = None,
    matrix: tuple[np.ndarray, float] | None = None,
    persistence: float = 0.0,
) -> np.ndarray:
    """Blocs that maximise signed modularity (`signed_modularity_matrix`): friends
    together, enemies apart; labels 0..B-1 in order of each bloc's lowest member.

    Runs Louvain on the signed modularity matrix from singletons `restarts` times (visiting
    orders from `rng`) and, when `start` (e.g. the previous blocs) is given, once from
    `start`; the partition of highest Q wins (the earliest on ties: `start` first, so blocs
    persist when nothing better appears). `persistence` >= 0: a run from scratch replaces
    the blocs continued from `start` only when its Q is higher by more than that share of
    their |Q| (realignment needs a clear gain; two near-equal partitions do not swap back
    and forth with noise). Every state ends in the bloc it prefers (its margin,
    `bloc_margin`, is >= 0) in either case: both are Louvain optima. No ties at all: every
    state alone. `matrix`: the result of `signed_modularity_matrix(affinity, resolution)`
    if already computed.
    """
    b, norm = signed_modularity_matrix(affinity, resolution) if matrix is None else matrix
    n = b.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if norm <= 0:
        return np.arange(n, dtype=np.int64)
    tol = _REL_TOL * float(np.abs(b).sum())
    starts = [] if start is None else [_compress(np.asarray(start))]
    starts += [np.arange(n)] * max(restarts, 0 if starts else 1)
    best, bar = None, -np.inf  # bar: the Q a later run must beat
    for k, s0 in enumerate(starts):
        labels = _signed_louvain(b, rng, tol, s0)
        onehot = _one_hot(labels, int(labels.max()) + 1)
        q = float(np.sum(onehot * (b @ onehot)))
        if q > bar + tol:
            best = labels
            bar = q + persistence * abs(q) if (k == 0 and start is not None) else q
    return best


def bloc_margin(
    affinity: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    resolution: float = 1.0,
    matrix: tuple[np.ndarray, float] | None = None,
) -> np.ndarray:
    """How much each state prefers its own bloc, in [-1, 1], by the measure blocs are
    detected with: (S_own - max(best other bloc, being alone = 0)) / sum_j |B_ij|, S_b the
    sum of the signed modularity matrix B over the members of b other than the state.

    Positive when the state is where it wants to be; at the blocs `signed_communities`
    returns every margin is >= 0. States without ties get 0. `matrix` as in
    `signed_communities`.
    """
    b, _ = signed_modularity_matrix(affinity, resolution) if matrix is None else matrix
    codes, n_blocs = _canonical_labels(labels)
    n = b.shape[0]
    if codes.shape[0] != n:
        raise ValueError(f"labels has length {codes.shape[0]}, expected {n}")
    if n == 0:
        return np.zeros(0)
    rows = np.arange(n)
    s = b @ _one_hot(codes, n_blocs)
    s[rows, codes] -= np.diag(b)
    own = s[rows, codes].copy()
    s[rows, codes] = -np.inf
    other = np.maximum(s.max(axis=1), 0.0) if n_blocs > 1 else np.zeros(n)
    scale = np.abs(b).sum(axis=1) - np.abs(np.diag(b))
    return np.divide(np.clip(own - other, -scale, scale), scale, out=np.zeros(n), where=scale > 0)


def hedging_index(
    affinity: npt.ArrayLike,
    labels: npt.ArrayLike,
    ties: npt.ArrayLike,
    sizes: npt.ArrayLike | None = None,
) -> np.ndarray:
    """Hedging in [0, 1]: how evenly a state's engagement is split between two opposed blocs.

    `ties[i, j] >= 0` is how much state i is engaged with j (the model passes arms
    dependency plus interoperability x trust: what i relies on j for, directed). A tie counts
    toward j's bloc in proportion to j's commitment to it (j's mean affinity to its own bloc
    minus its largest to another bloc of two or more members -- a lone state is no bloc to
    commit to, and is committed to none --, means weighted by the members' `sizes`, clipped
    to [0, 1]), so a tie to a fellow hedger is not a tie to the other side. With t_ib the committed ties
    of i to bloc b (itself left out), C_i = sum_b t_ib its committed ties to all blocs and
    T_i all of its ties:

    hedging_i = max over opposed pairs (b, c) of 2 min(t_ib, t_ic) / C_i
                x min(1, T_i / mean T) x (1 - commitment_i)

    1 = engagement split evenly between two opposed blocs by a state that engages at least as
    much as the average state and whose affinity does not choose between them; a bloc core
    (ties on one side), a bystander (few ties) and a state firmly committed to its bloc (a
    bloc leader tied to the other side's hedgers: its own commitment, as above, near 1) are
    low. Two blocs (of two or more members) are opposed when their mean affinity across,
    weighted by the members' `sizes` (capabilities; default equal), is negative. Zero for everyone when no two blocs are opposed (one camp, or all neutral).
    """
    a = _square_finite(affinity, "affinity")
    t = _square_finite(ties, "ties")
    codes, n_blocs = _canonical_labels(labels)
    n = a.shape[0]
    if codes.shape[0] != n or t.shape != (n, n):
        raise ValueError(f"labels {codes.shape} and ties {t.shape} must match affinity ({n})")
    if n == 0:
        return np.zeros(0)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("ties must be finite and non-negative")
    a = 0.5 * (a + a.T)
    np.fill_diagonal(a, 0.0)
    onehot = _one_hot(codes, n_blocs)
    lone = onehot.sum(axis=0) < 2  # blocs of one state: no bloc to commit to or oppose
    big = np.flatnonzero(~lone)
    if big.size < 2:
        return np.zeros(n)
    members = onehot[:, big]
    w = np.ones(n) if sizes is None else np.asarray(sizes, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"sizes has shape {w.shape}, expected ({n},)")
    weighted = members * w[:, None]
    cross = weighted.T @ a @ weighted  # its sign: whether the blocs are opposed
    opposed = (cross < 0) & ~np.eye(big.size, dtype=bool)
    if not opposed.any():
        return np.zeros(n)
    t = t.copy()
    np.fill_diagonal(t, 0.0)
    total = t.sum(axis=1)
    # Commitment of each state to its bloc: its mean affinity to its own bloc minus the
    # largest to another bloc, means weighted by the members' sizes (commitment to a bloc
    # is mostly to its powers), in [0, 1] (a hedger tied to both sides alike: 0).
    weighted_all = onehot * w[:, None]
    others = weighted_all.sum(axis=0)[None, :] - weighted_all  # bloc sizes without itself
    mean_to = np.divide(a @ weighted_all, others, out=np.zeros((n, n_blocs)), where=others > 0)
    rows = np.arange(n)
    own = mean_to[rows, codes].copy()
    mean_to[rows, codes] = -np.inf
    mean_to[:, lone] = -np.inf  # a lone state is no bloc to commit to
    best_other = mean_to.max(axis=1)
    best_other[~np.isfinite(best_other)] = 0.0  # no other bloc
    commitment = np.clip(own - best_other, 0.0, 1.0)
    commitment[lone[codes]] = 0.0  # a lone state is committed to no bloc
    committed = t @ (members * commitment[:, None])  # i's committed ties to each bloc
    pair = np.minimum(committed[:, :, None], committed[:, None, :])
    pair = np.where(opposed[None, :, :], pair, 0.0).max(axis=(1, 2))
    committed_total = t @ commitment
    mean_total = float(total.mean())
    share = np.divide(2.0 * pair, committed_total, out=np.zeros(n), where=committed_total > 0)
    weight = np.minimum(1.0, total / mean_total) if mean_total > 0 else np.zeros(n)
    weight *= 1.0 - commitment  # a state whose affinity has chosen its bloc does not hedge
    return np.clip(share * weight, 0.0, 1.0)


def polarization(sizes: npt.ArrayLike, affinity: npt.ArrayLike, coalition: npt.ArrayLike) -> float:
    """Two-coalition polarization in [0, 1]: capability balance times affinity cleavage.

    4 s0 s1 (s0, s1 the size shares of the sides) times clip(mean affinity within sides - mean
    affinity across sides, 0, 1), means over off-diagonal pairs weighted by s_i s_j (a mean
    with no pairs counts as 0). Zero when a side is empty or total size is zero.
    """
    s = np.asarray(sizes, dtype=float)
    a = _square_finite(affinity, "affinity")
    n = s.shape[0]
    if s.ndim != 1 or a.shape != (n, n):
        raise ValueError(f"sizes shape {s.shape} and affinity shape {a.shape} do not match")
    x = _as_coalition(coalition, n, "coalition")
    total = float(s.sum())
    if total <= 0 or np.all(x == 0) or np.all(x == 1):
        return 0.0
    share = s / total
    s1 = float(share[x == 1].sum())
    balance = 4.0 * (1.0 - s1) * s1
    weight = np.outer(share, share)
    np.fill_diagonal(weight, 0.0)
    same = x[:, None] == x[None, :]
    w_in = np.where(same, weight, 0.0)
    w_out = np.where(same, 0.0, weight)
    aff = np.where(weight > 0, a, 0.0)  # ignore (possibly non-finite) diagonal entries
    mean_in = float((w_in * aff).sum() / w_in.sum()) if w_in.sum() > 0 else 0.0
    mean_out = float((w_out * aff).sum() / w_out.sum()) if w_out.sum() > 0 else 0.0
    return float(np.clip(balance * np.clip(mean_in - mean_out, 0.0, 1.0), 0.0, 1.0))


def _bloc_pair_mean(matrix: npt.ArrayLike, labels: npt.ArrayLike, same_bloc: bool) -> float:
    """Mean of off-diagonal entries over pairs in the same / different blocs (NaN if there
    are none: no bloc with two members, or everyone in one bloc)."""
    m = _square_finite(matrix, "matrix")
    lab = np.asarray(labels)
    if lab.shape != (m.shape[0],):
        raise ValueError(f"labels must have shape ({m.shape[0]},), got {lab.shape}")
    mask = (lab[:, None] == lab[None, :]) == same_bloc
    np.fill_diagonal(mask, False)
    if not mask.any():
        return float("nan")
    return float(m[mask].mean())


def cross_bloc_mean(matrix: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Mean off-diagonal entry over state pairs in different blocs (NaN if there are none)."""
    return _bloc_pair_mean(matrix, labels, same_bloc=False)


def within_bloc_mean(matrix: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Mean off-diagonal entry over distinct state pairs in the same bloc (NaN if none)."""
    return _bloc_pair_mean(matrix, labels, same_bloc=True)
