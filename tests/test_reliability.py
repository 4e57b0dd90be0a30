"""Reliability: the same bytes whatever the thread count; corrupt input never gives a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from influence.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "sample"


def _rank_csv(threads: int) -> bytes:
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    result = subprocess.run(
        [sys.executable, "-m", "influence", "rank", str(SAMPLE), "--segment", "all", "--top", "100000",
         "--format", "csv", "--seed", "5", "-q"],
        capture_output=True, env=env, timeout=600, check=True,
    )
    return result.stdout


def test_identical_bytes_for_one_and_two_threads():
    one, two = _rank_csv(1), _rank_csv(2)
    assert one == two and one.count(b"\n") == 3001


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory):
    base = tmp_path_factory.mktemp("valid")
    edges = pl.read_parquet(SAMPLE / "edges.parquet").head(400)
    edges.write_parquet(base / "e.parquet")
    edges.write_csv(base / "e.csv")
    (base / "e.txt").write_text("".join(f"{s} {d}\n" for s, d in edges.select("src", "dst").iter_rows()))
    return {name: (base / name).read_bytes() for name in ("e.parquet", "e.csv", "e.txt")}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(["e.parquet", "e.csv", "e.txt"]),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=8),
)
def test_corrupt_input_is_an_error_line_or_a_result(valid_files, tmp_path_factory, name, cut, flips):
    """Truncated or bit-flipped files end with exit 0 or one Error line (exit 1), never a traceback."""
    data = bytearray(valid_files[name][: max(0, int(len(valid_files[name]) * cut))])
    for where, value in flips:
        if data:
            data[min(len(data) - 1, int(where * len(data)))] = value
    directory = tmp_path_factory.mktemp("fuzz")
    path = directory / name
    path.write_bytes(bytes(data))
    out = directory / "out.csv"
    result = CliRunner().invoke(main, ["rank", str(path), "--format", "csv", "--output", str(out), "-q"])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.stderr
    if result.exit_code == 1:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and str(path) in lines[0]
        assert not out.exists()
    assert sorted(p.name for p in directory.iterdir() if p.name != name) in ([], ["out.csv"])
