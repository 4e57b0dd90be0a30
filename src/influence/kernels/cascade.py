"""Expected independent-cascade spread of every account from reverse-reachable (RR) sets.

Edge ``u -> v`` means ``u`` pays attention to ``v``: a post of ``v`` is shown to ``u`` (its
audience), and ``u`` passes it on to its own audience with the probability of that edge. The
cascade of a post of ``v`` (Kempe, Kleinberg & Tardos 2003, independent cascade, with exposure
separated from passing on):

* hop 1: every ``u`` of ``v``'s audience sees it;
* an account ``a`` that sees it through the edge ``a -> b`` (``b`` shared or wrote it) passes it
  on with probability ``p_ab``, one independent coin per edge; ``a``'s audience then sees it at
  the next hop; hops stop at ``depth``.

``spread(v)`` is the expected number of distinct accounts other than ``v`` that see the post.

Reverse-reachable sets (Borgs, Brautbar, Chayes & Lucier 2014; Tang, Shi & Xiao 2015, IMM): fix
one *live-edge world* (every coin flipped once) and a target ``w``; its RR set is every author
whose post reaches ``w`` in that world, so ``spread(v) = sum_w P(v in RR(w))``. Here the RR set of
``w`` is found by a breadth-first search over *out*-edges: level 1 holds the accounts ``w`` attends
to (``w`` sees their posts for sure, no coin), level ``l + 1`` the accounts ``b`` with a live edge
``a -> b`` from level ``l`` (``a`` passes on what ``b`` shows it), up to level ``depth``. Level 1 is
what ``audience(v)`` counts exactly, so only levels ``2 .. depth`` are sampled.

Targets are stratified, not drawn: sample ``s`` is round ``s // n`` of target ``w = s % n``, so a
run of ``r`` whole rounds gives every account ``r`` RR sets and ``spread(v) = audience(v) +
hits(v) / r`` is unbiased with no target-sampling noise (``hits(v)`` is a sum of independent
Bernoulli draws with total mean ``r * beyond(v)``, which the bounds below need).

Coins: the probability of an edge ``a -> b`` is ``1 - (1 - q_a)(1 - x_ab)``: a base probability
``q_a`` of the account passing anything on, and an optional extra probability ``x_ab`` on edges
with evidence (observed reshares of ``b`` by ``a``), flipped as a second independent coin. The
base coins of a row are drawn by geometric skipping (one random number per live edge, not per
edge); extra coins one per evidence edge.

Randomness is counter-based: sample ``s`` draws every number from ``mix64`` of ``(seed, round,
keys[w], k)``, ``k`` counting its draws, where ``keys`` is one 64-bit key per account chosen by the
caller (the engine hashes dense indices, so order-preserving renamings change nothing; keys from
ids would keep a target's samples when other accounts are added). Reordering accounts gives other
draws of the same distribution: the estimate moves within its error bound, not bitwise. Neither
the thread count, the blocks nor a split of the sample range over workers changes a sample; hits
are integers, summed exactly: :func:`reverse_reachable_hits` of ``[0, R)`` equals the sum over any
partition of ``[0, R)`` into ranges, bitwise.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .csr import as_indices, as_indptr, as_input, n_threads, run_chunks
from .hashing import mix64

__all__ = [
    "SAMPLE_BLOCK",
    "int_keys",
    "reverse_reachable_hits",
    "rr_confidence_interval",
    "rr_error_threshold",
    "rr_relative_error",
    "rr_samples_for",
]

#: Samples per block: the unit of work a thread takes (aligned on absolute sample indices).
SAMPLE_BLOCK = 1024

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@nb.njit(inline="always")
def _unit(key, counter):
    """A float64 in (0, 1] from draw ``counter`` of the stream ``key``."""
    return (float(mix64(key + np.uint64(counter) * _GOLDEN) >> np.uint64(11)) + 1.0) * _TO_UNIT


@nb.njit(inline="always")
def _reach(b, stamp, seen, queue, size, row):
    """Add account ``b`` to the RR set being drawn (stamp ``stamp``) unless it is in already:
    queued for the next level and counted in ``row``. Returns the queue's new size."""
    if seen[b] == stamp:
        return size
    seen[b] = stamp
    queue[size] = b
    row[b] += 1
    return size + 1


@nb.njit(nogil=True, cache=True)
def _rr_blocks(out_indptr, targets, log_fail, extra_indptr, extra_indices, extra_prob, keys, depth, seed_key,
               start, stop, block0, hits, work, visited, queue, first, step):
    """RR sets of the samples of blocks ``first, first + step, ...`` (block ``c`` covers absolute
    samples ``[(block0 + c) B, (block0 + c + 1) B)`` clipped to ``[start, stop)``); thread
    ``first`` adds its hits to ``hits[first]`` and its edge visits to ``work[first]``."""
    n = out_indptr.shape[0] - 1
    n_blocks = (stop + SAMPLE_BLOCK - 1) // SAMPLE_BLOCK - block0
    row = hits[first]
    seen = visited[first]
    q = queue[first]
    visits = 0
    stamp = 0
    for c in range(first, n_blocks, step):
        s0 = max(start, (block0 + c) * SAMPLE_BLOCK)
        s1 = min(stop, (block0 + c + 1) * SAMPLE_BLOCK)
        for s in range(s0, s1):
            w = s % n
            key = mix64(seed_key ^ mix64(keys[w] ^ mix64(np.uint64(s // n))))
            draws = 0
            stamp += 1
            seen[w] = stamp
            size = 0
            for e in range(out_indptr[w], out_indptr[w + 1]):  # level 1: no coin
                b = targets[e]
                if seen[b] != stamp:
                    seen[b] = stamp
                    q[size] = b
                    size += 1
            visits += out_indptr[w + 1] - out_indptr[w]
            level_start = 0
            for _ in range(depth - 1):
                level_end = size
                for i in range(level_start, level_end):
                    a = q[i]
                    lf = log_fail[a]
                    end = out_indptr[a + 1]
                    if lf < 0.0:  # base coins, geometric skipping: edges up to the next live one
                        pos = out_indptr[a] - 1
                        while True:
                            skip = math.log(_unit(key, draws)) / lf
                            draws += 1
                            if skip >= end - pos - 1:
                                break
                            pos += 1 + int(skip)
                            visits += 1
                            size = _reach(targets[pos], stamp, seen, q, size, row)
                    for j in range(extra_indptr[a], extra_indptr[a + 1]):  # evidence coins
                        visits += 1
                        if _unit(key, draws) <= extra_prob[j]:
                            size = _reach(extra_indices[j], stamp, seen, q, size, row)
                        draws += 1
                level_start = level_end
                if level_start == size:
                    break
    work[first] += visits


def reverse_reachable_hits(out_indptr, out_indices, base_prob, extra_indptr, extra_indices, extra_prob, keys, depth,
                           seed, start, stop):
    """Count, for every account, the RR sets of samples ``start .. stop - 1`` that reach it
    beyond the first level.

    Parameters
    ----------
    out_indptr, out_indices
        Out-edge CSR of the attention layer: row ``a`` lists every ``b`` with ``a -> b`` (``a``
        attends to ``b``).
    base_prob
        float64[n] in [0, 1]: ``q_a``, the probability that ``a`` passes on a post it sees
        through any of its edges.
    extra_indptr, extra_indices, extra_prob
        CSR over sources of the edges with evidence: row ``a`` lists ``b`` (each also in ``a``'s
        out-row) and ``x_ab`` in [0, 1]; the edge is live when its base coin or this one is.
        Empty rows (``extra_indptr`` all 0) for none.
    keys
        uint64[n]: every account's key (e.g. :func:`int_keys` of its index or id), distinct.
    depth
        Hops of the cascade (>= 1); level ``l`` of an RR set is reached at hop ``l``.
    seed
        int in [0, 2**63).
    start, stop
        Absolute sample indices ``[start, stop)``: sample ``s`` is round ``s // n`` of target
        ``s % n``.

    Returns
    -------
    hits : int64[n]
        RR sets (of the range) that contain the account at level 2 or deeper (not at level 1 and
        not as the target). Over ``r`` whole rounds, ``hits / r`` estimates the spread beyond the
        first hop.
    work : int
        Edges visited (level-1 edges, live edges and evidence coins): the cost of the range.

    Notes
    -----
    Pure in its arguments: ranges computed anywhere (threads, processes, workers) add up to the
    hits of their union, bitwise.
    """
    out_indptr = as_indptr(out_indptr)
    targets = as_indices(out_indices).view(np.uint32)
    keys = as_input(keys, np.uint64)
    base_prob = as_input(base_prob, np.float64)
    extra_indptr = as_indptr(extra_indptr)
    extra_indices = as_indices(extra_indices).view(np.uint32)
    extra_prob = as_input(extra_prob, np.float64)
    n = out_indptr.shape[0] - 1
    start, stop = int(start), int(stop)
    if not 0 <= start <= stop or stop - start >= 2**31:
        raise ValueError(f"sample range must satisfy 0 <= start <= stop < start + 2**31, got [{start}, {stop})")
    if n == 0 or stop == start:
        return np.zeros(n, np.int64), 0
    with np.errstate(divide="ignore"):
        log_fail = as_input(np.log1p(-np.clip(base_prob, 0.0, 1.0)), np.float64)
    block0 = start // SAMPLE_BLOCK
    n_blocks = (stop + SAMPLE_BLOCK - 1) // SAMPLE_BLOCK - block0
    threads = n_threads(n_blocks)
    hits = np.zeros((threads, n), np.int32)  # per thread, at most stop - start < 2**31 each
    work = np.zeros(threads, np.int64)
    visited = np.zeros((threads, n), np.int32)  # the thread's sample counter marks the current set
    queue = np.empty((threads, n), np.uint32)
    seed_key = np.uint64(int(mix64(np.uint64(seed))))
    run_chunks(_rr_blocks, n_blocks, out_indptr, targets, log_fail, extra_indptr, extra_indices, extra_prob, keys,
               int(depth), seed_key, start, stop, block0, hits, work, visited, queue)
    return hits.sum(axis=0, dtype=np.int64), int(work.sum())


def _log_term(n: int, delta: float) -> float:
    return math.log(2.0 * max(n, 1) / delta)


def rr_samples_for(n: int, epsilon: float, delta: float, threshold: float) -> int:
    """RR sets that bound the error of every account by ``epsilon * max(beyond, threshold)``
    with probability at least ``1 - delta`` (see :func:`rr_error_threshold`)."""
    return max(1, math.ceil((2.0 + epsilon) * n * _log_term(n, delta) / (epsilon ** 2 * threshold)))


def rr_error_threshold(n: int, epsilon: float, delta: float, samples: int) -> float:
    """``S*``: with ``samples`` RR sets, every account's estimate is within ``epsilon *
    max(beyond, S*)`` of its expected spread, all accounts at once, with probability ``>= 1 -
    delta``; accounts whose spread beyond the first hop exceeds ``S*`` are within relative error
    ``epsilon``.

    Notes
    -----
    ``hits(v)`` is a sum of ``R`` independent Bernoulli(``mu``) draws, ``mu = beyond(v) / n``. With
    ``mu* = max(mu, S*/n)`` and ``t = epsilon R mu*``, Bernstein's inequality gives
    ``P(hits - R mu >= t) <= exp(-t^2 / (2 (R mu + t / 3))) <= exp(-epsilon^2 R mu* / (2 + epsilon))``
    and ``P(hits - R mu <= -t) <= exp(-t^2 / (2 R mu)) <= exp(-epsilon^2 R mu* / 2)`` (the
    Chernoff forms of Tang et al. 2015, Lemma 1). Setting ``epsilon^2 R S* / n = (2 + epsilon)
    ln(2n / delta)`` makes each account fail with probability at most ``delta / n``, all ``n``
    together (union bound) at most ``delta``.
    """
    return (2.0 + epsilon) * n * _log_term(n, delta) / (epsilon ** 2 * max(samples, 1))


def rr_relative_error(n: int, delta: float, samples: int, spread: float) -> float:
    """The ``epsilon`` of :func:`rr_error_threshold` at ``S* = spread``: the relative error bound
    of accounts whose spread beyond the first hop is at least ``spread``."""
    if spread <= 0 or samples <= 0:
        return math.inf
    a = samples * spread / max(n, 1)
    log_term = _log_term(n, delta)
    # a eps^2 - L eps - 2 L = 0
    return (log_term + math.sqrt(log_term ** 2 + 8.0 * a * log_term)) / (2.0 * a)


def rr_confidence_interval(hits, samples: int, n: int, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of every account's spread beyond the first hop, all accounts at once with
    probability at least ``1 - delta``, from its own ``hits`` of ``samples`` RR sets.

    Notes
    -----
    Bernstein's inequality for ``X = hits ~ Binomial(R, mu)`` at failure probability ``delta / n``
    per account (union bound): ``|X - R mu| <= L / 3 + sqrt(2 R mu L)``, ``L = ln(2n / delta)``.
    The ``mu`` that satisfy it, with ``y = sqrt(R mu)``, lie between ``y_lo = (-sqrt(2L) +
    sqrt(2L + 4 (X - L/3))) / 2`` (0 when ``X <= L / 3``) and ``y_hi = (sqrt(2L) + sqrt(2L + 4 (X +
    L/3))) / 2``; the bounds are ``n y^2 / R``.
    """
    x = np.asarray(hits, np.float64)
    if samples <= 0:
        return np.zeros_like(x), np.full_like(x, np.inf)
    log_term = _log_term(n, delta)
    root = math.sqrt(2.0 * log_term)
    y_hi = 0.5 * (root + np.sqrt(2.0 * log_term + 4.0 * (x + log_term / 3.0)))
    y_lo = 0.5 * (-root + np.sqrt(np.maximum(2.0 * log_term + 4.0 * (x - log_term / 3.0), 2.0 * log_term)))
    scale = n / samples
    return scale * y_lo ** 2, scale * y_hi ** 2


@nb.njit(nogil=True, cache=True)
def _mix_all(values, out):
    for i in range(values.shape[0]):
        out[i] = mix64(np.uint64(values[i]))


def int_keys(ids) -> np.ndarray:
    """uint64 keys of int64 ids: ``mix64`` of the id's two's-complement bits (a bijection, so
    distinct ids have distinct keys)."""
    values = as_input(np.asarray(ids, np.int64).view(np.uint64), np.uint64)
    out = np.empty(values.shape[0], np.uint64)
    _mix_all(values, out)
    return out
