"""Weighted coverage of audiences, for budgeted selection (pure numba)."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def coverage_gain(in_indptr, in_indices, account, quality, person_weight, best):
    """Gain of adding ``account`` to a selection: ``sum_u w(u) max(0, q - best(u))``.

    ``u`` runs over ``account``'s audience (its in-row); ``best[u]`` is the highest quality of a
    selected account that already reaches ``u`` (0 when none does). The objective
    ``f(S) = sum_u w(u) max_{c in S, u in A(c)} q(c)`` is monotone and submodular (a weighted
    facility-location coverage), so lazy greedy evaluation is exact.
    """
    gain = 0.0
    for e in range(in_indptr[account], in_indptr[account + 1]):
        u = in_indices[e]
        if quality > best[u]:
            gain += person_weight[u] * (quality - best[u])
    return gain


@nb.njit(cache=True)
def cover(in_indptr, in_indices, account, quality, best):
    """Record ``account`` as selected: raise ``best`` over its audience to ``quality``."""
    for e in range(in_indptr[account], in_indptr[account + 1]):
        u = in_indices[e]
        if quality > best[u]:
            best[u] = quality
