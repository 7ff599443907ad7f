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
    block_uniforms,
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


class _Unscreened(DiplomacyModel):
    """The model without `_screen_choices`: every state takes its turn."""

    def _screen_choices(self) -> None:
        self._may_act = None


class _CountingScreen(DiplomacyModel):
    """The model, counting the turns `_screen_choices` skips."""

    skipped = 0

    def _screen_choices(self) -> None:
        super()._screen_choices()
        self.skipped += self._may_act.count(False)


@pytest.mark.parametrize("seed", [1, 2])
def test_skipping_states_whose_first_choice_saves_changes_no_choice(seed):
    """States whose first draw saves the effort skip their turn; every activity, decline
    and crisis is the same as when all states take their turn."""
    world = synthetic_world(60, seed=seed, steps=48, rivalry_density=0.05)
    screened, full = _CountingScreen(world), _Unscreened(world)
    a, b = screened.run(), full.run()
    assert screened.skipped > 0  # the screen did skip turns
    assert screened.declines == full.declines
    for name, table in a.tables().items():
        assert table.equals(b.tables()[name]), name


def test_kept_utility_terms_follow_levers_and_realignment(busy_model):
    """The workspace's kept terms (shared threat, misfit) are recomputed when the levers
    change in place and when a realignment replaces the matrices."""
    m = copy.deepcopy(busy_model)
    workspace = m._utility_workspace
    before = option_utilities(m, workspace=workspace).copy()
    m.levers[:, :] = 1.0 - m.levers  # in place, as events and the dashboard do
    after = option_utilities(m, workspace=workspace)
    np.testing.assert_array_equal(after, option_utilities(m))
    assert not np.array_equal(after, before)
    before = after.copy()
    m.position *= 0.5  # closer ideal points: another political affinity at the realignment
    m._positions_moved = True
    m.hostility *= 0.5  # another shared threat
    m.steps = m.p.alignment_interval * 10  # realign runs at multiples of the interval
    m.realign()
    after = option_utilities(m, workspace=workspace)
    np.testing.assert_array_equal(after, option_utilities(m))
    assert not np.array_equal(after, before)


def test_block_uniforms_are_the_blocks_entries_and_leave_the_stream_as_the_block():
    whole, few = (np.random.Generator(np.random.PCG64(5)) for _ in range(2))
    flat = np.array([7, 0, 399, 7, 123])
    block = whole.random(400)
    np.testing.assert_array_equal(block_uniforms(few, 400, flat), block[flat])
    assert few.bit_generator.state == whole.bit_generator.state
    np.testing.assert_array_equal(block_uniforms(few, 400, np.arange(40)), whole.random(400)[:40])
