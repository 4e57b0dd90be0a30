"""Every numba kernel against its naive twin in ``tests/reference.py``.

Hand-made graphs (star, chain, cycle, dangling node, two components, single node, empty) and
seeded random graphs; plus the order- and thread-count independence the style guide asks for.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference as ref
from influence.kernels.community import louvain, modularity, symmetric_adjacency
from influence.kernels.csr import IntIdIndex, coo_to_csr, transpose_csr
from influence.kernels.neighbourhood import (
    count_at_least,
    label_mix,
    matched_weight,
    neighbour_sums,
    reciprocal_ring,
    row_sums,
    top_label,
)
from influence.kernels.propagation import expected_exposures, expected_exposures_observed, weighted_pagerank

HAND_MADE = sorted(ref.HAND_MADE)
SEEDS = [0, 1, 2, 3, 4]
I64 = np.iinfo(np.int64)


def _assert_csr_equal(got, want, *, exact=True):
    g_indptr, g_indices, g_data = got
    w_indptr, w_indices, w_data = want
    assert g_indptr.dtype == np.int64 and g_indices.dtype == np.int32 and g_data.dtype == np.float32
    np.testing.assert_array_equal(g_indptr, w_indptr)
    np.testing.assert_array_equal(g_indices, w_indices)
    if exact:
        np.testing.assert_array_equal(g_data, np.asarray(w_data).astype(np.float32))
    else:
        np.testing.assert_allclose(g_data, w_data, rtol=1e-6, atol=0)


def _bitwise_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# ---------------------------------------------------------------------------------------------
# coo_to_csr / transpose_csr
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HAND_MADE)
def test_coo_to_csr_matches_scipy_on_hand_made(name):
    n, edges = ref.HAND_MADE[name]
    src, dst, w = ref.edge_arrays(edges)
    got = coo_to_csr(dst, src, w, n)
    # hand-made weights are dyadic, so float sums are exact whatever the order
    _assert_csr_equal(got, ref.csr_scipy(dst, src, w, n), exact=True)


def test_coo_to_csr_duplicates_are_summed():
    n, edges = ref.HAND_MADE["duplicates"]
    src, dst, w = ref.edge_arrays(edges)
    indptr, indices, data = coo_to_csr(src, dst, w, n)
    assert ref.rows_of(indptr, indices, data) == {0: {1: 3.5}, 1: {2: 1.0}, 2: {1: 0.25}}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_rows, n_cols, m", [(7, 7, 60), (50, 30, 400), (300, 300, 3000), (5, 1, 40)])
def test_coo_to_csr_matches_scipy_random(seed, n_rows, n_cols, m):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_rows, m).astype(np.int32)
    cols = rng.integers(0, n_cols, m).astype(np.int32)
    w = rng.random(m)
    _assert_csr_equal(coo_to_csr(rows, cols, w, n_rows), ref.csr_scipy(rows, cols, w, n_rows, n_cols), exact=False)
    w_int = rng.integers(0, 5, m).astype(np.float64)
    _assert_csr_equal(coo_to_csr(rows, cols, w_int, n_rows), ref.csr_scipy(rows, cols, w_int, n_rows, n_cols))


@pytest.mark.parametrize("seed", SEEDS)
def test_coo_to_csr_independent_of_row_order_bitwise(seed):
    rng = np.random.default_rng(seed)
    n, m = 40, 2000  # about 1.3 copies of every pair: many duplicates with different weights
    rows = rng.integers(0, n, m).astype(np.int32)
    cols = rng.integers(0, n, m).astype(np.int32)
    w = rng.random(m) * 10 ** rng.uniform(-8, 8, m)  # magnitudes where summation order shows
    first = coo_to_csr(rows, cols, w, n)
    for _ in range(3):
        perm = rng.permutation(m)
        again = coo_to_csr(rows[perm], cols[perm], w[perm], n)
        for a, b in zip(first, again):
            assert _bitwise_equal(a, b)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 8),
    data=st.data(),
)
def test_coo_to_csr_property(n, data):
    m = data.draw(st.integers(0, 30))
    rows = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), np.int32)
    cols = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), np.int32)
    w = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.25]), min_size=m, max_size=m)))
    got = coo_to_csr(rows, cols, w, n)
    _assert_csr_equal(got, ref.csr_scipy(rows, cols, w, n))
    perm = np.random.default_rng(m).permutation(m)
    for a, b in zip(got, coo_to_csr(rows[perm], cols[perm], w[perm], n)):
        assert _bitwise_equal(a, b)


@pytest.mark.parametrize("n_rows", [0, 1, 4])
def test_coo_to_csr_empty_input(n_rows):
    empty_i = np.array([], np.int32)
    indptr, indices, data = coo_to_csr(empty_i, empty_i, np.array([], np.float64), n_rows)
    np.testing.assert_array_equal(indptr, np.zeros(n_rows + 1, np.int64))
    assert indptr.dtype == np.int64
    assert indices.shape == (0,) and indices.dtype == np.int32
    assert data.shape == (0,) and data.dtype == np.float32
    t_indptr, t_indices, t_data = transpose_csr(indptr, indices, data, 3)
    np.testing.assert_array_equal(t_indptr, np.zeros(4, np.int64))
    assert t_indices.shape == (0,) and t_data.shape == (0,)


@pytest.mark.parametrize("name", HAND_MADE)
def test_transpose_csr_hand_made(name):
    n, edges = ref.HAND_MADE[name]
    src, dst, w = ref.edge_arrays(edges)
    in_csr = coo_to_csr(dst, src, w, n)
    _assert_csr_equal(transpose_csr(*in_csr, n), ref.csr_scipy(src, dst, w, n))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_rows, n_cols, m", [(30, 30, 300), (20, 45, 200), (45, 20, 200)])
def test_transpose_csr_matches_scipy_random(seed, n_rows, n_cols, m):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_rows, m).astype(np.int32)
    cols = rng.integers(0, n_cols, m).astype(np.int32)
    w = rng.integers(1, 9, m) / 4.0
    csr = coo_to_csr(rows, cols, w, n_rows)
    got = transpose_csr(*csr, n_cols)
    _assert_csr_equal(got, ref.csr_scipy(cols, rows, w, n_cols, n_rows))
    # transposing twice gives the original back
    for a, b in zip(transpose_csr(*got, n_rows), csr):
        assert _bitwise_equal(a, b)


# ---------------------------------------------------------------------------------------------
# IntIdIndex
# ---------------------------------------------------------------------------------------------


def test_int_id_index_extremes_negatives_and_missing():
    ids = np.array([I64.min, I64.min + 1, -(2**40), -5, -1, 0, 1, 3, 2**53 + 1, 2**62, I64.max - 1, I64.max])
    index = IntIdIndex(ids)
    np.testing.assert_array_equal(index.lookup(ids), np.arange(ids.size, dtype=np.int32))
    np.testing.assert_array_equal(index.lookup(ids[::-1]), np.arange(ids.size, dtype=np.int32)[::-1])
    missing = np.array([I64.min + 2, -4, 2, 2**53, 2**62 + 1, I64.max - 2, -(2**40) - 1])
    got = index.lookup(missing)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np.full(missing.size, -1, np.int32))


def test_int_id_index_empty_table():
    index = IntIdIndex(np.array([], np.int64))
    np.testing.assert_array_equal(index.lookup(np.array([0, 1, I64.max, I64.min])), np.full(4, -1, np.int32))
    assert IntIdIndex(np.array([7])).lookup(np.array([], np.int64)).shape == (0,)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("size", [1, 2, 3, 64, 1000, 4097])
def test_int_id_index_random_ids(seed, size):
    rng = np.random.default_rng(seed)
    ids = np.unique(rng.integers(I64.min, I64.max, size, dtype=np.int64, endpoint=True))
    index = IntIdIndex(ids)
    np.testing.assert_array_equal(index.lookup(ids), np.arange(ids.size, dtype=np.int32))
    probes = rng.integers(I64.min, I64.max, 500, dtype=np.int64, endpoint=True)
    want = {int(x): i for i, x in enumerate(ids)}
    np.testing.assert_array_equal(index.lookup(probes), np.array([want.get(int(p), -1) for p in probes], np.int32))


def test_int_id_index_clustered_ids():
    # consecutive ids and ids that differ only in their high bits: hash collisions must probe
    ids = np.sort(np.concatenate([np.arange(-500, 500), np.arange(1, 200, dtype=np.int64) << 40]))
    index = IntIdIndex(ids)
    np.testing.assert_array_equal(index.lookup(ids), np.arange(ids.size, dtype=np.int32))
    assert (index.lookup(np.array([500, -501, 3 << 41 | 1, 201 << 40])) == -1).all()


# ---------------------------------------------------------------------------------------------
# weighted_pagerank
# ---------------------------------------------------------------------------------------------


def _pagerank(n, edges, teleport=None, damping=0.85, tol=1e-14, max_iter=10_000):
    src, dst, w = ref.edge_arrays(edges)
    in_indptr, in_indices, in_data = ref.in_csr(n, src, dst, w)
    out_strength = np.zeros(n)
    np.add.at(out_strength, src, w)
    inv_out = np.divide(1.0, out_strength, out=np.zeros(n), where=out_strength > 0)
    teleport = np.full(n, 1.0 / n) if teleport is None else np.asarray(teleport, np.float64)
    return weighted_pagerank(in_indptr, in_indices, in_data, inv_out, teleport, damping, tol, max_iter)


def _random_graph_edges(seed, n, m):
    rng = np.random.default_rng(seed)
    src, dst, w = ref.random_edges(rng, n, m, integer_weights=True)
    return [(int(a), int(b), float(c)) for a, b, c in zip(src, dst, w)]


@pytest.mark.parametrize("name", [name for name in HAND_MADE if name != "empty"])
@pytest.mark.parametrize("damping", [0.5, 0.85])
def test_pagerank_matches_networkx_hand_made(name, damping):
    n, edges = ref.HAND_MADE[name]
    rank, n_iter, residual = _pagerank(n, edges, damping=damping)
    assert residual < 1e-14 and n_iter >= 1
    np.testing.assert_allclose(rank, ref.pagerank_networkx(n, edges, damping=damping), rtol=0, atol=1e-10)
    np.testing.assert_allclose(rank, ref.pagerank_naive(n, edges, damping=damping), rtol=0, atol=1e-10)
    assert abs(rank.sum() - 1.0) < 1e-12


def test_pagerank_single_node_and_exact_values():
    rank, _, _ = _pagerank(1, [])
    np.testing.assert_array_equal(rank, [1.0])
    # symmetric cycle: uniform
    n, edges = ref.HAND_MADE["cycle"]
    np.testing.assert_allclose(_pagerank(n, edges)[0], np.full(4, 0.25), atol=1e-15)
    # star: leaves get (1 - d)/n + d * D/n with D the hub's rank; hub = 1 - 4 leaves
    rank, _, _ = _pagerank(*ref.HAND_MADE["star"])
    # leaf = (d * hub + 1 - d) / n (the dangling hub's mass returns uniformly)
    # hub = d * (n - 1) * leaf + (d * hub + 1 - d) / n
    d, n = 0.85, 5
    a = np.array([[1.0, -d / n], [-d * (n - 1), 1.0 - d / n]])
    b = np.array([(1 - d) / n, (1 - d) / n])
    leaf, hub = np.linalg.solve(a, b)
    np.testing.assert_allclose(rank, [hub, leaf, leaf, leaf, leaf], atol=1e-12)


def test_kernels_on_zero_nodes():
    indptr, indices, data, vec = np.zeros(1, np.int64), np.array([], np.int32), np.array([], np.float32), np.array([])
    rank, _, residual = weighted_pagerank(indptr, indices, data, vec, vec, 0.85, 1e-9, 10)
    assert rank.shape == (0,) and residual == 0.0
    assert expected_exposures(indptr, indices, vec, 3).shape == (0,)
    adj = symmetric_adjacency(indptr, indices, data.astype(np.float64), indptr, indices, data.astype(np.float64),
                              np.array([], np.int64))
    assert louvain(*adj, 1.0, 20, 5, 1e-6)[0].shape == (0,)


def test_pagerank_dangling_mass_follows_teleport():
    # node 2 is dangling; with a teleport concentrated on node 0, its mass returns to node 0
    n, edges = 3, [(0, 1, 1.0), (1, 2, 1.0)]
    teleport = np.array([1.0, 0.0, 0.0])
    rank, _, _ = _pagerank(n, edges, teleport=teleport)
    np.testing.assert_allclose(rank, ref.pagerank_networkx(n, edges, teleport=teleport), atol=1e-10)
    d = 0.85
    np.testing.assert_allclose(rank, np.array([1.0, d, d * d]) / (1 + d + d * d), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n, m", [(10, 25), (60, 200), (200, 600)])
def test_pagerank_matches_networkx_random(seed, n, m):
    edges = _random_graph_edges(seed, n, m)
    rank, _, residual = _pagerank(n, edges)
    assert residual < 1e-14
    np.testing.assert_allclose(rank, ref.pagerank_networkx(n, edges), rtol=0, atol=1e-8)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", ["dangling", "two_components", "star", "random"])
def test_personalised_pagerank_matches_networkx(seed, name):
    if name == "random":
        n, edges = 40, _random_graph_edges(seed, 40, 90)
    else:
        n, edges = ref.HAND_MADE[name]
    rng = np.random.default_rng(seed)
    teleport = rng.random(n) * (rng.random(n) < 0.5)  # some zeros: a seed set
    if teleport.sum() == 0:
        teleport[0] = 1.0
    teleport /= teleport.sum()
    rank, _, _ = _pagerank(n, edges, teleport=teleport)
    np.testing.assert_allclose(rank, ref.pagerank_networkx(n, edges, teleport=teleport), rtol=0, atol=1e-8)


def test_pagerank_reports_non_convergence():
    n, edges = 60, _random_graph_edges(0, 60, 200)
    rank, n_iter, residual = _pagerank(n, edges, tol=1e-300, max_iter=3)
    assert n_iter == 3 and residual > 0
    assert abs(rank.sum() - 1.0) < 1e-12


def _thread_runs(fn):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has fewer than 2 threads on this machine")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fn()
        numba.set_num_threads(2)
        two = fn()
    finally:
        numba.set_num_threads(before)
    return one, two


@pytest.mark.parametrize("seed", [0, 1])
def test_pagerank_thread_count_independent_bitwise(seed):
    n, edges = 3000, _random_graph_edges(seed, 3000, 20_000)
    one, two = _thread_runs(lambda: _pagerank(n, edges, tol=1e-12))
    assert _bitwise_equal(one[0], two[0])
    assert one[1] == two[1] and one[2] == two[2]


def test_csr_and_neighbourhood_thread_count_independent_bitwise():
    rng = np.random.default_rng(5)
    n, m = 3000, 30_000
    rows = rng.integers(0, n, m).astype(np.int32)
    cols = rng.integers(0, n, m).astype(np.int32)
    w = rng.random(m)
    labels = rng.integers(0, 7, n).astype(np.int64)

    def run():
        indptr, indices, data = coo_to_csr(rows, cols, w, n)
        t = transpose_csr(indptr, indices, data, n)
        return (indptr, indices, data, *t, row_sums(indptr, data),
                neighbour_sums(indptr, indices, data, w[:n].copy(), True),
                *matched_weight(indptr, indices, data, t[0], t[1], 0.3),
                *label_mix(indptr, indices, data, labels, labels),
                *reciprocal_ring(indptr, indices, data, t[0], t[1], 16),
                expected_exposures(indptr, indices, np.full(n, 0.1), 3),
                expected_exposures_observed(indptr, indices, indptr, indices, data, np.full(n, 0.1), 5.0, 3))

    one, two = _thread_runs(run)
    for a, b in zip(one, two):
        assert _bitwise_equal(a, b)


# ---------------------------------------------------------------------------------------------
# expected_exposures
# ---------------------------------------------------------------------------------------------


def _exposures(n, edges, pass_on, depth):
    src, dst, w = ref.edge_arrays(edges)
    in_indptr, in_indices, _ = ref.in_csr(n, src, dst, w)
    return expected_exposures(in_indptr, in_indices, np.asarray(pass_on, np.float64), depth)


@pytest.mark.parametrize("name", HAND_MADE)
@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_expected_exposures_hand_made(name, depth):
    n, edges = ref.HAND_MADE[name]
    pass_on = np.linspace(0.1, 0.9, n)
    got = _exposures(n, edges, pass_on, depth)
    np.testing.assert_allclose(got, ref.expected_exposures_naive(n, edges, pass_on, depth), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", HAND_MADE)
def test_expected_exposures_depth_one_is_in_degree(name):
    n, edges = ref.HAND_MADE[name]
    got = _exposures(n, edges, np.full(n, 0.7), 1)
    in_degree = np.array([len(ref.audiences(n, edges)[v]) for v in range(n)], np.float64)
    np.testing.assert_array_equal(got, in_degree)


def test_expected_exposures_depth_zero_and_no_pass_on():
    n, edges = ref.HAND_MADE["two_components"]
    np.testing.assert_array_equal(_exposures(n, edges, np.full(n, 0.5), 0), np.zeros(n))
    np.testing.assert_array_equal(_exposures(n, edges, np.zeros(n), 4), _exposures(n, edges, np.zeros(n), 1))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_expected_exposures_random(seed, depth):
    n = 30
    edges = _random_graph_edges(seed, n, 90)
    pass_on = np.random.default_rng(seed).random(n)
    got = _exposures(n, edges, pass_on, depth)
    np.testing.assert_allclose(got, ref.expected_exposures_naive(n, edges, pass_on, depth), rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_expected_exposures_exact_on_trees(seed):
    """On an in-tree (each account follows one earlier account) it is the exact cascade size."""
    rng = np.random.default_rng(seed)
    n = 9
    edges = [(i, int(rng.integers(0, i)), 1.0) for i in range(1, n)]
    pass_on = rng.random(n)
    for depth in (1, 2, 3, 8):
        got = _exposures(n, edges, pass_on, depth)
        exact = [ref.cascade_spread_bruteforce(n, edges, pass_on, depth, v) for v in range(n)]
        np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_expected_exposures_upper_bounds_distinct_spread(seed):
    rng = np.random.default_rng(seed)
    n = 8
    src, dst, _ = ref.random_edges(rng, n, 18)
    edges = [(int(a), int(b), 1.0) for a, b in zip(src, dst)]
    pass_on = rng.random(n)
    got = _exposures(n, edges, pass_on, 3)
    exact = np.array([ref.cascade_spread_bruteforce(n, edges, pass_on, 3, v) for v in range(n)])
    assert (got >= exact - 1e-12).all()


def _exposures_observed(n, edges, reshare_edges, pass_on, k, depth):
    src, dst, w = ref.edge_arrays(edges)
    in_indptr, in_indices, _ = ref.in_csr(n, src, dst, w)
    r_src, r_dst, r_w = ref.edge_arrays(reshare_edges) if reshare_edges else (np.array([], np.int32),) * 2 + (
        np.array([]),)
    r_indptr, r_indices, r_data = ref.in_csr(n, r_src, r_dst, r_w)
    return expected_exposures_observed(in_indptr, in_indices, r_indptr, r_indices, r_data,
                                       np.asarray(pass_on, np.float64), k, depth)


@pytest.mark.parametrize("name", HAND_MADE)
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_expected_exposures_observed_hand_made(name, depth):
    n, edges = ref.HAND_MADE[name]
    reshares = [(u, v, float(i % 3)) for i, (u, v, _) in enumerate(edges) if i % 2 == 0]
    pass_on = np.linspace(0.05, 0.5, n)
    got = _exposures_observed(n, edges, reshares, pass_on, 5.0, depth)
    want = ref.expected_exposures_observed_naive(n, edges, ref.summed_weights(reshares), pass_on, 5.0, depth)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [0.5, 5.0])
def test_expected_exposures_observed_random(seed, k):
    rng = np.random.default_rng(seed)
    n = 30
    edges = _random_graph_edges(seed, n, 120)
    pairs = sorted(ref.summed_weights(edges))
    # reshares on a subset of the attention edges, plus a few pairs outside it (robustness)
    chosen = rng.choice(len(pairs), len(pairs) // 3, replace=False)
    reshares = [(*pairs[i], float(rng.integers(1, 4))) for i in chosen]
    reshares += [(int(a), int(b), 1.0) for a, b in zip(rng.integers(0, n, 5), rng.integers(0, n, 5)) if a != b]
    pass_on = rng.random(n) * 0.3
    got = _exposures_observed(n, edges, reshares, pass_on, k, 3)
    reshare_by_pair = ref.summed_weights(reshares)
    want = ref.expected_exposures_observed_naive(n, edges, reshare_by_pair, pass_on, k, 3)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_expected_exposures_observed_without_reshares_is_expected_exposures():
    n, edges = 40, _random_graph_edges(9, 40, 150)
    pass_on = np.random.default_rng(9).random(n) * 0.2
    k = 5.0
    got = _exposures_observed(n, edges, [], pass_on, k, 3)
    per_account = 1.0 - np.exp(-k * pass_on / (1.0 + k))
    np.testing.assert_allclose(got, _exposures(n, edges, per_account, 3), rtol=1e-13)
    np.testing.assert_array_equal(_exposures_observed(n, edges, [], pass_on, k, 1), _exposures(n, edges, pass_on, 1))


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_expected_exposures_observed_exact_on_trees(seed):
    rng = np.random.default_rng(seed)
    n, k = 8, 2.0
    parent = {i: int(rng.integers(0, i)) for i in range(1, n)}
    edges = [(i, parent[i], 1.0) for i in range(1, n)]
    reshares = [(i, parent[i], float(rng.integers(0, 3))) for i in range(1, n)]
    reshares = [r for r in reshares if r[2] > 0]
    pass_on = rng.random(n) * 0.5
    r = ref.summed_weights(reshares)
    # on an in-tree every account has one out-edge, so the per-edge probability is per account
    edge_p = [0.0] + [1.0 - np.exp(-(r.get((i, parent[i]), 0.0) + k * pass_on[i]) / (1.0 + k)) for i in range(1, n)]
    for depth in (1, 2, 3):
        got = _exposures_observed(n, edges, reshares, pass_on, k, depth)
        exact = [ref.cascade_spread_bruteforce(n, edges, edge_p, depth, v) for v in range(n)]
        np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# neighbourhood
# ---------------------------------------------------------------------------------------------


def _random_csr(seed, n=25, m=120, labels_k=4):
    rng = np.random.default_rng(seed)
    src, dst, w = ref.random_edges(rng, n, m, integer_weights=True)
    w = w / 2.0
    return rng, n, ref.in_csr(n, src, dst, w), ref.out_csr(n, src, dst, w), rng.integers(0, labels_k, n)


def _hand_made_csrs():
    for name in HAND_MADE:
        n, edges = ref.HAND_MADE[name]
        src, dst, w = ref.edge_arrays(edges)
        yield name, n, ref.in_csr(n, src, dst, w), ref.out_csr(n, src, dst, w)


@pytest.mark.parametrize("seed", SEEDS)
def test_row_sums_and_neighbour_sums(seed):
    rng, n, (indptr, indices, data), _, _ = _random_csr(seed)
    rows = ref.rows_of(indptr, indices, data)
    np.testing.assert_allclose(row_sums(indptr, data), ref.row_sums_naive(rows), rtol=1e-14)
    values = rng.random(n)
    for weighted in (True, False):
        np.testing.assert_allclose(
            neighbour_sums(indptr, indices, data, values, weighted),
            ref.neighbour_sums_naive(rows, values, weighted),
            rtol=1e-13,
        )


def test_neighbourhood_hand_made():
    for name, n, (indptr, indices, data), (o_indptr, o_indices, o_data) in _hand_made_csrs():
        rows = ref.rows_of(indptr, indices, data)
        np.testing.assert_array_equal(row_sums(indptr, data), ref.row_sums_naive(rows), err_msg=name)
        values = np.arange(1.0, n + 1)
        np.testing.assert_array_equal(
            neighbour_sums(indptr, indices, data, values, False), ref.neighbour_sums_naive(rows, values, False)
        )
        w, c = matched_weight(indptr, indices, data, o_indptr, o_indices, 0.0)
        want_w, want_c = ref.matched_weight_naive(rows, ref.rows_of(o_indptr, o_indices, o_data), 0.0)
        np.testing.assert_array_equal(w, want_w, err_msg=name)
        np.testing.assert_array_equal(c, want_c, err_msg=name)


def test_matched_weight_reciprocal_pairs():
    # in-row of v = its audience; out-row of v = who v attends to: matches are mutual edges
    n, edges = 3, [(0, 1, 2.0), (1, 0, 1.0), (2, 1, 1.0)]
    src, dst, w = ref.edge_arrays(edges)
    a = ref.in_csr(n, src, dst, w)
    b = ref.out_csr(n, src, dst, w)
    weight, count = matched_weight(*a, b[0], b[1], 0.0)
    np.testing.assert_array_equal(weight, [1.0, 2.0, 0.0])
    np.testing.assert_array_equal(count, [1, 1, 0])
    weight, count = matched_weight(*a, b[0], b[1], 1.5)
    np.testing.assert_array_equal(weight, [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(count, [0, 1, 0])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("min_weight", [0.0, 1.0, 1.5, 10.0])
def test_matched_weight_vs_set_intersection(seed, min_weight):
    _, n, a, b, _ = _random_csr(seed)
    _, _, other, _, _ = _random_csr(seed + 100)
    for b_csr in (b, other, a):
        weight, count = matched_weight(*a, b_csr[0], b_csr[1], min_weight)
        want_w, want_c = ref.matched_weight_naive(ref.rows_of(*a), ref.rows_of(*b_csr), min_weight)
        np.testing.assert_allclose(weight, want_w, rtol=1e-14)
        np.testing.assert_array_equal(count, want_c)
        assert count.dtype == np.int64


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("min_weight", [0.0, 0.5, 1.0, 1.5, 100.0])
def test_count_at_least(seed, min_weight):
    _, _, (indptr, indices, data), _, _ = _random_csr(seed)
    got = count_at_least(indptr, data, min_weight)
    np.testing.assert_array_equal(got, ref.count_at_least_naive(ref.rows_of(indptr, indices, data), min_weight))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 3, 10])
def test_label_mix_vs_naive(seed, k):
    rng, n, a, _, labels = _random_csr(seed, labels_k=k)
    own = rng.integers(0, k, n)
    for data in (a[2], np.ones_like(a[2])):
        top, own_share, eff = label_mix(a[0], a[1], data, labels.astype(np.int64), own.astype(np.int64))
        want = ref.label_mix_naive(ref.rows_of(a[0], a[1], data), labels, own)
        np.testing.assert_allclose(top, want[0], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(own_share, want[1], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(eff, want[2], rtol=1e-12, atol=1e-15)


def test_label_mix_exact_values():
    # v=0 has audience 1, 2, 3 (labels 0, 0, 1) with weights 1, 1, 2; v=1 has none
    n, edges = 4, [(1, 0, 1.0), (2, 0, 1.0), (3, 0, 2.0), (0, 2, 1.0), (0, 3, 0.0)]
    src, dst, w = ref.edge_arrays(edges)
    indptr, indices, data = ref.in_csr(n, src, dst, w)
    labels = np.array([1, 0, 0, 1], np.int64)
    top, own, eff = label_mix(indptr, indices, data, labels, labels)
    np.testing.assert_allclose(top, [0.5, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(own, [0.5, 0.0, 0.0, 0.0])  # v=2's audience 0 has label 1 != 0
    np.testing.assert_allclose(eff, [2.0, 0.0, 1.0, 0.0])  # v=3: only a zero-weight edge


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 3, 10])
def test_top_label_vs_naive(seed, k):
    rng, n, a, _, labels = _random_csr(seed, labels_k=k)
    for tie_weight in (np.zeros(k), rng.random(k), np.arange(k, dtype=float)[::-1].copy()):
        for data in (a[2], np.ones_like(a[2])):  # integer-valued weights: many ties
            got = top_label(a[0], a[1], data, labels.astype(np.int64), tie_weight)
            want = ref.top_label_naive(ref.rows_of(a[0], a[1], data), labels, tie_weight)
            np.testing.assert_array_equal(got, want)


def test_top_label_exact_values():
    # v=0: audience 1, 2 (label 0) and 3 (label 1), one each: label 0; v=2: a tie between
    # labels 0 and 1 goes to the larger tie weight (label 1); v=3: only a zero-weight edge
    n, edges = 5, [(1, 0, 1.0), (2, 0, 1.0), (3, 0, 1.0), (1, 2, 1.0), (3, 2, 1.0), (0, 3, 0.0)]
    src, dst, w = ref.edge_arrays(edges)
    indptr, indices, data = ref.in_csr(n, src, dst, w)
    labels = np.array([1, 0, 0, 1, 0], np.int64)
    got = top_label(indptr, indices, data, labels, np.array([0.2, 0.8]))
    np.testing.assert_array_equal(got, [0, -1, 1, -1, -1])
    got = top_label(indptr, indices, data, labels, np.array([0.5, 0.5]))
    np.testing.assert_array_equal(got, [0, -1, 0, -1, -1])  # equal tie weights: the smaller label


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_chunks", [1, 2, 3, 64])
def test_reciprocal_ring_vs_naive(seed, n_chunks):
    _, n, a, b, _ = _random_csr(seed, n=15, m=90)
    got = reciprocal_ring(*a, b[0], b[1], n_chunks)
    want = ref.reciprocal_ring_naive(ref.rows_of(*a), ref.rows_of(*b))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-14)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[2], want[2], rtol=1e-14, atol=0)


def test_reciprocal_ring_hand_made():
    for name, n, a, b in _hand_made_csrs():
        got = reciprocal_ring(*a, b[0], b[1], 3)
        want = ref.reciprocal_ring_naive(ref.rows_of(*a), ref.rows_of(*b))
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w, err_msg=name)


def test_reciprocal_ring_pod_and_unrelated_partners():
    # 0, 1, 2 all engage each other (a pod); 3 and 4 each trade with 5 but not with each other
    edges = _clique_edges(range(3)) + [(3, 5, 1.0), (5, 3, 1.0), (4, 5, 2.0), (5, 4, 1.0), (6, 0, 1.0)]
    src, dst, w = ref.edge_arrays(edges)
    a, b = ref.in_csr(7, src, dst, w), ref.out_csr(7, src, dst, w)
    weight, partners, closure = reciprocal_ring(*a, b[0], b[1], 2)
    np.testing.assert_array_equal(weight, [2.0, 2.0, 2.0, 1.0, 1.0, 3.0, 0.0])
    np.testing.assert_array_equal(partners, [2, 2, 2, 1, 1, 2, 0])
    np.testing.assert_array_equal(closure, [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])


# ---------------------------------------------------------------------------------------------
# louvain
# ---------------------------------------------------------------------------------------------


def _clique_edges(members, weight=1.0):
    return [(a, b, weight) for a in members for b in members if a != b]


def _adjacency(n, edges, position=None):
    src, dst, w = ref.edge_arrays(edges)
    o = ref.out_csr(n, src, dst, w)
    i = ref.in_csr(n, src, dst, w)
    position = np.arange(n, dtype=np.int64) if position is None else np.asarray(position, np.int64)
    return symmetric_adjacency(o[0], o[1], o[2].astype(np.float64), i[0], i[1], i[2].astype(np.float64), position)


def _louvain(n, edges, position=None, resolution=1.0):
    """Communities by account (account ``v`` is node ``position[v]`` of the kernel), modularity,
    levels, converged."""
    position = np.arange(n, dtype=np.int64) if position is None else np.asarray(position, np.int64)
    adj = _adjacency(n, edges, position)
    by_node, _, levels, _, converged = louvain(*adj, resolution, 20, 100, 1e-9)
    return by_node[position], modularity(*adj, by_node, resolution), levels, converged


def _groups(labels, members_list):
    return [set(labels[list(m)].tolist()) for m in members_list]


def _networkx_graph(n, edges):
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(n))
    for a, b, w in edges:
        if a != b:
            g.add_edge(a, b, weight=g.get_edge_data(a, b, {"weight": 0.0})["weight"] + w)
    return g


def test_symmetric_adjacency_matches_undirected_sum():
    rng = np.random.default_rng(3)
    n = 30
    src, dst, w = ref.random_edges(rng, n, 120, self_loops=True)
    edges = [(int(a), int(b), float(c)) for a, b, c in zip(src, dst, w)]
    position = rng.permutation(n)
    indptr, indices, data = _adjacency(n, edges, position)
    got = np.zeros((n, n))
    for p in range(n):
        for e in range(indptr[p], indptr[p + 1]):
            got[p, indices[e]] += data[e]
    want = np.zeros((n, n))
    for a, b, c in edges:
        if a != b:
            want[position[a], position[b]] += c
            want[position[b], position[a]] += c
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_modularity_matches_networkx(seed):
    import networkx as nx

    rng = np.random.default_rng(seed)
    n = 40
    src, dst, w = ref.random_edges(rng, n, 150)
    edges = [(int(a), int(b), float(c)) for a, b, c in zip(src, dst, w)]
    labels = rng.integers(0, 4, n).astype(np.int64)
    got = modularity(*_adjacency(n, edges), labels, 1.0)
    parts = [set(np.flatnonzero(labels == c).tolist()) for c in range(4)]
    assert got == pytest.approx(nx.community.modularity(_networkx_graph(n, edges), parts), abs=1e-6)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_cliques, size", [(4, 4), (6, 5), (10, 6)])
def test_louvain_ring_of_cliques_is_exact(seed, n_cliques, size):
    """Cliques joined in a ring by single bridges: every clique is one community, whatever the order."""
    cliques = [range(c * size, (c + 1) * size) for c in range(n_cliques)]
    edges = [e for m in cliques for e in _clique_edges(m)]
    edges += [(c * size + size - 1, ((c + 1) % n_cliques) * size, 1.0) for c in range(n_cliques)]
    n = n_cliques * size
    labels, _, _, converged = _louvain(n, edges, np.random.default_rng(seed).permutation(n))
    assert converged
    assert all(len(g) == 1 for g in _groups(labels, cliques))
    assert len(set(labels.tolist())) == n_cliques


@pytest.mark.parametrize("seed", range(4))
def test_louvain_modularity_close_to_networkx(seed):
    """Modularity of the partition within 0.02 of the best of networkx's Louvain over 5 seeds."""
    import networkx as nx

    rng = np.random.default_rng(seed)
    sizes = [30, 25, 20, 15]
    n = sum(sizes)
    block = np.repeat(np.arange(len(sizes)), sizes)
    edges = []
    for a in range(n):
        for b in range(a + 1, n):
            if rng.random() < (0.3 if block[a] == block[b] else 0.03):
                edges.append((a, b, float(rng.integers(1, 4))))
    labels, q, _, _ = _louvain(n, edges, rng.permutation(n))
    g = _networkx_graph(n, edges)
    parts = [set(np.flatnonzero(labels == c).tolist()) for c in range(labels.max() + 1)]
    assert q == pytest.approx(nx.community.modularity(g, parts), abs=1e-9)
    best = max(nx.community.modularity(g, nx.community.louvain_communities(g, seed=s)) for s in range(5))
    assert q >= best - 0.02


def test_louvain_karate_club():
    import networkx as nx

    g = nx.karate_club_graph()
    edges = [(a, b, 1.0) for a, b in g.edges()]
    labels, q, levels, converged = _louvain(g.number_of_nodes(), edges)
    assert converged and levels >= 2
    best = max(nx.community.modularity(g, nx.community.louvain_communities(g, weight=None, seed=s), weight=None)
               for s in range(10))
    assert q >= best - 0.01 and q > 0.40


def test_louvain_deterministic_and_isolated_nodes():
    rng = np.random.default_rng(7)
    n = 80
    src, dst, _ = ref.random_edges(rng, n - 3, 200)  # last three nodes isolated
    edges = [(int(a), int(b), 1.0) for a, b in zip(src, dst)]
    position = rng.permutation(n)
    first = _louvain(n, edges, position)
    for _ in range(3):
        again = _louvain(n, edges, position)
        assert _bitwise_equal(first[0], again[0]) and first[1:] == again[1:]
    labels = first[0]
    assert len(set(labels[-3:].tolist())) == 3 and not set(labels[-3:].tolist()) & set(labels[:-3].tolist())
    seen = []  # renumbering: labels appear in order 0, 1, 2, ... by kernel node (position)
    by_node = np.empty(n, np.int64)
    by_node[position] = labels
    for lab in by_node.tolist():
        if lab not in seen:
            seen.append(lab)
    assert seen == list(range(len(seen)))


@pytest.mark.parametrize("seed", range(100))
def test_louvain_local_moving_ends_at_a_local_optimum(seed):
    """The pruned local moving (only neighbours of movers are revisited, then a full sweep to
    confirm) must still end where no single node can raise the modularity by changing community:
    checked by brute force over every node and every neighbouring community, on random weighted
    graphs (29 of these 100 seeds failed when the phase stopped without the confirming sweep)."""
    from influence.kernels.community import _move_nodes

    rng = np.random.default_rng(seed)
    n = 60
    src, dst, w = ref.random_edges(rng, n, 240)
    edges = [(int(a), int(b), float(c)) for a, b, c in zip(src, dst, w)]
    indptr, indices, data = _adjacency(n, edges, rng.permutation(n))
    strength = np.array([data[indptr[v]:indptr[v + 1]].sum() for v in range(n)])
    m2 = float(strength.sum())
    community = np.arange(n, dtype=np.int64)
    total = strength.copy()
    sweeps, moved = _move_nodes(indptr, indices, data, strength, community, total, m2, 1.0, 1000, 0.0)
    assert moved == 0 and sweeps < 1000
    np.testing.assert_allclose(total, np.bincount(community, weights=strength, minlength=n), atol=1e-9)
    for v in range(n):
        if strength[v] <= 0:
            continue
        weight_to = {}
        for e in range(indptr[v], indptr[v + 1]):
            c = int(community[indices[e]])
            weight_to[c] = weight_to.get(c, 0.0) + data[e]
        own = int(community[v])
        rest = total[own] - strength[v]
        scale = strength[v] / m2
        stay = weight_to.get(own, 0.0) - rest * scale
        for c, wc in weight_to.items():
            if c != own:
                assert wc - total[c] * scale <= stay + 1e-9 * strength[v], (v, c)


def test_louvain_single_and_empty():
    labels, q, _, converged = _louvain(1, [])
    np.testing.assert_array_equal(labels, [0])
    labels, q, _, _ = _louvain(3, [])
    np.testing.assert_array_equal(labels, [0, 1, 2])
    assert q == 0.0


def test_structural_colours_permute_under_relabelling():
    from influence.kernels.community import structural_colours

    _, n, a, b, _ = _random_csr(3, n=40, m=160)
    rows_in = ref.rows_of(*a)
    perm = np.random.default_rng(0).permutation(n)  # old index -> new index
    src = [perm[u] for v in range(n) for u in rows_in[v]]
    dst = [perm[v] for v in range(n) for u in rows_in[v]]
    w = [rows_in[v][u] for v in range(n) for u in rows_in[v]]
    a2 = ref.in_csr(n, np.array(src), np.array(dst), np.array(w))
    b2 = ref.out_csr(n, np.array(src), np.array(dst), np.array(w))
    before = structural_colours(b[0], b[1], a[0], a[1], 7, 3)
    after = structural_colours(b2[0], b2[1], a2[0], a2[1], 7, 3)
    np.testing.assert_array_equal(after[perm], before)
    assert not np.array_equal(structural_colours(b[0], b[1], a[0], a[1], 8, 3), before)  # the seed matters
