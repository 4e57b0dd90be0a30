"""Propagation over in-edge CSR layers (pull style: each target row reads its sources).

Edge ``u -> v`` means ``u`` pays attention to ``v``. Rank mass (PageRank, TrustRank) flows
along the edge and credits ``v``, the account attended to; a post travels against it (a post
of ``v`` reaches ``u``). Both are computed by pulling over the in-edge CSR of ``v``.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def edge_balanced_chunks(indptr, n_chunks):
    """int64[n_chunks + 1] row boundaries splitting rows so each chunk has about the same
    ``edges + rows`` (the cost of a pull over the chunk). Depends only on ``indptr`` and
    ``n_chunks``, never on the thread count, so per-chunk partial sums are reproducible."""
    n = indptr.shape[0] - 1
    bounds = np.empty(n_chunks + 1, np.int64)
    total = indptr[n] + n
    bounds[0] = 0
    v = 0
    for c in range(1, n_chunks):
        target = (total * c) // n_chunks
        while v < n and indptr[v] + v < target:
            v += 1
        bounds[c] = v
    bounds[n_chunks] = n
    return bounds


@nb.njit(cache=True)
def _pull_chunk(in_indptr, sources, in_data, inv_out_strength, teleport, damping, base, scale, y, scaled,
                scaled_next, part, c, lo, hi):
    """One power-iteration step over rows ``lo:hi``; chunk sums go to ``part[c]``."""
    res = 0.0
    tot = 0.0
    dang = 0.0
    for v in range(lo, hi):
        acc = 0.0
        for e in range(np.uint64(in_indptr[v]), np.uint64(in_indptr[v + 1])):
            acc += scaled[sources[e]] * in_data[e]
        x = damping * acc * scale + base * teleport[v]
        res += abs(x - y[v] * scale)
        tot += x
        y[v] = x
        scaled_next[v] = x * inv_out_strength[v]
        if inv_out_strength[v] == 0.0:
            dang += x
    part[c, 0] = res
    part[c, 1] = tot
    part[c, 2] = dang


@nb.njit(parallel=True, cache=True)
def weighted_pagerank(in_indptr, in_indices, in_data, inv_out_strength, teleport, damping, tol, max_iter):
    """Weighted PageRank by power iteration, pulling along in-edges.

    Parameters
    ----------
    in_indptr, in_indices, in_data
        In-edge CSR: row ``v`` lists every ``u`` with an edge ``u -> v`` and its weight.
    inv_out_strength
        float64[n]: ``1 / sum of u's out-edge weights``, 0 for accounts with no out-edge
        (dangling: their mass is redistributed along ``teleport``).
    teleport
        float64[n], sums to 1: the restart distribution (uniform for PageRank, seed-weighted
        for TrustRank / personalised PageRank).
    damping
        Probability of following an edge, in (0, 1).
    tol
        Stop when the L1 change of the rank vector is below ``tol``.
    max_iter
        Iteration cap.

    Returns
    -------
    rank : float64[n], sums to 1
    n_iter : int
    residual : float
        L1 change of the last iteration.

    Notes
    -----
    ``r'(v) = damping * sum_{u -> v} r(u) w(u, v) / W(u) + (damping * D + 1 - damping) t(v)``
    where ``W(u)`` is ``u``'s out-strength and ``D`` the rank held by dangling accounts.

    Every O(n) step runs in parallel over a fixed number of edge-balanced row chunks
    (:func:`edge_balanced_chunks`); the sums (dangling mass, L1 change, total) are taken per
    chunk and the chunk sums added in chunk order, so the result is bitwise the same for any
    thread count. Column indices are read as unsigned 32-bit (no negative-index fix-ups).
    """
    n = in_indptr.shape[0] - 1
    n_chunks = max(1, min(256, n // 2048))
    bounds = edge_balanced_chunks(in_indptr, n_chunks)
    sources = in_indices.view(np.uint32)
    # ``y`` is the rank vector before normalisation and ``total`` its sum, so the rank is
    # ``y / total``; ``scaled`` holds ``y * inv_out_strength`` of the previous iteration and
    # ``scaled_next`` receives this iteration's (others still read ``scaled`` meanwhile). One
    # parallel region per iteration: normalising is folded into the next iteration's pull.
    y = teleport.copy()
    scaled = y * inv_out_strength
    scaled_next = np.empty(n, np.float64)
    part = np.zeros((n_chunks, 3), np.float64)
    dangling = 0.0
    for u in range(n):
        if inv_out_strength[u] == 0.0:
            dangling += y[u]
    total = 1.0
    residual = np.inf
    n_iter = 0
    for it in range(max_iter):
        scale = 1.0 / total
        base = damping * dangling * scale + (1.0 - damping)
        for c in nb.prange(n_chunks):
            _pull_chunk(in_indptr, sources, in_data, inv_out_strength, teleport, damping, base, scale, y, scaled,
                        scaled_next, part, c, bounds[c], bounds[c + 1])
        residual = 0.0
        total = 0.0
        dangling = 0.0
        for c in range(n_chunks):
            residual += part[c, 0]
            total += part[c, 1]
            dangling += part[c, 2]
        scaled, scaled_next = scaled_next, scaled
        n_iter = it + 1
        if residual < tol:
            break
    rank = np.empty(n, np.float64)
    for v in range(n):
        rank[v] = y[v] / total
    return rank, n_iter, residual


@nb.njit(parallel=True, cache=True)
def expected_exposures(in_indptr, in_indices, pass_on, depth):
    """Expected number of exposures of a post within ``depth`` hops of resharing.

    A post of ``v`` is seen by every ``u`` with an edge ``u -> v`` (its audience); each
    viewer ``u`` passes it on to its own audience with probability ``pass_on[u]``, and so on.

    Returns float64[n]: ``s_depth`` where ``s_0 = 0`` and
    ``s_k(v) = sum_{u -> v} (1 + pass_on[u] * s_{k-1}(u))``.

    Notes
    -----
    This is the expected size of an independent cascade truncated at ``depth`` hops when
    different paths reach different people; overlapping paths are counted once per path, so
    it is an upper bound of the distinct spread (exact on trees).
    """
    n = in_indptr.shape[0] - 1
    prev = np.zeros(n, np.float64)
    cur = np.zeros(n, np.float64)
    for _ in range(depth):
        for v in nb.prange(n):
            acc = 0.0
            for e in range(in_indptr[v], in_indptr[v + 1]):
                u = in_indices[e]
                acc += 1.0 + pass_on[u] * prev[u]
            cur[v] = acc
        prev, cur = cur, prev
    return prev


@nb.njit(parallel=True, cache=True)
def expected_exposures_observed(in_indptr, in_indices, reshare_indptr, reshare_indices, reshare_data,
                                pass_on, prior_strength, depth):
    """:func:`expected_exposures` with pass-on probabilities per edge, from observed reshares.

    For the edge ``u -> v`` (``u`` attends to ``v``), ``u`` passes on a post of ``v`` with
    probability ``1 - exp(-(r_uv + k * pass_on[u]) / (1 + k))``, where ``r_uv`` is how many times
    ``u`` reshared ``v`` (the reshare CSR's in-row of ``v``, sorted like ``in_indices``) and
    ``k = prior_strength``: an account's general propensity is the prior, each observed reshare
    of this very account is evidence on top of it. With no reshare the probability is close to
    ``k / (1 + k) * pass_on[u]``.

    Returns float64[n], ``s_depth`` of the recursion ``s_k(v) = sum_{u -> v} (1 + p_uv s_{k-1}(u))``.
    """
    n = in_indptr.shape[0] - 1
    sources = in_indices.view(np.uint32)
    prev = np.zeros(n, np.float64)
    cur = np.zeros(n, np.float64)
    if depth <= 0:
        return prev
    # Hop 1 needs no probability (s_0 = 0): s_1(v) is the in-degree.
    for v in nb.prange(n):
        acc = 0.0
        for e in range(in_indptr[v], in_indptr[v + 1]):
            acc += 1.0
        prev[v] = acc
    if depth == 1:
        return prev
    # An edge without an observed reshare has the probability of its source alone: computed
    # once per account (the same expression with ``observed = 0.0``, so bitwise the same), and
    # only the few edges with reshares evaluate ``exp``. Nothing is stored per edge.
    source_p = np.empty(n, np.float64)
    for u in nb.prange(n):
        source_p[u] = 1.0 - np.exp(-(0.0 + prior_strength * pass_on[u]) / (1.0 + prior_strength))
    for _ in range(depth - 1):
        for v in nb.prange(n):
            j, j_end = reshare_indptr[v], reshare_indptr[v + 1]
            acc = 0.0
            for e in range(np.uint64(in_indptr[v]), np.uint64(in_indptr[v + 1])):
                u = sources[e]
                p = source_p[u]
                if j < j_end:
                    while j < j_end and reshare_indices[j] < u:
                        j += 1
                    if j < j_end and reshare_indices[j] == u:
                        p = 1.0 - np.exp(-(reshare_data[j] + prior_strength * pass_on[u]) / (1.0 + prior_strength))
                acc += 1.0 + p * prev[u]
            cur[v] = acc
        prev, cur = cur, prev
    return prev
