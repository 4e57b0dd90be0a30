"""Reach: how many distinct people an account's content can be expected to reach.

Components (per account ``v``; edge ``u -> v`` = ``u`` follows or engages with ``v``):

``audience``
    distinct accounts paying attention to ``v`` (follow or interaction in-edges); raised to the
    node table's ``followers`` where that is larger (the graph may be a sample).
``pass_on``
    the probability that an account passes on a post it sees (reshares per attended account,
    shrunk towards the graph-wide rate; ``1 - exp(-reshare_prior)`` for every account when the
    graph holds no reshare or no follow edge).
``expected_spread``
    expected number of distinct accounts other than ``v`` that see a post of ``v`` under an
    independent cascade of ``cascade_depth`` hops, where the edge ``u -> v`` passes posts on with
    probability ``1 - exp(-(r_uv + k p(u)) / (1 + k))``: ``p(u)`` is the prior, each reshare
    ``r_uv`` of ``v`` by ``u`` is evidence on top. ``audience`` (hop 1, exact) plus the hops beyond,
    estimated for every account at once from reverse-reachable sets
    (:mod:`influence.kernels.cascade`); ``R`` is what the error bound asks for at the
    ``mass_quantile`` audience (relative error ``spread_epsilon`` with probability ``1 -
    spread_delta``) or what ``spread_budget`` edge visits per attention edge afford, whichever is
    smaller; :class:`SampledSpread` reports ``R`` and the bound reached.
``expected_exposures``
    the same cascade counted along paths, ``s_k(v) = sum_{u -> v} (1 + p_uv s_{k-1}(u))``: an upper
    bound of the spread (paths to the same account count once each), exact on trees; a cheap
    deterministic diagnostic, not used by ``reach``.
``two_hop_audience``
    distinct accounts within two hops of ``v``'s audience (everyone a reshare by its whole
    audience would reach, ``v`` excluded): exact up to ``TWO_HOP_EXACT_BUDGET`` paths, a KMV
    sketch of ``TWO_HOP_SKETCH_SIZE`` hashes beyond (relative standard error 12.7%); the ceiling
    of the second hop, shown beside the spread.
``reach``
    ``log1p(expected_spread) / log1p(scale)``, where ``scale`` is the largest of the graph's
    account count and every account's spread: 1 for the account seen by the most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import ScoringConfig
from ..graph import Graph
from ..kernels.cascade import (
    int_keys,
    reverse_reachable_hits,
    rr_error_threshold,
    rr_relative_error,
    rr_samples_for,
)
from ..kernels.propagation import expected_exposures_observed
from ..kernels.sketch import account_hashes, bottom_k_sketches, two_hop_audience
from .common import parallel_chunks
from .common import log_share


#: Two-hop path count up to which the distinct two-hop audience is counted exactly.
TWO_HOP_EXACT_BUDGET = 4096
#: Hashes kept by a two-hop KMV sketch.
TWO_HOP_SKETCH_SIZE = 64


@dataclass(frozen=True)
class ReachResult:
    audience: np.ndarray
    pass_on: np.ndarray
    expected_exposures: np.ndarray
    two_hop_audience: np.ndarray
    expected_spread: np.ndarray
    reach: np.ndarray
    global_reshare_rate: float
    observed_reshares: bool
    sampled: "SampledSpread"


def pass_on_probability(graph: Graph, config: ScoringConfig) -> tuple[np.ndarray, float, bool]:
    """Per-account probability of passing on a post it sees, and the graph-wide rate.

    ``p(u) = 1 - exp(-(R(u) + k p0) / (A(u) + k))`` with ``R(u)`` the reshares ``u`` made,
    ``A(u)`` the accounts ``u`` attends to, ``k = prior_strength`` and ``p0`` the graph-wide
    reshares per attention edge. When the graph shows no reshare or no follow edge there is no
    evidence (without follows, attention is mostly the reshares themselves): every account gets
    the prior, ``1 - exp(-reshare_prior)`` (the formula with ``R = A = 0``).
    """
    attended = graph.attention.out_degree.astype(np.float64)
    reshares = graph.reshare.out_strength
    total_attention = float(attended.sum())
    # Reshares per attended account estimate a pass-on rate only when attention includes
    # follows (exposure without reaction). Without follow edges the accounts one "attends to" are
    # mostly the ones one reshared (Higgs: rate 0.68), so the prior is used instead.
    observed = graph.reshare.n_edges > 0 and graph.follow.n_edges > 0
    if not (observed and total_attention > 0):
        rate = config.reshare_prior
        return np.full(graph.n_nodes, -np.expm1(-rate)), rate, False
    rate = float(reshares.sum()) / total_attention
    k = config.prior_strength
    p = 1.0 - np.exp(-(reshares + k * rate) / (attended + k))
    return p, rate, observed


def distinct_two_hop(graph: Graph, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct two-hop audience (exact or KMV) and two-hop path count of every account."""
    attention = graph.attention
    n = graph.n_nodes
    k = TWO_HOP_SKETCH_SIZE
    hashes = account_hashes(n, seed)
    big = np.flatnonzero(attention.in_degree > k).astype(np.int64)
    row = np.full(n, -1, np.int64)
    row[big] = np.arange(big.size)
    sketches = bottom_k_sketches(attention.in_indptr, attention.in_indices, hashes, big, k)
    distinct, paths, _ = two_hop_audience(
        attention.in_indptr, attention.in_indices, hashes, row, sketches, k, TWO_HOP_EXACT_BUDGET, parallel_chunks(n)
    )
    return distinct, paths


@dataclass(frozen=True)
class SampledSpread:
    """Spread beyond the first hop from ``samples`` RR sets, with its error bound: with
    probability at least ``1 - delta``, every account's ``beyond`` is within ``epsilon *
    max(true beyond, error_threshold)`` of its expectation (all accounts at once), and accounts
    whose audience is at least ``target`` (the ``mass_quantile`` audience) are within relative
    error ``target_epsilon`` (``<= epsilon`` unless the budget capped ``samples``)."""

    beyond: np.ndarray  # float64[n]: expected distinct accounts reached beyond the first hop
    samples: int  # RR sets drawn
    work: int  # edge visits they cost
    epsilon: float
    delta: float
    error_threshold: float  # S* of rr_error_threshold(n, epsilon, delta, samples)
    target: float
    target_epsilon: float


#: Edge count below which the sampling budget is that of a graph of this many edges (a small
#: graph affords the error bound in a fraction of a second).
MIN_BUDGET_EDGES = 1 << 20

#: Most samples per call of the sampling kernel.
MAX_CALL_SAMPLES = 1 << 30


def account_keys(n: int) -> np.ndarray:
    """uint64[n]: the key each account's random numbers are drawn with, ``mix64`` of its dense
    index. Dense indices are the ranks of the sorted ids, so renaming accounts in an
    order-preserving way changes nothing (ids stay opaque)."""
    return int_keys(np.arange(n, dtype=np.int64))


def edge_probabilities(graph: Graph, pass_on: np.ndarray, config: ScoringConfig, observed: bool):
    """``(q, extra_indptr, extra_indices, extra_prob)``: the base pass-on probability of every
    account's edges and the extra probability of its edges with observed reshares (see
    :mod:`influence.kernels.cascade`): ``1 - (1 - q_u)(1 - x_uv) = 1 - exp(-(r_uv + k p(u)) /
    (1 + k))``."""
    k = config.prior_strength
    q = -np.expm1(-k * pass_on / (1.0 + k))
    if observed:
        layer = graph.reshare
        return q, layer.out_indptr, layer.out_indices, -np.expm1(-layer.out_data.astype(np.float64) / (1.0 + k))
    return q, np.zeros(graph.n_nodes + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float64)


def _hits(args, start: int, stop: int) -> tuple[np.ndarray, int]:
    hits, work = None, 0
    for a in range(start, stop, MAX_CALL_SAMPLES):
        h, w = reverse_reachable_hits(*args, a, min(stop, a + MAX_CALL_SAMPLES))
        hits = h if hits is None else hits + h
        work += w
    return hits, work


def rr_arguments(graph: Graph, pass_on: np.ndarray, config: ScoringConfig, observed: bool) -> tuple:
    """The sampling kernel's arguments (the attention out-CSR, edge probabilities, keys, depth,
    seed): an edge stage, built where the edges are and kept there for the sampling."""
    attention = graph.attention
    return (attention.out_indptr, attention.out_indices, *edge_probabilities(graph, pass_on, config, observed),
            account_keys(graph.n_nodes), config.cascade_depth, config.seed)


def sampled_spread(graph: Graph, pass_on: np.ndarray, config: ScoringConfig, observed: bool) -> SampledSpread:
    """Expected spread beyond the first hop of every account from reverse-reachable sets.

    Every account is the target of one RR set per round. ``rounds = min(needed, affordable)``, at
    least 1: ``needed`` = :func:`rr_samples_for` at the ``mass_quantile`` audience (relative
    error ``spread_epsilon`` there with probability ``1 - spread_delta``) over ``n``;
    ``affordable`` = the rounds ``spread_budget * max(attention edges, MIN_BUDGET_EDGES)`` edge
    visits pay for at the cost of the first round. The rounds, and so the result, depend only on
    the graph, the configuration and the seed.
    """
    n = graph.n_nodes
    attention = graph.attention
    eps, delta = config.spread_epsilon, config.spread_delta
    audience = attention.in_degree
    target = max(1.0, float(np.quantile(audience, config.mass_quantile))) if n else 1.0
    if n == 0 or config.cascade_depth == 1 or attention.n_edges == 0:  # nothing beyond the audience
        return SampledSpread(np.zeros(n), 0, 0, eps, delta, 0.0, target, 0.0)
    # The arguments stay where the edges are; with a sharded backend every worker samples a
    # range of them (a sample's draws depend only on its index and the seed, and hits are
    # integers: the sum is the same for any split).
    stages = graph.stages
    kept = stages.keep(rr_arguments, pass_on, config, observed)

    def sample(start, stop):
        return stages.sum_ranges(_hits, kept, start, stop, "rr_sets")

    hits, work = sample(0, n)
    needed = -(-rr_samples_for(n, eps, delta, target) // n)
    budget = config.spread_budget * max(attention.n_edges, MIN_BUDGET_EDGES)
    rounds = max(1, min(needed, int(budget // max(work, 1))))
    if rounds > 1:
        more, more_work = sample(n, rounds * n)
        hits += more
        work += more_work
    stages.release(kept)
    samples = rounds * n
    return SampledSpread(hits / rounds, samples, work, eps, delta, rr_error_threshold(n, eps, delta, samples), target,
                         rr_relative_error(n, delta, samples, target))


def reach_edge_stage(graph: Graph, p: np.ndarray, observed: bool, config: ScoringConfig) -> tuple:
    """The per-account results of reach that walk the edges: ``(expected_exposures,
    two_hop_audience)``. Runs where the edges are (``graph.stages``)."""
    attention = graph.attention
    if observed:
        evidence = (graph.reshare.in_indptr, graph.reshare.in_indices, graph.reshare.in_data)
    else:  # no per-edge evidence: every edge uses the prior
        evidence = (np.zeros(graph.n_nodes + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))
    exposures = expected_exposures_observed(
        attention.in_indptr, attention.in_indices, *evidence, p, config.prior_strength, config.cascade_depth,
    )
    two_hop, _ = distinct_two_hop(graph, config.seed)
    return exposures, two_hop


def compute_reach(graph: Graph, config: ScoringConfig) -> ReachResult:
    audience = graph.attention.in_degree.astype(np.float64)
    reported = graph.node_column("followers", default=0)
    p, rate, observed = pass_on_probability(graph, config)
    exposures, two_hop = graph.stages.run(reach_edge_stage, p, observed, config)
    sampled = sampled_spread(graph, p, config, observed)
    spread = audience + sampled.beyond
    if reported is not None:
        unseen = np.maximum(reported - audience, 0.0)
        audience = audience + unseen
        spread = spread + unseen
    scale = max(float(graph.n_nodes - 1), float(spread.max(initial=0.0)))
    reach = log_share(spread, scale)
    return ReachResult(audience, p, exposures, two_hop, spread, reach, rate, observed, sampled)
