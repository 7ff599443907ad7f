"""The vectorized kernels rewritten for speed compute what the straightforward versions did.

Reference implementations below are the original dense formulations (N x N matrices and
N x exercises x N products); the sparse kernels must agree with them to rounding, and the
lean Louvain must return exactly networkx's communities.
"""

from __future__ import annotations

import copy

import networkx as nx
import numpy as np
import pytest

from sim.core.activities import (
    KIND_EFFECTS,
    TRANSPARENCY,
    apply_exercises,
    apply_transfers,
    choice_sets,
    option_utilities,
    shortlist,
    top_k,
)
from sim.core.alignment import louvain
from sim.core.model import DiplomacyModel, race_noise
from sim.core.relations import pair_sums, saturating_gain, zero_diagonal
from sim.core.synthetic import synthetic_world


def _dense_exercises(m: DiplomacyModel) -> None:
    p = m.p
    n_ex = len(m.book.exercises)
    member = np.zeros((n_ex, m.n))
    scale = np.empty(n_ex)
    kind = np.empty(n_ex, dtype=int)
    for e, (participants, s, k, _) in enumerate(m.book.exercises):
        member[e, participants] = 1.0
        scale[e] = s
        kind[e] = k
    effects = KIND_EFFECTS[kind]
    size = member.sum(axis=1)
    pair_interop = zero_diagonal((member.T * (scale * effects[:, 0])) @ member)
    pair_trust = zero_diagonal((member.T * (scale * effects[:, 1])) @ member)
    m.interoperability[:] = saturating_gain(m.interoperability, p.exercise_interop, pair_interop)
    m.trust[:] = saturating_gain(m.trust, p.exercise_trust, pair_trust)
    transparency = (member @ m.levers[:, TRANSPARENCY]) / size
    weight = scale * effects[:, 2] * (1.0 - transparency) / size
    exposure = (m.hostility * m.proximity) @ member.T
    exposure *= weight[None, :]
    exposure[member.T > 0] = 0.0
    signal = exposure @ member
    m.risk[:] = saturating_gain(m.risk, p.exercise_signal, zero_diagonal(signal + signal.T))


def _dense_transfers(m: DiplomacyModel) -> None:
    p = m.p
    sup, rec, vol = (np.array(x) for x in zip(*m.book.transfers, strict=True))
    volume = np.zeros((m.n, m.n))
    np.add.at(volume, (sup.astype(int), rec.astype(int)), vol.astype(float))
    received = volume.sum(axis=0)
    m.exports += volume.sum(axis=1)
    m.capability += p.arms_capability_gain * received
    m.stock += volume.T
    both = volume + volume.T
    m.interoperability[:] = saturating_gain(m.interoperability, p.arms_interop, both)
    m.trust[:] = saturating_gain(m.trust, p.arms_trust, both)
    reaction = m.hostility * received[None, :]
    m.risk[:] = saturating_gain(m.risk, p.arms_signal, reaction + reaction.T)


@pytest.fixture(scope="module")
def busy_model() -> DiplomacyModel:
    """A mid-run synthetic world with plenty of rivalries and activities."""
    m = DiplomacyModel(synthetic_world(80, seed=3, steps=60, rivalry_density=0.05))
    m.run(30)
    assert m.book.exercises and m.book.transfers
    return m


@pytest.mark.parametrize(
    ("sparse", "dense"), [(apply_exercises, _dense_exercises), (apply_transfers, _dense_transfers)]
)
def test_sparse_effects_match_dense_formulation(busy_model, sparse, dense):
    a, b = copy.deepcopy(busy_model), copy.deepcopy(busy_model)
    sparse(a)
    dense(b)
    for name in ("trust", "interoperability", "risk", "stock", "capability", "exports"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=1e-14)


def test_pair_sums_adds_repeats_both_directions_and_drops_the_diagonal():
    i, j, total = pair_sums(4, np.array([0, 0, 2, 3]), np.array([1, 1, 2, 0]), np.ones(4))
    assert list(zip(i.tolist(), j.tolist(), total.tolist(), strict=True)) == [
        (0, 1, 2.0),
        (3, 0, 1.0),
    ]
    i, j, total = pair_sums(
        3, np.array([0, 1]), np.array([1, 0]), np.array([1.0, 2.0]), symmetric=True
    )
    assert total.tolist() == [3.0, 3.0] and (i.tolist(), j.tolist()) == ([0, 1], [1, 0])


def test_utilities_of_some_rows_are_those_rows_of_all(busy_model):
    m = busy_model
    rows = np.array([3, 7, 40, 79])
    np.testing.assert_array_equal(option_utilities(m, rows), option_utilities(m)[rows])


def test_shortlist_skipping_hopeless_blocks_keeps_the_choice_sets(busy_model):
    m = busy_model
    u = option_utilities(m)
    k = m.p.consideration_set
    blocks = u[:, :-1].reshape(m.n, 4, m.n)
    full = (  # every block sorted, best first, ties to the lower index
        np.argsort(-blocks, axis=2, kind="stable")[:, :, :k] + (np.arange(4) * m.n)[None, :, None]
    ).reshape(m.n, -1)
    a = choice_sets(u, shortlist(u, k), m.costs, m.p.temperature)
    b = choice_sets(u, full, m.costs, m.p.temperature)
    assert a == b


@pytest.mark.parametrize("k", [1, 3, 8, 9, 40])
def test_top_k_is_the_k_largest_best_first_ties_to_the_lower_index(k):
    rng = np.random.default_rng(k)
    rows = np.round(rng.normal(size=(30, 50)), 1)  # rounded: many ties
    rows[rng.random(rows.shape) < 0.3] = -np.inf
    rows[:5, 2:] = -np.inf  # rows with fewer finite values than k
    expected = np.argsort(-rows, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(top_k(rows.copy(), k), expected)


def _random_graph(rng: np.random.Generator) -> tuple[nx.Graph, list[dict[int, float]]]:
    n = int(rng.integers(2, 80))
    a = rng.random((n, n)) * (rng.random((n, n)) < rng.uniform(0.03, 0.5))
    labels = rng.integers(0, 4, n)
    a += (labels[:, None] == labels[None, :]) * rng.random((n, n)) * 0.7
    a = np.triu(a, 1)
    rows, cols = np.nonzero(a)
    weights = a[rows, cols].tolist()
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(zip(rows.tolist(), cols.tolist(), weights, strict=True))
    adjacency: list[dict[int, float]] = [{} for _ in range(n)]
    for u, v, w in zip(rows.tolist(), cols.tolist(), weights, strict=True):
        adjacency[u][v] = adjacency[v][u] = w
    return graph, adjacency


@pytest.mark.parametrize("case", range(40))
def test_louvain_finds_exactly_networkx_communities(case):
    rng = np.random.default_rng(case)
    graph, adjacency = _random_graph(rng)
    if graph.number_of_edges() == 0:
        pytest.skip("no edges")
    resolution = float(rng.choice([0.5, 1.0, 2.0]))
    seed = int(rng.integers(2**31))
    expected = nx.community.louvain_communities(graph, resolution=resolution, seed=seed)
    got = louvain(adjacency, resolution=resolution, seed=seed)
    assert sorted(map(sorted, got)) == sorted(map(sorted, expected))


def test_exponential_race_draws_the_softmax():
    """The agents' choice rule: the largest weight x race noise wins with probability
    weight / total weight (softmax), checked against the exact probabilities."""
    rng = np.random.default_rng(0)
    scores = np.array([0.0, 1.0, -0.5, 2.0])  # saving the effort is the 0
    weights = np.exp(scores - scores.max())
    draws = 200_000
    wins = np.bincount((weights * race_noise(rng, (draws, 4))).argmax(axis=1), minlength=4)
    expected = weights / weights.sum()
    assert np.abs(wins / draws - expected).max() < 4 * np.sqrt(0.25 / draws)
