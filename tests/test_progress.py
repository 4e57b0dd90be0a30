"""The progress display (influence.progress) and the terminal output of `rank`: tables that fit
80 columns and name the signals the input lacks, a display on stderr only when it is a terminal
and the run is long, silenced by --quiet, never on stdout."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from influence.cli import main
from influence.io.write import format_table
from influence.progress import DEFAULT_DELAY, Progress, default_delay

from graphs import sample_edges  # noqa: E402  (tests/graphs.py)

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "datasets" / "sample"


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


# --------------------------------------------------------------------------------------------
# Progress


def test_nothing_is_drawn_when_the_stream_is_not_a_terminal():
    stream, clock = io.StringIO(), Clock()
    with Progress(["a", "b"], stream=stream, clock=clock, delay=0.0) as progress:
        progress.start("a")
        clock.now += 10
        progress.start("b")
        progress.advance(5, 10)
    assert stream.getvalue() == ""


def test_nothing_is_drawn_before_the_delay_then_phases_and_a_bar():
    stream, clock = Terminal(), Clock()
    progress = Progress(["load", "reach", "credibility", "segments"], stream=stream, clock=clock, delay=2.0)
    progress.start("load")
    clock.now += 1.5
    progress.start("reach")
    assert stream.getvalue() == "", "a short run shows nothing"
    clock.now += 1.0
    progress.start("credibility")
    shown = stream.getvalue()
    assert shown.startswith("\r") and "3/4 credibility" in shown and "2.5 s" in shown
    assert "[############............]" in shown, "two of four phases done: half the bar"
    # a long loop inside the phase moves the bar, at most every REDRAW_INTERVAL seconds
    clock.now += 0.5
    progress.advance(1, 2)
    assert "50%" in stream.getvalue().split("\r")[-1]
    before = stream.getvalue()
    progress.advance(3, 4)  # same instant: not redrawn
    assert stream.getvalue() == before
    clock.now += 0.2
    progress.advance(3, 4)
    last = stream.getvalue().split("\r")[-1]
    assert "75%" in last and len(last) <= 79
    progress.close()
    assert stream.getvalue().endswith("\r" + " " * 79 + "\r"), "the line is erased at the end"
    assert "\n" not in stream.getvalue()


def test_disabled_draws_nothing_and_close_without_drawing_writes_nothing():
    stream, clock = Terminal(), Clock()
    with Progress(["a"], stream=stream, clock=clock, delay=0.0, enabled=False) as progress:
        progress.start("a")
    assert stream.getvalue() == ""
    with Progress(["a"], stream=stream, clock=clock, delay=5.0) as progress:
        progress.start("a")
    assert stream.getvalue() == ""


def test_unknown_phases_are_appended_and_lines_fit_the_width():
    stream, clock = Terminal(), Clock()
    progress = Progress(["a"], stream=stream, clock=clock, delay=0.0, width=40)
    progress.start("a very long phase name that does not fit in forty columns")
    assert progress.phases[-1].startswith("a very long")
    assert all(len(part) <= 40 for part in stream.getvalue().split("\r"))
    progress.close()


def test_delay_from_the_environment(monkeypatch):
    monkeypatch.setenv("INFLUENCE_PROGRESS_DELAY", "0.5")
    assert default_delay() == 0.5
    for bad in ("soon", "-1"):
        monkeypatch.setenv("INFLUENCE_PROGRESS_DELAY", bad)
        assert default_delay() == DEFAULT_DELAY
    monkeypatch.delenv("INFLUENCE_PROGRESS_DELAY")
    assert Progress([], stream=io.StringIO()).delay == DEFAULT_DELAY


# --------------------------------------------------------------------------------------------
# the display in a real process whose stderr is a pseudo-terminal


def run_with_tty_stderr(*args, delay="0"):
    """Run `python -m influence ARGS` with stderr on a pseudo-terminal and stdout on a pipe."""
    master, slave = pty.openpty()
    env = {**os.environ, "INFLUENCE_PROGRESS_DELAY": delay}
    proc = subprocess.Popen([sys.executable, "-m", "influence", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    err = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            err += chunk
        elif proc.poll() is not None:
            break
    out = proc.stdout.read()
    proc.wait(timeout=120)
    os.close(master)
    return proc.returncode, out, err.decode()


def test_progress_on_a_terminal_stderr_never_reaches_stdout():
    code, out, err = run_with_tty_stderr("rank", SAMPLE, "--top", "3")
    assert code == 0, err
    assert "influence [" in err and "/7 " in err, "phases and a bar on the terminal"
    assert "credibility" in err
    assert b"\r" not in out and b"influence [" not in out, "nothing of it on stdout"
    plain = subprocess.run([sys.executable, "-m", "influence", "rank", str(SAMPLE), "--top", "3"],
                           capture_output=True, env={**os.environ, "INFLUENCE_PROGRESS_DELAY": "0"})
    assert plain.returncode == 0
    assert out == plain.stdout, "stdout is the same with and without the display"
    assert "influence [" not in plain.stderr.decode(), "no display when stderr is not a terminal"
    # the summary line starts on a clean line: the display was erased before it
    assert err.rstrip().splitlines()[-1].lstrip("\r ").startswith("influence: 3,000 accounts")


def test_quiet_silences_the_display_and_a_short_run_shows_none():
    code, out, err = run_with_tty_stderr("rank", SAMPLE, "--top", "3", "--quiet")
    assert code == 0 and err == ""
    code, _, err = run_with_tty_stderr("rank", SAMPLE, "--top", "3", delay="600")
    assert code == 0 and "influence [" not in err and "influence: 3,000 accounts" in err


# --------------------------------------------------------------------------------------------
# rank's tables


def test_format_table_max_width_cuts_text_columns_only():
    frame = pl.DataFrame({"rank": [1, 2], "account": ["x" * 30, "short"], "segment": ["suspicious", "mass"],
                          "followers": [650_000_000, 12], "score": [0.5, 0.25]})
    wide = format_table(frame)
    assert max(len(line) for line in wide.splitlines()) > 50
    narrow = format_table(frame, max_width=50)
    lines = narrow.splitlines()
    assert max(len(line) for line in lines) <= 50
    assert "650,000,000" in narrow and "0.500" in narrow and "suspicious" in narrow
    assert "…" in lines[2]
    # numbers stay right-aligned: their last characters share a column
    ends = {line.index("0.500") + 5 for line in lines if "0.500" in line} | {
        line.index("0.250") + 5 for line in lines if "0.250" in line}
    assert len(ends) == 1


def test_rank_table_shows_segment_and_tier(tmp_path):
    result = CliRunner().invoke(main, ["rank", str(SAMPLE), "--top", "3", "-q"])
    assert result.exit_code == 0
    header = result.stdout.splitlines()[1].split()
    assert header == ["rank", "account", "segment", "tier", "followers", "reach", "cred", "peer", "score"]
    rows = [line.split() for line in result.stdout.splitlines() if line[:4].strip().isdigit()]
    assert {r[2] for r in rows} == {"mass", "micro"}
    assert all(r[3] in ("nano", "micro", "mid", "macro", "mega") for r in rows)


def test_rank_table_footer_names_the_signals_the_input_lacks(tmp_path):
    follows = sample_edges().filter(pl.col("kind") == "follow").drop("kind")
    path = tmp_path / "follows.parquet"
    follows.write_parquet(path)
    table = CliRunner().invoke(main, ["rank", str(path)])
    assert table.exit_code == 0
    assert "signals this input lacks:" in table.stdout
    assert "- no interaction edges: credibility from audience structure only" in table.stdout
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    assert "no interaction edges" not in table.stderr, "said once, in the table"
    quiet = CliRunner().invoke(main, ["rank", str(path), "-q"])
    assert quiet.stdout == table.stdout and quiet.stderr == ""
    # csv carries only data: the same message is a warning on stderr
    csv = CliRunner().invoke(main, ["rank", str(path), "--format", "csv"])
    assert "lacks" not in csv.stdout
    assert "Warning: no interaction edges: credibility from audience structure only" in csv.stderr
    # a complete input has no footer
    full = tmp_path / "full.parquet"
    sample_edges().write_parquet(full)
    assert "lacks" not in CliRunner().invoke(main, ["rank", str(full), "-q"]).stdout


def test_a_warning_during_the_display_starts_on_a_clean_line(tmp_path):
    """Higgs-like input without follow edges: the warning comes from score(), after the display
    has started (delay 0); it must not be glued to the end of the bar."""
    path = tmp_path / "interactions.parquet"
    sample_edges().filter(pl.col("kind") != "follow").write_parquet(path)
    code, out, err = run_with_tty_stderr("rank", path, "--format", "csv", "--top", "3")
    assert code == 0, err
    assert "influence [" in err
    for line in err.replace("\r\n", "\n").split("\n"):
        if "Warning:" in line:
            shown = line.split("\r")[-1]
            assert shown.startswith("Warning:") and "influence [" not in shown, repr(line)
    assert "Warning: no follow edges" in err
    assert b"Warning" not in out and b"influence [" not in out


def test_plan_loops_move_the_bar_within_their_phase():
    """plan's greedy passes are Python loops: the bar moves inside them (percent shown)."""
    import influence
    from influence.planning import plan

    graph = influence.load(SAMPLE)
    stream, clock = Terminal(), Clock()

    class Ticking(Progress):
        def advance(self, done, total):
            clock.now += 0.05  # every call takes a little time: some are drawn
            super().advance(done, total)

    with Ticking(["plan by gain per cost", "plan by gain"], stream=stream, clock=clock, delay=0.0) as progress:
        picks = plan(graph, 20000, progress=progress)
    drawn = [part for part in stream.getvalue().split("\r") if part.strip()]
    assert picks.height > 0
    assert any("plan by gain per cost" in p and "%" in p for p in drawn)
    assert any(p.startswith("influence [") and "plan by gain " in p for p in drawn)
    assert picks.equals(plan(graph, 20000)), "the display changes nothing"


def test_the_ticker_redraws_inside_a_long_phase_and_stops_on_close():
    import time

    stream = Terminal()
    with Progress(["load", "score"], stream=stream, delay=0.05, tick=0.02) as progress:
        progress.start("load")
        time.sleep(0.4)  # a long phase that reports nothing, like a kernel
        during = stream.getvalue()
    draws = [part for part in during.split("\r") if part.startswith("influence [")]
    assert len(draws) >= 3, "redrawn while the phase runs"
    seconds = [float(part.strip().rsplit(" ", 2)[-2]) for part in draws]
    assert seconds == sorted(seconds) and seconds[-1] > seconds[0], "its clock keeps running"
    assert stream.getvalue().endswith("\r" + " " * 79 + "\r")
    closed = stream.getvalue()
    time.sleep(0.1)
    assert stream.getvalue() == closed, "nothing is drawn after close"


def test_write_above_puts_text_on_its_own_line():
    stream, clock = Terminal(), Clock()
    progress = Progress(["a"], stream=stream, clock=clock, delay=0.0)
    progress.start("a")
    progress.write_above("Warning: something")
    text = stream.getvalue()
    assert text.endswith("\r" + " " * 79 + "\rWarning: something\n")
    progress.start("a")
    assert stream.getvalue().split("\n")[-1].startswith("\rinfluence ["), "drawn again below"
    progress.close()
