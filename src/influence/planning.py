"""Budgeted campaign planning: the set of creators that reaches the most credible people.

Objective (``goal``):

* ``awareness``: unique genuine reach, ``f(S) = sum_u g(u) [u in some A(c), c in S]``: every
  genuine person reached once, whoever reaches them (``g`` = genuineness, so bots and
  mass-followers count little);
* ``engagement``: the same people, each counted with the credibility of the most credible
  selected creator reaching them, ``f(S) = sum_u g(u) max_{c in S, u in A(c)} credibility(c)``;
* ``conversion``: as engagement with quality ``credibility(c) * peer_influence(c)``: people
  reached by creators whose audience trusts them and acts on what they share.

``A(c)`` is the creator's audience (followers and engagers). Each objective is monotone and
submodular. Selection is lazy greedy (CELF, Leskovec et al. 2007) run twice, by marginal gain
per unit cost and by marginal gain alone (whose first pick is the best single affordable
creator); the better of the two is kept, which guarantees at least ``(1 - 1/e) / 2`` of the
optimum within the budget (Khuller, Moss & Naor 1999; Leskovec et al. 2007). Costs come from the node table's ``cost``; where it is missing they
are estimated as ``COST_PER_FOLLOWER * followers ** COST_EXPONENT`` (a sublinear rate card:
larger accounts cost less per follower), and flagged in ``cost_estimated``.
"""

from __future__ import annotations

import heapq
import numbers
import re

import numpy as np
import polars as pl

from .config import ScoringConfig
from .engine import load, score
from .errors import ConfigError
from .graph import Graph
from .kernels.coverage import cover, coverage_gain
from .scores.credibility import genuineness
from .segments import SEGMENTS
from .shortlist import topic_column

PLAN_GOALS = ("awareness", "engagement", "conversion")
#: Estimated price of a sponsored post: COST_PER_FOLLOWER * followers ** COST_EXPONENT.
COST_PER_FOLLOWER = 0.05
COST_EXPONENT = 0.9
PLAN_COLUMNS = (
    "pick", "id", "name", "segment", "tier", "followers", "cost", "cost_estimated",
    "marginal_reach", "cumulative_reach", "cumulative_cost", "credibility",
)


def parse_mix(mix) -> dict:
    """``{"mass": 2, "micro": 10}`` from ``"mass=2,micro=10"`` (or a dict): at most so many per segment."""
    if mix is None:
        return {}
    if isinstance(mix, dict):
        items = mix.items()
    else:
        items = []
        for part in str(mix).split(","):
            match = re.fullmatch(r"\s*(\w+)\s*[=:]\s*(\d+)\s*", part)
            if not match:
                raise ConfigError(f"--mix expects segment=count pairs such as 'mass=2,micro=10', got {mix!r}")
            items.append((match.group(1), int(match.group(2))))
    out = {}
    for segment, count in items:
        if segment not in SEGMENTS:
            raise ConfigError(f"--mix names unknown segment {segment!r}; expected one of {', '.join(SEGMENTS)}")
        if not isinstance(count, numbers.Integral) or isinstance(count, (bool, np.bool_)) or count < 0:
            raise ConfigError(f"--mix count for {segment} must be a non-negative integer, got {count!r}")
        out[segment] = int(count)
    return out


def _objective_inputs(graph: Graph, scores: pl.DataFrame, goal: str):
    person_weight = genuineness(graph)
    credibility = scores["credibility"].to_numpy()
    if goal == "awareness":
        quality = np.ones(graph.n_nodes)
    elif goal == "engagement":
        quality = credibility
    else:
        quality = credibility * scores["peer_influence"].to_numpy()
    return person_weight, quality


def plan(
    graph,
    budget: float,
    *,
    goal: str = "engagement",
    topic: str | None = None,
    mix=None,
    exclude_suspicious: bool = True,
    segments=("mass", "micro"),
    config: ScoringConfig | None = None,
    scores: pl.DataFrame | None = None,
    progress=None,
) -> pl.DataFrame:
    """Choose creators within ``budget`` (same unit as ``cost``) that maximise the goal's reach.

    Returns one row per pick in pick order with ``PLAN_COLUMNS``; ``marginal_reach`` is what the
    pick added to the objective, ``cumulative_cost`` never exceeds ``budget`` but for the rounding
    of its floating-point sum (one unit in the last place of ``budget`` per pick, so that three
    costs of 0.1 fit 0.3). Candidates are the
    accounts of ``segments`` (plus ``suspicious`` ones when ``exclude_suspicious`` is False),
    restricted to ``topic`` when given, at most ``mix[segment]`` of each segment.

    ``progress``, when given, is an :class:`influence.progress.Progress`: the scoring phases and
    the two greedy passes are its phases, and the passes' loops move its bar (first the gain of
    every candidate, then the budget spent).
    """
    if (not isinstance(budget, numbers.Real) or isinstance(budget, (bool, np.bool_))
            or not np.isfinite(budget) or budget <= 0):
        raise ConfigError(f"budget must be a positive number, got {budget!r}")
    if isinstance(segments, str):
        segments = (segments,)
    unknown = sorted(set(segments) - set(SEGMENTS))
    if unknown:
        raise ConfigError(f"segments names unknown segment(s) {', '.join(map(repr, unknown))}; "
                          f"expected some of {', '.join(SEGMENTS)}")
    budget = float(budget)
    ulp = float(np.spacing(budget))  # a sum of k costs may round up by about k of these
    if goal not in PLAN_GOALS:
        raise ConfigError(f"goal must be one of {', '.join(PLAN_GOALS)}, got {goal!r}")
    limits = parse_mix(mix)
    if not isinstance(graph, Graph):
        graph = load(graph, config=config)
    if scores is None:
        scores = score(graph, config, progress=progress)
    allowed = set(segments) | (set() if exclude_suspicious else {"suspicious"})
    candidate = scores["segment"].is_in(list(allowed)).to_numpy()
    if topic is not None:
        candidate &= (scores[topic_column(scores, topic)] == topic).fill_null(False).to_numpy()

    followers = scores["followers"].to_numpy().astype(np.float64)
    estimated_cost = COST_PER_FOLLOWER * np.power(np.maximum(followers, 1.0), COST_EXPONENT)
    if "cost" in scores.columns:
        given = scores["cost"].to_numpy().astype(np.float64)
        cost_estimated = np.isnan(given)
        cost = np.where(cost_estimated, estimated_cost, given)
    else:
        cost_estimated = np.ones(graph.n_nodes, dtype=bool)
        cost = estimated_cost
    candidate &= cost <= budget

    layer = graph.attention
    person_weight, quality = _objective_inputs(graph, scores, goal)
    segment_of = scores["segment"].to_list()
    candidates = np.flatnonzero(candidate)

    def run(by_ratio: bool):
        if progress is not None:
            progress.start("plan by gain per cost" if by_ratio else "plan by gain")
        best = np.zeros(graph.n_nodes)
        taken = {s: 0 for s in SEGMENTS}
        heap = []
        n_candidates = len(candidates)
        for i, c in enumerate(candidates):
            if progress is not None:  # half the bar: the first gain of every candidate
                progress.advance(i, 2 * n_candidates)
            gain = coverage_gain(layer.in_indptr, layer.in_indices, c, quality[c], person_weight, best)
            key = gain / max(cost[c], 1e-12) if by_ratio else gain
            heap.append((-key, int(c), gain))
        heapq.heapify(heap)
        picks, spent, total, round_no = [], 0.0, 0.0, 0
        fresh = {int(c): 0 for c in candidates}
        while heap:
            _, c, gain = heapq.heappop(heap)
            seg = segment_of[c]
            if spent + cost[c] > budget + ulp * (len(picks) + 1) or taken[seg] >= limits.get(seg, np.inf):
                continue
            if fresh[c] != round_no:  # stale: re-evaluate lazily (submodularity keeps it an upper bound)
                gain = coverage_gain(layer.in_indptr, layer.in_indices, c, quality[c], person_weight, best)
                fresh[c] = round_no
                key = gain / max(cost[c], 1e-12) if by_ratio else gain
                heapq.heappush(heap, (-key, c, gain))
                continue
            if gain <= 0:
                break
            cover(layer.in_indptr, layer.in_indices, c, quality[c], best)
            spent += cost[c]
            total += gain
            taken[seg] += 1
            round_no += 1
            picks.append((c, gain, total, spent))
            if progress is not None:  # the other half: the budget spent
                progress.advance(1.0 + spent / budget, 2.0)
        return picks, total

    picks, total = run(by_ratio=True)
    by_gain, by_gain_total = run(by_ratio=False)  # its first pick is the best single creator
    if by_gain_total > total:
        picks = by_gain

    index = [p[0] for p in picks]
    chosen = scores[index] if index else scores.clear()
    return chosen.select(
        pl.Series("pick", np.arange(1, len(index) + 1, dtype=np.int64)),
        "id", "name", "segment", "tier", "followers",
        pl.Series("cost", cost[index] if index else np.zeros(0)),
        pl.Series("cost_estimated", cost_estimated[index] if index else np.zeros(0, bool)),
        pl.Series("marginal_reach", np.array([p[1] for p in picks], dtype=np.float64)),
        pl.Series("cumulative_reach", np.array([p[2] for p in picks], dtype=np.float64)),
        pl.Series("cumulative_cost", np.array([p[3] for p in picks], dtype=np.float64)),
        "credibility",
    )


def objective(graph: Graph, scores: pl.DataFrame, accounts, goal: str = "engagement") -> float:
    """The goal's objective of a given set of account indices (for comparisons with other picks)."""
    person_weight, quality = _objective_inputs(graph, scores, goal)
    best = np.zeros(graph.n_nodes)
    total = 0.0
    layer = graph.attention
    for c in accounts:
        total += coverage_gain(layer.in_indptr, layer.in_indices, int(c), quality[c], person_weight, best)
        cover(layer.in_indptr, layer.in_indices, int(c), quality[c], best)
    return total
