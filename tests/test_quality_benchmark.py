"""The quality benchmark (``benchmarks/quality.py``) measures what docs/benchmarks.md reports.

Its numbers are the evidence behind the scoring issue's targets, so the metrics themselves are
checked on crafted lists (a mistake here would misreport every table), and one small world runs
end to end: every method gets a row, the influence row's P@20 is the share of planted micros
among the first 20 rows of the same shortlist that ``influence rank`` prints by default.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import influence
from influence.synthetic import WorldConfig, generate_world_frames

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def quality():
    spec = importlib.util.spec_from_file_location("quality_benchmark", BENCHMARKS / "quality.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_precision_recall_and_leaks_on_a_crafted_list(quality):
    roles = ["micro"] * 18 + ["regular", "pod"] + ["micro"] * 5 + ["fake"]
    frame = pl.DataFrame({"role": roles})
    assert quality._precision(frame, "micro") == pytest.approx(23 / 26)
    assert quality._precision(frame.head(quality.DEFAULT_TOP), "micro") == pytest.approx(18 / 20)
    assert quality._precision(frame.head(0), "micro") == 0.0
    # recall is over min(50, planted): 23 found of 200 planted -> 23/50; of 30 planted -> 23/30
    assert quality._recall(frame, 200) == pytest.approx(23 / 50)
    assert quality._recall(frame, 30) == pytest.approx(23 / 30)
    assert quality._recall(frame, 0) == 0.0
    assert quality._leaks(frame) == {"fake": 1, "bot": 0, "pod": 1}


def test_one_world_end_to_end(quality):
    rows = quality.evaluate(2_000, "default", 1)
    methods = [row["method"] for row in rows]
    assert methods == ["influence", "follower count", "PageRank (follows)", "engagement rate", "distinct engagers"]
    for row in rows:
        for key in ("mass_p", "micro_p", "micro_p20", "micro_r"):
            assert 0.0 <= row[key] <= 1.0, (row["method"], key, row[key])

    # the influence row's P@20 is the head of the shortlist the CLI prints
    edges, nodes, truth = generate_world_frames(WorldConfig(n_nodes=2_000, seed=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = influence.load(edges, nodes=nodes)
        scored = influence.score(graph, seed=1)
    scored = scored.join(truth.select("id", "role"), on="id", how="left")
    head = influence.shortlist(scored, "micro", 20)
    assert head.height > 0
    assert rows[0]["micro_p20"] == pytest.approx(float((head["role"] == "micro").mean()))
    # and a baseline's P@20 is the head of its own 50-row list (here it differs from P@50)
    rate = graph.events.in_strength / np.maximum(scored["followers"].to_numpy().astype(float), 1.0)
    k = int((truth["role"] == "mass").sum())
    _, rate_micro = quality.baseline_lists(scored, graph, rate, k)
    assert rate_micro.height == quality.MICRO_TOP
    by_rate = rows[methods.index("engagement rate")]
    assert by_rate["micro_p20"] == pytest.approx(float((rate_micro.head(20)["role"] == "micro").mean()))
    assert by_rate["micro_p"] == pytest.approx(float((rate_micro["role"] == "micro").mean()))
    assert by_rate["micro_p20"] != pytest.approx(by_rate["micro_p"])

    table = quality.summarise(rows)
    header = table.splitlines()[0]
    assert "micro P@20" in header and "micro P@50" in header
    assert len(table.splitlines()) == 2 + len(rows)
    assert all(line.count("|") == header.count("|") for line in table.splitlines())
