"""Reach: how many distinct people an account's content can be expected to reach.

Components (per account ``v``; edge ``u -> v`` = ``u`` follows or engages with ``v``):

``audience``
    distinct accounts paying attention to ``v`` (follow or interaction in-edges); raised to the
    node table's ``followers`` where that is larger (the graph may be a sample).
``pass_on``
    the probability that an account passes on a post it sees (reshares per attended account,
    shrunk towards the graph-wide rate, or ``reshare_prior`` when the graph holds no reshare).
``expected_exposures``
    expected exposures of a post of ``v`` within ``cascade_depth`` hops of resharing, where the
    edge ``u -> v`` passes posts on with probability ``1 - exp(-(r_uv + k p(u)) / (1 + k))``:
    ``p(u)`` (below) is the prior, each reshare ``r_uv`` of ``v`` by ``u`` is evidence on top.
``two_hop_audience``
    distinct accounts within two hops of ``v``'s audience (everyone a reshare by its whole
    audience would reach, ``v`` excluded): exact up to ``TWO_HOP_EXACT_BUDGET`` paths, a KMV
    sketch of ``TWO_HOP_SKETCH_SIZE`` hashes beyond (relative standard error 12.7%).
``expected_spread``
    ``audience + rho * (exposures - audience)``, ``rho = (two_hop_audience - audience) /
    (two-hop paths - audience)``: the exposures beyond the first hop, scaled by the share of
    second-hop paths that reach new people (paths that loop back to ``v``, into its own audience
    or into each other count once). ``rho`` measured at the
    second hop is applied to the third as well: an approximation, exact on trees.
``reach``
    ``log1p(expected_spread) / log1p(scale)``, where ``scale`` is the largest of the graph's
    account count and every account's spread: 1 for the account seen by the most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import ScoringConfig
from ..graph import Graph
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


def pass_on_probability(graph: Graph, config: ScoringConfig) -> tuple[np.ndarray, float, bool]:
    """Per-account probability of passing on a post it sees, and the graph-wide rate.

    ``p(u) = 1 - exp(-(R(u) + k p0) / (A(u) + k))`` with ``R(u)`` the reshares ``u`` made,
    ``A(u)`` the accounts ``u`` attends to, ``k = prior_strength`` and ``p0`` the graph-wide
    reshares per attention edge (``reshare_prior`` when the graph shows no reshare or no follow
    edge: without follows, attention is mostly the reshares themselves).
    """
    attended = graph.attention.out_degree.astype(np.float64)
    reshares = graph.reshare.out_strength
    total_attention = float(attended.sum())
    # Reshares per attended account estimate a pass-on rate only when attention includes
    # follows (exposure without reaction). Without follow edges the accounts one "attends to" are
    # mostly the ones one reshared (Higgs: rate 0.68), so the prior is used instead.
    observed = graph.reshare.n_edges > 0 and graph.follow.n_edges > 0
    if observed and total_attention > 0:
        rate = float(reshares.sum()) / total_attention
    else:
        rate = config.reshare_prior
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


def compute_reach(graph: Graph, config: ScoringConfig) -> ReachResult:
    attention = graph.attention
    audience = attention.in_degree.astype(np.float64)
    reported = graph.node_column("followers", default=0)
    p, rate, observed = pass_on_probability(graph, config)
    if observed:
        evidence = (graph.reshare.in_indptr, graph.reshare.in_indices, graph.reshare.in_data)
    else:  # no per-edge evidence: every edge uses the prior
        evidence = (np.zeros(graph.n_nodes + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))
    exposures = expected_exposures_observed(
        attention.in_indptr, attention.in_indices, *evidence, p, config.prior_strength, config.cascade_depth,
    )
    two_hop, paths = distinct_two_hop(graph, config.seed)
    beyond_paths = paths - audience  # second-hop paths (the first hop is distinct by construction)
    distinct_share = np.divide(
        np.maximum(two_hop - audience, 0.0), beyond_paths, out=np.ones(graph.n_nodes), where=beyond_paths > 0
    )
    spread = audience + np.minimum(distinct_share, 1.0) * (exposures - audience)
    if reported is not None:
        unseen = np.maximum(reported - audience, 0.0)
        audience = audience + unseen
        spread = spread + unseen
    scale = max(float(graph.n_nodes - 1), float(spread.max(initial=0.0)))
    reach = log_share(spread, scale)
    return ReachResult(audience, p, exposures, two_hop, spread, reach, rate, observed)
