"""Communities (niches): the node table's ``topic`` when given, else label propagation.

Label propagation visits accounts in the order of seeded structural colours (a
Weisfeiler-Lehman hash of their neighbourhood) and breaks ties by them, so the communities depend
on the graph and the seed, not on how the accounts are numbered. A detected community is named
``c:<id>`` after its member with the largest audience.

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
from ..kernels.community import label_propagation, structural_colours
from ..kernels.neighbourhood import label_mix


#: Weisfeiler-Lehman rounds of the structural colours that order label propagation.
STRUCTURAL_ROUNDS = 3


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
    colour = structural_colours(
        layer.out_indptr, layer.out_indices, layer.in_indptr, layer.in_indices, config.seed, STRUCTURAL_ROUNDS
    )
    order = np.lexsort((np.arange(graph.n_nodes), colour)).astype(np.int64)
    labels, sweeps, changed = label_propagation(
        layer.out_indptr, layer.out_indices, layer.out_data,
        layer.in_indptr, layer.in_indices, layer.in_data, order, colour, max_sweeps,
    )
    names = community_names(graph, labels, colour)
    return labels, names, False, int(sweeps), changed == 0


def community_names(graph: Graph, labels: np.ndarray, colour: np.ndarray) -> list:
    """Name each detected community after its member with the largest audience: ``"c:<id>"``.

    Ties go to the structural colour, then to the id, so the names do not depend on how
    accounts are numbered.
    """
    n_labels = int(labels.max(initial=-1)) + 1
    audience = graph.attention.in_degree
    order = np.lexsort((np.arange(graph.n_nodes), colour, -audience, labels))  # index order = id order
    first = np.r_[True, labels[order][1:] != labels[order][:-1]]
    leaders = order[first]
    ids = graph.ids.gather(leaders).cast(pl.String).to_list()
    names = [""] * n_labels
    for label, name in zip(labels[leaders].tolist(), ids):
        names[label] = f"c:{name}"
    return names


def compute_communities(graph: Graph, config: ScoringConfig) -> CommunityResult:
    community, names, from_topic, sweeps, converged = detect_communities(graph, config)
    layer = graph.follow if graph.follow.n_edges else graph.attention
    ones = np.ones_like(layer.in_data)
    top, own, breadth = label_mix(layer.in_indptr, layer.in_indices, ones, community, community)
    return CommunityResult(community, names, from_topic, top, own, breadth, sweeps, converged)
