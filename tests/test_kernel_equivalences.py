"""Kernels that must equal another route to the same numbers, bitwise, at 1 and 2 threads.

* ``weighted_pagerank_pair`` is two ``weighted_pagerank`` walks iterated together;
* a layer's lazy ``out_degree`` / ``out_strength`` (from the in-CSR) are those of its
  transposed CSR, and computing them does not build the transpose;
* ``ids_in_range`` (direct table) maps ids as ``IntIdIndex`` (hash table) does;
* ``label_mix`` with negative and int64-extreme labels (remapped to ranks) against the naive twin.

Thread counts: :func:`influence.kernels.csr.run_chunks` runs ``numba.get_num_threads()``
threads (at most one per chunk), so ``numba.set_num_threads`` selects them; the inputs are big
enough to have several chunks.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

import reference as ref
from influence.graph import Layer
from influence.kernels.csr import IntIdIndex, ids_in_range, n_threads, transpose_csr
from influence.kernels.neighbourhood import label_mix, row_sums
from influence.kernels.propagation import weighted_pagerank, weighted_pagerank_pair

I64 = np.iinfo(np.int64)
THREADS = [1, 2]


def _bitwise_equal(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.fixture(params=THREADS, ids=lambda t: f"{t}thread")
def threads(request):
    if request.param > numba.config.NUMBA_NUM_THREADS:
        pytest.skip(f"numba has {numba.config.NUMBA_NUM_THREADS} thread(s) on this machine")
    before = numba.get_num_threads()
    numba.set_num_threads(request.param)
    try:
        yield request.param
    finally:
        numba.set_num_threads(before)


def _layer(seed: int, n: int, m: int):
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m).astype(np.int32)
    dst = (rng.zipf(1.6, m) % n).astype(np.int32)  # skewed in-degrees: uneven chunks
    w = rng.integers(1, 6, m).astype(np.float64) * 0.5
    return rng, Layer.from_edges(src, dst, w, n)


# ---------------------------------------------------------------------------------------------
# weighted_pagerank_pair


def _inv_out_strength(layer: Layer) -> np.ndarray:
    s = layer.out_strength
    return np.divide(1.0, s, out=np.zeros_like(s), where=s > 0)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("tol, max_iter", [(1e-12, 1000), (1e-6, 1000), (0.0, 7)],
                         ids=["tight", "loose", "capped"])
def test_pagerank_pair_is_two_single_walks_bitwise(threads, seed, tol, max_iter):
    n = 12_000  # several edge-balanced chunks (n // 2048)
    rng, layer = _layer(seed, n, 60_000)
    inv = _inv_out_strength(layer)
    uniform = np.full(n, 1.0 / n)
    seeds = np.zeros(n)
    seeds[rng.choice(n, 25, replace=False)] = rng.random(25)
    seeds /= seeds.sum()  # a personalised walk: converges after a different number of iterations
    args = (layer.in_indptr, layer.in_indices, layer.in_data, inv)
    pair = weighted_pagerank_pair(*args, uniform, seeds, 0.85, tol, max_iter)
    singles = [weighted_pagerank(*args, t, 0.85, tol, max_iter) for t in (uniform, seeds)]
    for (rank_p, iter_p, res_p), (rank_s, iter_s, res_s) in zip(pair, singles):
        assert _bitwise_equal(rank_p, rank_s)
        assert iter_p == iter_s and _bitwise_equal(res_p, res_s)
    if tol == 1e-12:
        assert pair[0][1] != pair[1][1], "the walks should stop at different iterations"
    if max_iter == 7:
        assert pair[0][1] == pair[1][1] == 7


def test_pagerank_pair_independent_of_thread_count():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has fewer than 2 threads on this machine")
    n = 9_000
    _, layer = _layer(3, n, 40_000)
    teleport_b = np.linspace(1.0, 2.0, n) / np.linspace(1.0, 2.0, n).sum()
    before = numba.get_num_threads()
    runs = []
    try:
        for t in (1, 2):
            numba.set_num_threads(t)
            assert n_threads(4) == t
            runs.append(weighted_pagerank_pair(layer.in_indptr, layer.in_indices, layer.in_data,
                                               _inv_out_strength(layer), np.full(n, 1.0 / n), teleport_b,
                                               0.85, 1e-12, 500))
    finally:
        numba.set_num_threads(before)
    for walk_1, walk_2 in zip(*runs):
        assert _bitwise_equal(walk_1[0], walk_2[0]) and walk_1[1:] == walk_2[1:]


# ---------------------------------------------------------------------------------------------
# lazy out-degree / out-strength


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n, m", [(1, 0), (7, 0), (50, 400), (20_000, 150_000)])
def test_lazy_out_degree_and_strength_equal_the_transposed_csr(threads, seed, n, m):
    _, layer = _layer(seed, n, m)
    out_degree, out_strength = layer.out_degree, layer.out_strength
    assert not layer.has_out_csr, "computing them must not build the out-CSR"
    t_indptr, t_indices, t_data = transpose_csr(layer.in_indptr, layer.in_indices, layer.in_data, n)
    assert out_degree.dtype == np.int64 and out_strength.dtype == np.float64
    np.testing.assert_array_equal(out_degree, np.diff(t_indptr))
    assert _bitwise_equal(out_strength, row_sums(t_indptr, t_data))
    # and the layer's own (lazily built) out-CSR is that transpose
    np.testing.assert_array_equal(layer.out_indptr, t_indptr)
    np.testing.assert_array_equal(layer.out_indices, t_indices)
    assert _bitwise_equal(layer.out_data, t_data)


# ---------------------------------------------------------------------------------------------
# ids_in_range against IntIdIndex


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique`` by sort and mask (numpy 2.4's ``np.unique`` is slow on millions of int64)."""
    values = np.sort(values)
    keep = np.ones(values.size, bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


@pytest.mark.parametrize(
    "lo, size",
    [(0, 1), (-5_000, 1_000), (I64.min, 1_000), (I64.max - 4_000, 1_000), (-5_000, 1_200_000)],
    ids=["one_id", "negative", "int64_min", "int64_max", "split_pieces"],  # > 2**20 ids: pieces for the threads
)
def test_ids_in_range_agrees_with_int_id_index(threads, lo, size):
    rng = np.random.default_rng(size)
    span = min(3 * size, 4_000)
    if size > 1_000:
        span = 3 * size
    src = (lo + rng.integers(0, span, size)).astype(np.int64)
    dst = (lo + rng.integers(0, span, size)).astype(np.int64)
    extra = (lo + rng.integers(0, span, size // 3 + 1)).astype(np.int64)  # e.g. node-table ids
    src_chunks = np.array_split(src, 3) if size >= 3 else [src]  # a column's chunks, read in place
    every = np.concatenate([src, dst, extra])
    unique, (src_idx, dst_idx) = ids_in_range([src_chunks, dst, [extra]], int(every.min()), int(every.max()),
                                              n_mapped=2)
    want = _sorted_distinct(every)
    np.testing.assert_array_equal(unique, want)
    index = IntIdIndex(want)
    assert src_idx.dtype == dst_idx.dtype == np.int32
    np.testing.assert_array_equal(src_idx, index.lookup(src))
    np.testing.assert_array_equal(dst_idx, index.lookup(dst))
    assert (index.lookup(extra) >= 0).all()


# ---------------------------------------------------------------------------------------------
# label_mix with negative and huge labels


def _label_mix_case(seed: int, n: int, m: int):
    rng, layer = _layer(seed, n, m)
    pool = np.array([I64.min, I64.min + 1, -(2**40), -1, 0, 1, 2**40, I64.max - 1, I64.max], np.int64)
    labels = pool[rng.integers(0, pool.size, n)]
    own = pool[rng.integers(0, pool.size, n)]
    own[::7] = 12345  # a label no account has: own share 0
    return layer, labels, own


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_label_mix_extreme_labels_vs_naive(threads, seed):
    layer, labels, own = _label_mix_case(seed, 300, 2_000)
    data = layer.in_data.astype(np.float64)
    top, own_share, effective = label_mix(layer.in_indptr, layer.in_indices, layer.in_data, labels, own)
    want = ref.label_mix_naive(ref.rows_of(layer.in_indptr, layer.in_indices, data), labels, own)
    np.testing.assert_allclose(top, want[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(own_share, want[1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(effective, want[2], rtol=1e-12, atol=1e-15)
    assert (own_share[::7] == 0).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_label_mix_extreme_labels_equal_their_ranks_bitwise(threads, seed):
    """Remapping extreme labels to ranks keeps their order, so the sums are the same, bitwise,
    as with small labels given directly (a large case: several chunks)."""
    layer, labels, own = _label_mix_case(seed, 20_000, 150_000)
    distinct = np.sort(np.array(list(set(labels.tolist())), np.int64))
    ranks = np.searchsorted(distinct, labels).astype(np.int64)
    pos = np.searchsorted(distinct, own)
    found = (pos < distinct.size) & (distinct[np.minimum(pos, distinct.size - 1)] == own)
    own_ranks = np.where(found, pos, distinct.size + 5).astype(np.int64)  # absent: a label nobody has
    extreme = label_mix(layer.in_indptr, layer.in_indices, layer.in_data, labels, own)
    small = label_mix(layer.in_indptr, layer.in_indices, layer.in_data, ranks, own_ranks)
    for a, b in zip(extreme, small):
        assert _bitwise_equal(a, b)
