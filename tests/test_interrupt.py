"""Real signals sent to running ``influence rank`` and ``influence generate`` processes.

Each run is started as a subprocess and signalled at a known point of its work, never after a
fixed sleep: ``rank`` once it has warned about the input's marker kind (the warning is emitted
when the graph build starts, seconds before any output is written); ``generate`` once its
temporary edge file exists (it is streaming edges). SIGINT and SIGTERM must end the run with
one ``Error:`` line, no traceback, exit 130 / 143, no output file and no temporary file.
SIGKILL cannot be handled: the run must leave no output file, and whatever temporary file it
leaves is named after its process id and removed by the next write to the same place.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from influence.cli import main
from influence.synthetic import WorldConfig, generate_world

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "sample"
MARKER_KIND = "interrupt_marker"
TIMEOUT = 180  # seconds; generous bounds for a loaded 2-core machine, never a sleep


def _marked_world(base: Path, n_nodes: int) -> Path:
    """A generated world plus one row of a kind that makes rank warn when it starts building
    the graph (seconds before it writes anything)."""
    generate_world(WorldConfig(n_nodes=n_nodes, seed=3), base)
    edges = pl.read_parquet(base / "edges.parquet")
    marker = edges.head(1).with_columns(pl.lit(MARKER_KIND).alias("kind"))
    pl.concat([edges, marker]).write_parquet(base / "edges.parquet")
    return base


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """About a million edge rows: several seconds of work after the marker."""
    return _marked_world(tmp_path_factory.mktemp("interrupt_world"), 42_600)


@pytest.fixture(scope="module")
def small_world(tmp_path_factory) -> Path:
    """About 280,000 edge rows: still about a second of work after the marker (graph build,
    scoring, loading the compiled kernels), cheap enough for the default suite."""
    return _marked_world(tmp_path_factory.mktemp("interrupt_small_world"), 12_000)


def _default_sigint():
    # A child of a shell job started in the background inherits SIGINT ignored; Python then
    # keeps ignoring it. Restore the default so the child behaves as at a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args: list) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "influence", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_default_sigint,
    )


def _signal_when(proc: subprocess.Popen, ready, sig: int) -> tuple[str, str]:
    """Send ``sig`` once ``ready(stderr_so_far)`` holds (polled), then collect the outputs."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(l.decode() for l in iter(proc.stderr.readline, b"")),
                              daemon=True)
    reader.start()
    deadline = time.monotonic() + TIMEOUT
    while not ready("".join(lines)):
        if proc.poll() is not None:
            reader.join(5)
            pytest.fail(f"the run ended (exit {proc.returncode}) before it could be signalled:\n{''.join(lines)}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the run never reached the point where it is signalled")
        time.sleep(0.01)
    proc.send_signal(sig)
    try:
        stdout = proc.stdout.read().decode()
        proc.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the run did not stop within {TIMEOUT} s of {signal.Signals(sig).name}")
    reader.join(TIMEOUT)
    return stdout, "".join(lines)


def _assert_one_error_line(stderr: str, sig: int) -> None:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert errors == [lines[-1]], stderr
    assert all(line.startswith(("Error:", "Warning:")) for line in lines), stderr
    expected = "terminated (SIGTERM)" if sig == signal.SIGTERM else "interrupted"
    assert errors[0] == f"Error: {expected}; no output was written"


def _rank_marker_seen(stderr: str) -> bool:
    return MARKER_KIND in stderr


def _interrupt_rank(world: Path, out_dir: Path, fmt: str, sig: int) -> None:
    out_dir.mkdir()
    out = out_dir / f"ranking.{fmt}"
    proc = _start(["rank", world, "--segment", "all", "--format", fmt, "--output", out])
    stdout, stderr = _signal_when(proc, _rank_marker_seen, sig)
    assert stdout == ""
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 128 + sig, stderr
        _assert_one_error_line(stderr, sig)
    # The output is written only at the end: nothing exists yet, not even a temporary file.
    assert list(out_dir.iterdir()) == []


def test_sigterm_stops_rank_with_one_error_line_and_no_file(small_world, tmp_path):
    """The default suite's representative: SIGTERM is handled like Ctrl-C."""
    _interrupt_rank(small_world, tmp_path / "out", "parquet", signal.SIGTERM)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_signal_stops_rank_without_output(world, tmp_path, fmt, sig):
    _interrupt_rank(world, tmp_path / "out", fmt, sig)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_plan_without_output(world, tmp_path, sig):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "plan.csv"
    proc = _start(["plan", world, "--budget", "50000", "--format", "csv", "--output", out])
    stdout, stderr = _signal_when(proc, _rank_marker_seen, sig)
    assert stdout == ""
    assert proc.returncode == 128 + sig, stderr
    _assert_one_error_line(stderr, sig)
    assert list(out_dir.iterdir()) == []


def _temp_pattern(pid: int) -> re.Pattern:
    return re.compile(rf"\.(edges|nodes|truth)\.parquet\.{pid}\.[0-9a-f]+\.tmp")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_signal_stops_generate_without_output(tmp_path, sig):
    out_dir = tmp_path / "world"
    proc = _start(["generate", "--nodes", 60_000, "--seed", 1, "--out", out_dir])
    pattern = _temp_pattern(proc.pid)

    def writing_edges(_stderr: str) -> bool:
        return out_dir.is_dir() and any(pattern.fullmatch(p.name) for p in out_dir.iterdir())

    stdout, stderr = _signal_when(proc, writing_edges, sig)
    assert stdout == ""
    left = sorted(p.name for p in out_dir.iterdir())
    if sig != signal.SIGKILL:
        assert proc.returncode == 128 + sig, stderr
        _assert_one_error_line(stderr, sig)
        assert left == []
        return
    assert proc.returncode == -signal.SIGKILL
    # Killed outright: only temporary files named after the dead process may remain ...
    assert left and all(pattern.fullmatch(name) for name in left), left
    # ... and the next run into the same directory removes them.
    done = subprocess.run([sys.executable, "-m", "influence", "generate", "--nodes", "1000", "--out", str(out_dir), "-q"],
                          capture_output=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["edges.parquet", "nodes.parquet", "truth.parquet"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_rank_output_removes_temp_files_of_dead_writers_only(tmp_path):
    """What a SIGKILL during the final write could leave is tidied by the next write."""
    out = tmp_path / "ranking.csv"
    dead = tmp_path / f".ranking.csv.{_dead_pid()}.k3j_x9ab.tmp"
    live = tmp_path / f".ranking.csv.{os.getpid()}.a8b_c0de.tmp"  # a writer still running
    other = tmp_path / f".other.csv.{_dead_pid()}.zz.tmp"  # another output's: not ours to judge
    for path in (dead, live, other):
        path.write_bytes(b"partial")
    result = CliRunner().invoke(main, ["rank", str(SAMPLE), "--format", "csv", "--output", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, live.name, other.name])
