"""influence overlap / explain: exact figures on small graphs, sketches within their error."""

import json

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

import influence
from influence.cli import main
from influence.explain import explain
from influence.overlap import overlap


def _graph():
    # audiences: 10 <- {1, 2, 3, 4}; 20 <- {3, 4, 5}; 30 <- {6}
    edges = pl.DataFrame({"src": [1, 2, 3, 4, 3, 4, 5, 6], "dst": [10, 10, 10, 10, 20, 20, 20, 30]})
    return edges, influence.load(edges)


def test_overlap_exact_matches_sets():
    _, graph = _graph()
    result = overlap(graph, ["10", 20, 30])
    assert result.accounts["audience"].to_list() == [4, 3, 1]
    pairs = {(r["id_a"], r["id_b"]): r for r in result.pairs.iter_rows(named=True)}
    assert pairs[(10, 20)]["shared"] == 2 and pairs[(10, 20)]["jaccard"] == pytest.approx(2 / 5)
    assert pairs[(10, 20)]["share_of_smaller"] == pytest.approx(2 / 3)
    assert pairs[(10, 30)]["shared"] == 0 and pairs[(20, 30)]["jaccard"] == 0
    assert result.unique_audience == 6 and result.unique_audience_exact
    assert result.pairs["exact"].all()


def test_overlap_random_lists_match_python_sets():
    rng = np.random.default_rng(4)
    src, dst = rng.integers(0, 400, 5000), rng.integers(400, 420, 5000)
    graph = influence.load(pl.DataFrame({"src": src, "dst": dst}))
    ids = list(range(400, 410))
    result = overlap(graph, ids)
    audience = {d: set(src[dst == d].tolist()) for d in ids}
    for row in result.pairs.iter_rows(named=True):
        a, b = audience[row["id_a"]], audience[row["id_b"]]
        assert row["shared"] == len(a & b)
        assert row["jaccard"] == pytest.approx(len(a & b) / len(a | b))
    assert result.unique_audience == len(set().union(*audience.values()))


def test_overlap_sketches_stay_within_documented_error():
    """Two audiences of 30,000 sharing 10,000, and a third of 20,000: KMV with k = 1024."""
    a = np.arange(0, 30_000)
    b = np.arange(20_000, 50_000)
    c = np.arange(60_000, 80_000)
    src = np.concatenate([a, b, c])
    dst = np.concatenate([np.full(a.size, -1), np.full(b.size, -2), np.full(c.size, -3)])
    graph = influence.load(pl.DataFrame({"src": src, "dst": dst}))
    exact = overlap(graph, [-1, -2, -3])
    rel_errors, jac_errors = [], []
    for seed in range(8):
        est = overlap(graph, [-1, -2, -3], pair_exact_limit=0, exact_limit=0, seed=seed)
        assert not est.pairs["exact"].any() and not est.unique_audience_exact
        rel_errors.append(est.unique_audience / exact.unique_audience - 1)
        jac_errors.append(est.pairs["jaccard"][0] - exact.pairs["jaccard"][0])
    assert exact.unique_audience == 70_000 and exact.pairs["jaccard"][0] == pytest.approx(0.2)
    rse = 1 / np.sqrt(1024 - 2)
    assert np.sqrt(np.mean(np.square(rel_errors))) < 2 * rse
    assert np.sqrt(np.mean(np.square(jac_errors))) < 2 * np.sqrt(0.2 * 0.8 / 1024)


def test_overlap_rejects_unknown_and_repeated_ids():
    _, graph = _graph()
    with pytest.raises(influence.ConfigError, match="'99' is not in the graph"):
        overlap(graph, ["10", "99"])
    with pytest.raises(influence.ConfigError, match="listed twice"):
        overlap(graph, [10, "10"])
    with pytest.raises(influence.ConfigError, match="not an integer"):
        overlap(graph, ["abc"])
    with pytest.raises(influence.ConfigError, match="at least two account ids, got 1"):
        overlap(graph, [10])


def test_overlap_cli_exact_table(tmp_path):
    edges, _ = _graph()
    path = tmp_path / "g.parquet"
    edges.write_parquet(path)
    result = CliRunner().invoke(main, ["overlap", str(path), "10", "20", "-q"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "audiences\n"
        "id  name  audience\n"
        "--  ----  --------\n"
        "10  -            4\n"
        "20  -            3\n"
        "\n"
        "pairwise overlap\n"
        "id_a  id_b  audience_a  audience_b  shared  jaccard  share_of_smaller  exact\n"
        "----  ----  ----------  ----------  ------  -------  ----------------  -----\n"
        "  10    20           4           3   2.000    0.400             0.667  True\n"
        "\n"
        "unique audience of the 2 accounts: 5 (exact)\n"
    )
    as_json = CliRunner().invoke(main, ["overlap", str(path), "10", "20", "--format", "json", "-q"])
    assert json.loads(as_json.stdout)["unique_audience"] == 5
    missing = CliRunner().invoke(main, ["overlap", str(path), "10", "77"])
    assert missing.exit_code == 1 and missing.stderr.strip() == "Error: account id '77' is not in the graph"


def test_explain_components_and_rules_match_the_score_table():
    edges, graph = _graph()
    explained = explain(graph, "10")
    scores = influence.score(graph)
    row = scores.filter(pl.col("id") == 10).row(0, named=True)
    assert explained["segment"] == row["segment"]
    for name in ("reach", "credibility", "peer_influence", "score"):
        assert explained["scores"][name]["value"] == row[name]
        assert explained["scores"][name]["percentile"] == pytest.approx(float((scores[name] < row[name]).mean()))
    assert explained["components"]["reach"]["audience"]["value"] == 4
    rules = {r["rule"]: r for r in explained["rules"]}
    assert any(r["segment"] == "mass" for r in explained["rules"])
    assert all(isinstance(r["passed"], bool) for r in rules.values())
    assert explained["summary"].splitlines()[0].startswith("10 is ")
    json.dumps(explained)  # JSON-ready


def test_explain_cli(tmp_path):
    edges, _ = _graph()
    path = tmp_path / "g.parquet"
    edges.write_parquet(path)
    table = CliRunner().invoke(main, ["explain", str(path), "20", "-q"])
    assert table.exit_code == 0, table.stderr
    assert table.stdout.startswith("20 is ")
    assert "reach:\n  audience                 3" in table.stdout
    as_json = CliRunner().invoke(main, ["explain", str(path), "20", "--format", "json", "-q"])
    assert json.loads(as_json.stdout)["components"]["reach"]["audience"]["value"] == 3
    bad = CliRunner().invoke(main, ["explain", str(path), "x"])
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: account id 'x' is not an integer")


@pytest.mark.parametrize("command", ["overlap", "explain", "generate", "rank"])
def test_help(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.stdout


def test_explain_reports_the_spread_interval_and_the_credibility_model():
    """On a graph where posts travel beyond the first hop: the interval holds the estimate and the
    recursion (an upper bound) is not below it; a rating graph says credibility is distrust first."""
    rng = np.random.default_rng(4)
    src, dst = rng.integers(0, 300, 3000), rng.integers(0, 300, 3000)
    keep = src != dst
    edges = pl.DataFrame({"src": src[keep], "dst": dst[keep]})
    graph = influence.load(edges)
    hub = int(graph.ids[int(np.argmax(graph.attention.in_degree))])
    explained = explain(graph, hub)
    sampling = explained["spread_sampling"]
    spread = explained["components"]["reach"]["expected_spread"]["value"]
    audience = explained["components"]["reach"]["audience"]["value"]
    assert sampling["rr_sets"] > 0 and sampling["rr_sets"] % graph.n_nodes == 0  # whole rounds
    assert audience < sampling["low"] <= spread <= sampling["high"]
    assert spread <= explained["components"]["reach"]["expected_exposures"]["value"] + 1e-9
    assert sampling["probability"] == pytest.approx(0.99)
    assert "reverse-reachable sets" in explained["summary"]
    assert explained["credibility_model"] == {"rating_graph": False}
    ratings = edges.with_columns(pl.when(pl.col("src") % 7 == 0).then(pl.lit("distrust")).otherwise(pl.lit("trust"))
                                 .alias("kind"))
    rated = explain(influence.load(ratings), hub)
    model = rated["credibility_model"]
    assert model["rating_graph"] and 0.0 < model["distrust_step"] < 1.0
    distrust = rated["components"]["credibility"]["distrust_share"]["value"]
    want = (1.0 - distrust) - model["distrust_step"] * (1.0 - model["authenticity"])
    assert rated["scores"]["credibility"]["value"] == pytest.approx(min(1.0, max(0.0, want)), rel=1e-12)
    assert "rating graph: credibility" in rated["summary"]
    json.dumps(rated)


def test_explain_shows_the_lift_rule_only_with_topics():
    """With topics the mass rules include the over-representation of the main audience topic;
    a hub followed mostly from its own topic fails it, one followed by a cross-section passes."""
    members = list(range(40))
    topic = [f"t{u // 10}" for u in members]
    pairs = [(u, (u + 1) % 10 + 10 * (u // 10)) for u in members]  # a ring inside each topic
    pairs += [(u, 100) for u in members]  # hub 100: every member
    pairs += [(u, 101) for u in members if u < 10 or u % 10 == 0]  # hub 101: topic t0 and one per topic
    edges = pl.DataFrame({"src": [s for s, _ in pairs], "dst": [d for _, d in pairs]})
    nodes = pl.DataFrame({"id": members + [100, 101], "topic": topic + ["t1", "t0"]})
    graph = influence.load(edges, nodes=nodes)
    lift_rule = "main audience community over-represented (vs its share of all audiences) less than"
    rules = {hub: {r["rule"]: r for r in explain(graph, hub)["rules"]} for hub in (100, 101)}
    assert rules[100][lift_rule]["passed"] and rules[100][lift_rule]["value"] < 1.0
    assert not rules[101][lift_rule]["passed"] and rules[101][lift_rule]["threshold"] == 2.0
    without_topics = {r["rule"] for r in explain(influence.load(edges), 100)["rules"]}
    assert lift_rule not in without_topics
    assert "reach in the top 0.1% (mass whatever its audience's shape)" in without_topics


def test_sketched_overlap_stays_within_the_exact_bounds():
    """B's audience (20,000) inside A's (30,000), estimated from sketches over 20 seeds: the
    estimates never claim more shared than B has, nor a union smaller than A alone."""
    src_a, src_b = np.arange(10, 30_010), np.arange(10, 20_010)
    edges = pl.DataFrame({"src": np.concatenate([src_a, src_b]),
                          "dst": np.concatenate([np.zeros(src_a.size, np.int64), np.ones(src_b.size, np.int64)])})
    graph = influence.load(edges)
    for seed in range(20):
        result = influence.overlap(graph, [0, 1], pair_exact_limit=0, exact_limit=0, seed=seed)
        pair = result.pairs.row(0, named=True)
        assert not pair["exact"] and not result.unique_audience_exact
        assert pair["shared"] <= 20_000 and pair["share_of_smaller"] <= 1.0
        assert 30_000 <= result.unique_audience <= 50_000


def test_overlap_table_prints_ids_as_given(tmp_path):
    """Ids are names, not quantities: the table prints 100001 (not 100,001), which the command
    accepts back."""
    path = tmp_path / "edges.parquet"
    pl.DataFrame({"src": [1, 2, 3, 4], "dst": [100_001, 100_001, 100_002, 100_002]}).write_parquet(path)
    result = CliRunner().invoke(main, ["overlap", str(path), "100001", "100002", "-q"])
    assert result.exit_code == 0, result.stderr
    pair = [line.split()[:2] for line in result.stdout.splitlines() if line.split()[:2] == ["100001", "100002"]]
    assert pair and "100,001" not in result.stdout
    again = CliRunner().invoke(main, ["overlap", str(path), *pair[0], "-q"])
    assert again.exit_code == 0, again.stderr
