"""Per-account statistics over in-neighbourhoods (who pays attention to an account).

Each kernel is a Python wrapper that converts its inputs once and runs a ``nogil`` numba chunk
function on threads (:func:`~influence.kernels.csr.run_chunks`); rows are independent, so the
results do not depend on the chunks or the thread count.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .csr import (
    _sort_values, as_indices, as_indptr, as_input, float_array, longest_row_of_chunks, row_chunks, run_chunks,
)


@nb.njit(nogil=True, cache=True)
def _row_sums(indptr, data, out, bounds, first, step):
    for c in range(first, bounds.shape[0] - 1, step):
        for r in range(bounds[c], bounds[c + 1]):
            acc = 0.0
            for e in range(indptr[r], indptr[r + 1]):
                acc += data[e]
            out[r] = acc


def row_sums(indptr, data):
    """float64[n]: the sum of each row's weights (in row order, float64)."""
    indptr, data = as_indptr(indptr), float_array(data)
    out = np.zeros(indptr.shape[0] - 1, np.float64)
    bounds = row_chunks(indptr)
    run_chunks(_row_sums, bounds.shape[0] - 1, indptr, data, out, bounds)
    return out


@nb.njit(nogil=True, cache=True)
def _column_sums(indptr, indices, data, out):
    for r in range(indptr.shape[0] - 1):
        for e in range(indptr[r], indptr[r + 1]):
            out[indices[e]] += data[e]


def column_sums(indptr, indices, data, n_cols, out=None):
    """float64[n_cols]: the sum of each column's weights, added in row order.

    For the in-CSR of a layer these are the out-strengths, bitwise equal to the row sums of its
    transpose (whose rows list the same weights in the same, ascending, order). Serial: one pass
    over the entries.

    With ``out`` (float64[n_cols], written in place and returned) the sums continue from its
    values: running the row ranges of a CSR one after another, each on the previous range's
    ``out``, gives bitwise the sums of the whole CSR.
    """
    if out is None:
        out = np.zeros(int(n_cols), np.float64)
    _column_sums(as_indptr(indptr), as_indices(indices), float_array(data), out)
    return out


@nb.njit(nogil=True, cache=True)
def _neighbour_sums(indptr, indices, data, values, weighted, out, bounds, first, step):
    for c in range(first, bounds.shape[0] - 1, step):
        for r in range(bounds[c], bounds[c + 1]):
            acc = 0.0
            if weighted:
                for e in range(indptr[r], indptr[r + 1]):
                    acc += data[e] * values[indices[e]]
            else:
                for e in range(indptr[r], indptr[r + 1]):
                    acc += values[indices[e]]
            out[r] = acc


def neighbour_sums(indptr, indices, data, values, weighted):
    """float64[n]: ``sum_e w_e * values[indices[e]]`` over each row (``w_e = 1`` unless weighted)."""
    indptr, indices, data = as_indptr(indptr), as_indices(indices), float_array(data)
    values = float_array(values)
    out = np.zeros(indptr.shape[0] - 1, np.float64)
    bounds = row_chunks(indptr)
    run_chunks(_neighbour_sums, bounds.shape[0] - 1, indptr, indices, data, values, bool(weighted), out, bounds)
    return out


@nb.njit(nogil=True, cache=True)
def _matched_weight(a_indptr, a_indices, a_data, b_indptr, b_indices, min_weight, weight, count, bounds, first,
                    step):
    for chunk in range(first, bounds.shape[0] - 1, step):
        for r in range(bounds[chunk], bounds[chunk + 1]):
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


def matched_weight(a_indptr, a_indices, a_data, b_indptr, b_indices, min_weight):
    """For each row, the weight and count of ``a``'s entries whose column is also in ``b``'s row.

    Both CSRs must have sorted columns within rows (a linear merge per row). Only entries of
    ``a`` with weight >= ``min_weight`` count.

    Returns ``(weight float64[n], count int64[n])``.
    """
    a_indptr, a_indices, a_data = as_indptr(a_indptr), as_indices(a_indices), float_array(a_data)
    b_indptr, b_indices = as_indptr(b_indptr), as_indices(b_indices)
    n = a_indptr.shape[0] - 1
    weight = np.zeros(n, np.float64)
    count = np.zeros(n, np.int64)
    bounds = row_chunks(a_indptr)
    run_chunks(_matched_weight, bounds.shape[0] - 1, a_indptr, a_indices, a_data, b_indptr, b_indices,
               float(min_weight), weight, count, bounds)
    return weight, count


@nb.njit(nogil=True, cache=True)
def _count_at_least(indptr, data, min_weight, out, bounds, first, step):
    for chunk in range(first, bounds.shape[0] - 1, step):
        for r in range(bounds[chunk], bounds[chunk + 1]):
            c = 0
            for e in range(indptr[r], indptr[r + 1]):
                if data[e] >= min_weight:
                    c += 1
            out[r] = c


def count_at_least(indptr, data, min_weight):
    """int64[n]: how many entries of each row weigh at least ``min_weight``."""
    indptr, data = as_indptr(indptr), float_array(data)
    out = np.zeros(indptr.shape[0] - 1, np.int64)
    bounds = row_chunks(indptr)
    run_chunks(_count_at_least, bounds.shape[0] - 1, indptr, data, float(min_weight), out, bounds)
    return out


@nb.njit(nogil=True, cache=True)
def _label_mix(indptr, indices, data, labels, own_label, n_labels, top_share, own_share, effective, bounds, first,
               step):
    """Rows of the chunks: each label's weight is summed in row order into a dense per-thread
    array, then the row's distinct labels are visited in ascending order (the order of a stable
    sort by label)."""
    acc = np.zeros(n_labels, np.float64)
    seen = np.zeros(n_labels, np.uint8)
    distinct = np.empty(longest_row_of_chunks(indptr, bounds, first, step), np.int64)
    for chunk in range(first, bounds.shape[0] - 1, step):
        for r in range(bounds[chunk], bounds[chunk + 1]):
            start, stop = indptr[r], indptr[r + 1]
            if stop == start:
                continue
            total = 0.0
            for e in range(start, stop):
                total += data[e]
            if total <= 0.0:
                continue
            k = 0
            for e in range(start, stop):
                lab = labels[indices[e]]
                distinct[k] = lab
                k += 1 - seen[lab]
                seen[lab] = 1
                acc[lab] += data[e]
            _sort_values(distinct, np.int64(0), k)
            best = 0.0
            own = 0.0
            entropy = 0.0
            mine = own_label[r]
            for t in range(k):
                lab = distinct[t]
                weight = acc[lab]
                acc[lab] = 0.0
                seen[lab] = 0
                p = weight / total
                if p > 0.0:
                    entropy -= p * np.log(p)
                if weight > best:
                    best = weight
                if lab == mine:
                    own = weight
            top_share[r] = best / total
            own_share[r] = own / total
            effective[r] = np.exp(entropy)


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

    Notes
    -----
    Labels are summed in a dense array per thread; labels that are negative or much larger than
    the number of accounts are first replaced by their rank among the distinct labels (the same
    order, so the same results).
    """
    indptr, indices, data = as_indptr(indptr), as_indices(indices), float_array(data)
    labels = np.asarray(labels)
    own_label = np.asarray(own_label)
    n = indptr.shape[0] - 1
    lo = int(labels.min()) if labels.size else 0
    hi = int(labels.max()) if labels.size else -1
    if lo < 0 or hi >= 4 * labels.size + 1024:
        distinct, labels = np.unique(labels, return_inverse=True)
        pos = np.searchsorted(distinct, own_label)
        found = (pos < distinct.size) & (distinct[np.minimum(pos, max(distinct.size - 1, 0))] == own_label)
        own_label = np.where(found, pos, -1)
        hi = distinct.size - 1
    labels = as_input(labels, np.int64)
    own_label = as_input(own_label, np.int64)
    top_share = np.zeros(n, np.float64)
    own_share = np.zeros(n, np.float64)
    effective = np.zeros(n, np.float64)
    bounds = row_chunks(indptr)
    run_chunks(_label_mix, bounds.shape[0] - 1, indptr, indices, data, labels, own_label, max(hi + 1, 1), top_share,
               own_share, effective, bounds)
    return top_share, own_share, effective


@nb.njit(nogil=True, cache=True)
def _top_label(indptr, indices, data, labels, tie_weight, out, bounds, first, step):
    """Rows of the chunks: the label with the largest summed weight; ties go to the larger
    ``tie_weight``, then to the smaller label."""
    n_labels = tie_weight.shape[0]
    acc = np.zeros(n_labels, np.float64)
    seen = np.zeros(n_labels, np.uint8)
    distinct = np.empty(longest_row_of_chunks(indptr, bounds, first, step), np.int64)
    for chunk in range(first, bounds.shape[0] - 1, step):
        for r in range(bounds[chunk], bounds[chunk + 1]):
            k = 0
            for e in range(indptr[r], indptr[r + 1]):
                lab = labels[indices[e]]
                distinct[k] = lab
                k += 1 - seen[lab]
                seen[lab] = 1
                acc[lab] += data[e]
            best = -1
            for t in range(k):
                lab = distinct[t]
                w = acc[lab]
                if w > 0.0:
                    if best < 0 or w > acc[best] or (
                        w == acc[best] and (tie_weight[lab] > tie_weight[best]
                                            or (tie_weight[lab] == tie_weight[best] and lab < best))
                    ):
                        best = lab
            out[r] = best
            for t in range(k):
                acc[distinct[t]] = 0.0
                seen[distinct[t]] = 0


def top_label(indptr, indices, data, labels, tie_weight):
    """int64[n]: the label (community) holding the largest weight share of each row's neighbours.

    ``labels`` are int64 codes in ``[0, len(tie_weight))``. Among labels with equal weight the one
    with the larger ``tie_weight`` wins, then the smaller code, so the result does not depend on
    the order of neighbours. Rows without positive weight get -1.
    """
    indptr, indices, data = as_indptr(indptr), as_indices(indices), float_array(data)
    labels = as_input(labels, np.int64)
    tie_weight = np.ascontiguousarray(tie_weight, dtype=np.float64)
    n = indptr.shape[0] - 1
    out = np.full(n, -1, np.int64)
    bounds = row_chunks(indptr)
    run_chunks(_top_label, bounds.shape[0] - 1, indptr, indices, data, labels, tie_weight, out, bounds)
    return out


@nb.njit(nogil=True, cache=True)
def _reciprocal_ring(in_indptr, in_indices, in_data, out_indptr, out_indices, weight, partners, closure, n_chunks,
                     first, step):
    n = in_indptr.shape[0] - 1
    chunk = (n + n_chunks - 1) // n_chunks
    marker = np.zeros(n, np.bool_)
    longest = 1
    for c in range(first, n_chunks, step):
        lo = min(n, c * chunk)
        hi = min(n, lo + chunk)
        for v in range(lo, hi):
            longest = max(longest, in_indptr[v + 1] - in_indptr[v])
    buf = np.empty(longest, np.int32)
    for c in range(first, n_chunks, step):
        lo = min(n, c * chunk)
        hi = min(n, lo + chunk)
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


def reciprocal_ring(in_indptr, in_indices, in_data, out_indptr, out_indices, n_chunks):
    """Reciprocal engagement and how closed a ring the reciprocal partners form.

    For account ``v``, its *partners* are the accounts that engage with ``v`` and that ``v``
    engages with in return (in-row intersect out-row). ``closure`` is the share of ordered pairs
    of partners ``(a, b)``, ``a != b``, in which ``a`` engages with ``b``: 1 for a clique (an
    engagement pod), near 0 for partners who do not know each other. Exact for every account:
    each partner's out-row is checked against a marker of ``v``'s partners, so the cost is the
    sum of the partners' out-degrees. Accounts are split into ``n_chunks`` contiguous chunks
    processed in parallel, each thread with its own marker array (``n`` bytes).

    Returns ``(reciprocal_weight float64[n], n_partners int64[n], closure float64[n])``.
    """
    in_indptr, in_indices, in_data = as_indptr(in_indptr), as_indices(in_indices), float_array(in_data)
    out_indptr, out_indices = as_indptr(out_indptr), as_indices(out_indices)
    n = in_indptr.shape[0] - 1
    weight = np.zeros(n, np.float64)
    partners = np.zeros(n, np.int64)
    closure = np.zeros(n, np.float64)
    n_chunks = max(1, int(n_chunks))
    run_chunks(_reciprocal_ring, n_chunks, in_indptr, in_indices, in_data, out_indptr, out_indices, weight, partners,
               closure, n_chunks)
    return weight, partners, closure
