"""Ranking and filtering scored accounts into shortlists."""

from __future__ import annotations

import numbers

import numpy as np
import polars as pl

from .config import AUTO_GOAL_BY_SEGMENT, GOAL_WEIGHTS, GOALS
from .errors import ConfigError
from .segments import SEGMENTS

#: Columns every csv/json/parquet shortlist row carries first (the contract's minimum).
SHORTLIST_COLUMNS = (
    "rank", "id", "name", "segment", "tier", "followers", "reach", "credibility", "peer_influence", "score",
)


def goal_weights(goal: str, segment: str | None = None) -> tuple[float, float, float]:
    """(reach, credibility, peer_influence) weights of ``goal``.

    ``auto`` takes the goal a segment is bought for (``AUTO_GOAL_BY_SEGMENT``: mass for
    awareness, micro for engagement) and ``balanced`` for any other segment or across segments
    (``segment`` None or ``all``).
    """
    if goal not in GOALS:
        raise ConfigError(f"goal must be one of {', '.join(GOALS)}, got {goal!r}")
    if goal == "auto":
        goal = AUTO_GOAL_BY_SEGMENT.get(segment, "balanced")
    return GOAL_WEIGHTS[goal]


def goal_score(goal: str, segment: str | None = None) -> pl.Expr:
    """``score`` for ``goal`` (see :func:`goal_weights`): a weighted mean in [0, 1]."""
    w_reach, w_cred, w_peer = goal_weights(goal, segment)
    return (w_reach * pl.col("reach") + w_cred * pl.col("credibility") + w_peer * pl.col("peer_influence")).alias(
        "score"
    )


def topic_column(scores: pl.DataFrame, topic: str) -> str:
    """The column a ``topic`` filter reads: ``topic`` when the node table gave any, else the
    detected ``community`` names (the engine falls back to them when every topic is null).
    Raises :class:`ConfigError`, naming some of the values, when no account has ``topic``."""
    has_topics = "topic" in scores.columns and scores["topic"].null_count() < scores.height
    column = "topic" if has_topics else "community"
    known = scores[column].drop_nulls().unique()
    if not (known == topic).any():
        raise ConfigError(f"unknown topic {topic!r}; the graph's {column} values include "
                          f"{', '.join(map(str, known.sort().head(8).to_list()))}")
    return column


def shortlist(
    scores: pl.DataFrame,
    segment: str = "micro",
    top: int | None = 20,
    *,
    goal: str = "auto",
    topic: str | None = None,
) -> pl.DataFrame:
    """The ``top`` accounts of ``segment`` ranked by ``score`` (descending, ties by ``id``).

    Parameters
    ----------
    scores
        The frame returned by :func:`influence.score`.
    segment
        ``mass``, ``micro``, ``suspicious``, ``other`` or ``all`` (every account).
    top
        How many rows at most (None: all). Fewer rows are returned when fewer qualify.
    goal
        The weights of ``score`` in this list: ``balanced``, ``awareness``, ``engagement``,
        ``conversion``, or ``auto`` (default): mass ranked for awareness, micro for engagement,
        any other segment and ``all`` balanced.
    topic
        Keep only accounts whose ``topic`` (or detected community name) equals this.

    Returns
    -------
    polars.DataFrame with ``rank`` (1-based) first, then every column of ``scores``.
    """
    if segment != "all" and segment not in SEGMENTS:
        raise ConfigError(f"segment must be one of {', '.join(SEGMENTS)} or all, got {segment!r}")
    if top is not None and (not isinstance(top, numbers.Integral) or isinstance(top, (bool, np.bool_)) or top < 0):
        raise ConfigError(f"top must be a non-negative integer, got {top!r}")
    frame = scores.with_columns(goal_score(goal, segment))
    if segment != "all":
        frame = frame.filter(pl.col("segment") == segment)
    if topic is not None:
        frame = frame.filter(pl.col(topic_column(scores, topic)) == topic)
    frame = frame.sort(["score", "id"], descending=[True, False], nulls_last=True)
    if top is not None:
        frame = frame.head(min(int(top), frame.height))  # polars' head takes at most a uint64
    frame = frame.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))
    return frame
