"""Building compressed sparse rows from edge lists, mapping ids to dense indices, and running
chunk kernels on several threads.

Parallel kernels here and in the other kernel modules are serial ``@njit(nogil=True,
cache=True)`` functions over a fixed set of chunks, run by :func:`run_chunks` on
``numba.get_num_threads()`` Python threads (thread ``t`` takes chunks ``t, t + T, ...``). Results
never depend on the thread count: each chunk writes only its own outputs, and where chunks'
partial sums are combined their number and bounds do not depend on it either. Compared with
``parallel=True`` this compiles each kernel once, without the parfor passes and without
re-optimising the chunk code inside a generated gufunc and its caller, which more than halved
the first (compiling) run.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numba as nb
import numpy as np


#: Rows up to this length are sorted in place by insertion sort, longer ones by heapsort.
_INSERTION_MAX = 48
_NO_SELECT = np.zeros(0, np.uint8)

# ---------------------------------------------------------------------------------------------
# Running chunk kernels on threads
# ---------------------------------------------------------------------------------------------

_pool = None
_pool_pid = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():  # a forked child needs its own threads
            _pool = ThreadPoolExecutor(max(1, nb.config.NUMBA_NUM_THREADS - 1), thread_name_prefix="influence")
            _pool_pid = os.getpid()
        return _pool


def n_threads(n_chunks: int) -> int:
    """Threads :func:`run_chunks` uses for ``n_chunks`` chunks: ``numba.get_num_threads()``, at
    most one per chunk."""
    return max(1, min(nb.get_num_threads(), n_chunks))


def run_chunks(kernel, n_chunks: int, *args) -> None:
    """Call ``kernel(*args, first, step)`` once per thread, ``first = 0 .. T - 1``, ``step = T``.

    ``kernel`` is a ``nogil`` numba function that processes its chunks ``first, first + step,
    ...`` of ``n_chunks``; ``T`` is :func:`n_threads`. The calling thread takes ``first = 0``.
    """
    threads = n_threads(n_chunks)
    if threads == 1:
        kernel(*args, 0, 1)
        return
    pool = _executor()
    futures = [pool.submit(kernel, *args, first, threads) for first in range(1, threads)]
    try:
        kernel(*args, 0, threads)
    finally:
        for future in futures:
            future.result()


def row_chunks(indptr: np.ndarray, per_thread: int = 8) -> np.ndarray:
    """int64 row bounds of chunks with about the same ``edges + rows`` each, about
    ``per_thread`` chunks per thread (1 chunk for small inputs). For kernels whose rows are
    independent: their results do not depend on the chunks."""
    n = indptr.shape[0] - 1
    work = int(indptr[n]) + n if n > 0 else 0
    n_chunks = max(1, min(per_thread * nb.get_num_threads(), work // 32768))
    return edge_balanced_chunks(indptr, n_chunks)


@nb.njit(nogil=True, cache=True)
def longest_row_of_chunks(indptr, bounds, first, step):
    """The most entries in one row among the chunks ``first, first + step, ...`` of ``bounds``
    (at least 1): the size of a per-row scratch buffer for a ``run_chunks`` worker."""
    longest = 1
    for chunk in range(first, bounds.shape[0] - 1, step):
        for row in range(bounds[chunk], bounds[chunk + 1]):
            longest = max(longest, indptr[row + 1] - indptr[row])
    return longest


def edge_balanced_chunks(indptr, n_chunks: int) -> np.ndarray:
    """int64[n_chunks + 1] row boundaries splitting rows so each chunk has about the same
    ``edges + rows`` (the cost of a pull over the chunk). Depends only on ``indptr`` and
    ``n_chunks``, never on the thread count, so per-chunk partial sums are reproducible."""
    # split_chunks' cuts with no row long enough to be cut
    return _split_chunks(as_indptr(indptr), int(n_chunks), np.int64(np.iinfo(np.int64).max))[0]


class SplitChunks(NamedTuple):
    """Chunks of a pull over an in-CSR whose long rows are cut into blocks (:func:`split_chunks`).

    Chunk ``c`` starts at row ``rows[c]``, edge position ``edges[c]``: ``edges[c] ==
    indptr[rows[c]]`` (a row start) unless the cut lies inside a long row, at one of its block
    boundaries. Rows of at most ``block`` in-edges are never cut.
    """

    rows: np.ndarray  # int64[n_chunks + 1]
    edges: np.ndarray  # int64[n_chunks + 1]
    block: int  # edges per block of a long row (the last block of a row may be shorter)
    long_rows: np.ndarray  # int64[L]: rows with more than ``block`` in-edges, ascending
    block_base: np.ndarray  # int64[L + 1]: long row j's blocks are blocks block_base[j] .. block_base[j + 1] - 1

    @property
    def n_chunks(self) -> int:
        return self.rows.shape[0] - 1

    @property
    def n_blocks(self) -> int:
        return int(self.block_base[-1])


def split_chunks(indptr, n_chunks: int) -> SplitChunks:
    """``n_chunks`` chunks of about the same ``edges + rows``, like :func:`edge_balanced_chunks`,
    where a row with more than ``block = ceil(edges / n_chunks)`` in-edges (a *long row*: a hub's
    followers) is cut into blocks of ``block`` edges that may fall in different chunks.

    Depends only on ``indptr`` and ``n_chunks``. Without long rows the chunks are exactly
    :func:`edge_balanced_chunks` (``edges == indptr[rows]``); with them, a cut is the first row
    start or block boundary at or past the chunk's share, so a chunk exceeds its share by at
    most one block or one short row.
    """
    indptr = as_indptr(indptr)
    n = indptr.shape[0] - 1
    n_chunks = int(n_chunks)
    m = int(indptr[n]) if n >= 0 else 0
    block = max(1, -(-m // n_chunks))
    degree = np.diff(indptr)
    long_rows = np.flatnonzero(degree > block).astype(np.int64)
    block_base = np.zeros(long_rows.shape[0] + 1, np.int64)
    np.cumsum(-(-degree[long_rows] // block), out=block_base[1:])
    rows, edges = _split_chunks(indptr, n_chunks, np.int64(block))
    return SplitChunks(_readonly(rows), _readonly(edges), block, _readonly(long_rows), _readonly(block_base))


@nb.njit(cache=True)
def _split_chunks(indptr, n_chunks, block):
    n = indptr.shape[0] - 1
    rows = np.empty(n_chunks + 1, np.int64)
    edges = np.empty(n_chunks + 1, np.int64)
    total = indptr[n] + n
    rows[0] = 0
    edges[0] = indptr[0]
    v = 0
    for c in range(1, n_chunks):
        target = (total * c) // n_chunks
        while v < n and indptr[v] + v < target:
            v += 1
        rows[c] = v
        edges[c] = indptr[v]
        if v > 0:  # the row before may be long: its first block boundary at or past the target
            u = v - 1
            start = indptr[u]
            length = indptr[v] - start
            if length > block:
                k = max(1, (target - start - u + block - 1) // block)
                if k * block < length:
                    rows[c] = u
                    edges[c] = start + k * block
    rows[n_chunks] = n
    edges[n_chunks] = indptr[n]
    return rows, edges


def float_array(values) -> np.ndarray:
    """``values`` as a contiguous, read-only float32 or float64 array (other dtypes become
    float64): weights keep their precision, so results do not change with the wrapper."""
    values = np.asarray(values)
    dtype = values.dtype if values.dtype in (np.float32, np.float64) else np.float64
    return _readonly(np.ascontiguousarray(values, dtype=dtype))


def as_indptr(indptr) -> np.ndarray:
    """A row pointer as a contiguous, read-only int64 array."""
    return _readonly(np.ascontiguousarray(indptr, dtype=np.int64))


def as_indices(indices) -> np.ndarray:
    """Column indices as a contiguous, read-only int32 array."""
    return _readonly(np.ascontiguousarray(indices, dtype=np.int32))


def as_input(values, dtype) -> np.ndarray:
    """``values`` as a contiguous, read-only array of ``dtype``."""
    return _readonly(np.ascontiguousarray(values, dtype=dtype))


def _readonly(array: np.ndarray) -> np.ndarray:
    """A read-only view (no copy). Arrays from polars are read-only and numba compiles one
    signature per (dtype, writeable) combination, so wrappers hand every input that a kernel
    only reads over read-only: one compiled signature whatever produced the array."""
    if not array.flags.writeable:
        return array
    view = array.view()
    view.flags.writeable = False
    return view


# ---------------------------------------------------------------------------------------------
# Counting sorts (stable; chunk-parallel with per-chunk offsets, so the output does not depend
# on the number of chunks)
# ---------------------------------------------------------------------------------------------


@nb.njit(nogil=True, cache=True)
def _scan_offsets(offsets):
    """Turn per-chunk row counts ``offsets[c, r]`` into output positions, in place: row by row,
    chunk by chunk. Returns the row pointer int64[n_rows + 1]."""
    n_chunks, n_rows = offsets.shape
    indptr = np.empty(n_rows + 1, np.int64)
    total = 0
    for r in range(n_rows):
        indptr[r] = total
        for c in range(n_chunks):
            count = offsets[c, r]
            offsets[c, r] = total
            total += count
    indptr[n_rows] = total
    return indptr


@nb.njit(nogil=True, cache=True)
def _count_selected(rows, select, bit, offsets, first, step):
    """``offsets[c, r]`` += selected entries of row ``r`` in input slice ``c`` (entry ``e`` is
    selected when ``select`` is empty or ``select[e] & bit`` is set)."""
    m = rows.shape[0]
    n_chunks = offsets.shape[0]
    use_select = select.shape[0] > 0
    for c in range(first, n_chunks, step):
        for e in range(m * c // n_chunks, m * (c + 1) // n_chunks):
            if use_select and (select[e] & bit) == 0:
                continue
            offsets[c, rows[e]] += 1


@nb.njit(nogil=True, cache=True)
def _scatter_selected(rows, cols, w0, w1, select, bit, offsets, out_cols, out_w0, out_w1, first, step):
    """Scatter the selected ``(cols, w0, w1)`` of input slice ``c`` to the positions in
    ``offsets[c]`` (from :func:`_scan_offsets`; used as fill pointers). ``w1`` may be empty."""
    m = rows.shape[0]
    n_chunks = offsets.shape[0]
    use_select = select.shape[0] > 0
    has_w1 = w1.shape[0] > 0
    for c in range(first, n_chunks, step):
        for e in range(m * c // n_chunks, m * (c + 1) // n_chunks):
            if use_select and (select[e] & bit) == 0:
                continue
            r = rows[e]
            pos = offsets[c, r]
            out_cols[pos] = cols[e]
            out_w0[pos] = w0[e]
            if has_w1:
                out_w1[pos] = w1[e]
            offsets[c, r] = pos + 1


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
        _sift_values(values, start, np.int64(0), end)


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


@nb.njit(nogil=True, cache=True)
def _sort_and_merge_rows(indptr, cols, w0, w1, counts, bounds, first, step):
    """Sort every row of the chunks by column and merge duplicate columns, summing their weights.

    Equal columns have their weights sorted before summing (each weight column on its own),
    so the sums do not depend on the order of the input rows. ``counts[r]`` receives the row's
    count after merging; rows are merged in place at the start of their segment. Short rows are
    sorted in place by insertion sort on ``(column, w0)``, long rows by a stable merge sort on
    the column.
    """
    has_w1 = w1.shape[0] > 0
    for chunk in range(first, bounds.shape[0] - 1, step):
        for r in range(bounds[chunk], bounds[chunk + 1]):
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


@nb.njit(nogil=True, cache=True)
def _compact(indptr, cols, w0, w1, new_indptr, out_cols, out_w0, out_w1, bounds, first, step):
    """Copy each row's merged prefix into arrays of the merged size (weights to float32)."""
    has_w1 = w1.shape[0] > 0
    for chunk in range(first, bounds.shape[0] - 1, step):
        for r in range(bounds[chunk], bounds[chunk + 1]):
            src = indptr[r]
            dst = new_indptr[r]
            for k in range(new_indptr[r + 1] - dst):
                out_cols[dst + k] = cols[src + k]
                out_w0[dst + k] = w0[src + k]
                if has_w1:
                    out_w1[dst + k] = w1[src + k]


def select_to_csr(rows, cols, w0, w1, select, bit: int, n_rows: int):
    """:func:`coo_to_csr` of the entries ``e`` with ``select[e] & bit``, for one or two weights.

    ``rows``/``cols`` int32, ``w0``/``w1`` float64 (``w1`` may be empty), ``select`` uint8
    (empty: every entry). Both weight columns are summed over duplicates independently, exactly
    as :func:`coo_to_csr` sums one, and share the returned ``indptr`` and ``indices``: building
    two layers with the same edges and different weights costs one sort.

    Returns ``(indptr int64, indices int32, data0 float32, data1 float32)`` (``data1`` empty
    when ``w1`` is).
    """
    n_chunks = n_threads(rows.shape[0] // 65536 + 1)
    offsets = np.zeros((n_chunks, n_rows), np.int64)
    run_chunks(_count_selected, n_chunks, rows, select, np.uint8(bit), offsets)
    indptr = _scan_offsets(offsets)
    nnz = int(indptr[-1])
    has_w1 = w1.shape[0] > 0
    sorted_cols = np.empty(nnz, np.int32)
    sorted_w0 = np.empty(nnz, np.float64)
    sorted_w1 = np.empty(nnz if has_w1 else 0, np.float64)
    run_chunks(_scatter_selected, n_chunks, rows, cols, w0, w1, select, np.uint8(bit), offsets, sorted_cols,
               sorted_w0, sorted_w1)
    del offsets
    bounds = row_chunks(indptr)
    merged = np.zeros(n_rows, np.int64)
    run_chunks(_sort_and_merge_rows, bounds.shape[0] - 1, indptr, sorted_cols, sorted_w0, sorted_w1, merged, bounds)
    new_indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(merged, out=new_indptr[1:])
    total = int(new_indptr[-1])
    out_cols = np.empty(total, np.int32)
    out_w0 = np.empty(total, np.float32)
    out_w1 = np.empty(total if has_w1 else 0, np.float32)
    run_chunks(_compact, bounds.shape[0] - 1, indptr, sorted_cols, sorted_w0, sorted_w1, new_indptr, out_cols, out_w0,
               out_w1, bounds)
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


@nb.njit(nogil=True, cache=True)
def _transpose_count(indptr, indices, bounds, offsets, first, step):
    """``offsets[c, col]`` += entries of column ``col`` in the rows of chunk ``c``."""
    for c in range(first, bounds.shape[0] - 1, step):
        for e in range(indptr[bounds[c]], indptr[bounds[c + 1]]):
            offsets[c, indices[e]] += 1


@nb.njit(nogil=True, cache=True)
def _transpose_scatter(indptr, indices, data0, data1, bounds, offsets, out_idx, out_d0, out_d1, first, step):
    """Write the entries of chunk ``c``'s rows to their transposed positions (``offsets[c]``,
    from :func:`_scan_offsets`, used as fill pointers). ``data1`` may be empty."""
    has_d1 = data1.shape[0] > 0
    for c in range(first, bounds.shape[0] - 1, step):
        for row in range(bounds[c], bounds[c + 1]):
            for e in range(indptr[row], indptr[row + 1]):
                col = indices[e]
                pos = offsets[c, col]
                out_idx[pos] = row
                out_d0[pos] = data0[e]
                if has_d1:
                    out_d1[pos] = data1[e]
                offsets[c, col] = pos + 1


def transpose_csr_pair(indptr, indices, data0, data1, n_cols: int):
    """:func:`transpose_csr` of a CSR with one or two float32 data arrays sharing its structure.

    Parallel stable transpose: rows split into edge-balanced chunks, each with its own column
    histogram, so every chunk knows where its entries go (the result does not depend on the
    chunks). Returns ``(indptr, indices, data0, data1)`` (``data1`` empty when the input's is).
    """
    nnz = indices.shape[0]
    n_chunks = n_threads(nnz // 65536 + 1)
    bounds = edge_balanced_chunks(indptr, n_chunks)
    offsets = np.zeros((n_chunks, n_cols), np.int64)
    run_chunks(_transpose_count, n_chunks, indptr, indices, bounds, offsets)
    out_indptr = _scan_offsets(offsets)
    out_idx = np.empty(nnz, np.int32)
    out_d0 = np.empty(nnz, np.float32)
    out_d1 = np.empty(nnz if data1.shape[0] > 0 else 0, np.float32)
    run_chunks(_transpose_scatter, n_chunks, indptr, indices, data0, data1, bounds, offsets, out_idx, out_d0, out_d1)
    return out_indptr, out_idx, out_d0, out_d1


def transpose_csr(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n_cols: int):
    """The transpose of a CSR matrix, as CSR (rows sorted ascending within each new row)."""
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    data = np.ascontiguousarray(data, dtype=np.float32)
    out_indptr, out_indices, out_data, _ = transpose_csr_pair(indptr, indices, data, np.zeros(0, np.float32), n_cols)
    return out_indptr, out_indices, out_data


# ---------------------------------------------------------------------------------------------
# Every layer from one edge table (graph.build_graph)
# ---------------------------------------------------------------------------------------------


@nb.njit(nogil=True, cache=True)
def _count_kept(rows, code, dropped, offsets, first, step):
    """``offsets[c, r]`` += kept entries (``code != dropped``) of row ``r`` in input slice ``c``."""
    m = rows.shape[0]
    n_chunks = offsets.shape[0]
    for c in range(first, n_chunks, step):
        for e in range(m * c // n_chunks, m * (c + 1) // n_chunks):
            if code[e] != dropped:
                offsets[c, rows[e]] += 1


@nb.njit(nogil=True, cache=True)
def _scatter_kept(rows, cols, count, code, dropped, offsets, out_cols, out_count, out_code, first, step):
    """Stable scatter of the kept ``(cols, count, code)`` of input slice ``c`` into row order."""
    m = rows.shape[0]
    n_chunks = offsets.shape[0]
    for c in range(first, n_chunks, step):
        for e in range(m * c // n_chunks, m * (c + 1) // n_chunks):
            if code[e] == dropped:
                continue
            r = rows[e]
            pos = offsets[c, r]
            out_cols[pos] = cols[e]
            out_count[pos] = count[e]
            out_code[pos] = code[e]
            offsets[c, r] = pos + 1


def _group_by_row(rows, cols, count, code, dropped, n_rows):
    """Stable counting sort of the kept rows (``code != dropped``) by ``rows``.

    Returns ``(indptr int64[n_rows + 1], cols int32, count float64, code uint8)`` in row order.
    """
    n_chunks = n_threads(rows.shape[0] // 65536 + 1)
    offsets = np.zeros((n_chunks, n_rows), np.int64)
    run_chunks(_count_kept, n_chunks, rows, code, dropped, offsets)
    indptr = _scan_offsets(offsets)
    total = int(indptr[-1])
    out_cols = np.empty(total, np.int32)
    out_count = np.empty(total, np.float64)
    out_code = np.empty(total, np.uint8)
    run_chunks(_scatter_kept, n_chunks, rows, cols, count, code, dropped, offsets, out_cols, out_count, out_code)
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
        _sift3(cols, count, code, start, np.int64(0), end)


@nb.njit(nogil=True, cache=True)
def _count_rows(indptr, cols, count, code, kind_member, bits, distinct, bounds, first, step):
    """Rows of the chunks: sort each by column; count its distinct columns per layer structure."""
    n_struct = bits.shape[0]
    for chunk in range(first, bounds.shape[0] - 1, step):
        for row in range(bounds[chunk], bounds[chunk + 1]):
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


@nb.njit(nogil=True, cache=True)
def _write_rows(indptr, cols, count, code, kind_weight, kind_member, bits, struct_data, weighted_of, distinct,
                indices, struct_base, data, data_base, bounds, first, step):
    """Rows of the chunks: write each layer's merged entries; duplicate weights summed ascending.

    ``struct_data[s]`` lists the data arrays over structure ``s`` (-1 padded)."""
    n_struct = bits.shape[0]
    n_per = struct_data.shape[1]
    buf = np.empty(longest_row_of_chunks(indptr, bounds, first, step), np.float64)
    fill = np.empty(n_struct, np.int64)
    for chunk in range(first, bounds.shape[0] - 1, step):
        for row in range(bounds[chunk], bounds[chunk + 1]):
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
                            for t in range(n_per):
                                d = struct_data[s, t]
                                if d < 0:
                                    break
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
                    for t in range(n_per):
                        d = struct_data[s, t]
                        if d < 0:
                            break
                        k = 0
                        for r in range(i, j):
                            kind = code[r]
                            if kind_member[kind] & bit:
                                buf[k] = count[r] * kind_weight[kind] if weighted_of[d] else count[r]
                                k += 1
                        if k == 1:
                            total = buf[0]
                        else:
                            _sort_values(buf, np.int64(0), k)
                            total = 0.0
                            for r in range(k):
                                total += buf[r]
                        data[data_base[d] + pos] = total
                i = j


@nb.njit(nogil=True, cache=True)
def _prepare_rows(physical, table, src_idx, dst_idx, count, code, count_out, per_kind, dropped):
    for e in range(physical.shape[0]):
        kind = table[physical[e]]
        per_kind[kind] += 1
        w = count[e]
        count_out[e] = w
        if src_idx[e] == dst_idx[e]:
            dropped[0] += 1
            code[e] = 255
        elif w == 0.0:
            dropped[1] += 1
            code[e] = 255
        else:
            code[e] = kind


def prepare_rows(physical, table, src_idx, dst_idx, count):
    """Kind codes and weights of the edge rows for :func:`build_layers`, in one pass.

    ``table[physical[e]]`` is row ``e``'s kind (fewer than 255 kinds); self-loops
    (``src_idx == dst_idx``) and rows of weight 0 get code 255 (dropped). ``physical`` and
    ``count`` are arrays or lists of arrays (a column's chunks, in order).

    Returns ``(code uint8[m], count float64[m], rows per kind int64, n_self_loops, n_zero)``
    (``count`` contiguous; ``n_zero`` counts the rows of weight 0 that are not self-loops;
    ``rows per kind`` counts every row).
    """
    physical = [as_input(p, np.uint32) for p in _pieces(physical)]
    counts = [as_input(c, np.float64) for c in _pieces(count)]
    table = as_input(table, np.uint8)
    src_idx, dst_idx = as_input(src_idx, np.int32), as_input(dst_idx, np.int32)
    m = src_idx.shape[0]
    code = np.empty(m, np.uint8)
    count_out = np.empty(m, np.float64)
    # the pieces of the two columns need not line up: cut both at every boundary of either
    bounds = np.unique(np.concatenate([np.cumsum([0] + [p.shape[0] for p in physical]),
                                       np.cumsum([0] + [c.shape[0] for c in counts]),
                                       np.arange(0, m, 1 << 20), [m]]))
    phys_at = _piece_locator(physical)
    count_at = _piece_locator(counts)
    n_pieces = bounds.shape[0] - 1
    per_kind = np.zeros((n_pieces, int(table.max(initial=0)) + 1), np.int64)
    dropped = np.zeros((n_pieces, 2), np.int64)

    def one(i):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        _prepare_rows(phys_at(lo, hi), table, src_idx[lo:hi], dst_idx[lo:hi], count_at(lo, hi), code[lo:hi],
                      count_out[lo:hi], per_kind[i], dropped[i])

    _run_pieces(one, n_pieces)
    totals = dropped.sum(axis=0)
    return code, _readonly(count_out), per_kind.sum(axis=0), int(totals[0]), int(totals[1])


def _piece_locator(pieces):
    """``at(lo, hi)``: the rows ``lo:hi`` of the concatenation of ``pieces`` (inside one piece)."""
    starts = np.cumsum([0] + [p.shape[0] for p in pieces])

    def at(lo, hi):
        k = int(np.searchsorted(starts, lo, side="right")) - 1
        return pieces[k][lo - starts[k]:hi - starts[k]]

    return at


def _row_bounds(indptr, n_chunks):
    """Row bounds of ``n_chunks`` chunks with about the same number of entries each."""
    n_rows = indptr.shape[0] - 1
    targets = (int(indptr[-1]) * np.arange(1, n_chunks, dtype=np.int64)) // n_chunks
    inner = np.minimum(np.searchsorted(indptr[:n_rows], targets, side="left"), n_rows)
    return np.concatenate(([0], inner, [n_rows])).astype(np.int64)


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
    edges = {"rows": rows, "cols": cols, "count": count, "code": code}
    del rows, cols, count, code
    return build_layers_from(edges, kind_weight, kind_member, bits, struct_of, weighted_of, n_rows)


def build_layers_from(edges: dict, kind_weight, kind_member, bits, struct_of, weighted_of, n_rows: int):
    """:func:`build_layers` taking ``rows``, ``cols``, ``count`` and ``code`` out of the dict
    ``edges``, which it empties: the edge arrays are freed as soon as the grouping pass has
    copied them, unless the caller still holds them (17 bytes per edge row less at the peak)."""
    rows = np.ascontiguousarray(edges.pop("rows"), dtype=np.int32)
    cols = np.ascontiguousarray(edges.pop("cols"), dtype=np.int32)
    count = _readonly(np.ascontiguousarray(edges.pop("count"), dtype=np.float64))
    code = np.ascontiguousarray(edges.pop("code"), dtype=np.uint8)
    kind_weight = np.ascontiguousarray(kind_weight, dtype=np.float64)
    kind_member = np.ascontiguousarray(kind_member, dtype=np.uint8)
    bits = np.ascontiguousarray(bits, dtype=np.uint8)
    struct_of = np.ascontiguousarray(struct_of, dtype=np.int64)
    weighted_of = np.ascontiguousarray(weighted_of, dtype=np.bool_)
    indptr, g_cols, g_count, g_code = _group_by_row(rows, cols, count, code, np.uint8(255), n_rows)
    del rows, cols, count, code
    n_struct, n_data = bits.shape[0], struct_of.shape[0]
    bounds = _row_bounds(indptr, max(1, min(256, n_rows // 1024 + 1)))
    n_chunks = bounds.shape[0] - 1
    distinct = np.zeros((n_struct, n_rows + 1), np.int64)
    run_chunks(_count_rows, n_chunks, indptr, g_cols, g_count, g_code, kind_member, bits, distinct, bounds)
    np.cumsum(distinct, axis=1, out=distinct)
    struct_base = np.zeros(n_struct + 1, np.int64)
    np.cumsum(distinct[:, n_rows], out=struct_base[1:])
    data_base = np.zeros(n_data + 1, np.int64)
    np.cumsum(distinct[struct_of, n_rows], out=data_base[1:])
    indices = np.empty(int(struct_base[n_struct]), np.int32)
    data = np.empty(int(data_base[n_data]), np.float32)
    per_struct = [[d for d in range(n_data) if struct_of[d] == s] for s in range(n_struct)]
    struct_data = np.full((n_struct, max(1, max(map(len, per_struct)))), -1, np.int64)
    for s, ds in enumerate(per_struct):
        struct_data[s, :len(ds)] = ds
    run_chunks(_write_rows, n_chunks, indptr, g_cols, g_count, g_code, kind_weight, kind_member, bits, struct_data,
               weighted_of, distinct, indices, struct_base, data, data_base, bounds)
    del g_cols, g_count, g_code, indptr
    indptrs = [distinct[s] for s in range(n_struct)]
    index_list = [indices[struct_base[s]:struct_base[s + 1]] for s in range(n_struct)]
    datas = [data[data_base[d]:data_base[d + 1]] for d in range(n_data)]
    return indptrs, index_list, datas


# ---------------------------------------------------------------------------------------------
# Dense indices of int64 ids
# ---------------------------------------------------------------------------------------------


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


@nb.njit(nogil=True, cache=True)
def _lookup_ids(keys, slots, ids, out, n_chunks, first, step):
    m = ids.shape[0]
    mask = np.uint64(keys.shape[0] - 1)
    for c in range(first, n_chunks, step):
        for j in range(m * c // n_chunks, m * (c + 1) // n_chunks):
            key = ids[j]
            h = _mix64(key) & mask
            while slots[h] != -1 and keys[h] != key:
                h = (h + np.uint64(1)) & mask
            out[j] = slots[h]


@nb.njit(nogil=True, cache=True)
def _mark_ids(ids, lo, present):
    for j in range(ids.shape[0]):
        present[ids[j] - lo] = 1


@nb.njit(nogil=True, cache=True)
def _rank_ids(ids, lo, rank, out):
    for j in range(ids.shape[0]):
        out[j] = rank[ids[j] - lo]


def _pieces(part) -> list:
    """A list of contiguous arrays from an array or a list of arrays (the chunks of a column)."""
    return list(part) if isinstance(part, (list, tuple)) else [part]


def _run_pieces(fn, n_pieces: int) -> None:
    """``fn(i)`` for every piece ``i``, the pieces spread over the threads."""
    def work(first, step):
        for i in range(first, n_pieces, step):
            fn(i)

    run_chunks(work, n_pieces)


def ids_in_range(parts, lo: int, hi: int, n_mapped: int):
    """Sorted distinct values of the int64 ``parts``, all in ``[lo, hi]``, and the int32 position
    of every value of the first ``n_mapped`` parts among them.

    Each part is an array or a list of arrays (the chunks of a column, read where they are: no
    concatenated copy). A direct table of ``hi - lo + 1`` entries (1 byte, then 4): for ids in a
    range not much wider than their number, one marking pass and one gather instead of a hash
    table.
    """
    span = hi - lo + 1
    present = np.zeros(span, np.uint8)
    lo64 = np.int64(lo)
    parts = [[as_input(p, np.int64) for p in _pieces(part)] for part in parts]
    for part in parts:
        for piece in part:
            _mark_ids(piece, lo64, present)
    rank = np.cumsum(present, dtype=np.int32)
    rank -= 1
    unique = np.flatnonzero(present).astype(np.int64)
    unique += lo64
    del present
    rank = _readonly(rank)
    mapped = []
    for part in parts[:n_mapped]:
        offsets = np.zeros(len(part) + 1, np.int64)
        np.cumsum([p.shape[0] for p in part], out=offsets[1:])
        out = np.empty(int(offsets[-1]), np.int32)
        pieces = _split_pieces(part, offsets)
        _run_pieces(lambda i: _rank_ids(pieces[i][0], lo64, rank, out[pieces[i][1]:pieces[i][2]]), len(pieces))
        mapped.append(out)
    return unique, mapped


def _split_pieces(part, offsets, size: int = 1 << 20):
    """``(array, start, stop)`` of every piece of ``part`` (placed at ``offsets``), long pieces
    cut to about ``size`` entries so that the threads share the work."""
    pieces = []
    for array, start in zip(part, offsets[:-1].tolist()):
        for lo in range(0, max(array.shape[0], 1), size):
            hi = min(array.shape[0], lo + size)
            pieces.append((array[lo:hi], start + lo, start + hi))
    return pieces


class IntIdIndex:
    """Maps int64 ids to their position in a sorted array of distinct ids (open addressing).

    Memory is proportional to the number of distinct ids, never to their magnitude.
    """

    def __init__(self, sorted_unique_ids: np.ndarray):
        self.ids = np.ascontiguousarray(sorted_unique_ids, dtype=np.int64)
        self._keys, self._slots = _build_id_table(_readonly(self.ids))

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """Dense int32 index of each id; -1 for ids not in the table."""
        ids = _readonly(np.ascontiguousarray(ids, dtype=np.int64))
        out = np.empty(ids.shape[0], np.int32)
        n_chunks = n_threads(ids.shape[0] // 65536 + 1) * 4
        run_chunks(_lookup_ids, n_chunks, self._keys, self._slots, ids, out, n_chunks)
        return out
