"""The graph: an id map plus CSR arrays (in- and out-edges) per layer.

Layers, all built from the same edge table (``src -> dst``: src pays attention to dst):

``follow``
    ``follow`` edges; weight = how many times the row appears (normally 1).
``interaction``
    positive interactions; weight = sum of count x kind weight
    (share/retweet > quote > comment/reply/trust > like/mention; configurable).
``events``
    the same positive interactions counted without kind weights (weight = number of events).
``reshare``
    the ``share``/``retweet``/``quote`` subset of ``interaction``; weight = count.
``negative``
    ``distrust``/``dislike``/``report``/``block``/``unfollow``; weight = count.
``attention``
    the union of ``follow`` and ``interaction`` (weight = follow count + interaction weight):
    everyone who pays positive attention to an account.

Account indices are dense int32 in ``[0, n_nodes)``, assigned in sorted id order, so they do
not depend on the order of the input rows. No array is ever sized by an id value.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl

from .config import FOLLOW_KINDS, INTERACTION_KINDS, NEGATIVE_KINDS, RESHARE_KINDS, ScoringConfig
from .errors import EmptyGraphError, InfluenceError, SchemaError
from .io.read import RawInput, kind_codes
from .kernels.csr import (
    IntIdIndex, build_layers_from, coo_to_csr, ids_in_range, prepare_rows, select_to_csr, transpose_csr,
)
from .kernels.neighbourhood import column_sums, row_sums

LAYER_NAMES = ("follow", "interaction", "events", "reshare", "negative", "attention")
_FOLLOW, _INTERACTION, _NEGATIVE = 0, 1, 2
# Bits of a row's layer membership (a row of kind ``share`` is in interaction, reshare, attention).
_IN_FOLLOW, _IN_INTERACTION, _IN_RESHARE, _IN_NEGATIVE, _IN_ATTENTION = 1, 2, 4, 8, 16
_NO_WEIGHTS = np.zeros(0, np.float64)


@dataclass(frozen=True, eq=False)
class Layer:
    """One edge layer as CSR over targets (``in_*``) and over sources (``out_*``).

    Row ``v`` of the in-CSR lists the accounts ``u`` with an edge ``u -> v`` (``v``'s audience
    in this layer); row ``u`` of the out-CSR lists the accounts ``u`` pays attention to.

    Only the in-CSR is built with the graph. The out-CSR is the in-CSR's transpose, built on
    first use (most layers never need it); ``out_degree`` and ``out_strength`` are computed
    from the in-CSR without it (the same values, bitwise: an out-row lists its targets in
    ascending order, which is the order the in-CSR visits them).
    """

    in_indptr: np.ndarray
    in_indices: np.ndarray
    in_data: np.ndarray

    @property
    def n_edges(self) -> int:
        """Distinct (src, dst) pairs in this layer."""
        return int(self.in_indices.shape[0])

    @property
    def n_nodes(self) -> int:
        return int(self.in_indptr.shape[0] - 1)

    @cached_property
    def _out(self) -> tuple:
        return transpose_csr(self.in_indptr, self.in_indices, self.in_data, self.n_nodes)

    @property
    def out_indptr(self) -> np.ndarray:
        """int64[n + 1]: row pointer of the out-CSR (built on first use)."""
        return self._out[0]

    @property
    def out_indices(self) -> np.ndarray:
        """int32: targets of each account's out-edges, ascending per row (built on first use)."""
        return self._out[1]

    @property
    def out_data(self) -> np.ndarray:
        """float32: weights of the out-edges (built on first use)."""
        return self._out[2]

    @property
    def has_out_csr(self) -> bool:
        """Whether the out-CSR has been built."""
        return "_out" in self.__dict__

    @cached_property
    def in_degree(self) -> np.ndarray:
        """int64[n]: distinct accounts pointing at each account."""
        return np.diff(self.in_indptr)

    @cached_property
    def out_degree(self) -> np.ndarray:
        """int64[n]: distinct accounts each account points at."""
        return np.bincount(self.in_indices, minlength=self.n_nodes).astype(np.int64, copy=False)

    @cached_property
    def in_strength(self) -> np.ndarray:
        """float64[n]: total weight of each account's in-edges."""
        return row_sums(self.in_indptr, self.in_data)

    @cached_property
    def out_strength(self) -> np.ndarray:
        """float64[n]: total weight of each account's out-edges."""
        return column_sums(self.in_indptr, self.in_indices, self.in_data, self.n_nodes)

    @cached_property
    def in_data_sum(self) -> float:
        """Total weight of the layer (``in_data.sum()``, float32 pairwise as numpy adds it)."""
        return float(self.in_data.sum())

    @cached_property
    def in_data_max(self) -> float:
        """Largest weight of one (src, dst) pair; 0.0 for an empty layer."""
        return float(self.in_data.max()) if self.n_edges else 0.0

    @classmethod
    def from_edges(cls, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n_nodes: int) -> "Layer":
        """Build the layer from int32 ``src``/``dst`` indices; duplicate pairs are summed."""
        return cls(*coo_to_csr(dst, src, weight, n_nodes))

    def to_scipy(self):
        """The layer as a ``scipy.sparse.csr_array`` with ``A[u, v]`` = weight of ``u -> v``."""
        import scipy.sparse as sp

        n = self.n_nodes
        return sp.csr_array((self.out_data, self.out_indices, self.out_indptr), shape=(n, n))


class EdgesElsewhereError(InfluenceError):
    """A layer's edges were asked for where only its per-account summary is held (the client of
    a sharded backend: the edges live on the workers)."""


#: The per-account vectors a :class:`LayerSummary` serves (computed where the edges are).
SUMMARY_VECTORS = ("in_degree", "out_degree", "in_strength", "out_strength")


class LayerSummary:
    """What the client of a sharded backend holds of a layer: its counts and per-account vectors,
    never its edges (``docs/distributed.md``).

    ``n_edges``, ``in_data_sum`` and ``in_data_max`` are given; ``in_degree``, ``out_degree``,
    ``in_strength`` and ``out_strength`` are fetched on first use with ``fetch(name)``, from the
    :class:`Layer` where the edges are (so they are that layer's values, bitwise). The CSR arrays
    raise :class:`EdgesElsewhereError`: a stage that needs edges runs where they are
    (``Graph.stages``).
    """

    def __init__(self, name: str, n_nodes: int, n_edges: int, in_data_sum: float, in_data_max: float, fetch):
        self.name = name
        self.n_nodes = n_nodes
        self.n_edges = n_edges
        self.in_data_sum = in_data_sum
        self.in_data_max = in_data_max
        self._fetch = fetch
        self._vectors = {}

    def _vector(self, name: str) -> np.ndarray:
        if name not in self._vectors:
            self._vectors[name] = self._fetch(name)
        return self._vectors[name]

    in_degree = property(lambda self: self._vector("in_degree"), doc="int64[n] (fetched on first use)")
    out_degree = property(lambda self: self._vector("out_degree"), doc="int64[n] (fetched on first use)")
    in_strength = property(lambda self: self._vector("in_strength"), doc="float64[n] (fetched on first use)")
    out_strength = property(lambda self: self._vector("out_strength"), doc="float64[n] (fetched on first use)")
    has_out_csr = False

    def _no_edges(self, attr: str):
        raise EdgesElsewhereError(
            f"the {self.name} layer's edges live on the cluster's workers, not in this process ({attr}); "
            "stages that need edges run there (Graph.stages), or load the graph locally with influence.load"
        )

    in_indptr = property(lambda self: self._no_edges("in_indptr"))
    in_indices = property(lambda self: self._no_edges("in_indices"))
    in_data = property(lambda self: self._no_edges("in_data"))
    out_indptr = property(lambda self: self._no_edges("out_indptr"))
    out_indices = property(lambda self: self._no_edges("out_indices"))
    out_data = property(lambda self: self._no_edges("out_data"))

    def to_scipy(self):
        self._no_edges("to_scipy")


class LocalStages:
    """Runs the edge stages of a graph whose layers hold their edges: here, at once.

    The interface (shared with :class:`influence.backends.sharded.ShardedStages`, which runs them
    on the worker that holds the assembled graph):

    ``run(fn, *args)``
        ``fn(graph, *args)`` where the edges are; returns its (per-account) result here.
    ``keep(fn, *args)``
        ``fn(graph, *args)`` where the edges are; the result stays there (a handle).
    ``sum_ranges(fn, kept, start, stop, label)``
        ``fn(kept, a, b)`` over contiguous sub-ranges ``[a, b)`` of ``[start, stop)`` (one per
        worker when sharded), their results (tuples of integer arrays and ints) added entrywise:
        for any split the result of ``fn(kept, start, stop)`` when ``fn`` is additive over ranges.
    ``release(kept)``
        drop a kept value.
    """

    def __init__(self, graph: "Graph"):
        self.graph = graph

    def run(self, fn, *args):
        return fn(self.graph, *args)

    def keep(self, fn, *args):
        return fn(self.graph, *args)

    def sum_ranges(self, fn, kept, start: int, stop: int, label: str) -> tuple:
        return fn(kept, start, stop)

    def release(self, kept) -> None:
        pass


@dataclass(frozen=True, eq=False)
class LoadReport:
    """What loading did to the input: counts for warnings and the report."""

    n_rows: int
    n_self_loops: int
    rows_by_kind: dict
    unknown_kinds: tuple
    source: str
    n_zero_weight: int = 0
    ts_range: tuple | None = None  # (first, last) ``ts`` in unix seconds, when the input has one


@dataclass(frozen=True, eq=False)
class Graph:
    """Accounts and their edge layers.

    Attributes
    ----------
    ids
        polars Series (Int64 or String) of account ids; position ``i`` is account index ``i``.
    layers
        ``{name: Layer}`` for every name in ``LAYER_NAMES`` (empty layers included).
    nodes
        The node table aligned to ``ids`` (one row per account, nulls where absent), or None.
    report
        Counts from loading.
    edge_stages
        None when ``layers`` hold the edges; with a sharded backend the runner of the stages that
        need edges on the worker that holds them (``layers`` are then :class:`LayerSummary`).
    """

    ids: pl.Series
    layers: dict
    nodes: pl.DataFrame | None
    report: LoadReport
    kind_weights: dict = field(default_factory=dict)
    #: Where the edge stages run: None when the layers hold their edges (:class:`LocalStages`),
    #: else a runner on the workers that hold them (``influence.backends.sharded.ShardedStages``).
    edge_stages: object = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        return int(self.ids.len())

    @property
    def stages(self):
        """The runner of the stages that need this graph's edges (see :class:`LocalStages`)."""
        return self.edge_stages if self.edge_stages is not None else LocalStages(self)

    @property
    def follow(self) -> Layer:
        return self.layers["follow"]

    @property
    def interaction(self) -> Layer:
        return self.layers["interaction"]

    @property
    def events(self) -> Layer:
        return self.layers["events"]

    @property
    def reshare(self) -> Layer:
        return self.layers["reshare"]

    @property
    def negative(self) -> Layer:
        return self.layers["negative"]

    @property
    def attention(self) -> Layer:
        return self.layers["attention"]

    def node_column(self, name: str, default=None, dtype=np.float64) -> np.ndarray | None:
        """A node-table column as a numpy array aligned to account indices, nulls -> ``default``.

        Returns None when there is no node table or no such column.
        """
        if self.nodes is None or name not in self.nodes.columns:
            return None
        col = self.nodes[name]
        if default is not None:
            col = col.fill_null(default)
        return col.to_numpy().astype(dtype, copy=False)

    @property
    def has_reported_followers(self) -> bool:
        """The node table reports a follower count for at least one account (a ``followers``
        column of nulls only reports nothing)."""
        return (self.nodes is not None and "followers" in self.nodes.columns
                and self.nodes["followers"].null_count() < self.n_nodes)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={v.n_edges}" for k, v in self.layers.items() if k not in ("attention", "events"))
        return f"Graph(n_nodes={self.n_nodes}, {sizes})"


def _dense_ids(src: pl.Series, dst: pl.Series, node_ids: pl.Series | None):
    """Sorted distinct ids and int32 indices of ``src`` and ``dst`` into them."""
    parts = [src, dst] if node_ids is None else [src, dst, node_ids]
    if src.dtype != pl.String:
        lo = min(int(p.min()) for p in parts if p.len())
        hi = max(int(p.max()) for p in parts if p.len())
        if hi - lo < src.len() // 4 + (1 << 20):  # ids in a narrow range: a direct table
            unique, (src_idx, dst_idx) = ids_in_range([_chunks(p) for p in parts], lo, hi, n_mapped=2)
            _check_id_count(unique.shape[0])
            return pl.Series(src.name, unique, dtype=pl.Int64), src_idx, dst_idx
    unique = pl.concat(parts).unique().sort()
    _check_id_count(unique.len())
    if unique.dtype == pl.String:
        enum = pl.Enum(unique)
        src_idx = src.cast(enum).to_physical().to_numpy().astype(np.int32)
        dst_idx = dst.cast(enum).to_physical().to_numpy().astype(np.int32)
    else:
        index = IntIdIndex(unique.to_numpy())
        src_idx = index.lookup(src.to_numpy())
        dst_idx = index.lookup(dst.to_numpy())
    return unique, src_idx, dst_idx


def _chunks(series: pl.Series) -> list:
    """The numpy arrays of a column's chunks (no copy; a copy only where a chunk has nulls)."""
    return [chunk.to_numpy() for chunk in series.get_chunks()]


def _check_id_count(n_ids: int) -> None:
    if n_ids >= 2**31 - 1:
        raise EmptyGraphError("more than 2**31 - 2 distinct accounts; the engine indexes accounts with int32")


def kind_tables(kinds, config: ScoringConfig):
    """Per-kind tables of the layer build, indexed by a kind's position in ``kinds``.

    Returns ``(unknown, weight_of, member_of, kind_weight)``: the kinds that are neither follow,
    negative, a known interaction nor configured (sorted); ``{kind: weight}`` (1.0 outside the
    interaction layer); uint8 layer-membership bits per kind; float64 weight per kind.
    """
    known = FOLLOW_KINDS | NEGATIVE_KINDS | INTERACTION_KINDS | set(config.kind_weights)
    unknown = tuple(sorted(k for k in kinds if k not in known))
    layer_of = {k: (_FOLLOW if k in FOLLOW_KINDS else _NEGATIVE if k in NEGATIVE_KINDS else _INTERACTION) for k in kinds}
    weight_of = {
        k: (1.0 if layer_of[k] != _INTERACTION else float(config.kind_weights.get(k, config.unknown_kind_weight)))
        for k in kinds
    }
    # The kinds' codes index small per-kind tables.
    member_of = np.zeros(len(kinds), np.uint8)  # which layers a row of each kind belongs to
    for code, k in enumerate(kinds):
        if layer_of[k] == _FOLLOW:
            member_of[code] = _IN_FOLLOW | _IN_ATTENTION
        elif layer_of[k] == _INTERACTION:
            member_of[code] = _IN_INTERACTION | _IN_ATTENTION | (_IN_RESHARE if k in RESHARE_KINDS else 0)
        else:
            member_of[code] = _IN_NEGATIVE
    kind_weight = np.array([weight_of[k] for k in kinds], np.float64)
    return unknown, weight_of, member_of, kind_weight


def summarise_rows(source: str, kinds, per_kind, n_rows: int, n_self_loops: int, n_zero: int) -> dict:
    """``{kind: rows}`` of the kinds present, most rows first (ties by name), after warning
    about dropped self-loops and weight-0 rows; an :class:`EmptyGraphError` when every row is a
    self-loop. Shared by the local build and the sharded load, so both say the same."""
    if n_self_loops:
        warnings.warn(f"{source}: dropped {n_self_loops:,} self-loop(s)", stacklevel=3)
    if n_self_loops == n_rows:
        raise EmptyGraphError(f"{source}: every edge is a self-loop; nothing to score")
    if n_zero:
        warnings.warn(f"{source}: ignored {n_zero:,} row(s) of weight 0", stacklevel=3)
    present = sorted(np.flatnonzero(per_kind).tolist(), key=lambda i: (-per_kind[i], kinds[i]))
    return {kinds[i]: int(per_kind[i]) for i in present}


def build_graph(raw: RawInput, config: ScoringConfig | None = None) -> Graph:
    """Build a :class:`Graph` from validated input tables.

    Self-loops and rows of weight 0 are dropped (counted in warnings), duplicate rows summed
    (accounts that appear only there are kept, with no edge), unknown kinds treated
    as positive interactions of weight ``config.unknown_kind_weight`` (named in a warning).

    The input tables are released (this function's references to ``raw`` and its edge table
    dropped) once the rows are turned into index arrays, before the layers are built: when the
    caller holds no reference to ``raw`` either, as :func:`influence.load` does, its memory
    (about 28 bytes per edge row) is free for the layer build.
    """
    config = config or ScoringConfig()
    edges = raw.edges
    kind = edges["kind"]
    if kind.dtype == pl.Categorical and raw.kind_table is not None:
        kinds, table = list(raw.kinds), raw.kind_table
    else:
        if kind.dtype != pl.Categorical:
            kind = kind.cast(pl.String).cast(pl.Categorical)
        kinds, table = kind_codes(kind, raw.source)
        kinds = list(kinds)
    unknown, weight_of, member_of, kind_weight = kind_tables(kinds, config)
    if unknown:
        warnings.warn(
            f"{raw.source}: unknown edge kind(s) {', '.join(map(repr, unknown))} treated as positive "
            f"interactions of weight {config.unknown_kind_weight:g}",
            stacklevel=2,
        )

    node_ids = raw.nodes["id"] if raw.nodes is not None else None
    ids, src_idx, dst_idx = _dense_ids(edges["src"], edges["dst"], node_ids)
    n = int(ids.len())

    # Self-loops are dropped; so are rows of weight 0, which record no interaction: they must
    # not add an audience member. Dropped rows get code 255.
    if len(kinds) < 255:
        code, count, per_kind, n_self_loops, n_zero = prepare_rows(
            _chunks(kind.to_physical()), table, src_idx, dst_idx, _chunks(edges["weight"]))
        keep = None
    else:
        count = edges["weight"].to_numpy()
        kind_code = table[kind.to_physical().to_numpy()]
        per_kind = np.bincount(kind_code, minlength=len(kinds))
        keep = src_idx != dst_idx
        n_self_loops = int(keep.size - np.count_nonzero(keep))
        zero = keep & (count == 0)
        n_zero = int(np.count_nonzero(zero))
        keep &= ~zero
        del zero
    source, node_table, ts_range, n_rows = raw.source, raw.nodes, raw.ts_range, edges.height
    del raw, edges, kind, node_ids  # the input tables are not needed any more
    rows_by_kind = summarise_rows(source, kinds, per_kind, n_rows, n_self_loops, n_zero)

    # Follow and negative kinds weigh exactly 1.0, so ``count * kind_weight`` is the weight of
    # every layer that uses kind weights (interaction, and attention's follow + interaction).
    if keep is None:
        # handed over, so that the build frees them once grouped (17 bytes per row)
        edges_by_row = {"src": src_idx, "dst": dst_idx, "count": count, "code": code}
        del src_idx, dst_idx, count, code
        layers = _build_layers(edges_by_row, kind_weight, member_of, n)
    else:  # more kinds than a uint8 code holds: one grouping pass per layer
        member = member_of[kind_code]
        member[~keep] = 0
        weighted = count * kind_weight[kind_code]
        del keep, kind_code
        layers = _build_layers_one_by_one(src_idx, dst_idx, count, weighted, member, n)
        del member, weighted, src_idx, dst_idx

    try:
        check_finite_weights(layers, ids)
    except WeightOverflowError as error:
        raise SchemaError(f"{source}: {error}") from None

    nodes = None
    if node_table is not None:
        nodes = pl.DataFrame({"id": ids}).join(node_table, on="id", how="left", maintain_order="left")
    report = LoadReport(
        n_rows=n_rows,
        n_self_loops=n_self_loops,
        rows_by_kind=rows_by_kind,
        unknown_kinds=unknown,
        source=source,
        n_zero_weight=n_zero,
        ts_range=ts_range,
    )
    return Graph(ids=ids, layers=layers, nodes=nodes, report=report,
                 kind_weights={k: weight_of[k] for k in rows_by_kind})


class WeightOverflowError(SchemaError):
    """A pair's summed weight is beyond float32's range (see :func:`check_finite_weights`).

    ``src`` and ``dst`` are dense account positions and ``layer`` the layer's name, so that a
    caller holding the ids (the client of a sharded load) can name the pair.
    """

    def __init__(self, message: str, src: int = -1, dst: int = -1, layer: str = ""):
        super().__init__(message)
        self.src, self.dst, self.layer = src, dst, layer


def weight_overflow_message(src_id, dst_id, layer: str) -> str:
    return (f"the pair {src_id!r} -> {dst_id!r} sums to a weight beyond float32's range (about "
            f"3.4e38) in the {layer!r} layer; weights must be smaller (rescale them)")


def check_finite_weights(layers: dict, ids=None, offset: int = 0) -> None:
    """Raise :class:`WeightOverflowError` when a layer's summed weight overflowed float32.

    Row weights are checked to be finite when read, but a layer stores each pair's summed
    (and kind-weighted) weight as float32, whose largest value is about 3.4e38: weights near it,
    or many duplicate rows of large weights, sum to infinity, which would turn every score that
    uses the weights into NaN. The first such pair is named by its ids when ``ids`` is given,
    else by positions (the layers' rows start at account ``offset``).
    """
    for name, layer in layers.items():
        data = layer.in_data
        if data.size and not np.isfinite(data.sum(dtype=np.float64)):
            k = int(np.flatnonzero(~np.isfinite(data))[0])
            src = int(layer.in_indices[k])
            dst = offset + int(np.searchsorted(layer.in_indptr, k, side="right") - 1)
            pair = (ids[src], ids[dst]) if ids is not None else (f"#{src}", f"#{dst}")
            raise WeightOverflowError(weight_overflow_message(*pair, name), src, dst, name)


# (structure bit) per layer structure, and (structure, weighted) per data array: interaction and
# events share the structure of the interaction rows.
_STRUCTURE_BITS = (_IN_FOLLOW, _IN_INTERACTION, _IN_RESHARE, _IN_NEGATIVE, _IN_ATTENTION)
_LAYER_DATA = (  # name, structure, weighted by kind
    ("follow", 0, False),
    ("interaction", 1, True),
    ("events", 1, False),
    ("reshare", 2, False),
    ("negative", 3, False),
    ("attention", 4, True),
)


def _build_layers(edges: dict, kind_weight, kind_member, n):
    """Every layer's in-CSR with one grouping pass (see ``build_layers``). ``edges`` holds the
    arrays ``src``, ``dst``, ``count`` and ``code``; it is emptied, so that they are freed once
    grouped."""
    bits = np.array(_STRUCTURE_BITS, np.uint8)
    struct_of = np.array([s for _, s, _ in _LAYER_DATA], np.int64)
    weighted_of = np.array([w for _, _, w in _LAYER_DATA], np.bool_)
    work = {"rows": edges.pop("dst"), "cols": edges.pop("src"), "count": edges.pop("count"), "code": edges.pop("code")}
    in_ptr, in_idx, in_data = build_layers_from(work, kind_weight, kind_member, bits, struct_of, weighted_of, n)
    return {name: Layer(in_ptr[s], in_idx[s], in_data[d]) for d, (name, s, _) in enumerate(_LAYER_DATA)}


def _build_layers_one_by_one(src_idx, dst_idx, count, weighted, member, n):
    def layers_of(bit, w0, w1=None):
        second = _NO_WEIGHTS if w1 is None else w1
        in_indptr, in_indices, in_d0, in_d1 = select_to_csr(dst_idx, src_idx, w0, second, member, bit, n)
        first = Layer(in_indptr, in_indices, in_d0)
        if w1 is None:
            return first
        return first, Layer(in_indptr, in_indices, in_d1)

    layers = {"follow": layers_of(_IN_FOLLOW, count)}
    layers["interaction"], layers["events"] = layers_of(_IN_INTERACTION, weighted, count)
    layers["reshare"] = layers_of(_IN_RESHARE, count)
    layers["negative"] = layers_of(_IN_NEGATIVE, count)
    layers["attention"] = layers_of(_IN_ATTENTION, weighted)
    return {name: layers[name] for name in LAYER_NAMES}
