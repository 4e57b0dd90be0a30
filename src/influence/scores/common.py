"""Small vectorised helpers shared by the score modules (numpy only)."""

from __future__ import annotations

import numpy as np


def percentile_rank(values: np.ndarray) -> np.ndarray:
    """Mid-rank percentile in (0, 1): ties share their average rank; order-independent.

    Equals ``(scipy.stats.rankdata(values, method="average") - 0.5) / n``.
    """
    n = values.shape[0]
    if n == 0:
        return np.zeros(0)
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], n]
    mid = np.repeat((starts + ends - 1) / 2.0, ends - starts)  # 0-based average rank of each tie run
    out = np.empty(n)
    out[order] = (mid + 0.5) / n
    return out


def log_share(values: np.ndarray, scale: float) -> np.ndarray:
    """``log1p(values) / log1p(scale)`` clipped to [0, 1] (0 everywhere when ``scale <= 0``)."""
    if scale <= 0:
        return np.zeros_like(values, dtype=np.float64)
    return np.clip(np.log1p(values) / np.log1p(scale), 0.0, 1.0)


def shrunk_ratio(numerator: np.ndarray, denominator: np.ndarray, prior: float, strength: float) -> np.ndarray:
    """Bayesian-shrunk ratio ``(numerator + strength * prior) / (denominator + strength)``.

    Accounts with little evidence (small denominator) are pulled towards ``prior``.
    """
    return (numerator + strength * prior) / (denominator + strength)


def logistic(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))``, computed without overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def parallel_chunks(n: int) -> int:
    """Chunks for kernels that keep an ``n``-byte marker per chunk: a few per thread, at most one per 1024 accounts."""
    import numba

    return max(1, min(4 * numba.get_num_threads(), n // 1024 + 1))
