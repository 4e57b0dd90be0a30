"""End-to-end score properties: ``influence.score(influence.load(edges_df, nodes=nodes_df))``.

Exact expectations on hand-made graphs where they are easy to derive, and hypothesis properties
on small random graphs (relabelling permutes scores, shuffling rows changes nothing, a new
follower never lowers reach, every score in [0, 1]).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numba
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import influence
from influence.config import ScoringConfig
from influence.engine import Diagnostics
from influence.kernels.cascade import rr_confidence_interval

SCORE_COLS = ("reach", "credibility", "peer_influence")
UNIT_COLS = (
    "reach", "credibility", "peer_influence", "score", "pass_on", "audience_authenticity",
    "engagement_authenticity", "relative_engagement", "pod_score", "loyal_share", "distrust_share",
    "sponsored_share", "pagerank", "amplification", "community_standing", "community_concentration",
    "genuineness",
)
FINITE_COLS = UNIT_COLS + ("expected_spread", "engagement_rate", "community_breadth", "community_lift")
FOLLOW_ONLY = ("follow",)
INTERACTIONS_ONLY = ("like", "comment", "share", "retweet", "quote", "mention", "reply")
WITH_NEGATIVE = ("follow", "follow", "like", "share", "quote", "distrust", "report", "block", "unfollow", "zap")
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _score(edges, nodes=None, **overrides):
    return _quiet(lambda: influence.score(influence.load(edges, nodes=nodes), **overrides))


def _edges(rows):
    """A polars edge table from ``(src, dst, kind[, weight])`` rows."""
    rows = [tuple(r) + (1.0,) if len(r) == 3 else tuple(r) for r in rows]
    src, dst, kind, weight = zip(*rows)
    return pl.DataFrame({"src": list(src), "dst": list(dst), "kind": list(kind), "weight": [float(w) for w in weight]})


def _follows(pairs):
    return _edges([(s, d, "follow") for s, d in pairs])


def _by_id(frame, column):
    return dict(zip(frame["id"].to_list(), frame[column].to_list()))


def _row(frame, account):
    return frame.filter(pl.col("id") == account).row(0, named=True)


@st.composite
def edge_tables(draw, kinds=WITH_NEGATIVE, max_nodes=12, max_edges=40):
    """Small random edge tables (int ids spread apart), at least one non-self-loop row."""
    n = draw(st.integers(2, max_nodes))
    rows = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from(kinds),
                      st.sampled_from([1.0, 1.0, 2.0, 0.5, 3.0, 0.0])),
            min_size=1, max_size=max_edges,
        ).filter(lambda rows: any(r[0] != r[1] for r in rows))
    )
    return _edges([(10 * s + 3, 10 * d + 3, k, w) for s, d, k, w in rows])


def _check_ranges(frame, n_nodes=None):
    if n_nodes is not None:
        assert frame.height == n_nodes
    assert frame["id"].is_sorted() and frame["id"].n_unique() == frame.height
    for col in FINITE_COLS:
        values = frame[col].to_numpy()
        assert values.dtype == np.float64, col
        assert np.isfinite(values).all(), col
    for col in UNIT_COLS:
        values = frame[col].to_numpy()
        assert ((values >= 0.0) & (values <= 1.0)).all(), (col, values)
    assert (frame["expected_spread"].to_numpy() >= 0).all()
    assert set(frame["segment"].to_list()) <= {"mass", "micro", "suspicious", "other"}
    assert frame["segment"].null_count() == 0 and frame["tier"].null_count() == 0


def _random_social_graph(seed, n, k, offset=0):
    """Each of ``n`` accounts follows ``k`` random others (ids offset..offset+n-1)."""
    rng = np.random.default_rng(seed)
    pairs = []
    for u in range(n):
        for v in rng.choice(n, k, replace=False):
            if v != u:
                pairs.append((u + offset, int(v) + offset))
    return pairs


# ---------------------------------------------------------------------------------------------
# Reach
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_leaves", [1, 4, 30])
def test_star_hub_has_max_reach(n_leaves):
    scores = _score(_follows([(i, 0) for i in range(1, n_leaves + 1)]))
    reach = _by_id(scores, "reach")
    assert reach[0] == 1.0
    assert all(reach[i] == 0.0 for i in range(1, n_leaves + 1))
    hub = _row(scores, 0)
    assert hub["audience"] == n_leaves and hub["followers"] == n_leaves
    assert hub["expected_spread"] == float(n_leaves)  # leaves have no audience to pass it on to


def test_reach_exact_on_a_chain():
    # 2 follows 1, 1 follows 0: a post of 0 is seen by 1, and by 2 when 1 passes it on
    scores, diag = _score_diag(_follows([(2, 1), (1, 0)]))
    config = ScoringConfig()
    k, p0 = config.prior_strength, config.reshare_prior
    p1 = 1.0 - math.exp(-p0)  # no reshare in the graph: every account gets the prior
    assert _by_id(scores, "pass_on") == pytest.approx({0: p1, 1: p1, 2: p1}, rel=1e-12)
    p1 = 1.0 - math.exp(-(0.0 + k * p1) / (1.0 + k))  # on the edge 1 -> 0: no observed reshare
    # the recursion is exact on this tree; the sampled spread is within its bound of it
    assert _by_id(scores, "expected_exposures") == pytest.approx({0: 1.0 + p1, 1: 1.0, 2: 0.0}, rel=1e-12)
    spread = _by_id(scores, "expected_spread")
    assert spread[1] == 1.0 and spread[2] == 0.0  # nothing beyond the first hop: exact
    low, high = _spread_bounds(scores, diag)
    assert 1.0 < low[0] <= 1.0 + p1 <= high[0] < 1.0 + 3.0 * p1  # and the bound is informative
    reach = _by_id(scores, "reach")
    scale = max(2.0, spread[0])
    assert reach[0] == pytest.approx(math.log1p(spread[0]) / math.log1p(scale), rel=1e-12)
    assert reach[1] == pytest.approx(math.log(2.0) / math.log1p(scale), rel=1e-12)
    assert reach[2] == 0.0


@SETTINGS
@given(edges=edge_tables())
def test_reach_is_zero_without_audience(edges):
    scores = _score(edges)
    no_audience = scores.filter(pl.col("audience") == 0)
    assert (no_audience["reach"] == 0.0).all() and (no_audience["expected_spread"] == 0.0).all()
    assert ((scores["audience"] > 0) == (scores["reach"] > 0)).all()


def test_reported_followers_raise_audience_and_reach():
    edges = _follows([(1, 0), (2, 0), (0, 1)])
    plain = _score(edges)
    nodes = pl.DataFrame({"id": [0, 1], "followers": [1000, None]})
    reported = _score(edges, nodes)
    assert _row(plain, 0)["audience"] == 2 and _row(plain, 0)["followers"] == 2
    assert _row(reported, 0)["audience"] == 1000 and _row(reported, 0)["followers"] == 1000
    # the 998 followers outside the sample each see the post once
    assert _row(reported, 0)["expected_spread"] == pytest.approx(_row(plain, 0)["expected_spread"] + 998, rel=1e-12)
    assert _row(reported, 0)["reach"] == 1.0
    assert _row(reported, 1)["reach"] < _row(plain, 1)["reach"]  # the scale grew with account 0's spread


@SETTINGS
@given(edges=edge_tables(), data=st.data())
def test_new_follower_never_lowers_reach(edges, data):
    """A follow from an account not yet following ``v`` (or from a brand-new account)."""
    before = _score(edges)
    ids = before["id"].to_list()
    target = data.draw(st.sampled_from(ids))
    following = set(edges.filter((pl.col("dst") == target) & (pl.col("kind") == "follow"))["src"].to_list())
    candidates = [u for u in ids if u != target and u not in following] + [10**9]
    follower = data.draw(st.sampled_from(candidates))
    after = _score(pl.concat([edges, _follows([(follower, target)])]))
    assert _row(after, target)["reach"] >= _row(before, target)["reach"] - 1e-12
    assert _row(after, target)["audience"] >= _row(before, target)["audience"]


@pytest.mark.parametrize("seed", range(4))
def test_new_follower_never_lowers_reach_seeded(seed):
    rng = np.random.default_rng(seed)
    pairs = _random_social_graph(seed, 40, 3)
    rows = [(s, d, "follow") for s, d in pairs]
    rows += [(int(rng.integers(40)), int(rng.integers(40)), kind) for kind in rng.choice(["like", "share", "quote"], 60)]
    edges = _edges([r for r in rows if r[0] != r[1]])
    before = _score(edges)
    for target in rng.choice(40, 5, replace=False).tolist():
        following = set(edges.filter((pl.col("dst") == target) & (pl.col("kind") == "follow"))["src"].to_list())
        follower = next(u for u in rng.permutation(40).tolist() if u != target and u not in following)
        after = _score(pl.concat([edges, _follows([(follower, target)])]))
        assert _row(after, target)["reach"] >= _row(before, target)["reach"]


# ---------------------------------------------------------------------------------------------
# Invariance: relabelling, row order, threads, repetition
# ---------------------------------------------------------------------------------------------


def _relabel(edges, mapping):
    dtype = pl.String if isinstance(next(iter(mapping.values())), str) else pl.Int64
    return edges.with_columns(
        pl.col("src").replace_strict(mapping, return_dtype=dtype),
        pl.col("dst").replace_strict(mapping, return_dtype=dtype),
    )


def _relabellings(edges, seed):
    """(name, mapping old id -> new id) for a random int permutation and ints -> strings."""
    ids = sorted(set(edges["src"].to_list()) | set(edges["dst"].to_list()))
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(len(ids))
    as_ints = {old: int(new) * 1_000_003 - 500 for old, new in zip(ids, shuffled)}
    as_strings = {old: f"user{int(new)}" for old, new in zip(ids, shuffled)}  # "user10" < "user2"
    return [("int permutation", as_ints), ("strings", as_strings)]


def _score_diag(edges, nodes=None, **overrides):
    diag = Diagnostics()
    return _quiet(lambda: influence.score(influence.load(edges, nodes=nodes), diagnostics=diag, **overrides)), diag


def _spread_bounds(frame, diag):
    """Per account: the interval of its expected spread that holds for all accounts at once with
    probability 1 - spread_delta (exact when nothing was sampled)."""
    spread = np.array(frame["expected_spread"].to_list())
    audience = np.array(frame["audience"].to_list(), np.float64)
    sampled = diag.spread
    if sampled.samples == 0:
        return spread, spread
    hits = np.rint((spread - audience) * sampled.samples / frame.height)
    low, high = rr_confidence_interval(hits, sampled.samples, frame.height, sampled.delta)
    return audience + low, audience + high


def _assert_spread_permuted(original, diag, relabelled, relabelled_diag, mapping):
    """Other ids draw other random numbers: the spreads agree within their error bounds (both
    intervals hold the expectation, so the estimates are at most their two widths apart)."""
    back = {new: old for old, new in mapping.items()}
    lo, hi = _spread_bounds(original, diag)
    r_lo, r_hi = _spread_bounds(relabelled, relabelled_diag)
    want = dict(zip(original["id"].to_list(), zip(original["expected_spread"].to_list(), hi - lo)))
    got = {back[i]: (v, w) for i, v, w in zip(relabelled["id"].to_list(), relabelled["expected_spread"].to_list(),
                                               r_hi - r_lo)}
    assert got.keys() == want.keys()
    for account, (value, width) in want.items():
        other, other_width = got[account]
        assert abs(value - other) <= width + other_width + 1e-9, (account, value, other)


def _assert_permuted(original, relabelled, mapping, columns, rtol):
    back = {new: old for old, new in mapping.items()}
    for col in columns:
        want = _by_id(original, col)
        got = {back[i]: v for i, v in _by_id(relabelled, col).items()}
        assert got.keys() == want.keys()
        ids = sorted(want)
        np.testing.assert_allclose([got[i] for i in ids], [want[i] for i in ids], rtol=rtol, atol=1e-12,
                                   err_msg=f"{col} changed under relabelling")


@SETTINGS
@given(edges=edge_tables(), seed=st.integers(0, 2**32 - 1))
def test_relabelling_permutes_reach_and_credibility(edges, seed):
    original, diag = _score_diag(edges)
    for _, mapping in _relabellings(edges, seed):
        relabelled, relabelled_diag = _score_diag(_relabel(edges, mapping))
        _assert_permuted(original, relabelled, mapping, ("credibility", "pagerank", "audience", "expected_exposures"),
                         1e-9)
        _assert_spread_permuted(original, diag, relabelled, relabelled_diag, mapping)


@pytest.mark.parametrize("seed", range(6))
def test_relabelling_permutes_peer_influence(seed):
    """Style guide: relabelling nodes permutes scores. Community detection must not depend on ids."""
    rng = np.random.default_rng(seed)
    n, m = 25, 60
    rows = [(int(a), int(b), "follow") for a, b in zip(rng.integers(0, n, m), rng.integers(0, n, m)) if a != b]
    edges = _edges(rows)
    original = _score(edges)
    for _, mapping in _relabellings(edges, seed):
        _assert_permuted(original, _score(_relabel(edges, mapping)), mapping, ("peer_influence",), 1e-9)


def test_relabelling_permutes_peer_influence_minimal():
    """Minimal case: the chain 1 -> 2 -> 0 -> 4 with every id negated."""
    edges = _follows([(0, 4), (1, 2), (2, 0)])
    mapping = {i: -i for i in (0, 1, 2, 4)}
    (original, diag), (relabelled, relabelled_diag) = _score_diag(edges), _score_diag(_relabel(edges, mapping))
    _assert_permuted(original, relabelled, mapping, ("credibility", "peer_influence"), 1e-9)
    _assert_spread_permuted(original, diag, relabelled, relabelled_diag, mapping)


def test_relabelling_permutes_credibility_with_many_reciprocal_partners():
    """Account 0 trades likes with 80 accounts; the 40 lowest ids form a clique, the rest do not.

    Reversing the ids of the partners must not change account 0's pod score or credibility
    (the ring closure must not depend on which partners come first in id order).
    """
    rows = [(u, 0, "like") for u in range(1, 81)] + [(0, u, "like") for u in range(1, 81)]
    rows += [(a, b, "like") for a in range(1, 41) for b in range(1, 41) if a != b]
    edges = _edges(rows)
    mapping = {0: 0, **{u: 1000 - u for u in range(1, 81)}}
    original, relabelled = _score(edges), _score(_relabel(edges, mapping))
    assert _row(relabelled, 0)["pod_score"] == pytest.approx(_row(original, 0)["pod_score"], rel=1e-9)
    _assert_permuted(original, relabelled, mapping, ("credibility",), 1e-9)


@SETTINGS
@given(edges=edge_tables(), seed=st.integers(0, 2**32 - 1), with_nodes=st.booleans())
def test_shuffling_rows_changes_nothing(edges, seed, with_nodes):
    nodes = None
    if with_nodes:
        ids = sorted(set(edges["src"].to_list()) | set(edges["dst"].to_list()))
        rng = np.random.default_rng(seed)
        nodes = pl.DataFrame({
            "id": ids + [999_999],
            "followers": rng.integers(0, 50, len(ids) + 1),
            "sponsored_share": rng.random(len(ids) + 1).round(2),
        }).sample(fraction=1.0, shuffle=True, seed=seed)
    original = _score(edges, nodes)
    shuffled_nodes = None if nodes is None else nodes.sample(fraction=1.0, shuffle=True, seed=seed + 1)
    shuffled = _score(edges.sample(fraction=1.0, shuffle=True, seed=seed), shuffled_nodes)
    assert original.equals(shuffled)
    for col in original.columns:  # bit for bit, not merely equal
        if original[col].dtype == pl.Float64:
            assert original[col].to_numpy().tobytes() == shuffled[col].to_numpy().tobytes(), col


def test_same_input_same_bytes_and_thread_count_independent():
    pairs = _random_social_graph(11, 300, 6)
    rng = np.random.default_rng(11)
    rows = [(s, d, "follow") for s, d in pairs]
    rows += [(int(a), int(b), str(k)) for a, b, k in
             zip(rng.integers(0, 300, 1500), rng.integers(0, 300, 1500), rng.choice(["like", "share", "reply", "distrust"], 1500))
             if a != b]
    edges = _edges(rows)
    first = _score(edges)
    assert first.equals(_score(edges))
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has fewer than 2 threads on this machine")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _score(edges)
        numba.set_num_threads(2)
        two = _score(edges)
    finally:
        numba.set_num_threads(before)
    assert one.equals(two) and one.equals(first)
    for col in SCORE_COLS + ("pagerank", "expected_spread"):
        assert one[col].to_numpy().tobytes() == two[col].to_numpy().tobytes()


# ---------------------------------------------------------------------------------------------
# Ranges on random graphs
# ---------------------------------------------------------------------------------------------


@SETTINGS
@given(edges=edge_tables(kinds=FOLLOW_ONLY))
def test_scores_in_unit_interval_follows_only(edges):
    _check_ranges(_score(edges))


@SETTINGS
@given(edges=edge_tables(kinds=INTERACTIONS_ONLY))
def test_scores_in_unit_interval_interactions_only(edges):
    _check_ranges(_score(edges))


@SETTINGS
@given(edges=edge_tables(kinds=WITH_NEGATIVE), with_nodes=st.booleans(), data=st.data())
def test_scores_in_unit_interval_with_negative_kinds_and_nodes(edges, with_nodes, data):
    nodes = None
    ids = sorted(set(edges["src"].to_list()) | set(edges["dst"].to_list()))
    if with_nodes:
        k = len(ids) + 2
        nodes = pl.DataFrame({
            "id": ids + [-1, -2],
            "followers": data.draw(st.lists(st.none() | st.integers(0, 10**7), min_size=k, max_size=k)),
            "sponsored_share": data.draw(st.lists(st.none() | st.sampled_from([0.0, 0.3, 1.0]), min_size=k, max_size=k)),
        }, schema_overrides={"followers": pl.Int64, "sponsored_share": pl.Float64})
    scores = _score(edges, nodes)
    _check_ranges(scores, len(ids) + (2 if with_nodes else 0))


def test_negative_only_graph_scores():
    scores = _score(_edges([(1, 2, "distrust"), (3, 2, "report")]))
    _check_ranges(scores, 3)
    assert (scores["reach"] == 0.0).all()
    assert _row(scores, 2)["distrust_share"] > 0


# ---------------------------------------------------------------------------------------------
# Credibility
# ---------------------------------------------------------------------------------------------


def test_bot_like_account_is_less_genuine():
    pairs = _random_social_graph(0, 220, 5)
    rng = np.random.default_rng(1)
    pairs += [(999, int(v)) for v in rng.choice(220, 200, replace=False)]  # no follower, follows 200
    scores = _score(_follows(pairs))
    genuineness = _by_id(scores, "genuineness")
    bot = genuineness[999]
    normal = [genuineness[i] for i in range(220)]
    assert bot < 0.1
    assert bot < min(normal)
    assert np.median(normal) == 1.0


def _bots_vs_genuine_graph():
    """Accounts 0..59 follow each other; 500 is followed by 10 bots, 600 by 10 genuine accounts."""
    pairs = _random_social_graph(3, 60, 4)
    pairs += [(b, 500) for b in range(1000, 1010)]  # bots: no followers, follow only 500
    pairs += [(u, 600) for u in range(10, 20)]  # genuine accounts with their own audiences
    return pairs


def test_followers_all_bots_lower_audience_authenticity():
    scores = _score(_follows(_bots_vs_genuine_graph()))
    bots_followed = _row(scores, 500)
    genuine_followed = _row(scores, 600)
    assert bots_followed["followers"] == genuine_followed["followers"] == 10
    assert bots_followed["audience_authenticity"] < genuine_followed["audience_authenticity"]
    assert bots_followed["credibility"] < genuine_followed["credibility"]


def test_sponsored_share_lowers_credibility():
    edges = _follows(_bots_vs_genuine_graph())
    base = _score(edges, pl.DataFrame({"id": [600, 10], "sponsored_share": [0.0, 0.0]}))
    sponsored = _score(edges, pl.DataFrame({"id": [600, 10], "sponsored_share": [1.0, 0.0]}))
    assert _row(sponsored, 600)["credibility"] < _row(base, 600)["credibility"]
    assert _row(sponsored, 600)["credibility"] == pytest.approx(0.5 * _row(base, 600)["credibility"], rel=1e-12)
    unchanged = [c for c in base.columns if c not in ("credibility", "score", "sponsored_share", "segment")]
    assert base.select(unchanged).equals(sponsored.select(unchanged))
    others = pl.col("id") != 600
    assert base.filter(others)["credibility"].equals(sponsored.filter(others)["credibility"])


def test_distrust_lowers_credibility():
    """A social graph with a few negative signals (under 1% of the rows): a multiplicative penalty."""
    pairs = _bots_vs_genuine_graph()
    edges = _follows(pairs)
    distrusted = pl.concat([edges, _edges([(u, 600, "distrust") for u in range(30, 32)])])
    assert 2 < 0.01 * distrusted.height
    base, after = _score(edges), _score(distrusted)
    assert _row(base, 600)["distrust_share"] == 0.0
    assert _row(after, 600)["distrust_share"] > 0.0
    assert _row(after, 600)["credibility"] < _row(base, 600)["credibility"]
    others = pl.col("id") != 600
    assert base.filter(others)["credibility"].equals(after.filter(others)["credibility"])
    # negative signals never add reach
    assert base["reach"].equals(after["reach"])


def _rating_graph():
    """Trust ratings among 0..39 (each rates 4 others, 15 distrust one); 100 is rated by 5 genuine raters, 3 of whom
    distrust it; 200 is rated by 5 mass-rating accounts (each rates 60 accounts, nobody rates them)."""
    rng = np.random.default_rng(3)
    rows = [(u, int(v), "trust", float(rng.integers(1, 4))) for u in range(40) for v in rng.choice(40, 4, replace=False)
            if v != u]
    rows += [(u, (u + 7) % 40, "distrust") for u in range(20, 35)]  # some distrust among them too
    rows += [(u, 100, "trust") for u in range(10, 12)] + [(u, 100, "distrust") for u in range(12, 15)]
    for m in range(300, 305):
        rows += [(m, 200, "trust")] + [(m, v, "trust") for v in range(40)] + [(m, 1000 + v, "trust") for v in range(20)]
    return _edges(rows)


def test_rating_graph_ranks_received_distrust_first():
    from influence.scores.credibility import SIGNED_MIN_SHARE

    edges = _rating_graph()
    assert (edges["kind"] == "distrust").sum() >= SIGNED_MIN_SHARE * edges["weight"].sum()
    scores = _score(edges)
    distrusted, inauthentic = _row(scores, 100), _row(scores, 200)
    # 200's raters are mass-raters: its authenticity is low, but nobody distrusts it
    assert inauthentic["audience_authenticity"] < distrusted["audience_authenticity"]
    assert inauthentic["distrust_share"] == 0.0 < distrusted["distrust_share"]
    assert distrusted["credibility"] < inauthentic["credibility"]
    # the formula, account by account: tau from the median number of signals received
    g = scores.sort("id")
    received = edges.filter(pl.col("src") != pl.col("dst")).unique(["src", "dst", "kind"]).group_by("dst").len()
    m = float(np.median(received.group_by("dst").agg(pl.col("len").sum())["len"].to_numpy()))
    tau = 1.0 / (1.0 + m + 0.5 * ScoringConfig().prior_strength)
    authenticity = g["genuineness"] * g["audience_authenticity"] * g["engagement_authenticity"]
    want = ((1.0 - g["distrust_share"]) - tau * (1.0 - authenticity)).clip(0.0, 1.0)
    np.testing.assert_allclose(g["credibility"].to_numpy(), want.to_numpy(), rtol=1e-12, atol=1e-15)
    # without the distrust rows the same graph is scored by the multiplicative model
    unsigned = _score(edges.filter(pl.col("kind") != "distrust")).sort("id")
    assert unsigned["credibility"].to_list() != g["credibility"].to_list()
    assert _row(unsigned, 200)["credibility"] < _row(unsigned, 100)["credibility"]


def test_pod_score_exact():
    # 0, 1, 2 like each other (a closed ring); 3 likes 0 without return (weight 2)
    rows = [(a, b, "like") for a in range(3) for b in range(3) if a != b] + [(3, 0, "like", 2.0)]
    # 10 trades likes with 11 and 12, who do not know each other: reciprocal, but no ring
    rows += [(10, 11, "like"), (11, 10, "like"), (10, 12, "like"), (12, 10, "like")]
    pod = _by_id(_score(_edges(rows)), "pod_score")
    assert pod == pytest.approx({0: 0.5, 1: 1.0, 2: 1.0, 3: 0.0, 10: 0.0, 11: 0.0, 12: 0.0}, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Segments
# ---------------------------------------------------------------------------------------------


def test_account_followed_by_bots_is_suspicious():
    rng = np.random.default_rng(0)
    pairs = _random_social_graph(0, 80, 4)
    for bot in range(3000, 3020):  # bots: no followers, follow 2000 and three others
        pairs.append((bot, 2000))
        pairs += [(bot, int(v)) for v in rng.choice(80, 3, replace=False)]
    pairs += [(u, 2000) for u in range(3)]
    scores = _score(_follows(pairs))
    assert _row(scores, 2000)["segment"] == "suspicious"
    assert _row(scores, 2000)["audience_authenticity"] < 0.5 * np.median(
        scores.filter(pl.col("id") < 80)["audience_authenticity"].to_numpy()
    )


@pytest.mark.parametrize("seed", range(3))
def test_star_hub_is_mass_in_a_larger_graph(seed):
    pairs = _random_social_graph(seed, 150, 4)
    pairs += [(u, 1000) for u in range(150)]
    scores = _score(_follows(pairs))
    hub = _row(scores, 1000)
    assert hub["reach"] == 1.0 and hub["reach"] == scores["reach"].max()
    assert hub["segment"] == "mass"
    assert scores.filter(pl.col("segment") == "mass").height <= math.ceil(0.01 * scores.height) + 1


def _two_hubs_with_topics(seed):
    """8 topics of 100 members who follow 3 members of their own topic; hub 9000 is followed
    by 40 members of every topic (its audience mirrors the graph), hub 9001 by all 100 members
    of topic 0 and 20 of every other topic (42% of its audience at home: under half, but topic 0
    is about 3 times over-represented in it)."""
    rng = np.random.default_rng(seed)
    members = np.arange(800)
    topic = members // 100
    pairs = []
    for u in members:
        peers = rng.choice(np.flatnonzero(topic == topic[u]), 4, replace=False)
        pairs += [(int(u), int(v)) for v in peers[peers != u][:3]]
    for t in range(8):
        group = np.flatnonzero(topic == t)
        pairs += [(int(u), 9000) for u in rng.choice(group, 40, replace=False)]
        pairs += [(int(u), 9001) for u in (group if t == 0 else rng.choice(group, 20, replace=False))]
    nodes = pl.DataFrame({"id": [*members.tolist(), 9000, 9001],
                          "topic": [f"t{t}" for t in topic.tolist()] + ["t1", "t0"]})
    return _follows(pairs), nodes


@pytest.mark.parametrize("seed", range(3))
def test_hub_whose_home_topic_is_over_represented_is_not_mass(seed):
    edges, nodes = _two_hubs_with_topics(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = influence.score(influence.load(edges, nodes=nodes), seed=0)
    broad, star = _row(scores, 9000), _row(scores, 9001)
    assert star["community_concentration"] < 0.5 < 2 <= star["community_lift"]  # the 0.5 rule alone passes it
    assert broad["community_lift"] < 1.2
    assert broad["reach"] >= star["reach"] > np.quantile(scores["reach"].to_numpy(), 0.99)
    assert broad["segment"] == "mass"
    assert star["segment"] != "mass"


def test_top_reach_is_mass_whatever_its_shape_only_with_detected_communities():
    """The top-0.1% exemption exists for label propagation's hub communities: with topics it
    still requires a main community that is not over-represented."""
    from influence.segments import assign_segments, segment_thresholds

    n = 2000
    reach = np.linspace(0.0, 0.5, n)
    reach[-1] = 1.0  # the only account in the top 0.1%
    audience = np.full(n, 10.0)
    concentration = np.full(n, 0.3)
    concentration[-1] = 0.9
    lift = np.full(n, 1.0)
    lift[-1] = 3.0
    ones = np.ones(n)
    common = dict(reach=reach, credibility=ones, audience=audience, audience_authenticity=ones,
                  engagement_authenticity=ones)
    segments = {}
    for from_topic in (False, True):
        t = segment_thresholds(**common, has_interactions=False, repeats_observed=False,
                               config=ScoringConfig(), communities_from_topic=from_topic)
        assert (t.mass_max_lift is None) == (not from_topic)
        segments[from_topic] = assign_segments(**common, pod_score=np.zeros(n), concentration=concentration,
                                               loyal_share=np.zeros(n), thresholds=t, lift=lift)
    assert segments[False][-1] == "mass"
    assert segments[True][-1] != "mass"
    lift[-1] = 1.5  # a topic holding most of all audiences: not over-represented, still mass
    t = segment_thresholds(**common, has_interactions=False, repeats_observed=False, config=ScoringConfig(),
                           communities_from_topic=True)
    assert assign_segments(**common, pod_score=np.zeros(n), concentration=concentration,
                           loyal_share=np.zeros(n), thresholds=t, lift=lift)[-1] == "mass"
    # the 1% band follows the same rule: spread but over-represented is not mass
    assert (segments[True][-19:-1] == "mass").all() and (segments[False][-19:-1] == "mass").all()


def test_micro_needs_pass_on_when_the_graph_has_reshares():
    """Micro needs at least max(2, median resharers of meaningful reshared accounts) distinct
    resharers when reshares exist; without reshare edges the rule is absent."""
    from influence.segments import assign_segments, segment_thresholds

    n = 100
    ones = np.ones(n)
    common = dict(reach=np.linspace(0.0, 0.5, n), credibility=ones, audience=np.full(n, 10.0),
                  audience_authenticity=ones, engagement_authenticity=ones)
    rules = dict(pod_score=np.zeros(n), concentration=np.full(n, 0.9), loyal_share=ones)
    resharers = np.zeros(n)
    resharers[:40] = [1] * 10 + [3] * 20 + [5] * 10  # median of the reshared: 3
    t = segment_thresholds(**common, has_interactions=True, repeats_observed=True, config=ScoringConfig(),
                           resharers=resharers)
    assert t.micro_min_resharers == 3.0
    segment = assign_segments(**common, **rules, thresholds=t, resharers=resharers)
    micro = segment == "micro"
    assert not micro[:10].any() and micro[10:40].all() and not micro[40:].any()
    assert set(segment[:10]) == {"other"}  # failing pass-on alone leaves an account in "other"
    # the floor of 2 when the median is 1
    mostly_one = np.where(resharers > 0, 1.0, 0.0)
    mostly_one[0] = 2.0
    t1 = segment_thresholds(**common, has_interactions=True, repeats_observed=True, config=ScoringConfig(),
                            resharers=mostly_one)
    assert t1.micro_min_resharers == 2.0
    # reshares too sparse: no meaningful account has 2 resharers, so the rule is dropped
    sparse = np.where(resharers > 0, 1.0, 0.0)
    sparse[-1] = 5.0  # an account without a meaningful audience does not count
    t_sparse = segment_thresholds(**{**common, "audience": np.r_[np.full(n - 1, 10.0), 1.0]}, has_interactions=True,
                                  repeats_observed=True, config=ScoringConfig(), resharers=sparse)
    assert t_sparse.micro_min_resharers is None
    # no reshare edge: no pass-on rule, and the segments do not need the column
    t0 = segment_thresholds(**common, has_interactions=True, repeats_observed=True, config=ScoringConfig())
    assert t0.micro_min_resharers is None
    assert (assign_segments(**common, **rules, thresholds=t0)[:-1] == "micro").all()  # the last: top-0.1% reach, mass
    with pytest.raises(ValueError, match="resharers"):
        assign_segments(**common, **rules, thresholds=t)


def test_pass_on_rule_on_a_scored_planted_world():
    """End to end: every micro account of a world with reshares has the resharers its
    thresholds ask for, and the column is the distinct resharers of the reshare layer."""
    from influence.synthetic import WorldConfig, generate_world_frames

    diag = Diagnostics()
    edges, nodes, _ = generate_world_frames(WorldConfig(n_nodes=3000, seed=4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = influence.load(edges, nodes=nodes)
        scores = influence.score(graph, seed=0, diagnostics=diag)
    np.testing.assert_array_equal(scores["resharers"].to_numpy(), graph.reshare.in_degree)
    t = diag.segment_thresholds
    assert t.micro_min_resharers >= 2
    micro = scores.filter(pl.col("segment") == "micro")
    assert micro.height > 0 and (micro["resharers"] >= t.micro_min_resharers).all()


def test_sparse_reshares_drop_the_pass_on_rule_with_a_warning():
    """A graph whose only reshares go to accounts once each: the micro rule cannot ask for two
    resharers; it is dropped, and the run says so (a MissingSignalWarning and the diagnostics)."""
    from influence.errors import MissingSignalWarning
    from influence.synthetic import WorldConfig, generate_world_frames

    edges, nodes, _ = generate_world_frames(WorldConfig(n_nodes=3000, seed=4))
    reshare = pl.col("kind").is_in(["share", "retweet", "quote"])
    first = edges.filter(reshare).unique(subset=["dst"], keep="first", maintain_order=True)
    edges = pl.concat([edges.filter(~reshare), first])
    diag = Diagnostics()
    with pytest.warns(MissingSignalWarning, match="reshared by 2 or more accounts"):
        scores = influence.score(influence.load(edges, nodes=nodes), seed=0, diagnostics=diag)
    assert diag.segment_thresholds.micro_min_resharers is None
    assert any("pass-on evidence" in m for m in diag.unavailable)
    assert (scores["resharers"] <= 1).all() and (scores["segment"] == "micro").sum() > 0


def test_bot_without_audience_is_not_credible():
    """Regression: a bot (no audience, follows 200) inherited the graph's mean authenticity (0.99)."""
    rng = np.random.default_rng(5)
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, 300, (1500, 2)) if a != b}
    bot = 10_000
    pairs |= {(bot, t) for t in range(200)}
    scores = _score(_follows(sorted(pairs)))
    by_id = dict(zip(scores["id"].to_list(), scores["credibility"].to_list()))
    regular = float(np.median([v for k, v in by_id.items() if k != bot]))
    assert by_id[bot] < 0.5 * regular


def test_zero_weight_rows_add_no_audience():
    """Regression: a row of weight 0 raised the followed account's audience and followers."""
    edges = pl.DataFrame({"src": [1, 2, 3], "dst": [9, 9, 8], "weight": [1.0, 0.0, 1.0]})
    with pytest.warns(UserWarning, match="1 row"):
        scores = influence.score(influence.load(edges))
    row = scores.filter(pl.col("id") == 9).row(0, named=True)
    assert row["followers"] == 1 and row["audience"] == 1
    assert 2 in scores["id"].to_list()  # the account is kept, without the edge


def test_only_zero_weight_rows_scores_accounts_without_edges():
    edges = pl.DataFrame({"src": [1, 2], "dst": [2, 3], "weight": [0.0, 0.0]})
    scores = _score(edges)
    assert scores["id"].to_list() == [1, 2, 3]
    assert (scores["reach"] == 0).all() and (scores["followers"] == 0).all()


# ---------------------------------------------------------------------------------------------
# Detected communities (no topic): planted blocks with hubs
# ---------------------------------------------------------------------------------------------


def _blocks_with_hubs(seed, n_blocks=6, size=120, p_in=0.06, p_out=0.002, n_hubs=4, hub_share=0.5):
    """A directed stochastic block model (follows inside a block with ``p_in``, across with
    ``p_out``) plus ``n_hubs`` hubs, each followed by ``hub_share`` of all accounts."""
    rng = np.random.default_rng(seed)
    n = n_blocks * size
    block = np.repeat(np.arange(n_blocks), size)
    src, dst = np.nonzero(rng.random((n, n)) < np.where(block[:, None] == block[None, :], p_in, p_out))
    keep = src != dst
    fans = [np.flatnonzero(rng.random(n) < hub_share) for _ in range(n_hubs)]
    src = np.concatenate([src[keep], *fans])
    dst = np.concatenate([dst[keep], *[np.full(f.size, n + h) for h, f in enumerate(fans)]])
    return pl.DataFrame({"src": src.astype(np.int64), "dst": dst.astype(np.int64)}), block


def _detected(edges, seed):
    from influence.scores.community import detect_communities

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = influence.load(edges)
    labels, _, from_topic, _, converged, _ = detect_communities(graph, ScoringConfig(seed=seed))
    assert not from_topic and converged
    return dict(zip(graph.ids.to_list(), labels.tolist()))


@pytest.mark.parametrize("seed", range(3))
def test_detected_communities_recover_blocks_despite_hubs(seed):
    """Regression (issue 3): label propagation let hubs followed by half the graph pull every
    block into one community (1-2 communities for 6 blocks); Louvain keeps the blocks apart."""
    edges, block = _blocks_with_hubs(seed)
    community = _detected(edges, seed)
    got = np.array([community[v] for v in range(block.size)])
    for b in range(block.max() + 1):
        assert len(set(got[block == b].tolist())) == 1, f"block {b} split"
    assert len(set(got.tolist())) == block.max() + 1  # one community per block
    # relabelling the accounts gives the same partition
    mapping = np.random.default_rng(seed).permutation(int(edges["dst"].max()) + 1) * 7 + 3
    relabelled = edges.with_columns(pl.col("src").map_elements(lambda v: int(mapping[v]), return_dtype=pl.Int64),
                                    pl.col("dst").map_elements(lambda v: int(mapping[v]), return_dtype=pl.Int64))
    again = _detected(relabelled, seed)
    pairs = {(community[v], again[int(mapping[v])]) for v in community}
    assert len(pairs) == len(set(community.values())) == len(set(again.values()))


def _interactions_only(seed: int, n: int = 40, rows: int = 200) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({"src": rng.integers(0, n, rows), "dst": rng.integers(0, n, rows),
                         "kind": rng.choice(["like", "comment", "share"], rows)})


def _ids(edges: pl.DataFrame) -> list:
    return sorted(set(edges["src"].to_list()) | set(edges["dst"].to_list()))


@pytest.mark.parametrize("seed", [4, 5])
def test_a_followers_column_of_nulls_reports_no_follower_count(seed):
    """Without follow edges engagement is measured per engager unless the node table reports
    follower counts; a column of nulls reports none (it turned the rate into event volume)."""
    edges = _interactions_only(seed)
    nulls = pl.DataFrame({"id": _ids(edges), "followers": pl.Series([None] * len(_ids(edges)), dtype=pl.Int64)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = influence.score(influence.load(edges), seed=0)
        with_nulls = influence.score(influence.load(edges, nodes=nulls), seed=0)
    assert_frame_equal(with_nulls.select(plain.columns), plain, check_exact=True)
    # one reported count is a report: the rate is then per follower
    reported = nulls.with_columns(pl.when(pl.col("id") == nulls["id"][0]).then(5).otherwise(None).alias("followers"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_follower = influence.score(influence.load(edges, nodes=reported), seed=0)
    assert not per_follower["engagement_rate"].equals(plain["engagement_rate"])


def test_topic_filter_uses_community_names_when_every_topic_is_null():
    edges = _interactions_only(1).vstack(
        _interactions_only(2).with_columns(pl.lit("follow").alias("kind")))
    nodes = pl.DataFrame({"id": _ids(edges), "topic": pl.Series([None] * len(_ids(edges)), dtype=pl.String)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = influence.load(edges, nodes=nodes)
        scores = influence.score(graph, seed=0)
    community = scores["community"][0]
    members = set(scores.filter(pl.col("community") == community)["id"].to_list())
    listed = influence.shortlist(scores, "all", None, topic=community)
    assert set(listed["id"].to_list()) == members
    plan = influence.plan(graph, 1e9, topic=community, scores=scores)
    assert set(plan["id"].to_list()) <= members
    with pytest.raises(influence.ConfigError, match=r"unknown topic 'nope'; the graph's community values include c:"):
        influence.shortlist(scores, "all", 5, topic="nope")
    with pytest.raises(influence.ConfigError, match=r"unknown topic 'nope'; the graph's community values include c:"):
        influence.plan(graph, 1e9, topic="nope", scores=scores)


def test_an_account_known_only_by_its_reported_followers_is_not_mass():
    """Breadth is measured on the audience in the graph: a node-table row with a huge follower
    count and no edge is not mass (it was, with credibility 0, on empty concentration and lift)."""
    sample = Path(__file__).resolve().parents[1] / "datasets" / "sample"
    nodes = pl.read_parquet(sample / "nodes.parquet")
    lonely = pl.DataFrame({"id": [999_999], "followers": [50_000], "topic": [nodes["topic"][0]]})
    nodes = pl.concat([nodes, lonely.cast({c: nodes.schema[c] for c in lonely.columns})], how="diagonal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = influence.score(influence.load(sample / "edges.parquet", nodes=nodes), seed=0)
    row = scores.filter(pl.col("id") == 999_999).row(0, named=True)
    assert row["reach"] >= scores["reach"].quantile(0.999)  # the reach rules alone would make it mass
    assert row["community_concentration"] == 0.0
    assert row["segment"] != "mass"
    rules = influence.explain(influence.load(sample / "edges.parquet", nodes=nodes), 999_999)["rules"]
    assert [r["passed"] for r in rules if r["rule"].startswith("an audience seen in the graph")] == [False]

    # liked by 300 accounts, followed by none: an audience in the graph (concentration, measured
    # on follows, is still 0), so the reach rules decide as before
    edges = pl.read_parquet(sample / "edges.parquet")
    fans = np.random.default_rng(1).choice(nodes["id"].head(nodes.height - 1).to_numpy(), 300, replace=False)
    likes = pl.DataFrame({"src": fans, "dst": [999_999] * 300, "kind": ["like"] * 300, "weight": [1.0] * 300})
    edges = pl.concat([edges, likes.cast({c: edges.schema[c] for c in likes.columns})], how="diagonal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        liked = influence.score(influence.load(edges, nodes=nodes), seed=0).filter(pl.col("id") == 999_999)
    assert liked["community_concentration"][0] == 0.0 and liked["segment"][0] == "mass"
