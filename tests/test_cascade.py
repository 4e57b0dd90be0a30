"""Reverse-reachable-set estimate of the independent-cascade spread (kernels/cascade.py).

Against the exact spread (every live-edge world enumerated) on hand-made and tiny random graphs,
against a forward Monte Carlo twin on larger ones, against the recursion where that is exact (in-
trees); the error bound checked empirically; shards, threads and seeds.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

import reference as ref
from influence.kernels.cascade import (
    SAMPLE_BLOCK,
    int_keys,
    reverse_reachable_hits,
    rr_confidence_interval,
    rr_error_threshold,
    rr_relative_error,
    rr_samples_for,
)
from influence.kernels.propagation import expected_exposures

HAND_MADE = sorted(ref.HAND_MADE)
NO_EXTRA = (np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0))


def _arrays(n, edges, q, extra, ids=None):
    """Out-CSR of ``edges``, base probabilities ``q``, the extra-coin CSR of ``extra``
    (``{(u, v): x}``) and the keys of ``ids`` (default ``0 .. n - 1``)."""
    keys = int_keys(np.arange(n) if ids is None else np.asarray(ids))
    src, dst, w = ref.edge_arrays(edges) if edges else (np.zeros(0, np.int32),) * 2 + (np.zeros(0),)
    out_indptr, out_indices, _ = ref.out_csr(n, src, dst, w)
    pairs = sorted(extra)
    e_src = np.array([u for u, _ in pairs], np.int32)
    e_dst = np.array([v for _, v in pairs], np.int32)
    e_prob = np.array([extra[p] for p in pairs], np.float64)
    return out_indptr, out_indices, np.asarray(q, np.float64), *ref.out_csr(n, e_src, e_dst, e_prob), keys


def _edge_prob(edges, q, extra):
    pairs = {(int(u), int(v)) for u, v, *_ in edges}
    return {e: 1.0 - (1.0 - q[e[0]]) * (1.0 - extra.get(e, 0.0)) for e in pairs}


def _estimate(n, edges, q, extra, depth, rounds, seed=0):
    """Spread estimate from ``rounds`` RR sets per account, and its standard error (Poisson: a
    sum of Bernoulli draws has variance at most its mean; at least one hit's worth)."""
    arrays = _arrays(n, edges, q, extra)
    hits, _ = reverse_reachable_hits(*arrays, depth, seed, 0, rounds * n)
    audience = np.array([len(a) for a in ref.audiences(n, edges).values()], np.float64)
    return audience + hits / rounds, np.sqrt(np.maximum(hits, 1.0)) / rounds


def _assert_within(estimate, standard_error, truth, z=5.0):
    """Each account within ``z`` standard errors."""
    assert np.all(np.abs(estimate - truth) <= z * standard_error + 1e-9), (estimate, truth)


def _random_case(seed, n, m, with_extra=True):
    rng = np.random.default_rng(seed)
    src, dst, _ = ref.random_edges(rng, n, m)
    edges = [(int(a), int(b), 1.0) for a, b in zip(src, dst)]
    q = rng.random(n) * 0.7
    q[rng.random(n) < 0.2] = 0.0
    pairs = sorted({(u, v) for u, v, _ in edges})
    extra = {}
    if with_extra and pairs:
        for i in rng.choice(len(pairs), max(1, len(pairs) // 4), replace=False):
            extra[pairs[int(i)]] = float(rng.random())
    return edges, q, extra


@pytest.mark.parametrize("name", HAND_MADE)
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_rr_matches_exact_spread_hand_made(name, depth):
    n, edges = ref.HAND_MADE[name]
    q = np.linspace(0.2, 0.9, n)
    pairs = sorted({(int(u), int(v)) for u, v, _ in edges})
    extra = {pairs[0]: 0.5} if pairs else {}
    exact = ref.ic_spread_exact(n, edges, _edge_prob(edges, q, extra), depth)
    est, se = _estimate(n, edges, q, extra, depth, 40_000)
    _assert_within(est, se, exact)
    if depth == 1:  # the first hop is exact: nothing is sampled
        np.testing.assert_allclose(est, exact, rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("depth", [2, 4])
def test_rr_matches_exact_spread_random(seed, depth):
    n = 7
    edges, q, extra = _random_case(seed, n, 11)
    exact = ref.ic_spread_exact(n, edges, _edge_prob(edges, q, extra), depth)
    est, se = _estimate(n, edges, q, extra, depth, 40_000, seed=seed)
    _assert_within(est, se, exact)
    # and not by luck of a loose tolerance: the errors are of the size of the standard error
    assert np.abs(est - exact).max() < 0.05 * max(1.0, exact.max())


def test_monte_carlo_twin_matches_exact():
    n = 7
    edges, q, extra = _random_case(11, n, 12)
    prob = _edge_prob(edges, q, extra)
    exact = ref.ic_spread_exact(n, edges, prob, 3)
    mc = ref.ic_spread_monte_carlo(n, edges, prob, 3, 3000, np.random.default_rng(0))
    assert np.abs(mc - exact).max() < 0.15


@pytest.mark.parametrize("seed", [0, 1])
def test_rr_matches_forward_monte_carlo(seed):
    """Too many edges to enumerate: a forward simulation twin is the reference."""
    n = 40
    edges, q, extra = _random_case(seed, n, 160)
    q = q * 0.6
    runs = 1500
    mc = ref.ic_spread_monte_carlo(n, edges, _edge_prob(edges, q, extra), 3, runs, np.random.default_rng(seed))
    est, se = _estimate(n, edges, q, extra, 3, 10_000, seed=seed)
    # the forward twin's own error: its spread is at most n per run
    mc_se = np.sqrt(np.maximum(mc, 1.0) * n / runs)
    _assert_within(est, np.hypot(se, mc_se), mc, z=5.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rr_equals_recursion_on_in_trees(seed):
    """On an in-tree every path reaches a different account: the recursion is exact there."""
    rng = np.random.default_rng(seed)
    n = 30
    edges = [(i, int(rng.integers(0, i)), 1.0) for i in range(1, n)]
    q = rng.random(n)
    src, dst, w = ref.edge_arrays(edges)
    in_indptr, in_indices, _ = ref.in_csr(n, src, dst, w)
    exact = expected_exposures(in_indptr, in_indices, q, 4)
    est, se = _estimate(n, edges, q, {}, 4, 10_000, seed=seed)
    _assert_within(est, se, exact)


def test_zero_and_certain_probabilities():
    n, edges = ref.HAND_MADE["two_components"]
    arrays = _arrays(n, edges, np.zeros(n), {})
    hits, _ = reverse_reachable_hits(*arrays, 3, 0, 0, 1000 * n)
    assert not hits.any()  # nobody passes anything on: the audience is the spread
    # everyone passes everything on: hits(v) / R estimates the share of accounts that reach v
    # only through others; exact on the chain
    n, edges = ref.HAND_MADE["chain"]  # 0 -> 1 -> 2 -> 3
    est, _ = _estimate(n, edges, np.ones(n), {}, 3, 10)
    np.testing.assert_array_equal(est, [0.0, 1.0, 2.0, 3.0])  # certain coins: no noise


def test_empty_inputs_and_bad_ranges():
    hits, work = reverse_reachable_hits(np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0), *NO_EXTRA,
                                        np.zeros(0, np.uint64), 3, 0, 0, 10)
    assert hits.shape == (0,) and work == 0
    n, edges = ref.HAND_MADE["star"]
    arrays = _arrays(n, edges, np.full(n, 0.5), {})
    hits, work = reverse_reachable_hits(*arrays, 3, 0, 5, 5)
    assert not hits.any() and work == 0
    with pytest.raises(ValueError):
        reverse_reachable_hits(*arrays, 3, 0, 5, 4)


def test_shards_add_up_bitwise():
    """Any split of the sample range (not on block boundaries either) sums to the whole."""
    n = 500
    edges, q, extra = _random_case(3, n, 3000)
    arrays = _arrays(n, edges, q, extra)
    total = 5 * SAMPLE_BLOCK + 77  # rounds of 500 and a part of one
    whole, whole_work = reverse_reachable_hits(*arrays, 3, 9, 0, total)
    cuts = [0, 1, SAMPLE_BLOCK - 3, 2 * SAMPLE_BLOCK, 2 * SAMPLE_BLOCK + 500, total]
    parts = [reverse_reachable_hits(*arrays, 3, 9, a, b) for a, b in zip(cuts, cuts[1:])]
    np.testing.assert_array_equal(whole, sum(p[0] for p in parts))
    assert whole_work == sum(p[1] for p in parts)


def test_thread_count_and_seed():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has fewer than 2 threads on this machine")
    n = 2000
    edges, q, extra = _random_case(4, n, 16_000)
    arrays = _arrays(n, edges, q, extra)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = reverse_reachable_hits(*arrays, 3, 1, 0, 20_000)
        numba.set_num_threads(2)
        two = reverse_reachable_hits(*arrays, 3, 1, 0, 20_000)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one[0], two[0])
    assert one[1] == two[1]
    again = reverse_reachable_hits(*arrays, 3, 1, 0, 20_000)
    np.testing.assert_array_equal(one[0], again[0])
    other = reverse_reachable_hits(*arrays, 3, 2, 0, 20_000)
    assert not np.array_equal(one[0], other[0])


@pytest.mark.parametrize("seed", [0, 1])
def test_new_accounts_do_not_move_the_others_samples(seed):
    """Accounts without edges inserted among the ids shift every dense index; the RR sets of the
    others are keyed on their ids, so their hits stay the same, bitwise."""
    n = 60
    edges, q, extra = _random_case(seed, n, 300)
    ids = np.arange(n) * 10
    hits, work = reverse_reachable_hits(*_arrays(n, edges, q, extra, ids), 3, seed, 0, 50 * n)
    # new ids 5, 15, 25, ...: old account i (id 10 i) moves to index 2 i
    m = 2 * n
    new_ids = np.arange(m) * 5
    at = 2 * np.arange(n)
    m_edges = [(int(at[u]), int(at[v]), w) for u, v, w in edges]
    m_q = np.zeros(m)
    m_q[at] = q
    m_extra = {(int(at[u]), int(at[v])): x for (u, v), x in extra.items()}
    m_hits, m_work = reverse_reachable_hits(*_arrays(m, m_edges, m_q, m_extra, new_ids), 3, seed, 0, 50 * m)
    np.testing.assert_array_equal(m_hits[at], hits)
    assert not m_hits[1::2].any() and m_work == work and hits.sum() > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_relabelling_permutes_the_estimate(seed):
    """New ids draw other random numbers: the estimates agree within their sampling error."""
    n = 60
    edges, q, extra = _random_case(seed, n, 300)
    perm = np.random.default_rng(seed + 10).permutation(n)
    p_edges = [(int(perm[u]), int(perm[v]), w) for u, v, w in edges]
    p_q = np.empty(n)
    p_q[perm] = q
    p_extra = {(int(perm[u]), int(perm[v])): x for (u, v), x in extra.items()}
    est, se = _estimate(n, edges, q, extra, 3, 5000, seed=seed)
    p_est, p_se = _estimate(n, p_edges, p_q, p_extra, 3, 5000, seed=seed)
    _assert_within(p_est[perm], np.hypot(se, p_se[perm]), est)
    assert not np.array_equal(p_est[perm], est)  # other draws, not the same ones


def test_more_pass_on_never_lowers_spread():
    """Monotone in the probabilities (checked beyond sampling noise)."""
    n = 80
    edges, q, extra = _random_case(7, n, 400)
    low, low_se = _estimate(n, edges, q * 0.5, extra, 3, 3000)
    high, high_se = _estimate(n, edges, np.minimum(1.0, q * 1.5), extra, 3, 3000)
    assert np.all(high >= low - 5 * np.hypot(low_se, high_se))
    assert high.sum() > low.sum()


def test_bound_helpers_agree():
    n, eps, delta = 10_000, 0.1, 0.01
    r = rr_samples_for(n, eps, delta, 50.0)
    assert rr_error_threshold(n, eps, delta, r) <= 50.0 < rr_error_threshold(n, eps, delta, r - 1)
    assert rr_relative_error(n, delta, r, 50.0) == pytest.approx(eps, rel=1e-3)
    assert rr_relative_error(n, delta, 4 * r, 50.0) < eps / 1.9  # error ~ 1 / sqrt(R)


def test_error_bound_holds_empirically():
    """With R from the bound for (epsilon, delta, S*), the share of runs in which some account is
    off by more than ``epsilon * max(beyond, S*)`` stays below delta."""
    n = 300
    edges, q, extra = _random_case(5, n, 1500)
    arrays = _arrays(n, edges, q, extra)
    truth_samples = 6000 * n
    hits, _ = reverse_reachable_hits(*arrays, 3, 12345, 0, truth_samples)
    truth = n * hits / truth_samples
    eps, delta, threshold = 0.25, 0.1, 2.0
    samples = -(-rr_samples_for(n, eps, delta, threshold) // n) * n  # whole rounds
    truth_error = rr_error_threshold(n, 0.05, 0.001, truth_samples)  # the reference's own slack
    failures = misses = 0
    worst = 0.0
    runs = 20
    for seed in range(runs):
        h, _ = reverse_reachable_hits(*arrays, 3, seed, 0, samples)
        est = n * h / samples
        allowed = eps * np.maximum(truth, threshold) + 0.05 * np.maximum(truth, truth_error)
        worst = max(worst, float((np.abs(est - truth) / allowed).max()))
        failures += bool(np.any(np.abs(est - truth) > allowed))
        # the per-account interval covers every account at once (as often)
        low, high = rr_confidence_interval(h, samples, n, delta)
        assert np.all(low <= est + 1e-12) and np.all(est <= high + 1e-12)
        slack = 0.05 * np.maximum(truth, truth_error)
        misses += bool(np.any((truth < low - slack) | (truth > high + slack)))
    assert failures <= math.floor(delta * runs)
    assert misses <= math.floor(delta * runs)
    assert worst > 0.1  # the check can fail: errors are a sizeable share of what is allowed


def test_confidence_interval_shape():
    low, high = rr_confidence_interval(np.array([0, 1, 10, 1000, 100_000]), 1_000_000, 5000, 0.01)
    assert low[0] == 0.0 and low[1] == 0.0 and high[0] > 0.0
    est = 5000 * np.array([0, 1, 10, 1000, 100_000]) / 1_000_000
    assert np.all(low <= est) and np.all(est <= high)
    width = (high - low) / np.maximum(est, 1e-12)
    assert width[4] < width[3] < width[2]  # relative width shrinks as the hits grow
    assert width[4] < 0.05
