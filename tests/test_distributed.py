"""The sharded engine (influence.backends): in process, on a Dask LocalCluster, and on a real
`dask scheduler` with two `dask worker` processes on 127.0.0.1.

Every comparison is exact: the sharded path computes the same numbers in the same order as the
local one (see influence/backends/sharded.py), so score tables and CLI output are compared byte
for byte, not within a tolerance.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import influence
from influence import ConfigError, SchemaError
from influence.backends import LocalBackend, open_backend
from influence.backends.sharded import load_sharded, plan_pieces, sharded_stats
from influence.cli import main
from influence.config import ScoringConfig
from influence.graph import SUMMARY_VECTORS, EdgesElsewhereError, LayerSummary
from influence.kernels.propagation import weighted_pagerank, weighted_pagerank_pair
from influence.scores.peer_influence import inverse_out_strength
from influence.synthetic import WorldConfig, generate_world

try:
    import distributed
except ImportError:  # the default suite installs it ('test' extra); a bare install skips these
    distributed = None

REPO_ROOT = Path(__file__).resolve().parents[1]
HIGGS = REPO_ROOT.parent / "shared" / "datasets" / "real" / "higgs_twitter" / "edges.parquet"
SAMPLE = REPO_ROOT / "datasets" / "sample"
needs_dask = pytest.mark.skipif(distributed is None,
                                reason="dask[distributed] is not installed (python -m pip install '.[dask]')")


def _score(path, **kwargs) -> pl.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return influence.score(path, **kwargs)


def _worker_env() -> dict:
    """The environment of worker processes: they must import this checkout's influence."""
    env = dict(os.environ)
    src = str(REPO_ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


# --------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    """A planted world (12,000 accounts, about 280k edge rows, node table): several PageRank
    chunks per shard."""
    d = tmp_path_factory.mktemp("planted")
    generate_world(WorldConfig(n_nodes=12_000, seed=5), d)
    return d


@pytest.fixture(scope="module")
def planted_local(planted) -> pl.DataFrame:
    return _score(planted)


@pytest.fixture(scope="module")
def string_world(tmp_path_factory) -> tuple[Path, Path]:
    """String ids, a self-loop, a row of weight 0 and an unknown kind, as one Parquet file of
    many row groups and as a directory of three part files with the same rows."""
    d = tmp_path_factory.mktemp("strings")
    gen = d / "gen"
    generate_world(WorldConfig(n_nodes=3_000, seed=2, variant="string_ids"), gen)
    edges = pl.read_parquet(gen / "edges.parquet")
    extra = pl.DataFrame({"src": [edges["src"][0], edges["src"][1], edges["src"][2]],
                          "dst": [edges["src"][0], edges["dst"][5], edges["dst"][9]],
                          "kind": ["follow", "zap", "like"], "weight": [1.0, 2.0, 0.0]})
    edges = pl.concat([edges.select("src", "dst", "kind", "weight"), extra])
    single = d / "edges.parquet"
    edges.write_parquet(single, row_group_size=10_000)
    parts = d / "parts"
    parts.mkdir()
    cuts = [0, edges.height // 3, 2 * edges.height // 3, edges.height]
    for i in range(3):
        edges.slice(cuts[i], cuts[i + 1] - cuts[i]).write_parquet(parts / f"part-{i}.parquet")
    return single, parts


# --------------------------------------------------------------------------------------------
# in process (no Dask needed)


@pytest.mark.parametrize("n_shards", [1, 2, 3, 7])
def test_sharded_scores_equal_local_bitwise(planted, planted_local, n_shards):
    diag = influence.Diagnostics()
    sharded = _score(planted, backend=LocalBackend(n_shards), diagnostics=diag)
    assert_frame_equal(sharded, planted_local, check_exact=True)
    stats = diag.shards
    assert len(stats.shard_bytes) == n_shards and all(b > 0 for b in stats.shard_bytes)
    assert stats.iterations, "the PageRank walks should have run on the shards"
    # the RR samples of the spread fan out over the shards too (one call per sampling pass)
    assert {walk for walk, _, _ in stats.iterations} == {"pagerank", "pagerank_pair", "rr_sets"}
    assert diag.spread.samples > 0


class _CountingBackend(LocalBackend):
    """Counts what the client broadcasts (type and length) and the tasks it submits (by
    function; an edge stage by the stage's name)."""

    def __init__(self, n_shards):
        super().__init__(n_shards)
        self.puts = []
        self.tasks = []

    def put(self, value, shard=None):
        self.puts.append((type(value).__name__, len(value)))
        return super().put(value, shard)

    def submit(self, fn, *args, shard: int, n_out: int = 1):
        self.tasks.append((args[1].__name__ if fn.__name__ == "_stage" else fn.__name__, shard))
        return super().submit(fn, *args, shard=shard, n_out=n_out)


def test_rr_arguments_built_once_on_the_stage_worker(planted, planted_local):
    """The RR kernel's arguments (the attention out-CSR) are built once, on the stage worker, and
    every shard samples from them there (worker to worker): the client broadcasts no edges."""
    backend = _CountingBackend(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = load_sharded(backend, planted)
        assert_frame_equal(influence.score(graph), planted_local, check_exact=True)
    passes = [walk for walk, _, _ in sharded_stats(graph).iterations if walk == "rr_sets"]
    assert len(passes) == 2  # the first round, then the rounds the budget affords
    assert backend.tasks.count(("rr_arguments", 0)) == 1
    assert sorted(t for t in backend.tasks if t[0] == "_hits") == [("_hits", 0), ("_hits", 0), ("_hits", 1), ("_hits", 1)]
    # the client sends per-account values only (the node table's ids, teleport slices)
    assert backend.puts and all(size <= graph.n_nodes for _, size in backend.puts)
    # every edge stage ran on the stage worker (shard 0)
    stages = {name for name, _ in sharded_stats(graph).stages}
    assert {"reach_edge_stage", "audience_mix_stage", "audience_edge_stage", "signals_edge_stage",
            "loyal_weight_stage"} <= stages
    assert {shard for name, shard in backend.tasks if name in stages} == {0}


def test_sharded_string_ids_warnings_and_part_files(string_world):
    single, parts = string_world
    with warnings.catch_warnings(record=True) as local_warnings:
        warnings.simplefilter("always")
        local = influence.score(single)
    with warnings.catch_warnings(record=True) as sharded_warnings:
        warnings.simplefilter("always")
        sharded = influence.score(single, backend=LocalBackend(4))
    assert_frame_equal(sharded, local, check_exact=True)
    assert [str(w.message) for w in sharded_warnings] == [str(w.message) for w in local_warnings]
    messages = " ".join(str(w.message) for w in local_warnings)
    assert "self-loop" in messages and "'zap'" in messages and "weight 0" in messages
    # the same rows as a directory of part files
    assert_frame_equal(_score(parts, backend=LocalBackend(2)), local, check_exact=True)


@pytest.mark.parametrize("variant", ["follows_only", "no_node_table", "random64_ids"])
def test_sharded_variants_equal_local(tmp_path, variant):
    generate_world(WorldConfig(n_nodes=5_000, seed=3, variant=variant), tmp_path)
    assert_frame_equal(_score(tmp_path, backend=LocalBackend(3)), _score(tmp_path), check_exact=True)


def test_sharded_node_table_only_accounts(tmp_path):
    """Accounts only in the node table are kept (zero edges), as in the local backend."""
    pl.DataFrame({"src": [1, 2, 3, 4, 2], "dst": [2, 3, 1, 1, 1], "kind": ["follow", "like", "follow", "share", "follow"],
                  "weight": [1.0, 2.0, 1.0, 1.0, 1.0]}).write_parquet(tmp_path / "edges.parquet")
    pl.DataFrame({"id": [1, 2, 3, 4, 99], "name": ["a", "b", "c", "d", "lonely"],
                  "followers": [10, 20, 30, 40, 50]}).write_parquet(tmp_path / "nodes.parquet")
    local = _score(tmp_path)
    assert 99 in local["id"].to_list()
    assert_frame_equal(_score(tmp_path, backend=LocalBackend(2)), local, check_exact=True)


def test_sharded_load_report_equals_local(tmp_path):
    """Weight-0 rows and the ``ts`` range are counted over every part file, as the local load
    counts them in one file;
    a bad ``ts`` in a later part file is an error there too."""
    rows = {"src": [1, 2, 3, 4, 2, 5], "dst": [2, 3, 1, 1, 1, 1], "weight": [1.0, 0.0, 1.0, 1.0, 2.0, 1.0],
            "ts": [1_600_000_000, 1_500_000_000, 1_700_000_000, 1_650_000_000, None, 1_400_000_000]}
    parts = tmp_path / "parts"
    parts.mkdir()
    frame = pl.DataFrame(rows)
    frame.head(3).write_parquet(parts / "part-0.parquet")
    frame.tail(3).write_parquet(parts / "part-1.parquet")
    frame.write_parquet(tmp_path / "edges.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = influence.load(tmp_path / "edges.parquet")
        sharded = load_sharded(LocalBackend(2), parts)
    assert local.report.ts_range == (1_400_000_000, 1_700_000_000)
    assert sharded.report.ts_range == local.report.ts_range
    assert sharded.report.n_zero_weight == local.report.n_zero_weight == 1
    frame.tail(3).with_columns(pl.col("ts") * 1000).write_parquet(parts / "part-1.parquet")
    with pytest.raises(SchemaError, match="ts"):
        load_sharded(LocalBackend(2), parts)


def test_sharded_graph_arrays_equal_local(string_world):
    single, _ = string_world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = influence.load(single)
        sharded = load_sharded(LocalBackend(3), single)
    assert sharded.ids.equals(local.ids)
    stages = sharded.edge_stages
    assembled = stages.backend.gather([stages.graph])[0]  # the stage worker's graph, fetched on purpose
    assert assembled.ids.equals(local.ids)
    assert sharded.report.rows_by_kind == local.report.rows_by_kind
    assert sharded.report.n_rows == local.report.n_rows and sharded.report.n_self_loops == local.report.n_self_loops
    for name, layer in local.layers.items():
        other = assembled.layers[name]
        for attr in ("in_indptr", "in_indices", "in_data"):
            a, b = getattr(layer, attr), getattr(other, attr)
            assert a.dtype == b.dtype and np.array_equal(a, b), (name, attr)
        # the client's summary of the layer: the same counts and per-account vectors, bitwise
        summary = sharded.layers[name]
        assert (summary.n_edges, summary.in_data_sum, summary.in_data_max) == (
            layer.n_edges, layer.in_data_sum, layer.in_data_max)
        for attr in SUMMARY_VECTORS:
            a, b = getattr(layer, attr), getattr(summary, attr)
            assert a.dtype == b.dtype and np.array_equal(a, b), (name, attr)


def _random_graph_file(path: Path, n: int, m: int, seed: int) -> None:
    """Random weighted edges with a hub that receives a third of them and accounts without
    out-edges (dangling mass)."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m)
    dst = np.where(rng.random(m) < 0.33, 7, rng.integers(0, n, m))
    src = np.where(src % 11 == 0, (src + 1) % n, src)  # accounts 0, 11, 22, ... never attend
    weight = np.round(0.001 + rng.random(m) * 3, 3)
    kind = np.where(rng.random(m) < 0.5, "like", "follow")
    frame = pl.DataFrame({"src": src, "dst": dst, "kind": kind, "weight": weight}).filter(pl.col("src") != pl.col("dst"))
    frame.write_parquet(path, row_group_size=m // 5)


@pytest.mark.parametrize("n_shards", [1, 2, 5])
@pytest.mark.parametrize("max_iter", [1, 2, 7, 200])
def test_sharded_pagerank_kernels_bitwise(tmp_path, n_shards, max_iter):
    path = tmp_path / "random.parquet"
    _random_graph_file(path, n=20_000, m=120_000, seed=n_shards + max_iter)
    graph = load_sharded(LocalBackend(n_shards), path)
    local = influence.load(path)
    config = ScoringConfig(max_iter=max_iter)
    for name in ("interaction", "attention"):
        layer = local.layers[name]
        remote = graph.layers[name].remote
        inv = inverse_out_strength(layer)
        n = graph.n_nodes
        uniform = np.full(n, 1.0 / n)
        expected = weighted_pagerank(layer.in_indptr, layer.in_indices, layer.in_data, inv, uniform,
                                     config.damping, config.tol, config.max_iter)
        got = remote.pagerank(config)
        assert got[1:] == expected[1:] and np.array_equal(got[0], expected[0]), name
        seeds = np.zeros(n)
        seeds[::97] = 1.0
        seeds /= seeds.sum()
        pair_config = config.replace(tol=1e-6)  # the two walks stop at different iterations
        expected = weighted_pagerank_pair(layer.in_indptr, layer.in_indices, layer.in_data, inv, seeds, uniform,
                                          pair_config.damping, pair_config.tol, pair_config.max_iter)
        got = remote.pagerank_pair(pair_config, seeds)
        for (r0, i0, e0), (r1, i1, e1) in zip(got, expected):
            assert (i0, e0) == (i1, e1) and np.array_equal(r0, r1), name


def test_client_holds_no_edges(tmp_path):
    """After the load the client holds per-account vectors, never an array with one entry per
    edge: what it gathers is O(accounts), a tenth of the CSR on the workers or less, on a graph
    with about 180 stored edges per account; its layers are summaries whose edge arrays raise."""
    path = tmp_path / "dense.parquet"
    _random_graph_file(path, n=3_000, m=800_000, seed=1)
    diag = influence.Diagnostics()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = load_sharded(LocalBackend(3), path)
        assert_frame_equal(influence.score(graph, diagnostics=diag), _score(path), check_exact=True)
    n, stats = graph.n_nodes, diag.shards
    assert stats.largest_gathered <= n + 1  # no gathered array is longer than a row pointer
    # about 31 vectors of n float64 (ids, the walks' row pointers, the layers' degrees and
    # strengths, the stages' results); the CSR on the workers is about 450 such vectors
    assert stats.gathered_bytes < 40 * 8 * n
    assert stats.gathered_bytes < sum(stats.shard_bytes) / 10
    for name, layer in graph.layers.items():
        assert isinstance(layer, LayerSummary), name
        with pytest.raises(EdgesElsewhereError, match=f"the {name} layer's edges live on the cluster's workers"):
            layer.in_indices
        with pytest.raises(EdgesElsewhereError):
            layer.out_indptr
        held = [v for v in [*vars(layer).values(), *layer._vectors.values()] if isinstance(v, np.ndarray)]
        if name in ("interaction", "attention"):
            held.append(layer.remote.indptr)
        assert all(v.size <= n + 1 for v in held), name


def _failing_stage(*args):
    raise RuntimeError("disk on fire")


def test_stage_failure_on_a_worker_is_one_influence_error(planted, monkeypatch):
    """An edge stage that fails where the graph is: one InfluenceError naming the stage."""
    import influence.scores.credibility as credibility

    monkeypatch.setattr(credibility, "reciprocal_ring", _failing_stage)
    with pytest.raises(influence.InfluenceError,
                       match=r"the audience_edge_stage stage failed on the stage worker \(RuntimeError: disk on fire\); "
                             "no output was written"):
        _score(planted, backend=LocalBackend(2))


class _LimitedBackend(_CountingBackend):
    """In process, with the workers' memory limits a cluster would report."""

    def __init__(self, limits):
        super().__init__(len(limits))
        self.limits = limits

    def memory_limits(self):
        return list(self.limits)


def test_stage_worker_is_the_one_with_the_most_memory(planted, planted_local):
    """The whole graph goes to the worker with the largest memory limit (shard 2 here), the
    results stay the local ones, and every edge stage runs on that shard."""
    backend = _LimitedBackend([8 * 2**30, 4 * 2**30, 32 * 2**30, 16 * 2**30])
    assert_frame_equal(_score(planted, backend=backend), planted_local, check_exact=True)
    stages = [shard for name, shard in backend.tasks if name.endswith("_stage") or name == "_assemble_graph"]
    assert stages and set(stages) == {2}


@pytest.mark.parametrize("limits, max_memory, message", [
    ([2**20, 2**20], None, r"need about \d+ MiB on the stage worker \(it holds the whole graph\), more than the "
                           r"1\.0 MiB memory limit of the largest worker; give one worker more memory"),
    ([None, None], "1M", r"more than --max-memory 1\.0 MiB allows; use workers with more memory"),
    ([64 * 2**30, None], "100K", r"more than --max-memory"),
    # the smaller bound binds: a generous --max-memory does not lift the worker's own limit
    ([2**20, 2**20], "64G", r"more than the 1\.0 MiB memory limit of the largest worker"),
])
def test_stage_worker_memory_is_checked_before_reading(planted, limits, max_memory, message):
    """One InfluenceError naming the input and the row count, before any piece is read."""
    backend = _LimitedBackend(limits)
    with pytest.raises(influence.InfluenceError, match=r"edges\.parquet: [\d,]+ edge rows .*" + message):
        _score(planted, backend=backend, max_memory=max_memory)
    assert backend.tasks == []


def test_stage_worker_beyond_the_shards_when_accounts_are_fewer(tmp_path):
    """3 accounts on 7 workers: 3 shards, but the stages still run on the chosen worker (the one
    with the memory, shard 6), and the output is the local one."""
    path = tmp_path / "tiny.parquet"
    pl.DataFrame({"src": [1, 2, 3, 1], "dst": [2, 3, 1, 3], "kind": ["follow", "follow", "like", "like"]}
                 ).write_parquet(path)
    backend = _LimitedBackend([2**30] * 6 + [16 * 2**30])
    assert_frame_equal(_score(path, backend=backend), _score(path), check_exact=True)
    stages = [shard for name, shard in backend.tasks if name.endswith("_stage") or name == "_assemble_graph"]
    assert stages and set(stages) == {6}


def test_rr_samples_only_on_workers_that_can_hold_the_arguments(planted, planted_local):
    """A worker whose memory limit is below the RR arguments (plus a process's base) takes no
    sample range; the others share them and the spread is the local one bitwise."""
    from influence.memory import BASE_BYTES

    backend = _LimitedBackend([None, BASE_BYTES, None, None])  # shard 1: no room for a copy
    assert_frame_equal(_score(planted, backend=backend), planted_local, check_exact=True)
    sampled = {shard for name, shard in backend.tasks if name == "_hits"}
    assert sampled == {0, 2, 3}


def test_stage_worker_without_limits_is_shard_zero(planted):
    from influence.backends.sharded import stage_worker

    assert stage_worker(_LimitedBackend([None, None, None]), 10, "x") == 0
    assert stage_worker(_LimitedBackend([2**30, 2**30, 2**30]), 10, "x") == 0  # ties: the first
    assert stage_worker(_LimitedBackend([2**30, 2**30, 2**31]), 10, "x") == 2
    assert stage_worker(_LimitedBackend([2**30, None, 2**31]), 10, "x") == 1  # no limit: the largest
    assert stage_worker(_LimitedBackend([2**29, 2**30]), 10, "x", max_memory="1G") == 1


def test_plan_pieces(tmp_path, string_world):
    single, parts = string_world
    pieces, nodes, source = plan_pieces(single, 2)
    assert len(pieces) > 2 and all(p.length <= 10_000 for p in pieces) and nodes is None
    assert sum(p.length for p in pieces) == pl.scan_parquet(single).select(pl.len()).collect().item()
    assert [p.offset for p in pieces] == sorted(p.offset for p in pieces)
    pieces, _, source = plan_pieces(parts, 2)
    assert [Path(p.path).name for p in pieces] == ["part-0.parquet", "part-1.parquet", "part-2.parquet"]
    # one row group, more shards: the rows are split evenly
    one = tmp_path / "one.parquet"
    pl.DataFrame({"src": list(range(10)), "dst": list(range(1, 11))}).write_parquet(one)
    pieces, _, _ = plan_pieces(one, 4)
    assert [p.length for p in pieces] == [2, 3, 2, 3] and source == str(parts)


def test_sharded_errors(tmp_path, planted):
    csv = tmp_path / "edges.csv"
    csv.write_text("src,dst\n1,2\n")
    with pytest.raises(SchemaError, match="reads Parquet"):
        load_sharded(LocalBackend(2), csv)
    with pytest.raises(ConfigError, match="path of the Parquet edges"):
        influence.score(influence.load(planted), backend=LocalBackend(2))
    with pytest.raises(ConfigError, match="pass the path of Parquet edges"):
        load_sharded(LocalBackend(2), pl.DataFrame({"src": [1], "dst": [2]}))
    for kwargs, message in [({"backend": "spark"}, "unknown backend"), ({"backend": "dask", "workers": 0}, "workers"),
                            ({"backend": "dask", "workers": 2, "cluster": "tcp://127.0.0.1:1"}, "not both"),
                            ({"backend": "local", "workers": 2}, "need --backend dask")]:
        with pytest.raises(ConfigError, match=message):
            influence.score(planted, **kwargs)
    with pytest.raises(ConfigError):
        LocalBackend(0)
    # a bad row is reported with its file and row range
    bad = tmp_path / "bad.parquet"
    pl.DataFrame({"src": [1, 2, 3, 4], "dst": [2, 3, 4, 1], "weight": [1.0, 1.0, -1.0, 1.0]}).write_parquet(bad)
    with pytest.raises(SchemaError, match=r"bad.parquet: column 'weight' is negative in data row 2 "):
        load_sharded(LocalBackend(2), bad)
    # a row in a later piece (row groups of 1,000) is named by its row in the file, as locally
    late = tmp_path / "late.parquet"
    weight = np.ones(3000)
    weight[2500] = -1.0
    pl.DataFrame({"src": np.arange(3000), "dst": (np.arange(3000) + 1) % 3000, "weight": weight}).write_parquet(
        late, row_group_size=1000)
    with pytest.raises(SchemaError) as local:
        influence.load(late)
    with pytest.raises(SchemaError) as sharded:
        load_sharded(LocalBackend(3), late)
    assert str(sharded.value) == str(local.value) and "data row 2500 " in str(local.value)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    pl.DataFrame({"src": [1], "dst": [2]}).write_parquet(mixed / "a.parquet")
    pl.DataFrame({"src": ["x"], "dst": ["y"]}).write_parquet(mixed / "b.parquet")
    with pytest.raises(SchemaError, match="mix id types"):
        load_sharded(LocalBackend(2), mixed)


@pytest.mark.parametrize("args, message", [
    (["--backend", "spark"], "Error: unknown backend 'spark'"),
    (["--backend", "dask", "--workers", "0"], "Error: workers must be an integer >= 1, got 0"),
    (["--backend", "dask", "--cluster", "nowhere"], "Error: --cluster 'nowhere' is not a scheduler address"),
    (["--workers", "2"], "Error: --cluster and --workers need --backend dask"),
])
def test_cli_backend_errors(planted, tmp_path, args, message):
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["rank", str(planted), "--format", "csv", "-o", str(out), *args])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and result.stderr.startswith(message)
    assert result.stdout == "" and not out.exists()


def test_cli_non_parquet_with_dask_is_an_error_before_any_cluster(tmp_path):
    csv = tmp_path / "edges.csv"
    csv.write_text("src,dst\n1,2\n2,3\n")
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["rank", str(csv), "--backend", "dask", "--workers", "2"])
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {csv}: the dask backend reads Parquet edges")
    assert time.perf_counter() - started < 5


# --------------------------------------------------------------------------------------------
# Dask


@needs_dask
def test_dask_in_process_cluster(planted, planted_local):
    from influence.backends.dask import DaskBackend

    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        backend = DaskBackend(client=client)
        assert backend.n_shards == 2
        diag = influence.Diagnostics()
        assert_frame_equal(_score(planted, backend=backend, diagnostics=diag), planted_local, check_exact=True)
        assert diag.backend.startswith("dask (") and diag.shards.iterations


def _worker_threads():
    import numba

    return numba.config.NUMBA_NUM_THREADS, numba.njit(lambda x: x + 1)(41)


@needs_dask
def test_local_cluster_threads_reach_workers_and_leave_this_process_alone():
    """The workers' numba gets the CPU share; this process's environment is as before, so its
    own later compiles still work (the Nanny writes pre-spawn variables into it)."""
    import numba

    from influence.backends.dask import WORKER_THREADS_VAR, DaskBackend

    before = {k: os.environ.get(k) for k in ("NUMBA_NUM_THREADS", WORKER_THREADS_VAR)}
    backend = DaskBackend(workers=2)
    try:
        results = backend.client.run(_worker_threads)
    finally:
        backend.close()
    expected = max(1, (os.cpu_count() or 1) // 2)
    assert sorted(results.values()) == [(expected, 42)] * 2
    assert {k: os.environ.get(k) for k in before} == before
    assert numba.njit(lambda x: x * 2)(21) == 42  # reloads numba's config: fails if the env changed


@needs_dask
def test_cli_process_with_local_cluster_matches_local(tmp_path):
    """`influence rank --backend dask --workers 2` as a user runs it: a process whose main module
    imports numba, so the spawned workers import it too before a Nanny's ``env`` would apply.
    The workers compile a kernel (the RR sampling's seed mixing is not cached), which fails
    with 'Cannot set NUMBA_NUM_THREADS' unless the thread count is set before they start."""
    script = tmp_path / "influence_script.py"  # what pip's console script is
    script.write_text("import sys\nfrom influence.cli import main\nif __name__ == '__main__':\n    sys.exit(main())\n")

    def run(*extra):
        result = subprocess.run(
            [sys.executable, str(script), "rank", str(SAMPLE), "--segment", "all", "--top", "100000",
             "--format", "csv", "-q", *extra],
            capture_output=True, timeout=600,
        )
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        return result.stdout

    assert run("--backend", "dask", "--workers", "2") == run()


def _slow(seconds):
    time.sleep(seconds)
    return seconds


@needs_dask
def test_dask_cluster_failure_is_an_influence_error():
    from influence.backends.dask import DaskBackend

    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        backend = DaskBackend(client=client)
        handle = backend.submit(_slow, 1, shard=0)
        handle.cancel()
        with pytest.raises(influence.InfluenceError, match="the cluster failed during the run"):
            backend.gather([handle])


def _gather_error_within(backend, handle, seconds: float) -> str:
    """The InfluenceError that ``backend.gather([handle])`` raises, failing the test when it
    returns a value or still waits after ``seconds`` (a hang would otherwise hang the suite)."""
    import threading

    outcome = []

    def wait():
        try:
            outcome.append(backend.gather([handle]))
        except influence.InfluenceError as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    waiter.join(timeout=seconds)
    assert not waiter.is_alive(), "gather still waits for a task of a worker that is gone"
    assert len(outcome) == 1 and isinstance(outcome[0], influence.InfluenceError), outcome
    return str(outcome[0])


@needs_dask
def test_a_worker_that_dies_is_a_cluster_failure_not_a_hang():
    """Tasks are pinned to their worker; a killed worker process is restarted by its nanny under
    a new address, so the pinned task would never run and gather waited for ever."""
    import signal

    from influence.backends.dask import DaskBackend

    backend = DaskBackend(workers=2)
    try:
        pids = backend.client.run(os.getpid)
        handle = backend.submit(_slow, 30, shard=1)
        time.sleep(1.0)
        os.kill(pids[backend.workers[1]], signal.SIGKILL)

        error = _gather_error_within(backend, handle, 60)
    finally:
        backend.close()
    assert "the cluster failed during the run" in error and "no output was written" in error


@needs_dask
def test_cli_stage_failure_on_a_dask_worker_is_one_error_line(monkeypatch, tmp_path):
    """`influence rank --cluster` whose stage worker fails in a stage: one `Error:` line, exit 1,
    no output. The workers run in this process, so the failing kernel is patched here."""
    import influence.scores.reach as reach

    monkeypatch.setattr(reach, "distinct_two_hop", _failing_stage)
    out = tmp_path / "out.csv"
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1, protocol="tcp",
                                  dashboard_address=":0") as cluster:
        result = CliRunner().invoke(main, ["rank", str(SAMPLE), "--format", "csv", "-o", str(out),
                                           "--backend", "dask", "--cluster", cluster.scheduler_address])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len([line for line in lines if line.startswith("Error:")]) == 1 and "Traceback" not in result.stderr
    error = next(line for line in lines if line.startswith("Error:"))
    assert "the reach_edge_stage stage failed on the stage worker (RuntimeError: disk on fire)" in error
    assert not out.exists()


@needs_dask
@pytest.mark.parametrize("limit, extra, message", [
    ("32MiB", [], r"need about \d+ MiB on the stage worker \(it holds the whole graph\), more than the 32 MiB "
                  r"memory limit of the largest worker"),
    ("4GiB", ["--max-memory", "100M"], r"more than --max-memory 100 MiB allows"),
])
def test_cli_stage_worker_memory_on_a_cluster(tmp_path, limit, extra, message):
    """The workers' Dask memory limit (or --max-memory) against the stage worker's need: one
    Error line naming the input, exit 1, no output."""
    out = tmp_path / "out.csv"
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1, protocol="tcp",
                                  dashboard_address=":0", memory_limit=limit) as cluster:
        result = CliRunner().invoke(main, ["rank", str(SAMPLE), "--format", "csv", "-o", str(out), *extra,
                                           "--backend", "dask", "--cluster", cluster.scheduler_address])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert re.search(r"sample/edges\.parquet: 53,341 edge rows .*" + message, errors[0]), errors[0]
    assert not out.exists()


@needs_dask
def test_kept_stage_failure_on_a_dask_worker_names_that_stage(planted, monkeypatch):
    """The RR arguments are kept on the stage worker (not gathered): a failure while building
    them is reported as the rr_arguments stage's, not as the sampling's that first used them."""
    import influence.scores.reach as reach
    from influence.backends.dask import DaskBackend

    monkeypatch.setattr(reach, "account_keys", _failing_stage)
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        with pytest.raises(influence.InfluenceError,
                           match=r"the rr_arguments stage failed on the stage worker \(RuntimeError: disk on fire\)"):
            _score(planted, backend=DaskBackend(client=client))


def test_cli_bad_max_memory_with_dask_is_an_error_before_any_cluster(monkeypatch, tmp_path):
    """A malformed --max-memory is one Error line before a cluster is started or contacted."""
    import influence.backends as backends

    def no_cluster(*args, **kwargs):
        raise AssertionError("a cluster was opened")

    monkeypatch.setattr(backends, "open_backend", no_cluster)
    result = CliRunner().invoke(main, ["rank", str(SAMPLE), "--backend", "dask", "--workers", "2",
                                       "--max-memory", "lots"])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == "Error: max memory 'lots' is not a size such as 8G or 512M"


@needs_dask
def test_load_on_keeps_the_graph_while_the_cluster_lasts(planted, planted_local):
    from influence.engine import load_on

    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        from influence.backends.dask import DaskBackend

        backend = DaskBackend(client=client)
        with load_on(backend, planted) as graph:
            assert_frame_equal(_score(graph), planted_local, check_exact=True)
        backend.close()
        with pytest.raises(influence.InfluenceError, match="the backend is closed"):
            _score(graph)


@needs_dask
def test_dask_unreachable_scheduler_is_an_error(monkeypatch):
    import influence.backends.dask as dask_backend

    monkeypatch.setattr(dask_backend, "CONNECT_TIMEOUT", 2)
    started = time.perf_counter()
    with pytest.raises(influence.InfluenceError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        open_backend("dask", cluster="tcp://127.0.0.1:9")
    assert time.perf_counter() - started < 30


def _rank_csv(path, *args) -> bytes:
    result = CliRunner().invoke(main, ["rank", str(path), "--segment", "all", "--top", "1000000",
                                       "--format", "csv", "-q", *args])
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout_bytes


@needs_dask
def test_cli_dask_two_worker_processes_match_local(planted, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", _worker_env()["PYTHONPATH"])
    local = _rank_csv(planted)
    assert _rank_csv(planted, "--backend", "dask", "--workers", "2") == local


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, as a user starts them;
    yields the scheduler's address. Every process is stopped (by its own pid) afterwards."""
    if distributed is None or shutil.which("dask") is None:
        pytest.skip("dask[distributed] is not installed (python -m pip install '.[dask]')")
    d = tmp_path_factory.mktemp("cluster")
    env = _worker_env()
    scheduler_file = d / "scheduler.json"
    logs = []
    procs = []

    def start(*args):
        log = open(d / f"log-{len(procs)}.txt", "w")
        logs.append(log)
        procs.append(subprocess.Popen(["dask", *args], cwd=d, env=env, stdout=log, stderr=subprocess.STDOUT))

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scheduler_file.exists(), "the scheduler did not start within 60 s"
        for i in range(2):
            start("worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1", "--no-dashboard",
                  "--no-nanny", "--name", f"w{i}", "--local-directory", str(d / f"w{i}"))
        with distributed.Client(scheduler_file=str(scheduler_file), timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            address = client.scheduler.address
        assert address.startswith("tcp://127.0.0.1:")
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


@needs_dask
def test_cli_real_scheduler_and_workers_match_local(planted, scheduler):
    assert _rank_csv(planted, "--backend", "dask", "--cluster", scheduler) == _rank_csv(planted)


@needs_dask
@pytest.mark.skipif(not HIGGS.exists(), reason=f"real dataset not found at {HIGGS}")
def test_higgs_twitter_on_real_cluster_matches_local(scheduler):
    local = _score(HIGGS)
    diag = influence.Diagnostics()
    remote = _score(HIGGS, backend="dask", cluster=scheduler, diagnostics=diag)
    assert_frame_equal(remote, local, check_exact=True)
    assert diag.shards.iterations and len(diag.shards.shard_bytes) == 2


def test_sharded_stats_of_a_local_graph_is_none(planted):
    assert sharded_stats(influence.load(planted)) is None


@needs_dask
def test_a_result_lost_with_its_worker_is_a_cluster_failure_not_a_hang():
    """A task that finished before its worker died: its future is done ('lost'), so waiting
    for completion returns at once, and gather would wait for a recompute on a worker that is
    gone."""
    import signal

    from influence.backends.dask import DaskBackend

    backend = DaskBackend(workers=2)
    try:
        pids = backend.client.run(os.getpid)
        handle = backend.submit(_slow, 0, shard=1)
        deadline = time.monotonic() + 30
        while handle.status != "finished" and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(pids[backend.workers[1]], signal.SIGKILL)
        while handle.status != "lost" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert handle.status == "lost"

        error = _gather_error_within(backend, handle, 60)
    finally:
        backend.close()
    assert "a result was lost with its worker" in error


@needs_dask
def test_an_interrupt_while_the_local_cluster_starts_leaves_nothing_for_dask_exit_hook(monkeypatch):
    """Ctrl-C inside LocalCluster(): the half-started cluster stayed registered and distributed's
    exit hook printed an AssertionError traceback after our one Error line."""
    from distributed.deploy.spec import SpecCluster

    import influence.backends.dask as dask_backend

    closed = []

    class HalfStarted:
        def close(self, timeout=None):
            closed.append(timeout)
            raise AssertionError("Status.init")

    def interrupted(**kwargs):
        SpecCluster._instances.add(half)
        raise KeyboardInterrupt

    half = HalfStarted()
    monkeypatch.setattr(distributed, "LocalCluster", interrupted)
    with pytest.raises(KeyboardInterrupt):
        dask_backend._start_local_cluster(distributed, 2, 1)
    assert closed and half not in SpecCluster._instances
