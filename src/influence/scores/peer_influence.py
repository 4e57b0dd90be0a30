"""Peer influence: how much an account's activity moves its peers.

Components (per account ``v``):

``pagerank``
    weighted PageRank over the interaction layer (over the follow layer when the graph has no
    interaction), edge ``u -> v`` crediting ``v``: attention from accounts that themselves
    receive attention counts more.
``amplification``
    ``1 - exp(-S(v) / S0)``: ``S(v)`` distinct accounts that reshared ``v``, ``S0`` the mean of
    ``S`` over accounts reshared at least once. Saturating rather than a percentile, so that the
    difference between one resharer and five survives at the top of the distribution.
``community_standing``
    share of ``v``'s own community whose ``pagerank`` is below ``v``'s (ties count as below
    neither: the accounts nobody attends to stand at 0).
``peer_influence``
    ``0.5 percentile(pagerank) + 0.25 amplification + 0.25 community_standing`` (without reshare
    edges: ``2/3`` and ``1/3`` of the PageRank and standing terms).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..config import ScoringConfig
from ..graph import Graph, Layer
from ..kernels.propagation import weighted_pagerank, weighted_pagerank_pair
from .common import percentile_rank


@dataclass(frozen=True)
class PeerInfluenceResult:
    pagerank: np.ndarray
    amplification: np.ndarray
    community_standing: np.ndarray
    peer_influence: np.ndarray
    n_iter: int
    residual: float


def pagerank(layer: Layer, config: ScoringConfig, teleport: np.ndarray | None = None):
    """Weighted PageRank of ``layer`` (edge ``u -> v`` credits ``v``); warns when not converged.

    Returns ``(rank, n_iter, residual)``; ``rank`` sums to 1.
    """
    n = layer.n_nodes
    remote = getattr(layer, "remote", None)  # a layer whose slices live on a cluster (influence.backends)
    if remote is not None:
        rank, n_iter, residual = remote.pagerank(config, teleport)
    else:
        if teleport is None:
            teleport = np.full(n, 1.0 / n)
        rank, n_iter, residual = weighted_pagerank(
            layer.in_indptr, layer.in_indices, layer.in_data, inverse_out_strength(layer), teleport,
            config.damping, config.tol, config.max_iter,
        )
    _warn_unconverged(n_iter, residual, config)
    return rank, n_iter, residual


def pagerank_pair(layer: Layer, config: ScoringConfig, teleport_a: np.ndarray, teleport_b: np.ndarray | None = None):
    """:func:`pagerank` of ``layer`` for two teleport vectors (``None``: uniform), both walks
    iterated together over the edges; each result is bitwise what :func:`pagerank` returns.

    Returns ``((rank_a, n_iter_a, residual_a), (rank_b, n_iter_b, residual_b))``.
    """
    n = layer.n_nodes
    remote = getattr(layer, "remote", None)
    if remote is not None:
        results = remote.pagerank_pair(config, teleport_a, teleport_b)
    else:
        if teleport_b is None:
            teleport_b = np.full(n, 1.0 / n)
        results = weighted_pagerank_pair(
            layer.in_indptr, layer.in_indices, layer.in_data, inverse_out_strength(layer), teleport_a, teleport_b,
            config.damping, config.tol, config.max_iter,
        )
    for _, n_iter, residual in results:
        _warn_unconverged(n_iter, residual, config)
    return results


def inverse_out_strength(layer: Layer) -> np.ndarray:
    """float64[n]: ``1 / out-strength``, 0 for accounts without out-edges."""
    n = layer.n_nodes
    out_strength = layer.out_strength
    return np.divide(1.0, out_strength, out=np.zeros(n), where=out_strength > 0)


def _warn_unconverged(n_iter, residual, config):
    if residual >= config.tol:
        warnings.warn(
            f"PageRank did not converge: L1 change {residual:.2e} after {n_iter} iterations "
            f"(tol {config.tol:g}); raise max_iter or tol",
            stacklevel=3,
        )


def share_below_in_group(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Share of the other members of each value's group that it exceeds, in [0, 1).

    Ties take the lowest rank (an account nobody attends to stands at 0 whatever the size of its
    community; mid-ranks gave such accounts 0.25-0.5 depending on community size). Singleton
    groups get 0.
    """
    n = values.shape[0]
    out = np.zeros(n)
    if n == 0:
        return out
    order = np.lexsort((values, groups))
    g_sorted = groups[order]
    v_sorted = values[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    ends = np.r_[starts[1:], n]
    sizes = np.repeat(ends - starts, ends - starts)
    group_start = np.repeat(starts, ends - starts)
    key_change = np.r_[True, (g_sorted[1:] != g_sorted[:-1]) | (v_sorted[1:] != v_sorted[:-1])]
    tie_starts = np.flatnonzero(key_change)
    tie_first = np.repeat(tie_starts, np.diff(np.r_[tie_starts, n]))
    out[order] = (tie_first - group_start) / np.maximum(sizes, 1)
    return out


def compute_peer_influence(graph: Graph, community: np.ndarray, config: ScoringConfig) -> PeerInfluenceResult:
    layer = graph.interaction if graph.interaction.n_edges else graph.attention
    rank, n_iter, residual = pagerank(layer, config)
    resharers = graph.reshare.in_degree.astype(np.float64)
    if graph.reshare.n_edges:
        typical = float(resharers[resharers > 0].mean())
        amplification = 1.0 - np.exp(-resharers / typical)
    else:
        amplification = np.zeros(graph.n_nodes)
    standing = share_below_in_group(rank, community)
    pr_pct = percentile_rank(rank)
    if graph.reshare.n_edges:
        peer = 0.5 * pr_pct + 0.25 * amplification + 0.25 * standing
    else:
        peer = (2.0 * pr_pct + standing) / 3.0
    return PeerInfluenceResult(rank, amplification, standing, np.clip(peer, 0.0, 1.0), n_iter, residual)
