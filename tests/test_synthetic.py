"""Tests of the planted-truth synthetic world generator (influence.synthetic).

Each planted role is checked against the property the docs claim for it, on small worlds.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

from influence import synthetic
from influence.errors import ConfigError, InfluenceError
from influence.synthetic import KINDS, ROLES, WorldConfig, generate_world, generate_world_frames

N = 8_000
SEED = 3


@pytest.fixture(scope="module")
def world():
    return generate_world_frames(WorldConfig(n_nodes=N, seed=SEED))


@pytest.fixture(scope="module")
def follows(world):
    edges, _, truth = world
    t = truth.select("id", "role", "community")
    return (
        edges.filter(pl.col("kind") == "follow")
        .join(t.rename({"id": "src", "role": "src_role", "community": "src_comm"}), on="src")
        .join(t.rename({"id": "dst", "role": "dst_role", "community": "dst_comm"}), on="dst")
    )


@pytest.fixture(scope="module")
def accounts(world, follows):
    """Per-account audience and engagement statistics, with the planted truth."""
    edges, nodes, truth = world
    fol = follows.group_by("dst").agg(
        pl.len().alias("n_followers"),
        (pl.col("src_comm") == pl.col("dst_comm")).mean().alias("own_share"),
        (pl.col("src_role") == "bot").mean().alias("bot_share"),
        pl.col("src_comm").n_unique().alias("n_communities"),
    )
    inter = (
        edges.filter(pl.col("kind") != "follow")
        .join(follows.select("src", "dst", pl.lit(True).alias("is_follower")),
              on=["src", "dst"], how="left")
        .join(truth.select(pl.col("id").alias("src"), pl.col("role").alias("src_role")), on="src")
    )
    eng = inter.group_by("dst").agg(
        pl.col("weight").filter(pl.col("is_follower")).sum().alias("w_followers"),
        pl.col("weight").sum().alias("w_all"),
        pl.col("weight").filter(pl.col("src_role") == "bot").sum().alias("w_bots"),
        pl.col("weight").filter(pl.col("kind") == "like").mean().alias("like_weight"),
        (pl.col("kind") == "share").sum().alias("n_shares"),
    )
    return (
        nodes.join(truth, on="id")
        .join(fol, left_on="id", right_on="dst", how="left")
        .join(eng, left_on="id", right_on="dst", how="left")
        .with_columns(pl.col("n_followers", "w_followers", "w_all", "w_bots", "n_shares").fill_null(0))
        .with_columns((pl.col("w_followers") / pl.col("followers").clip(1)).alias("eng_per_follower"))
    )


# --- schema and hygiene -----------------------------------------------------------------------


def test_schema_and_dtypes(world):
    edges, nodes, truth = world
    assert edges.schema == pl.Schema(
        {"src": pl.Int64, "dst": pl.Int64, "kind": pl.String, "weight": pl.Float64, "ts": pl.Int64}
    )
    assert nodes.schema == pl.Schema(
        {"id": pl.Int64, "name": pl.String, "followers": pl.Int64, "topic": pl.String,
         "cost": pl.Float64, "sponsored_share": pl.Float64, "verified": pl.Boolean}
    )
    assert truth.columns[:3] == ["id", "role", "community"]
    assert truth.schema["role"] == pl.String
    assert set(edges["kind"].unique()) == set(KINDS)
    assert set(truth["role"].unique()) == set(ROLES)
    assert nodes.height == truth.height == N
    assert nodes["id"].n_unique() == N and (nodes["id"] == truth["id"]).all()
    assert nodes["name"][0].startswith("user_")
    assert nodes["topic"].str.contains(r"^t\d{2,}$").all()
    assert edges["weight"].min() >= 1.0
    assert (edges.filter(pl.col("kind") == "follow")["weight"] == 1.0).all()
    assert edges.null_count().sum_horizontal().item() == 0
    assert edges["ts"].min() > 1_500_000_000
    # every endpoint is a node
    ids = nodes["id"]
    assert edges["src"].is_in(ids.implode()).all() and edges["dst"].is_in(ids.implode()).all()
    # about 20-30 rows per node with interactions
    assert 15 <= edges.height / N <= 35


def test_no_self_loops_no_duplicates(world):
    edges, _, _ = world
    assert edges.filter(pl.col("src") == pl.col("dst")).height == 0
    assert edges.select("src", "dst", "kind").is_duplicated().sum() == 0


def test_followers_column_is_follow_in_degree(world, accounts):
    assert (accounts["followers"] == accounts["n_followers"]).all()


def test_role_counts(world):
    _, _, truth = world
    counts = dict(truth.group_by("role").len().iter_rows())
    assert counts["mass"] >= 5 and counts["micro"] >= 50 and counts["fake"] >= 10
    assert counts["bot"] == round(0.05 * N)
    assert counts["regular"] > 0.8 * N


# --- planted roles ----------------------------------------------------------------------------


def test_bots_have_no_followers_and_no_engagement(world, accounts):
    edges, _, truth = world
    bots = truth.filter(pl.col("role") == "bot")["id"].implode()
    assert edges.filter(pl.col("dst").is_in(bots)).height == 0
    b = accounts.filter(pl.col("role") == "bot")
    assert (b["followers"] == 0).all()
    out = edges.filter(pl.col("src").is_in(bots) & (pl.col("kind") == "follow")).group_by("src").len()
    assert out.height > 0.9 * b.height
    # bots mostly follow fakes, and like only fakes
    tgt = edges.filter(pl.col("src").is_in(bots)).join(
        truth.select(pl.col("id").alias("dst"), pl.col("role").alias("dst_role")), on="dst")
    assert (tgt.filter(pl.col("kind") != "follow")["dst_role"] == "fake").all()
    assert (tgt.filter(pl.col("kind") == "follow")["dst_role"] == "fake").mean() > 0.4


def test_micro_audiences_sit_in_one_community(world, accounts):
    _, _, truth = world
    micro = accounts.filter(pl.col("role") == "micro")
    assert micro["own_share"].mean() >= 0.8
    sizes = truth.filter(pl.col("role") != "bot").group_by("community").len()
    reach = micro.join(sizes, on="community").select(pl.col("followers") / pl.col("len"))
    assert 0.01 <= reach.to_series().median() <= 0.10


def test_mass_audiences_span_communities(world, accounts):
    _, _, truth = world
    k = truth["community"].n_unique()
    mass = accounts.filter(pl.col("role") == "mass")
    assert (mass["n_communities"] >= 0.75 * k).all()
    assert mass["own_share"].mean() < 0.5
    micro_median = accounts.filter(pl.col("role") == "micro")["followers"].median()
    assert mass["followers"].median() > 5 * micro_median
    regular_q99 = accounts.filter(pl.col("role") == "regular")["followers"].quantile(0.99)
    assert mass["followers"].min() > regular_q99
    assert mass["verified"].mean() > 0.4
    assert mass["sponsored_share"].is_between(0.3, 0.7).all()


def test_fake_followers_are_mostly_bots(accounts):
    fake = accounts.filter(pl.col("role") == "fake")
    assert fake["bot_share"].mean() > 0.6
    assert (fake["w_bots"] / fake["w_all"]).mean() > 0.8
    # bot likes are heavy: a few accounts like every post
    assert fake["like_weight"].median() > 4
    micro_median = accounts.filter(pl.col("role") == "micro")["followers"].median()
    assert micro_median <= fake["followers"].median() <= 20 * micro_median


def test_pods_are_reciprocal_cliques(world):
    edges, _, truth = world
    pods = truth.filter(pl.col("pod_id") >= 0).select("id", "pod_id")
    assert pods.height > 0
    assert pods.group_by("pod_id").len()["len"].is_between(5, 15).all()
    assert (truth.filter(pl.col("pod_id") >= 0)["role"] == "pod").all()
    for kind in ("follow", "like", "comment"):
        inside = (
            edges.filter(pl.col("kind") == kind)
            .join(pods.rename({"id": "src", "pod_id": "p_src"}), on="src")
            .join(pods.rename({"id": "dst", "pod_id": "p_dst"}), on="dst")
            .filter(pl.col("p_src") == pl.col("p_dst"))
        )
        sizes = pods.group_by("pod_id").len()["len"]
        expected = int((sizes * (sizes - 1)).sum())
        assert inside.height == expected, kind  # every ordered pair: a reciprocal clique


def test_engagement_rate_falls_with_audience(accounts):
    genuine = accounts.filter(
        pl.col("role").is_in(["mass", "micro", "regular"]) & (pl.col("followers") >= 5))
    rho = genuine.select(pl.corr("followers", "eng_per_follower", method="spearman")).item()
    assert rho < -0.2
    by_role = dict(genuine.group_by("role").agg(pl.col("eng_per_follower").median()).iter_rows())
    assert by_role["mass"] < by_role["micro"]


def test_micro_differs_from_popular_regulars(accounts):
    micro = accounts.filter(pl.col("role") == "micro")
    popular = accounts.filter(pl.col("popular"))
    assert popular.height > 0 and (popular["role"] == "regular").all()
    # popular regulars have at least micro-sized audiences...
    assert popular["followers"].median() >= micro["followers"].median()
    # ...but are rarely engaged or reshared
    assert micro["eng_per_follower"].median() > 5 * popular["eng_per_follower"].median()
    assert micro["n_shares"].median() >= 2 > popular["n_shares"].median()
    # micro engagement is repeated by the same followers
    assert micro["like_weight"].mean() > 1.5
    assert micro["sponsored_share"].max() <= 0.15


def test_regular_reciprocity_and_locality(follows):
    rr = follows.filter((pl.col("src_role") == "regular") & (pl.col("dst_role") == "regular"))
    local = (rr["src_comm"] == rr["dst_comm"]).mean()
    rr = rr.select("src", "dst")
    reciprocated = rr.join(rr.rename({"src": "dst", "dst": "src"}), on=["src", "dst"], how="semi").height
    assert 0.15 <= reciprocated / rr.height <= 0.35
    assert local > 0.6


def test_cost_rises_with_audience(accounts):
    humans = accounts.filter(pl.col("role") != "bot")
    assert humans.select(pl.corr("followers", "cost", method="spearman")).item() > 0.8
    assert (accounts["cost"] > 0).all()
    assert accounts["sponsored_share"].is_between(0, 1).all()


# --- determinism and variants ------------------------------------------------------------------


def test_same_seed_same_world_other_seed_differs(world):
    again = generate_world_frames(WorldConfig(n_nodes=N, seed=SEED))
    for a, b in zip(world, again):
        assert a.equals(b)
    other = generate_world_frames(WorldConfig(n_nodes=N, seed=SEED + 1))
    assert not world[0].equals(other[0])
    assert not world[2].equals(other[2])


def test_small_chunks(world):
    cfg = WorldConfig(n_nodes=N, seed=SEED, chunk_nodes=1_000)
    edges, nodes, truth = generate_world_frames(cfg)
    assert truth.equals(world[2])  # the setup does not depend on the chunking
    assert edges.select("src", "dst", "kind").is_duplicated().sum() == 0
    assert edges.filter(pl.col("src") == pl.col("dst")).height == 0
    assert abs(edges.height / world[0].height - 1) < 0.05


def test_follows_only(world):
    cfg = WorldConfig(n_nodes=N, seed=SEED, variant="follows_only")
    edges, nodes, truth = generate_world_frames(cfg)
    assert set(edges["kind"].unique()) == {"follow"}
    # the follow layer is the default world's follow layer
    assert edges.equals(world[0].filter(pl.col("kind") == "follow"))
    assert nodes.equals(world[1])
    assert truth.equals(world[2])
    small = generate_world_frames(WorldConfig(n_nodes=2_000, follows_only=True))[0]
    assert small["kind"].unique().to_list() == ["follow"]


def test_string_ids(world):
    edges, nodes, truth = generate_world_frames(WorldConfig(n_nodes=N, seed=SEED, id_type="string"))
    assert edges.schema["src"] == pl.String and edges.schema["dst"] == pl.String
    assert nodes.schema["id"] == pl.String and truth.schema["id"] == pl.String
    assert nodes["id"].str.contains(r"^u\d{7}$").all() and nodes["id"].n_unique() == N
    assert edges.height == world[0].height
    assert (truth["role"] == world[2]["role"]).all()
    assert edges["src"].is_in(nodes["id"].implode()).all()


def test_random64_ids(world):
    cfg = WorldConfig(n_nodes=N, seed=SEED, variant="random64_ids")
    edges, nodes, truth = generate_world_frames(cfg)
    ids = nodes["id"]
    assert ids.dtype == pl.Int64 and ids.n_unique() == N
    assert ids.min() == np.iinfo(np.int64).min and ids.max() == np.iinfo(np.int64).max
    assert (ids < -(2**32)).sum() > N / 4 and (ids > 2**32).sum() > N / 4
    assert edges.schema["src"] == pl.Int64
    assert edges["dst"].is_in(ids.implode()).all()
    assert edges.height == world[0].height
    assert (truth["role"] == world[2]["role"]).all()


def test_int_ids_are_dense_ish(world):
    ids = world[1]["id"]
    assert ids.min() >= 1 and ids.max() <= 1.25 * N + 1 and ids.is_sorted()


def test_no_node_table(tmp_path):
    cfg = WorldConfig(n_nodes=2_000, seed=1, node_table=False)
    edges, nodes, truth = generate_world_frames(cfg)
    assert nodes is None and edges.height > 0 and truth.height == 2_000
    result = generate_world(cfg, tmp_path)
    assert result["nodes"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edges.parquet", "truth.parquet"]


def test_variant_flags_resolve():
    cfg = WorldConfig(n_nodes=2_000, variant="string_ids")
    assert cfg.id_type == "string" and cfg.follows_only is False and cfg.node_table is True
    assert WorldConfig(n_nodes=2_000).id_type == "int"


# --- configuration errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_nodes": 10}, "n_nodes"),
        ({"n_nodes": 999}, "n_nodes"),
        ({"n_nodes": 1000.5}, "n_nodes"),
        ({"seed": -1}, "seed"),
        ({"micro_share": -0.01}, "micro_share"),
        ({"bot_share": 0.6}, "bot_share"),
        ({"mass_share": 0.5, "micro_share": 0.5, "bot_share": 0.3}, "sum"),
        ({"variant": "nope"}, "variant"),
        ({"id_type": "uuid"}, "id_type"),
        ({"variant": "follows_only", "follows_only": False}, "contradicts"),
        ({"n_communities": 1}, "n_communities"),
        ({"n_communities": 1_000}, "n_communities"),
        ({"engagement_slope": 0.5}, "engagement_slope"),
        ({"chunk_nodes": 10}, "chunk_nodes"),
        ({"n_nodes": 1_000, "pod_share": 0.45, "bot_share": 0.45}, "regular"),
    ],
)
def test_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        WorldConfig(**kwargs)


def test_config_is_frozen():
    cfg = WorldConfig(n_nodes=2_000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_nodes = 3  # type: ignore[misc]


def test_zero_share_drops_role():
    _, _, truth = generate_world_frames(WorldConfig(n_nodes=2_000, fake_share=0.0, pod_share=0.0))
    assert not truth["role"].is_in(["fake", "pod"]).any()


# --- writing ---------------------------------------------------------------------------------


def test_generate_world_writes_three_files_atomically(tmp_path):
    cfg = WorldConfig(n_nodes=3_000, seed=5, chunk_nodes=1_000)
    out = tmp_path / "world"
    result = generate_world(cfg, out)
    assert sorted(p.name for p in out.iterdir()) == ["edges.parquet", "nodes.parquet", "truth.parquet"]
    edges, nodes, truth = generate_world_frames(cfg)
    assert pl.read_parquet(result["edges"]).equals(edges)
    assert pl.read_parquet(result["nodes"]).equals(nodes)
    assert pl.read_parquet(result["truth"]).equals(truth)
    assert result["n_nodes"] == 3_000 and result["n_edges"] == edges.height
    assert result["seconds"] > 0
    # several row groups: the edges were streamed chunk by chunk
    import pyarrow.parquet as pq

    assert pq.ParquetFile(result["edges"]).num_row_groups == 3


def test_same_seed_same_bytes(tmp_path):
    cfg = WorldConfig(n_nodes=2_000, seed=7, chunk_nodes=700)
    generate_world(cfg, tmp_path / "a")
    generate_world(cfg, tmp_path / "b")
    for name in ("edges", "nodes", "truth"):
        a = (tmp_path / "a" / f"{name}.parquet").read_bytes()
        assert a == (tmp_path / "b" / f"{name}.parquet").read_bytes()


def test_interrupted_run_leaves_no_file(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(synthetic, "_truth_table", boom)
    with pytest.raises(RuntimeError, match="interrupted"):
        generate_world(WorldConfig(n_nodes=2_000, seed=1), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_output_path_that_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(InfluenceError, match="output directory"):
        generate_world(WorldConfig(n_nodes=1_000), target)
