"""Validation on real data: do the scores predict what happened next?

Three tests on the third-party datasets in ``../shared/datasets/real`` (see its README):

1. **Higgs Twitter, temporal hold-out.** Score the events before 2012-07-04 00:00 UTC; the truth
   is the retweets each account *receives* from the cutoff on. Spearman correlation and top-100
   overlap over every account of the pre-cutoff graph, against in-degree, retweet in-strength and
   PageRank (networkx, event-count weights, damping 0.85) of the same graph.
2. **Higgs Twitter, cross-layer.** Score the mention + reply layer of the whole week; the truth
   is the retweet in-strength of the whole week.
3. **Bitcoin OTC / Alpha.** Score the ratings before the 70th percentile of ``ts``; the truth is
   whether an account receives at least one negative rating afterwards (accounts rated after
   the cutoff that appear before it). AUC (Mann-Whitney, average ranks for ties) of
   ``1 - credibility``, its components and of rating baselines.

Each table also holds *variants*: a component recomputed here from the score table (or a
rerun with a config override) to test a formula change without touching ``src/``.

Run: ``python benchmarks/validation.py [--out docs/validation.md] [--commit HEAD]`` (under a
minute on 2 cores, plus numba compilation with ``--commit``; not part of the test suite).
``--commit REV`` validates ``src/`` of that commit, exported to a temporary directory, instead of
the installed (editable) engine, so uncommitted edits in the working tree do not leak into the
numbers. Skips with a message when the datasets are absent.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import polars as pl
from scipy.stats import rankdata, spearmanr

# The engine is imported in ``import_engine`` (after ``--commit`` may have put an exported src/
# first on sys.path), which fills these names in.
influence = AUTO_GOAL_BY_SEGMENT = GOAL_WEIGHTS = ScoringConfig = None
expected_exposures_observed = log_share = logistic = percentile_rank = fit_engagement_curve = None

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA = REPO_ROOT.parent / "shared" / "datasets" / "real"
HIGGS_CUTOFF = 1341360000  # 2012-07-04 00:00:00 UTC
TOP_K = 100
SEED = 0
TIMINGS: list[dict] = []
LOAD_AVG: list[tuple] = []


# --------------------------------------------------------------------------- helpers

def run_engine(label: str, edges: pl.DataFrame, repeats: int = 1, **overrides):
    """Load and score ``edges`` (src, dst, kind, weight) ``repeats`` times; returns (scores, graph).

    Records the median wall-clock time of load and score and the engine's stage timings of the
    median run (the machine is shared, single runs are noisy).
    """
    runs = []
    for _ in range(repeats):
        diag = influence.Diagnostics()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            started = time.perf_counter()
            graph = influence.load(edges.select("src", "dst", "kind", "weight"))
            loaded = time.perf_counter()
            scored = influence.score(graph, seed=SEED, diagnostics=diag, **overrides)
            done = time.perf_counter()
        runs.append((done - started, loaded - started, done - loaded, dict(diag.timings)))
    runs.sort(key=lambda r: r[0])
    total, load, score, stages = runs[len(runs) // 2]
    TIMINGS.append({
        "run": label, "rows": edges.height, "accounts": scored.height, "repeats": repeats,
        "load": load, "score": score, "min_total": runs[0][0], "stages": stages,
    })
    print(f"  scored {label}: {scored.height:,} accounts, median {total:.2f} s of {repeats}", file=sys.stderr)
    return scored, graph


def per_account(ids: pl.Series, edges: pl.DataFrame, expr: pl.Expr) -> np.ndarray:
    """``expr`` aggregated over the in-edges of each account of ``ids`` (0 where it has none)."""
    agg = edges.group_by("dst").agg(expr.cast(pl.Float64).alias("v")).rename({"dst": "id"})
    return pl.DataFrame({"id": ids}).join(agg, on="id", how="left")["v"].fill_null(0.0).to_numpy()


def networkx_pagerank(ids: pl.Series, edges: pl.DataFrame) -> np.ndarray:
    """PageRank (damping 0.85) of ``edges`` without self-loops, weight = event count per pair."""
    import networkx as nx

    pairs = edges.filter(pl.col("src") != pl.col("dst")).group_by("src", "dst").agg(pl.col("weight").sum())
    graph = nx.DiGraph()
    graph.add_nodes_from(ids.to_list())
    graph.add_weighted_edges_from(pairs.iter_rows())
    rank = nx.pagerank(graph, alpha=0.85, weight="weight")
    return np.array([rank[i] for i in ids.to_list()])


def top_overlap(pred: np.ndarray, truth: np.ndarray, ids: np.ndarray, k: int = TOP_K) -> float:
    """|top-k by pred ∩ top-k by truth| / k; both sorted descending, ties broken by ascending id."""
    a = np.lexsort((ids, -pred.astype(np.float64)))[:k]
    b = np.lexsort((ids, -truth.astype(np.float64)))[:k]
    return len(set(a.tolist()) & set(b.tolist())) / k


def rho(pred: np.ndarray, truth: np.ndarray) -> float:
    if np.ptp(pred) == 0 or np.ptp(truth) == 0:
        return float("nan")
    return float(spearmanr(pred, truth)[0])


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """ROC AUC by the Mann-Whitney rank formula (ties count one half)."""
    label = label.astype(bool)
    ranks = rankdata(score)
    n_pos = int(label.sum())
    n_neg = label.size - n_pos
    return float((ranks[label].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def fmt(x: float, digits: int = 3) -> str:
    return "n/a" if x != x else f"{x:.{digits}f}"


# --------------------------------------------------------------------------- Higgs

def higgs_rows(scored: pl.DataFrame, truth: np.ndarray, predictors: dict) -> list[dict]:
    ids = scored["id"].to_numpy()
    has_audience = scored["audience"].to_numpy() > 0
    rows = []
    for (group, name), pred in predictors.items():
        rows.append({
            "group": group, "predictor": name,
            "rho": rho(pred, truth),
            "rho_aud": rho(pred[has_audience], truth[has_audience]),
            "top": top_overlap(pred, truth, ids),
        })
    return rows


def model_predictors(scored: pl.DataFrame) -> dict:
    col = lambda c: scored[c].to_numpy().astype(np.float64)  # noqa: E731
    return {
        ("model", "`score` (default, goal auto)"): col("score"),
        ("model", "`reach`"): col("reach"),
        ("model", "`peer_influence`"): col("peer_influence"),
        ("model", "`credibility`"): col("credibility"),
        ("component", "`audience` (distinct in-neighbours)"): col("audience"),
        ("component", "`pagerank` (engine, kind-weighted)"): col("pagerank"),
        ("component", "`amplification`"): col("amplification"),
        ("component", "`community_standing`"): col("community_standing"),
        ("component", "`relative_engagement`"): col("relative_engagement"),
    }


def spread_with_pass_on(graph, pass_on: float, edge_evidence: bool) -> np.ndarray:
    """``expected_spread`` recomputed with one pass-on probability for every account (engine kernel, depth 3).

    ``edge_evidence=False`` also drops the per-edge term ``r_uv`` (observed reshares of ``v`` by
    ``u``), so that every edge passes posts on with ``1 - exp(-k p / (1 + k))``.
    """
    config = ScoringConfig()
    att, rs = graph.attention, graph.reshare
    data = rs.in_data if edge_evidence else np.zeros_like(rs.in_data)
    return expected_exposures_observed(
        att.in_indptr, att.in_indices, rs.in_indptr, rs.in_indices, data,
        np.full(graph.n_nodes, pass_on), config.prior_strength, config.cascade_depth,
    )


def to_reach(graph, spread: np.ndarray) -> np.ndarray:
    """The engine's ``reach`` of a spread: log-share of the graph."""
    return log_share(spread, max(float(graph.n_nodes - 1), float(spread.max(initial=0.0))))


def distinct_within(graph, hops: int) -> np.ndarray:
    """Exact number of distinct accounts that reach each account within ``hops`` attention edges."""
    import scipy.sparse as sp

    att = graph.attention
    n = graph.n_nodes
    step = sp.csr_array((np.ones_like(att.in_data), att.in_indices, att.in_indptr), shape=(n, n))
    reached, frontier = step.copy(), step.copy()
    for _ in range(hops - 1):
        frontier = frontier @ step
        frontier.data[:] = 1.0
        reached = reached + frontier
        reached.data[:] = 1.0
    reached.setdiag(0.0)
    reached.eliminate_zeros()
    return np.diff(reached.indptr).astype(np.float64)


def cap_stats(scored: pl.DataFrame, graph) -> dict:
    """Where ``expected_spread`` exceeds the distinct accounts within 3 hops, and why."""
    import scipy.sparse as sp

    att = graph.attention
    n = graph.n_nodes
    step = sp.csr_array((np.ones_like(att.in_data), att.in_indices, att.in_indptr), shape=(n, n))
    reciprocal = np.asarray(step.multiply(step.T).sum(axis=1)).ravel() > 0
    audience = scored["audience"].to_numpy()
    binding = scored["expected_spread"].to_numpy() > distinct_within(graph, 3) + 1e-9
    return {
        "n": int(binding.sum()),
        "median_audience": float(np.median(audience[binding])) if binding.any() else float("nan"),
        "reciprocal": float(reciprocal[binding].mean()) if binding.any() else float("nan"),
        "reciprocal_all": float(reciprocal[audience > 0].mean()),
    }


def standing_min_rank(scored: pl.DataFrame) -> np.ndarray:
    """``community_standing`` with ties at their lowest rank: share of the community strictly below.

    The engine's mid-rank gives the accounts nobody attends to (all tied at the PageRank floor)
    0.5 in a large community and 0.25 in a pair; with the lowest rank they all get 0.
    """
    expr = (pl.col("pagerank").rank("min").over("community") - 1) / pl.len().over("community")
    return scored.select(expr.cast(pl.Float64)).to_series().to_numpy()


def auto_score(scored: pl.DataFrame, reach: np.ndarray, cred: np.ndarray, peer: np.ndarray) -> np.ndarray:
    """The engine's ``goal="auto"`` score from the given components (weights by segment)."""
    segment = scored["segment"].to_numpy()
    out = np.empty(scored.height)
    for seg_name in np.unique(segment):
        w = GOAL_WEIGHTS[AUTO_GOAL_BY_SEGMENT.get(seg_name, "balanced")]
        m = segment == seg_name
        out[m] = w[0] * reach[m] + w[1] * cred[m] + w[2] * peer[m]
    return out


def model_variants(scored: pl.DataFrame, graph, reruns: dict) -> dict:
    """Formula changes recomputed from the score table (and config-override reruns)."""
    col = lambda c: scored[c].to_numpy().astype(np.float64)  # noqa: E731
    pr_pct = percentile_rank(col("pagerank"))
    amp = col("amplification")
    has_reshare = graph.reshare.n_edges > 0
    peer_no_standing = (2.0 * pr_pct + amp) / 3.0 if has_reshare else pr_pct
    smin = standing_min_rank(scored)
    peer_min = 0.5 * pr_pct + 0.25 * amp + 0.25 * smin if has_reshare else (2.0 * pr_pct + smin) / 3.0
    reach, cred, peer = col("reach"), col("credibility"), col("peer_influence")
    out = {}
    for depth, frame in reruns.items():
        out[("variant", f"`reach`, cascade_depth={depth} (default 3)")] = frame["reach"].to_numpy()
    reach_fix = reach
    within3 = distinct_within(graph, 3)
    if has_reshare:
        out[("variant", "`reach`, pass-on 0.02 for all (per-edge evidence kept)")] = to_reach(
            graph, spread_with_pass_on(graph, 0.02, True))
        spread_fix = spread_with_pass_on(graph, 0.02, False)
        reach_fix = to_reach(graph, spread_fix)
        out[("variant", "`reach`, pass-on 0.02 for all, no per-edge evidence")] = reach_fix
    out[("variant", "`reach`, spread capped at distinct accounts within 3 hops")] = to_reach(
        graph, np.minimum(col("expected_spread"), within3))
    if has_reshare:
        out[("variant", "`reach`, pass-on 0.02, no per-edge evidence, capped")] = to_reach(
            graph, np.minimum(spread_fix, within3))
    out[("variant", "`peer_influence` without community_standing")] = peer_no_standing
    out[("variant", "`peer_influence`, standing by lowest rank of ties")] = peer_min
    out[("variant", "`score`, fixed balanced weights (0.4/0.3/0.3)")] = 0.4 * reach + 0.3 * cred + 0.3 * peer
    out[("variant", "`score`, auto weights on percentile(reach)")] = auto_score(scored, percentile_rank(reach), cred, peer)
    out[("variant", "`score`, balanced, with the reach and peer fixes above")] = (
        0.4 * reach_fix + 0.3 * cred + 0.3 * peer_min)
    return out


def score_top_segments(scored: pl.DataFrame) -> dict:
    top = np.lexsort((scored["id"].to_numpy(), -scored["score"].to_numpy()))[:TOP_K]
    counts = scored[top.tolist()]["segment"].value_counts(sort=True)
    return dict(counts.iter_rows())


def segment_medians(scored: pl.DataFrame) -> list[str]:
    cols = ["audience", "reach", "credibility", "peer_influence", "score"]
    frame = scored.group_by("segment").agg(pl.len().alias("accounts"), *[pl.col(c).median() for c in cols]).sort("segment")
    lines = ["| segment | accounts | " + " | ".join(f"median {c}" for c in cols) + " |", "|---" * (len(cols) + 2) + "|"]
    for row in frame.iter_rows(named=True):
        lines.append(f"| {row['segment']} | {row['accounts']:,} | " + " | ".join(fmt(row[c], 2) for c in cols) + " |")
    return lines


def swap_summary(scored: pl.DataFrame, truth: np.ndarray) -> dict:
    """Medians of the accounts in the top 100 by ``reach`` but not by audience, and the reverse."""
    ids = scored["id"].to_numpy()
    by_reach = set(np.lexsort((ids, -scored["reach"].to_numpy()))[:TOP_K].tolist())
    by_audience = set(np.lexsort((ids, -scored["audience"].to_numpy().astype(np.float64)))[:TOP_K].tolist())
    out = {}
    for name, idx in (("reach_only", sorted(by_reach - by_audience)), ("audience_only", sorted(by_audience - by_reach))):
        idx = np.array(idx, dtype=np.int64)
        out[name] = {
            "n": int(idx.size),
            "audience": float(np.median(scored["audience"].to_numpy()[idx])) if idx.size else float("nan"),
            "spread": float(np.median(scored["expected_spread"].to_numpy()[idx])) if idx.size else float("nan"),
            "truth": float(np.median(truth[idx])) if idx.size else float("nan"),
        }
    return out


def higgs_holdout(edges: pl.DataFrame) -> dict:
    pre = edges.filter(pl.col("ts") < HIGGS_CUTOFF)
    post = edges.filter(pl.col("ts") >= HIGGS_CUTOFF)
    scored, graph = run_engine("Higgs, before 4 July", pre, repeats=3)
    reruns = {d: run_engine(f"Higgs, before 4 July, cascade_depth={d}", pre, cascade_depth=d)[0] for d in (1, 2)}
    ids = scored["id"]
    future_rt = post.filter(pl.col("kind") == "retweet")
    truth = per_account(ids, future_rt, pl.col("weight").sum())
    clean = pre.filter(pl.col("src") != pl.col("dst"))
    started = time.perf_counter()
    pr = networkx_pagerank(ids, pre)
    nx_seconds = time.perf_counter() - started
    predictors = model_predictors(scored)
    predictors.update({
        ("baseline", "in-degree (distinct accounts, all kinds)"): per_account(ids, clean, pl.col("src").n_unique()),
        ("baseline", "retweet in-strength before cutoff"):
            per_account(ids, clean.filter(pl.col("kind") == "retweet"), pl.col("weight").sum()),
        ("baseline", "PageRank (networkx, event counts)"): pr,
    })
    predictors.update(model_variants(scored, graph, reruns))
    top_truth = np.lexsort((ids.to_numpy(), -truth))[:TOP_K]
    att, rs = graph.attention, graph.reshare
    context = {
        "events_pre": pre.height, "events_post": post.height, "accounts": scored.height,
        "with_audience": int((scored["audience"] > 0).sum()),
        "truth_pos": int((truth > 0).sum()),
        "future_rt": float(future_rt["weight"].sum()), "future_rt_covered": float(truth.sum()),
        "truth_top_min": float(truth[top_truth].min()),
        "score_top_segments": score_top_segments(scored),
        "segment_table": segment_medians(scored),
        "nx_seconds": nx_seconds,
        "p0": float(rs.out_strength.sum() / att.out_degree.sum()),
        "pass_on_median": float(np.median(scored["pass_on"].to_numpy()[rs.out_degree > 0])),
        "standing_zero_rho": rho(scored["community_standing"].to_numpy()[scored["audience"].to_numpy() == 0],
                                 truth[scored["audience"].to_numpy() == 0]),
        "zero_audience": int((scored["audience"] == 0).sum()),
        "swap": swap_summary(scored, truth),
        "cap": cap_stats(scored, graph),
    }
    return {"rows": higgs_rows(scored, truth, predictors), "context": context}


def higgs_cross_layer(edges: pl.DataFrame) -> dict:
    layer = edges.filter(pl.col("kind").is_in(["mention", "reply"]))
    scored, graph = run_engine("Higgs, mention+reply, whole week", layer, repeats=3)
    reruns = {d: run_engine(f"Higgs, mention+reply, cascade_depth={d}", layer, cascade_depth=d)[0] for d in (1,)}
    ids = scored["id"]
    truth = per_account(ids, edges.filter(pl.col("kind") == "retweet"), pl.col("weight").sum())
    clean = layer.filter(pl.col("src") != pl.col("dst"))
    started = time.perf_counter()
    pr = networkx_pagerank(ids, layer)
    nx_seconds = time.perf_counter() - started
    predictors = model_predictors(scored)
    predictors.pop(("component", "`amplification`"))  # no reshare in this layer: constant 0
    predictors.update({
        ("baseline", "in-degree (distinct accounts, mention+reply)"): per_account(ids, clean, pl.col("src").n_unique()),
        ("baseline", "mention+reply in-strength"): per_account(ids, clean, pl.col("weight").sum()),
        ("baseline", "PageRank (networkx, event counts)"): pr,
    })
    predictors.update(model_variants(scored, graph, reruns))
    context = {
        "events": layer.height, "accounts": scored.height,
        "with_audience": int((scored["audience"] > 0).sum()),
        "truth_pos": int((truth > 0).sum()),
        "score_top_segments": score_top_segments(scored),
        "segment_table": segment_medians(scored),
        "nx_seconds": nx_seconds,
        "standing_zero_rho": rho(scored["community_standing"].to_numpy()[scored["audience"].to_numpy() == 0],
                                 truth[scored["audience"].to_numpy() == 0]),
        "cap": cap_stats(scored, graph),
    }
    return {"rows": higgs_rows(scored, truth, predictors), "context": context}


# --------------------------------------------------------------------------- Bitcoin

def fairness_goodness(edges: pl.DataFrame, ids: pl.Series, iterations: int = 100) -> np.ndarray:
    """Goodness of Kumar et al. (ICDM 2016, "fairness and goodness") on ratings scaled to [-1, 1].

    ``g(v) = mean_{u->v} f(u) w(u,v)``; ``f(u) = 1 - mean_{u->v} |w(u,v) - g(v)| / 2``.
    Accounts never rated get 0.
    """
    index = {v: i for i, v in enumerate(ids.to_list())}
    src = np.array([index[v] for v in edges["src"].to_list()])
    dst = np.array([index[v] for v in edges["dst"].to_list()])
    w = edges["rating"].to_numpy() / 10.0
    n = ids.len()
    n_in = np.bincount(dst, minlength=n)
    n_out = np.bincount(src, minlength=n)
    fair = np.ones(n)
    good = np.zeros(n)
    for _ in range(iterations):
        good = np.divide(np.bincount(dst, fair[src] * w, n), n_in, out=np.zeros(n), where=n_in > 0)
        new_fair = 1.0 - np.divide(np.bincount(src, np.abs(w - good[dst]), n), 2.0 * n_out,
                                   out=np.zeros(n), where=n_out > 0)
        new_fair[n_out == 0] = 1.0
        if np.abs(new_fair - fair).sum() < 1e-9:
            fair = new_fair
            break
        fair = new_fair
    return good


def bitcoin(name: str, edges: pl.DataFrame) -> dict:
    cutoff = float(np.quantile(edges["ts"].to_numpy(), 0.7))
    pre = edges.filter(pl.col("ts") < cutoff)
    post = edges.filter(pl.col("ts") >= cutoff)
    scored, _ = run_engine(f"{name}, before 70th pct of ts", pre, repeats=3)
    future = post.group_by("dst").agg(
        (pl.col("rating") < 0).any().alias("label"),
        (pl.col("rating") < 0).mean().alias("future_neg_share"),
        pl.len().cast(pl.Float64).alias("future_ratings"),
    ).rename({"dst": "id"})
    d = scored.join(future, on="id", how="inner")  # rated after the cutoff and present before it
    ids = d["id"]
    y = d["label"].to_numpy()
    col = lambda c: d[c].to_numpy().astype(np.float64)  # noqa: E731
    pos_in = per_account(ids, pre.filter(pl.col("rating") > 0), pl.col("src").n_unique())
    n_in = per_account(ids, pre, pl.len())
    neg_in = per_account(ids, pre.filter(pl.col("rating") < 0), pl.len())
    mean_in = np.divide(per_account(ids, pre, pl.col("rating").sum()), n_in, out=np.zeros(len(n_in)), where=n_in > 0)
    goodness_all = fairness_goodness(pre, scored["id"])
    goodness = pl.DataFrame({"id": scored["id"], "g": goodness_all}).join(
        pl.DataFrame({"id": ids}), on="id", how="right")["g"].to_numpy()

    # Variant: relative engagement measured per distinct engager instead of per follower. With no
    # follow edge, followers = 0 and the engine's rate is the raw volume of (|rating|-weighted)
    # events received, i.e. popularity; per engager it is the mean rating strength received.
    audience_all = scored["audience"].to_numpy().astype(np.float64)
    events_all = scored["engagement_rate"].to_numpy() * (scored["followers"].to_numpy() + 1.0)
    rate_all = events_all / (audience_all + 1.0)
    a, b = fit_engagement_curve(audience_all, rate_all)
    floor = 0.5 / (audience_all + 1.0)
    rel_all = logistic(np.log(np.maximum(rate_all, floor)) - (a + b * np.log1p(audience_all)))
    rel_per_engager = pl.DataFrame({"id": scored["id"], "r": rel_all}).join(
        pl.DataFrame({"id": ids}), on="id", how="right")["r"].to_numpy()
    g, aa, ea, ds = col("genuineness"), col("audience_authenticity"), col("engagement_authenticity"), col("distrust_share")

    predictors = {
        ("model", "`1 - credibility`"): 1.0 - col("credibility"),
        ("component", "`distrust_share`"): ds,
        ("component", "`1 - audience_authenticity`"): 1.0 - aa,
        ("component", "`1 - engagement_authenticity`"): 1.0 - ea,
        ("component", "`1 - relative_engagement`"): 1.0 - col("relative_engagement"),
        ("component", "`1 - genuineness`"): 1.0 - g,
        ("component", "`pod_score`"): col("pod_score"),
        ("baseline", "- positive in-degree"): -pos_in,
        ("baseline", "negative share received before cutoff"): np.divide(neg_in, n_in, out=np.zeros(len(n_in)), where=n_in > 0),
        ("baseline", "- mean rating received before cutoff"): -mean_in,
        ("baseline", "- fairness/goodness (Kumar 2016) goodness"): -goodness,
        ("baseline", "+ ratings received before cutoff (volume)"): n_in,
        ("variant", "`1 - credibility` without relative_engagement"): 1.0 - g * aa * ea * (1.0 - ds),
        ("variant", "`1 - credibility`, relative_engagement per engager"):
            1.0 - g * aa * (0.5 * ea + 0.5 * rel_per_engager) * (1.0 - ds),
        ("variant", "`1 - credibility`, distrust only: `distrust_share`"): ds,
        # Lexicographic gate: distrust first, the other factors only order accounts of equal distrust
        # (distrust_share values differ by far more than 1e-6 while 1 - g*aa*ea is in [0, 1]).
        ("variant", "gate: `distrust_share`, ties by `1 - g·aa·ea`"): ds + 1e-6 * (1.0 - g * aa * ea),
    }
    future_share = d["future_neg_share"].to_numpy()
    rows = [{"group": grp, "predictor": nm, "auc": auc(p, y), "rho_share": rho(p, future_share)}
            for (grp, nm), p in predictors.items()]
    context = {
        "cutoff": cutoff, "rows_pre": pre.height, "rows_post": post.height, "accounts": scored.height,
        "eval": d.height, "positives": int(y.sum()), "unrated_before": int((n_in == 0).sum()),
        "auc_future_volume": auc(col("future_ratings"), y),
        "neg_share_pre": float((pre["rating"] < 0).mean()),
        "ds_zero": float((ds == 0).mean()),
    }
    return {"rows": rows, "context": context}


# --------------------------------------------------------------------------- report

def higgs_table(result: dict) -> list[str]:
    lines = ["| group | predictor | Spearman (all) | Spearman (audience ≥ 1) | top-100 overlap |",
             "|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['group']} | {r['predictor']} | {fmt(r['rho'])} | {fmt(r['rho_aud'])} | {fmt(r['top'], 2)} |")
    return lines


def bitcoin_table(otc: dict, alpha: dict) -> list[str]:
    lines = ["| group | predictor | AUC OTC | AUC Alpha | ρ future neg. share OTC | ρ Alpha |",
             "|---|---|---|---|---|---|"]
    for a, b in zip(otc["rows"], alpha["rows"]):
        lines.append(f"| {a['group']} | {a['predictor']} | {fmt(a['auc'])} | {fmt(b['auc'])} | "
                     f"{fmt(a['rho_share'])} | {fmt(b['rho_share'])} |")
    return lines


def timing_table() -> list[str]:
    lines = ["| run | input rows | accounts | runs | median load s | median score s | fastest load+score s | reach | credibility | communities | peer_influence | segments |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in TIMINGS:
        s = t["stages"]
        lines.append(
            f"| {t['run']} | {t['rows']:,} | {t['accounts']:,} | {t['repeats']} | {t['load']:.3f} | {t['score']:.3f} | "
            f"{t['min_total']:.3f} | "
            + " | ".join(f"{s.get(k, float('nan')):.3f}" for k in ("reach", "credibility", "communities", "peer_influence", "segments"))
            + " |")
    return lines


def lookup(result: dict, predictor: str, key: str) -> float:
    for r in result["rows"]:
        if r["predictor"] == predictor:
            return r[key]
    raise KeyError(predictor)


def losses(result: dict, key: str) -> list[str]:
    """One line per model output: the baselines that beat it on ``key`` and by how much."""
    base = [r for r in result["rows"] if r["group"] == "baseline"]
    out = []
    for r in result["rows"]:
        if r["group"] != "model":
            continue
        beaten = [f"{b['predictor']} ({fmt(b[key])})" for b in base if b[key] > r[key]]
        out.append(f"{r['predictor']} = {fmt(r[key])}: " + ("beaten by " + ", ".join(beaten) if beaten else "beats every baseline"))
    return out


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()


def export_src(rev: str) -> tuple[Path, str]:
    """Extract ``src/`` of commit ``rev`` into a temporary directory; returns (its src dir, short hash)."""
    commit = git("rev-parse", "--short", f"{rev}^{{commit}}")
    target = Path(tempfile.mkdtemp(prefix=f"influence-{commit}-"))
    archive = subprocess.run(["git", "archive", "--format=tar", commit, "src"], cwd=REPO_ROOT,
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "src", commit


def import_engine(src_dir: Path | None) -> None:
    """Import the engine (from ``src_dir`` when given) into this module's globals."""
    global influence, AUTO_GOAL_BY_SEGMENT, GOAL_WEIGHTS, ScoringConfig
    global expected_exposures_observed, log_share, logistic, percentile_rank, fit_engagement_curve
    if src_dir is not None:
        sys.path.insert(0, str(src_dir))
    import influence as engine
    from influence.config import AUTO_GOAL_BY_SEGMENT as auto_goals, GOAL_WEIGHTS as goal_weights, ScoringConfig as config
    from influence.kernels.propagation import expected_exposures_observed as exposures
    from influence.scores.common import log_share as ls, logistic as lg, percentile_rank as pct
    from influence.scores.credibility import fit_engagement_curve as fit

    if src_dir is not None and not Path(engine.__file__).resolve().is_relative_to(src_dir.resolve()):
        raise SystemExit(f"--commit: influence was imported from {engine.__file__}, not from {src_dir}")
    influence, AUTO_GOAL_BY_SEGMENT, GOAL_WEIGHTS, ScoringConfig = engine, auto_goals, goal_weights, config
    expected_exposures_observed, log_share, logistic, percentile_rank, fit_engagement_curve = exposures, ls, lg, pct, fit


SOURCE = {"text": "unknown"}


def describe_source(commit: str | None) -> str:
    if commit:
        return f"src/ of commit {commit}, exported with `--commit` (working-tree edits not included)"
    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "src")
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return f"commit {head}" + (", with uncommitted changes in src/" if dirty else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Write the markdown report here.")
    parser.add_argument("--commit", default=None,
                        help="Validate src/ of this commit (exported to a temporary directory) instead of "
                             "the installed engine, e.g. HEAD while others edit the working tree.")
    args = parser.parse_args(argv)
    needed = [DATA / "higgs_twitter" / "edges.parquet", DATA / "bitcoin_otc" / "edges.parquet",
              DATA / "bitcoin_alpha" / "edges.parquet"]
    missing = [p for p in needed if not p.exists()]
    if missing:
        print(f"validation skipped: real datasets not found ({', '.join(str(p) for p in missing)}); "
              f"expected under {DATA}", file=sys.stderr)
        return 0
    src_dir, commit = export_src(args.commit) if args.commit else (None, None)
    import_engine(src_dir)
    SOURCE["text"] = describe_source(commit)
    SOURCE["cmd"] = "python benchmarks/validation.py" + (f" --commit {args.commit}" if args.commit else "") + (
        f" --out {args.out}" if args.out else "")
    try:
        return run_all(needed, args.out)
    finally:
        if src_dir is not None:
            shutil.rmtree(src_dir.parent, ignore_errors=True)


def run_all(needed: list[Path], out: Path | None) -> int:
    started = time.perf_counter()
    LOAD_AVG.append(os.getloadavg())
    # Warm-up: compile / load the numba kernels so that the timed runs measure scoring only.
    warm = pl.read_parquet(needed[2]).head(2000)
    run_engine("warm-up (numba compile or cache load, 2,000 Alpha rows)", warm)

    higgs = pl.read_parquet(needed[0])
    hold = higgs_holdout(higgs)
    cross = higgs_cross_layer(higgs)
    otc = bitcoin("Bitcoin OTC", pl.read_parquet(needed[1]))
    alpha = bitcoin("Bitcoin Alpha", pl.read_parquet(needed[2]))
    total = time.perf_counter() - started
    LOAD_AVG.append(os.getloadavg())

    report = render(hold, cross, otc, alpha, total)
    print(report)
    if out:
        out.write_text(report)
        print(f"wrote {out}", file=sys.stderr)
    return 0


def render(hold: dict, cross: dict, otc: dict, alpha: dict, total: float) -> str:
    h, c = hold["context"], cross["context"]
    o, a = otc["context"], alpha["context"]
    lines = [
        "# Validation on real data",
        "",
        f"Generated by `{SOURCE['cmd']}` "
        f"({SOURCE['text']}; Python {platform.python_version()}, polars {pl.__version__}, "
        f"total {total:.0f} s on this machine). Datasets: `shared/datasets/real` (see its README). "
        f"Every engine run uses `seed={SEED}` and the default `ScoringConfig` unless a variant says otherwise.",
        "",
        "Rows: **model** = the scores the engine returns; **component** = a column of the score table; "
        "**baseline** = a simple statistic of the same training graph; **variant** = a formula change "
        "recomputed in the benchmark (from the score table, or a rerun with a config override), "
        "to test a fix before anyone edits `src/`.",
        "",
        "## 1. Higgs Twitter: temporal hold-out",
        "",
        f"Scored on the {h['events_pre']:,} events before 2012-07-04 00:00 UTC ({h['accounts']:,} accounts, "
        f"{h['with_audience']:,} with an audience). Truth: retweets received from the cutoff on. "
        f"{h['truth_pos']:,} of the scored accounts receive one; they receive {h['future_rt_covered']:,.0f} of the "
        f"{h['future_rt']:,.0f} later retweets ({h['future_rt_covered'] / h['future_rt']:.0%}); the rest go to accounts "
        "that had no event before the cutoff, which no score of the pre-cutoff graph can rank. "
        "Spearman over all scored accounts (most tie at 0 truth), and over the accounts with a "
        "pre-cutoff audience; top-100 sets sorted descending, ties broken by ascending id "
        f"(the 100th account by truth received {h['truth_top_min']:.0f} retweets).",
        "",
        *higgs_table(hold),
        "",
        f"Segments of the top 100 by `score`: {h['score_top_segments']}. Medians by segment:",
        "",
        *h["segment_table"],
        "",
        "## 2. Higgs Twitter: cross-layer (mention + reply → retweets)",
        "",
        f"Scored on the {c['events']:,} mention and reply events of the whole week ({c['accounts']:,} accounts, "
        f"{c['with_audience']:,} with an audience). Truth: retweets received over the whole week "
        f"({c['truth_pos']:,} scored accounts receive one). There is no reshare in this layer, so `amplification` "
        "is 0 and pass-on rates use the prior (the engine warns).",
        "",
        *higgs_table(cross),
        "",
        f"Segments of the top 100 by `score`: {c['score_top_segments']}. Medians by segment:",
        "",
        *c["segment_table"],
        "",
        "## 3. Bitcoin OTC and Alpha: who is distrusted later",
        "",
        f"Cutoff = 70th percentile of `ts` (OTC {o['cutoff']:.0f}, Alpha {a['cutoff']:.0f}); scored on the "
        f"{o['rows_pre']:,} / {a['rows_pre']:,} ratings before it (kind and weight as given: `weight` = |rating|). "
        f"Evaluated accounts: rated after the cutoff and present before it, OTC {o['eval']} "
        f"({o['positives']} receive a negative rating later), Alpha {a['eval']} ({a['positives']}); "
        f"{o['unrated_before']} / {a['unrated_before']} of them received no rating before the cutoff (they only rated; "
        "their rating baselines are 0). All columns oriented so that higher = more likely distrusted. "
        "The last two columns are an exposure-free check: Spearman correlation with the *share* of "
        "negative ratings among the ratings received after the cutoff.",
        "",
        *bitcoin_table(otc, alpha),
        "",
        f"Exposure: the number of ratings an account receives *after* the cutoff alone has AUC "
        f"{fmt(o['auc_future_volume'])} (OTC) / {fmt(a['auc_future_volume'])} (Alpha) for the label: "
        "an account rated more often has more chances to receive one negative rating.",
        "",
        "## 4. Compute time",
        "",
        "Wall-clock seconds of `influence.load` and `influence.score` (median of the runs, and the "
        "fastest), and the engine's own stage timings of the median run, on "
        f"{platform.machine()} with {os.cpu_count()} cores. The machine is shared: the 1-minute load "
        f"average was {LOAD_AVG[0][0]:.1f} at the start and {LOAD_AVG[-1][0]:.1f} at the end, and the same "
        "run has measured up to ten times slower while other jobs ran, so read these as upper bounds. "
        "The first run of a process also compiles the numba kernels or loads them from the cache (the "
        "warm-up row). "
        f"The networkx PageRank baselines took {h['nx_seconds']:.1f} s and {c['nx_seconds']:.1f} s.",
        "",
        *timing_table(),
        "",
        "## 5. Where the model loses, and why",
        "",
        "Generated comparisons (model output vs the baselines that beat it):",
        "",
        "* Hold-out, Spearman: " + "; ".join(losses(hold, "rho")),
        "* Hold-out, top-100: " + "; ".join(losses(hold, "top")),
        "* Cross-layer, Spearman: " + "; ".join(losses(cross, "rho")),
        "* Cross-layer, top-100: " + "; ".join(losses(cross, "top")),
        "* OTC AUC: " + "; ".join(losses(otc, "auc")),
        "* Alpha AUC: " + "; ".join(losses(alpha, "auc")),
        "",
        *discussion(hold, cross, otc, alpha),
    ]
    return "\n".join(lines) + "\n"


def discussion(hold: dict, cross: dict, otc: dict, alpha: dict) -> list[str]:
    """The written analysis; every number in it is read from this run's results."""
    def g(result, name, key):
        return fmt(lookup(result, name, key), 2 if key == "top" else 3)

    H, C, O, A = hold, cross, otc, alpha
    hc, cc = H["context"], C["context"]
    SCORE, REACH, PEER, CRED = "`score` (default, goal auto)", "`reach`", "`peer_influence`", "`credibility`"
    INDEG_H, INDEG_C = "in-degree (distinct accounts, all kinds)", "in-degree (distinct accounts, mention+reply)"
    R1 = "`reach`, cascade_depth=1 (default 3)"
    CAP = "`reach`, spread capped at distinct accounts within 3 hops"
    PCAP = "`reach`, pass-on 0.02, no per-edge evidence, capped"
    sw = hc["swap"]
    RP_EV, RP = "`reach`, pass-on 0.02 for all (per-edge evidence kept)", "`reach`, pass-on 0.02 for all, no per-edge evidence"
    P_NOST, P_MIN = "`peer_influence` without community_standing", "`peer_influence`, standing by lowest rank of ties"
    S_BAL, S_ALL = "`score`, fixed balanced weights (0.4/0.3/0.3)", "`score`, balanced, with the reach and peer fixes above"
    ONE_C = "`1 - credibility`"
    DS, NEG, MEAN, FGA, VOL = ("`distrust_share`", "negative share received before cutoff",
                               "- mean rating received before cutoff", "- fairness/goodness (Kumar 2016) goodness",
                               "+ ratings received before cutoff (volume)")
    INDEG_B, REL, AA = "- positive in-degree", "`1 - relative_engagement`", "`1 - audience_authenticity`"
    GATE = "gate: `distrust_share`, ties by `1 - g·aa·ea`"
    NOREL, RELENG = "`1 - credibility` without relative_engagement", "`1 - credibility`, relative_engagement per engager"

    def both(name, key):
        return f"{g(O, name, key)} / {g(A, name, key)}"

    return [
        "The prose below was written against the numbers of the run that produced this file; the "
        "numbers in it are filled in by the script, the judgements are not. Re-read it if the "
        "tables move.",
        "",
        "**On Higgs the model reaches parity with plain in-degree, not more; on Bitcoin credibility now "
        "beats the negative-share, mean-rating and fairness/goodness baselines on AUC (not the rating "
        "volume on Alpha, an exposure effect).** Each loss below has a formula-level cause, and a "
        "recomputed variant shows how large a fix is.",
        "",
        "### Higgs: `reach` (top-100 hold-out " + g(H, REACH, "top") + " vs in-degree " + g(H, INDEG_H, "top") + ")",
        "",
        "* Two earlier defects are fixed in the engine. (1) Without a follow edge the pass-on rate was "
        "reshares per *interacted-with* account (p0 = "
        f"{hc['p0']:.2f} reshares per attention edge here: in a retweet graph nearly every attended "
        "account is one `u` retweeted); now every account gets the prior `reshare_prior` there, with no "
        f"per-edge evidence (median pass-on of the retweeters {hc['pass_on_median']:.3f}). (2) The spread "
        "was a path-counting recursion that counted an author's own 2-cycles (v → u → v) as exposures; it "
        "is now the expected number of *distinct* accounts reached, estimated from reverse-reachable "
        "sets. Together: top-100 0.32 → " + g(H, REACH, "top") + ", Spearman over accounts with an "
        "audience 0.366 → " + g(H, REACH, "rho_aud") + " (cross-layer 0.368 → " + g(C, REACH, "rho_aud") + ").",
        f"* Capping the spread at the exact number of distinct accounts within three hops now changes "
        f"nothing ({g(H, CAP, 'rho_aud')}; it binds on {hc['cap']['n']:,} accounts): the sampled spread never "
        "exceeds what is reachable.",
        f"* `reach` still trails the audience alone on Spearman over accounts with an audience "
        f"({g(H, REACH, 'rho_aud')} vs {g(H, R1, 'rho_aud')} with `cascade_depth=1`; cross-layer "
        f"{g(C, REACH, 'rho_aud')} vs {g(C, R1, 'rho_aud')}): on this data the 2nd and 3rd hops add no "
        "signal about later retweets. The " + str(sw['reach_only']['n']) + " accounts that `reach` puts in "
        "its top 100 instead of the in-degree's have a median audience of "
        f"{sw['reach_only']['audience']:.0f} and spread {sw['reach_only']['spread']:.0f} and received a median "
        f"{sw['reach_only']['truth']:.0f} later retweets; the accounts they displace have audience "
        f"{sw['audience_only']['audience']:.0f}, spread {sw['audience_only']['spread']:.0f} and received "
        f"{sw['audience_only']['truth']:.0f}.",
        "",
        "### Higgs: `peer_influence` and `score` (Spearman " + g(H, PEER, "rho") + " / " + g(H, SCORE, "rho")
        + " vs in-degree " + g(H, INDEG_H, "rho") + ")",
        "",
        f"* `community_standing` is a *mid-rank* percentile inside the community. The {hc['zero_audience']:,} "
        "accounts nobody attends to all sit at the PageRank floor, so their standing is about 0.5 in a big "
        "community and 0.25 in a two-account one: noise that reorders 80% of the accounts (its Spearman "
        f"with the truth inside that block is {fmt(hc['standing_zero_rho'])}; cross-layer "
        f"{fmt(cc['standing_zero_rho'])}). Giving ties their lowest rank (0 for the floor) lifts "
        f"`peer_influence` to {g(H, P_MIN, 'rho')} (cross-layer {g(C, P_MIN, 'rho')}), and over accounts with an "
        f"audience from {g(H, PEER, 'rho_aud')} to {g(H, P_MIN, 'rho_aud')} ({g(C, PEER, 'rho_aud')} → "
        f"{g(C, P_MIN, 'rho_aud')}); dropping standing altogether also fixes the first number but loses "
        f"the second ({g(H, P_NOST, 'rho_aud')}), because inside the accounts with an audience PageRank is "
        f"weak.",
        f"* PageRank itself (engine or networkx, Spearman over accounts with an audience "
        f"{g(H, '`pagerank` (engine, kind-weighted)', 'rho_aud')} / {g(H, 'PageRank (networkx, event counts)', 'rho_aud')}) "
        f"trails the in-degree ({g(H, INDEG_H, 'rho_aud')}): a retweeter's rank is split over everyone it "
        "retweets, so being retweeted by many distinct accounts counts less than being the only target of "
        "a few. The kind weights (retweet 3, reply 2, mention 1) change nothing against the event-count "
        "PageRank.",
        f"* `score` inherits the standing noise (fixed balanced weights give the same "
        f"{g(H, S_BAL, 'rho')}). Its top 100 also depends on the segment weights of `goal=auto`: in the "
        f"cross-layer test the top 100 by `score` is {cc['score_top_segments']} — micro accounts (median "
        "audience in the table above) are weighed 0.2/0.4/0.4 and their `peer_influence` and `credibility` "
        "are nearly as high as the mass accounts', so they outrank them, and a global ranking by `score` compares "
        f"numbers made with different weights. Fixed balanced weights: cross-layer top-100 "
        f"{g(C, SCORE, 'top')} → {g(C, S_BAL, 'top')}. Balanced weights with both fixes above: "
        f"Spearman {g(H, S_ALL, 'rho')} / {g(H, S_ALL, 'rho_aud')}, top-100 {g(H, S_ALL, 'top')} on the hold-out "
        f"(in-degree {g(H, INDEG_H, 'rho')} / {g(H, INDEG_H, 'rho_aud')} / {g(H, INDEG_H, 'top')}): parity, "
        "not a win.",
        f"* `credibility` is not meant to predict retweets (Spearman {g(H, CRED, 'rho')}; over accounts with "
        f"an audience {g(H, CRED, 'rho_aud')}).",
        "",
        "### Bitcoin: `1 - credibility` (AUC " + both(ONE_C, "auc") + ", OTC / Alpha)",
        "",
        f"* The label is driven by exposure: the number of ratings received before the cutoff has AUC "
        f"{both(VOL, 'auc')} (accounts rated often are more likely to collect one negative rating), so the "
        f"requested `- positive in-degree` baseline is below chance ({both(INDEG_B, 'auc')}).",
        "* Before this change credibility multiplied `1 - distrust_share` by structural factors that vary "
        "far more than it and, on a rating graph, mostly measure rating volume "
        f"(`1 - relative_engagement` {both(REL, 'auc')}, `1 - audience_authenticity` {both(AA, 'auc')}); "
        f"`distrust_share` is 0 for {O['context']['ds_zero']:.0%} / {A['context']['ds_zero']:.0%} of the "
        "evaluated accounts, so volume decided and credibility was at chance (AUC 0.558 / 0.503).",
        "* Now, on a rating graph (negative signals at least 1% of the signal rows), distrust comes "
        "first: `(1 - distrust_share) - tau (1 - authenticity)`, where `tau` is the distrust share of one "
        "negative rating on an account with the median number of ratings, and authenticity = genuineness "
        "x audience authenticity x engagement authenticity (docs/scoring.md). AUC "
        f"{both(ONE_C, 'auc')}: above the negative-share baseline ({both(NEG, 'auc')}), the mean rating "
        f"({both(MEAN, 'auc')}) and fairness/goodness ({both(FGA, 'auc')}); a pure lexicographic gate (the "
        f"variant row: distrust first, authenticity only between equal distrust) gives {both(GATE, 'auc')}, "
        "but squeezes every undistrusted account's credibility to 1, which would take credibility out of "
        "`score` on such graphs.",
        f"* On the exposure-free check (Spearman with the later *share* of negative ratings) credibility "
        f"rose from 0.125 / 0.015 to {both(ONE_C, 'rho_share')}, but `distrust_share` alone is still higher "
        f"({both(DS, 'rho_share')}): the authenticity tie-break among accounts without distrust still "
        "carries some volume. The AUC advantage over `distrust_share` alone "
        f"({both(DS, 'auc')}) comes from that same tie-break and partly from exposure.",
        "",
        "### Suggestions, each with the effect measured above",
        "",
        "1. **Engagement rate per engager when there is no follow edge**: done (the engine measures "
        f"`engagement_rate` per distinct engager there); with the multiplicative formula it gave "
        f"{both(RELENG, 'auc')} (variant row).",
        "2. **Let `distrust_share` dominate on signed graphs**: done, see above "
        f"({both(ONE_C, 'auc')}). Open: the exposure-free gap to `distrust_share` alone "
        f"({both(ONE_C, 'rho_share')} vs {both(DS, 'rho_share')}).",
        "3. **Pass-on without exposures** and **distinct spread**: done, see the Higgs reach section. "
        f"`reach` is at parity with in-degree on top-100 ({g(H, REACH, 'top')} vs {g(H, INDEG_H, 'top')}) and "
        f"below it on Spearman over accounts with an audience ({g(H, REACH, 'rho_aud')} vs "
        f"{g(H, INDEG_H, 'rho_aud')}).",
        f"4. **Lowest-rank ties in `community_standing`** (accounts at the PageRank floor get 0): "
        f"`peer_influence` Spearman {g(H, PEER, 'rho')} → {g(H, P_MIN, 'rho')} (hold-out), {g(C, PEER, 'rho')} → "
        f"{g(C, P_MIN, 'rho')} (cross-layer), top-100 unchanged.",
        "5. **Do not rank globally by the `auto` score**, or rescale it: segment-dependent weights make "
        f"scores of different segments incomparable (cross-layer top-100 {g(C, SCORE, 'top')} with auto, "
        f"{g(C, S_BAL, 'top')} with fixed weights). Putting reach on a percentile scale was tried and does "
        f"not fix it ({g(C, '`score`, auto weights on percentile(reach)', 'top')}).",
        "",
        "### Limits of these tests",
        "",
        f"* Higgs covers one topic over one week, has no follower graph (so reach and credibility run in "
        f"their degraded, interaction-only mode), and {1 - hc['future_rt_covered'] / hc['future_rt']:.0%} of the "
        "later retweets go to accounts that did not exist in the training graph.",
        "* On Bitcoin the label mixes trustworthiness with exposure; the exposure-free column is the fairer "
        "test of credibility, and it has a few hundred accounts per network (differences of a few "
        "hundredths in AUC are within noise).",
        "* Top-100 overlaps move by 0.01 per account; differences below about 0.05 are not meaningful.",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
