"""Follower tiers and the mass / micro / suspicious / other separation.

Every threshold is relative to the graph itself (quantiles and medians), so a 5k-account sample
and a 50M-account graph are treated alike. The rules, in order of precedence:

``suspicious``
    an account with a meaningful audience (at least the median audience of accounts that have
    one, and at least 2) whose audience authenticity or engagement authenticity is below half the
    median of such accounts, or whose engagement comes mostly (>= 50%) from a reciprocal ring.
``mass``
    a meaningful audience, some of it seen in the graph (an account that attends to it, not
    only a reported follower count), reach in the top ``1 - mass_quantile`` and an audience
    spread over communities: no community holds half of it and, when the communities are the node table's
    topics, its largest community is less than ``MASS_MAX_LIFT`` times as common in it as in all
    audiences (``community_lift``). Reach in the top 0.1% is mass whatever the share of its
    largest community; with topics only if its lift is below ``MASS_MAX_LIFT``. The lift is not
    used with detected communities: community detection (Louvain, as label propagation before
    it) groups a large hub with its own followers, so a hub's audience looks concentrated and
    over-represented by construction (docs/scoring.md).
``micro``
    a meaningful audience; at least ``micro_min_concentration`` of it inside one community;
    credibility at or above the median of meaningful accounts; when the graph has
    interactions, at least 30% of its engagement events from followers who engaged more than
    once (repeat engagers, when the graph has no follow edge); and, when the graph has reshares,
    pass-on: at least as many distinct resharers as the median meaningful account that was
    reshared, and at least 2 (the audience floor's formula applied to resharers; one resharer
    can be a single friend); when no meaningful account reaches that floor, the reshares are too
    sparse to be evidence and the condition is dropped (warned). When the graph shows no repeat engagement at all (no interactions,
    or every pair interacted once) the repeat-engagement condition is replaced by reach above the
    median of meaningful accounts.
``other``
    everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import ScoringConfig, tier_names_thresholds
from .errors import ConfigError

SEGMENTS = ("mass", "micro", "suspicious", "other")
#: Quantiles of the follower count that stand in for the tier thresholds in relative mode
#: (a nano account is below the 90th percentile, a mega account in the top 0.01%).
RELATIVE_TIER_QUANTILES = (0.90, 0.99, 0.999, 0.9999, 0.99999)
MICRO_MIN_LOYAL_SHARE = 0.3
#: Fewest distinct resharers a micro-influencer needs when the graph has reshares (the floor
#: under the median of meaningful reshared accounts, as 2 is under the median audience).
MICRO_MIN_RESHARERS = 2
SUSPICIOUS_POD_SHARE = 0.5
#: Largest share of a mass account's audience inside one community: no community holds a majority.
MASS_MAX_CONCENTRATION = 0.5
#: Reach quantile above which an account is mass whatever the share of its largest community
#: (with detected communities; with topics, if that community is not over-represented).
MASS_CORE_QUANTILE = 0.999
#: Largest over-representation of a mass account's main audience community against that
#: community's share of all audiences (topics only): an audience drawn from the whole graph has
#: a lift near 1, a community star's home community is several times over-represented.
MASS_MAX_LIFT = 2.0
SUSPICIOUS_RELATIVE_AUTHENTICITY = 0.5


def assign_tiers(followers: np.ndarray, config: ScoringConfig, has_reported_followers: bool) -> tuple[np.ndarray, str]:
    """Tier name of every account, and the mode used (``absolute`` or ``relative``).

    ``auto`` is absolute when the node table reports follower counts and at least one reaches the
    first threshold (platform counts), relative otherwise (counts that only restate a small or
    synthetic graph would put every account in the first tier).

    Absolute mode applies the preset's follower thresholds. Relative mode, for sampled or
    synthetic graphs whose counts are not platform counts, uses the follower-count quantiles in
    ``RELATIVE_TIER_QUANTILES`` as thresholds (the i-th threshold becomes the i-th quantile, and
    an account moves up a tier when its count is strictly above it).
    """
    names, thresholds = tier_names_thresholds(config.tiers)
    mode = config.tier_mode
    cuts = np.asarray(thresholds, dtype=np.float64)
    if mode == "auto":
        platform_counts = has_reported_followers and followers.size and float(followers.max()) >= cuts[0]
        mode = "absolute" if platform_counts else "relative"
    side = "right"  # absolute: followers >= threshold moves up a tier
    if mode == "relative":
        if len(cuts) > len(RELATIVE_TIER_QUANTILES):
            raise ConfigError("relative tiers support at most 5 thresholds")
        qs = RELATIVE_TIER_QUANTILES[: len(cuts)]
        cuts = np.quantile(followers, qs) if followers.size else np.zeros(len(cuts))
        side = "left"  # relative: strictly above the quantile moves up a tier
    position = np.searchsorted(cuts, followers, side=side)
    return np.asarray(names, dtype=object)[position], mode


@dataclass(frozen=True)
class SegmentThresholds:
    """The graph-relative thresholds that placed accounts in segments (see the module doc)."""

    min_audience: float
    audience_authenticity_floor: float
    engagement_authenticity_floor: float | None
    pod_score_max: float
    mass_reach_cut: float
    mass_core_reach_cut: float
    mass_max_concentration: float
    mass_max_lift: float | None
    micro_min_concentration: float
    micro_credibility_floor: float
    micro_min_loyal_share: float | None
    micro_reach_floor: float | None
    micro_min_resharers: float | None
    has_interactions: bool
    repeats_observed: bool


def segment_thresholds(
    *,
    reach: np.ndarray,
    credibility: np.ndarray,
    audience: np.ndarray,
    audience_authenticity: np.ndarray,
    engagement_authenticity: np.ndarray,
    has_interactions: bool,
    repeats_observed: bool,
    config: ScoringConfig,
    communities_from_topic: bool = False,
    resharers: np.ndarray | None = None,
) -> SegmentThresholds:
    """Medians and quantiles of this graph that the segment rules compare with.

    ``resharers`` (distinct accounts that reshared each account) is None when the graph has no
    reshare edge: the micro pass-on rule then does not apply; nor does it when no meaningful
    account reaches its floor (reshares too sparse to be evidence; the engine then warns).
    """
    with_audience = audience[audience > 0]
    min_audience = max(2.0, float(np.median(with_audience)) if with_audience.size else 2.0)
    sized = audience >= min_audience
    if not sized.any():
        sized = np.ones_like(audience, dtype=bool)  # no account qualifies anyway (min_audience)

    def median(values):
        return float(np.median(values[sized])) if values.size else 0.0

    micro_min_resharers = None
    if resharers is not None:
        reshared = resharers[sized & (resharers > 0)]
        floor = max(float(MICRO_MIN_RESHARERS), float(np.median(reshared)) if reshared.size else 0.0)
        if (resharers[sized] >= floor).any():  # else reshares are too sparse to ask for pass-on
            micro_min_resharers = floor

    return SegmentThresholds(
        min_audience=min_audience,
        audience_authenticity_floor=SUSPICIOUS_RELATIVE_AUTHENTICITY * median(audience_authenticity),
        engagement_authenticity_floor=(
            SUSPICIOUS_RELATIVE_AUTHENTICITY * median(engagement_authenticity) if has_interactions else None
        ),
        pod_score_max=SUSPICIOUS_POD_SHARE,
        mass_reach_cut=float(np.quantile(reach, config.mass_quantile)) if reach.size else 0.0,
        mass_core_reach_cut=float(np.quantile(reach, MASS_CORE_QUANTILE)) if reach.size else 0.0,
        mass_max_concentration=MASS_MAX_CONCENTRATION,
        mass_max_lift=MASS_MAX_LIFT if communities_from_topic else None,
        micro_min_concentration=config.micro_min_concentration,
        micro_credibility_floor=median(credibility),
        micro_min_loyal_share=MICRO_MIN_LOYAL_SHARE if repeats_observed else None,
        micro_reach_floor=None if repeats_observed else median(reach),
        micro_min_resharers=micro_min_resharers,
        has_interactions=has_interactions,
        repeats_observed=repeats_observed,
    )


def assign_segments(
    *,
    reach: np.ndarray,
    credibility: np.ndarray,
    audience: np.ndarray,
    audience_authenticity: np.ndarray,
    engagement_authenticity: np.ndarray,
    pod_score: np.ndarray,
    concentration: np.ndarray,
    loyal_share: np.ndarray,
    thresholds: SegmentThresholds,
    lift: np.ndarray | None = None,
    resharers: np.ndarray | None = None,
    observed_audience: np.ndarray | None = None,
) -> np.ndarray:
    """Segment of every account (object array of ``SEGMENTS`` names); see the module doc.

    ``audience`` may include follower counts that only the node table reports;
    ``observed_audience`` (default ``audience``) counts the accounts that attend to each account
    in the graph, which mass needs.
    """
    t = thresholds
    n = reach.shape[0]
    segment = np.full(n, "other", dtype=object)
    sized = audience >= t.min_audience
    suspicious = sized & (
        (audience_authenticity < t.audience_authenticity_floor) | (pod_score >= t.pod_score_max)
    )
    if t.engagement_authenticity_floor is not None:
        suspicious |= sized & (engagement_authenticity < t.engagement_authenticity_floor)
    # breadth is measured on the audience seen in the graph: an account known only by a reported
    # follower count shows none
    seen = (audience if observed_audience is None else observed_audience) > 0
    spread = seen & (concentration < t.mass_max_concentration)
    core = seen & (reach >= t.mass_core_reach_cut)
    if t.mass_max_lift is not None:
        if lift is None:
            raise ValueError("assign_segments: thresholds with mass_max_lift need the lift")
        mirrors = lift < t.mass_max_lift
        spread &= mirrors
        core &= mirrors
    mass = sized & ~suspicious & (reach > 0) & (((reach >= t.mass_reach_cut) & spread) | core)
    micro = sized & ~suspicious & ~mass
    micro &= concentration >= t.micro_min_concentration
    micro &= credibility >= t.micro_credibility_floor
    if t.micro_min_loyal_share is not None:
        micro &= loyal_share >= t.micro_min_loyal_share
    else:
        micro &= reach > t.micro_reach_floor
    if t.micro_min_resharers is not None:
        if resharers is None:
            raise ValueError("assign_segments: thresholds with micro_min_resharers need the resharers")
        micro &= resharers >= t.micro_min_resharers
    segment[suspicious] = "suspicious"
    segment[mass] = "mass"
    segment[micro] = "micro"
    return segment
