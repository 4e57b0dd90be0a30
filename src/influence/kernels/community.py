"""Community detection: multi-level Louvain modularity optimisation (Blondel et al. 2008).

:func:`structural_colours` gives every account a seeded colour that depends only on its
neighbourhood; the wrapper (``scores/community.py``) numbers the accounts by colour, builds the
undirected adjacency in that numbering (:func:`symmetric_adjacency`) and runs :func:`louvain`,
which visits nodes in index order and breaks ties by the smallest community id, so the partition
depends on the graph and the seed, not on how accounts are numbered. Single-threaded.

References: V. D. Blondel, J.-L. Guillaume, R. Lambiotte, E. Lefebvre, "Fast unfolding of
communities in large networks", J. Stat. Mech. (2008) P10008; M. E. J. Newman, "Modularity and
community structure in networks", PNAS 103 (2006).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .hashing import mix64 as _mix
from .csr import as_indices, as_indptr, as_input, row_chunks, run_chunks


@nb.njit(nogil=True, cache=True)
def _colour_round(out_indptr, out_indices, in_indptr, in_indices, base, colour, new, bounds, first, step):
    """One Weisfeiler-Lehman round over the chunks' accounts (the first when ``colour`` is empty)."""
    for c in range(first, bounds.shape[0] - 1, step):
        for v in range(bounds[c], bounds[c + 1]):
            if colour.shape[0] == 0:
                deg = (np.uint64(out_indptr[v + 1] - out_indptr[v]) << np.uint64(32)) ^ np.uint64(
                    in_indptr[v + 1] - in_indptr[v])
                new[v] = _mix(base ^ _mix(deg))
                continue
            acc_out = np.uint64(0)
            for e in range(out_indptr[v], out_indptr[v + 1]):
                acc_out += _mix(colour[out_indices[e]] ^ np.uint64(0x5851F42D4C957F2D))
            acc_in = np.uint64(0)
            for e in range(in_indptr[v], in_indptr[v + 1]):
                acc_in += _mix(colour[in_indices[e]] ^ np.uint64(0x14057B7EF767814F))
            new[v] = _mix(colour[v] ^ _mix(acc_out) ^ _mix(acc_in + np.uint64(0x2545F4914F6CDD1D)))


def structural_colours(out_indptr, out_indices, in_indptr, in_indices, seed, rounds):
    """uint64[n] colours that depend only on an account's neighbourhood, never on its index.

    Weisfeiler-Lehman refinement with commutative (summed) neighbour hashes: start from
    ``(seed, in-degree, out-degree)`` and mix in the colours of out- and in-neighbours for
    ``rounds`` rounds. Relabelling the accounts permutes the colours; two accounts share a
    colour only when their ``rounds``-hop neighbourhoods look alike (or by a 2**-64 collision).
    """
    out_indptr, out_indices = as_indptr(out_indptr), as_indices(out_indices)
    in_indptr, in_indices = as_indptr(in_indptr), as_indices(in_indices)
    n = out_indptr.shape[0] - 1
    base = _mix_seed(seed)
    bounds = row_chunks(in_indptr)
    colour = np.empty(n, np.uint64)
    run_chunks(_colour_round, bounds.shape[0] - 1, out_indptr, out_indices, in_indptr, in_indices, base,
               np.zeros(0, np.uint64), colour, bounds)
    for _ in range(rounds):
        new = np.empty(n, np.uint64)
        run_chunks(_colour_round, bounds.shape[0] - 1, out_indptr, out_indices, in_indptr, in_indices, base, colour,
                   new, bounds)
        colour = new
    return colour


def _mix_seed(seed: int) -> np.uint64:
    """``_mix(np.uint64(seed))`` in Python integers (arithmetic modulo 2**64)."""
    mask = (1 << 64) - 1
    z = ((int(seed) & mask) + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return np.uint64(z ^ (z >> 31))


# ---------------------------------------------------------------------------------------------
# Louvain modularity optimisation (Blondel, Guillaume, Lambiotte & Lefebvre 2008)
# ---------------------------------------------------------------------------------------------


def symmetric_adjacency(out_indptr, out_indices, out_data, in_indptr, in_indices, in_data, position):
    """The undirected version of a layer, with account ``v`` renumbered ``position[v]``.

    Row ``position[v]`` lists every out- and in-neighbour of ``v`` (renumbered) with the weight of
    that edge; a reciprocal pair appears twice in each row, once per direction, so the row sums
    to ``v``'s total (in + out) strength and the adjacency is symmetric (the weight of ``{u, v}``
    is ``w(u -> v) + w(v -> u)``). Self-loops are dropped.

    Returns ``(indptr int64[n + 1], indices int32[nnz], data float64[nnz])``.
    """
    return _symmetric_adjacency(
        as_indptr(out_indptr), as_indices(out_indices), as_input(out_data, np.float64),
        as_indptr(in_indptr), as_indices(in_indices), as_input(in_data, np.float64), as_input(position, np.int64),
    )


@nb.njit(inline="always")
def _append_row(v, row_indptr, row_indices, row_data, position, indices, data, k):
    """Append row ``v`` of a CSR (self-loop dropped, neighbours renumbered by ``position``) at
    ``indices[k:]``/``data[k:]``; returns the next free slot."""
    for e in range(row_indptr[v], row_indptr[v + 1]):
        u = row_indices[e]
        if u != v:
            indices[k] = position[u]
            data[k] = row_data[e]
            k += 1
    return k


@nb.njit(nogil=True, cache=True)
def _symmetric_adjacency(out_indptr, out_indices, out_data, in_indptr, in_indices, in_data, position):
    n = out_indptr.shape[0] - 1
    indptr = np.zeros(n + 1, np.int64)
    for v in range(n):
        indptr[position[v] + 1] = (out_indptr[v + 1] - out_indptr[v]) + (in_indptr[v + 1] - in_indptr[v])
    for p in range(n):
        indptr[p + 1] += indptr[p]
    indices = np.empty(indptr[n], np.int32)
    data = np.empty(indptr[n], np.float64)
    fill = indptr[:-1].copy()
    for v in range(n):
        p = position[v]
        k = _append_row(v, out_indptr, out_indices, out_data, position, indices, data, fill[p])
        fill[p] = _append_row(v, in_indptr, in_indices, in_data, position, indices, data, k)
    # squeeze out the dropped self-loops (rows were sized for them); k <= start, so in place
    k = 0
    for p in range(n):
        start, end = indptr[p], fill[p]
        indptr[p] = k
        for e in range(start, end):
            indices[k] = indices[e]
            data[k] = data[e]
            k += 1
    indptr[n] = k
    return indptr, indices[:k].copy(), data[:k].copy()


@nb.njit(nogil=True, cache=True)
def _move_nodes(indptr, indices, data, strength, community, total, m2, resolution, max_sweeps, tol):
    """Louvain's local moving phase, in node order 0..n-1, in place on ``community``/``total``.

    Each node joins the neighbouring community (or its own) with the largest modularity gain
    ``w(v, c) - resolution * total[c] * strength[v] / m2``; ties keep the current community, else
    go to the smallest community id. After the first sweep only *active* nodes are visited: a
    node becomes inactive when visited, and a move re-activates the mover's neighbours outside
    its new community (the pruning of Ozaki, Tezuka & Inaba 2016, the fast local move of Leiden,
    Traag et al. 2019; kept as flags swept in node order rather than a queue, so the result does
    not depend on the order of a row's neighbours). A move also changes ``total`` of the two
    communities, which can change the best move of nodes that are not the mover's neighbours,
    so when a pruned sweep leaves nobody active, or gains less than ``tol``, the next sweep
    visits every node again; the phase stops after a *full* sweep that moves nobody or gains
    less than ``tol`` modularity (with ``tol = 0``: a local optimum, no node can gain by moving
    alone), or after ``max_sweeps``. Returns ``(sweeps, moved in the last sweep)``.
    """
    n = indptr.shape[0] - 1
    weight_to = np.zeros(n, np.float64)
    seen = np.zeros(n, np.bool_)
    touched = np.empty(n, np.int64)
    active = np.ones(n, np.bool_)
    n_active = n
    sweeps = 0
    moved = 0
    for sweep in range(max_sweeps):
        full = n_active == n
        moved = 0
        gained = 0.0
        for v in range(n):
            if not active[v]:
                continue
            active[v] = False
            n_active -= 1
            k_v = strength[v]
            if k_v <= 0.0:
                continue
            current = community[v]
            n_touched = 0
            for e in range(indptr[v], indptr[v + 1]):
                c = community[indices[e]]
                if not seen[c]:
                    seen[c] = True
                    touched[n_touched] = c
                    n_touched += 1
                weight_to[c] += data[e]
            total[current] -= k_v
            scale = resolution * k_v / m2
            best = current
            best_gain = weight_to[current] - total[current] * scale
            stay_gain = best_gain
            for t in range(n_touched):
                c = touched[t]
                gain = weight_to[c] - total[c] * scale
                if gain > best_gain or (gain == best_gain and best != current and c < best):
                    best = c
                    best_gain = gain
            for t in range(n_touched):
                c = touched[t]
                weight_to[c] = 0.0
                seen[c] = False
            if best != current and best_gain - stay_gain > 1e-12 * k_v:
                community[v] = best
                moved += 1
                gained += 2.0 * (best_gain - stay_gain) / m2
                for e in range(indptr[v], indptr[v + 1]):
                    u = indices[e]
                    if not active[u] and community[u] != best:
                        active[u] = True
                        n_active += 1
            else:
                best = current
            total[best] += k_v
        sweeps = sweep + 1
        if moved == 0 or gained < tol:
            if full:
                break
            active[:] = True  # confirm with a full sweep
            n_active = n
        elif n_active == 0:
            active[:] = True
            n_active = n
    return sweeps, moved


@nb.njit(nogil=True, cache=True)
def renumber_by_first_appearance(community):
    """Community ids renumbered 0..k-1 by first appearance in node order; returns ``(ids, k)``."""
    n = community.shape[0]
    remap = np.full(n, -1, np.int64)
    out = np.empty(n, np.int64)
    k = 0
    for v in range(n):
        c = community[v]
        if remap[c] == -1:
            remap[c] = k
            k += 1
        out[v] = remap[c]
    return out, k


@nb.njit(nogil=True, cache=True)
def _aggregate(indptr, indices, data, strength, community, k):
    """The graph of communities: one node per community (ids 0..k-1), edge weights summed,
    internal edges dropped (they stay in the strengths, which are summed too)."""
    n = indptr.shape[0] - 1
    count = np.zeros(k + 1, np.int64)
    for v in range(n):
        count[community[v] + 1] += 1
    for c in range(k):
        count[c + 1] += count[c]
    members = np.empty(n, np.int64)
    fill = count[:-1].copy()
    for v in range(n):  # members of each community in node order
        c = community[v]
        members[fill[c]] = v
        fill[c] += 1
    new_strength = np.zeros(k, np.float64)
    new_indptr = np.zeros(k + 1, np.int64)
    new_indices = np.empty(indices.shape[0], np.int32)
    new_data = np.empty(indices.shape[0], np.float64)
    weight_to = np.zeros(k, np.float64)
    seen = np.zeros(k, np.bool_)
    touched = np.empty(k, np.int64)
    nnz = 0
    for c in range(k):
        n_touched = 0
        for i in range(count[c], count[c + 1]):
            v = members[i]
            new_strength[c] += strength[v]
            for e in range(indptr[v], indptr[v + 1]):
                d = community[indices[e]]
                if d == c:
                    continue
                if not seen[d]:
                    seen[d] = True
                    touched[n_touched] = d
                    n_touched += 1
                weight_to[d] += data[e]
        touched[:n_touched].sort()
        for t in range(n_touched):
            d = touched[t]
            new_indices[nnz] = d
            new_data[nnz] = weight_to[d]
            nnz += 1
            weight_to[d] = 0.0
            seen[d] = False
        new_indptr[c + 1] = nnz
    return new_indptr, new_indices[:nnz].copy(), new_data[:nnz].copy(), new_strength


@nb.njit(nogil=True, cache=True)
def modularity(indptr, indices, data, community, resolution):
    """Newman-Girvan modularity of ``community`` on a symmetric adjacency (self-loops absent)."""
    n = indptr.shape[0] - 1
    k = 0
    for v in range(n):
        k = max(k, community[v] + 1)
    inside = np.zeros(k, np.float64)
    total = np.zeros(k, np.float64)
    m2 = 0.0
    for v in range(n):
        for e in range(indptr[v], indptr[v + 1]):
            total[community[v]] += data[e]
            m2 += data[e]
            if community[indices[e]] == community[v]:
                inside[community[v]] += data[e]
    if m2 <= 0.0:
        return 0.0
    q = 0.0
    for c in range(k):
        q += inside[c] / m2 - resolution * (total[c] / m2) ** 2
    return q


@nb.njit(nogil=True, cache=True)
def louvain(indptr, indices, data, resolution, max_levels, max_sweeps, tol):
    """Multi-level Louvain on a symmetric adjacency, deterministic in node order.

    Level by level: local moving (:func:`_move_nodes`, nodes visited 0..n-1, ties to the smallest
    community id), then every community becomes one node of the next level, numbered by its first
    member in node order. Stops when a level merges nothing, or after ``max_levels``. The result
    depends only on the adjacency and the node numbering, so with nodes numbered by a
    relabelling-invariant order (:func:`symmetric_adjacency`) it permutes with the accounts.

    Returns
    -------
    community : int64[n]
        Community of each node, renumbered 0..k-1 by first appearance in node order.
    first_level : int64[n]
        The finer communities of the first level's local moving alone (the bottom of the
        dendrogram), numbered the same way.
    n_levels, n_sweeps : int
        Levels run and local-moving sweeps over all levels.
    converged : bool
        False when a level's local moving stopped at ``max_sweeps`` still moving nodes.
    """
    n = indptr.shape[0] - 1
    strength = np.zeros(n, np.float64)
    m2 = 0.0
    for v in range(n):
        for e in range(indptr[v], indptr[v + 1]):
            strength[v] += data[e]
        m2 += strength[v]
    assignment = np.arange(n).astype(np.int64)
    if n == 0 or m2 <= 0.0:
        return assignment, assignment.copy(), 0, 0, True
    first_level = assignment
    n_levels = 0
    n_sweeps = 0
    converged = True
    for level in range(max_levels):
        size = indptr.shape[0] - 1
        community = np.arange(size).astype(np.int64)
        total = strength.copy()
        sweeps, moved = _move_nodes(indptr, indices, data, strength, community, total, m2, resolution,
                                    max_sweeps, tol)
        n_sweeps += sweeps
        n_levels = level + 1
        if sweeps == max_sweeps and moved > 0:
            converged = False
        community, k = renumber_by_first_appearance(community)
        for v in range(n):
            assignment[v] = community[assignment[v]]
        if level == 0:
            first_level = assignment.copy()
        if k == size:
            break
        indptr, indices, data, strength = _aggregate(indptr, indices, data, strength, community, k)
    return assignment, first_level, n_levels, n_sweeps, converged
