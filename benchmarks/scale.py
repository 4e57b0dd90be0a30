"""Performance at scale: `influence rank` against third-party PageRank on the same edges.

For each requested size a synthetic world is generated (``influence generate``, about 24 edge
rows per account; worlds are kept in ``--workdir`` and reused), then, in one process and
alternating rounds so that every contender sees the same machine load:

(a) igraph: graph built from the Parquet (timed once), then only ``g.pagerank()`` timed;
(b) scipy.sparse power iteration PageRank (L1 change < 1e-9, like the engine);
(c) scikit-network PageRank (power iteration, tol 1e-9);
(d) NetworKit PageRank (tol 1e-9);
(e) networkx (only up to 1M edge rows);
(g) the whole ``influence rank DIR --top 20 -q`` as a subprocess: wall time and peak RSS.

Peers see every edge row as a directed edge ``src -> dst`` (igraph a multigraph, the others
duplicates summed into weights, which is the same walk). Medians of ``--repeat`` rounds.

Besides those: (f) this engine's propagation kernels alone (``weighted_pagerank`` on the
interaction and attention layers, ``expected_exposures_observed``), in ns per edge per
iteration against the random-gather bound measured right before at the same vector size; the
first (compiling) ``influence rank`` run with an empty numba cache; and a per-phase profile of
the engine in-process (read, id mapping, CSR build, each score, segments, output).

The compiling run uses a fresh ``NUMBA_CACHE_DIR`` (numba then neither reads nor writes the
``__pycache__`` of ``src/influence``, which other processes may be using); ``--clear-cache``
deletes the ``*.nbi``/``*.nbc`` files there instead.

Usage::

    python benchmarks/scale.py [--edges 1e6 1e7] [--repeat 3] [--out docs/benchmarks-performance.md]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numba
import numpy as np
import polars as pl

import influence
from influence.config import ScoringConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bounds as machine_bounds  # noqa: E402

ROWS_PER_NODE = 24.05  # edge rows per account of a default synthetic world
REPO = Path(__file__).resolve().parents[1]
TOL = 1e-9
DAMPING = 0.85


# ---------------------------------------------------------------------------------------------
# machine and worlds
# ---------------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    caches = {}
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
            caches[f"L{level}{'d' if kind == 'Data' else 'i' if kind == 'Instruction' else ''}"] = size
        except OSError:
            pass
    versions = {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
                "polars": pl.__version__}
    for name in ("scipy", "igraph", "networkit", "sknetwork", "networkx"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - a missing peer is reported, not fatal
            versions[name] = "not installed"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": mem_kb / 2**20,
        "caches": caches,
        "versions": versions,
        "threading_layer_env": os.environ.get("NUMBA_THREADING_LAYER", ""),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
    }


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def world(workdir: Path, edges: float, seed: int) -> Path:
    n_nodes = max(1000, int(round(edges / ROWS_PER_NODE)))
    out = workdir / f"world-{n_nodes}-s{seed}"
    if not (out / "edges.parquet").exists():
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "influence", "generate", "--nodes", str(n_nodes), "--seed", str(seed),
                        "--out", str(out), "-q"], check=True)
        print(f"  generated {out} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return out


def dense_edges(path: Path):
    """``(src, dst, n)``: int32 dense indices of every edge row (ids in sorted order)."""
    from influence.kernels.csr import IntIdIndex

    frame = pl.read_parquet(path / "edges.parquet", columns=["src", "dst"])
    unique = pl.concat([frame["src"], frame["dst"]]).unique().sort().to_numpy()
    index = IntIdIndex(unique)
    return index.lookup(frame["src"].to_numpy()), index.lookup(frame["dst"].to_numpy()), unique.shape[0]


# ---------------------------------------------------------------------------------------------
# peers
# ---------------------------------------------------------------------------------------------


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


class Peers:
    """Every third-party PageRank, built once; ``run(name)`` times one call."""

    def __init__(self, path: Path, with_networkx: bool):
        self.build_seconds = {}
        self.available = {}
        self.path = path
        t, (self.src, self.dst, self.n) = timed(lambda: dense_edges(path))
        self.build_seconds["dense ids (shared)"] = t
        for name, builder in (("igraph", self._igraph), ("scipy", self._scipy), ("scikit-network", self._sknetwork),
                              ("networkit", self._networkit)):
            try:
                t, _ = timed(builder)
                self.build_seconds[name] = t
                self.available[name] = True
            except ImportError as exc:
                self.available[name] = False
                print(f"  {name}: not available ({exc})", file=sys.stderr)
        if with_networkx:
            try:
                t, _ = timed(self._networkx)
                self.build_seconds["networkx"] = t
                self.available["networkx"] = True
            except ImportError:
                self.available["networkx"] = False

    # -- builders ------------------------------------------------------------------------------
    def _igraph(self):
        import igraph as ig

        # from the Parquet: read, map ids, build (the time a user of igraph pays)
        frame = pl.read_parquet(self.path / "edges.parquet", columns=["src", "dst"])
        unique = pl.concat([frame["src"], frame["dst"]]).unique().sort().to_numpy()
        src = np.searchsorted(unique, frame["src"].to_numpy())
        dst = np.searchsorted(unique, frame["dst"].to_numpy())
        self.igraph = ig.Graph(n=unique.shape[0], edges=np.column_stack([src, dst]), directed=True)

    def _scipy(self):
        import scipy.sparse as sp

        w = np.ones(self.src.shape[0], np.float64)
        self.adjacency = sp.csr_array((w, (self.src, self.dst)), shape=(self.n, self.n))
        self.adjacency.sum_duplicates()
        out_strength = np.asarray(self.adjacency.sum(axis=1)).ravel()
        self.inv_out = np.divide(1.0, out_strength, out=np.zeros(self.n), where=out_strength > 0)
        self.transition_t = self.adjacency.T.tocsr()  # pull: row v lists in-edges

    def _sknetwork(self):
        from sknetwork.ranking import PageRank

        import scipy.sparse as sp

        self.sknetwork = PageRank(damping_factor=DAMPING, solver="piteration", n_iter=1000, tol=TOL)
        self.sknetwork_adjacency = sp.csr_matrix(self.adjacency)  # it rejects sparse arrays

    def _networkit(self):
        import networkit as nk

        nk.setNumberOfThreads(numba.config.NUMBA_NUM_THREADS)
        graph = nk.Graph(self.n, weighted=False, directed=True)
        graph.addEdges((self.src.astype(np.uint64), self.dst.astype(np.uint64)))
        self.networkit = graph

    def _networkx(self):
        import networkx as nx

        graph = nx.DiGraph()
        weights = {}
        for u, v in zip(self.src.tolist(), self.dst.tolist()):
            weights[(u, v)] = weights.get((u, v), 0) + 1
        graph.add_nodes_from(range(self.n))
        graph.add_weighted_edges_from((u, v, w) for (u, v), w in weights.items())
        self.networkx = graph

    # -- runs ----------------------------------------------------------------------------------
    def run(self, name: str):
        if name == "igraph":
            return self.igraph.pagerank(damping=DAMPING)
        if name == "scipy":
            return self._scipy_pagerank()
        if name == "scikit-network":
            return self.sknetwork.fit_predict(self.sknetwork_adjacency)
        if name == "networkit":
            import networkit as nk

            pr = nk.centrality.PageRank(self.networkit, damp=DAMPING, tol=TOL)
            pr.norm = nk.centrality.Norm.L1_NORM
            pr.run()
            return pr.scores()
        if name == "networkx":
            import networkx as nx

            return nx.pagerank(self.networkx, alpha=DAMPING, tol=TOL / self.n)
        raise KeyError(name)

    def _scipy_pagerank(self):
        n = self.n
        rank = np.full(n, 1.0 / n)
        dangling = self.inv_out == 0
        for _ in range(1000):
            new = DAMPING * (self.transition_t @ (rank * self.inv_out))
            new += (DAMPING * rank[dangling].sum() + 1.0 - DAMPING) / n
            new /= new.sum()
            change = np.abs(new - rank).sum()
            rank = new
            if change < TOL:
                break
        return rank


# ---------------------------------------------------------------------------------------------
# the engine
# ---------------------------------------------------------------------------------------------


def rank_subprocess(path: Path, env: dict) -> dict:
    """Wall time and peak RSS of ``influence rank PATH --top 20 -q`` (via /usr/bin/time -v)."""
    cmd = [sys.executable, "-m", "influence", "rank", str(path), "--top", "20", "-q"]
    time_bin = shutil.which("time") or "/usr/bin/time"
    if os.path.exists(time_bin):
        cmd = [time_bin, "-v", *cmd]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"influence rank failed ({proc.returncode}): {proc.stderr[-2000:]}")
    rss_kib = None
    for line in proc.stderr.splitlines():
        if "Maximum resident set size" in line:
            rss_kib = int(line.rsplit(":", 1)[1])
    return {"wall": wall, "rss_gib": rss_kib / 2**20 if rss_kib else float("nan")}


def engine_profile(path: Path) -> dict:
    """In-process per-phase timings of one (warm) run of the engine."""
    import influence.graph as graph_module
    from influence.cli import TABLE_WIDTH, _table_view
    from influence.io import read_input
    from influence.io.write import format_table

    phases = {}
    originals = {}

    def wrap(module, name, label):
        fn = getattr(module, name)
        originals[(module, name)] = fn

        def inner(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - started

        setattr(module, name, inner)

    wrap(graph_module, "_dense_ids", "build: id mapping")
    if hasattr(graph_module, "_build_layers"):
        wrap(graph_module, "_build_layers", "build: CSR layers")
    else:
        wrap(graph_module.Layer, "from_edges", "build: CSR layers")
    try:
        config = ScoringConfig()
        t, raw = timed(lambda: read_input(path))
        phases["read (polars, validation)"] = t
        t, graph = timed(lambda: graph_module.build_graph(raw, config))
        phases["build: total"] = t
        diag = influence.Diagnostics()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, scores = timed(lambda: influence.score(graph, config, diagnostics=diag))
        phases["score: total"] = t
        for name, seconds in diag.timings.items():
            phases[f"score: {name}"] = seconds

        def output():
            lists = [influence.shortlist(scores, seg, 20) for seg in ("mass", "micro")]
            return "\n".join(format_table(_table_view(f), title=seg, max_width=TABLE_WIDTH)
                             for seg, f in zip(("mass", "micro"), lists))

        t, _ = timed(output)
        phases["output (shortlists, table)"] = t
        phases["graph arrays (GiB)"] = graph_bytes(graph) / 2**30
        phases["pagerank iterations"] = diag.pagerank_iterations
    finally:
        for (module, name), fn in originals.items():
            setattr(module, name, fn)
    return phases


def graph_bytes(graph) -> int:
    """Bytes of the graph's arrays that exist (out-CSRs are built on first use; views of one
    buffer counted once)."""
    seen = {}
    for layer in graph.layers.values():
        fields = ["in_indptr", "in_indices", "in_data"]
        if getattr(layer, "has_out_csr", True):
            fields += ["out_indptr", "out_indices", "out_data"]
        for field in fields:
            array = getattr(layer, field)
            base = array if array.base is None else array.base
            seen[id(base)] = base.nbytes if isinstance(base, np.ndarray) else array.nbytes
    return sum(seen.values())


_COMPILE_PROBE = r"""
import json, sys, time, warnings
from numba.core import event
records = {}
class Listener(event.Listener):
    def __init__(self):
        self.stack = []
    def on_start(self, ev):
        self.stack.append(time.perf_counter())
    def on_end(self, ev):
        started = self.stack.pop()
        if not self.stack:  # top-level compiles only: callees are inside their caller's time
            fn = ev.data["dispatcher"].py_func
            name = fn.__module__.rsplit(".", 1)[-1] + "." + fn.__name__
            records[name] = records.get(name, 0.0) + time.perf_counter() - started
event.register("numba:compile", Listener())
import influence
started = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for path in sys.argv[1:]:
        influence.score(influence.load(path))
print(json.dumps({"wall": time.perf_counter() - started, "compiles": records}))
"""


def compile_profile(workdir: Path) -> dict:
    """Compile time of every kernel on a small world (empty numba cache), and the compiles a
    second process still needs with that cache (0 when every kernel is cached and reused)."""
    small = world(workdir, 2000 * ROWS_PER_NODE, 1)
    no_topic = workdir / "world-2000-s1-no-nodes"
    if not (no_topic / "edges.parquet").exists():
        no_topic.mkdir(parents=True, exist_ok=True)
        shutil.copy(small / "edges.parquet", no_topic / "edges.parquet")  # no node table: communities detected
    cache = tempfile.mkdtemp(prefix="influence-numba-compile-")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    runs = []
    try:
        for _ in range(2):
            proc = subprocess.run([sys.executable, "-c", _COMPILE_PROBE, str(small), str(no_topic)], env=env,
                                  capture_output=True, text=True, check=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        n_files = sum(1 for _ in Path(cache).rglob("*.nbc"))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {"first": runs[0], "second": runs[1], "cache_files": n_files}


def _kernel_rows(name: str, call, iterations, n: int, n_edges: int, threads: list, repeat: int) -> list:
    """One row per thread count: the median ns per edge and iteration of ``call()`` over
    ``repeat`` runs, beside the median random-gather bound at ``n`` measured between them.
    ``iterations(result)`` is the number of passes over the edges a run made; ``name`` may use
    ``{iterations}``."""
    call()  # compiled and warm
    rows = []
    for t in threads:
        numba.set_num_threads(t)
        per_edge, bound = [], []
        for _ in range(repeat):
            bound.append(machine_bounds.random_gather(n, t, repeat=1))
            seconds, result = timed(call)
            per_edge.append(seconds / iterations(result) / n_edges * 1e9)
        rows.append({"kernel": name.format(iterations=iterations(result)), "threads": t, "edges": n_edges,
                     "ns": statistics.median(per_edge), "bound": statistics.median(bound)})
    return rows


def kernel_runs(path: Path, repeat: int) -> list:
    """ns/edge/iteration of the propagation kernels, each next to the gather bound at its ``n``."""
    from influence.graph import build_graph
    from influence.io import read_input
    from influence.kernels.propagation import expected_exposures_observed, weighted_pagerank, weighted_pagerank_pair
    from influence.scores.peer_influence import inverse_out_strength

    graph = build_graph(read_input(path))
    n = graph.n_nodes
    rows = []
    threads = [t for t in (1, 2) if t <= numba.config.NUMBA_NUM_THREADS]
    before = numba.get_num_threads()
    config = ScoringConfig()
    try:
        for layer_name in ("interaction", "attention"):
            layer = graph.layers[layer_name]
            args = (layer.in_indptr, layer.in_indices, layer.in_data, inverse_out_strength(layer),
                    np.full(n, 1.0 / n), config.damping, config.tol, config.max_iter)
            rows += _kernel_rows(f"weighted_pagerank ({layer_name}, {{iterations}} iterations)",
                                 lambda: weighted_pagerank(*args), lambda result: result[1], n, layer.n_edges,
                                 threads, repeat)
        # the trust walks: seeded and uniform PageRank of the attention layer, iterated together
        attention = graph.attention
        seeds = np.zeros(n)
        seeds[np.argsort(-attention.in_degree, kind="stable")[: max(1, n // 100)]] = 1.0
        pair_args = (attention.in_indptr, attention.in_indices, attention.in_data, inverse_out_strength(attention),
                     seeds / seeds.sum(), np.full(n, 1.0 / n), config.damping, 1e-6, config.max_iter)
        pair = lambda: weighted_pagerank_pair(*pair_args)  # noqa: E731
        iterations = pair()
        rows += _kernel_rows(f"weighted_pagerank_pair (attention, {iterations[0][1]} + {iterations[1][1]} "
                             "iterations, two walks)", pair, lambda result: max(result[0][1], result[1][1]), n,
                             attention.n_edges, threads, repeat)
        reshare = graph.reshare
        exposure_args = (attention.in_indptr, attention.in_indices, reshare.in_indptr, reshare.in_indices,
                         reshare.in_data, np.full(n, 0.05), config.prior_strength, config.cascade_depth)
        rows += _kernel_rows(f"expected_exposures_observed (attention, depth {config.cascade_depth})",
                             lambda: expected_exposures_observed(*exposure_args),
                             lambda result: config.cascade_depth, n, attention.n_edges, threads, repeat)
    finally:
        numba.set_num_threads(before)
    return rows


# ---------------------------------------------------------------------------------------------
# one size
# ---------------------------------------------------------------------------------------------


def run_size(edges: float, args) -> dict:
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    path = world(workdir, edges, args.seed)
    n_rows = pl.scan_parquet(path / "edges.parquet").select(pl.len()).collect().item()
    print(f"== {path.name}: {n_rows:,} edge rows (load {load_average()})", file=sys.stderr)
    result = {"path": str(path), "n_rows": n_rows, "load_before": load_average()}
    env = dict(os.environ)

    # first (compiling) run: empty numba cache
    if not args.skip_cold:
        cold_env = dict(env)
        if args.clear_cache:
            for f in list((REPO / "src" / "influence").rglob("*.nb[ic]")):
                f.unlink()
        else:
            cold_env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="influence-numba-cold-")
        result["cold"] = rank_subprocess(path, cold_env)
        print(f"  cold rank {result['cold']['wall']:.2f} s", file=sys.stderr)
        if not args.clear_cache:
            shutil.rmtree(cold_env["NUMBA_CACHE_DIR"], ignore_errors=True)
    rank_subprocess(path, env)  # make sure the real cache is warm

    peers = Peers(path, with_networkx=n_rows <= 1_000_000 and not args.skip_networkx)
    result["peer_build"] = peers.build_seconds
    names = [name for name, ok in peers.available.items() if ok]
    times = {name: [] for name in names}
    times["influence rank (warm, whole process)"] = []
    passive = "influence rank (warm, OMP_WAIT_POLICY=PASSIVE)"
    times[passive] = []
    passive_env = dict(env, OMP_WAIT_POLICY="PASSIVE")
    rss = []
    for round_ in range(args.repeat):
        for name in names:
            if name == "networkx" and round_ > 0:
                continue
            gc.collect()
            seconds, _ = timed(lambda: peers.run(name))
            times[name].append(seconds)
        gc.collect()
        warm = rank_subprocess(path, env)
        times["influence rank (warm, whole process)"].append(warm["wall"])
        rss.append(warm["rss_gib"])
        times[passive].append(rank_subprocess(path, passive_env)["wall"])
        print(f"  round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in times.items() if v), file=sys.stderr)
    result["times"] = {k: statistics.median(v) for k, v in times.items() if v}
    result["times_all"] = times
    result["warm_rss_gib"] = max(rss)
    ig, rank = times.get("igraph"), times["influence rank (warm, whole process)"]
    if ig:
        result["ratio_rounds"] = [r / i for r, i in zip(rank, ig)]
    del peers
    gc.collect()

    result["profile"] = engine_profile(path)
    result["kernels"] = kernel_runs(path, args.repeat)
    result["load_after"] = load_average()
    return result


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def markdown(info: dict, bounds: dict, results: list, args, compile_info: dict | None = None) -> str:
    out = ["# Performance at scale", ""]
    out.append(f"Generated by `python benchmarks/scale.py --edges {' '.join(f'{e:g}' for e in args.edges)} "
               f"--repeat {args.repeat}` on {time.strftime('%Y-%m-%d')}.")
    out.append("")
    out.append("## Machine")
    out.append("")
    caches = ", ".join(f"{k} {v}" for k, v in sorted(info["caches"].items()))
    out.append(f"- {info['nproc']} CPUs: {info['cpu']} ({caches}); {info['ram_gib']:.1f} GiB RAM")
    out.append("- " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    layer_env = info["threading_layer_env"]
    out.append(f"- numba threading layer: {bounds['threading_layer']}"
               f"{f' (NUMBA_THREADING_LAYER={layer_env})' if layer_env else ''}"
               f"; OMP_WAIT_POLICY={info['omp_wait_policy'] or 'unset'} (and PASSIVE in the row that says so)")
    out.append("- The machine is shared: other processes ran during the measurements (load averages "
               "are given per size). Compare numbers within one table, not across runs.")
    out.append("")
    out.append("### Memory bounds (`benchmarks/bounds.py`)")
    out.append("")
    out.append(machine_bounds.to_markdown(bounds))
    out.append("")
    for res in results:
        out.append(f"## {res['n_rows']:,} edge rows ({Path(res['path']).name})")
        out.append("")
        out.append(f"Load average before / after: {res['load_before']} / {res['load_after']}.")
        out.append("")
        out.append("| contender | median s | rounds |")
        out.append("|---|---:|---|")
        for name, seconds in res["times"].items():
            rounds = ", ".join(f"{x:.2f}" for x in res["times_all"][name])
            out.append(f"| {name} | {seconds:.2f} | {rounds} |")
        if "cold" in res:
            out.append(f"| influence rank (first run, empty numba cache) | {res['cold']['wall']:.2f} | |")
        out.append("")
        if "ratio_rounds" in res:
            ratios = res["ratio_rounds"]
            out.append(f"**Whole `influence rank` / igraph `g.pagerank()`**: median {statistics.median(ratios):.2f} "
                       f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}; goal <= 2).")
            out.append("")
        out.append(f"Peak RSS of `influence rank` (warm): {res['warm_rss_gib']:.2f} GiB"
                   + (f"; first run: {res['cold']['rss_gib']:.2f} GiB" if "cold" in res else "")
                   + f" ({res['warm_rss_gib'] * 2**30 / res['n_rows']:.0f} bytes per edge row).")
        out.append("")
        out.append("Peer set-up (not in the timings above): "
                   + ", ".join(f"{k} {v:.2f} s" for k, v in res["peer_build"].items()) + ".")
        out.append("")
        out.append("### Engine phases (in-process, warm)")
        out.append("")
        out.append("| phase | s |")
        out.append("|---|---:|")
        for name, value in res["profile"].items():
            if name in ("graph arrays (GiB)", "pagerank iterations"):
                continue
            out.append(f"| {name} | {value:.2f} |")
        out.append("")
        out.append(f"Graph arrays: {res['profile']['graph arrays (GiB)']:.2f} GiB; "
                   f"peer-influence PageRank iterations: {res['profile']['pagerank iterations']}.")
        out.append("")
        out.append("### Propagation kernels against the random-gather bound")
        out.append("")
        out.append("| kernel | threads | edges | ns/edge/iter | gather bound ns | ratio |")
        out.append("|---|---:|---:|---:|---:|---:|")
        for row in res["kernels"]:
            out.append(f"| {row['kernel']} | {row['threads']} | {row['edges']:,} | {row['ns']:.2f} | "
                       f"{row['bound']:.2f} | {row['ns'] / row['bound']:.2f} |")
        out.append("")
    if compile_info:
        first, second = compile_info["first"], compile_info["second"]
        total = sum(first["compiles"].values())
        out.append("## First run: compile time per kernel")
        out.append("")
        out.append(f"Every kernel the engine uses, compiled in one process with an empty `NUMBA_CACHE_DIR` on a "
                   f"2,000-account world, with and without a node table (the latter detects communities): "
                   f"{total:.1f} s of compilation in a {first['wall']:.1f} s run; "
                   f"{compile_info['cache_files']} cache files written. A second process with that cache "
                   f"compiled {len(second['compiles'])} kernel(s) and took {second['wall']:.1f} s "
                   "(numba's own start-up included).")
        out.append("")
        out.append("| kernel (with its callees) | compile s |")
        out.append("|---|---:|")
        for name, seconds in sorted(first["compiles"].items(), key=lambda kv: -kv[1]):
            if seconds >= 0.05:
                out.append(f"| `{name}` | {seconds:.2f} |")
        out.append("")
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=float, nargs="+", default=[1e7], help="Edge rows per world.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "influence-scale"))
    parser.add_argument("--out", default=None, help="Write the markdown report here.")
    parser.add_argument("--json", default=None, help="Write the raw numbers here.")
    parser.add_argument("--skip-cold", action="store_true", help="Skip the first (compiling) run.")
    parser.add_argument("--skip-networkx", action="store_true")
    parser.add_argument("--clear-cache", action="store_true",
                        help="Delete src/influence's numba cache for the compiling run "
                             "(default: a fresh NUMBA_CACHE_DIR).")
    parser.add_argument("--bound-sizes", type=float, nargs="+", default=[1e5, 1e6, 3e6, 1e7, 3e7])
    args = parser.parse_args(argv)

    info = machine()
    print(f"machine: {info['nproc']} x {info['cpu']}, {info['ram_gib']:.1f} GiB; load {load_average()}",
          file=sys.stderr)
    bounds = machine_bounds.measure(args.bound_sizes, repeat=3)
    print(machine_bounds.to_markdown(bounds), file=sys.stderr)
    compile_info = None
    if not args.skip_cold:
        compile_info = compile_profile(Path(args.workdir))
        print(f"  compile: {sum(compile_info['first']['compiles'].values()):.1f} s; second process compiled "
              f"{len(compile_info['second']['compiles'])} kernel(s)", file=sys.stderr)
    results = [run_size(e, args) for e in args.edges]
    text = markdown(info, bounds, results, args, compile_info)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "bounds": bounds, "results": results}, indent=1,
                                              default=str))


if __name__ == "__main__":
    main()
