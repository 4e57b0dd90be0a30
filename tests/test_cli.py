"""`influence rank` as CONTRACTS.md section 3 describes it: options, output formats, exit codes,
stdout carrying only data, atomic output files and byte-identical reruns.

Most tests use click's CliRunner (click >= 8.2 keeps ``result.stdout`` and ``result.stderr``
apart); a few run a real process (``python -m influence`` and the ``influence`` console script).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

import influence
from influence.cli import main
from influence.io.write import atomic_write_bytes, temp_prefix

from graphs import sample_edges  # noqa: E402  (tests/graphs.py)

CONTRACT_COLUMNS = ["rank", "id", "name", "segment", "tier", "followers", "reach", "credibility",
                    "peer_influence", "score"]
N_EDGE_ACCOUNTS = 60


# --------------------------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """A directory with edges.parquet and nodes.parquet (names, followers, topic); one account
    (id 1000) exists only in the node table."""
    d = tmp_path_factory.mktemp("world")
    sample_edges().write_parquet(d / "edges.parquet")
    ids = list(range(N_EDGE_ACCOUNTS)) + [1000]
    topics = ["food", "travel", "tech"]
    pl.DataFrame({
        "id": ids,
        "name": [f"account_{i}" for i in ids],
        "followers": [650_000_000 if i == 0 else 1_000 * (i + 1) for i in ids],
        "topic": [topics[min(i // 20, 2)] for i in ids],
    }).write_parquet(d / "nodes.parquet")
    return d


@pytest.fixture(scope="module")
def edges_only(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("plain") / "graph.parquet"
    sample_edges().write_parquet(p)
    return p


@pytest.fixture(scope="module")
def string_world(tmp_path_factory) -> Path:
    """The sample graph with string ids, some numeric-looking ("007"), plus a self-loop and an
    unknown kind so that warnings are due."""
    d = tmp_path_factory.mktemp("strings")
    e = sample_edges().with_columns(
        pl.format("{}", pl.col("src").cast(pl.String).str.zfill(3)).alias("src"),
        pl.format("{}", pl.col("dst").cast(pl.String).str.zfill(3)).alias("dst"),
    )
    extra = pl.DataFrame({"src": ["007", "003"], "dst": ["007", "001"], "kind": ["follow", "zap"], "weight": [1.0, 1.0]})
    path = d / "edges.parquet"
    pl.concat([e, extra]).write_parquet(path)
    return path


def run(*args, output=None):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), f"uncaught {type(exc).__name__}: {exc}\n{result.stderr}"
    return result


def ok(*args):
    result = run("rank", *args)
    assert result.exit_code == 0, result.stderr
    return result


def read_csv_text(text: str) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(text), schema_overrides={"name": pl.String})


def assert_ranked(frame: pl.DataFrame) -> None:
    """rank 1..n; score descending, ties by id ascending."""
    assert frame["rank"].to_list() == list(range(1, frame.height + 1))
    keys = list(zip(frame["score"].to_list(), frame["id"].to_list()))
    assert keys == sorted(keys, key=lambda k: (-k[0], k[1]))


def cli_command(kind: str) -> list[str]:
    if kind == "module":
        return [sys.executable, "-m", "influence"]
    script = Path(sys.executable).parent / "influence"
    found = str(script) if script.exists() else shutil.which("influence")
    if not found:
        pytest.skip("the influence console script is not installed")
    return [found]


def run_process(kind: str, *args, env=None):
    return subprocess.run(cli_command(kind) + [str(a) for a in args], capture_output=True, timeout=300,
                          env={**os.environ, **(env or {})})


# --------------------------------------------------------------------------------------------
# help


def test_help():
    for args in (["--help"], ["rank", "--help"], ["-h"]):
        result = run(*args)
        assert result.exit_code == 0, result.stderr
        assert "Usage:" in result.stdout
    text = run("rank", "--help").stdout
    for option in ("--nodes", "--segment", "--top", "--goal", "--topic", "--format", "--output", "--seed",
                   "--src-col", "--dst-col", "--quiet"):
        assert option in text
    assert "rank" in run("--help").stdout


# --------------------------------------------------------------------------------------------
# default output: two titled tables


def test_default_prints_mass_and_micro_tables(world):
    result = ok(world)
    lines = result.stdout.splitlines()
    titles = [line for line in lines if line.startswith(("mass influencers", "micro influencers"))]
    assert [t.split()[0] for t in titles] == ["mass", "micro"]
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert "account_0" in result.stdout, "the node table's name is shown"
    # stdout carries only data; the timing line and warnings go to stderr
    assert "Warning" not in result.stdout and "influence:" not in result.stdout
    assert result.stderr.strip(), "a timing line is expected on stderr without --quiet"
    for line in result.stderr.splitlines():
        assert line.startswith(("Warning:", "influence:")), line


def test_default_top_limits_each_table(world):
    result = ok(world, "--top", "1")
    sections = result.stdout.split("\n\n")
    assert len(sections) == 2
    for section in sections:
        body = section.strip().splitlines()[3:]  # title, header, rule
        assert len(body) <= 1


@pytest.mark.parametrize("segment", [None, "all", "mass", "micro", "suspicious"])
def test_tables_fit_80_columns_with_long_values(tmp_path, segment):
    n = 40
    big = 2**62
    pl.DataFrame({"src": [big + i for i in range(n)], "dst": [big + (i * 7 + 1) % n for i in range(n)]}).write_parquet(
        tmp_path / "edges.parquet")
    pl.DataFrame({
        "id": [big + i for i in range(n)],
        "name": ["a_very_long_account_handle_number_%d_with_emoji_✨" % i for i in range(n)],
        "followers": [650_000_000 - i for i in range(n)],
    }).write_parquet(tmp_path / "nodes.parquet")
    args = [tmp_path, "--top", "100", "-q"] + (["--segment", segment] if segment else [])
    result = ok(*args)
    too_long = [line for line in result.stdout.splitlines() if len(line) > 80]
    assert not too_long, too_long
    # the same without names: ids shown instead
    (tmp_path / "nodes.parquet").unlink()
    result = ok(*args)
    too_long = [line for line in result.stdout.splitlines() if len(line) > 80]
    assert not too_long, too_long


# --------------------------------------------------------------------------------------------
# csv / json / parquet


@pytest.mark.parametrize("segment", ["mass", "micro", "all", "suspicious"])
def test_csv_columns_and_ranking(world, segment):
    result = ok(world, "--segment", segment, "--format", "csv", "--top", "1000", "-q")
    header = result.stdout.splitlines()[0].split(",")
    assert header[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    frame = read_csv_text(result.stdout)
    assert_ranked(frame)
    if segment == "all":
        assert frame.height == N_EDGE_ACCOUNTS + 1, "--segment all with a large --top returns every account"
        assert set(frame["segment"]) <= {"mass", "micro", "suspicious", "other"}
    else:
        assert set(frame["segment"]) <= {segment}
    if segment in ("mass", "micro"):
        assert frame.height >= 1, f"the sample graph has a {segment} account"
    for col in ("reach", "credibility", "peer_influence", "score"):
        assert frame[col].is_between(0.0, 1.0).all(), col
    assert frame["tier"].is_in(["nano", "micro", "mid", "macro", "mega"]).all()


def test_csv_without_node_table_still_has_contract_columns(edges_only):
    result = ok(edges_only, "--segment", "all", "--format", "csv", "--top", "1000", "-q")
    assert result.stdout.splitlines()[0].split(",")[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    frame = read_csv_text(result.stdout)
    assert frame.height == N_EDGE_ACCOUNTS
    assert_ranked(frame)


def test_followers_from_node_table_else_follow_in_degree(world, edges_only):
    with_nodes = read_csv_text(ok(world, "--segment", "all", "--format", "csv", "--top", "1000", "-q").stdout)
    by_id = dict(zip(with_nodes["id"], with_nodes["followers"]))
    assert by_id[0] == 650_000_000 and by_id[5] == 6_000 and by_id[1000] == 1_001_000
    plain = read_csv_text(ok(edges_only, "--segment", "all", "--format", "csv", "--top", "1000", "-q").stdout)
    e = sample_edges().filter(pl.col("kind") == "follow").unique(["src", "dst"])
    in_degree = dict(e.group_by("dst").len().iter_rows())
    for account, followers in zip(plain["id"], plain["followers"]):
        assert followers == in_degree.get(account, 0), account


def test_followers_zero_without_follow_edges(tmp_path):
    path = tmp_path / "likes.parquet"
    pl.DataFrame({"src": [1, 2, 3, 1], "dst": [2, 3, 1, 3], "kind": ["like"] * 4}).write_parquet(path)
    frame = read_csv_text(ok(path, "--segment", "all", "--format", "csv", "-q").stdout)
    assert frame["followers"].to_list() == [0, 0, 0]


@pytest.mark.parametrize("top", [0, 1, 3, 7])
def test_top_returns_at_most_n(world, top):
    for segment in ("all", "mass", "micro"):
        frame = read_csv_text(ok(world, "--segment", segment, "--format", "csv", "--top", top, "-q").stdout)
        assert frame.height <= top
        if segment == "all":
            assert frame.height == top


def test_top_beyond_int64_returns_every_account(world):
    """--top larger than the graph (even than int64, where polars' head overflowed) is every account."""
    frame = read_csv_text(ok(world, "--segment", "all", "--format", "csv", "--top", 2**64, "-q").stdout)
    assert frame.height == N_EDGE_ACCOUNTS + 1
    assert_ranked(frame)


@pytest.mark.parametrize("command", [["explain"], ["overlap", "1"]])
def test_account_id_beyond_int64_is_not_in_the_graph(world, command):
    """An integer id too large for int64 is reported like any other missing id (no TypeError)."""
    result = run(command[0], world, *command[1:], "99999999999999999999", "-q")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: account id '99999999999999999999' is not in the graph"


def test_top_is_a_prefix(world):
    short = read_csv_text(ok(world, "--segment", "all", "--format", "csv", "--top", "5", "-q").stdout)
    long = read_csv_text(ok(world, "--segment", "all", "--format", "csv", "--top", "10", "-q").stdout)
    assert short.equals(long.head(5))


def test_json_list_of_objects_int_ids(world):
    rows = json.loads(ok(world, "--segment", "all", "--format", "json", "--top", "1000", "-q").stdout)
    assert isinstance(rows, list) and len(rows) == N_EDGE_ACCOUNTS + 1
    for row in rows:
        assert isinstance(row, dict)
        assert set(CONTRACT_COLUMNS) <= set(row)
        assert type(row["id"]) is int and type(row["rank"]) is int and type(row["followers"]) is int
        assert isinstance(row["score"], float)
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))


def test_json_string_ids_stay_strings(string_world):
    rows = json.loads(ok(string_world, "--segment", "all", "--format", "json", "--top", "1000", "-q").stdout)
    ids = [r["id"] for r in rows]
    assert all(type(i) is str for i in ids)
    assert "007" in ids and "000" in ids


def test_json_big_int_ids_exact(tmp_path):
    big = 2**63 - 10
    path = tmp_path / "big.parquet"
    pl.DataFrame({"src": [big, big - 1, -big], "dst": [big - 1, -big, big]}).write_parquet(path)
    rows = json.loads(ok(path, "--segment", "all", "--format", "json", "-q").stdout)
    assert sorted(r["id"] for r in rows) == sorted([big, big - 1, -big])


def test_parquet_output_matches_csv(world, tmp_path):
    out = tmp_path / "ranked.parquet"
    result = ok(world, "--segment", "all", "--top", "1000", "--format", "parquet", "--output", out, "-q")
    assert result.stdout == ""
    pq = pl.read_parquet(out)
    assert pq.columns[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    assert pq["id"].dtype == pl.Int64
    csv = pl.read_csv(io.StringIO(ok(world, "--segment", "all", "--top", "1000", "--format", "csv", "-q").stdout),
                      schema=pq.schema)
    assert pq.height == csv.height == N_EDGE_ACCOUNTS + 1
    floats = [c for c in pq.columns if pq.schema[c].is_float()]
    assert pq.drop(floats).equals(csv.drop(floats))
    for c in floats:
        np.testing.assert_allclose(pq[c].to_numpy(), csv[c].to_numpy(), rtol=1e-12, err_msg=c)


def test_parquet_to_stdout_is_readable(world):
    result = ok(world, "--segment", "micro", "--format", "parquet", "-q")
    frame = pl.read_parquet(io.BytesIO(result.stdout_bytes))
    assert frame.columns[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    assert_ranked(frame)


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "parquet"])
def test_output_file_and_nothing_on_stdout(world, tmp_path, fmt):
    out = tmp_path / f"result.{fmt}"
    result = ok(world, "--format", fmt, "--output", out)
    assert result.stdout == ""
    assert out.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name], "no temporary file left"
    on_stdout = ok(world, "--format", fmt, "-q").stdout_bytes
    assert out.read_bytes() == on_stdout


def test_output_replaces_existing_file(world, tmp_path):
    out = tmp_path / "result.csv"
    out.write_text("old content that is longer than nothing\n" * 1000)
    ok(world, "--format", "csv", "--segment", "mass", "--output", out, "-q")
    assert out.read_text().startswith("rank,id,")


def test_output_in_missing_directory_is_an_error(world, tmp_path):
    out = tmp_path / "no_such_dir" / "result.csv"
    result = run("rank", world, "--format", "csv", "--output", out)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "no_such_dir" in errors[0]
    assert "Traceback" not in result.stderr
    assert not out.parent.exists()


@pytest.mark.parametrize("target_exists", [True, False])
def test_output_through_a_symlink_writes_its_target(world, tmp_path, target_exists):
    """--output naming a symlink replaces the file it points at (temp file beside the target),
    and the link stays a link."""
    (tmp_path / "links").mkdir()
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "result.csv"
    if target_exists:
        target.write_text("previous\n")
    link = tmp_path / "links" / "result.csv"
    link.symlink_to(Path("..") / "real" / "result.csv")
    ok(world, "--format", "csv", "--output", link, "-q")
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert target.read_bytes() == ok(world, "--format", "csv", "-q").stdout_bytes
    assert [p.name for p in (tmp_path / "links").iterdir()] == ["result.csv"]
    assert [p.name for p in (tmp_path / "real").iterdir()] == ["result.csv"], "no temporary file left"


def test_output_to_a_fifo_writes_into_it(world, tmp_path):
    """--output naming an existing FIFO writes into it instead of renaming a file over it."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so that the writer's open returns
    try:
        ok(world, "--format", "csv", "--top", "3", "--output", fifo, "-q")  # less than a pipe's buffer
        received = b""
        while chunk := os.read(reader, 1 << 16):
            received += chunk
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a file"
    assert received == ok(world, "--format", "csv", "--top", "3", "-q").stdout_bytes
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_output_to_devnull_leaves_the_device(world):
    """--output /dev/null (run as root, a rename over it replaced the device by a file)."""
    ok(world, "--format", "csv", "--output", os.devnull, "-q")
    assert stat.S_ISCHR(os.lstat(os.devnull).st_mode)
    directory = Path(os.devnull).parent
    assert not list(directory.glob(f".{Path(os.devnull).name}.*.tmp")), "no temporary file left"


def test_stale_temps_of_the_written_name_only(tmp_path):
    """Writing x.csv removes its own stale temps (writer gone) and never the temps of another
    name that starts like it (x.csv.2024's live writer), whatever its dotted fields look like."""
    dead_pid = 2**22 + 1  # above Linux's largest pid_max: never a live process
    stale = tmp_path / f".x.csv.{dead_pid}.abcd1234.tmp"
    others = [tmp_path / (temp_prefix(tmp_path / "x.csv.2024") + "abcd1234.tmp"),  # a live writer
              tmp_path / f".x.csv.2024.{dead_pid}.abcd1234.tmp",
              tmp_path / f".x.csv.{dead_pid}.tmp",
              tmp_path / f".x.csv.{dead_pid}.partial.abcd1234.tmp"]
    for p in [stale, *others]:
        p.write_text("partial")
    atomic_write_bytes(tmp_path / "x.csv", b"data")
    assert (tmp_path / "x.csv").read_bytes() == b"data"
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["x.csv", *(p.name for p in others)])


def test_weights_beyond_float32_are_one_error_line_and_no_output(tmp_path):
    edges = tmp_path / "huge.parquet"
    pl.DataFrame({"src": [1, 2, 3], "dst": [2, 3, 1], "kind": ["follow", "like", "share"],
                  "weight": [1.0, 1.0, 1e39]}).write_parquet(edges)
    out = tmp_path / "result.csv"
    result = run("rank", edges, "--format", "csv", "--output", out)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {edges}: the pair 3 -> 1 sums to a weight beyond float32's range (about 3.4e38) in "
        "the 'interaction' layer; weights must be smaller (rescale them)"]
    assert not out.exists()


def test_write_failure_is_an_error_line_and_leaves_no_file(world, tmp_path, monkeypatch):
    """A full disk while writing --output: one Error: line, exit 1, no partial or temp file."""
    import errno

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "result.csv"
    result = CliRunner().invoke(main, ["rank", str(world), "--format", "csv", "--output", str(out)])
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == [], "no partial or temporary file"
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), f"traceback: uncaught {type(exc).__name__}: {exc}"
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "result.csv" in errors[0], result.stderr


def test_bad_input_leaves_existing_output_untouched(tmp_path):
    out = tmp_path / "result.csv"
    out.write_text("previous\n")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    result = run("rank", bad, "--format", "csv", "--output", out)
    assert result.exit_code == 1
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.parquet", "result.csv"]


class _FailingStdout(io.BytesIO):
    """A stdout whose every write fails with ``error``."""

    def __init__(self, error: OSError):
        super().__init__()
        self.error = error

    def write(self, data):
        raise self.error


def _rank_to_failing_stdout(world, monkeypatch, capsys, error):
    """Run rank in this process (not CliRunner, which installs its own stdout) with a stdout
    whose writes raise ``error``: (exit code, stderr)."""
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(_FailingStdout(error)))
    monkeypatch.setattr(sys, "stderr", sys.stderr)  # click swaps it on a broken pipe: restored after
    with pytest.raises(SystemExit) as exited:
        main(["rank", str(world), "--format", "csv", "-q"], prog_name="influence")
    return exited.value.code, capsys.readouterr().err


def test_stdout_write_failure_is_one_error_line(world, monkeypatch, capsys):
    """A full disk behind stdout (`> /dev/full`): one Error: line naming stdout, exit 1."""
    import errno

    code, err = _rank_to_failing_stdout(world, monkeypatch, capsys, OSError(errno.ENOSPC, "No space left on device"))
    assert (code, err) == (1, "Error: stdout: cannot write (No space left on device)\n")


def test_stdout_broken_pipe_exits_quietly(world, monkeypatch, capsys):
    """A reader that went away (`| head -1`): nothing on stderr, as click does for EPIPE."""
    code, err = _rank_to_failing_stdout(world, monkeypatch, capsys, BrokenPipeError(32, "Broken pipe"))
    assert (code, err) == (1, "")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE and SIGXFSZ as on Linux")
def test_stdout_short_write_is_an_error_not_a_truncated_output(tmp_path, world):
    """A file size limit cuts stdout short (the first write is partial, the next fails): the run
    says so and exits 1 instead of leaving a truncated csv behind exit code 0."""
    import resource

    limit = 2048
    out = tmp_path / "stdout.csv"
    with open(out, "wb") as stdout:
        proc = subprocess.run(
            cli_command("module") + ["rank", str(world), "--segment", "all", "--top", "1000", "--format", "csv", "-q"],
            stdout=stdout, stderr=subprocess.PIPE, timeout=300,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    assert out.stat().st_size == limit, "the output is longer than the limit"
    assert proc.returncode == 1
    assert proc.stderr.decode() == "Error: stdout: cannot write (File too large)\n"


# --------------------------------------------------------------------------------------------
# filters, stderr, determinism


def test_topic_filter(world):
    frame = read_csv_text(ok(world, "--segment", "all", "--topic", "travel", "--format", "csv", "--top", "1000",
                             "-q").stdout)
    assert frame.height == 20
    assert set(frame["id"]) == set(range(20, 40))
    assert_ranked(frame)


def test_unknown_topic_is_an_error(world):
    result = run("rank", world, "--topic", "knitting")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "knitting" in errors[0]
    assert result.stdout == ""


@pytest.mark.parametrize("goal", ["awareness", "engagement", "conversion"])
def test_goal_reweights_score(world, goal):
    frame = read_csv_text(ok(world, "--segment", "all", "--goal", goal, "--format", "csv", "--top", "1000",
                             "-q").stdout)
    assert_ranked(frame)
    assert frame["score"].is_between(0.0, 1.0).all()


def test_quiet_prints_nothing_on_stderr(string_world):
    loud = ok(string_world, "--segment", "all", "--format", "csv")
    assert any(line.startswith("Warning:") for line in loud.stderr.splitlines()), "warnings are due here"
    quiet = ok(string_world, "--segment", "all", "--format", "csv", "--quiet")
    assert quiet.stderr == ""
    assert quiet.stdout == loud.stdout
    assert ok(string_world, "-q").stderr == ""


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "table"])
def test_same_seed_same_bytes_in_process(world, fmt):
    first = ok(world, "--segment", "all", "--format", fmt, "--top", "1000", "--seed", "7", "-q").stdout_bytes
    second = ok(world, "--segment", "all", "--format", fmt, "--top", "1000", "--seed", "7", "-q").stdout_bytes
    assert first == second


# --------------------------------------------------------------------------------------------
# real processes: streams, exit codes, determinism across interpreters
# (each process pays the full import, a few seconds, so there are only four of them)


def test_processes_print_only_data_and_the_same_bytes(string_world):
    """`python -m influence` and the `influence` script, with different PYTHONHASHSEED (string
    ids hash differently in each process): stdout is only the csv, and the same bytes."""
    args = ["rank", string_world, "--segment", "all", "--format", "csv", "--top", "1000", "--seed", "3"]
    a = run_process("module", *args, env={"PYTHONHASHSEED": "1"})
    b = run_process("script", *args, env={"PYTHONHASHSEED": "2"})
    for proc in (a, b):
        assert proc.returncode == 0, proc.stderr.decode()
        err = proc.stderr.decode()
        assert "Traceback" not in err
        lines = [line for line in err.splitlines() if line.strip()]
        assert any(line.startswith("Warning:") for line in lines), "self-loop and unknown kind warnings are due"
        assert all(line.startswith(("Warning:", "influence:")) for line in lines), err
    assert a.stdout == b.stdout
    text = a.stdout.decode()
    assert text.splitlines()[0].split(",")[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    frame = pl.read_csv(io.StringIO(text), schema_overrides={"id": pl.String, "name": pl.String})
    assert frame.height == N_EDGE_ACCOUNTS
    assert "007" in frame["id"].to_list(), "string ids keep their leading zeros"
    assert_ranked(frame)


@pytest.mark.parametrize("kind", ["module", "script"])
def test_process_exit_codes(tmp_path, kind):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not really parquet PAR1")
    out = tmp_path / "result.csv"
    if kind == "module":
        proc = run_process(kind, "rank", bad, "--format", "csv", "--output", out)
        assert proc.returncode == 1
        err = proc.stderr.decode().strip().splitlines()
        assert len(err) == 1 and err[0].startswith("Error:") and "broken.parquet" in err[0], err
    else:
        proc = run_process(kind, "rank", bad, "--segment", "famous", "--output", out)
        assert proc.returncode == 2
        assert b"--segment" in proc.stderr
    assert b"Traceback" not in proc.stderr
    assert proc.stdout == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.parquet"]


# ---------------------------------------------------------------------------------------------
# influence generate
# ---------------------------------------------------------------------------------------------


def test_generate_writes_three_tables_and_reports_on_stderr(tmp_path):
    from influence.cli import main

    out = tmp_path / "world"
    result = CliRunner().invoke(main, ["generate", "--nodes", "1000", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "wrote 1,000 accounts" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["edges.parquet", "nodes.parquet", "truth.parquet"]
    truth = pl.read_parquet(out / "truth.parquet")
    assert set(truth["role"].unique()) == {"mass", "micro", "fake", "bot", "pod", "regular"}


@pytest.mark.parametrize(
    "args, words",
    [
        (["--nodes", "10"], ["n_nodes", "1000"]),
        (["--nodes", "2000", "--communities", "1"], ["n_communities"]),
    ],
)
def test_generate_bad_parameters_are_one_error_line(tmp_path, args, words):
    from influence.cli import main

    out = tmp_path / "world"
    result = CliRunner().invoke(main, ["generate", *args, "--out", str(out)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:")
    assert all(w in lines[0] for w in words)
    assert not out.exists() or not any(out.iterdir())


def test_generate_variant_follows_only(tmp_path):
    from influence.cli import main

    result = CliRunner().invoke(main, ["generate", "--nodes", "1000", "--variant", "follows_only", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0 and result.stderr == ""
    assert pl.read_parquet(tmp_path / "edges.parquet")["kind"].unique().to_list() == ["follow"]


def _generate(out, *args):
    return CliRunner().invoke(main, ["generate", "--nodes", "1000", "--out", str(out), "-q", *args])


def test_generate_over_a_world_replaces_it_whole(tmp_path):
    """A world without node table written over one with: the old nodes.parquet goes too, else
    `rank DIR` would read it beside the new edges."""
    assert _generate(tmp_path, "--seed", "1").exit_code == 0
    assert (tmp_path / "nodes.parquet").exists()
    result = _generate(tmp_path, "--seed", "2", "--variant", "no_node_table")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edges.parquet", "truth.parquet"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = influence.load(tmp_path)
    assert graph.nodes is None
    assert graph.n_nodes == pl.read_parquet(tmp_path / "truth.parquet").height


def test_generate_that_cannot_replace_a_file_leaves_the_old_world(tmp_path):
    assert _generate(tmp_path, "--seed", "1").exit_code == 0
    (tmp_path / "nodes.parquet").unlink()
    (tmp_path / "nodes.parquet").mkdir()
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.parquet") if p.is_file()}
    result = _generate(tmp_path, "--seed", "2")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot write the world to {tmp_path}: nodes.parquet is a directory"]
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.parquet") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edges.parquet", "nodes.parquet", "truth.parquet"]
