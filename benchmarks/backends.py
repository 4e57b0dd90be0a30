"""Local against Dask backend on the same input: wall time per phase, time per PageRank
iteration, peak memory of the client and of each worker, and whether the outputs are equal.

Each backend runs in a fresh subprocess (so that peak RSS is its own), alternating
``--rounds`` times. The Dask run starts a local cluster of ``--workers`` worker processes
(``influence.score(..., backend="dask", workers=N)``), or uses ``--cluster ADDRESS``.

Time per iteration:

* local: the PageRank kernels timed alone on the loaded graph (``weighted_pagerank`` on the
  peer-influence layer, ``weighted_pagerank_pair`` on the attention layer with the trust walks'
  tolerance), divided by their iteration counts;
* dask: the client's wall time of each iteration (submit the steps, the workers pull and
  exchange slices, the client gathers the per-chunk sums), from ``Diagnostics.shards``.

Usage::

    python benchmarks/backends.py /tmp/w20m [--workers 2] [--rounds 2] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_local(path: str, out: str) -> dict:
    import numpy as np

    import influence
    from influence.config import ScoringConfig
    from influence.scores.peer_influence import pagerank, pagerank_pair
    from influence.scores.trust import TRUST_TOL

    warnings.simplefilter("ignore")
    started = time.perf_counter()
    diag = influence.Diagnostics()
    graph = influence.load(path)
    diag.timings["load"] = time.perf_counter() - started
    scores = influence.score(graph, diagnostics=diag)
    wall = time.perf_counter() - started
    scores.write_parquet(out)
    rss = _peak_rss()
    config = ScoringConfig()
    layer = graph.interaction if graph.interaction.n_edges else graph.attention
    t = time.perf_counter()
    _, n_iter, _ = pagerank(layer, config)
    single = (time.perf_counter() - t) / max(n_iter, 1)
    n = graph.n_nodes
    seeds = np.zeros(n)
    seeds[:: max(1, n // 1000)] = 1.0
    t = time.perf_counter()
    (_, ia, _), (_, ib, _) = pagerank_pair(graph.attention, config.replace(tol=TRUST_TOL), seeds / seeds.sum())
    pair = (time.perf_counter() - t) / max(ia, ib, 1)
    return {"wall": wall, "timings": diag.timings, "client_peak_rss": rss, "worker_peak_rss": [],
            "s_per_iter_single": single, "s_per_iter_pair": pair, "n_accounts": n,
            "n_rows": graph.report.n_rows}


def run_dask(path: str, out: str, workers: int | None, cluster: str | None) -> dict:
    import numpy as np

    import influence
    from influence.backends.dask import DaskBackend
    from influence.backends.sharded import _process_memory
    from influence.memory import count_rows

    warnings.simplefilter("ignore")
    started = time.perf_counter()
    backend = DaskBackend(cluster=cluster, workers=workers)
    start_cluster = time.perf_counter() - started
    try:
        diag = influence.Diagnostics()
        scores = influence.score(path, backend=backend, diagnostics=diag)
        wall = time.perf_counter() - started
        worker_rss = sorted(backend.client.run(_process_memory).values())
    finally:
        backend.close()
    scores.write_parquet(out)
    stats = diag.shards
    single = [s for walk, _, s in stats.iterations if walk == "pagerank"]
    pair = [s for walk, _, s in stats.iterations if walk == "pagerank_pair"]
    return {"wall": wall, "timings": diag.timings, "cluster_start": start_cluster, "load_steps": stats.timings,
            "client_peak_rss": _peak_rss(), "worker_peak_rss": worker_rss,
            "s_per_iter_single": float(np.median(single)) if single else None,
            "s_per_iter_pair": float(np.median(pair)) if pair else None,
            "iterations": len(stats.iterations), "shard_bytes": stats.shard_bytes,
            "gathered_bytes": stats.gathered_bytes, "n_accounts": scores.height, "n_rows": count_rows(path),
            "backend": diag.backend}


def _child(args) -> None:
    if args.child == "local":
        result = run_local(args.path, args.result + ".parquet")
    else:
        result = run_dask(args.path, args.result + ".parquet", args.workers, args.cluster)
    Path(args.result).write_text(json.dumps(result))


def _gib(x) -> str:
    return f"{x / 2**30:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cluster", default=None)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", default=None)
    parser.add_argument("--child", choices=["local", "dask"], help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    import polars as pl
    from polars.testing import assert_frame_equal

    results = {"local": [], "dask": []}
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    load = os.getloadavg()
    for r in range(args.rounds):
        for mode in ("local", "dask"):
            result = tmp / f"influence-bench-{os.getpid()}-{mode}-{r}.json"
            cmd = [sys.executable, __file__, args.path, "--child", mode, "--result", str(result),
                   "--workers", str(args.workers)] + (["--cluster", args.cluster] if args.cluster else [])
            subprocess.run(cmd, check=True)
            results[mode].append(json.loads(result.read_text()))
    same = True
    for r in range(args.rounds):
        a = pl.read_parquet(tmp / f"influence-bench-{os.getpid()}-local-{r}.json.parquet")
        b = pl.read_parquet(tmp / f"influence-bench-{os.getpid()}-dask-{r}.json.parquet")
        try:
            assert_frame_equal(a, b, check_exact=True)
        except AssertionError:
            same = False
    for r in range(args.rounds):
        for mode in ("local", "dask"):
            for suffix in (".json", ".json.parquet"):
                (tmp / f"influence-bench-{os.getpid()}-{mode}-{r}{suffix}").unlink(missing_ok=True)

    first = results["local"][0]
    d0 = results["dask"][0]
    lines = [
        f"Input: `{args.path}`: {first['n_accounts']:,} accounts, {first['n_rows']:,} edge rows. "
        f"Dask: {d0['backend']}. Load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        f"Score tables equal bit for bit: {'yes' if same else 'NO'}.",
        "",
        "| measure | " + " | ".join(f"local #{i + 1}" for i in range(args.rounds))
        + " | " + " | ".join(f"dask #{i + 1}" for i in range(args.rounds)) + " |",
        "|---|" + "---:|" * (2 * args.rounds),
    ]

    def row(name, fn):
        cells = [fn(x, "local") for x in results["local"]] + [fn(x, "dask") for x in results["dask"]]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    row("wall s (whole score, incl. cluster start for dask)", lambda x, m: f"{x['wall']:.1f}")
    row("cluster start s", lambda x, m: f"{x['cluster_start']:.1f}" if m == "dask" else "")
    for phase in ("load", "reach", "communities", "credibility", "peer_influence", "segments"):
        row(f"{phase} s", lambda x, m, p=phase: f"{x['timings'].get(p, 0.0):.1f}")
    row("load: read + validate s", lambda x, m: f"{x['load_steps']['read']:.1f}" if m == "dask" else "")
    row("load: distinct ids s", lambda x, m: f"{x['load_steps']['ids']:.1f}" if m == "dask" else "")
    row("load: map, shuffle, build, gather s", lambda x, m: f"{x['load_steps']['build']:.1f}" if m == "dask" else "")
    row("PageRank s / iteration (one walk)", lambda x, m: f"{x['s_per_iter_single']:.3f}")
    row("PageRank s / iteration (two trust walks)",
        lambda x, m: f"{x['s_per_iter_pair']:.3f}" if x["s_per_iter_pair"] is not None else "")
    row("iterations on the workers", lambda x, m: str(x["iterations"]) if m == "dask" else "")
    row("client peak RSS GiB", lambda x, m: _gib(x["client_peak_rss"]))
    row("worker peak RSS GiB", lambda x, m: ", ".join(_gib(w) for w in x["worker_peak_rss"]) if m == "dask" else "")
    row("CSR bytes per shard GiB", lambda x, m: ", ".join(_gib(b) for b in x["shard_bytes"]) if m == "dask" else "")
    row("bytes gathered by the client GiB", lambda x, m: _gib(x["gathered_bytes"]) if m == "dask" else "")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
