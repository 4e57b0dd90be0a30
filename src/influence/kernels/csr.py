"""Building compressed sparse rows from edge lists, and mapping ids to dense indices."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _scatter_by_row(rows, cols, weights, indptr):
    """Stable counting-sort scatter of (cols, weights) into row order."""
    n_edges = rows.shape[0]
    fill = indptr[:-1].copy()
    out_cols = np.empty(n_edges, np.int32)
    out_w = np.empty(n_edges, np.float64)
    for e in range(n_edges):
        r = rows[e]
        pos = fill[r]
        out_cols[pos] = cols[e]
        out_w[pos] = weights[e]
        fill[r] = pos + 1
    return out_cols, out_w


@nb.njit(parallel=True, cache=True)
def _sort_and_merge_rows(indptr, cols, weights):
    """Sort every row by column and merge duplicate columns, summing their weights.

    Equal columns have their weights sorted before summing, so the sum does not depend on
    the order of the input rows. Returns the per-row count after merging; rows are merged
    in place at the start of their segment.
    """
    n_rows = indptr.shape[0] - 1
    counts = np.zeros(n_rows, np.int64)
    for r in nb.prange(n_rows):
        start, stop = indptr[r], indptr[r + 1]
        if stop == start:
            continue
        seg_cols = cols[start:stop]
        seg_w = weights[start:stop]
        order = np.argsort(seg_cols, kind="mergesort")
        sorted_cols = seg_cols[order]
        sorted_w = seg_w[order]
        k = 0
        i = 0
        m = stop - start
        while i < m:
            j = i + 1
            while j < m and sorted_cols[j] == sorted_cols[i]:
                j += 1
            if j - i == 1:
                total = sorted_w[i]
            else:
                run = np.sort(sorted_w[i:j])
                total = 0.0
                for t in range(run.shape[0]):
                    total += run[t]
            cols[start + k] = sorted_cols[i]
            weights[start + k] = total
            k += 1
            i = j
        counts[r] = k
    return counts


@nb.njit(parallel=True, cache=True)
def _compact(indptr, cols, weights, new_indptr):
    n_rows = indptr.shape[0] - 1
    out_cols = np.empty(new_indptr[-1], np.int32)
    out_w = np.empty(new_indptr[-1], np.float32)
    for r in nb.prange(n_rows):
        src = indptr[r]
        dst = new_indptr[r]
        for k in range(new_indptr[r + 1] - dst):
            out_cols[dst + k] = cols[src + k]
            out_w[dst + k] = weights[src + k]
    return out_cols, out_w


def coo_to_csr(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, n_rows: int):
    """Compressed sparse rows from an edge list, duplicates summed, columns sorted per row.

    Parameters
    ----------
    rows, cols
        int32 arrays of equal length, values in ``[0, n_rows)`` and ``[0, n_cols)``.
    weights
        Non-negative edge weights (any float dtype); duplicates (same row and column) are
        summed in float64 and stored as float32.
    n_rows
        Number of rows.

    Returns
    -------
    indptr : int64[n_rows + 1]
    indices : int32[nnz], ascending within each row
    data : float32[nnz]
    """
    rows = np.ascontiguousarray(rows, dtype=np.int32)
    cols = np.ascontiguousarray(cols, dtype=np.int32)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    counts = np.bincount(rows, minlength=n_rows).astype(np.int64)
    indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    sorted_cols, sorted_w = _scatter_by_row(rows, cols, weights, indptr)
    merged = _sort_and_merge_rows(indptr, sorted_cols, sorted_w)
    new_indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(merged, out=new_indptr[1:])
    out_cols, out_w = _compact(indptr, sorted_cols, sorted_w, new_indptr)
    return new_indptr, out_cols, out_w


@nb.njit(cache=True)
def _transpose(indptr, indices, data, n_cols):
    n_rows = indptr.shape[0] - 1
    counts = np.zeros(n_cols + 1, np.int64)
    for e in range(indices.shape[0]):
        counts[indices[e] + 1] += 1
    for c in range(n_cols):
        counts[c + 1] += counts[c]
    fill = counts[:-1].copy()
    out_idx = np.empty(indices.shape[0], np.int32)
    out_data = np.empty(indices.shape[0], np.float32)
    for r in range(n_rows):
        for e in range(indptr[r], indptr[r + 1]):
            c = indices[e]
            pos = fill[c]
            out_idx[pos] = r
            out_data[pos] = data[e]
            fill[c] = pos + 1
    return counts, out_idx, out_data


def transpose_csr(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n_cols: int):
    """The transpose of a CSR matrix, as CSR (rows sorted ascending within each new row)."""
    return _transpose(indptr, indices, data, n_cols)


@nb.njit(inline="always")
def _mix64(x):
    z = np.uint64(x) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True)
def _build_id_table(sorted_unique_ids):
    size = 2
    while size < 2 * sorted_unique_ids.shape[0]:
        size *= 2
    keys = np.empty(size, np.int64)
    slots = np.full(size, -1, np.int32)
    mask = np.uint64(size - 1)
    for i in range(sorted_unique_ids.shape[0]):
        key = sorted_unique_ids[i]
        h = _mix64(key) & mask
        while slots[h] != -1:
            h = (h + np.uint64(1)) & mask
        keys[h] = key
        slots[h] = i
    return keys, slots


@nb.njit(parallel=True, cache=True)
def _lookup_ids(keys, slots, ids):
    out = np.empty(ids.shape[0], np.int32)
    mask = np.uint64(keys.shape[0] - 1)
    for j in nb.prange(ids.shape[0]):
        key = ids[j]
        h = _mix64(key) & mask
        while slots[h] != -1 and keys[h] != key:
            h = (h + np.uint64(1)) & mask
        out[j] = slots[h]
    return out


class IntIdIndex:
    """Maps int64 ids to their position in a sorted array of distinct ids (open addressing).

    Memory is proportional to the number of distinct ids, never to their magnitude.
    """

    def __init__(self, sorted_unique_ids: np.ndarray):
        self.ids = np.ascontiguousarray(sorted_unique_ids, dtype=np.int64)
        self._keys, self._slots = _build_id_table(self.ids)

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """Dense int32 index of each id; -1 for ids not in the table."""
        return _lookup_ids(self._keys, self._slots, np.ascontiguousarray(ids, dtype=np.int64))
