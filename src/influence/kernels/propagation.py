"""Propagation over in-edge CSR layers (pull style: each target row reads its sources).

Edge ``u -> v`` means ``u`` pays attention to ``v``. Rank mass (PageRank, TrustRank) flows
along the edge and credits ``v``, the account attended to; a post travels against it (a post
of ``v`` reaches ``u``). Both are computed by pulling over the in-edge CSR of ``v``.

Each kernel is a Python driver over ``nogil`` numba chunk functions run on threads by
:func:`~influence.kernels.csr.run_chunks`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .csr import (
    SplitChunks, as_indices, as_indptr, as_input, edge_balanced_chunks, float_array, row_chunks, run_chunks,
    split_chunks,
)

__all__ = [
    "edge_balanced_chunks",
    "expected_exposures",
    "expected_exposures_observed",
    "weighted_pagerank",
    "weighted_pagerank_pair",
]


# ---------------------------------------------------------------------------------------------
# PageRank
# ---------------------------------------------------------------------------------------------


@nb.njit(nogil=True, cache=True)
def _pagerank_start(teleport, inv_out_strength, y, scaled, column):
    """Column ``column`` of ``y`` and ``scaled`` (``(n, walks)`` arrays) start from ``teleport``:
    ``y = teleport``, ``scaled = y * inv_out_strength``. Returns the dangling mass (the part of
    ``y`` on accounts without out-edges), summed in index order."""
    dangling = 0.0
    for u in range(teleport.shape[0]):
        x = teleport[u]
        y[u, column] = x
        scaled[u, column] = x * inv_out_strength[u]
        if inv_out_strength[u] == 0.0:
            dangling += x
    return dangling


@nb.njit(inline="always")
def _chunk_span(in_indptr, bounds, edge_bounds, long_rows, c):
    """Chunk ``c`` of a pull step: ``(e_end, last, j)``: its last edge (exclusive), the end of
    the rows it visits (one past ``bounds[c + 1]`` when a long row continues into the next
    chunk, whose first blocks this chunk sums) and the position in ``long_rows`` of its first
    long row."""
    n = in_indptr.shape[0] - 1
    v_end = bounds[c + 1]
    e_end = edge_bounds[c + 1]
    last = v_end + 1 if v_end < n and e_end > in_indptr[v_end] else v_end
    return e_end, last, np.searchsorted(long_rows, bounds[c])


@nb.njit(inline="always")
def _settle(v, acc, damping, base, scale, teleport, y, scaled_next, inv_out_strength):
    """Row ``v``'s new value from ``acc``, the rank its in-edges brought (before damping and
    normalisation): writes ``y[v]`` and ``scaled_next[v]``; returns ``(L1 change, new value, new
    value if v is dangling else 0)`` for the caller's chunk sums."""
    x = damping * acc * scale + base * teleport[v]
    change = abs(x - y[v] * scale)
    y[v] = x
    scaled_next[v] = x * inv_out_strength[v]
    return change, x, x if inv_out_strength[v] == 0.0 else 0.0


@nb.njit(inline="always")
def _settle_column(v, j, acc, damping, base, scale, teleport, y, scaled_next, inv_out_strength):
    """:func:`_settle` for walk ``j`` of ``(n, walks)`` arrays."""
    x = damping * acc * scale + base * teleport[v, j]
    change = abs(x - y[v, j] * scale)
    y[v, j] = x
    scaled_next[v, j] = x * inv_out_strength[v]
    return change, x, x if inv_out_strength[v] == 0.0 else 0.0


@nb.njit(nogil=True, cache=True)
def _pull_chunks(in_indptr, sources, in_data, inv_out_strength, teleport, damping, base, scale, y, scaled,
                 scaled_next, part, bounds, edge_bounds, edge_offset, block, long_rows, long_slot, partial, first,
                 step):
    """One power-iteration step over the rows of chunks ``first, first + step, ...``; chunk
    ``c``'s sums (L1 change, total, dangling mass) go to ``part[c]``.

    Chunk ``c`` runs from row ``bounds[c]``, edge ``edge_bounds[c]`` to row ``bounds[c + 1]``,
    edge ``edge_bounds[c + 1]`` (see :func:`~influence.kernels.csr.split_chunks`). A row of at
    most ``block`` in-edges is pulled whole: ``y``, ``scaled_next`` and the chunk's sums. A longer
    row (a hub) is only summed: each of its blocks of ``block`` edges in the chunk writes its sum
    (rank arriving from those in-edges, before damping and normalisation) to ``partial[slot]``,
    where ``slot = long_slot[j] + (block's first edge - row start) // block`` and ``j`` is the
    row's position in ``long_rows``; :func:`_finish_long_rows` completes those rows.

    Edge positions (``in_indptr``, ``edge_bounds``) are global; ``sources`` and ``in_data`` hold
    the edges from position ``edge_offset`` on (0 for a whole layer, the first edge of a group on
    a worker). Row indices and the vectors are local to the rows of ``in_indptr``.
    """
    for c in range(first, bounds.shape[0] - 1, step):
        res = 0.0
        tot = 0.0
        dang = 0.0
        e_end, last, j = _chunk_span(in_indptr, bounds, edge_bounds, long_rows, c)
        for v in range(bounds[c], last):
            start = in_indptr[v]
            stop = in_indptr[v + 1]
            if stop - start > block:
                a = max(start, edge_bounds[c])
                b = min(stop, e_end)
                slot = long_slot[j] + (a - start) // block
                while a < b:
                    z = min(a + block, b)
                    acc = 0.0
                    for e in range(np.uint64(a - edge_offset), np.uint64(z - edge_offset)):
                        acc += scaled[sources[e]] * in_data[e]
                    partial[slot] = acc
                    slot += 1
                    a = z
                j += 1
                continue
            acc = 0.0
            for e in range(np.uint64(start - edge_offset), np.uint64(stop - edge_offset)):
                acc += scaled[sources[e]] * in_data[e]
            change, x, dangling = _settle(v, acc, damping, base, scale, teleport, y, scaled_next, inv_out_strength)
            res += change
            tot += x
            dang += dangling
        part[c, 0] = res
        part[c, 1] = tot
        part[c, 2] = dang


@nb.njit(nogil=True, cache=True)
def _finish_long_rows(rows, block_base, partial, inv_out_strength, teleport, damping, base, scale, y, scaled_next,
                      part, row):
    """Complete the long rows of a :func:`_pull_chunks` step: row ``rows[j]`` adds its block sums
    ``partial[block_base[j]:block_base[j + 1]]`` in block order, then is pulled like a short row;
    their sums (L1 change, total, dangling mass, in row order) go to ``part[row]``. ``rows`` index
    the vectors: the whole layer's, or compact per-hub vectors (``rows = 0 .. L - 1``)."""
    res = 0.0
    tot = 0.0
    dang = 0.0
    for j in range(rows.shape[0]):
        v = rows[j]
        acc = partial[block_base[j]]
        for k in range(block_base[j] + 1, block_base[j + 1]):
            acc += partial[k]
        change, x, dangling = _settle(v, acc, damping, base, scale, teleport, y, scaled_next, inv_out_strength)
        res += change
        tot += x
        dang += dangling
    part[row, 0] = res
    part[row, 1] = tot
    part[row, 2] = dang


@nb.njit(nogil=True, cache=True)
def _pull_pair_chunks(in_indptr, sources, in_data, inv_out_strength, teleport, damping, base0, scale0, base1,
                      scale1, y, scaled, scaled_next, part, bounds, edge_bounds, edge_offset, block, long_rows,
                      long_slot, partial, first, step):
    """:func:`_pull_chunks` for two walks at once over the same edges (``(n, 2)`` arrays: one
    gathered cache line serves both; ``partial`` is ``(blocks, 2)``). Each walk's arithmetic is
    exactly that of :func:`_pull_chunks`; ``part[c, 0:3]`` and ``part[c, 3:6]`` receive its sums."""
    for c in range(first, bounds.shape[0] - 1, step):
        res0 = 0.0
        tot0 = 0.0
        dang0 = 0.0
        res1 = 0.0
        tot1 = 0.0
        dang1 = 0.0
        e_end, last, j = _chunk_span(in_indptr, bounds, edge_bounds, long_rows, c)
        for v in range(bounds[c], last):
            start = in_indptr[v]
            stop = in_indptr[v + 1]
            if stop - start > block:
                a = max(start, edge_bounds[c])
                b = min(stop, e_end)
                slot = long_slot[j] + (a - start) // block
                while a < b:
                    z = min(a + block, b)
                    acc0 = 0.0
                    acc1 = 0.0
                    for e in range(np.uint64(a - edge_offset), np.uint64(z - edge_offset)):
                        u = sources[e]
                        w = in_data[e]
                        acc0 += scaled[u, 0] * w
                        acc1 += scaled[u, 1] * w
                    partial[slot, 0] = acc0
                    partial[slot, 1] = acc1
                    slot += 1
                    a = z
                j += 1
                continue
            acc0 = 0.0
            acc1 = 0.0
            for e in range(np.uint64(start - edge_offset), np.uint64(stop - edge_offset)):
                u = sources[e]
                w = in_data[e]
                acc0 += scaled[u, 0] * w
                acc1 += scaled[u, 1] * w
            change, x, dangling = _settle_column(v, 0, acc0, damping, base0, scale0, teleport, y, scaled_next,
                                                 inv_out_strength)
            res0 += change
            tot0 += x
            dang0 += dangling
            change, x, dangling = _settle_column(v, 1, acc1, damping, base1, scale1, teleport, y, scaled_next,
                                                 inv_out_strength)
            res1 += change
            tot1 += x
            dang1 += dangling
        part[c, 0] = res0
        part[c, 1] = tot0
        part[c, 2] = dang0
        part[c, 3] = res1
        part[c, 4] = tot1
        part[c, 5] = dang1


@nb.njit(nogil=True, cache=True)
def _finish_long_rows_pair(rows, block_base, partial, inv_out_strength, teleport, damping, base0, scale0, base1,
                           scale1, y, scaled_next, part, row):
    """:func:`_finish_long_rows` for the two walks of :func:`_pull_pair_chunks` (``part[row, 0:6]``)."""
    res0 = 0.0
    tot0 = 0.0
    dang0 = 0.0
    res1 = 0.0
    tot1 = 0.0
    dang1 = 0.0
    for j in range(rows.shape[0]):
        v = rows[j]
        acc0 = partial[block_base[j], 0]
        acc1 = partial[block_base[j], 1]
        for k in range(block_base[j] + 1, block_base[j + 1]):
            acc0 += partial[k, 0]
            acc1 += partial[k, 1]
        change, x, dangling = _settle_column(v, 0, acc0, damping, base0, scale0, teleport, y, scaled_next,
                                             inv_out_strength)
        res0 += change
        tot0 += x
        dang0 += dangling
        change, x, dangling = _settle_column(v, 1, acc1, damping, base1, scale1, teleport, y, scaled_next,
                                             inv_out_strength)
        res1 += change
        tot1 += x
        dang1 += dangling
    part[row, 0] = res0
    part[row, 1] = tot0
    part[row, 2] = dang0
    part[row, 3] = res1
    part[row, 4] = tot1
    part[row, 5] = dang1


@nb.njit(nogil=True, cache=True)
def _dangling_from(teleport, inv_out_strength, start):
    total = start
    for u in range(teleport.shape[0]):
        if inv_out_strength[u] == 0.0:
            total += teleport[u]
    return total


def dangling_mass(teleport, inv_out_strength, start=0.0) -> float:
    """``start`` plus the ``teleport`` mass on accounts without out-edges, added in index order.

    Continuing from the previous range's result over consecutive account ranges gives bitwise
    the dangling mass :func:`weighted_pagerank` starts from.
    """
    return float(_dangling_from(as_input(teleport, np.float64), as_input(inv_out_strength, np.float64),
                                float(start)))


def _chunk_sums(part, column):
    """``(residual, total, dangling)`` of walk ``column // 3``: chunk sums added in chunk order."""
    residual = total = dangling = 0.0
    for row in part[:, column:column + 3].tolist():
        residual += row[0]
        total += row[1]
        dangling += row[2]
    return residual, total, dangling


class _Walk:
    """State of one power iteration: see :func:`weighted_pagerank`."""

    def __init__(self, y, scaled, dangling):
        self.y = y  # rank before normalisation (``rank = y / total``)
        self.scaled = scaled  # ``y * inv_out_strength`` of the previous iteration
        self.total = 1.0
        self.dangling = dangling
        self.residual = np.inf
        self.n_iter = 0

    def coefficients(self, damping):
        scale = 1.0 / self.total
        return damping * self.dangling * scale + (1.0 - damping), scale

    def rank(self):
        return self.y / self.total


def pagerank_chunks(in_indptr) -> SplitChunks:
    """The chunks of every PageRank walk over a layer: ``n // 2048`` of them (1 to 256), long
    rows cut into blocks (:func:`~influence.kernels.csr.split_chunks`). Depends only on the
    layer's row pointer, never on the thread or worker count."""
    n = in_indptr.shape[0] - 1
    return split_chunks(in_indptr, max(1, min(256, n // 2048)))


def _pagerank_setup(in_indptr, in_indices, inv_out_strength, teleports):
    n = in_indptr.shape[0] - 1
    chunks = pagerank_chunks(in_indptr)
    sources = in_indices.view(np.uint32)
    k = len(teleports)
    y = np.empty((n, k), np.float64)
    scaled = np.empty((n, k), np.float64)
    danglings = [_pagerank_start(t, inv_out_strength, y, scaled, j) for j, t in enumerate(teleports)]
    return chunks, sources, y, scaled, danglings


def _sum_rows(chunks) -> int:
    """Rows of the per-chunk sums: one per chunk, and one for the long rows if there are any."""
    return chunks.n_chunks + (1 if chunks.long_rows.shape[0] else 0)


def _iterate_single(in_indptr, sources, in_data, inv_out_strength, teleport, damping, tol, max_iter, chunks, walk):
    """Continue ``walk`` (contiguous ``y``/``scaled``) until ``tol`` or ``max_iter`` iterations."""
    n = teleport.shape[0]
    n_chunks = chunks.n_chunks
    part = np.zeros((_sum_rows(chunks), 3), np.float64)
    partial = np.empty(chunks.n_blocks, np.float64)
    scaled_next = np.empty(n, np.float64)
    while walk.n_iter < max_iter:
        base, scale = walk.coefficients(damping)
        run_chunks(_pull_chunks, n_chunks, in_indptr, sources, in_data, inv_out_strength, teleport, damping, base,
                   scale, walk.y, walk.scaled, scaled_next, part, chunks.rows, chunks.edges, 0, chunks.block,
                   chunks.long_rows, chunks.block_base, partial)
        if chunks.long_rows.shape[0]:
            _finish_long_rows(chunks.long_rows, chunks.block_base, partial, inv_out_strength, teleport, damping, base,
                              scale, walk.y, scaled_next, part, n_chunks)
        walk.residual, walk.total, walk.dangling = _chunk_sums(part, 0)
        walk.scaled, scaled_next = scaled_next, walk.scaled
        walk.n_iter += 1
        if walk.residual < tol:
            break
    return walk


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

    ``y`` is the rank vector before normalisation and ``total`` its sum, so the rank is
    ``y / total``: normalising is folded into the next iteration's pull, one parallel pass per
    iteration. Every O(n) step runs over a fixed number of edge-balanced chunks
    (:func:`pagerank_chunks`); the sums (dangling mass, L1 change, total) are taken per chunk
    and the chunk sums added in chunk order, so the result is bitwise the same for any thread
    count. Column indices are read as unsigned 32-bit (no negative-index fix-ups).

    A row with more in-edges than ``block = ceil(edges / chunks)`` (a hub followed by a large
    share of the accounts) is summed in fixed blocks of ``block`` edges, which may lie in
    different chunks; the block sums are added in block order once the chunks are done, and
    the sums of these rows come after the chunk sums. Rows of at most ``block`` edges are summed
    edge after edge in CSR order, so graphs without such rows give the numbers they always did.
    The order depends only on ``in_indptr``: the sharded walk (``backends/sharded.py``) spreads
    a hub's blocks over several workers and gets the same bits.
    """
    in_indptr = as_indptr(in_indptr)
    in_indices = as_indices(in_indices)
    in_data = float_array(in_data)
    inv_out_strength = as_input(inv_out_strength, np.float64)
    teleport = as_input(teleport, np.float64)
    chunks, sources, y, scaled, (dangling,) = _pagerank_setup(in_indptr, in_indices, inv_out_strength, [teleport])
    walk = _Walk(y[:, 0], scaled[:, 0], dangling)
    _iterate_single(in_indptr, sources, in_data, inv_out_strength, teleport, float(damping), tol, max_iter, chunks,
                    walk)
    return walk.rank(), walk.n_iter, walk.residual


def weighted_pagerank_pair(in_indptr, in_indices, in_data, inv_out_strength, teleport_a, teleport_b, damping, tol,
                           max_iter):
    """Two :func:`weighted_pagerank` walks over the same layer, iterated together.

    Both walks read each edge once per iteration (their vectors interleaved, so one gathered
    cache line serves both); a walk that has converged stops, the other goes on alone. Each
    result is bitwise what :func:`weighted_pagerank` returns for its teleport vector.

    Returns ``((rank_a, n_iter_a, residual_a), (rank_b, n_iter_b, residual_b))``.
    """
    in_indptr = as_indptr(in_indptr)
    in_indices = as_indices(in_indices)
    inv_out_strength = as_input(inv_out_strength, np.float64)
    in_data = float_array(in_data)
    teleports = [as_input(t, np.float64) for t in (teleport_a, teleport_b)]
    damping = float(damping)
    n = in_indptr.shape[0] - 1
    chunks, sources, y, scaled, danglings = _pagerank_setup(in_indptr, in_indices, inv_out_strength, teleports)
    walks = [_Walk(y[:, j], scaled[:, j], danglings[j]) for j in range(2)]
    teleport = as_input(np.column_stack(teleports), np.float64)
    n_chunks = chunks.n_chunks
    part = np.zeros((_sum_rows(chunks), 6), np.float64)
    partial = np.empty((chunks.n_blocks, 2), np.float64)
    scaled_next = np.empty((n, 2), np.float64)
    a, b = walks
    while a.n_iter < max_iter and not (a.residual < tol) and not (b.residual < tol):
        base0, scale0 = a.coefficients(damping)
        base1, scale1 = b.coefficients(damping)
        run_chunks(_pull_pair_chunks, n_chunks, in_indptr, sources, in_data, inv_out_strength, teleport, damping,
                   base0, scale0, base1, scale1, y, scaled, scaled_next, part, chunks.rows, chunks.edges, 0,
                   chunks.block, chunks.long_rows, chunks.block_base, partial)
        if chunks.long_rows.shape[0]:
            _finish_long_rows_pair(chunks.long_rows, chunks.block_base, partial, inv_out_strength, teleport, damping,
                                   base0, scale0, base1, scale1, y, scaled_next, part, n_chunks)
        scaled, scaled_next = scaled_next, scaled
        for j, walk in enumerate(walks):
            walk.residual, walk.total, walk.dangling = _chunk_sums(part, 3 * j)
            walk.y, walk.scaled = y[:, j], scaled[:, j]
            walk.n_iter += 1
    for j, walk in enumerate(walks):
        if walk.n_iter < max_iter and not (walk.residual < tol):  # the other one has converged
            walk.y = walk.y.copy()
            walk.scaled = walk.scaled.copy()
            _iterate_single(in_indptr, sources, in_data, inv_out_strength, teleports[j], damping, tol, max_iter,
                            chunks, walk)
    return tuple((walk.rank(), walk.n_iter, walk.residual) for walk in walks)


# ---------------------------------------------------------------------------------------------
# Expected exposures
# ---------------------------------------------------------------------------------------------


@nb.njit(nogil=True, cache=True)
def _exposure_hop(in_indptr, sources, pass_on, prev, cur, bounds, first, step):
    """One hop of :func:`expected_exposures` over the rows of the chunks."""
    for c in range(first, bounds.shape[0] - 1, step):
        for v in range(bounds[c], bounds[c + 1]):
            acc = 0.0
            for e in range(np.uint64(in_indptr[v]), np.uint64(in_indptr[v + 1])):
                u = sources[e]
                acc += 1.0 + pass_on[u] * prev[u]
            cur[v] = acc


def _in_degree_float(in_indptr):
    """float64 in-degrees (exactly ``1.0`` summed once per edge below 2**53)."""
    return np.diff(in_indptr).astype(np.float64)


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
    in_indptr = as_indptr(in_indptr)
    sources = as_indices(in_indices).view(np.uint32)
    pass_on = as_input(pass_on, np.float64)
    n = in_indptr.shape[0] - 1
    prev = np.zeros(n, np.float64)
    cur = np.empty(n, np.float64)
    bounds = row_chunks(in_indptr)
    for _ in range(depth):
        run_chunks(_exposure_hop, bounds.shape[0] - 1, in_indptr, sources, pass_on, prev, cur, bounds)
        prev, cur = cur, prev
    return prev


@nb.njit(nogil=True, cache=True)
def _source_probability(pass_on, prior_strength, out, bounds, first, step):
    """``out[u] = 1 - exp(-(0 + k pass_on[u]) / (1 + k))`` over the chunks' accounts."""
    for c in range(first, bounds.shape[0] - 1, step):
        for u in range(bounds[c], bounds[c + 1]):
            out[u] = 1.0 - np.exp(-(0.0 + prior_strength * pass_on[u]) / (1.0 + prior_strength))


@nb.njit(nogil=True, cache=True)
def _observed_hop(in_indptr, sources, reshare_indptr, reshare_indices, reshare_data, pass_on, prior_strength,
                  source_p, prev, cur, bounds, first, step):
    """One hop (beyond the first) of :func:`expected_exposures_observed` over the chunks' rows."""
    for c in range(first, bounds.shape[0] - 1, step):
        for v in range(bounds[c], bounds[c + 1]):
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

    Notes
    -----
    Hop 1 is the in-degree (``s_0 = 0``). An edge without an observed reshare has the
    probability of its source alone, computed once per account (the same expression with
    ``r_uv = 0``, so bitwise the same); only the edges with reshares evaluate ``exp``. Nothing
    is stored per edge.
    """
    in_indptr = as_indptr(in_indptr)
    sources = as_indices(in_indices).view(np.uint32)
    reshare_indptr = as_indptr(reshare_indptr)
    reshare_indices = as_indices(reshare_indices)
    reshare_data = float_array(reshare_data)
    pass_on = as_input(pass_on, np.float64)
    prior_strength = float(prior_strength)
    n = in_indptr.shape[0] - 1
    if depth <= 0:
        return np.zeros(n, np.float64)
    prev = _in_degree_float(in_indptr)
    if depth == 1:
        return prev
    bounds = row_chunks(in_indptr)
    n_chunks = bounds.shape[0] - 1
    source_p = np.empty(n, np.float64)
    run_chunks(_source_probability, n_chunks, pass_on, prior_strength, source_p, bounds)
    cur = np.empty(n, np.float64)
    for _ in range(depth - 1):
        run_chunks(_observed_hop, n_chunks, in_indptr, sources, reshare_indptr, reshare_indices, reshare_data, pass_on,
                   prior_strength, source_p, prev, cur, bounds)
        prev, cur = cur, prev
    return prev
