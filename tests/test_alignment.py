"""Tests for sim.core.alignment: landscape theory, bloc detection and bloc summaries."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.alignment import (
    LandscapeMinimum,
    bloc_margin,
    cross_bloc_mean,
    detect_communities,
    hedging_index,
    landscape_descent,
    landscape_energy,
    landscape_minima,
    match_labels,
    modularity,
    polarization,
    signed_communities,
    signed_modularity,
    within_bloc_mean,
)
from sim.experiments.scoring import adjusted_rand

# --------------------------------------------------------------------------------------------
# Brute-force reference for landscape theory
# --------------------------------------------------------------------------------------------


def _ref_energy(sizes: list[float], prop: list[list[float]], x: tuple[int, ...]) -> float:
    n = len(sizes)
    return sum(
        sizes[i] * sizes[j] * prop[i][j] for i in range(n) for j in range(i + 1, n) if x[i] != x[j]
    )


def _ref_minima(sizes: np.ndarray, prop: np.ndarray) -> list[tuple[float, tuple[int, ...]]]:
    """All local minima by plain enumeration with state 0 fixed in coalition 0."""
    s = sizes.tolist()
    p = prop.tolist()
    n = len(s)
    scale = sum(abs(s[i] * s[j] * p[i][j]) for i in range(n) for j in range(i + 1, n))
    tol = 1e-12 * scale
    out = []
    for rest in itertools.product((0, 1), repeat=n - 1):
        x = (0, *rest)
        e = _ref_energy(s, p, x)
        stable = True
        for i in range(n):
            y = list(x)
            y[i] = 1 - y[i]
            if _ref_energy(s, p, tuple(y)) - e < -tol:
                stable = False
                break
        if stable:
            out.append((e, x))
    return out


def _check_against_reference(sizes: np.ndarray, prop: np.ndarray) -> None:
    got = landscape_minima(sizes, prop)
    ref = _ref_minima(sizes, prop)
    got_configs = {tuple(int(v) for v in m.coalition) for m in got}
    assert len(got_configs) == len(got)
    assert got_configs == {x for _, x in ref}
    ref_energy = {x: e for e, x in ref}
    scale = max(1.0, float(np.abs(np.outer(sizes, sizes) * prop).sum()))
    for m in got:
        assert m.coalition[0] == 0
        assert m.energy == pytest.approx(
            ref_energy[tuple(int(v) for v in m.coalition)], abs=1e-9 * scale
        )
    energies = [m.energy for m in got]
    assert energies == sorted(energies)


@st.composite
def _landscape_case(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Random sizes and symmetric propensities with exactly representable (dyadic) values."""
    n = draw(st.integers(1, 10))
    sizes = np.array(draw(st.lists(st.integers(0, 8), min_size=n, max_size=n)), dtype=float) / 2
    kind = draw(st.sampled_from(["random", "constant", "sparse"]))
    if kind == "constant":
        prop = np.full((n, n), draw(st.integers(-4, 4)) / 4)
    else:
        values = st.integers(-4, 4) if kind == "random" else st.sampled_from([-1, 0, 0, 0, 1])
        upper = draw(st.lists(values, min_size=n * n, max_size=n * n))
        prop = np.array(upper, dtype=float).reshape(n, n) / 4
        prop = np.triu(prop, 1) + np.triu(prop, 1).T
    np.fill_diagonal(prop, draw(st.integers(-4, 4)))  # diagonal must be ignored
    return sizes, prop


@settings(max_examples=60, deadline=None)
@given(_landscape_case())
def test_landscape_minima_matches_brute_force(case: tuple[np.ndarray, np.ndarray]) -> None:
    _check_against_reference(*case)


@pytest.mark.parametrize("seed", range(6))
def test_landscape_minima_matches_brute_force_continuous(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 12 if seed < 2 else int(rng.integers(2, 10))
    sizes = rng.uniform(0.0, 5.0, n)
    a = rng.uniform(-1.0, 1.0, (n, n))
    prop = (a + a.T) / 2
    _check_against_reference(sizes, prop)


def test_landscape_minima_stability_property() -> None:
    """Returned configurations admit no improving single switch; others do (n = 9)."""
    rng = np.random.default_rng(7)
    n = 9
    sizes = rng.uniform(0.5, 3.0, n)
    a = rng.normal(size=(n, n))
    prop = (a + a.T) / 2
    minima = {tuple(m.coalition.tolist()) for m in landscape_minima(sizes, prop)}
    for rest in itertools.product((0, 1), repeat=n - 1):
        x = np.array((0, *rest))
        e = landscape_energy(sizes, prop, x)
        flips = []
        for i in range(n):
            y = x.copy()
            y[i] ^= 1
            flips.append(landscape_energy(sizes, prop, y) - e)
        assert (min(flips) >= -1e-9) == (tuple(x.tolist()) in minima)


def test_landscape_two_groups_analytic() -> None:
    # Two groups of 3: propensity +1 inside a group, -1 across groups (-1 = prefer apart).
    sizes = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 4.0])
    group = np.array([0, 0, 0, 1, 1, 1])
    prop = np.where(group[:, None] == group[None, :], 1.0, -1.0)
    minima = landscape_minima(sizes, prop)
    best = minima[0]
    np.testing.assert_array_equal(best.coalition, group)
    cross = sum(sizes[i] * sizes[j] for i in range(3) for j in range(3, 6))
    assert best.energy == pytest.approx(-cross)
    assert all(m.energy > best.energy for m in minima[1:])
    assert landscape_energy(sizes, prop, group) == pytest.approx(-cross)
    assert landscape_energy(sizes, prop, np.zeros(6, dtype=int)) == pytest.approx(0.0)


def test_landscape_minima_small_cases() -> None:
    (only,) = landscape_minima([3.0], [[0.0]])
    assert isinstance(only, LandscapeMinimum)
    assert only.energy == 0.0
    np.testing.assert_array_equal(only.coalition, [0])
    # All-zero propensity: every partition ties, so every partition is a local minimum.
    minima = landscape_minima(np.ones(4), np.zeros((4, 4)))
    assert len(minima) == 8
    assert [int(m.coalition @ (1 << np.arange(4))) for m in minima] == list(range(0, 16, 2))


def test_landscape_minima_n20_runs() -> None:
    rng = np.random.default_rng(20)
    n = 20
    sizes = rng.uniform(0.1, 5.0, n)
    a = rng.uniform(-1.0, 1.0, (n, n))
    minima = landscape_minima(sizes, (a + a.T) / 2)
    assert len(minima) >= 1
    assert all(m.coalition.shape == (n,) and m.coalition[0] == 0 for m in minima)


def test_landscape_minima_validation() -> None:
    n = 23
    with pytest.raises(ValueError, match="exceeds max_n=22; use landscape_descent"):
        landscape_minima(np.ones(n), np.zeros((n, n)))
    with pytest.raises(ValueError, match="max_n=4"):
        landscape_minima(np.ones(5), np.zeros((5, 5)), max_n=4)
    asym = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="symmetric"):
        landscape_minima(np.ones(3), asym)
    with pytest.raises(ValueError, match="shape"):
        landscape_minima(np.ones(3), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="non-negative"):
        landscape_minima(np.array([1.0, -1.0]), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="finite"):
        landscape_minima(np.array([1.0, np.nan]), np.zeros((2, 2)))


# --------------------------------------------------------------------------------------------
# Landscape descent
# --------------------------------------------------------------------------------------------


def _canon(x: np.ndarray) -> tuple[int, ...]:
    x = np.asarray(x, dtype=int)
    return tuple((x ^ x[0]).tolist())


@settings(max_examples=40, deadline=None)
@given(_landscape_case(), st.integers(0, 2**32 - 1))
def test_descent_ends_in_a_minimum(case: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    sizes, prop = case
    n = sizes.shape[0]
    minima = {tuple(m.coalition.tolist()) for m in landscape_minima(sizes, prop)}
    rng = np.random.default_rng(seed)
    for _ in range(3):
        start = rng.integers(0, 2, n)
        end = landscape_descent(sizes, prop, start, rng)
        assert end.shape == (n,)
        assert _canon(end) in minima
        assert landscape_energy(sizes, prop, end) <= landscape_energy(sizes, prop, start) + 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_descent_ends_in_a_minimum_continuous(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = 10
    sizes = rng.uniform(0.1, 5.0, n)
    a = rng.normal(size=(n, n))
    prop = (a + a.T) / 2
    minima = {tuple(m.coalition.tolist()) for m in landscape_minima(sizes, prop)}
    for _ in range(10):
        end = landscape_descent(sizes, prop, rng.integers(0, 2, n), rng)
        assert _canon(end) in minima


def test_descent_deterministic_and_keeps_labels() -> None:
    rng = np.random.default_rng(3)
    n = 60
    sizes = rng.uniform(0.1, 5.0, n)
    a = rng.normal(size=(n, n))
    prop = (a + a.T) / 2
    start = rng.integers(0, 2, n)
    end1 = landscape_descent(sizes, prop, start, np.random.default_rng(11))
    end2 = landscape_descent(sizes, prop, start, np.random.default_rng(11))
    np.testing.assert_array_equal(end1, end2)
    # The result is a local minimum and is not relabelled (complement also a minimum).
    flipped = landscape_descent(sizes, prop, 1 - start, np.random.default_rng(11))
    np.testing.assert_array_equal(flipped, 1 - end1)
    np.testing.assert_array_equal(landscape_descent(sizes, prop, end1, rng), end1)


def test_descent_does_not_move_from_a_minimum() -> None:
    rng = np.random.default_rng(5)
    n = 8
    sizes = rng.uniform(0.1, 5.0, n)
    a = rng.normal(size=(n, n))
    prop = (a + a.T) / 2
    for m in landscape_minima(sizes, prop):
        for start in (m.coalition, 1 - m.coalition):
            end = landscape_descent(sizes, prop, start, rng)
            np.testing.assert_array_equal(end, start)


def test_descent_validation_and_large_n() -> None:
    with pytest.raises(ValueError, match="0/1"):
        landscape_descent(np.ones(3), np.zeros((3, 3)), [0, 2, 1], np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        landscape_descent(np.ones(3), np.zeros((3, 3)), [0, 1], np.random.default_rng(0))
    rng = np.random.default_rng(0)
    n = 400
    sizes = rng.uniform(0.1, 5.0, n)
    a = rng.normal(size=(n, n))
    prop = (a + a.T) / 2
    end = landscape_descent(sizes, prop, rng.integers(0, 2, n), rng)
    x = end.astype(float)
    w = np.outer(sizes, sizes) * prop
    np.fill_diagonal(w, 0.0)
    sigma = 1 - 2 * x
    assert np.all(sigma * (w @ sigma) >= -1e-9)


# --------------------------------------------------------------------------------------------
# Community detection and modularity
# --------------------------------------------------------------------------------------------


def _planted_blocks(
    rng: np.random.Generator, sizes: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    truth = np.repeat(np.arange(len(sizes)), sizes)
    same = truth[:, None] == truth[None, :]
    aff = np.where(same, 0.7, -0.5) + rng.uniform(-0.2, 0.2, (truth.size, truth.size))
    aff = (aff + aff.T) / 2
    np.fill_diagonal(aff, 1.0)
    return aff, truth


@pytest.mark.parametrize("top_k", [None, 12, 30])
def test_detect_communities_recovers_planted_blocks(top_k: int | None) -> None:
    rng = np.random.default_rng(1)
    aff, truth = _planted_blocks(rng, (25, 15))
    perm = rng.permutation(truth.size)
    aff, truth = aff[np.ix_(perm, perm)], truth[perm]
    labels = detect_communities(aff, rng_seed=42, top_k=top_k)
    assert labels.dtype.kind == "i"
    assert labels[0] == 0
    assert set(labels.tolist()) == {0, 1}
    # Same partition as the truth.
    assert len(set(zip(labels.tolist(), truth.tolist(), strict=True))) == 2


def test_detect_communities_very_sparse_refines_blocks() -> None:
    # With a tiny top_k the kNN graph may split planted blocks, but never mixes them.
    rng = np.random.default_rng(1)
    aff, truth = _planted_blocks(rng, (25, 15))
    labels = detect_communities(aff, rng_seed=42, top_k=3)
    for b in np.unique(labels):
        assert len(set(truth[labels == b].tolist())) == 1


def test_detect_communities_deterministic_and_isolated() -> None:
    rng = np.random.default_rng(2)
    aff, _ = _planted_blocks(rng, (20, 20, 20))
    aff[7, :] = -0.3
    aff[:, 7] = -0.3  # state 7 has no positive ties
    a1 = detect_communities(aff, rng_seed=5)
    a2 = detect_communities(aff, rng_seed=5)
    np.testing.assert_array_equal(a1, a2)
    assert np.sum(a1 == a1[7]) == 1
    # Labels ordered by the lowest member index.
    firsts = [int(np.flatnonzero(a1 == b)[0]) for b in range(a1.max() + 1)]
    assert firsts == sorted(firsts)
    assert set(a1.tolist()) == set(range(a1.max() + 1))


def test_detect_communities_no_edges() -> None:
    labels = detect_communities(-np.ones((5, 5)), rng_seed=0)
    np.testing.assert_array_equal(labels, np.arange(5))
    assert modularity(-np.ones((5, 5)), labels) == 0.0


def test_modularity_matches_networkx() -> None:
    rng = np.random.default_rng(4)
    n = 15
    a = rng.uniform(-0.5, 1.0, (n, n))
    a = (a + a.T) / 2
    labels = rng.integers(0, 3, n)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for i in range(n):
        for j in range(i + 1, n):
            if a[i, j] > 0:
                graph.add_edge(i, j, weight=a[i, j])
    comms = [set(np.flatnonzero(labels == b).tolist()) for b in np.unique(labels)]
    expected = nx.community.modularity(graph, comms, weight="weight")
    assert modularity(a, labels) == pytest.approx(expected, abs=1e-12)
    aff, truth = _planted_blocks(rng, (10, 10))
    assert modularity(aff, truth) > 0.3


# --------------------------------------------------------------------------------------------
# Label matching
# --------------------------------------------------------------------------------------------


def test_match_labels_undoes_permutation() -> None:
    rng = np.random.default_rng(6)
    previous = rng.integers(0, 5, 50)
    perm = np.array([3, 0, 4, 1, 2])
    np.testing.assert_array_equal(match_labels(previous, perm[previous]), previous)
    np.testing.assert_array_equal(match_labels(None, perm[previous]), perm[previous])


def test_match_labels_fresh_ids_and_determinism() -> None:
    previous = np.array([0, 0, 0, 5, 5, 5])
    current = np.array([1, 1, 0, 2, 2, 3])  # bloc 0 -> split off, bloc 3 new
    out = match_labels(previous, current)
    np.testing.assert_array_equal(out, [0, 0, 6, 5, 5, 7])
    np.testing.assert_array_equal(out, match_labels(previous, current))
    np.testing.assert_array_equal(match_labels(previous, current, next_id=10), [0, 0, 10, 5, 5, 11])
    with pytest.raises(ValueError):
        match_labels(previous, current[:-1])


# --------------------------------------------------------------------------------------------
# Margin, hedging, polarization, bloc means
# --------------------------------------------------------------------------------------------


def _camps(
    sizes: tuple[int, ...],
    friend: float = 0.7,
    enemy: float = -0.6,
    noise: float = 0.1,
    seed: int = 0,
):
    """A planted signed network: camps of friends, opposed to every other camp."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(sizes)), sizes)
    same = truth[:, None] == truth[None, :]
    aff = np.where(same, friend, enemy) + rng.uniform(-noise, noise, (truth.size, truth.size))
    aff = (aff + aff.T) / 2
    np.fill_diagonal(aff, 0.0)
    return aff, truth


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def _with_hedger(aff: np.ndarray, truth: np.ndarray, tie: float = 0.6):
    """Add a state tied positively to camps 0 and 1 alike (index n)."""
    n = aff.shape[0]
    out = np.zeros((n + 1, n + 1))
    out[:n, :n] = aff
    camp = np.isin(truth, (0, 1))
    out[n, :n] = out[:n, n] = np.where(camp, tie, 0.0)
    return out


def test_signed_blocs_two_camps_and_a_hedger() -> None:
    aff, truth = _camps((8, 6))
    aff = _with_hedger(aff, truth)
    labels = signed_communities(aff, np.random.default_rng(1))
    assert _same_partition(labels[:-1], truth)
    margin = bloc_margin(aff, labels)
    assert np.all(margin >= 0.0)  # every state is in the bloc it prefers
    assert np.all(margin[:-1] > 0.3)  # the camps' members firmly so
    hedging = hedging_index(aff, labels, np.maximum(aff, 0))
    assert hedging[-1] > 0.5
    assert hedging[:-1].max() < 0.1  # camp cores do not hedge
    assert hedging[-1] == hedging.max()


def test_signed_blocs_three_camps() -> None:
    aff, truth = _camps((6, 5, 7), seed=3)
    labels = signed_communities(aff, np.random.default_rng(2))
    assert _same_partition(labels, truth)
    assert np.all(bloc_margin(aff, labels) > 0.0)
    assert np.all(hedging_index(aff, labels, np.maximum(aff, 0)) < 0.1)
    hedger = _with_hedger(aff, truth)
    labels = signed_communities(hedger, np.random.default_rng(2))
    hedging = hedging_index(hedger, labels, np.maximum(hedger, 0))
    assert int(np.argmax(hedging)) == truth.size


def test_bloc_leader_tied_to_the_other_sides_hedgers_is_not_a_hedger() -> None:
    """A bloc leader (state 0) that relies heavily on two hedgers sitting with the other
    camp (as Russia on Turkey and Hungary) stays committed to its own camp: not a hedger,
    while the hedgers are the top hedgers."""
    aff, truth = _camps((8, 6), seed=7)
    n = truth.size
    full = np.zeros((n + 2, n + 2))
    full[:n, :n] = aff
    for h in (n, n + 1):
        full[h, :n] = full[:n, h] = np.where(truth == 1, 0.65, 0.5)
    full[n, n + 1] = full[n + 1, n] = 0.6
    full[0, n:] = full[n:, 0] = 0.3  # the leader is friendly with the hedgers
    ties = np.maximum(full, 0.0)
    ties[0, n:] = 3.0  # and relies on them more than on any of its camp
    labels = signed_communities(full, np.random.default_rng(7))
    assert _same_partition(labels[:n], truth)
    hedging = hedging_index(full, labels, ties)
    assert hedging[0] < 0.05
    assert set(np.argsort(-hedging)[:2].tolist()) == {n, n + 1}


def test_a_lone_state_is_no_bloc_to_commit_to() -> None:
    """Commitment is measured against the other blocs of two or more members: a bloc leader
    tied to the other camp's members does not become a hedger because some state it likes
    sits alone (as Qatar in arms_market made China a hedger)."""
    aff, truth = _camps((8, 6), seed=7)
    n = truth.size
    ties = np.maximum(aff, 0.0)
    ties[0, truth == 1] = 0.5  # the leader relies on the other camp's members a little
    labels = truth.copy()
    base = hedging_index(aff, labels, ties)
    full = np.zeros((n + 1, n + 1))
    full[:n, :n] = aff
    full[0, n] = full[n, 0] = 0.9  # a lone state the leader likes
    full_ties = np.zeros_like(full)
    full_ties[:n, :n] = ties
    hedging = hedging_index(full, np.append(labels, labels.max() + 1), full_ties)
    np.testing.assert_allclose(hedging[:n], base, atol=1e-12)
    assert hedging[0] < 0.05
    # ... nor is a lone state committed to anything: tied to both camps, it hedges fully
    # whatever its affinity to them (negative to both would have read as commitment).
    full_ties[n, :n] = 0.5
    cold, neutral = full.copy(), full.copy()
    cold[n, :n] = cold[:n, n] = -0.3
    neutral[n, :n] = neutral[:n, n] = 0.0
    lone = np.append(labels, labels.max() + 1)
    h_cold, h_neutral = (hedging_index(x, lone, full_ties) for x in (cold, neutral))
    np.testing.assert_allclose(h_cold, h_neutral, atol=1e-12)
    assert h_cold[n] > 0.8


def test_signed_blocs_one_camp_without_opposition() -> None:
    aff, _ = _camps((10,), seed=4)
    labels = signed_communities(aff, np.random.default_rng(3))
    assert np.unique(labels).size == 1
    np.testing.assert_array_equal(hedging_index(aff, labels, np.maximum(aff, 0)), 0.0)
    assert signed_modularity(aff, labels) >= 0.0


def test_signed_blocs_all_neutral() -> None:
    aff = np.zeros((6, 6))
    labels = signed_communities(aff, np.random.default_rng(0))
    np.testing.assert_array_equal(labels, np.arange(6))  # no ties: nobody in a bloc
    np.testing.assert_array_equal(hedging_index(aff, labels, np.maximum(aff, 0)), 0.0)
    np.testing.assert_array_equal(bloc_margin(aff, labels), 0.0)
    assert signed_modularity(aff, labels) == 0.0


def test_signed_blocs_keep_enemies_apart_in_a_saturated_network() -> None:
    """Mostly positive ties (as with a saturated affinity) and one pair of enemies: the
    enemies never share a bloc, which positive-only community detection cannot promise."""
    aff, truth = _camps((5, 5), friend=0.8, enemy=0.2, seed=5)
    aff[0, 5] = aff[5, 0] = -0.9
    labels = signed_communities(aff, np.random.default_rng(4))
    assert labels[0] != labels[5]


def test_signed_modularity_matches_definition() -> None:
    rng = np.random.default_rng(9)
    a = rng.uniform(-1, 1, (9, 9))
    a = (a + a.T) / 2
    np.fill_diagonal(a, 0.0)
    labels = rng.integers(0, 3, 9)
    pos, neg = np.maximum(a, 0), np.maximum(-a, 0)
    kp, kn = pos.sum(1), neg.sum(1)
    wp, wn = kp.sum(), kn.sum()
    q = 0.0
    for i in range(9):
        for j in range(9):
            if labels[i] == labels[j]:
                q += a[i, j] - kp[i] * kp[j] / wp + kn[i] * kn[j] / wn
    assert signed_modularity(a, labels) == pytest.approx(q / (wp + wn), abs=1e-12)


def test_signed_communities_deterministic_and_start_kept() -> None:
    aff, truth = _camps((7, 7), seed=6)
    a = signed_communities(aff, np.random.default_rng(5))
    b = signed_communities(aff, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    # Starting from the optimum keeps it (blocs persist when nothing better appears).
    c = signed_communities(aff, np.random.default_rng(6), start=truth)
    assert _same_partition(c, truth)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_margin_hedging_ranges(n: int, n_blocs: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    aff = rng.uniform(-1.0, 1.0, (n, n))
    labels = rng.integers(0, n_blocs, n) * 3  # non-contiguous ids are fine
    margin = bloc_margin(aff, labels)
    hedging = hedging_index(aff, labels, rng.uniform(0, 1, (n, n)))
    assert margin.shape == hedging.shape == (n,)
    assert np.all((margin >= -1.0) & (margin <= 1.0))
    assert np.all((hedging >= 0.0) & (hedging <= 1.0))
    found = signed_communities(aff, rng)
    assert np.all(bloc_margin(aff, found) >= -1e-9)  # found blocs: every margin >= 0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 25), st.integers(0, 2**32 - 1))
def test_polarization_range(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.uniform(0.0, 3.0, n) * (rng.random(n) < 0.8)
    aff = rng.uniform(-1.0, 1.0, (n, n))
    coalition = rng.integers(0, 2, n)
    value = polarization(sizes, aff, coalition)
    assert 0.0 <= value <= 1.0


def test_polarization_cases() -> None:
    n = 10
    sizes = np.ones(n)
    coalition = np.repeat([0, 1], 5)
    same = coalition[:, None] == coalition[None, :]
    hostile = np.where(same, 0.8, -0.8)
    assert polarization(sizes, hostile, np.zeros(n, dtype=int)) == 0.0
    assert polarization(np.zeros(n), hostile, coalition) == 0.0
    assert polarization(sizes, hostile, coalition) > 0.5
    assert polarization(sizes, hostile, coalition) == pytest.approx(1.0)
    friendly = np.full((n, n), 0.5)
    assert polarization(sizes, friendly, coalition) == 0.0


def test_bloc_means() -> None:
    labels = np.array([0, 0, 1])
    m = np.array([[9.0, 1.0, 2.0], [3.0, 9.0, 4.0], [5.0, 6.0, 9.0]])
    assert within_bloc_mean(m, labels) == pytest.approx(2.0)
    assert cross_bloc_mean(m, labels) == pytest.approx((2 + 4 + 5 + 6) / 4)
    assert np.isnan(cross_bloc_mean(m, np.zeros(3, dtype=int)))  # undefined, not zero
    assert np.isnan(within_bloc_mean(m, np.arange(3)))
    assert np.isnan(within_bloc_mean(np.zeros((0, 0)), np.zeros(0, dtype=int)))


def test_blocs_continued_from_the_previous_ones_persist_unless_clearly_beaten() -> None:
    """Two near-equal partitions: a run from scratch that beats the blocs continued from the
    previous ones by less than `persistence` x |Q| does not replace them; with no
    persistence the higher Q wins. Every state prefers its bloc in both."""
    a = -np.ones((8, 8))
    for group in ([0, 1, 2], [3, 4, 5], [6, 7]):
        a[np.ix_(group, group)] = 1.0
    for x in (6, 7):  # a pair hovering between two camps, slightly nearer the second
        a[x, [0, 1, 2]] = a[[0, 1, 2], x] = 0.30
        a[x, [3, 4, 5]] = a[[3, 4, 5], x] = 0.36
    np.fill_diagonal(a, 0.0)
    start = np.array([0, 0, 0, 1, 1, 1, 0, 0])

    def run(**kw) -> np.ndarray:
        return signed_communities(a, np.random.default_rng(1), **kw)

    continued, fresh = run(restarts=0, start=start), run(restarts=4)
    q_continued, q_fresh = signed_modularity(a, continued), signed_modularity(a, fresh)
    assert adjusted_rand(continued, fresh) < 1.0
    assert q_continued < q_fresh < q_continued + 0.05 * abs(q_continued)
    assert adjusted_rand(run(restarts=4, start=start, persistence=0.0), fresh) == 1.0
    assert adjusted_rand(run(restarts=4, start=start, persistence=0.05), continued) == 1.0
    for labels in (continued, fresh):
        assert bloc_margin(a, labels).min() >= -1e-9
