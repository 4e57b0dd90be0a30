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
    rank = teleport.copy()
    scaled = np.empty(n, np.float64)
    new = np.empty(n, np.float64)
    part_a = np.zeros(n_chunks, np.float64)
    part_b = np.zeros(n_chunks, np.float64)
    for c in nb.prange(n_chunks):
        acc = 0.0
        for u in range(bounds[c], bounds[c + 1]):
            scaled[u] = rank[u] * inv_out_strength[u]
            if inv_out_strength[u] == 0.0:
                acc += rank[u]
        part_a[c] = acc
    dangling = 0.0
    for c in range(n_chunks):
        dangling += part_a[c]
    residual = np.inf
    n_iter = 0
    for it in range(max_iter):
        base = damping * dangling + (1.0 - damping)
        for c in nb.prange(n_chunks):
            res = 0.0
            tot = 0.0
            for v in range(bounds[c], bounds[c + 1]):
                acc = 0.0
                for e in range(np.uint64(in_indptr[v]), np.uint64(in_indptr[v + 1])):
                    acc += scaled[sources[e]] * in_data[e]
                x = damping * acc + base * teleport[v]
                new[v] = x
                res += abs(x - rank[v])
                tot += x
            part_a[c] = res
            part_b[c] = tot
        residual = 0.0
        total = 0.0
        for c in range(n_chunks):
            residual += part_a[c]
            total += part_b[c]
        for c in nb.prange(n_chunks):
            acc = 0.0
            for u in range(bounds[c], bounds[c + 1]):
                r = new[u] / total
                rank[u] = r
                scaled[u] = r * inv_out_strength[u]
                if inv_out_strength[u] == 0.0:
                    acc += r
            part_a[c] = acc
        dangling = 0.0
        for c in range(n_chunks):
            dangling += part_a[c]
        n_iter = it + 1
        if residual < tol:
            break
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
    n_edges = in_indices.shape[0]
    edge_p = np.empty(n_edges, np.float64)
    for v in nb.prange(n):
        j, j_end = reshare_indptr[v], reshare_indptr[v + 1]
        for e in range(in_indptr[v], in_indptr[v + 1]):
            u = in_indices[e]
            while j < j_end and reshare_indices[j] < u:
                j += 1
            observed = reshare_data[j] if (j < j_end and reshare_indices[j] == u) else 0.0
            edge_p[e] = 1.0 - np.exp(-(observed + prior_strength * pass_on[u]) / (1.0 + prior_strength))
    prev = np.zeros(n, np.float64)
    cur = np.zeros(n, np.float64)
    for _ in range(depth):
        for v in nb.prange(n):
            acc = 0.0
            for e in range(in_indptr[v], in_indptr[v + 1]):
                acc += 1.0 + edge_p[e] * prev[in_indices[e]]
            cur[v] = acc
        prev, cur = cur, prev
    return prev
