"""The one orchestrator: input -> graph -> scores -> segments -> polars DataFrame."""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from .config import ScoringConfig
from .errors import ConfigError, MissingSignalWarning
from .graph import Graph, build_graph
from .io.read import read_input
from .memory import check_memory, count_rows, parse_size
from .kernels.neighbourhood import matched_weight
from .scores.community import compute_communities
from .scores.credibility import compute_credibility
from .scores.peer_influence import compute_peer_influence
from .scores.reach import compute_reach
from .segments import assign_segments, assign_tiers, segment_thresholds
from .shortlist import goal_score

#: Columns of the score table, in order (the contract's columns first, then the components).
SCORE_COLUMNS = (
    "id", "name", "segment", "tier", "followers", "reach", "credibility", "peer_influence", "score",
    "audience", "two_hop_audience", "expected_spread", "expected_exposures", "pass_on",
    "audience_authenticity", "engagement_authenticity", "engagement_rate", "relative_engagement",
    "pod_score", "loyal_share", "trust", "distrust_share", "sponsored_share",
    "pagerank", "amplification", "resharers", "community_standing",
    "community", "community_concentration", "community_breadth", "community_lift", "genuineness",
)


#: The phases of :func:`score` in the order they run (``load`` only when given a path).
SCORE_PHASES = ("load", "reach", "communities", "credibility", "peer_influence", "segments")


@dataclass
class Diagnostics:
    """What a scoring run did: timings (seconds), iterations, and the signals it lacked."""

    timings: dict = field(default_factory=dict)
    pagerank_iterations: int = 0
    pagerank_residual: float = 0.0
    community_sweeps: int = 0
    communities_from_topic: bool = False
    tier_mode: str = ""
    unavailable: list = field(default_factory=list)
    segment_thresholds: object = None
    spread: object = None  # scores.reach.SampledSpread: RR sets drawn and the error bound reached
    rating_graph: bool = False  # credibility scored distrust first (negative signals >= 1% of rows)
    distrust_step: float = 0.0  # tau of the rating-graph credibility
    backend: str = "local"
    #: with a sharded backend: :class:`influence.backends.sharded.ShardStats` (per-iteration times, bytes)
    shards: object = None


def load(edges, nodes=None, *, src_col: str = "src", dst_col: str = "dst",
         config: ScoringConfig | None = None, max_memory=None) -> Graph:
    """Read an edge table (path or polars frame) and an optional node table into a Graph.

    ``src -> dst`` means src pays attention to dst (follows, likes, shares, ...). See
    :func:`influence.io.read_input` for the accepted inputs. Before any large array is built the
    memory the run needs is estimated from the edge count (:mod:`influence.memory`); when it
    exceeds ``max_memory`` (bytes or a size such as ``"8G"``), or what the machine has
    available, an :class:`InfluenceError` says how much is needed.
    """
    # No name here holds the input tables: build_graph releases them once it has index arrays.
    return build_graph(_read_checked(edges, nodes, src_col, dst_col, max_memory), config)


def _read_checked(edges, nodes, src_col: str, dst_col: str, max_memory):
    """The validated input tables, after the memory check (before reading when the row count is
    in the file's metadata, else right after)."""
    source = str(edges) if not isinstance(edges, (pl.DataFrame, pl.LazyFrame)) else "<DataFrame>"
    rows = count_rows(edges)
    if rows is not None:
        check_memory(rows, source, max_memory)
    raw = read_input(edges, nodes, src_col=src_col, dst_col=dst_col)
    if rows is None:
        check_memory(raw.edges.height, raw.source, max_memory)
    return raw


def _config(config: ScoringConfig | None, overrides: dict) -> ScoringConfig:
    config = config or ScoringConfig()
    if not isinstance(config, ScoringConfig):
        raise ConfigError(f"config must be a ScoringConfig, got {type(config).__name__}")
    return config.replace(**overrides) if overrides else config


def score(graph, config: ScoringConfig | None = None, *, diagnostics: Diagnostics | None = None,
          backend="local", cluster: str | None = None, workers: int | None = None, nodes=None,
          src_col: str = "src", dst_col: str = "dst", progress=None, max_memory=None,
          **overrides) -> pl.DataFrame:
    """Score every account of ``graph``.

    Parameters
    ----------
    graph
        A :class:`Graph`, or anything :func:`load` accepts.
    config
        Scoring parameters; keyword ``overrides`` (e.g. ``seed=1``, ``goal="awareness"``)
        replace single fields.
    diagnostics
        Filled in with timings and iteration counts when given.
    backend
        ``"local"`` (default: this process), ``"dask"`` (edges read, CSR slices built, PageRank
        walks and the stages that need edges run on the workers of a Dask cluster; this process
        holds per-account vectors only; ``graph`` must then be the path of Parquet edges), or an
        :class:`influence.backends.Backend`. The output is the same for
        every backend. See ``docs/distributed.md``.
    cluster, workers
        With ``backend="dask"``: the scheduler's address (``tcp://HOST:PORT``), or the number of
        worker processes of a local cluster started for this call (default: one per CPU).
    nodes, src_col, dst_col, max_memory
        As for :func:`load`, when ``graph`` is a path (with ``backend="dask"``, ``max_memory``
        bounds the stage worker: :func:`load_on`).
    progress
        Called with the name of each phase (``SCORE_PHASES``) as it starts, e.g. a
        :class:`influence.progress.Progress`; None: nothing is called.

    Returns
    -------
    polars.DataFrame, one row per account in id order, with ``SCORE_COLUMNS``: ``reach``,
    ``credibility``, ``peer_influence`` and ``score`` in [0, 1] (higher is more), ``segment``,
    ``tier``, ``followers`` and the components behind the scores.
    """
    config = _config(config, overrides)
    diag = diagnostics if diagnostics is not None else Diagnostics()
    announce = progress if progress is not None else (lambda phase: None)
    if isinstance(backend, str) and backend == "local" and cluster is None and workers is None:
        if not isinstance(graph, Graph):
            announce("load")
            started = time.perf_counter()
            graph = load(graph, nodes, src_col=src_col, dst_col=dst_col, config=config, max_memory=max_memory)
            diag.timings["load"] = time.perf_counter() - started
        return _score_graph(graph, config, diag, announce)

    announce("load")
    started = time.perf_counter()
    with load_on(backend, graph, nodes, cluster=cluster, workers=workers, src_col=src_col, dst_col=dst_col,
                 config=config, max_memory=max_memory) as sharded_graph:
        diag.timings["load"] = time.perf_counter() - started
        return _score_graph(sharded_graph, config, diag, announce)


@contextmanager
def load_on(backend, path, nodes=None, *, cluster: str | None = None, workers: int | None = None,
            src_col: str = "src", dst_col: str = "dst", config: ScoringConfig | None = None, max_memory=None):
    """Load the Parquet edges at ``path`` on ``backend``'s workers (see :func:`score`).

    A context manager: yields the :class:`Graph`, whose edges stay on the workers (its stages
    run there) while the ``with`` block lasts; a backend started here (``"dask"``) is closed at its end. Bad
    arguments and inputs that are not Parquet are reported before any cluster starts.
    ``max_memory`` bounds the stage worker, which holds the whole graph (default: its own memory
    limit; :func:`influence.backends.sharded.stage_worker`).
    """
    from .backends import check_backend, open_backend
    from .backends.sharded import check_sharded_input, load_sharded

    check_backend(backend, cluster=cluster, workers=workers)
    if max_memory is not None:
        parse_size(max_memory)  # a malformed size is reported before any cluster starts
    if isinstance(path, Graph):
        raise ConfigError(
            f"backend {backend!r} reads the edges on its workers: pass the path of the Parquet edges, "
            "not a loaded Graph"
        )
    check_sharded_input(path)
    runner = open_backend(backend, cluster=cluster, workers=workers)
    try:
        yield load_sharded(runner, path, nodes, src_col=src_col, dst_col=dst_col, config=config,
                           max_memory=max_memory)
    finally:
        if runner is not backend:  # started here: stopped here
            runner.close()


def _score_graph(graph: Graph, config: ScoringConfig, diag: Diagnostics, announce) -> pl.DataFrame:
    """:func:`score` of a loaded graph."""
    from .backends.sharded import sharded_stats

    diag.shards = sharded_stats(graph)
    if diag.shards is not None:
        diag.backend = diag.shards.backend

    def timed(name, fn, *args):
        announce(name)
        started = time.perf_counter()
        result = fn(*args)
        diag.timings[name] = diag.timings.get(name, 0.0) + time.perf_counter() - started
        return result

    has_reported = graph.has_reported_followers
    followers = graph.follow.in_degree.astype(np.float64)
    if has_reported:
        reported = graph.node_column("followers")
        followers = np.where(graph.nodes["followers"].is_null().to_numpy(), followers, np.nan_to_num(reported))

    if graph.follow.n_edges == 0:
        diag.unavailable.append("no follow edges: audiences are the accounts that interact")
    if graph.interaction.n_edges == 0:
        diag.unavailable.append("no interaction edges: credibility from audience structure only, "
                                "peer influence from the follow layer")
    else:
        if graph.reshare.n_edges == 0:
            diag.unavailable.append("no share/retweet/quote edges: pass-on rates use the prior")
        if graph.events.in_data_max < 2.0:
            diag.unavailable.append("no account engaged twice with the same account: micro-influencers "
                                    "are found from audience structure, not repeat engagement")
    for message in diag.unavailable:
        warnings.warn(message, MissingSignalWarning, stacklevel=2)

    reach = timed("reach", compute_reach, graph, config)
    diag.spread = reach.sampled
    comm = timed("communities", compute_communities, graph, config)
    cred = timed("credibility", compute_credibility, graph, followers, comm.seed_groups, config)
    diag.rating_graph, diag.distrust_step = cred.signed, cred.distrust_step
    peer = timed("peer_influence", compute_peer_influence, graph, comm.community, config)
    diag.pagerank_iterations, diag.pagerank_residual = peer.n_iter, peer.residual
    diag.community_sweeps, diag.communities_from_topic = comm.n_sweeps, comm.from_topic

    announce("segments")
    started = time.perf_counter()
    loyal = loyal_share(graph)
    repeats_observed = cred.has_interactions and graph.events.in_data_max >= 2.0
    resharers = graph.reshare.in_degree
    thresholds = segment_thresholds(
        reach=reach.reach,
        credibility=cred.credibility,
        audience=reach.audience,
        audience_authenticity=cred.audience_authenticity,
        engagement_authenticity=cred.engagement_authenticity,
        has_interactions=cred.has_interactions,
        repeats_observed=repeats_observed,
        config=config,
        communities_from_topic=comm.from_topic,
        resharers=resharers if graph.reshare.n_edges else None,
    )
    diag.segment_thresholds = thresholds
    if graph.reshare.n_edges and thresholds.micro_min_resharers is None:
        message = ("no account with a meaningful audience was reshared by 2 or more accounts: "
                   "micro-influencers are found without pass-on evidence")
        diag.unavailable.append(message)
        warnings.warn(message, MissingSignalWarning, stacklevel=2)
    segment = assign_segments(
        reach=reach.reach,
        credibility=cred.credibility,
        audience=reach.audience,
        audience_authenticity=cred.audience_authenticity,
        engagement_authenticity=cred.engagement_authenticity,
        pod_score=cred.pod_score,
        concentration=comm.concentration,
        loyal_share=loyal,
        thresholds=thresholds,
        lift=comm.lift,
        resharers=resharers,
        observed_audience=graph.attention.in_degree,
    )
    tier, diag.tier_mode = assign_tiers(followers, config, has_reported)
    names = graph.nodes["name"] if graph.nodes is not None and "name" in graph.nodes.columns else None
    frame = pl.DataFrame(
        {
            "id": graph.ids,
            "name": names if names is not None else pl.Series("name", [None] * graph.n_nodes, dtype=pl.String),
            "segment": pl.Series(segment.tolist(), dtype=pl.String),
            "tier": pl.Series(tier.tolist(), dtype=pl.String),
            "followers": np.rint(followers).astype(np.int64),
            "reach": reach.reach,
            "credibility": cred.credibility,
            "peer_influence": peer.peer_influence,
            "score": np.zeros(graph.n_nodes),
            "audience": np.rint(reach.audience).astype(np.int64),
            "two_hop_audience": reach.two_hop_audience,
            "expected_spread": reach.expected_spread,
            "expected_exposures": reach.expected_exposures,
            "pass_on": reach.pass_on,
            "audience_authenticity": cred.audience_authenticity,
            "engagement_authenticity": cred.engagement_authenticity,
            "engagement_rate": cred.engagement_rate,
            "relative_engagement": cred.relative_engagement,
            "pod_score": cred.pod_score,
            "loyal_share": loyal,
            "trust": cred.trust,
            "distrust_share": cred.distrust_share,
            "sponsored_share": cred.sponsored_share,
            "pagerank": peer.pagerank,
            "amplification": peer.amplification,
            "resharers": resharers.astype(np.int64, copy=False),
            "community_standing": peer.community_standing,
            "community": pl.Series([comm.names[c] for c in comm.community.tolist()], dtype=pl.String),
            "community_concentration": comm.concentration,
            "community_breadth": comm.breadth,
            "community_lift": comm.lift,
            "genuineness": cred.genuineness,
        }
    )
    frame = frame.with_columns(goal_score(config.goal))  # auto: balanced across all accounts
    extra = [c for c in ("topic", "cost", "verified") if graph.nodes is not None and c in graph.nodes.columns]
    if extra:
        frame = frame.with_columns([graph.nodes[c] for c in extra])
    diag.timings["segments"] = time.perf_counter() - started
    return frame


def loyal_share(graph: Graph) -> np.ndarray:
    """float64[n]: share of the interaction events an account receives from repeat engagers.

    A repeat engager engaged at least twice; with follow edges it must also be a follower (a
    burst of attention from strangers does not count).
    """
    n = graph.n_nodes
    total = graph.events.in_strength
    if graph.events.n_edges == 0:
        return np.zeros(n)
    loyal_w = graph.stages.run(loyal_weight_stage)
    return np.divide(loyal_w, total, out=np.zeros(n), where=total > 0)


def loyal_weight_stage(graph: Graph) -> np.ndarray:
    """float64[n]: the events each account receives from repeat engagers (followers, when the
    graph has follow edges), where the edges are (``graph.stages``)."""
    events = graph.events
    if graph.follow.n_edges:
        loyal_w, _ = matched_weight(
            events.in_indptr, events.in_indices, events.in_data,
            graph.follow.in_indptr, graph.follow.in_indices, 2.0,
        )
    else:
        loyal_w, _ = matched_weight(
            events.in_indptr, events.in_indices, events.in_data,
            events.in_indptr, events.in_indices, 2.0,
        )
    return loyal_w
