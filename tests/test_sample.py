"""The bundled sample: regenerable by its documented command, and ranked as the README shows."""

import re
import shlex
from pathlib import Path

import polars as pl
from click.testing import CliRunner

import influence
from influence.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "sample"


def test_sample_is_regenerated_by_its_documented_command(tmp_path):
    result = CliRunner().invoke(main, ["generate", "--nodes", "3000", "--seed", "7", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    for name in ("edges", "nodes", "truth"):
        bundled = pl.read_parquet(SAMPLE / f"{name}.parquet")
        fresh = pl.read_parquet(tmp_path / f"{name}.parquet")
        assert bundled.equals(fresh), f"{name}.parquet differs from a fresh generation"


def test_readme_command_prints_both_shortlists():
    result = CliRunner().invoke(main, ["rank", str(SAMPLE)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("mass influencers (top 20)\n")
    assert "\nmicro influencers (top 20)\n" in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_sample_shortlists_recover_planted_roles():
    """On the sample the mass list is planted mass accounts and no fake, bot or pod is listed."""
    scores = influence.score(influence.load(SAMPLE)).join(
        pl.read_parquet(SAMPLE / "truth.parquet").select("id", "role"), on="id"
    )
    n_mass = int((scores["role"] == "mass").sum())
    mass = influence.shortlist(scores, "mass", n_mass)
    micro = influence.shortlist(scores, "micro", 20)
    assert (mass["role"] == "mass").all()
    assert not mass["role"].is_in(["fake", "bot", "pod"]).any()
    assert not micro["role"].is_in(["fake", "bot", "pod"]).any()
    assert (micro["role"] == "micro").mean() >= 0.6
    fakes = scores.filter(pl.col("role") == "fake")
    assert (fakes["segment"] == "suspicious").mean() >= 0.9


README = SAMPLE.parents[1] / "README.md"
_EXAMPLE = re.compile(r"<!-- example:start -->\n```text\n(.*?)```\n<!-- example:end -->", re.S)
#: Every other README block that shows a command on the sample and what it prints; a block ending
#: in "..." shows the first lines only.
_SHOWN = re.compile(r"```text\n(\$ influence \w+ datasets/sample[^\n]*)\n(.*?)```", re.S)
_TIMINGS = re.compile(r"\d+\.\d+ s \([^)]*\)$")


def _run_readme_command(command: str) -> tuple[str, str]:
    """stdout and stderr of a README command, run in-process on the bundled sample."""
    args = shlex.split(command.removeprefix("$ "))
    assert args[0] == "influence" and args[2] == "datasets/sample", command
    result = CliRunner().invoke(main, [args[1], str(SAMPLE), *args[3:]])
    assert result.exit_code == 0, result.stderr
    return result.stdout, result.stderr


def test_readme_example_is_what_the_command_prints():
    """The README's example output is the real output (timings aside): regenerate it with
    ``python tests/test_sample.py`` whenever the model or the table changes."""
    block = _EXAMPLE.search(README.read_text()).group(1)
    command, shown = block.split("\n", 1)
    assert command.startswith("$ influence rank ")
    stdout, stderr = _run_readme_command(command)
    assert shown.startswith(stdout), "README example differs from the output: run python tests/test_sample.py"
    shown_stderr = shown[len(stdout):]
    assert _TIMINGS.sub("", shown_stderr.strip()) == _TIMINGS.sub("", stderr.strip())


def _shown_blocks(text: str) -> list:
    example = _EXAMPLE.search(text)
    return [m for m in _SHOWN.finditer(text) if not (example.start() <= m.start() < example.end())]


def _expected(shown: str, stdout: str) -> str:
    """What the block should show: stdout, or its first lines when the block ends in '...'."""
    if shown.endswith("...\n"):
        return "\n".join(stdout.splitlines()[: len(shown.splitlines()) - 1]) + "\n...\n"
    return stdout


def test_readme_blocks_show_what_the_commands_print():
    """explain, overlap, plan ... on the sample: each README block is the real output (or its
    first lines); ``python tests/test_sample.py`` rewrites them."""
    blocks = _shown_blocks(README.read_text())
    assert {m.group(1).split()[2] for m in blocks} >= {"explain", "overlap", "plan"}
    for m in blocks:
        stdout, _ = _run_readme_command(m.group(1))
        assert m.group(2) == _expected(m.group(2), stdout), (
            f"README block {m.group(1)!r} differs from the output: run python tests/test_sample.py")


if __name__ == "__main__":  # rewrite the README's example blocks with the current output
    text = README.read_text()
    command = _EXAMPLE.search(text).group(1).split("\n", 1)[0]
    stdout, stderr = _run_readme_command(command)
    block = f"<!-- example:start -->\n```text\n{command}\n{stdout}{stderr}```\n<!-- example:end -->"
    text = text[: _EXAMPLE.search(text).start()] + block + text[_EXAMPLE.search(text).end():]
    for m in reversed(_shown_blocks(text)):
        shown = _expected(m.group(2), _run_readme_command(m.group(1))[0])
        text = text[: m.start()] + f"```text\n{m.group(1)}\n{shown}```" + text[m.end():]
    README.write_text(text)
