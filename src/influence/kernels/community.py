"""Community detection by weighted label propagation (Raghavan, Albert & Kumara 2007)."""

from __future__ import annotations

import numba as nb
import numpy as np

from .hashing import mix64 as _mix
from .csr import as_indices, as_indptr, row_chunks, run_chunks


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


@nb.njit(cache=True)
def label_propagation(out_indptr, out_indices, out_data, in_indptr, in_indices, in_data, order, label_key,
                      max_sweeps):
    """Asynchronous weighted label propagation over the undirected version of a layer.

    Every account starts in its own community; in each sweep the accounts, visited in
    ``order``, take the label with the largest total edge weight among their in- and
    out-neighbours (ties: keep the current label if it is among the best, else the label whose
    ``label_key`` (the key of the account that started it) is smallest, then the smallest
    label). Stops when a sweep changes no label or after ``max_sweeps``. With ``order`` and
    ``label_key`` derived from :func:`structural_colours`, relabelling the accounts permutes the
    result (up to symmetric ties).

    Returns
    -------
    labels : int64[n]
        Community labels, renumbered 0..k-1 in order of first appearance by account index.
    n_sweeps : int
    changed : int
        Labels changed in the last sweep (0 when converged).
    """
    n = out_indptr.shape[0] - 1
    labels = np.arange(n).astype(np.int64)
    score = np.zeros(n, np.float64)
    touched = np.empty(n, np.int64)
    n_sweeps = 0
    changed = 0
    for sweep in range(max_sweeps):
        changed = 0
        for k in range(n):
            v = order[k]
            n_touched = 0
            for e in range(out_indptr[v], out_indptr[v + 1]):
                lab = labels[out_indices[e]]
                if score[lab] == 0.0:
                    touched[n_touched] = lab
                    n_touched += 1
                score[lab] += out_data[e] + 1e-12
            for e in range(in_indptr[v], in_indptr[v + 1]):
                lab = labels[in_indices[e]]
                if score[lab] == 0.0:
                    touched[n_touched] = lab
                    n_touched += 1
                score[lab] += in_data[e] + 1e-12
            if n_touched == 0:
                continue
            current = labels[v]
            best_label = current
            best_score = score[current]
            for t in range(n_touched):
                lab = touched[t]
                s = score[lab]
                if s > best_score:
                    best_score = s
                    best_label = lab
                elif s == best_score and best_label != current and (
                    label_key[lab] < label_key[best_label]
                    or (label_key[lab] == label_key[best_label] and lab < best_label)
                ):
                    best_label = lab
            for t in range(n_touched):
                score[touched[t]] = 0.0
            if best_label != labels[v]:
                labels[v] = best_label
                changed += 1
        n_sweeps = sweep + 1
        if changed == 0:
            break
    remap = np.full(n, -1, np.int64)
    next_label = 0
    for v in range(n):
        lab = labels[v]
        if remap[lab] == -1:
            remap[lab] = next_label
            next_label += 1
        labels[v] = remap[lab]
    return labels, n_sweeps, changed
