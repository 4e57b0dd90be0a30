"""Distinct two-hop audiences: exact where small, bottom-k (KMV) sketches where large.

The two-hop audience of ``v`` is everyone a post of ``v`` would reach if every member of its
audience passed it on: ``A(v) ∪ ⋃_{u ∈ A(v)} A(u)`` minus ``v`` itself, where ``A(x)`` is the
in-row of ``x`` (the accounts that attend to ``x``).

KMV estimator (Bar-Yossef et al. 2002; Beyer et al. 2007): give every account a uniform 64-bit
hash; the ``k`` smallest distinct hashes of a set estimate its size as ``(k - 1) / h_k`` with
``h_k`` the k-th smallest hash scaled to (0, 1]. The estimate is unbiased with a relative
standard error of about ``1 / sqrt(k - 2)`` (12.7% for ``k = 64``); sets with fewer than ``k``
distinct members are counted exactly.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .hashing import mix64 as _mix
from .csr import as_indices, as_indptr, as_input, n_threads, run_chunks

_SCALE = 1.0 / 18446744073709551616.0  # 2**-64


@nb.njit(nogil=True, cache=True)
def _account_hashes(seed, out, n_chunks, first, step):
    n = out.shape[0]
    base = _mix(np.uint64(seed))
    for c in range(first, n_chunks, step):
        for i in range(n * c // n_chunks, n * (c + 1) // n_chunks):
            out[i] = _mix(base ^ _mix(np.uint64(i)))


def account_hashes(n, seed):
    """uint64[n]: a seeded uniform hash of every account index."""
    out = np.empty(int(n), np.uint64)
    n_chunks = n_threads(int(n) // 65536 + 1)
    run_chunks(_account_hashes, n_chunks, np.int64(seed), out, n_chunks)
    return out


@nb.njit(cache=True)
def _insert(sketch, size, k, h):
    """Insert ``h`` into the sorted ``sketch[:size]`` keeping the k smallest distinct; new size."""
    if size == k and h >= sketch[k - 1]:
        return size
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) >> 1
        if sketch[mid] < h:
            lo = mid + 1
        else:
            hi = mid
    if lo < size and sketch[lo] == h:
        return size
    end = size if size < k else k - 1
    for t in range(end, lo, -1):
        sketch[t] = sketch[t - 1]
    sketch[lo] = h
    return size + 1 if size < k else k


@nb.njit(nogil=True, cache=True)
def _bottom_k_sketches(in_indptr, in_indices, hashes, big, k, out, n_chunks, first, step):
    m = big.shape[0]
    for c in range(first, n_chunks, step):
        for b in range(m * c // n_chunks, m * (c + 1) // n_chunks):
            v = big[b]
            size = 0
            for e in range(in_indptr[v], in_indptr[v + 1]):
                size = _insert(out[b], size, k, hashes[in_indices[e]])


def bottom_k_sketches(in_indptr, in_indices, hashes, big, k):
    """Bottom-k sketches of the in-rows of the accounts listed in ``big`` (int64 indices).

    Returns uint64[len(big), k] with each row sorted ascending (rows have at least k entries:
    only accounts with more than k distinct in-neighbours are sketched).
    """
    big = as_input(big, np.int64)
    k = int(k)
    out = np.empty((big.shape[0], k), np.uint64)
    n_chunks = n_threads(big.shape[0] // 64 + 1) * 8
    run_chunks(_bottom_k_sketches, n_chunks, as_indptr(in_indptr), as_indices(in_indices), as_input(hashes, np.uint64),
               big, k, out, n_chunks)
    return out


@nb.njit(cache=True)
def _exact_two_hop(in_indptr, in_indices, v, marker, touched):
    """``|A(v) ∪ ⋃_{u in A(v)} A(u)| - [v in that set]`` by marking every account reached.

    ``marker`` (uint8[n], all 0) is left all 0; ``touched`` holds at least the path count.
    Branch-free: every reached account is written to ``touched`` and the count advances only
    for the unmarked ones (``v`` is marked first, so it is never counted).
    """
    marker[v] = 1
    count = 0
    for e in range(in_indptr[v], in_indptr[v + 1]):
        u = in_indices[e]
        touched[count] = u
        count += 1 - marker[u]
        marker[u] = 1
        for f in range(in_indptr[u], in_indptr[u + 1]):
            w = in_indices[f]
            touched[count] = w
            count += 1 - marker[w]
            marker[w] = 1
    for t in range(count):
        marker[touched[t]] = 0
    marker[v] = 0
    return count


@nb.njit(cache=True)
def _sketch_two_hop(in_indptr, in_indices, hashes, sketch_row, sketches, k, v, sketch):
    """KMV estimate of the two-hop audience of ``v`` (see :func:`two_hop_audience`).

    The sketch is the ``k`` smallest distinct hashes of a union, so the order in which the parts
    are merged does not change it: the precomputed (sorted) sketches go first, which makes the
    threshold small early, then the accounts of ``A(v)`` and the in-rows that have no sketch.
    """
    size = 0
    for e in range(in_indptr[v], in_indptr[v + 1]):
        row = sketch_row[in_indices[e]]
        if row >= 0:
            for t in range(k):
                h = sketches[row, t]
                if size == k and h >= sketch[k - 1]:
                    break
                size = _insert(sketch, size, k, h)
    for e in range(in_indptr[v], in_indptr[v + 1]):
        u = in_indices[e]
        if u != v:
            size = _insert(sketch, size, k, hashes[u])
        if sketch_row[u] < 0:
            for f in range(in_indptr[u], in_indptr[u + 1]):
                w = in_indices[f]
                if w != v:
                    size = _insert(sketch, size, k, hashes[w])
    # precomputed sketches may hold v itself (when v attends one of its audience)
    own = hashes[v]
    removed = False
    for t in range(size):
        if sketch[t] == own:
            for s in range(t, size - 1):
                sketch[s] = sketch[s + 1]
            removed = True
            break
    if size < k:
        return size - 1 if removed else size
    if removed:
        return (k - 2) / ((float(sketch[k - 2]) + 1.0) * _SCALE)
    return (k - 1) / ((float(sketch[k - 1]) + 1.0) * _SCALE)


@nb.njit(nogil=True, cache=True)
def _two_hop_rows(in_indptr, in_indices, hashes, sketch_row, sketches, k, exact_budget, distinct, paths, exact,
                  n_chunks, first, step):
    """Chunks ``first, first + step, ...`` of :func:`two_hop_audience`; chunk ``c`` holds the
    accounts ``c, c + n_chunks, ...`` (interleaved, so that large accounts spread evenly)."""
    n = in_indptr.shape[0] - 1
    marker = np.zeros(n, np.uint8)
    touched = np.empty(max(1, exact_budget), np.int32)
    sketch = np.empty(k, np.uint64)
    for c in range(first, n_chunks, step):
        for v in range(c, n, n_chunks):
            total = in_indptr[v + 1] - in_indptr[v]
            for e in range(in_indptr[v], in_indptr[v + 1]):
                u = in_indices[e]
                total += in_indptr[u + 1] - in_indptr[u]
            paths[v] = total
            if total == 0:
                continue
            if total <= exact_budget:
                distinct[v] = _exact_two_hop(in_indptr, in_indices, v, marker, touched)
            else:
                exact[v] = False
                distinct[v] = _sketch_two_hop(in_indptr, in_indices, hashes, sketch_row, sketches, k, v, sketch)


def two_hop_audience(in_indptr, in_indices, hashes, sketch_row, sketches, k, exact_budget, n_chunks):
    """Distinct two-hop audience of every account, and the paths that reach it.

    Parameters
    ----------
    in_indptr, in_indices
        In-edge CSR (row ``v`` lists the accounts attending to ``v``), sorted rows.
    hashes
        uint64[n] from :func:`account_hashes`.
    sketch_row, sketches
        ``sketch_row[u]`` is the row of ``u`` in ``sketches`` (from :func:`bottom_k_sketches`),
        or -1 for accounts with at most ``k`` in-neighbours.
    k
        Sketch size.
    exact_budget
        Accounts whose two-hop path count is at most this are counted exactly.
    n_chunks
        Parallel chunks. Chunk ``c`` takes the accounts ``c, c + n_chunks, ...`` (interleaved,
        so large accounts spread over the chunks); every account is computed on its own, so the
        result does not depend on ``n_chunks``. Each thread keeps an ``n``-byte marker array.

    Returns
    -------
    distinct : float64[n]
        ``|A(v) ∪ ⋃_{u in A(v)} A(u)| - [v in that set]``, exact or estimated.
    paths : float64[n]
        ``|A(v)| + sum_{u in A(v)} |A(u)|``: the same people counted once per path (v included).
    exact : bool[n]
        Whether ``distinct`` was counted exactly.
    """
    in_indptr = as_indptr(in_indptr)
    n = in_indptr.shape[0] - 1
    distinct = np.zeros(n, np.float64)
    paths = np.zeros(n, np.float64)
    exact = np.ones(n, np.bool_)
    n_chunks = max(1, int(n_chunks))
    run_chunks(_two_hop_rows, n_chunks, in_indptr, as_indices(in_indices), as_input(hashes, np.uint64),
               as_input(sketch_row, np.int64), as_input(sketches, np.uint64), int(k), int(exact_budget), distinct,
               paths, exact, n_chunks)
    return distinct, paths, exact
