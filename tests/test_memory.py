"""Memory is planned from the edge count, before large arrays exist; the limit is a clear error."""

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import influence
from influence.cli import main
from influence.memory import check_memory, count_rows, needed_bytes, parse_size

SAMPLE = "datasets/sample"


def test_parse_size():
    assert parse_size("8G") == 8 * 2**30
    assert parse_size("512m") == 512 * 2**20
    assert parse_size("1.5 GB") == int(1.5 * 2**30)
    assert parse_size(1000) == 1000
    for bad in ("lots", "-1G", "0", "8Q"):
        with pytest.raises(influence.InfluenceError):
            parse_size(bad)


def test_need_grows_with_rows_only():
    assert needed_bytes(2_000_000) > needed_bytes(1_000_000)
    check_memory(1_000, "x", "1G")  # fits
    with pytest.raises(influence.InfluenceError, match="x: 10,000,000 edge rows need about 1.4 GiB"):
        check_memory(10_000_000, "x", "1G")


def test_rows_counted_from_parquet_metadata():
    assert count_rows(SAMPLE) == pl.read_parquet(f"{SAMPLE}/edges.parquet").height
    assert count_rows(pl.DataFrame({"src": [1], "dst": [2]})) is None


def test_ids_near_int64_limits_need_no_more_memory():
    """Peak memory depends on rows, never on id magnitudes: huge ids load under a tight limit."""
    small = pl.DataFrame({"src": [1, 2, 3], "dst": [2, 3, 1]})
    huge = pl.DataFrame({"src": [-(2**63), 2**63 - 1, 7], "dst": [2**63 - 1, 7, -(2**63)]})
    for edges in (small, huge):
        graph = influence.load(edges, max_memory="450M")
        assert graph.n_nodes == 3


def test_cli_limit_is_one_error_line_and_no_output(tmp_path):
    out = tmp_path / "x.csv"
    result = CliRunner().invoke(main, ["rank", SAMPLE, "--max-memory", "100M", "--format", "csv", "--output", str(out)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: datasets/sample: 53,341 edge rows need about 356 MiB, more than --max-memory 100 MiB allows; "
        "use a machine with more memory or a sample of the graph"
    ]
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_load_releases_the_input_tables_before_the_layer_build(monkeypatch):
    """The raw polars edge table (about 28 bytes per row) is freed before the layers are built."""
    import weakref

    import influence.engine as engine
    import influence.graph as graph_module

    tables, alive = [], []
    read_input, build_layers = engine.read_input, graph_module._build_layers

    def read(*args, **kwargs):
        raw = read_input(*args, **kwargs)
        tables.append(weakref.ref(raw.edges))
        return raw

    def build(*args, **kwargs):
        alive.append(tables[0]() is not None)
        return build_layers(*args, **kwargs)

    monkeypatch.setattr(engine, "read_input", read)
    monkeypatch.setattr(graph_module, "_build_layers", build)
    graph = influence.load(SAMPLE)
    assert alive == [False] and graph.report.n_rows == 53_341
    # A caller that keeps the input keeps it alive (what this test would see without the release).
    raw = engine._read_checked(SAMPLE, None, "src", "dst", None)
    tables[0] = weakref.ref(raw.edges)
    graph_module.build_graph(raw)
    assert alive == [False, True]


# VmHWM is the high-water mark of the process's own memory map since exec; ru_maxrss is not:
# Linux keeps the larger RSS of the map before exec, i.e. of the (big) pytest process forked.
_PEAK_PROBE = r"""
import atexit, sys
out = sys.argv.pop(1)
def peak():
    with open("/proc/self/status") as fh:
        kib = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    with open(out, "w") as fh:
        fh.write(str(kib * 1024))
atexit.register(peak)
from influence.cli import main
main(prog_name="influence")
"""


def _peak_rss(tmp_path, *args) -> int:
    """Peak RSS in bytes of ``influence *args`` run in a fresh process (its own high-water mark)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs Linux /proc to read a process's peak memory")
    import subprocess
    import sys

    probe = tmp_path / "peak.txt"
    subprocess.run([sys.executable, "-c", _PEAK_PROBE, str(probe), *map(str, args)], check=True, timeout=600,
                   capture_output=True)
    return int(probe.read_text())


def _assert_estimate_holds(tmp_path, world, rows):
    out = tmp_path / "all.csv"  # every account rendered: the largest output path
    peak = _peak_rss(tmp_path, "rank", world, "--segment", "all", "--top", 10**9, "--format", "csv",
                     "--output", out, "-q")
    need = needed_bytes(rows)
    assert peak <= need, f"peak {peak / 2**20:.0f} MiB above the estimate {need / 2**20:.0f} MiB"
    return peak, need


def test_estimate_holds_for_a_measured_run(tmp_path):
    """The estimate is above the real peak of a run on the sample (where the base dominates)."""
    peak, need = _assert_estimate_holds(tmp_path, SAMPLE, count_rows(SAMPLE))
    assert need < 3 * peak, "the estimate is far above the real peak: recalibrate memory.py"


@pytest.mark.slow
def test_estimate_holds_at_a_million_rows(tmp_path):
    """At a million rows the per-row term matters: the estimate holds, with a bounded margin."""
    from influence.synthetic import WorldConfig, generate_world

    generate_world(WorldConfig(n_nodes=42_600, seed=2), tmp_path / "w")
    rows = count_rows(tmp_path / "w")
    assert rows > 900_000
    peak, need = _assert_estimate_holds(tmp_path, tmp_path / "w", rows)
    assert need < 2.5 * peak, "the estimate is far above the real peak: recalibrate memory.py"


def test_json_is_rendered_piecewise_with_the_same_bytes():
    """The JSON of every account is built a slice of rows at a time (the list of all rows as
    Python dicts took 2.4 GB for 215,000 accounts), byte for byte what json.dumps gives."""
    import json
    import math

    import numpy as np

    from influence.io.write import _render_json, render

    def naive(frame):
        rows = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
                for row in frame.iter_rows(named=True)]
        return (json.dumps(rows, ensure_ascii=False, indent=1) + "\n").encode()

    n = 5000  # more than one slice of the default size
    rng = np.random.default_rng(0)
    scores = pl.DataFrame({
        "rank": np.arange(1, n + 1), "id": rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64),
        "name": [None if i % 7 == 0 else f"acct_{i}_ü" for i in range(n)],
        "reach": rng.random(n), "score": np.where(np.arange(n) % 11 == 0, np.nan, rng.random(n)),
    })
    odd = pl.DataFrame({"a": [1.0, float("nan"), float("inf"), None], "b": ['é\n"x', None, "z", "ü"],
                        "c": [[1], [2], None, []], "d": [2**63 - 1, -(2**63), 0, None]})
    for frame in (scores, scores.head(0), scores.head(1), odd):
        assert render(frame, "json") == naive(frame)
        for rows_per_piece in (1, 3, 1000):
            assert _render_json(frame, rows_per_piece) == naive(frame)


def test_freed_pages_are_returned_unless_the_user_says_otherwise():
    """influence asks polars' allocator to return freed pages at once (else the released input
    stays resident through the layer build); a value the user exported wins."""
    import os
    import subprocess
    import sys

    code = "import influence, os; print(os.environ['_RJEM_MALLOC_CONF'])"
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    ours = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert ours.stdout.strip().endswith(",dirty_decay_ms:0,muzzy_decay_ms:0")  # after polars' own (last wins)
    env["_RJEM_MALLOC_CONF"] = "dirty_decay_ms:5000"
    theirs = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert theirs.stdout.strip().endswith(",dirty_decay_ms:5000")
