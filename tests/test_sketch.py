"""Two-hop audiences: exact counts against sets, KMV estimates within their error bound."""

import numpy as np
import pytest

from influence.kernels.csr import coo_to_csr
from influence.kernels.sketch import account_hashes, bottom_k_sketches, two_hop_audience


def _in_csr(n, src, dst):
    return coo_to_csr(np.asarray(dst, np.int32), np.asarray(src, np.int32), np.ones(len(src)), n)[:2]


def _naive(n, src, dst):
    audience = [set() for _ in range(n)]
    for s, d in zip(src, dst):
        if s != d:
            audience[d].add(s)
    distinct, paths = [], []
    for v in range(n):
        reached = set(audience[v])
        total = len(audience[v])
        for u in audience[v]:
            reached |= audience[u]
            total += len(audience[u])
        reached.discard(v)
        distinct.append(len(reached))
        paths.append(total)
    return np.array(distinct, float), np.array(paths, float)


def _run(indptr, indices, n, k, budget, seed=0, chunks=3):
    hashes = account_hashes(n, seed)
    degree = np.diff(indptr)
    big = np.flatnonzero(degree > k).astype(np.int64)
    row = np.full(n, -1, np.int64)
    row[big] = np.arange(big.size)
    sketches = bottom_k_sketches(indptr, indices, hashes, big, k)
    return two_hop_audience(indptr, indices, hashes, row, sketches, k, budget, chunks)


@pytest.mark.parametrize("seed", range(5))
def test_exact_two_hop_matches_sets(seed):
    rng = np.random.default_rng(seed)
    n = 60
    src, dst = rng.integers(0, n, 400), rng.integers(0, n, 400)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    indptr, indices = _in_csr(n, src, dst)
    distinct, paths, exact = _run(indptr, indices, n, k=8, budget=10**9)
    want_distinct, want_paths = _naive(n, src, dst)
    assert exact.all()
    np.testing.assert_array_equal(distinct, want_distinct)
    np.testing.assert_array_equal(paths, want_paths)


def test_small_sets_are_exact_even_through_sketches():
    """A set with fewer than k distinct members is counted exactly by the sketch path too."""
    src = [1, 2, 3, 1, 4]
    dst = [0, 0, 1, 2, 2]
    indptr, indices = _in_csr(5, src, dst)
    distinct, _, exact = _run(indptr, indices, 5, k=16, budget=0)
    assert not exact[0]
    assert distinct[0] == 4  # {1, 2} plus 3 (via 1) and 4 (via 2)


def test_kmv_estimate_within_error_bound():
    """Hub 0 followed by 300 accounts, each followed by 40 others of 20,000: the union is large."""
    rng = np.random.default_rng(1)
    n = 20_000
    src, dst = list(range(1, 301)), [0] * 300
    for u in range(1, 301):
        followers = rng.choice(np.arange(301, n), 40, replace=False)
        src.extend(followers.tolist())
        dst.extend([u] * 40)
    indptr, indices = _in_csr(n, src, dst)
    want, _ = _naive(n, src, dst)
    k = 64
    errors = []
    for seed in range(20):
        distinct, _, exact = _run(indptr, indices, n, k=k, budget=1000, seed=seed)
        assert not exact[0]
        errors.append(distinct[0] / want[0] - 1.0)
    errors = np.array(errors)
    bound = 1.0 / np.sqrt(k - 2)
    assert abs(errors.mean()) < 2.5 * bound / np.sqrt(len(errors))  # unbiased
    assert np.sqrt(np.mean(errors**2)) < 1.5 * bound  # relative error as documented


def test_author_is_not_counted_in_its_own_audience():
    # 0 and 1 follow each other; 2 follows 1: two-hop audience of 0 is {1, 2}, not 0 itself
    indptr, indices = _in_csr(3, [0, 1, 2], [1, 0, 1])
    for budget in (0, 100):
        distinct, paths, _ = _run(indptr, indices, 3, k=4, budget=budget)
        assert distinct[0] == 2 and paths[0] == 3
