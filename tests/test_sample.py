"""The bundled sample: regenerable by its documented command, and ranked as the README shows."""

from pathlib import Path

import polars as pl
import pytest
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
