"""Small vectorised helpers shared by the score modules (numpy only)."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def percentile_rank(values: np.ndarray) -> np.ndarray:
    """Mid-rank percentile in (0, 1): ties share their average rank; order-independent."""
    n = values.shape[0]
    if n == 0:
        return np.zeros(0)
    return (rankdata(values, method="average") - 0.5) / n


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
