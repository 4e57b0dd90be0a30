"""Naive, obviously correct twins of the engine's kernels, and oracles (networkx, scipy.sparse).

Everything here is slow on purpose: plain Python loops over dicts and sets, or a library
implementation nobody on this project wrote. Edge direction as everywhere: ``src -> dst`` means
``src`` pays attention to ``dst``.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import networkx as nx
import numpy as np
import scipy.sparse as sp

from influence.config import DEFAULT_KIND_WEIGHTS, FOLLOW_KINDS, NEGATIVE_KINDS, RESHARE_KINDS

# ---------------------------------------------------------------------------------------------
# Hand-made graphs: name -> (n_nodes, [(src, dst, weight), ...])
# ---------------------------------------------------------------------------------------------

HAND_MADE = {
    # everyone pays attention to the hub 0 (the hub is dangling: it attends to nobody)
    "star": (5, [(1, 0, 1.0), (2, 0, 1.0), (3, 0, 1.0), (4, 0, 1.0)]),
    "chain": (4, [(0, 1, 1.0), (1, 2, 2.0), (2, 3, 1.0)]),
    "cycle": (4, [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0)]),
    # node 2 attends to nobody, node 3 is isolated
    "dangling": (4, [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 3.0), (1, 0, 0.5)]),
    "two_components": (6, [(0, 1, 1.0), (1, 0, 2.0), (2, 3, 1.0), (3, 4, 1.0), (4, 2, 1.0), (5, 4, 1.5)]),
    "single": (1, []),
    "empty": (3, []),
    # duplicates of the same (src, dst) pair
    "duplicates": (3, [(0, 1, 1.0), (0, 1, 2.0), (2, 1, 0.25), (0, 1, 0.5), (1, 2, 1.0)]),
}


def edge_arrays(edges):
    """``(src int32, dst int32, weight float64)`` arrays of an edge list."""
    src = np.array([e[0] for e in edges], dtype=np.int32)
    dst = np.array([e[1] for e in edges], dtype=np.int32)
    w = np.array([e[2] for e in edges], dtype=np.float64)
    return src, dst, w


def random_edges(rng: np.random.Generator, n: int, m: int, *, self_loops: bool = False, integer_weights=False):
    """``m`` random edges over ``n`` nodes (duplicates likely), as three arrays."""
    src = rng.integers(0, n, m).astype(np.int32)
    dst = rng.integers(0, n, m).astype(np.int32)
    if not self_loops:
        keep = src != dst
        src, dst = src[keep], dst[keep]
    if integer_weights:
        w = rng.integers(1, 4, src.shape[0]).astype(np.float64)
    else:
        w = rng.random(src.shape[0]) + 0.01
    return src, dst, w


# ---------------------------------------------------------------------------------------------
# CSR
# ---------------------------------------------------------------------------------------------


def csr_scipy(rows, cols, weights, n_rows, n_cols=None):
    """The oracle CSR: scipy's COO -> CSR with duplicates summed and sorted column indices."""
    n_cols = n_rows if n_cols is None else n_cols
    a = sp.coo_array((np.asarray(weights, np.float64), (np.asarray(rows), np.asarray(cols))), shape=(n_rows, n_cols))
    a = a.tocsr()
    a.sum_duplicates()
    a.sort_indices()
    return a.indptr.astype(np.int64), a.indices.astype(np.int32), a.data


def in_csr(n, src, dst, w):
    """In-edge CSR (row ``v`` lists the ``u`` with ``u -> v``) via scipy, data float32."""
    indptr, indices, data = csr_scipy(dst, src, w, n)
    return indptr, indices, data.astype(np.float32)


def out_csr(n, src, dst, w):
    """Out-edge CSR (row ``u`` lists the ``v`` with ``u -> v``) via scipy, data float32."""
    indptr, indices, data = csr_scipy(src, dst, w, n)
    return indptr, indices, data.astype(np.float32)


def rows_of(indptr, indices, data):
    """``{row: {col: weight}}`` of a CSR, for readable comparisons."""
    out = {}
    for r in range(len(indptr) - 1):
        out[r] = {int(indices[e]): float(data[e]) for e in range(indptr[r], indptr[r + 1])}
    return out


# ---------------------------------------------------------------------------------------------
# PageRank
# ---------------------------------------------------------------------------------------------


def summed_weights(edges):
    """``{(u, v): total weight}`` with duplicates summed."""
    total = defaultdict(float)
    for u, v, w in edges:
        total[(int(u), int(v))] += float(w)
    return dict(total)


def pagerank_networkx(n, edges, teleport=None, damping=0.85):
    """networkx's weighted PageRank; dangling mass goes along ``teleport`` (its default)."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for (u, v), w in summed_weights(edges).items():
        g.add_edge(u, v, weight=w)
    personalization = None if teleport is None else {i: float(teleport[i]) for i in range(n)}
    ranks = nx.pagerank(g, alpha=damping, personalization=personalization, weight="weight", tol=1e-14, max_iter=100_000)
    return np.array([ranks[i] for i in range(n)])


def pagerank_naive(n, edges, teleport=None, damping=0.85, tol=1e-15, max_iter=10_000):
    """Dense power iteration in plain Python, dangling mass along ``teleport``."""
    teleport = [1.0 / n] * n if teleport is None else [float(t) for t in teleport]
    weights = summed_weights(edges)
    out_strength = [0.0] * n
    for (u, _), w in weights.items():
        out_strength[u] += w
    rank = list(teleport)
    for _ in range(max_iter):
        dangling = sum(rank[u] for u in range(n) if out_strength[u] == 0)
        new = [(damping * dangling + 1 - damping) * teleport[v] for v in range(n)]
        for (u, v), w in weights.items():
            new[v] += damping * rank[u] * w / out_strength[u]
        change = sum(abs(a - b) for a, b in zip(new, rank))
        rank = new
        if change < tol:
            break
    return np.array(rank)


# ---------------------------------------------------------------------------------------------
# Cascades
# ---------------------------------------------------------------------------------------------


def audiences(n, edges):
    """``{v: set of u with u -> v}`` (distinct)."""
    aud = {v: set() for v in range(n)}
    for u, v, *_ in edges:
        aud[int(v)].add(int(u))
    return aud


def expected_exposures_naive(n, edges, pass_on, depth):
    """``s_k(v) = sum over the audience u of v of (1 + pass_on[u] * s_{k-1}(u))``, by recursion."""
    aud = audiences(n, edges)

    def s(v, k):
        if k == 0:
            return 0.0
        return sum(1.0 + pass_on[u] * s(u, k - 1) for u in sorted(aud[v]))

    return np.array([s(v, depth) for v in range(n)])


def expected_exposures_observed_naive(n, edges, reshares, pass_on, prior_strength, depth):
    """Per-edge pass-on: ``p_uv = 1 - exp(-(r_uv + k * pass_on[u]) / (1 + k))`` with ``r_uv`` the
    reshares of ``v`` by ``u`` (``reshares``: ``{(u, v): count}``), then the same recursion."""
    aud = audiences(n, edges)
    k = prior_strength

    def p(u, v):
        return 1.0 - math.exp(-(reshares.get((u, v), 0.0) + k * pass_on[u]) / (1.0 + k))

    def s(v, depth_left):
        if depth_left == 0:
            return 0.0
        return sum(1.0 + p(u, v) * s(u, depth_left - 1) for u in sorted(aud[v]))

    return np.array([s(v, depth) for v in range(n)])


def cascade_spread_bruteforce(n, edges, pass_on, depth, root):
    """Exact expected number of distinct accounts (other than ``root``) that see a post of ``root``.

    Independent cascade truncated at ``depth`` hops: the root's audience sees the post (hop 1);
    every account that saw it at hop ``k < depth`` passes it on with probability ``pass_on[u]``,
    and then its audience sees it at hop ``k + 1``. Enumerates all ``2**n`` pass-on outcomes.
    """
    aud = audiences(n, edges)
    expected = 0.0
    for outcome in itertools.product((False, True), repeat=n):
        prob = 1.0
        for u in range(n):
            prob *= pass_on[u] if outcome[u] else 1.0 - pass_on[u]
        if prob == 0.0:
            continue
        seen = {root}
        frontier = [root]
        for hop in range(depth):
            nxt = []
            for x in frontier:
                if x != root and not outcome[x]:
                    continue
                for u in aud[x]:
                    if u not in seen:
                        seen.add(u)
                        nxt.append(u)
            frontier = nxt
        expected += prob * (len(seen) - 1)
    return expected


def ic_live_world_spread(aud, live, depth, root):
    """Distinct accounts other than ``root`` that see a post of ``root`` in one live-edge world.

    Sharers at hop 0: the root; at hop ``h + 1``: accounts that are not sharers yet and hold a
    live edge ``(u, x)`` into a sharer ``x`` of hop ``h`` (``u`` sees ``x``'s share and passes it
    on). Everyone in the audience of a sharer of hops ``0 .. depth - 1`` sees the post.
    """
    sharers = {root}
    frontier = {root}
    seen = set()
    for _ in range(depth):
        nxt = set()
        for x in frontier:
            for u in aud[x]:
                seen.add(u)
                if (u, x) in live and u not in sharers:
                    nxt.add(u)
        sharers |= nxt
        frontier = nxt
    seen.discard(root)
    return len(seen)


def ic_spread_exact(n, edges, edge_prob, depth):
    """Exact expected spread of every account under the edge-level independent cascade.

    ``edges``: ``(u, v, ...)``, ``u`` attends to ``v``; ``edge_prob[(u, v)]``: the probability
    that ``u`` passes on a post it sees through ``v`` (missing pairs: 0). Enumerates every
    live-edge world (each edge with 0 < p < 1 is a coin) and averages
    :func:`ic_live_world_spread`.
    """
    aud = audiences(n, edges)
    pairs = sorted({(int(u), int(v)) for u, v, *_ in edges})
    certain = {e for e in pairs if edge_prob.get(e, 0.0) >= 1.0}
    coins = [e for e in pairs if 0.0 < edge_prob.get(e, 0.0) < 1.0]
    total = np.zeros(n)
    for outcome in itertools.product((False, True), repeat=len(coins)):
        prob = 1.0
        live = set(certain)
        for e, on in zip(coins, outcome):
            prob *= edge_prob[e] if on else 1.0 - edge_prob[e]
            if on:
                live.add(e)
        for v in range(n):
            total[v] += prob * ic_live_world_spread(aud, live, depth, v)
    return total


def ic_spread_monte_carlo(n, edges, edge_prob, depth, runs, rng):
    """Forward simulation twin of :func:`ic_spread_exact`: ``runs`` cascades per account, every
    edge's coin flipped once per cascade; returns the mean distinct spread of every account."""
    aud = audiences(n, edges)
    out = np.zeros(n)
    for v in range(n):
        acc = 0
        for _ in range(runs):
            flipped = {}
            seen = {v}
            sharers = [v]
            shared = {v}
            for hop in range(depth):
                nxt = []
                for x in sharers:
                    for u in aud[x]:
                        seen.add(u)
                        if u in shared:
                            continue
                        if (u, x) not in flipped:
                            flipped[(u, x)] = rng.random() < edge_prob.get((u, x), 0.0)
                        if flipped[(u, x)]:
                            shared.add(u)
                            nxt.append(u)
                sharers = nxt
            acc += len(seen) - 1
        out[v] = acc / runs
    return out


# ---------------------------------------------------------------------------------------------
# Neighbourhood statistics (over CSR rows given as {row: {col: weight}})
# ---------------------------------------------------------------------------------------------


def row_sums_naive(rows):
    return np.array([math.fsum(rows[r].values()) for r in range(len(rows))])


def neighbour_sums_naive(rows, values, weighted):
    return np.array(
        [math.fsum((w if weighted else 1.0) * values[c] for c, w in rows[r].items()) for r in range(len(rows))]
    )


def matched_weight_naive(a_rows, b_rows, min_weight):
    weight, count = [], []
    for r in range(len(a_rows)):
        common = set(a_rows[r]) & set(b_rows[r])
        kept = [a_rows[r][c] for c in common if a_rows[r][c] >= min_weight]
        weight.append(math.fsum(kept))
        count.append(len(kept))
    return np.array(weight), np.array(count, dtype=np.int64)


def count_at_least_naive(rows, min_weight):
    return np.array([sum(1 for w in rows[r].values() if w >= min_weight) for r in range(len(rows))], dtype=np.int64)


def label_mix_naive(rows, labels, own_label):
    """Top label share, own label share and exp(entropy) of each row's label distribution."""
    top, own, eff = [], [], []
    for r in range(len(rows)):
        by_label = defaultdict(float)
        for c, w in rows[r].items():
            by_label[int(labels[c])] += w
        total = sum(by_label.values())
        if not rows[r] or total <= 0:
            top.append(0.0)
            own.append(0.0)
            eff.append(0.0)
            continue
        shares = [x / total for x in by_label.values()]
        top.append(max(shares))
        own.append(by_label.get(int(own_label[r]), 0.0) / total)
        eff.append(math.exp(-sum(p * math.log(p) for p in shares if p > 0)))
    return np.array(top), np.array(own), np.array(eff)


def top_label_naive(rows, labels, tie_weight):
    """Label with the largest summed weight among each row's neighbours; ties to the larger
    ``tie_weight``, then the smaller label; -1 without positive weight."""
    out = []
    for r in range(len(rows)):
        by_label = defaultdict(float)
        for c, w in rows[r].items():
            by_label[int(labels[c])] += w
        candidates = [(w, tie_weight[lab], -lab) for lab, w in by_label.items() if w > 0]
        out.append(-max(candidates)[2] if candidates else -1)
    return np.array(out, dtype=np.int64)


def reciprocal_ring_naive(in_rows, out_rows):
    """Partners of ``v`` = in-neighbours that ``v`` also points at; their in-weight, count, and the
    share of ordered pairs of partners that are linked."""
    weight, count, closure = [], [], []
    for v in range(len(in_rows)):
        partners = sorted(set(in_rows[v]) & set(out_rows[v]))
        weight.append(math.fsum(in_rows[v][p] for p in partners))
        count.append(len(partners))
        pairs = [(a, b) for a in partners for b in partners if a != b]
        closure.append(sum(1 for a, b in pairs if b in out_rows[a]) / len(pairs) if pairs else 0.0)
    return np.array(weight), np.array(count, dtype=np.int64), np.array(closure)


# ---------------------------------------------------------------------------------------------
# Graph layers
# ---------------------------------------------------------------------------------------------


def layers_naive(rows, kind_weights=DEFAULT_KIND_WEIGHTS, unknown_weight=1.0):
    """``{layer: {(src_id, dst_id): weight}}`` from ``(src, dst, kind, weight)`` rows.

    Self-loops and rows of weight 0 are dropped; duplicate pairs are summed; unknown kinds are
    interactions.
    """
    layers = {name: defaultdict(float) for name in ("follow", "interaction", "events", "reshare", "negative", "attention")}
    for src, dst, kind, count in rows:
        if src == dst or count == 0:
            continue
        key = (src, dst)
        if kind in FOLLOW_KINDS:
            layers["follow"][key] += count
            layers["attention"][key] += count
        elif kind in NEGATIVE_KINDS:
            layers["negative"][key] += count
        else:
            kw = kind_weights.get(kind, unknown_weight)
            layers["interaction"][key] += count * kw
            layers["events"][key] += count
            layers["attention"][key] += count * kw
            if kind in RESHARE_KINDS:
                layers["reshare"][key] += count
    return {name: dict(d) for name, d in layers.items()}


def layer_as_id_dict(layer, ids):
    """``{(src_id, dst_id): weight}`` of an engine ``Layer`` (through its out-CSR)."""
    out = {}
    for u in range(len(ids)):
        for e in range(layer.out_indptr[u], layer.out_indptr[u + 1]):
            out[(ids[u], ids[int(layer.out_indices[e])])] = float(layer.out_data[e])
    return out
