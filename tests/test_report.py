"""`influence report` and :mod:`influence.report`: the page's content, that it is self-contained,
deterministic apart from the timings block, equal to `rank` in its shortlists, and the CLI's
errors. The page in a real browser: tests/test_report_browser.py.
"""

from __future__ import annotations

import dataclasses
import io
import re
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

import influence
from influence.cli import main
from influence.engine import Diagnostics
from influence.errors import ConfigError, InfluenceError
from influence.report import build_report, sample_points, segment_summary
from influence.synthetic import WorldConfig, generate_world

from graphs import sample_edges  # noqa: E402  (tests/graphs.py)

pytest.importorskip("matplotlib", reason="the report extra (matplotlib) is not installed")

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "datasets" / "sample"
HIGGS = REPO_ROOT.parent / "shared" / "datasets" / "real" / "higgs_twitter"


# --------------------------------------------------------------------------------------------
# helpers


class Page(HTMLParser):
    """What a page holds: element ids, table rows (cell texts) by table id, tags by name,
    attributes that point somewhere, and whether every opened element was closed."""

    VOID = {"meta", "br", "img", "hr", "input", "link", "path", "use", "rect", "circle", "line",
            "polyline", "polygon", "stop", "ellipse", "image"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.ids: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.tags: dict[str, int] = {}
        self.links: list[str] = []
        self.stack: list[str] = []
        self.table: str | None = None
        self.cell: list[str] | None = None
        self.row: list[str] | None = None
        self.in_tbody = False
        self.use_in: dict[str, int] = {}
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if "id" in attrs:
            assert attrs["id"] not in self.ids, f"duplicate id {attrs['id']!r}"
            self.ids[attrs["id"]] = tag
        for key in ("src", "href", "xlink:href", "action", "data"):
            if key in attrs:
                self.links.append(attrs[key])
        if tag == "use":
            for name in self.stack_ids():
                self.use_in[name] = self.use_in.get(name, 0) + 1
        if tag == "table":
            self.table = attrs.get("id")
            self.tables[self.table] = []
        elif tag == "tbody":
            self.in_tbody = True
        elif tag == "tr" and self.in_tbody:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        if tag not in self.VOID:
            self.stack.append((tag, attrs.get("id")))

    def stack_ids(self):
        return [i for _, i in self.stack if i]

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1][0] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        if tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.table].append(self.row)
            self.row = None
        elif tag == "tbody":
            self.in_tbody = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), f"uncaught {type(exc).__name__}: {exc}\n{result.stderr}"
    return result


def report_of(path, **kwargs):
    graph = influence.load(path)
    diag = Diagnostics()
    scores = influence.score(graph, diagnostics=diag, seed=kwargs.get("seed", 0))
    return graph, scores, diag, build_report(graph, scores, diag, **kwargs)


def without_timings(text: str) -> str:
    return re.sub(r"<!-- timings:start -->.*?<!-- timings:end -->", "", text, flags=re.S)


@pytest.fixture(scope="module")
def sample_page():
    return report_of(SAMPLE, parameters={"input": str(SAMPLE)})


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("planted")
    generate_world(WorldConfig(n_nodes=4000, seed=3), out)
    return out


# --------------------------------------------------------------------------------------------
# the down-sampling of the map


def test_sample_points_keeps_every_shortlisted_account_and_respects_the_budget():
    rng = np.random.default_rng(0)
    segment = rng.choice(np.array(["mass", "micro", "suspicious", "other"], dtype=object), 50_000,
                         p=[0.002, 0.05, 0.01, 0.938])
    keep = np.zeros(segment.size, bool)
    keep[rng.choice(segment.size, 40, replace=False)] = True
    drawn = sample_points(segment, keep, 1000, seed=5)
    assert np.all(np.diff(drawn) > 0), "ascending, no repeats"
    assert set(np.flatnonzero(keep)) <= set(drawn.tolist())
    others = drawn[~keep[drawn]]
    assert others.size == 1000
    counts = {s: int(np.count_nonzero(segment[others] == s)) for s in ("mass", "micro", "suspicious", "other")}
    # every segment is visible: the rarest (about 100 accounts) gets at least its floor or all it has
    assert counts["mass"] == min(int(np.count_nonzero((segment == "mass") & ~keep)), 1000 // 8)
    assert counts["suspicious"] >= 1000 // 8
    assert counts["other"] > counts["micro"] > counts["suspicious"]


def test_sample_points_is_seeded_and_draws_everything_when_small():
    segment = np.array(["other"] * 5000 + ["micro"] * 500, dtype=object)
    keep = np.zeros(segment.size, bool)
    a = sample_points(segment, keep, 800, seed=1)
    assert np.array_equal(a, sample_points(segment, keep, 800, seed=1))
    assert not np.array_equal(a, sample_points(segment, keep, 800, seed=2))
    assert np.array_equal(sample_points(segment, keep, 5500, seed=1), np.arange(5500))
    assert sample_points(segment, keep, 0, seed=1).size == 0
    with pytest.raises(ConfigError, match="max_points"):
        sample_points(segment, keep, -1, seed=1)


# --------------------------------------------------------------------------------------------
# the page


def test_page_has_the_map_both_shortlists_segments_input_and_timings(sample_page):
    graph, scores, diag, text = sample_page
    page = Page(text)
    for section in ("map", "shortlists", "segments", "input", "parameters", "timings"):
        assert page.ids.get(section) == "section", section
    assert page.ids["map-svg"] == "svg" and page.ids["dist-svg"] == "svg"
    # the sample has 3000 accounts, under the default budget: every account is a point on the map
    drawn = sum(page.use_in.get(f"points-{s}", 0) for s in ("mass", "micro", "suspicious", "other"))
    shortlisted = page.use_in.get("shortlist-mass", 0) + page.use_in.get("shortlist-micro", 0)
    assert drawn + shortlisted == graph.n_nodes
    assert page.use_in.get("points-suspicious", 0) == int((scores["segment"] == "suspicious").sum())
    for seg, prefix in (("mass", "M"), ("micro", "m")):
        expected = influence.shortlist(scores, seg, 20)
        rows = page.tables[f"{seg}-shortlist"]
        assert [r[0] for r in rows] == [str(i) for i in range(1, expected.height + 1)]
        assert [r[1] for r in rows] == [f"{prefix}{i}" for i in range(1, expected.height + 1)]
        assert [r[3] for r in rows] == [str(i) for i in expected["id"]], "same accounts, same order as rank"
        assert page.use_in[f"shortlist-{seg}"] == expected.height
        # column 11 is the expected spread that reach is made of (not the exposures recursion)
        assert [float(r[11].replace(",", "")) for r in rows] == pytest.approx(
            expected["expected_spread"].to_list(), rel=1e-2, abs=0.01)
        for tag, account, score in ((r[1], r[2], r[9]) for r in rows):
            assert f'id="tag-{tag}"' in text, f"{tag} is labelled on the map"
            assert f"<title>{tag} {account}: score {score}</title>" in text, "its name shows on hover"
    summary = page.tables["segment-summary"]
    assert [r[0] for r in summary] == ["mass", "micro", "suspicious", "other"]
    assert sum(int(r[1].replace(",", "")) for r in summary) == graph.n_nodes
    inputs = dict(page.tables["input-summary"])
    assert inputs["accounts"] == "3,000"
    assert inputs["edge rows read"] == f"{graph.report.n_rows:,}"
    assert "follow 40,228" in inputs["rows by kind"]
    timings = dict(page.tables["timings-table"])
    assert {"reach", "credibility", "report map", "report page"} <= set(timings)


def test_page_is_self_contained(sample_page):
    text = sample_page[3]
    page = Page(text)
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert all(link.startswith("#") for link in page.links), [l for l in page.links if not l.startswith("#")][:5]
    assert "@import" not in text
    assert set(re.findall(r"url\((.)", text)) <= {"#"}, "url() only refers to the page itself (clip paths)"
    # the only URLs are XML namespace names, which a browser never fetches
    urls = set(re.findall(r"https?://[^\s\"'<>]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink",
                    "http://purl.org/dc/elements/1.1/", "http://creativecommons.org/ns#",
                    "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}, urls
    # every inline <svg> tag has its attributes separated (a missing space is a parse error)
    tags = re.findall(r"<svg\b[^>]*>", text)
    assert tags and not [t for t in tags if re.search(r'="[^"]*"[^\s>/]', t)], tags[:2]


def test_same_input_same_page_apart_from_timings(sample_page):
    graph, scores, diag, text = sample_page
    again = build_report(graph, scores, dataclasses.replace(diag, timings=dict(diag.timings)),
                         parameters={"input": str(SAMPLE)})
    assert without_timings(again) == without_timings(text)
    assert text.count("<!-- timings:start -->") == 1
    a = build_report(graph, scores, diag, parameters={"input": str(SAMPLE)}, timings=False)
    assert "timings" not in Page(a).ids and "timings:start" not in a
    assert a.replace("\n", "") == without_timings(text).replace("\n", "")


def test_no_timings_pages_are_byte_identical_across_runs():
    first = report_of(SAMPLE, timings=False, max_points=500, seed=4)[3]
    second = report_of(SAMPLE, timings=False, max_points=500, seed=4)[3]
    assert first.encode() == second.encode()
    other_seed = report_of(SAMPLE, timings=False, max_points=500, seed=5)[3]
    assert other_seed != first


def test_large_graph_is_down_sampled_but_every_shortlisted_account_is_drawn(sample_page):
    graph, scores, diag, _ = sample_page
    text = build_report(graph, scores, Diagnostics(), max_points=300, seed=2, top=15)
    page = Page(text)
    drawn = sum(page.use_in.get(f"points-{s}", 0) for s in ("mass", "micro", "suspicious", "other"))
    assert drawn == 300
    for seg in ("mass", "micro"):
        assert page.use_in[f"shortlist-{seg}"] == influence.shortlist(scores, seg, 15).height
    assert "300 of 3,000 accounts drawn" not in text  # shortlisted ones are on top of the 300
    assert re.search(r"3\d\d of 3,000 accounts drawn", text)


def test_names_are_escaped_everywhere(tmp_path):
    e = sample_edges()
    ids = sorted(set(e["src"]) | set(e["dst"]))
    pl.DataFrame({"id": ids, "name": [f'<script>alert("{i}")</script> & co' for i in ids]}).write_parquet(
        tmp_path / "nodes.parquet")
    e.write_parquet(tmp_path / "edges.parquet")
    text = report_of(tmp_path)[3]
    assert "<script>" not in text
    assert "&lt;script&gt;alert(&quot;" in text
    Page(text)  # still well nested


def test_signals_the_input_lacks_are_stated(tmp_path):
    follows = sample_edges().filter(pl.col("kind") == "follow").drop("kind")
    follows.write_parquet(tmp_path / "follows.parquet")
    with pytest.warns(UserWarning, match="no interaction edges"):
        text = report_of(tmp_path / "follows.parquet")[3]
    page = Page(text)
    assert page.ids.get("unavailable") == "div"
    assert "no interaction edges: credibility from audience structure only" in text


def test_topic_and_top_pass_through_to_the_shortlists(planted):
    graph, scores, diag, _ = report_of(planted)
    topic = scores.filter(pl.col("segment") == "micro")["topic"].drop_nulls()[0]
    text = build_report(graph, scores, diag, topic=topic, top=3, goal="engagement")
    page = Page(text)
    for seg in ("mass", "micro"):
        expected = influence.shortlist(scores, seg, 3, goal="engagement", topic=topic)
        assert [r[3] for r in page.tables[f"{seg}-shortlist"] if len(r) > 3] == [str(i) for i in expected["id"]]
    with pytest.raises(ConfigError, match="knitting"):
        build_report(graph, scores, diag, topic="knitting")
    with pytest.raises(ConfigError, match="max_points"):
        build_report(graph, scores, diag, max_points=-5)


def test_segment_summary_counts_and_bought_share():
    scores = pl.DataFrame({
        "segment": ["mass", "micro", "micro", "suspicious", "other"],
        "followers": [100, 10, 20, 50, 1],
        "engagement_rate": [0.1, 1.0, 0.0, 3.0, 0.0],
        "credibility": [0.5, 0.8, 0.7, 0.2, 0.4],
        "reach": [0.9, 0.4, 0.3, 0.5, 0.1],
        "audience": [100, 10, 30, 50, 0],
        "audience_authenticity": [0.9, 1.0, 0.5, 0.2, 0.7],
    })
    summary = segment_summary(scores)
    assert summary["segment"].to_list() == ["mass", "micro", "suspicious", "other"]
    assert summary["accounts"].to_list() == [1, 2, 1, 1]
    bought = summary["bought_share"].to_list()
    assert bought[0] == pytest.approx(0.1)
    assert bought[1] == pytest.approx((10 * 0.0 + 30 * 0.5) / 40)
    assert bought[2] == pytest.approx(0.8)
    assert bought[3] is None, "no audience: no share"
    assert summary["share_without_engagement"].to_list()[1] == pytest.approx(0.5)
    empty = segment_summary(scores.filter(pl.col("segment") != "mass"))
    assert empty["accounts"].to_list()[0] == 0


def test_missing_matplotlib_is_one_clear_error(monkeypatch, sample_page, tmp_path):
    graph, scores, diag, _ = sample_page
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(InfluenceError, match=r"pip install '\.\[report\]'"):
        build_report(graph, scores, diag)
    out = tmp_path / "r.html"
    result = run("report", SAMPLE, "-o", out)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: the HTML report needs matplotlib, which is not installed; "
        "install it with: python -m pip install '.[report]' (from the influence checkout)"]
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# the command


def test_cli_writes_the_page_and_nothing_on_stdout(tmp_path):
    out = tmp_path / "report.html"
    result = run("report", SAMPLE, "--output", out, "--top", "7", "--seed", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith(("Warning:", "influence:")) for line in lines), lines
    assert f"wrote {out}" in lines[-1]
    page = Page(out.read_text(encoding="utf-8"))
    rank = pl.read_csv(io.StringIO(run("rank", SAMPLE, "--top", "7", "--seed", "2", "--format", "csv", "-q").stdout))
    ids = {seg: [str(i) for i in rank.filter(pl.col("segment") == seg)["id"]] for seg in ("mass", "micro")}
    for seg in ("mass", "micro"):
        assert [r[3] for r in page.tables[f"{seg}-shortlist"]] == ids[seg], "the same lists as rank"
    params = dict(page.tables["parameters-table"])
    assert params["top"] == "7" and params["seed"] == "2" and params["goal"] == "auto"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"], "no temporary file left"


def test_cli_no_timings_gives_byte_identical_files_and_quiet_is_silent(tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    for out in (a, b):
        result = run("report", SAMPLE, "-o", out, "--no-timings", "--max-points", "400", "-q")
        assert result.exit_code == 0 and result.stderr == "" and result.stdout == ""
    assert a.read_bytes() == b.read_bytes()
    assert b"timings:start" not in a.read_bytes()


def test_cli_on_a_planted_world(planted, tmp_path):
    out = tmp_path / "world.html"
    result = run("report", planted, "-o", out, "--max-points", "1000")
    assert result.exit_code == 0, result.stderr
    page = Page(out.read_text(encoding="utf-8"))
    assert len(page.tables["mass-shortlist"]) >= 1 and len(page.tables["micro-shortlist"]) == 20
    drawn = sum(page.use_in.get(f"points-{s}", 0) for s in ("mass", "micro", "suspicious", "other"))
    assert drawn == 1000
    counts = {r[0]: int(r[1].replace(",", "")) for r in page.tables["segment-summary"]}
    assert sum(counts.values()) == 4000 and counts["suspicious"] > 0


@pytest.mark.parametrize("args, message", [
    (["{missing}"], "no such file"),
    (["{sample}", "--output", "{tmp}/no/such/dir/r.html"], "does not exist"),
    (["{sample}", "--topic", "knitting"], "knitting"),
])
def test_cli_bad_input_is_one_error_line_and_no_file(tmp_path, args, message):
    fill = {"missing": tmp_path / "nothing.parquet", "sample": SAMPLE, "tmp": tmp_path}
    args = [a.format(**fill) for a in args]
    if "--output" not in args:
        args += ["--output", str(tmp_path / "r.html")]
    started = time.perf_counter()
    result = run("report", *args)
    assert result.exit_code == 1, result.stderr
    if "--topic" not in args:
        assert time.perf_counter() - started < 2.0, "checked before the graph is scored"
    errors = result.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith("Error:") and message in errors[0], errors
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "r.html").exists()
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_cli_usage_errors_exit_2(tmp_path):
    assert run("report", SAMPLE).exit_code == 2, "--output is required"
    assert run("report", SAMPLE, "-o", tmp_path / "r.html", "--max-points", "-1").exit_code == 2
    assert run("report", SAMPLE, "-o", tmp_path / "r.html", "--segment", "mass").exit_code == 2
    assert run("report", SAMPLE, "-o", tmp_path).exit_code == 2, "--output names a directory"
    assert not (tmp_path / "r.html").exists()


def test_report_and_rank_share_their_options():
    from influence.cli import rank, report

    def options(command):
        return {o.name: (o.opts, o.default, getattr(o, "help", None)) for o in command.params}

    shared = set(options(rank)) & set(options(report))
    assert {"nodes", "src_col", "dst_col", "max_memory", "top", "goal", "topic", "tiers", "tier_mode",
            "seed", "quiet"} <= shared
    for name in shared - {"output"}:
        assert options(rank)[name] == options(report)[name], name


@pytest.mark.skipif(not (HIGGS / "edges.parquet").exists(), reason=f"{HIGGS} is absent")
def test_cli_on_higgs(tmp_path):
    out = tmp_path / "higgs.html"
    result = run("report", HIGGS, "-o", out)
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert len(text) < 3_000_000, "the map is down-sampled"
    page = Page(text)
    assert len(page.tables["mass-shortlist"]) == 20 and len(page.tables["micro-shortlist"]) == 20
    drawn = sum(page.use_in.get(f"points-{s}", 0) for s in ("mass", "micro", "suspicious", "other"))
    assert drawn == 8000
    assert "no follow edges" in text
    assert dict(page.tables["input-summary"])["accounts"] == "304,691"


def test_empty_shortlists_and_a_three_account_graph(tmp_path):
    empty = Page(report_of(SAMPLE, top=0, max_points=100)[3])
    for seg in ("mass", "micro"):
        assert empty.tables[f"{seg}-shortlist"] == [["no account qualifies"]]
        assert f"shortlist-{seg}" not in empty.use_in
    path = tmp_path / "tiny.parquet"
    pl.DataFrame({"src": ["a", "b", "c", "a"], "dst": ["b", "c", "a", "c"]}).write_parquet(path)
    with pytest.warns(UserWarning):
        graph, scores, _, text = report_of(path)
    page = Page(text)
    drawn = sum(page.use_in.get(f"points-{s}", 0) for s in ("mass", "micro", "suspicious", "other"))
    shortlisted = sum(page.use_in.get(f"shortlist-{s}", 0) for s in ("mass", "micro"))
    assert drawn + shortlisted == 3
    assert dict(page.tables["input-summary"])["accounts"] == "3"
