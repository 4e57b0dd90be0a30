"""Communities (niches): the node table's ``topic`` when given, else Louvain modularity communities.

Without topics, communities are detected by multi-level Louvain (Blondel et al. 2008) on the
undirected attention layer (the weight of ``{u, v}`` is ``w(u -> v) + w(v -> u)``, follows and
kind-weighted interactions). Nodes are visited in the order of seeded structural colours (a
Weisfeiler-Lehman hash of their neighbourhood) and ties go to the community first met in that
order, so the communities depend on the graph and the seed, not on how the accounts are
numbered. Louvain replaced label propagation (Raghavan et al. 2007), which on graphs with hubs
lets a few hubs' labels sweep most of the graph into one "monster" community (77% of all
audiences on a planted 20k world without topics; Louvain: 23%, the largest planted topic), so
that concentration, breadth and lift could not tell a broad audience from a niche one
(docs/scoring.md). A detected community is named ``c:<id>`` after its member with the largest
audience.

Also measures how an account's audience spreads over communities: ``community_concentration``
(share of the audience inside its largest community) and ``community_breadth`` (effective number
of communities the audience comes from, ``exp`` of the entropy) and ``community_lift`` (the share
of the audience inside its largest community divided by that community's share of all audiences:
1 when the audience mirrors the graph, k when the community is k times over-represented).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ..config import ScoringConfig
from ..graph import Graph
from ..kernels.community import louvain, renumber_by_first_appearance, structural_colours, symmetric_adjacency
from ..kernels.neighbourhood import label_mix, top_label


#: Weisfeiler-Lehman rounds of the structural colours that order the Louvain sweeps.
STRUCTURAL_ROUNDS = 3
#: Modularity resolution (1: Newman-Girvan modularity).
LOUVAIN_RESOLUTION = 1.0
#: Most aggregation levels; each level at least halves nothing only when it merges nothing, so
#: real graphs stop after 3-6.
LOUVAIN_MAX_LEVELS = 20
#: A level's local moving stops after a sweep that gains less modularity than this.
LOUVAIN_TOL = 1e-6


@dataclass(frozen=True)
class CommunityResult:
    community: np.ndarray  # int64[n]: community code
    names: list  # code -> name (topic, or "c<code>")
    from_topic: bool
    concentration: np.ndarray
    own_share: np.ndarray
    breadth: np.ndarray
    lift: np.ndarray  # float64[n]: concentration / (top community's share of all audiences); 0 without audience
    n_sweeps: int
    converged: bool
    #: int64[n]: the first Louvain level's finer communities (``community`` with topics). Trust
    #: seeds are spread over these: the seed quota (at least one per community) was set with
    #: label propagation's many small communities, and the final Louvain level's fewer, larger
    #: ones left half of Higgs's audience accounts unreachable from the seeds (docs/scoring.md).
    seed_groups: np.ndarray


def detect_communities(graph: Graph, config: ScoringConfig, max_sweeps: int = 30):
    """Community codes (int64[n]) and their names; from ``topic`` when any account has one.

    Returns ``(codes, names, from_topic, sweeps, converged, fine)``: ``fine`` is the first
    Louvain level's partition (the topic codes again with topics), which the trust seeds use.
    """
    topic = None
    if graph.nodes is not None and "topic" in graph.nodes.columns:
        topic = graph.nodes["topic"]
    if topic is not None and topic.null_count() < topic.len():
        names = sorted(topic.drop_nulls().unique().to_list())
        codes = topic.replace_strict({t: i for i, t in enumerate(names)}, default=len(names), return_dtype=pl.Int64)
        if topic.null_count():
            names.append("(none)")
        codes = codes.to_numpy()
        return codes, names, True, 0, True, codes
    labels, fine, colour, sweeps, converged = graph.stages.run(louvain_stage, config, max_sweeps)
    names = community_names(graph, labels, colour)
    return labels, names, False, sweeps, converged, fine


def louvain_stage(graph: Graph, config: ScoringConfig, max_sweeps: int) -> tuple:
    """Louvain on the attention layer, where the edges are (``graph.stages``): ``(labels, fine,
    colour, sweeps, converged)``, per-account vectors and two scalars."""
    layer = graph.attention
    colour = structural_colours(
        layer.out_indptr, layer.out_indices, layer.in_indptr, layer.in_indices, config.seed, STRUCTURAL_ROUNDS
    )
    order = np.lexsort((np.arange(graph.n_nodes), colour))
    position = np.empty(graph.n_nodes, np.int64)
    position[order] = np.arange(graph.n_nodes)
    indptr, indices, data = symmetric_adjacency(
        layer.out_indptr, layer.out_indices, layer.out_data, layer.in_indptr, layer.in_indices, layer.in_data, position,
    )
    by_position, first_level, levels, sweeps, converged = louvain(
        indptr, indices, data, LOUVAIN_RESOLUTION, LOUVAIN_MAX_LEVELS, max_sweeps, LOUVAIN_TOL)
    labels = renumber_by_first_appearance(by_position[position])[0]
    fine = renumber_by_first_appearance(first_level[position])[0]
    return labels, fine, colour, int(sweeps), bool(converged)


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
    community, names, from_topic, sweeps, converged, fine = detect_communities(graph, config)
    top, own, breadth, lift = graph.stages.run(audience_mix_stage, community)
    return CommunityResult(community, names, from_topic, top, own, breadth, lift, sweeps, converged, fine)


def audience_mix_stage(graph: Graph, community: np.ndarray) -> tuple:
    """How audiences spread over the communities, where the edges are (``graph.stages``):
    ``(concentration, own_share, breadth, lift)``."""
    layer = graph.follow if graph.follow.n_edges else graph.attention
    ones = np.ones_like(layer.in_data)
    top, own, breadth = label_mix(layer.in_indptr, layer.in_indices, ones, community, community)
    lift = community_lift(layer.in_indices, layer.in_indptr, ones, community, top)
    return top, own, breadth, lift


def community_lift(in_indices, in_indptr, weights, community, concentration) -> np.ndarray:
    """float64[n]: how over-represented an account's largest audience community is.

    ``concentration[v]`` (the share of v's audience inside its largest community c) divided by
    c's share of all audiences of the graph (of every in-edge of the layer, by the community of
    its source). An account whose audience is drawn from the whole graph has a lift near 1 whatever
    the community sizes; a community star has its community several times over-represented. When
    several communities tie for the largest share, the least over-represented (largest) one counts.
    0 for accounts without audience.
    """
    n_labels = int(community.max(initial=-1)) + 1
    population = np.bincount(community[in_indices], weights=weights, minlength=n_labels).astype(np.float64)
    total = float(population.sum())
    if total <= 0.0:
        return np.zeros(community.shape[0])
    share = population / total
    top = top_label(in_indptr, in_indices, weights, community, share)
    has = top >= 0
    lift = np.zeros(community.shape[0])
    lift[has] = concentration[has] / share[top[has]]
    return lift
