"""Per-account statistics over in-neighbourhoods (who pays attention to an account)."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(parallel=True, cache=True)
def row_sums(indptr, data):
    """float64[n]: the sum of each row's weights."""
    n = indptr.shape[0] - 1
    out = np.zeros(n, np.float64)
    for r in nb.prange(n):
        acc = 0.0
        for e in range(indptr[r], indptr[r + 1]):
            acc += data[e]
        out[r] = acc
    return out


@nb.njit(parallel=True, cache=True)
def neighbour_sums(indptr, indices, data, values, weighted):
    """float64[n]: ``sum_e w_e * values[indices[e]]`` over each row (``w_e = 1`` unless weighted)."""
    n = indptr.shape[0] - 1
    out = np.zeros(n, np.float64)
    for r in nb.prange(n):
        acc = 0.0
        for e in range(indptr[r], indptr[r + 1]):
            if weighted:
                acc += data[e] * values[indices[e]]
            else:
                acc += values[indices[e]]
        out[r] = acc
    return out


@nb.njit(parallel=True, cache=True)
def matched_weight(a_indptr, a_indices, a_data, b_indptr, b_indices, min_weight):
    """For each row, the weight and count of ``a``'s entries whose column is also in ``b``'s row.

    Both CSRs must have sorted columns within rows (a linear merge per row). Only entries of
    ``a`` with weight >= ``min_weight`` count.

    Returns ``(weight float64[n], count int64[n])``.
    """
    n = a_indptr.shape[0] - 1
    weight = np.zeros(n, np.float64)
    count = np.zeros(n, np.int64)
    for r in nb.prange(n):
        i, i_end = a_indptr[r], a_indptr[r + 1]
        j, j_end = b_indptr[r], b_indptr[r + 1]
        w = 0.0
        c = 0
        while i < i_end and j < j_end:
            x = a_indices[i]
            y = b_indices[j]
            if x == y:
                if a_data[i] >= min_weight:
                    w += a_data[i]
                    c += 1
                i += 1
                j += 1
            elif x < y:
                i += 1
            else:
                j += 1
        weight[r] = w
        count[r] = c
    return weight, count


@nb.njit(parallel=True, cache=True)
def count_at_least(indptr, data, min_weight):
    """int64[n]: how many entries of each row weigh at least ``min_weight``."""
    n = indptr.shape[0] - 1
    out = np.zeros(n, np.int64)
    for r in nb.prange(n):
        c = 0
        for e in range(indptr[r], indptr[r + 1]):
            if data[e] >= min_weight:
                c += 1
        out[r] = c
    return out


@nb.njit(parallel=True, cache=True)
def label_mix(indptr, indices, data, labels, own_label):
    """How an account's in-neighbours spread over labels (communities).

    Returns
    -------
    top_share : float64[n]
        Weight share of the most common label among the row's neighbours (0 for empty rows).
    own_share : float64[n]
        Weight share of neighbours whose label equals ``own_label[r]``.
    effective : float64[n]
        ``exp(entropy)`` of the label distribution: the effective number of communities
        the audience comes from (1 = one community; 0 for empty rows).
    """
    n = indptr.shape[0] - 1
    top_share = np.zeros(n, np.float64)
    own_share = np.zeros(n, np.float64)
    effective = np.zeros(n, np.float64)
    for r in nb.prange(n):
        start, stop = indptr[r], indptr[r + 1]
        m = stop - start
        if m == 0:
            continue
        lab = np.empty(m, np.int64)
        w = np.empty(m, np.float64)
        total = 0.0
        for k in range(m):
            lab[k] = labels[indices[start + k]]
            w[k] = data[start + k]
            total += w[k]
        if total <= 0.0:
            continue
        order = np.argsort(lab, kind="mergesort")
        best = 0.0
        own = 0.0
        entropy = 0.0
        i = 0
        while i < m:
            current = lab[order[i]]
            acc = 0.0
            while i < m and lab[order[i]] == current:
                acc += w[order[i]]
                i += 1
            p = acc / total
            if p > 0.0:
                entropy -= p * np.log(p)
            if acc > best:
                best = acc
            if current == own_label[r]:
                own = acc
        top_share[r] = best / total
        own_share[r] = own / total
        effective[r] = np.exp(entropy)
    return top_share, own_share, effective


@nb.njit(parallel=True, cache=True)
def reciprocal_ring(in_indptr, in_indices, in_data, out_indptr, out_indices, n_chunks):
    """Reciprocal engagement and how closed a ring the reciprocal partners form.

    For account ``v``, its *partners* are the accounts that engage with ``v`` and that ``v``
    engages with in return (in-row intersect out-row). ``closure`` is the share of ordered pairs
    of partners ``(a, b)``, ``a != b``, in which ``a`` engages with ``b``: 1 for a clique (an
    engagement pod), near 0 for partners who do not know each other. Exact for every account:
    each partner's out-row is checked against a marker of ``v``'s partners, so the cost is the
    sum of the partners' out-degrees. Accounts are split into ``n_chunks`` contiguous chunks
    processed in parallel, each with its own marker array (``n`` bytes per chunk).

    Returns ``(reciprocal_weight float64[n], n_partners int64[n], closure float64[n])``.
    """
    n = in_indptr.shape[0] - 1
    weight = np.zeros(n, np.float64)
    partners = np.zeros(n, np.int64)
    closure = np.zeros(n, np.float64)
    chunk = (n + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        lo = c * chunk
        hi = min(n, lo + chunk)
        if lo >= hi:
            continue
        marker = np.zeros(n, np.bool_)
        buf = np.empty(max(1, in_indptr[hi] - in_indptr[lo]), np.int32)
        for v in range(lo, hi):
            i, i_end = in_indptr[v], in_indptr[v + 1]
            j, j_end = out_indptr[v], out_indptr[v + 1]
            w = 0.0
            k = 0
            while i < i_end and j < j_end:
                x = in_indices[i]
                y = out_indices[j]
                if x == y:
                    w += in_data[i]
                    buf[k] = x
                    k += 1
                    i += 1
                    j += 1
                elif x < y:
                    i += 1
                else:
                    j += 1
            weight[v] = w
            partners[v] = k
            if k >= 2:
                for t in range(k):
                    marker[buf[t]] = True
                linked = 0
                for t in range(k):
                    a = buf[t]
                    for e in range(out_indptr[a], out_indptr[a + 1]):
                        b = out_indices[e]
                        if b != a and marker[b]:
                            linked += 1
                for t in range(k):
                    marker[buf[t]] = False
                closure[v] = linked / (k * (k - 1.0))
    return weight, partners, closure
