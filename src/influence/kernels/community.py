"""Community detection by weighted label propagation (Raghavan, Albert & Kumara 2007)."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def label_propagation(out_indptr, out_indices, out_data, in_indptr, in_indices, in_data, order, max_sweeps):
    """Asynchronous weighted label propagation over the undirected version of a layer.

    Every account starts in its own community; in each sweep the accounts, visited in
    ``order``, take the label with the largest total edge weight among their in- and
    out-neighbours (ties: keep the current label if it is among the best, else the smallest
    label). Stops when a sweep changes no label or after ``max_sweeps``.

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
            best_label = labels[v]
            best_score = score[best_label]
            for t in range(n_touched):
                lab = touched[t]
                s = score[lab]
                if s > best_score or (s == best_score and lab < best_label and score[labels[v]] < s):
                    best_score = s
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
