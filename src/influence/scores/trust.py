"""Trust propagated from the graph's most genuine and verified accounts (TrustRank / SybilRank).

Attention is endorsement: when ``u`` follows, reshares or trusts ``v``, some of ``u``'s trust
passes to ``v``. Trust starts at *seed* accounts and flows along the attention layer by a
personalised PageRank (Gyöngyi, Garcia-Molina & Pedersen 2004, "Combating Web Spam with
TrustRank"). Accounts behind a sparse cut (bot farms, bought audiences) receive little of it
(Cao et al. 2012, SybilRank). Because well-attended accounts collect more of any random walk, the
trust an account holds is compared with what an unseeded walk gives it:

``trust_ratio(v) = T(v) / P(v)``, ``T`` seeded, ``P`` uniform PageRank of the same layer, and
``trust = trust_ratio / (1 + trust_ratio)``: 0.5 is as trusted as a random account of its
standing, near 0 is unreachable from the seeds.

Seeds: ``verified`` accounts of the node table, plus the most genuine accounts of every
community: the top ``SEED_SHARE`` of each community by audience among accounts with genuineness
>= 0.9, no pod-like ring and an audience authenticity at least the median. Seeds spread over the
communities keep trust from measuring mere closeness to the largest accounts. Without topics the
engine passes the first Louvain level's communities here, the finer ones (see
``CommunityResult.seed_groups``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import ScoringConfig
from ..graph import Graph
from .peer_influence import pagerank_pair

#: Share of accounts taken as genuine seeds (besides verified ones).
SEED_SHARE = 0.01
#: L1 tolerance of the two trust walks.
TRUST_TOL = 1e-6


@dataclass(frozen=True)
class TrustResult:
    trust: np.ndarray
    seeded_rank: np.ndarray
    seeds: np.ndarray  # bool[n]


def trust_seeds(graph: Graph, genuineness: np.ndarray, audience_authenticity: np.ndarray,
                pod_score: np.ndarray, community: np.ndarray) -> np.ndarray:
    """bool[n]: verified accounts and the most genuine well-attended ones of every community."""
    n = graph.n_nodes
    seeds = np.zeros(n, dtype=bool)
    verified = graph.node_column("verified", default=False, dtype=bool)
    if verified is not None:
        seeds |= verified
    audience = graph.attention.in_degree
    eligible = (genuineness >= 0.9) & (pod_score < 0.5) & (audience > 0)
    if eligible.any():
        eligible &= audience_authenticity >= np.median(audience_authenticity[eligible])
    candidates = np.flatnonzero(eligible)
    if candidates.size:
        # per community, largest audience first: the top SEED_SHARE of each, ties included
        order = candidates[np.lexsort((candidates, -audience[candidates], community[candidates]))]
        comm_sorted = community[order]
        starts = np.flatnonzero(np.r_[True, comm_sorted[1:] != comm_sorted[:-1]])
        sizes = np.bincount(community, minlength=int(community.max(initial=0)) + 1)
        group_start = np.repeat(starts, np.diff(np.r_[starts, order.size]))
        group_end = np.repeat(np.r_[starts[1:], order.size], np.diff(np.r_[starts, order.size]))
        quota = np.maximum(1, np.ceil(SEED_SHARE * sizes[comm_sorted])).astype(np.int64)
        # the audience of the quota-th member; ties with it are seeds too (index-free)
        last = np.minimum(group_start + quota, group_end) - 1
        threshold = audience[order[last]]
        seeds[order[audience[order] >= threshold]] = True
    return seeds


def compute_trust(graph: Graph, genuineness: np.ndarray, audience_authenticity: np.ndarray,
                  pod_score: np.ndarray, community: np.ndarray, config: ScoringConfig) -> TrustResult:
    n = graph.n_nodes
    seeds = trust_seeds(graph, genuineness, audience_authenticity, pod_score, community)
    layer = graph.attention
    if not seeds.any() or layer.n_edges == 0:
        return TrustResult(np.full(n, 0.5), np.full(n, 1.0 / max(n, 1)), seeds)
    teleport = seeds / seeds.sum()
    # A ratio of two walks needs no 1e-9 precision: 1e-6 in L1 halves the iterations.
    walk = config.replace(tol=max(config.tol, TRUST_TOL))
    # The seeded and the uniform walk share the layer: iterated together, one pass over the
    # edges serves both (each result is what a walk of its own gives, bitwise).
    (seeded, _, _), (uniform, _, _) = pagerank_pair(layer, walk, teleport)
    ratio = seeded / uniform
    return TrustResult(ratio / (1.0 + ratio), seeded, seeds)
