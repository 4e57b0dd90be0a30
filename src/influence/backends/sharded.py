"""A graph sharded by destination range, and the pull iterations that run where the shards live.

Written once against :class:`~influence.backends.Backend`; the task functions (``_read_piece``,
``_map_piece``, ``_build_shard``, ``_pagerank_step``, ...) run on the workers and take numpy
slices; the drivers (:func:`load_sharded`, :class:`ShardedLayer`, :class:`ShardedStages`) run on the
client, which never holds an array with one entry per edge.

Loading (:func:`load_sharded`)
    1. The client lists the input's *pieces* from Parquet metadata only: the row groups of one
       file, or the files of a directory (rows split evenly when there are fewer pieces than
       shards). Each piece is read and validated by a worker (``io.read`` rules, messages name
       the file and its row range).
    2. Distinct ids: every piece's distinct ids are merged on the workers (per shard, then a
       tree); the sorted union (8 bytes per account, with the node table's ids) is gathered once
       by the client (the output needs it) and broadcast worker to worker. Dense indices are
       positions in it, as in :func:`influence.graph.build_graph`, so they are globally
       consistent.
    3. Each worker maps its pieces' rows to dense indices and kind codes
       (:func:`~influence.kernels.csr.prepare_rows`) and splits them by destination range; shard
       ``s`` (accounts ``[bounds[s], bounds[s + 1])``) receives its rows from every piece, worker
       to worker, and builds the in-CSR slices of every layer with the local path's code
       (:func:`influence.graph._build_layers`): each row of a slice is bitwise the local row.
    4. The shards' CSR slices go, worker to worker, to the *stage worker* (the worker with the
       largest memory limit: :func:`stage_worker`), which assembles the whole
       :class:`~influence.graph.Graph` (the local arrays, bitwise). The
       client keeps a :class:`~influence.graph.LayerSummary` per layer: counts, the
       degree/strength vectors (fetched on first use) and, for the ``interaction`` and
       ``attention`` walks (:class:`RemoteLayer`), the row pointer; its CSR arrays raise. The
       walks' groups are cut from the shards, then the shards are released.

Edge stages (:class:`ShardedStages`)
    The stages that need whole-graph random access (reach's exposures, two-hop sketches and RR
    arguments, Louvain, audience mix, credibility's neighbourhood sums and reciprocal rings,
    loyal share) run on the stage worker through ``Graph.stages``: the client sends per-account
    vectors and gets per-account results. The RR samples fan out over every worker, each
    fetching the kernel's arguments (the attention out-CSR) from the stage worker; their int64
    hit vectors are summed on the workers and gathered once. The client never receives an
    array longer than ``n + 1`` (``ShardStats.gathered_bytes``, ``largest_gathered``).

Pull PageRank (:meth:`ShardedLayer.pagerank`, :meth:`ShardedLayer.pagerank_pair`)
    The local kernel sums its per-iteration scalars over fixed edge-balanced chunks
    (:func:`~influence.kernels.propagation.pagerank_chunks`); a row with more in-edges than a
    block (``ceil(edges / chunks)``: a hub) is summed in blocks of that many edges, which chunk
    cuts may separate, and finished after the chunks (block sums added in block order). Worker
    ``g`` runs a *group*: the chunks whose middle lies in the ``g``-th equal share of ``edges +
    rows``, with only the edges of that range (cut from the shard slices once per layer, moved
    from other shards where the ranges differ), so a hub's blocks spread over several workers.
    An iteration is one task per group: it takes the previous iteration's ``y *
    inv_out_strength`` slices of all groups (worker to worker) and the hubs' values from the
    client, pulls over its rows with the local chunk kernel and returns its new slice, its
    per-chunk sums and its hub blocks' sums. The client gathers only these sums (3 floats per
    chunk and 1 per hub block, twice that for a pair), finishes the hubs with the local
    kernel's code, adds the sums in the local order and sends the two resulting scalars and the
    hubs' new values (one float per hub and walk) with the next iteration. Out-strengths are
    summed shard after shard (each continuing the previous one's vector), the initial dangling
    mass likewise, so every number is bitwise the local kernel's: same ranks, same iteration
    count, same residual.
"""

from __future__ import annotations

import os
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl

from ..config import ScoringConfig
from ..errors import ConfigError, EmptyGraphError, InfluenceError, SchemaError
from ..graph import (
    Graph, Layer, LayerSummary, LAYER_NAMES, LoadReport, _build_layers, _check_id_count, _chunks,
    WeightOverflowError, check_finite_weights, kind_tables, summarise_rows, weight_overflow_message,
)
from ..memory import BASE_BYTES, format_size, memory_error, needed_bytes, parse_size
from ..io.read import _format_of, _scan_parquet, _validate_edges, edge_files, join_parts, read_node_table
from ..kernels.csr import IntIdIndex, as_indices, as_indptr, as_input, float_array, prepare_rows, run_chunks
from ..kernels.neighbourhood import column_sums
from ..kernels.propagation import (
    _Walk, _chunk_sums, _finish_long_rows, _finish_long_rows_pair, _pull_chunks, _pull_pair_chunks, dangling_mass,
    pagerank_chunks,
)
from . import Backend

#: The layers whose PageRank walks run on the workers.
REMOTE_LAYERS = ("interaction", "attention")
#: Fan-in of the tree that merges distinct ids on the workers.
_MERGE_FAN_IN = 4


# ---------------------------------------------------------------------------------------------
# Input pieces (client, from metadata only)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """Rows ``[offset, offset + length)`` of one Parquet file."""

    path: str
    offset: int
    length: int


def _parquet_files(path: Path) -> tuple[list[Path], Path | None, str]:
    """Edge files, default node table and source name of ``path`` (:func:`edge_files`), which
    must be Parquet here."""
    files, nodes, source = edge_files(path)
    if len(files) == 1 and _format_of(files[0]) not in ("parquet", "sniff"):
        raise SchemaError(
            f"{files[0]}: the dask backend reads Parquet edges (a file, a directory with edges.parquet, or a "
            "directory of .parquet files); convert this file to Parquet or use --backend local"
        )
    return files, nodes, source


def check_sharded_input(path) -> None:
    """Raise the error :func:`load_sharded` would raise for the kind of ``path`` (not a path, not
    Parquet, missing), without reading any data: called before a cluster starts."""
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(
            "the dask backend reads the edges on its workers: pass the path of Parquet edges, "
            f"not a {type(path).__name__}"
        )
    for file in _parquet_files(Path(path))[0]:
        _scan_parquet(file)


def plan_pieces(path, n_shards: int) -> tuple[list[Piece], Path | None, str]:
    """The pieces the workers read, the default node table and how to name the input.

    ``path`` is a Parquet file (its row groups are the pieces), a directory holding
    ``edges.parquet`` (a file, or a directory of part files) and optionally ``nodes.parquet``,
    or a directory of ``.parquet`` part files. Only Parquet footers are read here. With fewer
    pieces than ``n_shards`` the rows are split evenly into ``n_shards`` pieces.
    """
    import pyarrow.parquet as pq

    files, nodes, source = _parquet_files(Path(path))
    pieces = []
    for file in files:
        _scan_parquet(file)  # the local reader's checks and messages (not Parquet, truncated)
        try:
            meta = pq.ParquetFile(file).metadata
        except Exception as exc:
            raise SchemaError(f"{file}: unreadable Parquet file ({str(exc).splitlines()[0][:200]})") from None
        offset = 0
        for g in range(meta.num_row_groups):
            rows = meta.row_group(g).num_rows
            if rows:
                pieces.append(Piece(str(file), offset, rows))
            offset += rows
    total = sum(p.length for p in pieces)
    if total == 0:
        raise EmptyGraphError(f"{source}: the edge table is empty")
    if len(pieces) < n_shards:
        split = []
        for p in pieces:
            share = max(1, round(n_shards * p.length / total))
            cuts = [p.offset + (p.length * i) // share for i in range(share + 1)]
            split.extend(Piece(p.path, a, b - a) for a, b in zip(cuts[:-1], cuts[1:]) if b > a)
        pieces = split
    return pieces, nodes, source


# ---------------------------------------------------------------------------------------------
# Tasks of the load (run on the workers)
# ---------------------------------------------------------------------------------------------


def _read_piece(piece: Piece, src_col: str, dst_col: str) -> dict:
    frame = pl.scan_parquet(piece.path).slice(piece.offset, piece.length)
    edges, kinds, table, ts_range = _validate_edges(frame, str(piece.path), src_col, dst_col, first_row=piece.offset)
    return {"edges": edges, "kinds": kinds, "kind_table": table, "ts_range": ts_range}


def _piece_summary(piece: dict) -> tuple:
    edges = piece["edges"]
    return str(edges["src"].dtype), piece["kinds"], edges.height, piece["ts_range"]


def _distinct_ids(*parts) -> pl.Series:
    """Distinct ids of pieces (their edge frames) and of id Series."""
    columns = []
    for part in parts:
        if isinstance(part, dict):
            columns += [part["edges"]["src"], part["edges"]["dst"]]
        else:
            columns.append(part)
    return pl.concat(columns).unique()


def _sorted_ids(*parts) -> pl.Series:
    return pl.concat(list(parts)).unique().sort().rename("src")


_index_cache: dict = {}


class _RangeIndex:
    """Dense indices of sorted distinct int64 ids that lie in a narrow range: a direct table
    (one gather per row), as the local build uses for such ids (``kernels.csr.ids_in_range``)."""

    def __init__(self, ids: np.ndarray):
        self.lo = int(ids[0])
        self.table = np.full(int(ids[-1]) - self.lo + 1, -1, np.int32)
        self.table[ids - self.lo] = np.arange(ids.shape[0], dtype=np.int32)

    def lookup(self, values: np.ndarray) -> np.ndarray:
        return self.table[np.asarray(values, dtype=np.int64) - self.lo]


def _dense_index(ids: pl.Series):
    """Lookup of dense indices for ``ids`` (cached per worker for the run's id Series)."""
    if _index_cache.get("ids") is not ids:
        _index_cache.clear()
        if ids.dtype == pl.String:
            index = pl.Enum(ids)
        else:
            values = ids.to_numpy()
            narrow = values.shape[0] and int(values[-1]) - int(values[0]) < 2 * values.shape[0] + (1 << 20)
            index = _RangeIndex(values) if narrow else IntIdIndex(values)
        _index_cache.update(ids=ids, index=index)
    return _index_cache["index"]


def _ready(*values) -> bool:
    return True


def _forget_index() -> None:
    """Drop the worker's cached id lookup once every piece is mapped."""
    _index_cache.clear()


def _map_piece(piece: dict, ids: pl.Series, kinds: tuple, bounds: np.ndarray) -> tuple:
    """Dense indices and kind codes of a piece's rows, split by destination shard.

    Returns one ``(src, dst, count, code)`` bucket per shard (self-loops and rows of weight 0
    left out) and, last, ``(rows per kind, self-loops, rows of weight 0)``.
    """
    edges = piece["edges"]
    index = _dense_index(ids)
    if ids.dtype == pl.String:
        src_idx = edges["src"].cast(index).to_physical().to_numpy().astype(np.int32)
        dst_idx = edges["dst"].cast(index).to_physical().to_numpy().astype(np.int32)
    else:
        src_idx = index.lookup(edges["src"].to_numpy())
        dst_idx = index.lookup(edges["dst"].to_numpy())
    position = {k: i for i, k in enumerate(kinds)}
    remap = np.array([position[k] for k in piece["kinds"]], np.uint8)
    table = remap[piece["kind_table"]]
    code, count, per_kind, n_self, n_zero = prepare_rows(
        _chunks(edges["kind"].to_physical()), table, src_idx, dst_idx, _chunks(edges["weight"]))
    rows_per_kind = np.zeros(len(kinds), np.int64)
    rows_per_kind[:per_kind.shape[0]] = per_kind
    keep = np.flatnonzero(code != 255)
    dst_kept = dst_idx[keep]
    shard_of = np.searchsorted(bounds[1:-1], dst_kept, side="right")
    order = keep[np.argsort(shard_of, kind="stable")]
    cuts = np.searchsorted(np.sort(shard_of, kind="stable"), np.arange(bounds.shape[0]))
    buckets = []
    for s in range(bounds.shape[0] - 1):
        rows = order[cuts[s]:cuts[s + 1]]
        buckets.append((src_idx[rows], dst_idx[rows], count[rows], code[rows]))
    return (*buckets, (rows_per_kind, n_self, n_zero))


def _build_shard(lo: int, hi: int, kind_weight, member_of, *buckets) -> dict:
    """In-CSR slices of every layer for destinations ``[lo, hi)`` (rows local, columns global)."""
    edges = {
        "src": np.concatenate([b[0] for b in buckets]),
        "dst": np.concatenate([b[1] for b in buckets]) - np.int32(lo),
        "count": np.concatenate([b[2] for b in buckets]),
        "code": np.concatenate([b[3] for b in buckets]),
    }
    layers = _build_layers(edges, kind_weight, member_of, hi - lo)
    check_finite_weights(layers, offset=lo)
    return {name: (layer.in_indptr, layer.in_indices, layer.in_data) for name, layer in layers.items()}


def _named_overflow(error: WeightOverflowError, ids: pl.Series, source: str) -> SchemaError:
    """The error of a shard whose summed weight overflowed, naming the pair by its ids."""
    return SchemaError(f"{source}: {weight_overflow_message(ids[error.src], ids[error.dst], error.layer)}")


def _csr_of(shard: dict, name: str) -> tuple:
    return shard[name]


def _column_sums_after(csr: tuple, n: int, previous) -> np.ndarray:
    out = np.zeros(n, np.float64) if previous is None else np.array(previous, dtype=np.float64)
    return column_sums(csr[0], csr[1], csr[2], n, out=out)


def _inverse(values: np.ndarray) -> np.ndarray:
    return np.divide(1.0, values, out=np.zeros(values.shape[0]), where=values > 0)


def _rows_of(lo: int, hi: int, e0: int, e1: int, starts, edge_starts, *csrs) -> tuple:
    """Rows ``[lo, hi)`` of a layer cut from consecutive shard slices (slice ``i`` starts at row
    ``starts[i]`` and global edge position ``edge_starts[i]``): the rows' global row pointer and
    the edges at global positions ``[e0, e1)``. A hub at either end of the range contributes only
    its blocks in that range."""
    indptrs, indices, datas = [], [], []
    end = e0
    for start, g0, (indptr, idx, data) in zip(starts, edge_starts, csrs):
        a = max(lo, start) - start
        b = min(hi, start + indptr.shape[0] - 1) - start
        if b <= a:
            continue
        indptrs.append(np.asarray(indptr[a:b], dtype=np.int64) + g0)
        end = int(indptr[b]) + g0
        p, q = max(e0, int(indptr[a]) + g0) - g0, min(e1, end) - g0
        indices.append(idx[p:q])
        datas.append(data[p:q])
    if not indices:  # no rows (never for non-empty chunks, kept for safety)
        indices, datas = [csrs[0][1][:0]], [csrs[0][2][:0]]
    indptrs.append(np.array([end], np.int64))
    return (as_indptr(np.concatenate(indptrs)), as_indices(np.concatenate(indices)).view(np.uint32),
            float_array(np.concatenate(datas)))


def _slice(values, lo: int, hi: int):
    return as_input(values[lo:hi], np.float64)


def _take(values, rows) -> np.ndarray:
    return np.ascontiguousarray(values[rows], dtype=np.float64)


def _teleport_columns(*columns) -> np.ndarray:
    return as_input(np.column_stack(columns), np.float64)


def _uniform(m: int, n: int) -> np.ndarray:
    return as_input(np.full(m, 1.0 / n), np.float64)


def _start(teleport, inv, previous, skip: int):
    """Start of a walk on a group: ``y`` (all its rows), the ``scaled`` slice of the rows it
    owns (from ``skip``) and the running dangling mass (over the rows it owns)."""
    y = np.array(teleport, dtype=np.float64)
    own, own_inv = y[skip:], inv[skip:]
    scaled = own * own_inv if y.ndim == 1 else own * own_inv[:, None]
    if y.ndim == 1:
        return y, scaled, dangling_mass(own, own_inv, previous)
    return y, scaled, tuple(dangling_mass(np.ascontiguousarray(own[:, j]), own_inv, previous[j])
                            for j in range(y.shape[1]))


def _own(previous):
    """``y`` of a group: its start value, or the previous step's result (held where it runs)."""
    return previous[0] if isinstance(previous, tuple) else previous


def _owned(previous, skip: int) -> np.ndarray:
    """``y`` of the rows a group owns (its first row belongs to the group before when ``skip``)."""
    return _own(previous)[skip:]


def _kernel_inputs(csr, inv, teleport):
    """The arrays of a step with the dtypes and flags the local kernel is called with (arrays
    arriving from another worker may differ in writeability: one compiled signature)."""
    indptr, sources, data = csr
    return (as_indptr(indptr), as_input(sources, np.uint32), float_array(data), as_input(inv, np.float64),
            as_input(teleport, np.float64))


def _plan_inputs(plan) -> tuple:
    """A group's chunk arguments of the pull kernels, typed as the local kernel's."""
    return (as_input(plan.bounds, np.int64), as_input(plan.edge_bounds, np.int64), int(plan.edge_offset),
            int(plan.block), as_input(plan.long_rows, np.int64), as_input(plan.long_slot, np.int64))


def _gathered(scaled_slices, plan: "_Plan", hub_scaled) -> np.ndarray:
    """The previous ``y * inv_out_strength`` of every account: the groups' slices, and the long
    rows' values from the client (the groups do not finish those rows)."""
    scaled = np.concatenate(scaled_slices)
    if plan.hub_rows.shape[0]:
        scaled[plan.hub_rows] = hub_scaled
    return scaled


def _step(csr, inv, teleport, y_previous, plan, damping, base, scale, hub_scaled, *scaled_slices):
    """One iteration of the single walk over a group's rows (see :func:`_pull_chunks`).

    Returns ``y`` of its rows, the ``scaled`` slice of the rows it owns and ``(part, partial)``:
    the per-chunk sums and the block sums of the long rows it holds."""
    indptr, sources, data, inv, teleport = _kernel_inputs(csr, inv, teleport)
    scaled = _gathered(scaled_slices, plan, hub_scaled)
    y = _own(y_previous).copy()
    scaled_next = np.empty(y.shape[0], np.float64)
    n_chunks = plan.bounds.shape[0] - 1
    part = np.zeros((n_chunks, 3), np.float64)
    partial = np.empty(plan.n_blocks, np.float64)
    run_chunks(_pull_chunks, n_chunks, indptr, sources, data, inv, teleport, damping, base, scale, y, scaled,
               scaled_next, part, *_plan_inputs(plan), partial)
    return y, scaled_next[plan.skip:], (part, partial)


def _step_pair(csr, inv, teleport, y_previous, plan, damping, base0, scale0, base1, scale1, hub_scaled,
               *scaled_slices):
    """One iteration of two walks together (see :func:`_pull_pair_chunks`)."""
    indptr, sources, data, inv, teleport = _kernel_inputs(csr, inv, teleport)
    scaled = _gathered(scaled_slices, plan, hub_scaled)
    y = _own(y_previous).copy()
    scaled_next = np.empty((y.shape[0], 2), np.float64)
    n_chunks = plan.bounds.shape[0] - 1
    part = np.zeros((n_chunks, 6), np.float64)
    partial = np.empty((plan.n_blocks, 2), np.float64)
    run_chunks(_pull_pair_chunks, n_chunks, indptr, sources, data, inv, teleport, damping, base0, scale0, base1,
               scale1, y, scaled, scaled_next, part, *_plan_inputs(plan), partial)
    return y, scaled_next[plan.skip:], (part, partial)


def _item(values, i: int):
    return values[i]


def _column(values, j: int) -> np.ndarray:
    return np.ascontiguousarray(_own(values)[:, j])


def _nbytes(value) -> int:
    """Bytes of a value's arrays (numpy, polars; strings by length, other scalars 8)."""
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, (pl.Series, pl.DataFrame)):
        return int(value.estimated_size())
    if isinstance(value, (str, bytes)):
        return len(value)
    if hasattr(value, "nbytes"):
        return int(value.nbytes)
    return 0 if value is None else 8


def _largest(value) -> int:
    """Entries of the longest array in a value (numpy arrays and polars Series)."""
    if isinstance(value, dict):
        return max((_largest(v) for v in value.values()), default=0)
    if isinstance(value, (tuple, list)):
        return max((_largest(v) for v in value), default=0)
    if isinstance(value, pl.Series):
        return value.len()
    if isinstance(value, pl.DataFrame):
        return value.height
    return int(getattr(value, "size", 0))


def _process_memory() -> int:
    """Peak resident memory of this process in bytes (Linux ru_maxrss is in KiB)."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


# ---------------------------------------------------------------------------------------------
# Client side
# ---------------------------------------------------------------------------------------------


class RemoteLayer(LayerSummary):
    """The client's :class:`~influence.graph.LayerSummary` of a layer whose PageRank walks run
    on the workers, over its CSR slices there (``remote``: a :class:`ShardedLayer`)."""

    def __init__(self, *args, remote: "ShardedLayer"):
        super().__init__(*args)
        self.remote = remote


def _stage(graph: Graph, fn, *args):
    """An edge stage on the worker that holds the assembled graph (see :class:`ShardedStages`)."""
    return fn(graph, *args)


def _assemble_graph(n: int, bounds: np.ndarray, ids: pl.Series, *shards) -> Graph:
    """The whole :class:`~influence.graph.Graph` from the shards' CSR slices, on the stage worker
    (the shards come worker to worker). Every array is bitwise the local build's."""
    layers = {}
    for name in LAYER_NAMES:
        indptr = np.zeros(n + 1, np.int64)
        offset = 0
        for s, part in enumerate(shards):
            p = part[name][0]
            indptr[bounds[s] + 1:bounds[s + 1] + 1] = p[1:] + offset
            offset += int(p[-1])
        indices = np.concatenate([part[name][1] for part in shards])
        data = np.concatenate([part[name][2] for part in shards])
        layers[name] = Layer(indptr, indices, data)
    return Graph(ids=ids, layers=layers, nodes=None, report=None)


def _add_results(first: tuple, *others: tuple) -> tuple:
    """Entrywise sum of tuples of integer arrays and ints (exact in any order)."""
    total = [v.copy() if isinstance(v, np.ndarray) else v for v in first]
    for other in others:
        for i, v in enumerate(other):
            total[i] = total[i] + v
    return tuple(total)


def _layer_counts(graph: Graph) -> dict:
    """``{layer: (n_edges, in_data_sum, in_data_max)}``: the scalars of every layer."""
    return {name: (layer.n_edges, layer.in_data_sum, layer.in_data_max) for name, layer in graph.layers.items()}


def _layer_vector(graph: Graph, name: str, attr: str) -> np.ndarray:
    """One per-account vector of a layer (``graph.SUMMARY_VECTORS``)."""
    return getattr(graph.layers[name], attr)


def _layer_indptr(graph: Graph, name: str) -> np.ndarray:
    return graph.layers[name].in_indptr


class ShardedStages:
    """Runs the edge stages (:class:`influence.graph.LocalStages` has the interface) on the
    *stage worker*: the worker of shard ``shard``, which holds the whole graph, assembled there
    from the shards worker to worker. The client sends per-account vectors and scalars and
    receives the stages' per-account results; :meth:`map_ranges` fans a kept value (the RR
    sampling's arguments) out to every worker, worker to worker. Whatever the client gathers is
    counted in ``ShardStats.gathered_bytes``. A stage that fails on a worker is one
    :class:`~influence.errors.InfluenceError` naming the stage."""

    def __init__(self, sharded: "ShardedGraph", graph, shard: int = 0):
        self.sharded = sharded
        self.graph = graph  # handle of the assembled Graph on the stage worker
        self.shard = shard
        self._kept_bytes = {}  # bytes of each kept value (id of its handle -> int)

    @property
    def backend(self) -> Backend:
        return self.sharded.backend

    @contextmanager
    def _failures(self, name: str, where: str):
        try:
            yield
        except InfluenceError:  # the input's fault, or the cluster's: already one clear line
            raise
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            hint = "; the stage worker holds the whole graph: give it more memory" if isinstance(exc, MemoryError) else ""
            raise InfluenceError(
                f"{self.backend.name}: the {name} stage failed on {where} ({type(exc).__name__}"
                f"{': ' + reason if reason else ''}){hint}; no output was written"
            ) from exc

    def _submit(self, fn, args):
        # per-account vectors go straight to the stage worker (not inside the task, which Dask
        # routes through the scheduler)
        args = [self.backend.put(a, shard=self.shard) if isinstance(a, np.ndarray) and a.size > 1024 else a
                for a in args]
        return self.backend.submit(_stage, self.graph, fn, *args, shard=self.shard)

    def run(self, fn, *args):
        started = time.perf_counter()
        with self._failures(fn.__name__, "the stage worker"):
            result = self.backend.gather([self._submit(fn, args)])[0]
        self.sharded.stats.stages.append((fn.__name__, time.perf_counter() - started))
        return result

    def keep(self, fn, *args):
        with self._failures(fn.__name__, "the stage worker"):
            kept = self._submit(fn, args)
            # wait for it here, so that a failure is reported as this stage's, not the next
            # step's; its size decides which workers can hold a copy (sum_ranges)
            self._kept_bytes[id(kept)] = self.backend.gather([self.backend.submit(_nbytes, kept, shard=self.shard)])[0]
            return kept

    def _fitting(self, kept) -> list:
        """The shards whose worker can hold a copy of ``kept`` next to the base of a process
        (:data:`influence.memory.BASE_BYTES`) within its memory limit; the stage worker always."""
        size = self._kept_bytes.get(id(kept))
        limits = self.backend.memory_limits()
        return [s for s in range(self.backend.n_shards)
                if s == self.shard or size is None or limits[s] is None or limits[s] >= size + BASE_BYTES]

    def sum_ranges(self, fn, kept, start: int, stop: int, label: str) -> tuple:
        """One range per worker that can hold a copy of ``kept`` (:meth:`_fitting`); the results
        are added on the workers (a tree of fan-in ``_MERGE_FAN_IN``, exact for integers) and
        only the sum reaches the client."""
        started = time.perf_counter()
        backend = self.backend
        fitting = self._fitting(kept)
        k = len(fitting)
        cuts = [start + ((stop - start) * i) // k for i in range(k + 1)]
        with self._failures(label, "a worker"):
            ranges = [(s, a, b) for s, a, b in zip(fitting, cuts[:-1], cuts[1:]) if b > a]
            where = [s for s, _, _ in ranges]
            handles = [backend.submit(fn, kept, a, b, shard=s) for s, a, b in ranges]
            while len(handles) > 1:
                step = range(0, len(handles), _MERGE_FAN_IN)
                handles = [backend.submit(_add_results, *handles[i:i + _MERGE_FAN_IN], shard=where[i]) for i in step]
                where = [where[i] for i in step]
            result = backend.gather(handles)[0]
        self.sharded.stats.iterations.append((label, "attention", time.perf_counter() - started))
        return result

    def release(self, kept) -> None:
        self._kept_bytes.pop(id(kept), None)
        release = getattr(kept, "release", None)  # a Dask future: drop it now (and its replicas)
        if release is not None:
            release()


class ShardedLayer:
    """One layer's CSR slices on the workers and the PageRank walks over them.

    ``indptr`` is the layer's global row pointer (8 bytes per account, gathered at load): it
    decides the chunks and the groups.
    """

    def __init__(self, sharded: "ShardedGraph", name: str, indptr: np.ndarray):
        self.sharded = sharded
        self.name = name
        self.indptr = indptr
        self._groups = None
        self._hubs = None  # (long rows, their first blocks, their 1 / out-strength), set by _setup

    @property
    def backend(self) -> Backend:
        return self.sharded.backend

    def _setup(self):
        """Groups of chunks, their CSR rows and ``1 / out-strength`` slices (once per layer).

        The chunks are the local kernel's (:func:`~influence.kernels.propagation.pagerank_chunks`,
        hubs cut into blocks). Group ``g`` (on worker ``g``) takes the chunks whose middle lies in
        the ``g``-th of ``k`` equal shares of ``edges + rows``, so a hub's blocks spread over
        several groups and a group exceeds its share by at most one chunk."""
        if self._groups is not None:
            return self._groups
        backend, sharded = self.backend, self.sharded
        indptr = self.indptr
        n = indptr.shape[0] - 1
        chunks = pagerank_chunks(indptr)  # as weighted_pagerank: the same chunk and block sums
        shard_bounds = sharded.bounds
        csrs = [backend.submit(_csr_of, h, self.name, shard=s) for s, h in enumerate(sharded.shards)]
        k = len(csrs)
        total = max(1, int(indptr[n]) + n)
        cost = chunks.edges + chunks.rows  # work before each chunk cut: edges + rows
        owner = np.minimum(k - 1, ((cost[:-1] + cost[1:]) * k) // (2 * total))  # the share holding its middle
        # out-strengths: shard after shard, each continuing the previous sums (bitwise the local ones)
        strength = None
        for s, csr in enumerate(csrs):
            strength = backend.submit(_column_sums_after, csr, n, strength, shard=s)
        inv_full = backend.submit(_inverse, strength, shard=k - 1)
        hub_rows, block_base, block = chunks.long_rows, chunks.block_base, chunks.block
        counts = np.diff(block_base)
        block_start = (np.repeat(indptr[hub_rows], counts)
                       + (np.arange(chunks.n_blocks) - np.repeat(block_base[:-1], counts)) * block)
        edge_starts = [int(indptr[b]) for b in shard_bounds[:-1]]
        groups = []
        for g in range(k):
            mine = np.flatnonzero(owner == g)
            if mine.size == 0:
                continue
            c0, c1 = int(mine[0]), int(mine[-1]) + 1
            lo, e0 = int(chunks.rows[c0]), int(chunks.edges[c0])
            last, e1 = int(chunks.rows[c1]), int(chunks.edges[c1])
            hi = last + 1 if last < n and e1 > indptr[last] else last  # ends inside a hub: it takes that row too
            skip = 1 if e0 > indptr[lo] else 0  # starts inside a hub: that row is owned by the group before
            touching = [s for s in range(k) if shard_bounds[s] < hi and shard_bounds[s + 1] > lo] or [k - 1]
            rows = backend.submit(_rows_of, lo, hi, e0, e1, [int(shard_bounds[s]) for s in touching],
                                  [edge_starts[s] for s in touching], *[csrs[s] for s in touching], shard=g)
            inv = backend.submit(_slice, inv_full, lo, hi, shard=g)
            j0, j1 = np.searchsorted(hub_rows, [lo, hi])
            b0, b1 = np.searchsorted(block_start, [e0, e1])
            plan = _Plan(bounds=np.ascontiguousarray(chunks.rows[c0:c1 + 1] - lo, dtype=np.int64),
                         edge_bounds=np.ascontiguousarray(chunks.edges[c0:c1 + 1], dtype=np.int64),
                         edge_offset=e0, block=block,
                         long_rows=np.ascontiguousarray(hub_rows[j0:j1] - lo, dtype=np.int64),
                         long_slot=np.ascontiguousarray(block_base[j0:j1] - b0, dtype=np.int64),
                         n_blocks=int(b1 - b0), skip=skip, hub_rows=hub_rows)
            groups.append(_Group(g, lo, hi, rows, inv, plan, e1 - e0))
        hub_inv = (backend.gather([backend.submit(_take, inv_full, hub_rows, shard=k - 1)])[0] if hub_rows.shape[0]
                   else np.zeros(0, np.float64))
        self._hubs = (hub_rows, block_base, hub_inv)
        self._groups = groups
        return groups

    def _teleports(self, teleport, groups):
        n = self.indptr.shape[0] - 1
        if teleport is None:
            return [self.backend.submit(_uniform, g.hi - g.lo, n, shard=g.shard) for g in groups]
        teleport = np.asarray(teleport, dtype=np.float64)
        return [self.backend.put(as_input(teleport[g.lo:g.hi], np.float64), shard=g.shard) for g in groups]

    def _hub_teleport(self, teleport) -> np.ndarray:
        """The teleport values of the long rows (what :meth:`_teleports` gives their groups)."""
        rows = self._hubs[0]
        if teleport is None:
            return np.full(rows.shape[0], 1.0 / (self.indptr.shape[0] - 1))
        return np.ascontiguousarray(np.asarray(teleport, dtype=np.float64)[rows])

    def _start(self, groups, teleports, n_walks):
        backend = self.backend
        ys, scaled, dangling = [], [], (0.0,) * n_walks if n_walks > 1 else 0.0
        for g, t in zip(groups, teleports):
            y, sc, dangling = backend.submit(_start, t, g.inv, dangling, g.plan.skip, shard=g.shard, n_out=3)
            ys.append(y)
            scaled.append(sc)
        return ys, scaled, backend.gather([dangling])[0]

    def _split(self, groups, results):
        """A step's results: the whole result stays for the group's own next step (same worker:
        ``y`` never moves), the ``scaled`` slice goes to every group's next step, the per-chunk
        sums and the long rows' block sums (gathered, in chunk and block order) to the client."""
        backend = self.backend
        scaled = [backend.submit(_item, r, 1, shard=g.shard) for g, r in zip(groups, results)]
        sums = backend.gather([backend.submit(_item, r, 2, shard=g.shard) for g, r in zip(groups, results)])
        return results, scaled, np.concatenate([p for p, _ in sums]), np.concatenate([b for _, b in sums])

    def _final(self, groups, ys, hub_y) -> np.ndarray:
        """``y`` of every account: the groups' rows, the long rows' values from the client."""
        y = np.concatenate(self.backend.gather([self.backend.submit(_owned, y, g.plan.skip, shard=g.shard)
                                                for g, y in zip(groups, ys)]))
        y[self._hubs[0]] = hub_y
        return y

    def _run_single(self, groups, teleports, walk, hubs, ys, scaled, damping, tol, max_iter):
        backend, stats = self.backend, self.sharded.stats
        while walk.n_iter < max_iter:
            started = time.perf_counter()
            base, scale = walk.coefficients(damping)
            results = [backend.submit(_step, g.rows, g.inv, t, y, g.plan, damping, base, scale, hubs.scaled, *scaled,
                                      shard=g.shard) for g, t, y in zip(groups, teleports, ys)]
            ys, scaled, part, partial = self._split(groups, results)
            part = hubs.finish(part, partial, damping, base, scale)
            walk.residual, walk.total, walk.dangling = _chunk_sums(part, 0)
            walk.n_iter += 1
            stats.iterations.append(("pagerank", self.name, time.perf_counter() - started))
            if walk.residual < tol:
                break
        return ys

    def pagerank(self, config: ScoringConfig, teleport=None):
        """:func:`influence.kernels.propagation.weighted_pagerank` of this layer, on the workers.

        Returns ``(rank, n_iter, residual)``, bitwise the local kernel's.
        """
        groups = self._setup()
        teleports = self._teleports(teleport, groups)
        ys, scaled, dangling = self._start(groups, teleports, 1)
        walk = _Walk(None, None, dangling)
        hubs = _Hubs(*self._hubs, self._hub_teleport(teleport))
        ys = self._run_single(groups, teleports, walk, hubs, ys, scaled, float(config.damping), config.tol,
                              config.max_iter)
        walk.y = self._final(groups, ys, hubs.y)
        return walk.rank(), walk.n_iter, walk.residual

    def pagerank_pair(self, config: ScoringConfig, teleport_a, teleport_b=None):
        """:func:`influence.kernels.propagation.weighted_pagerank_pair` of this layer, on the
        workers (``teleport_b`` None: uniform). Bitwise the local kernel's results."""
        backend, stats = self.backend, self.sharded.stats
        groups = self._setup()
        tel_a = self._teleports(teleport_a, groups)
        tel_b = self._teleports(teleport_b, groups)
        teleports = [backend.submit(_teleport_columns, a, b, shard=g.shard) for g, a, b in zip(groups, tel_a, tel_b)]
        ys, scaled, danglings = self._start(groups, teleports, 2)
        walks = [_Walk(None, None, danglings[j]) for j in range(2)]
        hub_tel = [self._hub_teleport(t) for t in (teleport_a, teleport_b)]
        hubs = _Hubs(*self._hubs, np.column_stack(hub_tel))
        damping, tol, max_iter = float(config.damping), config.tol, config.max_iter
        a, b = walks
        while a.n_iter < max_iter and not (a.residual < tol) and not (b.residual < tol):
            started = time.perf_counter()
            base0, scale0 = a.coefficients(damping)
            base1, scale1 = b.coefficients(damping)
            results = [backend.submit(_step_pair, g.rows, g.inv, t, y, g.plan, damping, base0, scale0, base1,
                                      scale1, hubs.scaled, *scaled, shard=g.shard)
                       for g, t, y in zip(groups, teleports, ys)]
            ys, scaled, part, partial = self._split(groups, results)
            part = hubs.finish_pair(part, partial, damping, base0, scale0, base1, scale1)
            for j, walk in enumerate(walks):
                walk.residual, walk.total, walk.dangling = _chunk_sums(part, 3 * j)
                walk.n_iter += 1
            stats.iterations.append(("pagerank_pair", self.name, time.perf_counter() - started))
        results = []
        for j, walk in enumerate(walks):
            y_j = [backend.submit(_column, y, j, shard=g.shard) for g, y in zip(groups, ys)]
            hubs_j = hubs.column(j, hub_tel[j])
            if walk.n_iter < max_iter and not (walk.residual < tol):  # the other one has converged
                scaled_j = [backend.submit(_column, s, j, shard=g.shard) for g, s in zip(groups, scaled)]
                single = tel_a if j == 0 else tel_b
                y_j = self._run_single(groups, single, walk, hubs_j, y_j, scaled_j, damping, tol, max_iter)
            walk.y = self._final(groups, y_j, hubs_j.y)
            results.append((walk.rank(), walk.n_iter, walk.residual))
        return tuple(results)


class _Hubs:
    """The long rows (hubs) of a walk on the client: ``y`` and ``y * inv_out_strength`` of each
    (one value per hub and walk), finished every iteration from the groups' block sums with the
    local kernel's own code (:func:`~influence.kernels.propagation._finish_long_rows`)."""

    def __init__(self, rows, block_base, inv, teleport, y=None, scaled=None):
        self.index = np.arange(rows.shape[0], dtype=np.int64)  # compact vectors: hub j at j
        self.block_base = block_base
        self.inv = as_input(inv, np.float64)
        self.teleport = as_input(teleport, np.float64)
        self.y = np.array(teleport, dtype=np.float64) if y is None else y
        if scaled is None:
            scaled = self.y * (self.inv if self.y.ndim == 1 else self.inv[:, None])
        self.scaled = scaled
        self._rows = rows

    def column(self, j: int, teleport) -> "_Hubs":
        """Walk ``j`` of a pair, to go on alone."""
        return _Hubs(self._rows, self.block_base, self.inv, teleport, np.ascontiguousarray(self.y[:, j]),
                     np.ascontiguousarray(self.scaled[:, j]))

    def _with_row(self, part):
        full = np.zeros((part.shape[0] + 1, part.shape[1]), np.float64)
        full[:-1] = part
        return full

    def finish(self, part, partial, damping, base, scale):
        """The per-chunk sums followed by the long rows' sums (the local kernel's order)."""
        if not self.index.shape[0]:
            return part
        full = self._with_row(part)
        scaled_next = np.empty_like(self.scaled)
        _finish_long_rows(self.index, self.block_base, partial, self.inv, self.teleport, damping, base, scale,
                          self.y, scaled_next, full, part.shape[0])
        self.scaled = scaled_next
        return full

    def finish_pair(self, part, partial, damping, base0, scale0, base1, scale1):
        if not self.index.shape[0]:
            return part
        full = self._with_row(part)
        scaled_next = np.empty_like(self.scaled)
        _finish_long_rows_pair(self.index, self.block_base, partial, self.inv, self.teleport, damping, base0, scale0,
                               base1, scale1, self.y, scaled_next, full, part.shape[0])
        self.scaled = scaled_next
        return full


@dataclass(frozen=True, eq=False)
class _Plan:
    """What a group's step needs besides its arrays (small: sent with every step)."""

    bounds: np.ndarray  # its chunks' start rows, from its first row
    edge_bounds: np.ndarray  # its chunks' start edges (global positions)
    edge_offset: int  # global position of its first edge
    block: int  # edges per block of a long row
    long_rows: np.ndarray  # its long rows, from its first row
    long_slot: np.ndarray  # slot of each one's first block in its block sums (< 0: blocks of the group before)
    n_blocks: int  # block sums it returns
    skip: int  # 1 if its first row is a hub owned by the group before
    hub_rows: np.ndarray  # every long row of the layer (global): their scaled values come from the client


@dataclass(frozen=True, eq=False)
class _Group:
    shard: int  # where it runs
    lo: int
    hi: int
    rows: object  # handle: (global indptr, uint32 sources, data) of rows [lo, hi), edges of its range only
    inv: object  # handle: 1 / out-strength of rows [lo, hi)
    plan: _Plan
    n_edges: int  # edges it holds


@dataclass
class ShardStats:
    """What the sharded run did: wall seconds per step and bytes where they were."""

    timings: dict
    iterations: list  # (walk, layer, seconds) per PageRank iteration and RR sampling pass
    shard_bytes: list  # CSR bytes per shard (all layers)
    gathered_bytes: int = 0  # bytes of every value the client gathered (load, stages, walks)
    largest_gathered: int = 0  # entries of the longest array the client gathered (at most n + 1)
    backend: str = ""  # the backend's name
    stages: list = field(default_factory=list)  # (edge stage, seconds) per run on the stage worker

    def count(self, values) -> None:
        self.gathered_bytes += _nbytes(values)
        self.largest_gathered = max(self.largest_gathered, _largest(values))


class _Metered(Backend):
    """A backend whose :meth:`gather` counts what reaches the client in a :class:`ShardStats`."""

    def __init__(self, inner: Backend, stats: ShardStats):
        self.inner = inner
        self.stats = stats
        self.n_shards = inner.n_shards
        self.name = inner.name

    def put(self, value, shard=None):
        return self.inner.put(value, shard)

    def submit(self, fn, *args, shard: int, n_out: int = 1):
        return self.inner.submit(fn, *args, shard=shard, n_out=n_out)

    def gather(self, handles) -> list:
        values = self.inner.gather(handles)
        self.stats.count(values)
        return values

    def memory_limits(self) -> list:
        return self.inner.memory_limits()


def stage_worker(backend: Backend, n_rows: int, source: str, max_memory=None) -> int:
    """The shard whose worker runs the edge stages: the one with the largest memory limit (a
    worker without a limit counts as the largest; the first on ties). It holds the whole graph, so it needs about
    what a local run needs (:func:`influence.memory.needed_bytes`); when that exceeds
    ``max_memory`` (per process, as for the local backend) or the worker's own limit, whichever
    is smaller, this raises one :class:`InfluenceError` before anything is read."""
    limits = backend.memory_limits()
    room = [float("inf") if limit is None else limit for limit in limits]  # no limit: the largest
    shard = room.index(max(room))
    need = needed_bytes(n_rows)
    bounds = []
    if max_memory is not None:
        limit = parse_size(max_memory)
        bounds.append((limit, f"--max-memory {format_size(limit)} allows",
                       "use workers with more memory or a sample of the graph"))
    if limits[shard] is not None:
        bounds.append((limits[shard], f"the {format_size(limits[shard])} memory limit of the largest worker",
                       "give one worker more memory (dask worker --memory-limit) or use a sample of the graph"))
    if bounds:
        limit, bound, advice = min(bounds, key=lambda b: b[0])  # the smaller binds
        if need > limit:
            raise memory_error(source, n_rows, need, bound, advice, " on the stage worker (it holds the whole graph)")
    return shard


class ShardedGraph:
    """The shards of a graph on a backend: ``bounds`` (destination ranges) and their handles."""

    def __init__(self, backend: Backend, bounds: np.ndarray, shards: list, stats: ShardStats):
        self.backend = backend
        self.bounds = bounds
        self.shards = shards
        self.stats = stats


def _merge_tree(backend: Backend, handles: list, shards: list) -> object:
    """Merge distinct-id handles in a tree of fan-in ``_MERGE_FAN_IN`` on the workers."""
    while len(handles) > 1:
        merged, where = [], []
        for i in range(0, len(handles), _MERGE_FAN_IN):
            part = handles[i:i + _MERGE_FAN_IN]
            merged.append(backend.submit(_distinct_ids, *part, shard=shards[i]))
            where.append(shards[i])
        handles, shards = merged, where
    return handles[0]


def load_sharded(backend: Backend, path, nodes=None, *, src_col: str = "src", dst_col: str = "dst",
                 config: ScoringConfig | None = None, max_memory=None) -> Graph:
    """Read the Parquet edges at ``path`` on the backend's workers and build the sharded graph.

    Returns a :class:`~influence.graph.Graph` that scores as ``influence.load(path, nodes)``
    (bitwise): ids, node table and report here, the edges on the workers (``graph.stages``: a
    :class:`ShardedStages`; layers are :class:`~influence.graph.LayerSummary`, the walk layers
    :class:`RemoteLayer`). :func:`sharded_stats` records what the load, the stages and the walks
    did. See the module docstring for what crosses the network. The stage worker and the memory
    check: :func:`stage_worker`.
    """
    config = config or ScoringConfig()
    check_sharded_input(path)
    timings = {}
    stats = ShardStats(timings=timings, iterations=[], shard_bytes=[], backend=backend.name)
    backend = _Metered(backend, stats)  # everything the client gathers is counted
    started = time.perf_counter()
    pieces, node_default, source = plan_pieces(path, backend.n_shards)
    stage = stage_worker(backend, sum(p.length for p in pieces), source, max_memory)
    n_pieces = len(pieces)
    piece_shard = [min(backend.n_shards - 1, (i * backend.n_shards) // n_pieces) for i in range(n_pieces)]
    read = [backend.submit(_read_piece, p, src_col, dst_col, shard=s) for p, s in zip(pieces, piece_shard)]
    summaries = backend.gather([backend.submit(_piece_summary, r, shard=s) for r, s in zip(read, piece_shard)])
    id_type, ts_range = join_parts(source, [d for d, _, _, _ in summaries], [r for _, _, _, r in summaries])
    kinds = tuple(sorted(set().union(*(set(k) for _, k, _, _ in summaries))))
    n_rows = sum(h for _, _, h, _ in summaries)
    if len(kinds) >= 255:
        raise SchemaError(f"{source}: {len(kinds)} distinct edge kinds; the dask backend takes at most 254")

    if nodes is None:
        nodes = node_default
    node_table = read_node_table(nodes, id_type)[0] if nodes is not None else None
    timings["read"] = time.perf_counter() - started

    # distinct ids: per shard, then a tree on the workers; the client gathers the sorted union
    started = time.perf_counter()
    per_shard = []
    for s in range(backend.n_shards):
        mine = [r for r, ps in zip(read, piece_shard) if ps == s]
        if mine:
            per_shard.append((backend.submit(_distinct_ids, *mine, shard=s), s))
    handles = [h for h, _ in per_shard]
    where = [s for _, s in per_shard]
    if node_table is not None:
        handles.append(backend.put(node_table["id"].rename("src"), shard=where[0]))
        where.append(where[0])
    union = _merge_tree(backend, handles, where)
    ids_handle = backend.submit(_sorted_ids, union, shard=where[0])
    ids = backend.gather([ids_handle])[0]
    _check_id_count(ids.len())
    n = ids.len()
    timings["ids"] = time.perf_counter() - started

    # rows to dense indices, split by destination range; shards built where they live
    started = time.perf_counter()
    n_shards = max(1, min(backend.n_shards, n))
    bounds = np.array([(n * s) // n_shards for s in range(n_shards + 1)], np.int64)
    unknown, weight_of, member_of, kind_weight = kind_tables(kinds, config)
    mapped = [backend.submit(_map_piece, r, ids_handle, kinds, bounds, shard=s, n_out=n_shards + 1)
              for r, s in zip(read, piece_shard)]
    del read
    try:  # an overflow is raised where a shard is built (in process) or when it is gathered
        shards = [backend.submit(_build_shard, int(bounds[s]), int(bounds[s + 1]), kind_weight, member_of,
                                 *[m[s] for m in mapped], shard=s) for s in range(n_shards)]
    except WeightOverflowError as error:
        raise _named_overflow(error, ids, source) from None
    counts = backend.gather([m[-1] for m in mapped])
    del mapped
    per_kind = np.sum([c[0] for c in counts], axis=0)
    n_self_loops = int(sum(c[1] for c in counts))
    n_zero = int(sum(c[2] for c in counts))
    if unknown:
        warnings.warn(
            f"{source}: unknown edge kind(s) {', '.join(map(repr, unknown))} treated as positive "
            f"interactions of weight {config.unknown_kind_weight:g}",
            stacklevel=2,
        )
    rows_by_kind = summarise_rows(source, kinds, per_kind, n_rows, n_self_loops, n_zero)

    # the whole graph for the edge stages, assembled on the stage worker (shards worker to
    # worker); the client keeps per-layer counts and, for the walks, the row pointers
    backend.gather([backend.submit(_forget_index, shard=s) for s in range(backend.n_shards)])
    try:
        stats.shard_bytes = backend.gather([backend.submit(_nbytes, h, shard=s) for s, h in enumerate(shards)])
    except WeightOverflowError as error:
        raise _named_overflow(error, ids, source) from None
    timings["build"] = time.perf_counter() - started
    started = time.perf_counter()
    sharded = ShardedGraph(backend, bounds, shards, stats)
    stages = ShardedStages(sharded, backend.submit(_assemble_graph, n, bounds, ids_handle, *shards, shard=stage), stage)
    layer_counts = stages.run(_layer_counts)
    layers = {}
    for name in LAYER_NAMES:
        summary = (name, n, *layer_counts[name], partial(stages.run, _layer_vector, name))
        if name in REMOTE_LAYERS:
            layers[name] = RemoteLayer(*summary, remote=ShardedLayer(sharded, name, stages.run(_layer_indptr, name)))
        else:
            layers[name] = LayerSummary(*summary)
    timings["stage graph"] = time.perf_counter() - started
    # the walks' rows, cut per group now; then the shards (every layer) can be freed on the workers
    started = time.perf_counter()
    for name in REMOTE_LAYERS:
        layers[name].remote._setup()
    backend.gather([backend.submit(_ready, g.rows, g.inv, shard=g.shard)
                    for name in REMOTE_LAYERS for g in layers[name].remote._setup()])
    sharded.shards = None
    timings["groups"] = time.perf_counter() - started
    nodes_frame = None
    if node_table is not None:
        nodes_frame = pl.DataFrame({"id": ids}).join(node_table, on="id", how="left", maintain_order="left")
    report = LoadReport(n_rows=n_rows, n_self_loops=n_self_loops, rows_by_kind=rows_by_kind,
                        unknown_kinds=unknown, source=source, n_zero_weight=n_zero, ts_range=ts_range)
    return Graph(ids=ids, layers=layers, nodes=nodes_frame, report=report,
                 kind_weights={k: weight_of[k] for k in rows_by_kind}, edge_stages=stages)


def sharded_stats(graph: Graph) -> ShardStats | None:
    """The :class:`ShardStats` of a graph loaded by :func:`load_sharded` (None otherwise)."""
    stages = graph.edge_stages
    return stages.sharded.stats if isinstance(stages, ShardedStages) else None


__all__ = ["Piece", "RemoteLayer", "ShardStats", "ShardedGraph", "ShardedLayer", "ShardedStages", "load_sharded",
           "plan_pieces", "sharded_stats"]
