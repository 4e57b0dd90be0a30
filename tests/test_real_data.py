"""End to end `influence rank` on the real graphs in ../shared/datasets/real/ (see its README).

Each graph runs once through the CLI (CliRunner, default table output). The score frame the
command computed is captured on the way (a pass-through wrapper around ``influence.cli.score``)
so that every account's scores are checked without scoring the graph twice. The whole module
takes about 40 s; the two largest inputs have about 1M rows each.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import influence.cli
from influence.cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL = REPO_ROOT.parent / "shared" / "datasets" / "real"

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"real datasets not found at {REAL}")

#: (path under REAL, expected number of accounts)
DATASETS = [
    ("bitcoin_otc/edges.parquet", 5_881),
    ("bitcoin_alpha/edges.parquet", 3_783),
    ("email_eu_core", 1_005),  # a directory: edges.parquet + nodes.parquet (id, department)
    ("wiki_vote/edges.parquet", 7_115),
    ("slashdot_zoo_0902/edges.parquet", 82_168),
    ("higgs_twitter/edges.parquet", 304_691),
    ("higgs_twitter/edges_weighted.parquet", 304_691),
    ("twitter15_16_cascades/edges.parquet", 677_640),
]

SCORE_COLUMNS = ("reach", "credibility", "peer_influence", "score")


@pytest.mark.parametrize("relpath, n_accounts", DATASETS,
                         ids=[d[0].removesuffix(".parquet").replace("/", ":") for d in DATASETS])
def test_rank_real_graph(relpath, n_accounts, monkeypatch):
    path = REAL / relpath
    if not path.exists():
        pytest.skip(f"{path} is absent")
    captured = []
    real_score = influence.cli.score

    def spy(*args, **kwargs):
        frame = real_score(*args, **kwargs)
        captured.append(frame)
        return frame

    monkeypatch.setattr(influence.cli, "score", spy)
    result = CliRunner().invoke(main, ["rank", str(path)], catch_exceptions=True)
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), f"uncaught {type(exc).__name__}: {exc}\n{result.stderr}"
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("mass influencers") for line in lines), result.stdout[:500]
    assert any(line.startswith("micro influencers") for line in lines), result.stdout[:500]
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert all(line.startswith(("Warning:", "influence:")) for line in result.stderr.splitlines() if line.strip())

    assert len(captured) == 1, "the CLI should score the graph exactly once"
    scores = captured[0]
    assert scores.height == n_accounts
    assert scores["id"].n_unique() == n_accounts
    for col in SCORE_COLUMNS:
        values = scores[col]
        assert values.null_count() == 0, col
        assert not values.is_nan().any(), col
        assert values.min() >= 0.0 and values.max() <= 1.0, (col, values.min(), values.max())
    assert set(scores["segment"].unique()) <= {"mass", "micro", "suspicious", "other"}
    assert scores.filter(pl.col("followers") < 0).height == 0


def _nmi(a, b) -> float:
    """Normalised mutual information (arithmetic mean of the entropies)."""
    import numpy as np

    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    p = joint / joint.sum()
    pa, pb = p.sum(1), p.sum(0)
    nz = p > 0
    mi = float((p[nz] * np.log(p[nz] / np.outer(pa, pb)[nz])).sum())

    def entropy(q):
        return float(-(q[q > 0] * np.log(q[q > 0])).sum())

    return 2.0 * mi / (entropy(pa) + entropy(pb))


def test_detected_communities_follow_email_eu_core_departments():
    """The e-mail graph's 42 departments are community ground truth. Label propagation put 986 of
    the 1,005 accounts in one community (NMI 0.03); Louvain finds the departments' structure
    (NMI 0.56-0.60 over seeds 0-2, in line with published Louvain results on this graph)."""
    import warnings

    import influence
    from influence.config import ScoringConfig
    from influence.scores.community import detect_communities

    folder = REAL / "email_eu_core"
    if not folder.exists():
        pytest.skip(f"{folder} is absent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = influence.load(pl.read_parquet(folder / "edges.parquet"))  # edges only: no topic
    departments = pl.read_parquet(folder / "nodes.parquet")
    truth = pl.DataFrame({"id": graph.ids}).join(departments, on="id", how="left")["department"].to_numpy()
    labels = detect_communities(graph, ScoringConfig(seed=0))[0]
    assert max(labels.tolist().count(c) for c in set(labels.tolist())) < 0.5 * graph.n_nodes
    assert _nmi(truth, labels) > 0.5


def test_higgs_micro_accounts_are_retweeted_later():
    """Temporal hold-out on Higgs (docs/validation.md): scored on the events before 4 July 2012,
    the micro segment's accounts must be retweeted afterwards more often than the other accounts
    of the same meaningful audience. With the pass-on rule 81% of the 186 micro accounts are
    (without it 62% of 488, against 70% of the other accounts with an audience of at least 3)."""
    import warnings

    import numpy as np

    import influence

    path = REAL / "higgs_twitter" / "edges.parquet"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    cutoff = 1341360000  # 2012-07-04 00:00 UTC
    edges = pl.read_parquet(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = influence.score(influence.load(edges.filter(pl.col("ts") < cutoff)), seed=0)
    later = (edges.filter((pl.col("ts") >= cutoff) & (pl.col("kind") == "retweet"))
             .group_by("dst").agg(pl.len().alias("later")).rename({"dst": "id"}))
    scores = scores.join(later, on="id", how="left").with_columns(pl.col("later").fill_null(0))
    retweeted = (scores["later"] > 0).to_numpy()
    micro = (scores["segment"] == "micro").to_numpy()
    others = (scores["segment"] == "other").to_numpy() & (scores["audience"].to_numpy() >= 3)
    assert micro.sum() >= 100
    assert retweeted[micro].mean() >= 0.75
    assert retweeted[micro].mean() > retweeted[others].mean() + 0.05
    assert np.median(scores["later"].to_numpy()[micro]) > np.median(scores["later"].to_numpy()[others])
