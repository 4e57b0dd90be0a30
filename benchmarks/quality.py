"""Quality benchmark: how well shortlists recover the roles planted in synthetic worlds.

For every (size, variant, seed) a world is generated in memory, scored, and the mass and micro
shortlists are compared with ``truth.parquet``:

* ``mass P@K``: share of planted mass influencers among the top K of the mass shortlist, K = the
  number of planted mass accounts;
* ``micro P@50``: share of planted micro-influencers among the top 50 of the micro shortlist;
* ``micro P@20``: the same among its top 20, the list ``influence rank`` prints by default;
* ``micro >= median``: planted micro-influencers followed by at least the median follower count
  of accounts that have followers (and at least 2), at most 50, over 50: the best micro P@50 of a
  ranking that keeps to accounts with a meaningful audience (the engine's bar, the median
  audience, is close to it but counts engagers too). Small worlds plant micros with a handful of
  followers (a quota of 1-10% of a community, at least 3), fewer than the median account has;
* ``micro recall``: planted micro-influencers in the top 50 of the micro shortlist over
  min(50, planted): a shortlist shorter than 50 (a small micro segment) keeps its precision but
  loses recall;
* ``leaks``: fake, bot and pod accounts in either list (the largest count over the seeds, per role).

Baselines rank every account by one number: follower count, PageRank on the follow layer,
engagement rate (events per follower) and distinct engagers. A baseline's mass list is its top K;
its micro list is its top 50 among accounts in the follower band between the 90th and 99.9th
percentile (how tier filters are used in practice), excluding its own mass list.

Run: ``python benchmarks/quality.py [--sizes 5000 20000] [--seeds 1 2 3] [--out docs/benchmarks.md]``
(not part of the test suite; about a minute per 20k-node world on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import polars as pl

import influence
from influence.config import ScoringConfig
from influence.scores.peer_influence import pagerank
from influence.synthetic import WorldConfig, generate_world_frames

BAD_ROLES = ("fake", "bot", "pod")
VARIANTS = {
    "default": {},
    "follows_only": {"variant": "follows_only"},
    "string_ids": {"variant": "string_ids"},
    "random64_ids": {"variant": "random64_ids"},
    "no_node_table": {"variant": "no_node_table"},
    "communities_30": {"n_communities": 30},
    "more_fakes": {"fake_share": 0.01, "bot_share": 0.1},
}
MICRO_TOP = 50
#: Rows of a shortlist that ``influence rank`` prints by default (``--top 20``).
DEFAULT_TOP = 20


def _precision(frame: pl.DataFrame, role: str) -> float:
    """Share of ``frame``'s rows planted as ``role`` (0 for an empty list)."""
    return float((frame["role"] == role).mean()) if frame.height else 0.0


def _recall(frame: pl.DataFrame, planted: int) -> float:
    return float((frame["role"] == "micro").sum()) / min(MICRO_TOP, planted) if planted else 0.0


def _leaks(frame: pl.DataFrame) -> dict:
    return {role: int((frame["role"] == role).sum()) for role in BAD_ROLES}


def _add(a: dict, b: dict) -> dict:
    return {k: a[k] + b[k] for k in a}


def baseline_lists(scored: pl.DataFrame, graph, metric: np.ndarray, k: int):
    frame = scored.select("id", "role", "followers").with_columns(pl.Series("metric", metric))
    ranked = frame.sort(["metric", "id"], descending=[True, False])
    mass = ranked.head(k)
    lo, hi = np.quantile(frame["followers"].to_numpy(), [0.90, 0.999])
    band = ranked.filter(
        (pl.col("followers") >= lo) & (pl.col("followers") <= hi) & ~pl.col("id").is_in(mass["id"].implode())
    )
    return mass, band.head(MICRO_TOP)


def micro_above_median(scored: pl.DataFrame) -> float:
    """Share of the top 50 that planted micros with at least the median follower count can fill."""
    followers = scored["followers"].to_numpy()
    followed = followers[followers > 0]
    floor = max(2.0, float(np.median(followed))) if followed.size else 2.0
    eligible = int(((scored["role"] == "micro").to_numpy() & (followers >= floor)).sum())
    return min(MICRO_TOP, eligible) / MICRO_TOP


def evaluate(n_nodes: int, variant: str, seed: int) -> list[dict]:
    cfg = WorldConfig(n_nodes=n_nodes, seed=seed, **VARIANTS[variant])
    edges, nodes, truth = generate_world_frames(cfg)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = influence.load(edges, nodes=nodes)
        scored = influence.score(graph, seed=seed)
    seconds = time.perf_counter() - started
    scored = scored.join(truth.select("id", "role"), on="id", how="left")
    k = int((truth["role"] == "mass").sum())
    rows = []
    mass = influence.shortlist(scored, "mass", k)
    micro = influence.shortlist(scored, "micro", MICRO_TOP)
    base = {"size": n_nodes, "variant": variant, "seed": seed, "K": k}
    planted_micro = int((truth["role"] == "micro").sum())
    rows.append({**base, "method": "influence", "mass_p": _precision(mass, "mass"),
                 "micro_p": _precision(micro, "micro"),
                 "micro_p20": _precision(micro.head(DEFAULT_TOP), "micro"), "ceiling": micro_above_median(scored),
                 "micro_r": _recall(micro, planted_micro),
                 "leaks": _add(_leaks(mass), _leaks(micro)), "seconds": seconds, "edges": edges.height})
    follow_pr, _, _ = pagerank(graph.follow if graph.follow.n_edges else graph.attention, ScoringConfig())
    events = graph.events.in_strength
    followers = scored["followers"].to_numpy().astype(float)
    metrics = {
        "follower count": followers,
        "PageRank (follows)": follow_pr,
        "engagement rate": events / np.maximum(followers, 1.0),
        "distinct engagers": graph.events.in_degree.astype(float),
    }
    for name, metric in metrics.items():
        b_mass, b_micro = baseline_lists(scored, graph, metric, k)
        rows.append({**base, "method": name, "mass_p": _precision(b_mass, "mass"),
                     "micro_p": _precision(b_micro, "micro"),
                     "micro_p20": _precision(b_micro.head(DEFAULT_TOP), "micro"), "ceiling": None,
                     "micro_r": _recall(b_micro, planted_micro), "leaks": _add(_leaks(b_mass), _leaks(b_micro)),
                     "seconds": float("nan"), "edges": edges.height})
    return rows


def summarise(rows: list[dict]) -> str:
    frame = pl.DataFrame(rows)
    lines = [
        "| size | variant | method | mass P@K (min / mean / max) | micro P@50 (min / mean / max) | micro P@20 (min / mean / max) | micro recall (min / mean / max) | micro >= median followers, /50 (min / max) | leaks: fake / bot / pod (max) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (size, variant, method), group in frame.group_by(["size", "variant", "method"], maintain_order=True):
        m, u, r = group["mass_p"].to_list(), group["micro_p"].to_list(), group["micro_r"].to_list()
        u20 = group["micro_p20"].to_list()
        c = [x for x in group["ceiling"].to_list() if x is not None]
        ceiling = f"{min(c):.2f} / {max(c):.2f}" if c else ""
        lines.append(
            f"| {size:,} | {variant} | {method} | {min(m):.2f} / {statistics.mean(m):.2f} / {max(m):.2f} | "
            f"{min(u):.2f} / {statistics.mean(u):.2f} / {max(u):.2f} | "
            f"{min(u20):.2f} / {statistics.mean(u20):.2f} / {max(u20):.2f} | "
            f"{min(r):.2f} / {statistics.mean(r):.2f} / {max(r):.2f} | {ceiling} | "
            + " / ".join(str(max(leak[r] for leak in group["leaks"].to_list())) for r in BAD_ROLES)
            + " |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--variants", nargs="+", default=["default", "follows_only", "string_ids"],
                        choices=sorted(VARIANTS))
    parser.add_argument("--out", type=Path, default=None, help="Write the markdown table here.")
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes:
        for variant in args.variants:
            for seed in args.seeds:
                rows.extend(evaluate(size, variant, seed))
                last = rows[-5]
                print(f"size={size} variant={variant} seed={seed}: mass P@K={last['mass_p']:.2f} "
                      f"micro P@50={last['micro_p']:.2f} P@20={last['micro_p20']:.2f} recall={last['micro_r']:.2f} ({last['ceiling']:.2f} above median) leaks={last['leaks']} ({last['seconds']:.1f} s)",
                      file=sys.stderr)
    table = summarise(rows)
    print(table)
    if args.out:
        args.out.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
