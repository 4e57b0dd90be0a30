"""``graph.build_graph`` (through ``influence.load`` on polars frames) against a naive dict of sums."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import influence
import reference as ref
from influence.config import DEFAULT_KIND_WEIGHTS, NEGATIVE_KINDS, ScoringConfig
from influence.errors import EmptyGraphError
from influence.graph import LAYER_NAMES, Layer

I64 = np.iinfo(np.int64)
KINDS = ["follow", "like", "comment", "reply", "share", "retweet", "quote", "mention", "trust",
         "distrust", "dislike", "report", "block", "unfollow"]


def _frame(rows):
    src, dst, kind, weight = zip(*rows)
    return pl.DataFrame({"src": list(src), "dst": list(dst), "kind": list(kind), "weight": list(weight)})


def _load_quiet(edges, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return influence.load(edges, **kwargs)


def _check_layers(graph, rows, kind_weights=DEFAULT_KIND_WEIGHTS, unknown_weight=1.0):
    ids = graph.ids.to_list()
    want = ref.layers_naive(rows, kind_weights, unknown_weight)
    assert set(graph.layers) == set(LAYER_NAMES)
    for name in LAYER_NAMES:
        layer = graph.layers[name]
        got = ref.layer_as_id_dict(layer, ids)
        assert got.keys() == want[name].keys(), name
        for key, w in want[name].items():
            assert got[key] == pytest.approx(w, rel=1e-6), (name, key)
        _check_layer_consistent(layer, len(ids))


def _check_layer_consistent(layer: Layer, n):
    """in- and out-CSR describe the same edges; dtypes, sortedness, derived vectors."""
    assert layer.in_indptr.dtype == np.int64 and layer.out_indptr.dtype == np.int64
    assert layer.in_indices.dtype == np.int32 and layer.out_indices.dtype == np.int32
    assert layer.in_data.dtype == np.float32 and layer.out_data.dtype == np.float32
    assert layer.in_indptr.shape == (n + 1,) and layer.out_indptr.shape == (n + 1,)
    for indptr, indices in ((layer.in_indptr, layer.in_indices), (layer.out_indptr, layer.out_indices)):
        for r in range(n):
            row = indices[indptr[r]:indptr[r + 1]]
            assert (np.diff(row) > 0).all()  # sorted, no duplicate
    a = layer.to_scipy()
    assert a.shape == (n, n)
    t = a.T.tocsr()
    t.sort_indices()
    np.testing.assert_array_equal(t.indptr, layer.in_indptr)
    np.testing.assert_array_equal(t.indices, layer.in_indices)
    np.testing.assert_array_equal(t.data, layer.in_data)
    np.testing.assert_array_equal(layer.in_degree, np.diff(t.indptr))
    np.testing.assert_array_equal(layer.out_degree, np.diff(a.indptr))
    np.testing.assert_allclose(layer.in_strength, np.asarray(a.astype(np.float64).sum(axis=0)).ravel(), rtol=1e-12)
    np.testing.assert_allclose(layer.out_strength, np.asarray(a.astype(np.float64).sum(axis=1)).ravel(), rtol=1e-12)
    assert layer.n_edges == a.nnz


MIXED_ROWS = [
    (1, 2, "follow", 1.0),
    (1, 2, "follow", 1.0),  # duplicate follow: weight 2
    (3, 2, "follow", 1.0),
    (2, 1, "like", 2.0),
    (2, 1, "share", 1.0),  # interaction 2*1 + 1*3, events 3, reshare 1
    (3, 1, "quote", 2.0),  # interaction 5, reshare 2
    (1, 3, "comment", 1.0),
    (3, 2, "reply", 1.0),  # attention 3->2: follow 1 + reply 2
    (4, 1, "retweet", 1.0),
    (4, 2, "mention", 3.0),
    (5, 4, "trust", 1.0),
    (5, 1, "distrust", 2.0),
    (5, 2, "dislike", 1.0),
    (4, 3, "report", 1.0),
    (1, 4, "block", 1.0),
    (2, 5, "unfollow", 1.0),
    (2, 5, "follow", 1.0),  # a follow and a negative on the same pair
]


def test_layers_match_naive_sums():
    graph = _load_quiet(_frame(MIXED_ROWS))
    assert graph.ids.to_list() == [1, 2, 3, 4, 5]
    _check_layers(graph, MIXED_ROWS)
    a = {name: graph.layers[name].to_scipy().toarray() for name in LAYER_NAMES}
    # spot checks (index = id - 1)
    assert a["follow"][0, 1] == 2.0
    assert a["interaction"][1, 0] == 5.0 and a["events"][1, 0] == 3.0 and a["reshare"][1, 0] == 1.0
    assert a["interaction"][2, 0] == 5.0 and a["reshare"][2, 0] == 2.0
    assert a["attention"][2, 1] == 3.0
    assert a["negative"][4, 0] == 2.0 and a["attention"][4, 0] == 0.0
    assert a["negative"][1, 4] == 1.0 and a["follow"][1, 4] == 1.0


def test_negative_kinds_never_reach_attention():
    rows = [(1, 0, k, 1.0) for k in sorted(NEGATIVE_KINDS)] + [(2, 0, "follow", 1.0)]
    graph = _load_quiet(_frame(rows))
    assert graph.negative.to_scipy().toarray()[1, 0] == len(NEGATIVE_KINDS)
    for name in ("follow", "interaction", "events", "reshare", "attention"):
        assert graph.layers[name].to_scipy().toarray()[1, 0] == 0.0
    assert graph.attention.in_degree.tolist() == [1, 0, 0]


@pytest.mark.parametrize("seed", range(5))
def test_random_tables_match_naive_sums(seed):
    rng = np.random.default_rng(seed)
    m = 300
    rows = [
        (int(rng.integers(0, 30)), int(rng.integers(0, 30)), KINDS[rng.integers(0, len(KINDS))],
         float(rng.integers(0, 4)) / 2.0)
        for _ in range(m)
    ]
    graph = _load_quiet(_frame(rows))
    _check_layers(graph, rows)
    used = sorted({r[0] for r in rows} | {r[1] for r in rows})
    assert graph.ids.to_list() == used


def test_self_loops_dropped_with_warning():
    rows = [(1, 1, "follow", 1.0), (2, 2, "like", 1.0), (1, 2, "follow", 1.0), (3, 3, "follow", 1.0)]
    with pytest.warns(UserWarning, match=r"dropped 3 self-loop"):
        graph = influence.load(_frame(rows))
    assert graph.report.n_self_loops == 3
    assert graph.ids.to_list() == [1, 2, 3]  # an account seen only in a self-loop is kept, edgeless
    for name in LAYER_NAMES:
        assert np.diag(graph.layers[name].to_scipy().toarray()).sum() == 0
    _check_layers(graph, rows)


def test_only_self_loops_is_an_empty_graph():
    with pytest.raises(EmptyGraphError, match="self-loop"):
        _load_quiet(_frame([(1, 1, "follow", 1.0), (2, 2, "like", 1.0)]))


def test_duplicate_rows_are_summed():
    rows = [(1, 2, "follow", 1.0)] * 3 + [(1, 2, "like", 1.5)] * 2 + [(2, 1, "share", 1.0)] * 4
    graph = _load_quiet(_frame(rows))
    a = {name: graph.layers[name].to_scipy().toarray() for name in LAYER_NAMES}
    assert a["follow"][0, 1] == 3.0
    assert a["interaction"][0, 1] == 3.0 and a["events"][0, 1] == 3.0
    assert a["attention"][0, 1] == 6.0
    assert a["reshare"][1, 0] == 4.0 and a["interaction"][1, 0] == 12.0
    assert graph.follow.n_edges == 1 and graph.follow.in_degree.tolist() == [0, 1]
    assert graph.report.n_rows == 9 and graph.report.rows_by_kind == {"follow": 3, "like": 2, "share": 4}


def test_unknown_kind_warned_and_treated_as_interaction():
    rows = [(1, 2, "boost", 2.0), (3, 2, "follow", 1.0), (2, 3, "Like", 1.0), (1, 3, "zap", 1.0)]
    with pytest.warns(UserWarning, match=r"unknown edge kind\(s\) 'boost', 'zap'") as record:
        graph = influence.load(_frame(rows))
    assert len([w for w in record if "unknown edge kind" in str(w.message)]) == 1  # named once
    assert graph.report.unknown_kinds == ("boost", "zap")
    _check_layers(graph, [(s, d, k.lower(), w) for s, d, k, w in rows])
    a = graph.interaction.to_scipy().toarray()
    assert a[0, 1] == 2.0 and a[0, 2] == 1.0  # unknown kinds weigh 1 per event by default


def test_unknown_kind_weight_and_custom_kind_weights():
    rows = [(1, 2, "boost", 2.0), (1, 3, "like", 1.0), (2, 3, "share", 1.0)]
    config = ScoringConfig(unknown_kind_weight=0.5)
    with pytest.warns(UserWarning, match="weight 0.5"):
        graph = influence.load(_frame(rows), config=config)
    _check_layers(graph, rows, unknown_weight=0.5)
    custom = {"like": 4.0, "boost": 2.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # boost is known now: no warning
        graph = influence.load(_frame(rows), config=ScoringConfig(kind_weights=custom))
    _check_layers(graph, rows, kind_weights=custom)


def test_no_kind_column_means_follow():
    graph = _load_quiet(pl.DataFrame({"src": [1, 2, 2], "dst": [2, 1, 1]}))
    assert graph.follow.to_scipy().toarray().tolist() == [[0.0, 1.0], [2.0, 0.0]]
    assert graph.interaction.n_edges == 0 and graph.negative.n_edges == 0


def test_string_ids_sorted():
    rows = [("carol", "alice", "follow", 1.0), ("bob", "alice", "like", 1.0), ("Zed", "bob", "follow", 1.0),
            ("émile", "", "share", 1.0), ("", "carol", "follow", 1.0)]
    graph = _load_quiet(_frame(rows))
    assert graph.ids.dtype == pl.String
    assert graph.ids.to_list() == sorted({r[0] for r in rows} | {r[1] for r in rows})
    _check_layers(graph, rows)


def test_int_ids_sorted_including_extremes():
    rows = [(I64.max, I64.min, "follow", 1.0), (-1, I64.max, "like", 1.0), (0, -1, "follow", 1.0),
            (I64.min, 2**40, "share", 1.0), (2**40, 0, "follow", 1.0)]
    graph = _load_quiet(_frame(rows))
    assert graph.ids.dtype == pl.Int64
    assert graph.ids.to_list() == sorted({r[0] for r in rows} | {r[1] for r in rows})
    _check_layers(graph, rows)


def test_string_and_int_ids_give_the_same_layers():
    rows = [(3, 1, "follow", 1.0), (1, 2, "like", 2.0), (2, 3, "share", 1.0), (4, 2, "distrust", 1.0)]
    as_int = _load_quiet(_frame(rows))
    # zero-padded strings sort like the ints
    as_str = _load_quiet(_frame([(f"u{s:02d}", f"u{d:02d}", k, w) for s, d, k, w in rows]))
    for name in LAYER_NAMES:
        a, b = as_int.layers[name], as_str.layers[name]
        for field in ("in_indptr", "in_indices", "in_data", "out_indptr", "out_indices", "out_data"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.mark.parametrize("string_ids", [False, True])
def test_node_table_nodes_without_edges_are_kept(string_ids):
    conv = (lambda x: f"n{x}") if string_ids else (lambda x: x)
    rows = [(conv(s), conv(d), k, w) for s, d, k, w in [(1, 5, "follow", 1.0), (9, 5, "like", 1.0)]]
    nodes = pl.DataFrame({"id": [conv(7), conv(5), conv(3)], "followers": [10, 20, None], "name": ["g", "e", "c"]})
    graph = _load_quiet(_frame(rows), nodes=nodes)
    want_ids = sorted({conv(x) for x in (1, 3, 5, 7, 9)})
    assert graph.ids.to_list() == want_ids
    assert graph.n_nodes == 5
    assert graph.nodes["id"].to_list() == want_ids  # the node table is aligned to account indices
    by_id = dict(zip(graph.nodes["id"].to_list(), graph.nodes["name"].to_list()))
    assert by_id == {conv(1): None, conv(3): "c", conv(5): "e", conv(7): "g", conv(9): None}
    followers = graph.node_column("followers", default=0)
    assert dict(zip(want_ids, followers.tolist())) == {conv(1): 0, conv(3): 0, conv(5): 20, conv(7): 10, conv(9): 0}
    i7 = want_ids.index(conv(7))
    for name in LAYER_NAMES:
        layer = graph.layers[name]
        assert layer.in_degree[i7] == 0 and layer.out_degree[i7] == 0
    _check_layers(graph, rows)


def test_node_column_absent():
    graph = _load_quiet(_frame([(1, 2, "follow", 1.0)]))
    assert graph.nodes is None and graph.node_column("followers") is None
    graph = _load_quiet(_frame([(1, 2, "follow", 1.0)]), nodes=pl.DataFrame({"id": [1]}))
    assert graph.node_column("followers") is None


def _graph_arrays(graph):
    out = [graph.ids.to_numpy()]
    for name in LAYER_NAMES:
        layer = graph.layers[name]
        out += [layer.in_indptr, layer.in_indices, layer.in_data, layer.out_indptr, layer.out_indices, layer.out_data]
    return out


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(-3, 6), st.integers(-3, 6), st.sampled_from(KINDS + ["boost"]),
                  st.floats(0, 5, allow_nan=False).map(lambda x: round(x, 3))),
        min_size=1, max_size=40,
    ).filter(lambda rows: any(r[0] != r[1] for r in rows)),
    seed=st.integers(0, 2**32 - 1),
)
def test_build_graph_property_naive_and_row_order(rows, seed):
    graph = _load_quiet(_frame(rows))
    _check_layers(graph, rows)
    perm = np.random.default_rng(seed).permutation(len(rows))
    shuffled = _load_quiet(_frame([rows[i] for i in perm]))
    for a, b in zip(_graph_arrays(graph), _graph_arrays(shuffled)):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_to_scipy_matches_naive():
    graph = _load_quiet(_frame(MIXED_ROWS))
    want = ref.layers_naive(MIXED_ROWS)
    ids = graph.ids.to_list()
    for name in LAYER_NAMES:
        dense = np.zeros((len(ids), len(ids)))
        for (s, d), w in want[name].items():
            dense[ids.index(s), ids.index(d)] = w
        np.testing.assert_allclose(graph.layers[name].to_scipy().toarray(), dense, rtol=1e-6)


@pytest.mark.parametrize("rows, layer", [
    ([(1, 2, "share", 1e39)], "interaction"),  # finite as float64, beyond float32
    ([(1, 2, "like", 3e38), (1, 2, "like", 3e38)], "interaction"),  # duplicates sum beyond it
    ([(3, 1, "follow", 2e38), (3, 1, "follow", 2e38)], "follow"),
])
def test_weights_summing_beyond_float32_are_a_schema_error(rows, layer):
    """Layers store summed weights as float32: a pair that overflows is named, not turned into
    NaN scores."""
    base = [(1, 3, "follow", 1.0), (2, 3, "like", 1.0)]
    edges = pl.DataFrame(base + rows, schema=["src", "dst", "kind", "weight"], orient="row")
    src, dst = rows[0][0], rows[0][1]
    with pytest.raises(influence.SchemaError,
                       match=rf"^<DataFrame>: the pair {src} -> {dst} sums to a weight beyond float32's range .* in the '{layer}' layer"):
        influence.load(edges)
    # just below the range it loads, and scores stay finite
    fine = pl.DataFrame(base + [(1, 2, "like", 1e37)], schema=["src", "dst", "kind", "weight"], orient="row")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = influence.score(influence.load(fine))
    assert all(scores[c].is_finite().all() for c in ("reach", "credibility", "peer_influence", "score"))


@pytest.mark.parametrize("n_shards", [1, 2, 3])
def test_weight_overflow_in_a_shard_names_the_pair_by_ids(tmp_path, n_shards):
    from influence.backends import LocalBackend
    from influence.backends.sharded import load_sharded

    path = tmp_path / "edges.parquet"
    ids = [10, 20, 30, 40, 50, 60]
    rows = [(a, b, "follow", 1.0) for a, b in zip(ids, ids[1:] + ids[:1])] + [(20, 60, "like", 3e38)] * 2
    pl.DataFrame(rows, schema=["src", "dst", "kind", "weight"], orient="row").write_parquet(path)
    with pytest.raises(influence.SchemaError, match=r"edges.parquet: the pair 20 -> 60 sums to a weight beyond"):
        load_sharded(LocalBackend(n_shards), path)
