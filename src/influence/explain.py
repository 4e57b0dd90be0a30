"""Why an account scored as it did: every score and component with its place in the graph,
and the segment rules with the thresholds this graph set for them."""

from __future__ import annotations

import numpy as np
import polars as pl

from .accounts import account_indices
from .config import ScoringConfig
from .engine import Diagnostics, load, score
from .graph import Graph
from .kernels.cascade import rr_confidence_interval

SCORES = ("reach", "credibility", "peer_influence", "score")
#: Components shown under each score, in the order of docs/scoring.md.
COMPONENTS = {
    "reach": ("audience", "expected_spread", "expected_exposures", "two_hop_audience", "pass_on"),
    "credibility": (
        "genuineness", "audience_authenticity", "engagement_authenticity", "engagement_rate",
        "relative_engagement", "pod_score", "trust", "distrust_share", "sponsored_share",
    ),
    "peer_influence": ("pagerank", "amplification", "resharers", "community_standing"),
    "segment": ("community", "community_concentration", "community_breadth", "community_lift", "loyal_share"),
}


def _percentile(column: pl.Series, value) -> float | None:
    """Share of accounts with a lower value, in [0, 1] (None for text columns)."""
    if not column.dtype.is_numeric() or value is None:
        return None
    values = column.to_numpy()
    return float(np.mean(values < value))


def _rules(row: dict, t, observed_audience: int) -> list[dict]:
    """The segment rules applied to one account, each with value, threshold and outcome;
    ``observed_audience``: the accounts that attend to it in the graph."""
    rules = []

    def add(segment, text, value, threshold, passed):
        rules.append({"segment": segment, "rule": text, "value": value, "threshold": threshold, "passed": bool(passed)})

    sized = row["audience"] >= t.min_audience
    add("all", "audience at least the median audience of accounts that have one,", row["audience"], t.min_audience, sized)
    add("suspicious", "audience authenticity below half the median", row["audience_authenticity"],
        t.audience_authenticity_floor, row["audience_authenticity"] < t.audience_authenticity_floor)
    add("suspicious", "pod score (reciprocal ring) at least", row["pod_score"], t.pod_score_max,
        row["pod_score"] >= t.pod_score_max)
    if t.engagement_authenticity_floor is not None:
        add("suspicious", "engagement authenticity below half the median", row["engagement_authenticity"],
            t.engagement_authenticity_floor, row["engagement_authenticity"] < t.engagement_authenticity_floor)
    add("mass", "an audience seen in the graph (accounts attending to it, not only a reported count) above",
        observed_audience, 0, observed_audience > 0)
    if t.mass_max_lift is None:
        add("mass", "reach in the top 0.1% (mass whatever its audience's shape)", row["reach"],
            t.mass_core_reach_cut, row["reach"] >= t.mass_core_reach_cut)
    else:
        add("mass", "reach in the top 0.1% (mass if its main community is not over-represented)", row["reach"],
            t.mass_core_reach_cut, row["reach"] >= t.mass_core_reach_cut)
    add("mass", "reach in the top 1%", row["reach"], t.mass_reach_cut, row["reach"] >= t.mass_reach_cut)
    add("mass", "no community holds half the audience", row["community_concentration"],
        t.mass_max_concentration, row["community_concentration"] < t.mass_max_concentration)
    if t.mass_max_lift is not None:
        add("mass", "main audience community over-represented (vs its share of all audiences) less than",
            row["community_lift"], t.mass_max_lift, row["community_lift"] < t.mass_max_lift)
    add("micro", "share of the audience in its main community at least", row["community_concentration"],
        t.micro_min_concentration, row["community_concentration"] >= t.micro_min_concentration)
    add("micro", "credibility at least the median", row["credibility"], t.micro_credibility_floor,
        row["credibility"] >= t.micro_credibility_floor)
    if t.micro_min_loyal_share is not None:
        add("micro", "share of engagement from repeat engaging followers at least", row["loyal_share"],
            t.micro_min_loyal_share, row["loyal_share"] >= t.micro_min_loyal_share)
    else:
        add("micro", "reach above the median (no repeat engagement observable)", row["reach"],
            t.micro_reach_floor, row["reach"] > t.micro_reach_floor)
    if t.micro_min_resharers is not None:
        add("micro", "distinct resharers at least the median of reshared accounts (and 2)", row["resharers"],
            t.micro_min_resharers, row["resharers"] >= t.micro_min_resharers)
    return rules


def _spread_sampling(spread, row: dict, n_nodes: int) -> dict:
    """How ``expected_spread`` was estimated, and bounds of this account's expected spread that
    hold for all accounts at once with probability ``1 - spread_delta``."""
    value = row["expected_spread"]
    if spread is None or spread.samples == 0:
        return {"rr_sets": 0, "low": value, "high": value, "probability": 1.0}
    beyond_now = value - row["audience"]  # audience here includes followers only the node table reports
    hits = round(max(beyond_now, 0.0) * spread.samples / n_nodes)
    low, high = rr_confidence_interval(np.array([hits]), spread.samples, n_nodes, spread.delta)
    return {
        "rr_sets": spread.samples,
        "low": row["audience"] + float(low[0]),
        "high": row["audience"] + float(high[0]),
        "probability": 1.0 - spread.delta,
    }


def _credibility_model(diag, row: dict) -> dict:
    """Which credibility formula applied (docs/scoring.md): on a rating graph distrust comes
    first and authenticity moves an account by at most ``distrust_step``."""
    if not diag.rating_graph:
        return {"rating_graph": False}
    authenticity = (row["genuineness"] * row["audience_authenticity"] * row["engagement_authenticity"]
                    * (1.0 - 0.5 * row["sponsored_share"]))
    return {"rating_graph": True, "distrust_step": diag.distrust_step, "authenticity": authenticity}


def explain(graph, account, config: ScoringConfig | None = None, **overrides) -> dict:
    """Every score of ``account`` broken into its components, as a JSON-ready dict.

    ``graph`` is a :class:`Graph` or anything :func:`influence.load` accepts; ``account`` is an
    id (a string that parses as an integer matches an int64 id). Each score and component comes
    with its ``percentile``: the share of the graph's accounts with a lower value. ``rules``
    lists the segment rules with the thresholds this graph set and whether the account passed.
    """
    if not isinstance(graph, Graph):
        graph = load(graph, config=config)
    index = int(account_indices(graph.ids, [account])[0])
    diag = Diagnostics()
    scores = score(graph, config, diagnostics=diag, **overrides)
    row = scores.row(index, named=True)

    def entry(name):
        return {"value": row[name], "percentile": _percentile(scores[name], row[name])}

    out = {
        "id": row["id"],
        "name": row["name"],
        "segment": row["segment"],
        "tier": row["tier"],
        "followers": row["followers"],
        "scores": {name: entry(name) for name in SCORES},
        "components": {group: {name: entry(name) for name in names} for group, names in COMPONENTS.items()},
        "rules": _rules(row, diag.segment_thresholds, int(graph.attention.in_degree[index])),
        "spread_sampling": _spread_sampling(diag.spread, row, graph.n_nodes),
        "credibility_model": _credibility_model(diag, row),
        "unavailable": list(diag.unavailable),
    }
    out["summary"] = summary(out)
    return out


def summary(explained: dict) -> str:
    """The explanation in plain words, one sentence a line."""
    s = explained["scores"]
    who = explained["name"] or explained["id"]
    lines = [
        f"{who} is {explained['segment']} ({explained['tier']} tier, {explained['followers']:,} followers).",
    ]
    for name in ("reach", "credibility", "peer_influence"):
        pct = s[name]["percentile"]
        lines.append(f"{name.replace('_', ' ')} {s[name]['value']:.3f}: higher than {pct:.0%} of accounts.")
    segment = explained["segment"]
    relevant = [r for r in explained["rules"] if r["segment"] in ("all", segment)] if segment != "other" else [
        r for r in explained["rules"] if r["segment"] in ("all", "micro", "mass")
    ]
    for rule in relevant:
        mark = "yes" if rule["passed"] else "no"
        value = rule["value"] if isinstance(rule["value"], str) else f"{rule['value']:.3g}"
        lines.append(f"[{mark}] {rule['rule']} {rule['threshold']:.3g}: it is {value}")
    model = explained.get("credibility_model")
    if model and model["rating_graph"]:
        distrust = explained["components"]["credibility"]["distrust_share"]["value"]
        lines.append(f"rating graph: credibility = (1 - distrust share {distrust:.3g}) - {model['distrust_step']:.3g} "
                     f"x (1 - authenticity {model['authenticity']:.3g}); distrust comes first.")
    sampling = explained.get("spread_sampling")
    if sampling and sampling["rr_sets"]:
        lines.append(f"expected spread {explained['components']['reach']['expected_spread']['value']:,.1f}: "
                     f"between {sampling['low']:,.1f} and {sampling['high']:,.1f} with probability "
                     f"{sampling['probability']:.0%} ({sampling['rr_sets']:,} reverse-reachable sets).")
    for note in explained["unavailable"]:
        lines.append(f"note: {note}")
    return "\n".join(lines)
