"""Parameters of loading, scoring and segmentation, validated once.

Every dataclass here is frozen and checks its ranges in ``__post_init__``, so that an
invalid value fails before any heavy work with a :class:`~influence.errors.ConfigError`
that names the parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Mapping

from .errors import ConfigError

#: Edge kinds that build the follow layer.
FOLLOW_KINDS = frozenset({"follow"})
#: Edge kinds that are negative signals; they never add reach or influence.
NEGATIVE_KINDS = frozenset({"distrust", "dislike", "report", "block", "unfollow"})
#: Interaction kinds that pass content on to the actor's own audience.
RESHARE_KINDS = frozenset({"share", "retweet", "quote"})
#: Interaction kinds known to the engine (an unknown kind is a positive interaction of weight 1).
INTERACTION_KINDS = frozenset({"like", "comment", "reply", "share", "retweet", "quote", "mention", "trust"})

#: Default weight of one interaction of each kind in the interaction layer:
#: resharing > conversation > one-click attention.
DEFAULT_KIND_WEIGHTS = MappingProxyType(
    {
        "share": 3.0,
        "retweet": 3.0,
        "quote": 2.5,
        "comment": 2.0,
        "reply": 2.0,
        "trust": 2.0,
        "like": 1.0,
        "mention": 1.0,
    }
)

#: Follower-count tier presets: upper bounds (exclusive) of every tier but the last.
TIER_PRESETS = MappingProxyType(
    {
        # The contract's default: nano < 10k <= micro < 100k <= mid < 500k <= macro < 1M <= mega.
        "default": (("nano", "micro", "mid", "macro", "mega"), (10_000, 100_000, 500_000, 1_000_000)),
        # Later.com's six tiers.
        "later": (
            ("nano", "micro", "mid", "macro", "mega", "celebrity"),
            (10_000, 50_000, 500_000, 1_000_000, 5_000_000),
        ),
        # HypeAuditor's tiers.
        "hypeauditor": (
            ("nano", "micro", "mid", "macro", "mega"),
            (10_000, 50_000, 500_000, 1_000_000),
        ),
    }
)

GOALS = ("auto", "balanced", "awareness", "engagement", "conversion")

#: Goal whose weights score each segment under ``goal="auto"``: mass accounts are bought for
#: awareness, micro-influencers for engagement; the rest are weighed evenly.
AUTO_GOAL_BY_SEGMENT = MappingProxyType({"mass": "awareness", "micro": "engagement"})

#: (reach, credibility, peer_influence) weights of ``score`` for each goal.
GOAL_WEIGHTS = MappingProxyType(
    {
        "balanced": (0.4, 0.3, 0.3),
        "awareness": (0.6, 0.2, 0.2),
        "engagement": (0.2, 0.4, 0.4),
        "conversion": (0.2, 0.5, 0.3),
    }
)


def _check_range(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if value < lo or value > hi or (lo_open and value == lo):
        bracket = "(" if lo_open else "["
        raise ConfigError(f"{name} must be in {bracket}{lo}, {hi}], got {value!r}")


@dataclass(frozen=True)
class ScoringConfig:
    """Every tunable of the scoring model; the defaults are documented in ``docs/scoring.md``.

    Parameters
    ----------
    kind_weights
        Weight of one interaction of each kind in the interaction layer (>= 0). Kinds not
        listed weigh ``unknown_kind_weight``.
    damping
        PageRank damping factor in (0, 1) for peer influence.
    tol
        PageRank stopping rule: L1 change of the rank vector between iterations.
    max_iter
        Iteration cap of every iterative kernel.
    cascade_depth
        Hops of the expected-spread recursion (1 = the audience only).
    reshare_prior
        Pass-on probability assumed for an account when the graph shows no resharing at all,
        in [0, 1].
    prior_strength
        Pseudo-count of the Bayesian shrinkage applied to per-account rates (> 0).
    goal
        Which weights of ``GOAL_WEIGHTS`` make the ``score`` column of the score table;
        ``auto`` (default) is ``balanced`` there, one set of weights for every account (the
        shortlists then weigh each segment by what it is bought for).
    tiers
        A name of ``TIER_PRESETS``, or ``(names, thresholds)``.
    tier_mode
        ``absolute`` applies the thresholds to follower counts; ``relative`` to the follower
        count's quantiles (see :func:`influence.segments.assign_tiers`); ``auto`` is absolute
        when the node table reports ``followers`` and some account reaches the first threshold,
        relative otherwise.
    mass_quantile
        An account is a mass candidate when its reach is in the top ``1 - mass_quantile``.
    micro_min_concentration
        Least share of a micro-influencer's audience inside its main community, in [0, 1].
    spread_epsilon, spread_delta
        Error bound the expected spread is sampled for (reverse-reachable sets): relative error
        ``spread_epsilon`` in (0, 1] at the ``mass_quantile`` audience, all accounts at once, with
        probability ``1 - spread_delta``, ``spread_delta`` in (0, 0.5].
    spread_budget
        Cap of that sampling in edge visits per attention edge (> 0; graphs under 2**20 edges
        count as 2**20): when the bound needs more samples, fewer are drawn and the bound reached
        is reported.
    seed
        Seed of every randomised step (community detection order, spread sampling, sketches).
    """

    kind_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS))
    unknown_kind_weight: float = 1.0
    damping: float = 0.85
    tol: float = 1e-9
    max_iter: int = 200
    cascade_depth: int = 3
    reshare_prior: float = 0.02
    prior_strength: float = 5.0
    goal: str = "auto"
    tiers: object = "default"
    tier_mode: str = "auto"
    mass_quantile: float = 0.99
    micro_min_concentration: float = 0.6
    spread_epsilon: float = 0.1
    spread_delta: float = 0.01
    spread_budget: float = 4.0
    seed: int = 0

    def __post_init__(self) -> None:
        for kind, weight in dict(self.kind_weights).items():
            if not isinstance(kind, str):
                raise ConfigError(f"kind_weights keys must be strings, got {kind!r}")
            _check_range(f"kind_weights[{kind!r}]", weight, 0.0, 1e9)
            if kind in NEGATIVE_KINDS or kind in FOLLOW_KINDS:
                raise ConfigError(f"kind_weights cannot weigh {kind!r}: it is not an interaction kind")
        _check_range("unknown_kind_weight", self.unknown_kind_weight, 0.0, 1e9)
        _check_range("damping", self.damping, 0.0, 0.999999, lo_open=True)
        _check_range("tol", self.tol, 0.0, 1.0, lo_open=True)
        if not isinstance(self.max_iter, int) or self.max_iter < 1:
            raise ConfigError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if not isinstance(self.cascade_depth, int) or not 1 <= self.cascade_depth <= 10:
            raise ConfigError(f"cascade_depth must be an integer in [1, 10], got {self.cascade_depth!r}")
        _check_range("reshare_prior", self.reshare_prior, 0.0, 1.0)
        _check_range("prior_strength", self.prior_strength, 0.0, 1e9, lo_open=True)
        if self.goal not in GOALS:
            raise ConfigError(f"goal must be one of {', '.join(GOALS)}, got {self.goal!r}")
        tier_names_thresholds(self.tiers)  # validates
        if self.tier_mode not in ("auto", "absolute", "relative"):
            raise ConfigError(f"tier_mode must be auto, absolute or relative, got {self.tier_mode!r}")
        _check_range("mass_quantile", self.mass_quantile, 0.5, 0.999999)
        _check_range("micro_min_concentration", self.micro_min_concentration, 0.0, 1.0)
        _check_range("spread_epsilon", self.spread_epsilon, 0.0, 1.0, lo_open=True)
        _check_range("spread_delta", self.spread_delta, 0.0, 0.5, lo_open=True)
        _check_range("spread_budget", self.spread_budget, 0.0, 1e6, lo_open=True)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**63:
            raise ConfigError(f"seed must be an integer in [0, 2**63), got {self.seed!r}")

    def replace(self, **changes) -> "ScoringConfig":
        """Return a copy with ``changes`` applied (and validated)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        unknown = set(changes) - set(values)
        if unknown:
            raise ConfigError(f"unknown scoring parameter(s): {', '.join(sorted(unknown))}")
        values.update(changes)
        return ScoringConfig(**values)


def tier_names_thresholds(tiers: object) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Resolve a tier preset name or a ``(names, thresholds)`` pair, validating it.

    Returns ``(names, thresholds)`` where ``len(names) == len(thresholds) + 1`` and
    thresholds are strictly increasing follower counts: an account with ``followers < t[0]``
    is ``names[0]``, ``t[i-1] <= followers < t[i]`` is ``names[i]``.
    """
    if isinstance(tiers, str):
        if tiers not in TIER_PRESETS:
            raise ConfigError(f"unknown tier preset {tiers!r}; expected one of {', '.join(TIER_PRESETS)}")
        return TIER_PRESETS[tiers]
    try:
        names, thresholds = tiers  # type: ignore[misc]
        names = tuple(str(n) for n in names)
        thresholds = tuple(float(t) for t in thresholds)
    except (TypeError, ValueError):
        raise ConfigError(f"tiers must be a preset name or (names, thresholds), got {tiers!r}") from None
    if len(names) != len(thresholds) + 1 or not thresholds:
        raise ConfigError("tiers need one more name than thresholds, and at least one threshold")
    if any(not math.isfinite(t) or t < 0 for t in thresholds) or any(
        b <= a for a, b in zip(thresholds, thresholds[1:])
    ):
        raise ConfigError(f"tier thresholds must be finite, >= 0 and strictly increasing, got {thresholds}")
    return names, thresholds
