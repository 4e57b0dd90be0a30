"""Communities (niches): the node table's ``topic`` when given, else label propagation.

Also measures how an account's audience spreads over communities: ``community_concentration``
(share of the audience inside its largest community) and ``community_breadth`` (effective number
of communities the audience comes from, ``exp`` of the entropy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ..config import ScoringConfig
from ..graph import Graph
from ..kernels.community import label_propagation
from ..kernels.neighbourhood import label_mix


@dataclass(frozen=True)
class CommunityResult:
    community: np.ndarray  # int64[n]: community code
    names: list  # code -> name (topic, or "c<code>")
    from_topic: bool
    concentration: np.ndarray
    own_share: np.ndarray
    breadth: np.ndarray
    n_sweeps: int
    converged: bool


def detect_communities(graph: Graph, config: ScoringConfig, max_sweeps: int = 30):
    """int64[n] community codes and their names; from ``topic`` when every account has one."""
    topic = None
    if graph.nodes is not None and "topic" in graph.nodes.columns:
        topic = graph.nodes["topic"]
    if topic is not None and topic.null_count() < topic.len():
        names = sorted(topic.drop_nulls().unique().to_list())
        codes = topic.replace_strict({t: i for i, t in enumerate(names)}, default=len(names), return_dtype=pl.Int64)
        if topic.null_count():
            names.append("(none)")
        return codes.to_numpy(), names, True, 0, True
    layer = graph.attention
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(graph.n_nodes).astype(np.int64)
    labels, sweeps, changed = label_propagation(
        layer.out_indptr, layer.out_indices, layer.out_data,
        layer.in_indptr, layer.in_indices, layer.in_data, order, max_sweeps,
    )
    names = [f"c{i}" for i in range(int(labels.max(initial=-1)) + 1)]
    return labels, names, False, int(sweeps), changed == 0


def compute_communities(graph: Graph, config: ScoringConfig) -> CommunityResult:
    community, names, from_topic, sweeps, converged = detect_communities(graph, config)
    layer = graph.follow if graph.follow.n_edges else graph.attention
    ones = np.ones_like(layer.in_data)
    top, own, breadth = label_mix(layer.in_indptr, layer.in_indices, ones, community, community)
    return CommunityResult(community, names, from_topic, top, own, breadth, sweeps, converged)
