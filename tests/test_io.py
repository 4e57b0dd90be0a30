"""Input forms of CONTRACTS.md section 1, and how bad input is reported (section 3).

Every accepted form is checked against the same graph given as a Parquet file: the scores must
be the same. Every rejected input must end with exit code 1, one ``Error:`` line on stderr that
names the file and the problem, no traceback, nothing on stdout and no file (partial or
temporary) in the ``--output`` directory.
"""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import influence
from influence.cli import main

from graphs import sample_edges  # noqa: E402  (tests/graphs.py)

#: The score columns compared between input forms.
CORE = ["id", "segment", "tier", "followers", "reach", "credibility", "peer_influence", "score"]


# --------------------------------------------------------------------------------------------
# helpers


def follow_edges() -> pl.DataFrame:
    """The sample graph's distinct (src, dst) pairs with integer weights and no kind column,
    the shape of a plain weighted edge list."""
    e = sample_edges().group_by("src", "dst", maintain_order=True).agg(pl.col("weight").sum())
    return e.with_columns(pl.col("weight").round(0))


def scores_of(edges, nodes=None, **kw) -> pl.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = influence.load(edges, nodes, **kw)
        s = influence.score(graph)
    return s.select(CORE).sort("id")


def assert_same_scores(a: pl.DataFrame, b: pl.DataFrame) -> None:
    """Same columns and rows; floats within 1e-9 (works across polars versions)."""
    assert a.columns == b.columns
    floats = [c for c in a.columns if a.schema[c].is_float()]
    assert_frame_equal(a.drop(floats), b.drop(floats))
    for c in floats:
        np.testing.assert_allclose(a[c].to_numpy(), b[c].to_numpy(), rtol=1e-9, atol=1e-12, err_msg=c)


def invoke(*args: str):
    return CliRunner().invoke(main, ["rank", *map(str, args)], catch_exceptions=True)


def assert_user_error(result, *words, out_dir=None) -> str:
    """Exit 1, exactly one ``Error:`` line (last on stderr), no traceback, nothing on stdout,
    the ``--output`` directory left empty. ``words``: each must appear in the line (any case);
    a tuple means one of its members must."""
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), (
        f"uncaught {type(exc).__name__}: {exc}\nstderr: {result.stderr}"
    )
    assert "Traceback" not in result.stderr
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert lines[-1] == errors[0], result.stderr
    assert all(line.startswith(("Error:", "Warning:")) for line in lines), result.stderr
    line = errors[0].lower()
    for word in words:
        options = word if isinstance(word, tuple) else (word,)
        assert any(o.lower() in line for o in options), f"{options} not in {errors[0]!r}"
    assert result.stdout == ""
    if out_dir is not None:
        assert sorted(p.name for p in out_dir.iterdir()) == [], "output or temp file left behind"
    return errors[0]


@pytest.fixture(scope="module")
def reference_scores() -> pl.DataFrame:
    return scores_of(sample_edges())


@pytest.fixture(scope="module")
def follow_reference() -> pl.DataFrame:
    return scores_of(follow_edges())


def write_edge_list(path, frame: pl.DataFrame, *, weight: bool, header: bool = True, sep_cycle=(" ", "\t", "   ", " \t ")):
    """Write ``frame`` as a SNAP/KONECT edge list with comments and irregular whitespace."""
    lines = []
    if header:
        lines += ["# Directed graph (each unordered pair of nodes is saved once)", "% sym unweighted",
                  "# FromNodeId\tToNodeId"]
    for i, row in enumerate(frame.iter_rows(named=True)):
        sep = sep_cycle[i % len(sep_cycle)]
        fields = [str(row["src"]), str(row["dst"])]
        if weight:
            fields.append(f"{row['weight']:g}")
        line = sep.join(fields)
        if i % 7 == 3:
            line = "  " + line + "  "  # leading and trailing blanks
        lines.append(line)
        if i % 25 == 10:
            lines.append("% a comment in the middle")
            lines.append("")
    text = "\n".join(lines) + "\n"
    if str(path).endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------
# accepted input forms


def test_parquet_file(tmp_path, reference_scores):
    path = tmp_path / "graph.parquet"
    sample_edges().write_parquet(path)
    graph = influence.load(path)
    assert graph.n_nodes == 60
    assert_same_scores(scores_of(path), reference_scores)
    assert_same_scores(scores_of(str(path)), reference_scores)


def test_directory_with_edges_and_nodes(tmp_path):
    d = tmp_path / "world"
    d.mkdir()
    sample_edges().write_parquet(d / "edges.parquet")
    nodes = pl.DataFrame({
        "id": [0, 1, 21, 999],
        "name": ["hub", "leader_a", "leader_b", "lurker"],
        "followers": [250_000, 12_000, 15_000, 42],
    })
    nodes.write_parquet(d / "nodes.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = influence.score(influence.load(d))
    assert s.height == 61, "a node only in the node table is kept"
    by_id = {r["id"]: r for r in s.iter_rows(named=True)}
    assert by_id[0]["name"] == "hub" and by_id[999]["name"] == "lurker"
    assert by_id[0]["followers"] == 250_000
    assert by_id[999]["followers"] == 42
    assert by_id[5]["name"] is None, "an edge endpoint absent from the node table gets nulls"


def test_directory_without_nodes(tmp_path, reference_scores):
    d = tmp_path / "world"
    d.mkdir()
    sample_edges().write_parquet(d / "edges.parquet")
    assert_same_scores(scores_of(d), reference_scores)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_nodes_option_explicit(tmp_path, fmt):
    edges = tmp_path / "e.parquet"
    sample_edges().write_parquet(edges)
    nodes = pl.DataFrame({"id": [0, 1], "name": ["the_hub", "the_leader"], "followers": [700_000, 20_000]})
    nodes_path = tmp_path / f"people.{fmt}"
    getattr(nodes, f"write_{fmt}")(nodes_path)
    result = invoke(edges, "--nodes", nodes_path, "--segment", "all", "--top", "1000", "--format", "json", "-q")
    assert result.exit_code == 0, result.stderr
    import json

    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert len(rows) == 60
    assert rows[0]["name"] == "the_hub" and rows[0]["followers"] == 700_000
    assert rows[1]["name"] == "the_leader" and rows[1]["followers"] == 20_000


def test_nodes_option_overrides_directory_default(tmp_path):
    d = tmp_path / "world"
    d.mkdir()
    sample_edges().write_parquet(d / "edges.parquet")
    pl.DataFrame({"id": [0], "name": ["default_table"]}).write_parquet(d / "nodes.parquet")
    other = tmp_path / "other.parquet"
    pl.DataFrame({"id": [0], "name": ["explicit_table"]}).write_parquet(other)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = influence.score(influence.load(d, other))
    assert s.filter(pl.col("id") == 0)["name"].item() == "explicit_table"


@pytest.mark.parametrize("name", ["graph.csv", "graph.tsv", "graph.csv.gz", "graph.tsv.gz"])
def test_csv_and_tsv_with_header(tmp_path, reference_scores, name):
    path = tmp_path / name
    sep = "\t" if ".tsv" in name else ","
    text = sample_edges().write_csv(separator=sep)
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    assert_same_scores(scores_of(path), reference_scores)


@pytest.mark.parametrize(
    "name, weight",
    [
        ("graph.txt", True),
        ("graph.txt", False),
        ("graph.edges", True),
        ("graph.edges", False),
        ("graph.txt.gz", True),
        ("graph.edges.gz", False),
        ("graph.gz", True),
    ],
)
def test_plain_edge_list(tmp_path, follow_reference, name, weight):
    frame = follow_edges()
    path = write_edge_list(tmp_path / name, frame, weight=weight)
    got = scores_of(path)
    if weight:
        assert_same_scores(got, follow_reference)
    else:
        assert_same_scores(got, scores_of(frame.drop("weight")))
    assert got["id"].dtype == pl.Int64


@pytest.mark.parametrize("kind", ["parquet", "csv", "edgelist", "edgelist.gz"])
def test_file_without_suffix_is_sniffed(tmp_path, follow_reference, kind):
    frame = follow_edges()
    path = tmp_path / "graph_data"
    if kind == "parquet":
        frame.write_parquet(path)
    elif kind == "csv":
        frame.write_csv(path)
    else:
        write_edge_list(tmp_path / "tmp.txt", frame, weight=True)
        data = (tmp_path / "tmp.txt").read_bytes()
        path.write_bytes(gzip.compress(data) if kind.endswith(".gz") else data)
    assert_same_scores(scores_of(path), follow_reference)


def test_edge_list_crlf_line_endings(tmp_path, follow_reference):
    path = tmp_path / "graph.txt"
    frame = follow_edges()
    lines = ["# windows file"] + [f"{s}\t{d}\t{w:g}" for s, d, w in frame.iter_rows()]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    assert_same_scores(scores_of(path), follow_reference)


def test_edge_list_string_ids(tmp_path):
    path = tmp_path / "graph.txt"
    path.write_text("# who follows whom\nalice bob\nbob  carol\ncarol\talice\ndave bob\n")
    s = scores_of(path)
    assert s["id"].dtype == pl.String
    assert sorted(s["id"].to_list()) == ["alice", "bob", "carol", "dave"]


def test_edge_list_weight_is_optional_per_line(tmp_path):
    """``src dst [weight]``: a line without a weight counts once, like a line with weight 1."""
    mixed = tmp_path / "mixed.txt"
    mixed.write_text("1 2\n2 3 1.5\n3 1\n4 2 2\n")
    explicit = tmp_path / "explicit.txt"
    explicit.write_text("1 2 1\n2 3 1.5\n3 1 1\n4 2 2\n")
    assert_same_scores(scores_of(mixed), scores_of(explicit))


def test_polars_dataframe_and_lazyframe(reference_scores):
    df = sample_edges()
    assert_same_scores(scores_of(df), reference_scores)
    assert_same_scores(scores_of(df.lazy()), reference_scores)
    nodes = pl.DataFrame({"id": [0], "name": ["hub"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = influence.score(influence.load(df.lazy(), nodes=nodes.lazy()))
    assert s.filter(pl.col("id") == 0)["name"].item() == "hub"


def test_renamed_columns(tmp_path, reference_scores):
    df = sample_edges().rename({"src": "follower", "dst": "followee"})
    path = tmp_path / "renamed.parquet"
    df.write_parquet(path)
    assert_same_scores(scores_of(path, src_col="follower", dst_col="followee"), reference_scores)
    assert_same_scores(scores_of(df, src_col="follower", dst_col="followee"), reference_scores)
    csv = tmp_path / "renamed.csv"
    df.write_csv(csv)
    result = invoke(csv, "--src-col", "follower", "--dst-col", "followee", "--segment", "all", "--top", "1000",
                    "--format", "csv", "-q")
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(result.stdout.encode()).height == 60


@pytest.mark.parametrize(
    "relabel, dtype",
    [
        (lambda c: pl.format("user_{}", c.cast(pl.String).str.zfill(4)), pl.String),
        (lambda c: c * 1_000_003 + 2**40, pl.Int64),
        (lambda c: c - 2**62, pl.Int64),  # negative ids
    ],
    ids=["string", "big-int", "negative-int"],
)
def test_ids_are_opaque(reference_scores, relabel, dtype):
    """An order-preserving relabelling of the ids changes nothing but the ids."""
    df = sample_edges().with_columns(relabel(pl.col("src")).alias("src"), relabel(pl.col("dst")).alias("dst"))
    got = scores_of(df)
    assert got["id"].dtype == dtype
    expected_ids = reference_scores.select(relabel(pl.col("id")).alias("id"))["id"]
    assert got["id"].to_list() == expected_ids.to_list()
    assert_same_scores(got.drop("id"), reference_scores.drop("id"))


@pytest.mark.parametrize("dtype", [pl.Int32, pl.UInt32, pl.Int16, pl.UInt64])
def test_other_integer_widths(tmp_path, reference_scores, dtype):
    path = tmp_path / "graph.parquet"
    sample_edges().with_columns(pl.col("src").cast(dtype), pl.col("dst").cast(dtype)).write_parquet(path)
    got = scores_of(path)
    assert got["id"].dtype == pl.Int64
    assert_same_scores(got, reference_scores)


def test_uint32_ids_above_int32_range(tmp_path):
    big = 4_000_000_000
    path = tmp_path / "graph.parquet"
    pl.DataFrame({"src": [big, big + 1, big + 2], "dst": [big + 1, big + 2, big]},
                 schema={"src": pl.UInt32, "dst": pl.UInt32}).write_parquet(path)
    got = scores_of(path)
    assert sorted(got["id"].to_list()) == [big, big + 1, big + 2]


def test_extra_columns_ignored(tmp_path, reference_scores):
    df = sample_edges()
    n = df.height
    extra = df.with_columns(
        pl.Series("note", [f"row {i}" for i in range(n)]),
        pl.Series("tags", [[i, i + 1] for i in range(n)]),
        pl.struct(pl.col("src").alias("a"), pl.lit("x").alias("b")).alias("meta"),
        pl.lit(1_700_000_000).alias("ts"),
        pl.Series("rating", [None if i % 3 else float("nan") for i in range(n)], dtype=pl.Float64),
    )
    path = tmp_path / "extra.parquet"
    extra.write_parquet(path)
    assert_same_scores(scores_of(path), reference_scores)
    csv = tmp_path / "extra.csv"
    extra.drop("tags", "meta").write_csv(csv)
    assert_same_scores(scores_of(csv), reference_scores)


def test_extra_csv_column_is_not_type_checked(tmp_path):
    """An extra column whose values change type late in the file must not matter."""
    n = 12_000
    lines = ["src,dst,note"] + [f"{i},{(i * 7 + 1) % n},{i}" for i in range(n - 1)] + [f"{n - 1},0,not a number"]
    path = tmp_path / "late.csv"
    path.write_text("\n".join(lines) + "\n")
    result = invoke(path, "--segment", "all", "--top", "1", "--format", "csv", "-q")
    assert result.exit_code == 0, result.stderr


def test_csv_ids_that_turn_out_to_be_strings(tmp_path):
    """Ids are opaque: a CSV whose ids look numeric for 10,000+ rows and then are not is read
    with string ids, not rejected."""
    n = 12_000
    lines = ["src,dst"] + [f"{i},{(i * 7 + 1) % n}" for i in range(n)] + ["5,user_x"]
    path = tmp_path / "late_ids.csv"
    path.write_text("\n".join(lines) + "\n")
    got = scores_of(path)
    assert got["id"].dtype == pl.String
    assert "user_x" in got["id"].to_list()


def test_no_kind_column_means_follow(reference_scores):
    plain = follow_edges()
    as_follow = plain.with_columns(pl.lit("follow").alias("kind"))
    assert_same_scores(scores_of(plain), scores_of(as_follow))
    graph = influence.load(plain)
    assert graph.follow.n_edges == plain.height
    assert graph.interaction.n_edges == 0


def test_kind_is_case_and_space_insensitive(reference_scores):
    df = sample_edges().with_columns(pl.format("  {}  ", pl.col("kind").str.to_uppercase()).alias("kind"))
    assert_same_scores(scores_of(df), reference_scores)


def test_duplicates_are_summed():
    once = pl.DataFrame({"src": [1, 2, 3, 3], "dst": [2, 3, 1, 2], "kind": ["like", "like", "follow", "like"],
                         "weight": [3.0, 1.0, 1.0, 2.0]})
    repeated = pl.DataFrame({"src": [1, 2, 1, 3, 1, 3, 3], "dst": [2, 3, 2, 1, 2, 2, 2],
                             "kind": ["like", "like", "like", "follow", "like", "like", "like"],
                             "weight": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    a, b = influence.load(once), influence.load(repeated)
    ea, eb = a.events.to_scipy().toarray(), b.events.to_scipy().toarray()
    np.testing.assert_array_equal(ea, eb)
    i1, i2 = (int(np.flatnonzero(a.ids.to_numpy() == v)[0]) for v in (1, 2))
    assert ea[i1, i2] == 3.0
    assert_same_scores(scores_of(once), scores_of(repeated))


def test_duplicate_follows_count_one_follower():
    e = pl.DataFrame({"src": [1, 1, 1, 3], "dst": [2, 2, 2, 2]})
    s = scores_of(e)
    assert s.filter(pl.col("id") == 2)["followers"].item() == 2


def test_self_loops_dropped_with_warning(tmp_path, reference_scores):
    df = sample_edges()
    loops = pl.DataFrame({"src": [0, 1, 1], "dst": [0, 1, 1], "kind": ["follow", "like", "comment"],
                          "weight": [1.0, 5.0, 2.0]})
    path = tmp_path / "loops.parquet"
    pl.concat([loops, df]).write_parquet(path)
    assert_same_scores(scores_of(path), reference_scores)
    result = invoke(path, "--segment", "all", "--top", "3", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    warn = [line for line in result.stderr.splitlines() if "self-loop" in line]
    assert len(warn) == 1 and warn[0].startswith("Warning:") and "3" in warn[0]
    assert "self-loop" not in result.stdout


def test_unknown_kind_named_once_in_a_warning(tmp_path):
    df = sample_edges().with_columns(
        pl.when(pl.col("kind") == "comment").then(pl.lit("zap")).otherwise(pl.col("kind")).alias("kind")
    )
    path = tmp_path / "zap.parquet"
    df.write_parquet(path)
    result = invoke(path, "--segment", "all", "--top", "3", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    warn = [line for line in result.stderr.splitlines() if "zap" in line]
    assert len(warn) == 1 and warn[0].startswith("Warning:")


# --------------------------------------------------------------------------------------------
# rejected input: exit 1, one Error: line naming the file and the problem


def _parquet(path, **cols):
    pl.DataFrame(cols).write_parquet(path)
    return path


def _valid_parquet_bytes(tmp_path) -> bytes:
    p = tmp_path / "valid_source.parquet"
    sample_edges().write_parquet(p, compression="uncompressed", statistics=False)
    data = p.read_bytes()
    p.unlink()
    return data


def bad_missing(tmp_path):
    return [tmp_path / "nowhere.parquet"], ["nowhere.parquet", ("no such", "not found", "does not exist")]


def bad_text_as_parquet(tmp_path):
    p = tmp_path / "fake.parquet"
    p.write_text("src,dst\n1,2\n2,3\n")
    return [p], ["fake.parquet", "parquet"]


def bad_zero_bytes(tmp_path):
    p = tmp_path / "zero.parquet"
    p.write_bytes(b"")
    return [p], ["zero.parquet", "empty"]


def bad_truncated(tmp_path):
    data = _valid_parquet_bytes(tmp_path)
    p = tmp_path / "half.parquet"
    p.write_bytes(data[: len(data) // 2])
    return [p], ["half.parquet", ("truncated", "corrupt", "unreadable", "not a parquet")]


def bad_corrupt_middle(tmp_path):
    """Magic bytes intact at both ends, garbage inside."""
    data = bytearray(_valid_parquet_bytes(tmp_path))
    mid = len(data) // 2
    data[4:mid] = bytes((b * 7 + 13) % 256 for b in data[4:mid])
    p = tmp_path / "garbled.parquet"
    p.write_bytes(bytes(data))
    return [p], ["garbled.parquet"]


def bad_corrupt_footer(tmp_path):
    data = bytearray(_valid_parquet_bytes(tmp_path))
    footer_len = int.from_bytes(data[-8:-4], "little")
    start = len(data) - 8 - footer_len
    data[start:start + footer_len] = b"\xff" * footer_len
    p = tmp_path / "footer.parquet"
    p.write_bytes(bytes(data))
    return [p], ["footer.parquet", ("parquet", "unreadable", "corrupt")]


def bad_no_src(tmp_path):
    return [_parquet(tmp_path / "nosrc.parquet", source=[1, 2], dst=[2, 3])], ["nosrc.parquet", "src"]


def bad_no_dst(tmp_path):
    return [_parquet(tmp_path / "nodst.parquet", src=[1, 2], target=[2, 3])], ["nodst.parquet", "dst"]


def bad_mixed_id_types(tmp_path):
    p = _parquet(tmp_path / "mixed.parquet", src=[1, 2, 3], dst=["a", "b", "c"])
    return [p], ["mixed.parquet", "src", "dst", ("type", "same")]


def bad_float_ids(tmp_path):
    p = _parquet(tmp_path / "floatids.parquet", src=[1.0, 2.0], dst=[2.0, 3.0])
    return [p], ["floatids.parquet", "src", ("float", "integer")]


def bad_null_ids(tmp_path):
    p = tmp_path / "nullid.parquet"
    pl.DataFrame({"src": [1, 2, 3, 4, 5], "dst": [2, 3, 4, None, 1]}).write_parquet(p)
    return [p], ["nullid.parquet", "dst", "null", "row 3"]


def bad_null_string_ids(tmp_path):
    p = tmp_path / "nullsid.parquet"
    pl.DataFrame({"src": ["a", None, "c"], "dst": ["b", "c", "a"]}).write_parquet(p)
    return [p], ["nullsid.parquet", "src", "null", "row 1"]


def _bad_weight(tmp_path, value, words):
    p = tmp_path / "w.parquet"
    w = [1.0, 2.0, 1.0, value, 1.0]
    pl.DataFrame({"src": [1, 2, 3, 4, 5], "dst": [2, 3, 4, 5, 1], "weight": w}).write_parquet(p)
    return [p], ["w.parquet", "weight", "row 3", *words]


def bad_negative_weight(tmp_path):
    return _bad_weight(tmp_path, -2.0, ["negative"])


def bad_nan_weight(tmp_path):
    return _bad_weight(tmp_path, float("nan"), ["nan"])


def bad_inf_weight(tmp_path):
    return _bad_weight(tmp_path, float("inf"), [("infinite", "inf")])


def bad_string_weight(tmp_path):
    p = _parquet(tmp_path / "sw.parquet", src=[1, 2], dst=[2, 3], weight=["a", "b"])
    return [p], ["sw.parquet", "weight"]


def bad_empty_table(tmp_path):
    p = tmp_path / "empty.parquet"
    pl.DataFrame(schema={"src": pl.Int64, "dst": pl.Int64, "kind": pl.String, "weight": pl.Float64}).write_parquet(p)
    return [p], ["empty.parquet", ("empty", "no edge", "no rows")]


def bad_header_only_csv(tmp_path):
    p = tmp_path / "header.csv"
    p.write_text("src,dst,kind\n")
    return [p], ["header.csv", ("empty", "no edge", "no rows")]


def bad_only_self_loops(tmp_path):
    p = _parquet(tmp_path / "loops.parquet", src=[1, 2], dst=[1, 2])
    return [p], ["loops.parquet", "self-loop"]


def bad_node_id_type(tmp_path):
    e = _parquet(tmp_path / "e.parquet", src=[1, 2], dst=[2, 3])
    n = _parquet(tmp_path / "people.parquet", id=["1", "2"], name=["a", "b"])
    return [e, "--nodes", n], ["people.parquet", "id", ("type", "string", "integer")]


def bad_node_id_type_in_directory(tmp_path):
    d = tmp_path / "world"
    d.mkdir()
    _parquet(d / "edges.parquet", src=["a", "b"], dst=["b", "c"])
    _parquet(d / "nodes.parquet", id=[1, 2])
    return [d], ["nodes.parquet", "id"]


def bad_node_duplicate_ids(tmp_path):
    e = _parquet(tmp_path / "e.parquet", src=[1, 2], dst=[2, 3])
    n = _parquet(tmp_path / "dups.parquet", id=[1, 2, 3, 2], name=["a", "b", "c", "d"])
    return [e, "--nodes", n], ["dups.parquet", ("duplicate", "more than once"), "2"]


def bad_node_missing_file(tmp_path):
    e = _parquet(tmp_path / "e.parquet", src=[1, 2], dst=[2, 3])
    return [e, "--nodes", tmp_path / "ghost.parquet"], ["ghost.parquet", ("no such", "not found", "does not exist")]


def bad_node_no_id(tmp_path):
    e = _parquet(tmp_path / "e.parquet", src=[1, 2], dst=[2, 3])
    n = _parquet(tmp_path / "noid.parquet", user=[1, 2])
    return [e, "--nodes", n], ["noid.parquet", "id"]


def bad_node_negative_followers(tmp_path):
    e = _parquet(tmp_path / "e.parquet", src=[1, 2], dst=[2, 3])
    n = _parquet(tmp_path / "negf.parquet", id=[1, 2], followers=[10, -1])
    return [e, "--nodes", n], ["negf.parquet", "followers"]


def bad_directory_without_edges(tmp_path):
    d = tmp_path / "hollow"
    d.mkdir()
    _parquet(d / "nodes.parquet", id=[1, 2])
    return [d], ["hollow", "edges.parquet"]


def bad_edge_list_one_field(tmp_path):
    p = tmp_path / "short.txt"
    p.write_text("# comment\n1 2\n3\n4 5\n")
    return [p], ["short.txt", "line 3", "field"]


def bad_edge_list_non_numeric_weight(tmp_path):
    p = tmp_path / "wt.edges"
    p.write_text("% konect\n1 2 1\n2 3 abc\n3 1 2\n")
    return [p], ["wt.edges", "weight", "abc"]


def bad_edge_list_negative_weight(tmp_path):
    p = tmp_path / "neg.txt"
    p.write_text("1 2 1\n2 3 -4\n")
    return [p], ["neg.txt", "weight", "negative"]


def bad_edge_list_only_comments(tmp_path):
    p = tmp_path / "hollow.txt"
    p.write_text("# nothing\n% here\n\n")
    return [p], ["hollow.txt", ("empty", "no edge", "no rows")]


def bad_empty_csv(tmp_path):
    p = tmp_path / "zero.csv"
    p.write_text("")
    return [p], ["zero.csv", "empty"]


def bad_list_ids(tmp_path):
    p = _parquet(tmp_path / "listids.parquet", src=[[1], [2]], dst=[2, 3])
    return [p], ["listids.parquet", "'src'", "List(Int64)", "integers or strings"]


def bad_struct_ids(tmp_path):
    p = _parquet(tmp_path / "structids.parquet", src=[1, 2], dst=[{"a": 1}, {"a": 2}])
    return [p], ["structids.parquet", "'dst'", "Struct", "integers or strings"]


def bad_bool_ids(tmp_path):
    p = _parquet(tmp_path / "boolids.parquet", src=[True, False], dst=[False, True])
    return [p], ["boolids.parquet", "'src'", "Boolean", "integers or strings"]


def bad_float_dst_only(tmp_path):
    p = _parquet(tmp_path / "floatdst.parquet", src=[1, 2], dst=[2.0, 3.0])
    return [p], ["floatdst.parquet", "'dst'", "Float64", "integers or strings"]


def bad_null_only_ids(tmp_path):
    p = _parquet(tmp_path / "nullonly.parquet", src=[1, 2], dst=[None, None])
    return [p], ["nullonly.parquet", "'dst'", "Null", "missing"]


def bad_null_only_typed_ids(tmp_path):
    """Every id null in an Int64 column: the first null row is named."""
    p = _parquet(tmp_path / "nulltyped.parquet", src=pl.Series([None, None], dtype=pl.Int64), dst=[1, 2])
    return [p], ["nulltyped.parquet", "'src'", "null", "row 0"]


def bad_mixed_int_and_categorical_ids(tmp_path):
    p = _parquet(tmp_path / "mixcat.parquet", src=[1, 2], dst=pl.Series(["a", "b"], dtype=pl.Categorical))
    return [p], ["mixcat.parquet", "'src'", "'dst'", "Int64", "Categorical", "same id type"]


def bad_mixed_string_and_uint_ids(tmp_path):
    p = _parquet(tmp_path / "mixuint.parquet", src=["a", "b"], dst=pl.Series([1, 2], dtype=pl.UInt32))
    return [p], ["mixuint.parquet", "String", "UInt32", "same id type"]


def _bad_ts(tmp_path, name, ts, words):
    p = _parquet(tmp_path / name, src=[1, 2, 3], dst=[2, 3, 1], ts=ts)
    return [p], [name, "'ts'", *words]


def bad_ts_float(tmp_path):
    return _bad_ts(tmp_path, "tsfloat.parquet", [1.7e9, 1.7e9, 1.7e9], ["Float64", "unix seconds"])


def bad_ts_string(tmp_path):
    return _bad_ts(tmp_path, "tsstring.parquet", ["2024-01-01"] * 3, ["String", "datetimes"])


def bad_ts_bool(tmp_path):
    return _bad_ts(tmp_path, "tsbool.parquet", [True, False, True], ["Boolean", "integers"])


def bad_ts_negative(tmp_path):
    return _bad_ts(tmp_path, "tsneg.parquet", [1_700_000_000, -5, 0], ["-5", "row 1", "out of range", "1970"])


def bad_ts_milliseconds(tmp_path):
    return _bad_ts(tmp_path, "tsms.parquet", [1_700_000_000, 1_700_000_001, 1_700_000_000_123],
                   ["1700000000123", "row 2", "milliseconds", "2100"])


def bad_ts_datetime_before_1970(tmp_path):
    import datetime as dt

    ts = [dt.datetime(2024, 1, 1), None, dt.datetime(1969, 12, 31, 23, 59)]
    return _bad_ts(tmp_path, "tsold.parquet", ts, ["1969-12-31 23:59", "row 2", "out of range"])


def bad_ts_csv_text(tmp_path):
    p = tmp_path / "ts.csv"
    p.write_text("src,dst,ts\n1,2,2024-01-01 10:00:00\n2,3,\n3,1,yesterday\n")
    return [p], ["ts.csv", "'ts'", "'yesterday'", "row 2", "date-time"]


def bad_ts_csv_beyond_2100(tmp_path):
    p = tmp_path / "tsus.csv"
    p.write_text("src,dst,ts\n1,2,1700000000\n2,3,1700000000000000\n")
    return [p], ["tsus.csv", "'ts'", "row 1", "microseconds"]


def bad_blank_id_cell(tmp_path):
    p = tmp_path / "blankid.csv"
    p.write_text("src,dst\n1,2\n ,3\n3,1\n")
    return [p], ["blankid.csv", "'src'", "null", "row 1"]


def bad_blank_line_between_rows(tmp_path):
    p = tmp_path / "gap.csv"
    p.write_text("src,dst\n1,2\n\n2,3\n")
    return [p], ["gap.csv", "row 1", "blank line"]


def bad_unknown_columns_are_listed(tmp_path):
    p = tmp_path / "ff.csv"
    p.write_text("follower,followee,kind\n1,2,follow\n2,3,like\n")
    return [p], ["ff.csv", "no source column 'src'", "'follower', 'followee', 'kind'", "--src-col"]


def bad_empty_edge_list(tmp_path):
    p = tmp_path / "nothing.txt"
    p.write_text("")
    return [p], ["nothing.txt", "an empty file"]


def bad_trailing_row_without_ids(tmp_path):
    """Not a blank line: the row has a note, so its missing ids are an error, not ignored."""
    p = tmp_path / "noted.csv"
    p.write_text("src,dst,note\n1,2,a\n,,hello\n")
    return [p], ["noted.csv", "'src'", "null", "row 1"]


def bad_node_csv_id_not_written_as_an_integer(tmp_path):
    e = _parquet(tmp_path / "e.parquet", src=[1, 2], dst=[2, 3])
    n = tmp_path / "padded.csv"
    n.write_text("id,name\n001,a\n2,b\n")
    return [e, "--nodes", n], ["padded.csv", "'id'", "'001'", "row 0", "integer"]


def bad_node_followers_beyond_int64(tmp_path):
    e = _parquet(tmp_path / "e.parquet", src=[1, 2], dst=[2, 3])
    n = tmp_path / "bigf.csv"
    n.write_text("id,followers\n1,9223372036854775808\n")
    return [e, "--nodes", n], ["bigf.csv", "'followers'", "row 0", "2**63"]


def bad_node_uint64_id_beyond_int64(tmp_path):
    e = _parquet(tmp_path / "e.parquet", src=[1, 2], dst=[2, 3])
    n = tmp_path / "u64.parquet"
    pl.DataFrame({"id": pl.Series([1, 2, 2**64 - 1], dtype=pl.UInt64)}).write_parquet(n)
    return [e, "--nodes", n], ["u64.parquet", "'id'", "row 2", "exceeds int64"]


def bad_node_topic_of_lists(tmp_path):
    e = _parquet(tmp_path / "e.parquet", src=[1, 2], dst=[2, 3])
    n = _parquet(tmp_path / "lists.parquet", id=[1, 2], topic=[["a"], ["b"]])
    return [e, "--nodes", n], ["lists.parquet", "'topic'", "List(String)", "strings"]


BAD_INPUTS = [
    bad_missing, bad_text_as_parquet, bad_zero_bytes, bad_truncated, bad_corrupt_middle, bad_corrupt_footer,
    bad_no_src, bad_no_dst, bad_mixed_id_types, bad_float_ids, bad_null_ids, bad_null_string_ids,
    bad_negative_weight, bad_nan_weight, bad_inf_weight, bad_string_weight, bad_empty_table,
    bad_header_only_csv, bad_only_self_loops, bad_node_id_type, bad_node_id_type_in_directory,
    bad_node_duplicate_ids, bad_node_missing_file, bad_node_no_id, bad_node_negative_followers,
    bad_directory_without_edges, bad_edge_list_one_field, bad_edge_list_non_numeric_weight,
    bad_edge_list_negative_weight, bad_edge_list_only_comments, bad_empty_csv,
    bad_list_ids, bad_struct_ids, bad_bool_ids, bad_float_dst_only, bad_null_only_ids, bad_null_only_typed_ids,
    bad_mixed_int_and_categorical_ids, bad_mixed_string_and_uint_ids,
    bad_ts_float, bad_ts_string, bad_ts_bool, bad_ts_negative, bad_ts_milliseconds, bad_ts_datetime_before_1970,
    bad_ts_csv_text, bad_ts_csv_beyond_2100,
    bad_blank_id_cell, bad_blank_line_between_rows, bad_unknown_columns_are_listed, bad_empty_edge_list,
    bad_trailing_row_without_ids, bad_node_csv_id_not_written_as_an_integer,
    bad_node_followers_beyond_int64,
    bad_node_uint64_id_beyond_int64, bad_node_topic_of_lists,
]


@pytest.mark.parametrize("make", BAD_INPUTS, ids=[f.__name__[4:] for f in BAD_INPUTS])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_bad_input_is_one_error_line_and_no_output(tmp_path, make, fmt):
    args, words = make(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = invoke(*args, "--segment", "all", "--format", fmt, "--output", out_dir / f"result.{fmt}")
    assert_user_error(result, *words, out_dir=out_dir)


@pytest.mark.parametrize("make", [bad_truncated, bad_null_ids, bad_edge_list_one_field],
                         ids=["truncated", "null_ids", "edge_list_one_field"])
def test_bad_input_library_raises_influence_error(tmp_path, make):
    args, _ = make(tmp_path)
    with pytest.raises(influence.InfluenceError):
        influence.load(args[0])


def test_mixed_integer_widths_are_one_id_type(reference_scores):
    """src Int32 and dst UInt64 are both integers: accepted, the same scores as Int64."""
    edges = sample_edges().with_columns(pl.col("src").cast(pl.Int32), pl.col("dst").cast(pl.UInt64))
    assert_same_scores(scores_of(edges), reference_scores)


@pytest.mark.parametrize("form", ["int", "uint32", "datetime_ms", "datetime_tz", "date", "with_nulls", "all_null", "csv_int", "csv_datetime"])
def test_ts_accepted_forms_change_no_score_and_record_the_range(tmp_path, reference_scores, form):
    import datetime as dt

    edges = sample_edges()
    n = edges.height
    seconds = pl.Series("ts", np.linspace(1_600_000_000, 1_700_000_000, n).astype(np.int64))
    first, last = 1_600_000_000, 1_700_000_000
    if form == "int":
        ts = seconds
    elif form == "uint32":
        ts = seconds.cast(pl.UInt32)
    elif form == "datetime_ms":
        ts = (seconds * 1000).cast(pl.Datetime("ms"))
    elif form == "datetime_tz":
        ts = (seconds * 1_000_000).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Paris")
    elif form == "date":
        ts = (seconds * 1000).cast(pl.Datetime("ms")).dt.date()
        first, last = first - first % 86400, last - last % 86400
    elif form == "with_nulls":
        ts = seconds.scatter([0, n - 1], None)
        first, last = int(seconds[1]), int(seconds[n - 2])
    else:
        ts = seconds
    frame = edges.with_columns(ts.alias("ts"))
    if form == "all_null":
        frame = edges.with_columns(pl.lit(None).alias("ts"))
        first = last = None
    if form.startswith("csv"):
        path = tmp_path / "e.csv"
        if form == "csv_datetime":
            frame = frame.with_columns(pl.from_epoch("ts", "s").dt.strftime("%Y-%m-%d %H:%M:%S"))
        frame.write_csv(path)
    else:
        path = tmp_path / "e.parquet"
        frame.write_parquet(path)
    graph = influence.load(path)
    assert graph.report.ts_range == (None if first is None else (first, last))
    assert "ts" not in influence.io.read_input(path).edges.columns  # validated, not kept
    assert_same_scores(scores_of(path), reference_scores)


def test_bad_dataframe_input_raises_schema_error():
    with pytest.raises(influence.SchemaError, match="src"):
        influence.load(pl.DataFrame({"a": [1], "dst": [2]}))
    with pytest.raises(influence.SchemaError, match="row 1"):
        influence.load(pl.DataFrame({"src": [1, 2], "dst": [2, 3], "weight": [1.0, -1.0]}))
    with pytest.raises(influence.EmptyGraphError):
        influence.load(pl.DataFrame(schema={"src": pl.Int64, "dst": pl.Int64}))


@pytest.mark.parametrize(
    "option, value",
    [("--segment", "famous"), ("--format", "xml"), ("--goal", "fame"), ("--top", "-1"), ("--seed", "-3")],
)
def test_bad_option_value_is_usage_error(tmp_path, option, value):
    path = _parquet(tmp_path / "e.parquet", src=[1, 2], dst=[2, 3])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = invoke(path, option, value, "--output", out_dir / "r.csv")
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    assert option in result.stderr
    assert result.stdout == ""
    assert list(out_dir.iterdir()) == []



# --------------------------------------------------------------------------------------------
# text inputs whose ids or lines could be misread


def _ids_of(path, **kw) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sorted(influence.load(path, **kw).ids.to_list(), key=str)


def test_hash_starts_no_comment_in_csv(tmp_path):
    """CONTRACTS gives ``#`` comments to plain edge lists only: in a CSV ``#python`` is an id."""
    p = tmp_path / "hash.csv"
    p.write_text("src,dst\n#python,alice\nbob,alice\ncarol,#python\n")
    graph = influence.load(p)
    assert graph.report.n_rows == 3
    assert sorted(graph.ids.to_list()) == ["#python", "alice", "bob", "carol"]


@pytest.mark.parametrize("suffix", [".csv", ".txt"])
def test_ids_that_only_look_numeric_stay_distinct(tmp_path, suffix):
    """``007``, ``7`` and ``+9`` are three opaque ids; reading them as integers would merge the
    first two (and turn ``007 -> 7`` into a dropped self-loop)."""
    p = tmp_path / f"zeros{suffix}"
    rows = [("007", "7"), ("7", "0008"), ("0008", "007"), ("+9", "7")]
    sep = "," if suffix == ".csv" else " "
    p.write_text(("src,dst\n" if suffix == ".csv" else "") + "".join(f"{a}{sep}{b}\n" for a, b in rows))
    assert _ids_of(p) == ["+9", "0008", "007", "7"]
    # canonical integers are still integers
    q = tmp_path / f"ints{suffix}"
    q.write_text(("src,dst\n" if suffix == ".csv" else "") + f"-3{sep}7\n7{sep}12\n")
    assert _ids_of(q) == [-3, 12, 7]


def test_trailing_blank_lines_in_csv_are_ignored(tmp_path, reference_scores):
    p = tmp_path / "trailing.csv"
    sample_edges().write_csv(p)
    p.write_text(p.read_text() + "\n\n  \n")
    assert_same_scores(scores_of(p), reference_scores)


def test_tab_separated_file_without_suffix(tmp_path, reference_scores):
    p = tmp_path / "graph"
    sample_edges().write_csv(p, separator="\t")
    assert_same_scores(scores_of(p), reference_scores)


def test_node_csv_ids_follow_the_edges_string_ids(tmp_path):
    """A node CSV whose ids all look like integers is text when the edges' ids are strings
    (CSV has no types; the contract's node id has the type of src)."""
    e = tmp_path / "mixed.csv"
    e.write_text("src,dst\n1,2\nalice,1\n2,bob\n")
    n = tmp_path / "names.csv"
    n.write_text("id,name\n1,one\n2,two\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = influence.score(influence.load(e, nodes=n))
    names = dict(zip(scores["id"].to_list(), scores["name"].to_list()))
    assert names == {"1": "one", "2": "two", "alice": None, "bob": None}
    # the sharded load reads the node table the same way
    from influence.backends import LocalBackend
    from influence.backends.sharded import load_sharded

    parquet = tmp_path / "mixed.parquet"
    pl.read_csv(e, schema_overrides={"src": pl.String, "dst": pl.String}).write_parquet(parquet)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sharded = load_sharded(LocalBackend(2), parquet, nodes=n)
    assert sharded.nodes["id"].dtype == pl.String
    assert dict(zip(sharded.nodes["id"].to_list(), sharded.nodes["name"].to_list())) == names



def test_edges_parquet_as_a_directory_of_parts(tmp_path, reference_scores):
    """``DIR/edges.parquet`` may be a directory of part files (as Spark and Dask write it): the
    local load reads it as the sharded one does."""
    from influence.backends import LocalBackend
    from influence.backends.sharded import load_sharded

    edges = sample_edges()
    parts = tmp_path / "world" / "edges.parquet"
    parts.mkdir(parents=True)
    edges.head(300).write_parquet(parts / "part-0.parquet")
    edges.slice(300).write_parquet(parts / "part-1.parquet")
    edges.clear().write_parquet(parts / "part-2.parquet")  # writers leave empty parts
    assert_same_scores(scores_of(tmp_path / "world"), reference_scores)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sharded = influence.score(load_sharded(LocalBackend(2), tmp_path / "world"))
    assert_same_scores(sharded.select(CORE).sort("id"), reference_scores)


def test_gzipped_tab_separated_file_without_suffix(tmp_path, reference_scores):
    p = tmp_path / "graph"
    sample_edges().write_csv(tmp_path / "plain.tsv", separator="\t")
    p.write_bytes(gzip.compress((tmp_path / "plain.tsv").read_bytes()))
    assert_same_scores(scores_of(p), reference_scores)


def test_node_followers_up_to_int64_max(tmp_path):
    edges = pl.DataFrame({"src": [1, 2], "dst": [2, 3]})
    graph = influence.load(edges, nodes=pl.DataFrame({"id": [1], "followers": [2**63 - 1]}))
    assert graph.nodes["followers"].to_list() == [2**63 - 1, None, None]



def test_a_file_the_system_cannot_read_is_one_error_naming_it(tmp_path, monkeypatch):
    """Permissions, I/O errors (as root no file is unreadable, so the read is made to fail)."""
    import influence.io.read as read

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    p = tmp_path / "graph"
    p.write_text("src,dst\n1,2\n")
    monkeypatch.setattr(read, "_sniff", refuse)
    with pytest.raises(influence.SchemaError, match=r"graph: cannot read \(Permission denied\)$"):
        influence.load(p)
    monkeypatch.setattr(read, "_read_csv", refuse)
    (tmp_path / "nodes.csv").write_text("id\n1\n")
    with pytest.raises(influence.SchemaError, match=r"nodes.csv: cannot read \(Permission denied\)$"):
        influence.load(pl.DataFrame({"src": [1], "dst": [2]}), nodes=tmp_path / "nodes.csv")



def test_column_names_for_a_plain_edge_list_are_an_error(tmp_path):
    """An edge list has no header: --src-col/--dst-col would be silently ignored (and a header
    line read as an edge), so naming columns is an error."""
    p = tmp_path / "edges.txt"
    p.write_text("1 2\n2 3\n")
    result = invoke(p, "--src-col", "follower", "--dst-col", "followee")
    assert_user_error(result, "edges.txt", "no header", "--src-col")


@pytest.mark.parametrize("second", ["with_ts", "extra_column", "without_kind", "int32_ids", "without_weight"])
def test_part_files_that_differ_read_as_the_sharded_load_reads_them(tmp_path, second):
    """CONTRACTS section 6: the same input gives the same output on both backends. Parts may
    differ: a part without kind holds follows, one without weight weighs 1, extra columns and
    ts are ignored, integer widths are one id type (the local load refused all of these)."""
    from influence.backends import LocalBackend
    from influence.backends.sharded import load_sharded

    base = pl.DataFrame({"src": [1, 2, 3, 4, 5, 6], "dst": [2, 3, 4, 1, 1, 2],
                         "kind": ["follow", "like", "follow", "like", "share", "follow"],
                         "weight": [1.0, 2.0, 1.0, 3.0, 1.0, 1.0]})
    other = {
        "with_ts": base.with_columns(pl.lit(1_700_000_000).alias("ts")),
        "extra_column": base.with_columns(pl.lit(3).alias("foo")),
        "without_kind": base.drop("kind"),
        "int32_ids": base.with_columns(pl.col("src").cast(pl.Int32), pl.col("dst").cast(pl.Int32)),
        "without_weight": base.drop("weight"),
    }[second]
    base.write_parquet(tmp_path / "p0.parquet")
    other.write_parquet(tmp_path / "p1.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = influence.score(influence.load(tmp_path), seed=0)
        sharded = influence.score(load_sharded(LocalBackend(2), tmp_path), seed=0)
    assert_frame_equal(local, sharded, check_exact=True)
    if second == "without_kind":  # the part's rows are follows: 1 -> 2 followed in both parts
        assert local.filter(pl.col("id") == 2)["followers"][0] >= 1
