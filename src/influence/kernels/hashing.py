"""The one 64-bit mixing function of the kernels (SplitMix64's finaliser, Steele et al. 2014)."""

import numba as nb
import numpy as np


@nb.njit(inline="always")
def mix64(x):
    """A bijective, well-mixed uint64 -> uint64 hash (``x`` must be uint64)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))
