"""Small hand-made graphs shared by the input and CLI tests."""

import numpy as np
import polars as pl


def sample_edges(seed: int = 0, n_comm: int = 3, size: int = 20) -> pl.DataFrame:
    """A small social graph: one hub followed across communities, one local leader per community
    whose followers like and comment on it again and again. Int64 ids 0..59, no self-loops."""
    rng = np.random.default_rng(seed)
    rows = []
    hub = 0
    for c in range(n_comm):
        members = list(range(c * size, (c + 1) * size))
        leader = members[1]
        for u in members:
            if u != hub and rng.random() < 0.8:
                rows.append((u, hub, "follow", 1.0))
            for v in rng.choice(members, 4, replace=False):
                if v != u:
                    rows.append((u, int(v), "follow", 1.0))
            if u != leader:
                rows.append((u, leader, "follow", 1.0))
                rows.append((u, leader, "like", float(rng.integers(2, 6))))
                rows.append((u, leader, "comment", float(rng.integers(1, 4))))
                if rng.random() < 0.3:
                    rows.append((u, leader, "share", 1.0))
            if u != hub and rng.random() < 0.2:
                rows.append((u, hub, "like", 1.0))
    return pl.DataFrame(
        rows, schema={"src": pl.Int64, "dst": pl.Int64, "kind": pl.String, "weight": pl.Float64}, orient="row"
    )
