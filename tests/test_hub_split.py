"""Hubs split across chunks and workers (issue 9).

A row (an account's in-edges) longer than ``block = ceil(edges / chunks)`` is summed in fixed
blocks (``kernels.csr.split_chunks``, ``kernels.propagation._pull_chunks``); the sharded walk
places a hub's blocks in several groups. Checked here:

* the chunks: unchanged without long rows, cuts inside a row only at block boundaries of a hub;
* the local kernel: exactly the documented order (a plain-Python twin, bitwise, 1 and 2
  threads) and the PageRank of networkx within 1e-9;
* the sharded walk with 1-7 in-process shards: ranks, iteration counts and residuals bitwise the
  local kernel's, and the hubs' edges spread over the groups (no group above its share + one
  chunk + one block).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numba
import numpy as np
import polars as pl
import pytest

import influence
import reference as ref
from influence.backends import LocalBackend
from influence.backends.sharded import load_sharded
from influence.config import ScoringConfig
from influence.graph import Layer
from influence.kernels.csr import edge_balanced_chunks, split_chunks
from influence.kernels.propagation import pagerank_chunks, weighted_pagerank, weighted_pagerank_pair
from influence.scores.peer_influence import inverse_out_strength

try:
    import distributed
except ImportError:  # the default suite installs it ('test' extra); a bare install skips the Dask test
    distributed = None


def _hub_edges(n: int, hubs: dict, sparse: int, seed: int):
    """``(src, dst, weight)``: hub ``h`` followed by a share ``hubs[h]`` of the accounts, plus
    ``sparse`` random edges; accounts ``5, 18, 31, ...`` attend to nobody (dangling mass)."""
    rng = np.random.default_rng(seed)
    src = [rng.integers(0, n, sparse)]
    dst = [rng.integers(0, n, sparse)]
    for hub, share in hubs.items():
        followers = rng.choice(n, int(share * n), replace=False)
        src.append(followers)
        dst.append(np.full(followers.size, hub))
    src, dst = np.concatenate(src), np.concatenate(dst)
    src = np.where(src % 13 == 5, (src + 1) % n, src)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    return src.astype(np.int32), dst.astype(np.int32), np.round(0.001 + rng.random(src.size) * 3, 3)


def _hub_layer(n: int, hubs: dict, sparse: int, seed: int) -> Layer:
    return Layer.from_edges(*_hub_edges(n, hubs, sparse, seed), n)


def _inv(layer: Layer) -> np.ndarray:
    s = layer.out_strength
    return np.divide(1.0, s, out=np.zeros_like(s), where=s > 0)


# ---------------------------------------------------------------------------------------------
# the chunks


def _edge_balanced_reference(indptr, n_chunks):
    """Plain Python: cut ``c`` is the first row ``v`` with ``indptr[v] + v >= (edges + rows) * c // n_chunks``."""
    n = len(indptr) - 1
    total = int(indptr[n]) + n
    cuts = [0]
    for c in range(1, n_chunks):
        target = total * c // n_chunks
        cuts.append(next((v for v in range(cuts[-1], n) if int(indptr[v]) + v >= target), n))
    return np.array(cuts + [n])


@pytest.mark.parametrize("skew", [1, 2, 4])
def test_split_chunks_without_long_rows_are_the_edge_balanced_chunks(skew):
    """Rows of at most a block: the chunks are exactly the ones every walk used before."""
    rng = np.random.default_rng(skew)
    n, m = 20_000, 120_000
    src = rng.integers(0, n, m)
    dst = (n * rng.random(m) ** skew).astype(np.int64)  # skewed towards low indices
    layer = Layer.from_edges(src.astype(np.int32), dst.astype(np.int32), np.ones(m), n)
    unsplit = 0
    for n_chunks in (1, 2, 3, 9, 64, 256):
        chunks = split_chunks(layer.in_indptr, n_chunks)
        np.testing.assert_array_equal(chunks.long_rows, np.flatnonzero(np.diff(layer.in_indptr) > chunks.block))
        if chunks.long_rows.size:
            continue
        unsplit += 1
        np.testing.assert_array_equal(chunks.rows, _edge_balanced_reference(layer.in_indptr, n_chunks))
        np.testing.assert_array_equal(edge_balanced_chunks(layer.in_indptr, n_chunks), chunks.rows)
        np.testing.assert_array_equal(chunks.edges, layer.in_indptr[chunks.rows])
        assert chunks.n_blocks == 0
    assert unsplit >= 3
    assert pagerank_chunks(layer.in_indptr).long_rows.size == 0


def test_split_chunks_cut_hubs_at_block_boundaries():
    n = 30_000  # 14 chunks
    layer = _hub_layer(n, {0: 0.9, 1: 0.2, 15_000: 0.7, n - 1: 0.6}, 20_000, 4)
    indptr = layer.in_indptr
    chunks = pagerank_chunks(indptr)
    m, block = int(indptr[-1]), chunks.block
    assert block == -(-m // chunks.n_chunks)
    degree = np.diff(indptr)
    np.testing.assert_array_equal(chunks.long_rows, np.flatnonzero(degree > block))
    assert set(chunks.long_rows.tolist()) == {0, 15_000, n - 1}  # the 20 % hub is a short row
    np.testing.assert_array_equal(np.diff(chunks.block_base), -(-degree[chunks.long_rows] // block))
    rows, edges = chunks.rows, chunks.edges
    assert rows[0] == 0 and rows[-1] == n and edges[0] == 0 and edges[-1] == m
    assert np.all(np.diff(edges) > 0) and np.all(np.diff(rows) >= 0)  # no empty chunk
    inside = edges > indptr[rows]
    assert inside.sum() >= 3, "the hubs should be cut"
    for r, e in zip(rows[inside], edges[inside]):
        assert r in chunks.long_rows and (e - indptr[r]) % block == 0 and e < indptr[r + 1]
    cost = edges + rows
    spacing = (m + n) / chunks.n_chunks
    assert np.all(np.diff(cost) <= spacing + block + 2)


# ---------------------------------------------------------------------------------------------
# the local kernel


def _reference_pagerank(indptr, indices, data, inv, teleport, damping, tol, max_iter, chunks):
    """The documented summation order in plain Python floats: short rows edge after edge,
    long rows block after block, sums per chunk in row order, then the long rows' sums."""
    indptr, indices = indptr.tolist(), indices.tolist()
    data, inv, teleport = [float(x) for x in data], inv.tolist(), teleport.tolist()
    n, block = len(teleport), chunks.block
    long_rows = set(chunks.long_rows.tolist())
    rows_of_chunk = [range(int(chunks.rows[c]), int(chunks.rows[c + 1])) for c in range(chunks.n_chunks)]
    y = list(teleport)
    scaled = [y[u] * inv[u] for u in range(n)]
    dangling = 0.0
    for u in range(n):
        if inv[u] == 0.0:
            dangling += y[u]
    total, residual, n_iter = 1.0, float("inf"), 0
    while n_iter < max_iter:
        scale = 1.0 / total
        base = damping * dangling * scale + (1.0 - damping)
        new_scaled = list(scaled)
        sums = []

        def pull(v, acc, chunk_sums):
            """Row v's new value from acc; its L1 change, value and dangling mass added to chunk_sums."""
            x = damping * acc * scale + base * teleport[v]
            chunk_sums[0] += abs(x - y[v] * scale)
            chunk_sums[1] += x
            if inv[v] == 0.0:
                chunk_sums[2] += x
            y[v] = x
            new_scaled[v] = x * inv[v]

        for rows in rows_of_chunk:
            chunk_sums = [0.0, 0.0, 0.0]
            for v in rows:
                if v in long_rows:
                    continue
                acc = 0.0
                for e in range(indptr[v], indptr[v + 1]):
                    acc += scaled[indices[e]] * data[e]
                pull(v, acc, chunk_sums)
            sums.append(chunk_sums)
        if long_rows:
            chunk_sums = [0.0, 0.0, 0.0]
            for v in sorted(long_rows):
                blocks = []
                for b0 in range(indptr[v], indptr[v + 1], block):
                    acc = 0.0
                    for e in range(b0, min(b0 + block, indptr[v + 1])):
                        acc += scaled[indices[e]] * data[e]
                    blocks.append(acc)
                acc = blocks[0]
                for s in blocks[1:]:
                    acc += s
                pull(v, acc, chunk_sums)
            sums.append(chunk_sums)
        residual = total = dangling = 0.0
        for r, t, d in sums:
            residual += r
            total += t
            dangling += d
        scaled = new_scaled
        n_iter += 1
        if residual < tol:
            break
    return np.array(y) / total, n_iter, residual


@pytest.mark.parametrize("threads", [1, 2])
def test_kernel_sums_hubs_in_the_documented_order(threads):
    if threads > numba.config.NUMBA_NUM_THREADS:
        pytest.skip(f"numba has {numba.config.NUMBA_NUM_THREADS} thread(s) on this machine")
    n = 9_000  # 4 chunks
    layer = _hub_layer(n, {3: 0.85, 4: 0.7, n - 1: 0.65}, 2_000, 5)
    chunks = pagerank_chunks(layer.in_indptr)
    assert chunks.long_rows.tolist() == [3, 4, n - 1] and chunks.n_blocks >= 6
    inv = _inv(layer)
    teleport = np.linspace(1.0, 3.0, n)
    teleport /= teleport.sum()
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        got = weighted_pagerank(layer.in_indptr, layer.in_indices, layer.in_data, inv, teleport, 0.85, 0.0, 4)
    finally:
        numba.set_num_threads(before)
    want = _reference_pagerank(layer.in_indptr, layer.in_indices, layer.in_data, inv, teleport, 0.85, 0.0, 4, chunks)
    assert got[1:] == want[1:] and got[0].tobytes() == want[0].tobytes()


@pytest.mark.parametrize("seed", [0, 1])
def test_kernel_with_hubs_matches_networkx(seed):
    n = 8_200  # 4 chunks
    layer = _hub_layer(n, {0: 0.9, 4_000 + seed: 0.7, n - 1: 0.8}, 2_000, seed)
    assert pagerank_chunks(layer.in_indptr).long_rows.size == 3
    indptr, indices, data = layer.in_indptr, layer.in_indices, layer.in_data.astype(np.float64)
    edges = [(int(indices[e]), v, float(data[e])) for v in range(n) for e in range(indptr[v], indptr[v + 1])]
    rank, n_iter, residual = weighted_pagerank(layer.in_indptr, layer.in_indices, layer.in_data, _inv(layer),
                                               np.full(n, 1.0 / n), 0.85, 1e-14, 10_000)
    assert residual < 1e-14
    np.testing.assert_allclose(rank, ref.pagerank_networkx(n, edges), rtol=0, atol=1e-9)
    seeds = np.zeros(n)
    seeds[::50] = 1.0
    seeds /= seeds.sum()
    (trust, _, _), (uniform, _, _) = weighted_pagerank_pair(layer.in_indptr, layer.in_indices, layer.in_data,
                                                             _inv(layer), seeds, np.full(n, 1.0 / n), 0.85, 1e-14,
                                                             10_000)
    np.testing.assert_allclose(trust, ref.pagerank_networkx(n, edges, teleport=seeds), rtol=0, atol=1e-9)
    assert uniform.tobytes() == rank.tobytes()


# ---------------------------------------------------------------------------------------------
# the sharded walk


N_SHARDED = 40_000  # 19 chunks


@pytest.fixture(scope="module")
def hub_world(tmp_path_factory):
    """Three hubs followed by 90 %, 60 % and 60 % of the accounts (the first, a middle and the
    last account), likes and follows, and a node table so every account exists."""
    d = tmp_path_factory.mktemp("hubs")
    n = N_SHARDED
    src, dst, w = _hub_edges(n, {0: 0.9, n // 2: 0.6, n - 1: 0.6}, int(0.3 * n), 7)
    kind = np.where(np.random.default_rng(8).random(src.size) < 0.5, "like", "follow")
    pl.DataFrame({"src": src.astype(np.int64), "dst": dst.astype(np.int64), "kind": kind, "weight": w}).unique(
        ["src", "dst", "kind"], keep="first", maintain_order=True).write_parquet(d / "edges.parquet",
                                                                                row_group_size=30_000)
    pl.DataFrame({"id": np.arange(n, dtype=np.int64)}).write_parquet(d / "nodes.parquet")
    config = ScoringConfig()
    seeds = np.zeros(n)
    seeds[::4001] = 1.0  # the first hub and a few others: the pair's walks stop apart
    seeds /= seeds.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = influence.load(d)
    expected = {}
    for name in ("interaction", "attention"):
        layer = graph.layers[name]
        args = (layer.in_indptr, layer.in_indices, layer.in_data, inverse_out_strength(layer))
        uniform = np.full(n, 1.0 / n)
        pair_config = config.replace(tol=1e-6)
        expected[name] = (
            weighted_pagerank(*args, uniform, config.damping, config.tol, config.max_iter),
            weighted_pagerank_pair(*args, seeds, uniform, pair_config.damping, pair_config.tol, pair_config.max_iter),
        )
    return d, seeds, expected


def _assert_walks_bitwise(remote, expected, seeds, config, name):
    """The sharded single walk and trust pair of a layer equal the local ones bit for bit (ranks,
    iteration counts, residuals); the pair ends with one walk going on alone."""
    single, pair = expected
    got = remote.pagerank(config)
    assert got[1:] == single[1:] and got[0].tobytes() == single[0].tobytes(), name
    got = remote.pagerank_pair(config.replace(tol=1e-6), seeds)
    for (r0, i0, e0), (r1, i1, e1) in zip(got, pair):
        assert (i0, e0) == (i1, e1) and r0.tobytes() == r1.tobytes(), name
    assert got[0][1] != got[1][1], "the pair should end with one walk alone"


@pytest.mark.parametrize("n_shards", range(1, 8))
def test_sharded_walks_with_hubs_are_bitwise_local(hub_world, n_shards):
    path, seeds, expected = hub_world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = load_sharded(LocalBackend(n_shards), path)
    config = ScoringConfig()
    spread = []
    for name in ("interaction", "attention"):
        remote = graph.layers[name].remote
        indptr = remote.indptr  # the layer's row pointer, as the local load builds it
        chunks = pagerank_chunks(indptr)
        assert chunks.long_rows.tolist() == [0, N_SHARDED // 2, N_SHARDED - 1], name
        _assert_walks_bitwise(remote, expected[name], seeds, config, name)

        # the groups: every edge and hub block exactly once, every account owned once
        groups = remote._setup()
        m, n = int(indptr[-1]), N_SHARDED
        assert sum(g.n_edges for g in groups) == m
        assert sum(g.plan.n_blocks for g in groups) == chunks.n_blocks
        assert sum(g.hi - g.lo - g.plan.skip for g in groups) == n
        # balanced: no group above its share of edges + rows by more than one chunk (at most
        # the chunks' spacing plus one block)
        spacing = (m + n) / chunks.n_chunks
        share = (m + n) / n_shards
        work = [g.n_edges + g.hi - g.lo for g in groups]
        assert max(work) <= share + spacing + chunks.block + 1, work
        # and the biggest hub (account 0) is spread when it exceeds a share by a chunk's spacing
        # (unsplit, its group would hold all its edges)
        hub = int(indptr[1])
        holding = sum(1 for g in groups if g.lo == 0)
        if hub > share + spacing:
            assert holding >= 2 and max(g.n_edges for g in groups) < hub, (name, work)
            spread.append(name)
    assert n_shards < 5 or "attention" in spread


@pytest.mark.skipif(distributed is None, reason="dask[distributed] is not installed (python -m pip install '.[dask]')")
def test_dask_worker_processes_with_hubs_are_bitwise_local(hub_world, monkeypatch):
    """The same walks on two Dask worker processes: the group plans, hub values and block sums
    travel pickled between processes."""
    from influence.backends.dask import DaskBackend

    path, seeds, expected = hub_world
    src = str(Path(__file__).resolve().parents[1] / "src")
    before = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", src + (os.pathsep + before if before else ""))  # the workers import this checkout
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0")
    with cluster, distributed.Client(cluster) as client, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = load_sharded(DaskBackend(client=client), path)
        config = ScoringConfig()
        for name in ("interaction", "attention"):
            remote = graph.layers[name].remote
            assert any(g.plan.skip for g in remote._setup()), "a group should start inside a hub"
            _assert_walks_bitwise(remote, expected[name], seeds, config, name)
