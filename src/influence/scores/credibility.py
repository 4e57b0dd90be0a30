"""Credibility: how genuine and engaged an account's audience is.

Components (per account ``v``; edge ``u -> v`` = ``u`` follows or engages with ``v``):

``genuineness`` (of every account ``u``, used for the others)
    ``has_audience(u) * min(1, c / follow_ratio(u))``: accounts nobody attends to score the
    graph's share of such accounts among active ones (high in a retweet-only graph, where that
    is normal; low in a follower graph, where it marks bots), and mass-followers whose
    ``(1 + follows) / (1 + audience)`` exceeds ``c`` (ten times the graph's median ratio, and
    at least 10: where most accounts are followed more than they follow, following a few times
    more than one is followed is still ordinary) are discounted proportionally.
``audience_authenticity``
    mean genuineness of ``v``'s followers (of its engagers when the graph has no follow edge),
    shrunk towards the graph mean with ``prior_strength`` pseudo-followers.
``engagement_rate``
    interaction events received per follower, ``events / (followers + 1)`` (per distinct engager
    when the graph has neither follow edges nor reported follower counts).
``relative_engagement``
    ``logistic`` of the residual of ``log(engagement_rate)`` against a least-squares fit on
    ``log(1 + followers)`` over the engaged accounts of this graph: 0.5 is what this graph shows
    for accounts of that size.
``pod_score``
    ``reciprocal share * ring closure``: the share of ``v``'s interaction weight that comes
    from accounts ``v`` engages with in return, times how densely those partners engage each
    other (1 for a clique). Engagement pods, small rings that like everything of each other,
    score near 1; reciprocal but unrelated contacts (trading partners, friends from different
    circles) score low. Computed on the interaction layer, or on the follow layer (reciprocal
    follows) when the graph has no interaction.
``engagement_authenticity``
    weighted mean genuineness of ``v``'s engagers, times ``1 - pod_score``.
``trust``
    TrustRank from verified and genuine seed accounts (see :mod:`influence.scores.trust`).
``distrust_share``
    negative events (distrust, dislike, report, block, unfollow) received over all follows,
    interaction events and negative events received, each weighted by the giver's trust
    (``0.25 + 0.75 min(1, 2 trust)``: an account unreachable from the seeds counts a quarter).
``credibility``
    ``genuineness * audience_authenticity * (0.5 engagement_authenticity + 0.5
    relative_engagement) * sqrt(min(1, 2 trust)) * (1 - 0.5 sponsored_share)
    * (1 - distrust_share)``; without interaction edges the engagement factor is left out.
``credibility`` on a rating graph
    When negative signals are at least ``SIGNED_MIN_SHARE`` of the signal rows (follows,
    interaction events and negative events), the ratings are the direct evidence and distrust
    comes first: ``(1 - distrust_share) - tau * (1 - authenticity)``, ``authenticity =
    genuineness * audience_authenticity * engagement_authenticity * (1 - 0.5 sponsored_share)``,
    ``tau = 1 / (1 + m + k/2)`` the distrust share one negative rating gives an account with the
    graph's median number ``m`` of signals received. Authenticity moves an account by at most
    one negative rating of a typical account, so received distrust is not outweighed by volume.
    ``trust`` and ``relative_engagement`` are left out there: both are read from the same ratings
    (positive ones only) that the distrust share already weighs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import ScoringConfig
from ..graph import Graph
from ..kernels.neighbourhood import neighbour_sums, reciprocal_ring
from .common import logistic, parallel_chunks, shrunk_ratio
from .trust import compute_trust

#: Share of the signal rows that must be negative for a graph to be scored as a rating graph (a
#: social graph with a few blocks or reports keeps the multiplicative distrust penalty).
SIGNED_MIN_SHARE = 0.01


@dataclass(frozen=True)
class CredibilityResult:
    genuineness: np.ndarray
    audience_authenticity: np.ndarray
    engagement_rate: np.ndarray
    relative_engagement: np.ndarray
    pod_score: np.ndarray
    engagement_authenticity: np.ndarray
    distrust_share: np.ndarray
    trust: np.ndarray
    sponsored_share: np.ndarray
    credibility: np.ndarray
    has_interactions: bool
    signed: bool = False  # scored as a rating graph (distrust first)
    distrust_step: float = 0.0  # tau: the distrust share of one negative rating on a typical account


def genuineness(graph: Graph) -> np.ndarray:
    """float64[n] in [0, 1]: how much an account looks like a genuine person (see module doc)."""
    attention = graph.attention
    audience = attention.in_degree
    follows = graph.follow.out_degree if graph.follow.n_edges else attention.out_degree
    active = attention.out_degree > 0
    zero_share = float(np.mean(audience[active] == 0)) if active.any() else 1.0
    zero_share = min(max(zero_share, 0.02), 1.0)
    has_audience = np.where(audience > 0, 1.0, zero_share)
    ratio = (1.0 + follows) / (1.0 + audience)
    typical = float(np.median(ratio[follows > 0])) if (follows > 0).any() else 1.0
    cap = 10.0 * max(typical, 1.0)
    return has_audience * np.minimum(1.0, cap / ratio)


def fit_engagement_curve(followers: np.ndarray, rate: np.ndarray) -> tuple[float, float]:
    """Least-squares ``log(rate) = a + b log(1 + followers)`` over accounts with ``rate > 0``.

    Returns ``(a, b)``; ``b = 0`` and ``a`` = mean log-rate when fewer than 3 accounts qualify
    or followers do not vary.
    """
    mask = rate > 0
    if mask.sum() < 3:
        return (float(np.log(rate[mask]).mean()) if mask.any() else 0.0), 0.0
    x = np.log1p(followers[mask])
    y = np.log(rate[mask])
    if np.ptp(x) == 0:
        return float(y.mean()), 0.0
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b)


def compute_credibility(graph: Graph, followers: np.ndarray, community: np.ndarray,
                        config: ScoringConfig) -> CredibilityResult:
    n = graph.n_nodes
    k = config.prior_strength
    g = genuineness(graph)
    g_mean = float(g.mean()) if n else 0.0

    audience_layer = graph.follow if graph.follow.n_edges else graph.attention
    follower_g, reciprocal_w, closure, engager_g = graph.stages.run(audience_edge_stage, g)
    audience_auth = shrunk_ratio(follower_g, audience_layer.in_degree.astype(np.float64), g_mean, k)

    inter = graph.interaction
    has_interactions = inter.n_edges > 0
    events_received = graph.events.in_strength
    # Engagement is measured per follower; a graph without follow edges has no follower counts
    # (unless the node table gives them), so it is measured per distinct engager there: using
    # followers = 0 would turn the rate into a plain volume of events.
    if graph.follow.n_edges or graph.has_reported_followers:
        base = followers
    else:
        base = graph.events.in_degree.astype(np.float64)
    rate = events_received / (base + 1.0)
    a, b = fit_engagement_curve(base, rate)
    expected = a + b * np.log1p(base)
    floor = 0.5 / (base + 1.0)  # half an event: keeps log finite for unengaged accounts
    relative = logistic(np.log(np.maximum(rate, floor)) - expected) if has_interactions else np.full(n, 0.5)

    weight_in = inter.in_strength
    ring_layer = inter if has_interactions else graph.follow
    ring_in = ring_layer.in_strength
    pod = np.divide(reciprocal_w, ring_in, out=np.zeros(n), where=ring_in > 0) * closure
    engagement_auth = shrunk_ratio(engager_g, weight_in, g_mean, k) * (1.0 - pod)

    trust = compute_trust(graph, g, audience_auth, pod, community, config)
    # Distrust and endorsement received, each weighted by the trust of the account giving it.
    # An account unreachable from the seeds still counts a quarter of a trusted one.
    giver_weight = 0.25 + 0.75 * np.minimum(1.0, 2.0 * trust.trust)
    negative, positive = graph.stages.run(signals_edge_stage, giver_weight)
    distrust = negative / (negative + positive + k * 0.5)

    sponsored = graph.node_column("sponsored_share", default=0.0)
    if sponsored is None:
        sponsored = np.zeros(n)
    penalty = (1.0 - 0.5 * sponsored) * (1.0 - distrust)
    # Less trust than a random account of the same standing lowers credibility; more does not raise it.
    trust_factor = np.sqrt(np.minimum(1.0, 2.0 * trust.trust))
    if has_interactions:
        cred = audience_auth * (0.5 * engagement_auth + 0.5 * relative) * trust_factor * penalty
    else:
        cred = audience_auth * trust_factor * penalty
    cred = cred * g  # an account that itself looks like a bot or a mass-follower is not credible
    signed, tau = rating_graph(graph, k)
    if signed:
        authenticity = g * audience_auth * engagement_auth * (1.0 - 0.5 * sponsored)
        cred = (1.0 - distrust) - tau * (1.0 - authenticity)
    return CredibilityResult(
        genuineness=g,
        audience_authenticity=audience_auth,
        engagement_rate=rate,
        relative_engagement=relative,
        pod_score=pod,
        engagement_authenticity=engagement_auth,
        distrust_share=distrust,
        trust=trust.trust,
        sponsored_share=sponsored,
        credibility=np.clip(cred, 0.0, 1.0),
        has_interactions=has_interactions,
        signed=signed,
        distrust_step=tau,
    )


def audience_edge_stage(graph: Graph, g: np.ndarray) -> tuple:
    """The neighbourhood sums of credibility that walk the edges (``graph.stages``):
    ``(follower genuineness, reciprocal weight, ring closure, engager genuineness)``."""
    audience_layer = graph.follow if graph.follow.n_edges else graph.attention
    follower_g = neighbour_sums(
        audience_layer.in_indptr, audience_layer.in_indices, audience_layer.in_data, g, False
    )
    inter = graph.interaction
    ring_layer = inter if inter.n_edges > 0 else graph.follow
    reciprocal_w, _, closure = reciprocal_ring(
        ring_layer.in_indptr, ring_layer.in_indices, ring_layer.in_data,
        ring_layer.out_indptr, ring_layer.out_indices, parallel_chunks(graph.n_nodes),
    )
    engager_g = neighbour_sums(inter.in_indptr, inter.in_indices, inter.in_data, g, True)
    return follower_g, reciprocal_w, closure, engager_g


def signals_edge_stage(graph: Graph, giver_weight: np.ndarray) -> tuple:
    """Negative and positive signals received, each weighted by its giver (``graph.stages``):
    ``(negative, positive)``."""
    negative = neighbour_sums(graph.negative.in_indptr, graph.negative.in_indices, graph.negative.in_data,
                              giver_weight, True)
    positive = sum(
        neighbour_sums(layer.in_indptr, layer.in_indices, layer.in_data, giver_weight, True)
        for layer in (graph.events, graph.follow)
    )
    return negative, positive


def rating_graph(graph: Graph, prior_strength: float) -> tuple[bool, float]:
    """``(signed, tau)``: whether negative signals are at least ``SIGNED_MIN_SHARE`` of the signal
    rows, and the distrust share one negative rating gives an account that received the graph's
    median number of signals (``1 / (1 + m + k/2)``, counted in distinct accounts)."""
    negative = graph.negative.in_data_sum
    if negative == 0.0:
        return False, 0.0
    total = negative + graph.events.in_data_sum + graph.follow.in_data_sum
    received = graph.negative.in_degree + graph.events.in_degree + graph.follow.in_degree
    rated = received[received > 0]
    median = float(np.median(rated)) if rated.size else 0.0
    return negative >= SIGNED_MIN_SHARE * total, 1.0 / (1.0 + median + 0.5 * prior_strength)
