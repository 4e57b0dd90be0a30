"""Building compressed sparse rows from edge lists, and mapping ids to dense indices."""

from __future__ import annotations

import numba as nb
import numpy as np


#: Rows up to this length are sorted in place by insertion sort, longer ones by a merge sort.
_INSERTION_MAX = 48
_NO_SELECT = np.zeros(0, np.uint8)


def _n_chunks(n_items: int) -> int:
    """Chunks of the parallel scatters: one per thread. Results never depend on it."""
    return max(1, min(nb.get_num_threads(), n_items // 65536 + 1))


@nb.njit(parallel=True, cache=True)
def _chunk_offsets(rows, select, bit, n_rows, n_chunks):
    """Row pointer of the selected entries and, per input chunk, where its entries of each row go.

    Entry ``e`` is selected when ``select`` is empty or ``select[e] & bit`` is set. The input is
    split into ``n_chunks`` contiguous chunks; ``offsets[c, r]`` is the output position of chunk
    ``c``'s first entry of row ``r``, so scattering the chunks in parallel is the stable
    counting sort whatever ``n_chunks`` is.

    Returns ``(indptr int64[n_rows + 1], offsets int64[n_chunks, n_rows])``.
    """
    m = rows.shape[0]
    use_select = select.shape[0] > 0
    chunk = (m + n_chunks - 1) // n_chunks
    offsets = np.zeros((n_chunks, n_rows), np.int64)
    for c in nb.prange(n_chunks):
        for e in range(c * chunk, min(m, (c + 1) * chunk)):
            if use_select and (select[e] & bit) == 0:
                continue
            offsets[c, rows[e]] += 1
    indptr = np.empty(n_rows + 1, np.int64)
    total = 0
    for r in range(n_rows):
        indptr[r] = total
        for c in range(n_chunks):
            count = offsets[c, r]
            offsets[c, r] = total
            total += count
    indptr[n_rows] = total
    return indptr, offsets


@nb.njit(parallel=True, cache=True)
def _scatter_by_row(rows, cols, w0, w1, select, bit, offsets, nnz):
    """Stable counting-sort scatter of the selected ``(cols, w0, w1)`` into row order.

    ``w1`` may be empty (one weight column). ``offsets`` (from :func:`_chunk_offsets`) is
    used as the fill pointers and overwritten.
    """
    m = rows.shape[0]
    n_chunks = offsets.shape[0]
    use_select = select.shape[0] > 0
    has_w1 = w1.shape[0] > 0
    chunk = (m + n_chunks - 1) // n_chunks
    out_cols = np.empty(nnz, np.int32)
    out_w0 = np.empty(nnz, np.float64)
    out_w1 = np.empty(nnz if has_w1 else 0, np.float64)
    for c in nb.prange(n_chunks):
        for e in range(c * chunk, min(m, (c + 1) * chunk)):
            if use_select and (select[e] & bit) == 0:
                continue
            r = rows[e]
            pos = offsets[c, r]
            out_cols[pos] = cols[e]
            out_w0[pos] = w0[e]
            if has_w1:
                out_w1[pos] = w1[e]
            offsets[c, r] = pos + 1
    return out_cols, out_w0, out_w1


@nb.njit(cache=True)
def _sort_values(values, start, stop):
    """Sort ``values[start:stop]`` ascending in place: insertion sort for short runs, heapsort
    for long ones (a few lines of IR: ``np.sort`` would multiply the compile time of every
    kernel that calls this)."""
    if stop - start <= _INSERTION_MAX:
        for i in range(start + 1, stop):
            x = values[i]
            p = i - 1
            while p >= start and values[p] > x:
                values[p + 1] = values[p]
                p -= 1
            values[p + 1] = x
        return
    m = stop - start
    for root in range(m // 2 - 1, -1, -1):
        _sift_values(values, start, root, m)
    for end in range(m - 1, 0, -1):
        x = values[start]
        values[start] = values[start + end]
        values[start + end] = x
        _sift_values(values, start, 0, end)


@nb.njit(cache=True)
def _sift_values(values, base, root, size):
    while True:
        child = 2 * root + 1
        if child >= size:
            return
        if child + 1 < size and values[base + child + 1] > values[base + child]:
            child += 1
        if values[base + root] >= values[base + child]:
            return
        x = values[base + root]
        values[base + root] = values[base + child]
        values[base + child] = x
        root = child


@nb.njit(parallel=True, cache=True)
def _sort_and_merge_rows(indptr, cols, w0, w1):
    """Sort every row by column and merge duplicate columns, summing their weights.

    Equal columns have their weights sorted before summing (each weight column on its own),
    so the sums do not depend on the order of the input rows. Returns the per-row count after
    merging; rows are merged in place at the start of their segment. Short rows are sorted in
    place by insertion sort on ``(column, w0)``, long rows by a stable merge sort on the
    column; nothing is allocated for short rows.
    """
    n_rows = indptr.shape[0] - 1
    has_w1 = w1.shape[0] > 0
    counts = np.zeros(n_rows, np.int64)
    for r in nb.prange(n_rows):
        start, stop = indptr[r], indptr[r + 1]
        m = stop - start
        if m == 0:
            continue
        if m <= _INSERTION_MAX:
            for i in range(start + 1, stop):
                c = cols[i]
                a = w0[i]
                b = w1[i] if has_w1 else 0.0
                p = i - 1
                while p >= start and (cols[p] > c or (cols[p] == c and w0[p] > a)):
                    cols[p + 1] = cols[p]
                    w0[p + 1] = w0[p]
                    if has_w1:
                        w1[p + 1] = w1[p]
                    p -= 1
                cols[p + 1] = c
                w0[p + 1] = a
                if has_w1:
                    w1[p + 1] = b
        else:
            order = np.argsort(cols[start:stop], kind="mergesort") + start
            sorted_cols = cols[order]
            sorted_w0 = w0[order]
            cols[start:stop] = sorted_cols
            w0[start:stop] = sorted_w0
            if has_w1:
                sorted_w1 = w1[order]
                w1[start:stop] = sorted_w1
        k = 0
        i = start
        while i < stop:
            j = i + 1
            while j < stop and cols[j] == cols[i]:
                j += 1
            if j - i == 1:
                t0 = w0[i]
                t1 = w1[i] if has_w1 else 0.0
            else:
                _sort_values(w0, i, j)
                t0 = 0.0
                for t in range(i, j):
                    t0 += w0[t]
                t1 = 0.0
                if has_w1:
                    _sort_values(w1, i, j)
                    for t in range(i, j):
                        t1 += w1[t]
            cols[start + k] = cols[i]
            w0[start + k] = t0
            if has_w1:
                w1[start + k] = t1
            k += 1
            i = j
        counts[r] = k
    return counts


@nb.njit(parallel=True, cache=True)
def _compact(indptr, cols, w0, w1, new_indptr):
    """Copy each row's merged prefix into arrays of the merged size (weights to float32)."""
    n_rows = indptr.shape[0] - 1
    has_w1 = w1.shape[0] > 0
    nnz = new_indptr[n_rows]
    out_cols = np.empty(nnz, np.int32)
    out_w0 = np.empty(nnz, np.float32)
    out_w1 = np.empty(nnz if has_w1 else 0, np.float32)
    for r in nb.prange(n_rows):
        src = indptr[r]
        dst = new_indptr[r]
        for k in range(new_indptr[r + 1] - dst):
            out_cols[dst + k] = cols[src + k]
            out_w0[dst + k] = w0[src + k]
            if has_w1:
                out_w1[dst + k] = w1[src + k]
    return out_cols, out_w0, out_w1


def select_to_csr(rows, cols, w0, w1, select, bit: int, n_rows: int):
    """:func:`coo_to_csr` of the entries ``e`` with ``select[e] & bit``, for one or two weights.

    ``rows``/``cols`` int32, ``w0``/``w1`` float64 (``w1`` may be empty), ``select`` uint8
    (empty: every entry). Both weight columns are summed over duplicates independently, exactly
    as :func:`coo_to_csr` sums one, and share the returned ``indptr`` and ``indices``: building
    two layers with the same edges and different weights costs one sort.

    Returns ``(indptr int64, indices int32, data0 float32, data1 float32)`` (``data1`` empty
    when ``w1`` is).
    """
    n_chunks = _n_chunks(rows.shape[0])
    indptr, offsets = _chunk_offsets(rows, select, np.uint8(bit), n_rows, n_chunks)
    sorted_cols, sorted_w0, sorted_w1 = _scatter_by_row(rows, cols, w0, w1, select, np.uint8(bit), offsets,
                                                        indptr[-1])
    del offsets
    merged = _sort_and_merge_rows(indptr, sorted_cols, sorted_w0, sorted_w1)
    new_indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(merged, out=new_indptr[1:])
    out_cols, out_w0, out_w1 = _compact(indptr, sorted_cols, sorted_w0, sorted_w1, new_indptr)
    return new_indptr, out_cols, out_w0, out_w1


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
    indptr, indices, data, _ = select_to_csr(rows, cols, weights, np.zeros(0, np.float64), _NO_SELECT, 0, n_rows)
    return indptr, indices, data


@nb.njit(parallel=True, cache=True)
def _transpose(indptr, indices, data0, data1, n_cols, n_chunks):
    """Parallel stable transpose: rows split into ``n_chunks`` edge-balanced chunks, each with
    its own column histogram, so every chunk knows where its entries go (the result does not
    depend on ``n_chunks``). ``data1`` may be empty."""
    n_rows = indptr.shape[0] - 1
    nnz = indices.shape[0]
    has_d1 = data1.shape[0] > 0
    bounds = np.empty(n_chunks + 1, np.int64)
    bounds[0] = 0
    r = 0
    for c in range(1, n_chunks):
        target = (nnz * c) // n_chunks
        while r < n_rows and indptr[r] < target:
            r += 1
        bounds[c] = r
    bounds[n_chunks] = n_rows
    offsets = np.zeros((n_chunks, n_cols), np.int64)
    for c in nb.prange(n_chunks):
        for e in range(indptr[bounds[c]], indptr[bounds[c + 1]]):
            offsets[c, indices[e]] += 1
    counts = np.empty(n_cols + 1, np.int64)
    total = 0
    for col in range(n_cols):
        counts[col] = total
        for c in range(n_chunks):
            k = offsets[c, col]
            offsets[c, col] = total
            total += k
    counts[n_cols] = total
    out_idx = np.empty(nnz, np.int32)
    out_d0 = np.empty(nnz, np.float32)
    out_d1 = np.empty(nnz if has_d1 else 0, np.float32)
    for c in nb.prange(n_chunks):
        for row in range(bounds[c], bounds[c + 1]):
            for e in range(indptr[row], indptr[row + 1]):
                col = indices[e]
                pos = offsets[c, col]
                out_idx[pos] = row
                out_d0[pos] = data0[e]
                if has_d1:
                    out_d1[pos] = data1[e]
                offsets[c, col] = pos + 1
    return counts, out_idx, out_d0, out_d1


def transpose_csr_pair(indptr, indices, data0, data1, n_cols: int):
    """:func:`transpose_csr` of a CSR with one or two float32 data arrays sharing its structure.

    Returns ``(indptr, indices, data0, data1)`` (``data1`` empty when the input's is).
    """
    return _transpose(indptr, indices, data0, data1, n_cols, _n_chunks(indices.shape[0]))


def transpose_csr(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n_cols: int):
    """The transpose of a CSR matrix, as CSR (rows sorted ascending within each new row)."""
    data = np.ascontiguousarray(data, dtype=np.float32)
    out_indptr, out_indices, out_data, _ = transpose_csr_pair(indptr, indices, data, np.zeros(0, np.float32), n_cols)
    return out_indptr, out_indices, out_data


@nb.njit(parallel=True, cache=True)
def _group_by_row(rows, cols, count, code, dropped, n_rows, n_chunks):
    """Stable counting sort of the kept rows (``code != dropped``) by ``rows``.

    Returns ``(indptr int64[n_rows + 1], cols int32, count float64, code uint8)`` in row order.
    Chunk-parallel with per-chunk offsets: the output does not depend on ``n_chunks``.
    """
    m = rows.shape[0]
    chunk = (m + n_chunks - 1) // n_chunks
    offsets = np.zeros((n_chunks, n_rows), np.int64)
    for c in nb.prange(n_chunks):
        for e in range(c * chunk, min(m, (c + 1) * chunk)):
            if code[e] != dropped:
                offsets[c, rows[e]] += 1
    indptr = np.empty(n_rows + 1, np.int64)
    total = 0
    for r in range(n_rows):
        indptr[r] = total
        for c in range(n_chunks):
            k = offsets[c, r]
            offsets[c, r] = total
            total += k
    indptr[n_rows] = total
    out_cols = np.empty(total, np.int32)
    out_count = np.empty(total, np.float64)
    out_code = np.empty(total, np.uint8)
    for c in nb.prange(n_chunks):
        for e in range(c * chunk, min(m, (c + 1) * chunk)):
            if code[e] == dropped:
                continue
            r = rows[e]
            pos = offsets[c, r]
            out_cols[pos] = cols[e]
            out_count[pos] = count[e]
            out_code[pos] = code[e]
            offsets[c, r] = pos + 1
    return indptr, out_cols, out_count, out_code


@nb.njit(cache=True)
def _swap3(cols, count, code, a, b):
    c = cols[a]
    cols[a] = cols[b]
    cols[b] = c
    w = count[a]
    count[a] = count[b]
    count[b] = w
    k = code[a]
    code[a] = code[b]
    code[b] = k


@nb.njit(cache=True)
def _sift3(cols, count, code, base, root, size):
    while True:
        child = 2 * root + 1
        if child >= size:
            return
        if child + 1 < size and cols[base + child + 1] > cols[base + child]:
            child += 1
        if cols[base + root] >= cols[base + child]:
            return
        _swap3(cols, count, code, base + root, base + child)
        root = child


@nb.njit(cache=True)
def _sort_row_by_col(cols, count, code, start, stop):
    """Sort one row segment by column, in place (the order among equal columns is free: their
    weights are sorted before they are summed). Insertion sort for short rows, heapsort for
    long ones."""
    if stop - start <= _INSERTION_MAX:
        for i in range(start + 1, stop):
            c = cols[i]
            w = count[i]
            k = code[i]
            p = i - 1
            while p >= start and cols[p] > c:
                cols[p + 1] = cols[p]
                count[p + 1] = count[p]
                code[p + 1] = code[p]
                p -= 1
            cols[p + 1] = c
            count[p + 1] = w
            code[p + 1] = k
        return
    m = stop - start
    for root in range(m // 2 - 1, -1, -1):
        _sift3(cols, count, code, start, root, m)
    for end in range(m - 1, 0, -1):
        _swap3(cols, count, code, start, start + end)
        _sift3(cols, count, code, start, 0, end)


@nb.njit(cache=True)
def _count_rows(indptr, cols, count, code, kind_member, bits, distinct, lo, hi):
    """Rows ``lo:hi``: sort each by column; count its distinct columns per layer structure."""
    n_struct = bits.shape[0]
    for row in range(lo, hi):
        start, stop = indptr[row], indptr[row + 1]
        if stop - start > 1:
            _sort_row_by_col(cols, count, code, start, stop)
        i = start
        while i < stop:
            j = i
            seen = np.uint8(0)
            while j < stop and cols[j] == cols[i]:
                seen |= kind_member[code[j]]
                j += 1
            for s in range(n_struct):
                if seen & bits[s]:
                    distinct[s, row + 1] += 1
            i = j


@nb.njit(cache=True)
def _write_rows(indptr, cols, count, code, kind_weight, kind_member, bits, struct_of, weighted_of, distinct,
                indices, struct_base, data, data_base, lo, hi):
    """Rows ``lo:hi``: write each layer's merged entries; duplicate weights summed ascending."""
    n_struct = bits.shape[0]
    n_data = struct_of.shape[0]
    longest = 1
    for row in range(lo, hi):
        longest = max(longest, indptr[row + 1] - indptr[row])
    buf = np.empty(longest, np.float64)
    fill = np.empty(n_struct, np.int64)
    for row in range(lo, hi):
        for s in range(n_struct):
            fill[s] = distinct[s, row]
        start, stop = indptr[row], indptr[row + 1]
        i = start
        while i < stop:
            col = cols[i]
            if i + 1 == stop or cols[i + 1] != col:  # the common case: a single edge
                kind = code[i]
                seen = kind_member[kind]
                for s in range(n_struct):
                    if seen & bits[s]:
                        pos = fill[s]
                        indices[struct_base[s] + pos] = col
                        fill[s] = pos + 1
                        for d in range(n_data):
                            if struct_of[d] == s:
                                if weighted_of[d]:
                                    data[data_base[d] + pos] = count[i] * kind_weight[kind]
                                else:
                                    data[data_base[d] + pos] = count[i]
                i += 1
                continue
            j = i
            seen = np.uint8(0)
            while j < stop and cols[j] == col:
                seen |= kind_member[code[j]]
                j += 1
            for s in range(n_struct):
                bit = bits[s]
                if (seen & bit) == 0:
                    continue
                pos = fill[s]
                indices[struct_base[s] + pos] = col
                fill[s] = pos + 1
                for d in range(n_data):
                    if struct_of[d] != s:
                        continue
                    k = 0
                    for t in range(i, j):
                        kind = code[t]
                        if kind_member[kind] & bit:
                            buf[k] = count[t] * kind_weight[kind] if weighted_of[d] else count[t]
                            k += 1
                    if k == 1:
                        total = buf[0]
                    else:
                        _sort_values(buf, 0, k)
                        total = 0.0
                        for t in range(k):
                            total += buf[t]
                    data[data_base[d] + pos] = total
            i = j


@nb.njit(parallel=True, cache=True)
def _layers_by_row(indptr, cols, count, code, kind_weight, kind_member, bits, struct_of, weighted_of, n_chunks):
    """Per-layer CSRs from rows grouped by row index (see :func:`build_layers`).

    The parallel loops only call the per-chunk functions above: parfor bodies this small keep
    the first (compiling) run short.
    """
    n_rows = indptr.shape[0] - 1
    n_struct = bits.shape[0]
    n_data = struct_of.shape[0]
    bounds = np.empty(n_chunks + 1, np.int64)
    bounds[0] = 0
    r = 0
    m = indptr[n_rows]
    for c in range(1, n_chunks):
        target = (m * c) // n_chunks
        while r < n_rows and indptr[r] < target:
            r += 1
        bounds[c] = r
    bounds[n_chunks] = n_rows
    distinct = np.zeros((n_struct, n_rows + 1), np.int64)
    for c in nb.prange(n_chunks):
        _count_rows(indptr, cols, count, code, kind_member, bits, distinct, bounds[c], bounds[c + 1])
    for s in range(n_struct):
        for row in range(n_rows):
            distinct[s, row + 1] += distinct[s, row]
    struct_base = np.zeros(n_struct + 1, np.int64)
    for s in range(n_struct):
        struct_base[s + 1] = struct_base[s] + distinct[s, n_rows]
    data_base = np.zeros(n_data + 1, np.int64)
    for d in range(n_data):
        data_base[d + 1] = data_base[d] + distinct[struct_of[d], n_rows]
    indices = np.empty(struct_base[n_struct], np.int32)
    data = np.empty(data_base[n_data], np.float32)
    for c in nb.prange(n_chunks):
        _write_rows(indptr, cols, count, code, kind_weight, kind_member, bits, struct_of, weighted_of, distinct,
                    indices, struct_base, data, data_base, bounds[c], bounds[c + 1])
    return distinct, indices, struct_base, data, data_base


def build_layers(rows, cols, count, code, kind_weight, kind_member, bits, struct_of, weighted_of, n_rows: int):
    """Several CSR layers from one edge table, with one grouping pass.

    Edge ``e`` (``rows[e]``, ``cols[e]``) has kind ``code[e]`` (uint8; 255 = dropped), which
    belongs to the layers whose bit is set in ``kind_member[code]``. Layer structure ``s``
    holds the edges with ``bits[s]``; data array ``d`` is over structure ``struct_of[d]`` and
    weighs an edge ``count[e] * kind_weight[code[e]]`` when ``weighted_of[d]``, else
    ``count[e]``. Duplicate ``(row, col)`` pairs are summed exactly as :func:`coo_to_csr` sums
    them (float64, weights sorted ascending, stored float32), so each layer equals
    ``coo_to_csr`` of its own edges, bitwise.

    Returns ``(indptrs, indices, datas)``: lists with one ``indptr``/``indices`` per structure
    and one ``data`` per data array (views into shared buffers).
    """
    rows = np.ascontiguousarray(rows, dtype=np.int32)
    cols = np.ascontiguousarray(cols, dtype=np.int32)
    count = np.ascontiguousarray(count, dtype=np.float64)
    code = np.ascontiguousarray(code, dtype=np.uint8)
    n_chunks = _n_chunks(rows.shape[0])
    indptr, g_cols, g_count, g_code = _group_by_row(rows, cols, count, code, np.uint8(255), n_rows, n_chunks)
    distinct, indices, struct_base, data, data_base = _layers_by_row(
        indptr, g_cols, g_count, g_code,
        np.ascontiguousarray(kind_weight, dtype=np.float64), np.ascontiguousarray(kind_member, dtype=np.uint8),
        np.ascontiguousarray(bits, dtype=np.uint8), np.ascontiguousarray(struct_of, dtype=np.int64),
        np.ascontiguousarray(weighted_of, dtype=np.bool_), max(1, min(256, n_rows // 1024 + 1)),
    )
    del g_cols, g_count, g_code, indptr
    indptrs = [distinct[s] for s in range(len(bits))]
    index_list = [indices[struct_base[s]:struct_base[s + 1]] for s in range(len(bits))]
    datas = [data[data_base[d]:data_base[d + 1]] for d in range(len(struct_of))]
    return indptrs, index_list, datas


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
