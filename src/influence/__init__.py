"""influence: rank the accounts of a social graph and separate mass from micro-influencers.

>>> import influence
>>> graph = influence.load("graph.parquet")          # doctest: +SKIP
>>> scores = influence.score(graph)                  # doctest: +SKIP
>>> top = influence.shortlist(scores, segment="micro", top=20)  # doctest: +SKIP

Edge direction everywhere: ``src -> dst`` means src pays attention to dst (follows, likes,
shares, replies to, mentions); influence flows the other way.
"""

import os as _os
import sys as _sys

# numba's OpenMP threads spin while they wait; on a machine whose other core is busy that made
# 2-thread kernels up to 18x slower (PERF-NOTES, benchmarks). Passive waiting removes the penalty.
# Set before numba starts its thread pool; a value the user exported wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# polars' allocator (jemalloc; polars configures it to keep freed pages for 0.5-1.5 s) kept the
# input table that graph.build_graph releases before the layer build (28 bytes per row)
# resident through the build, the peak of a run: at 20M rows 1.41 GiB against 1.20 GiB when
# freed pages are returned at once, with no measurable cost in CPU time
# (docs/benchmarks-performance.md). polars appends this variable to its own settings when it is
# imported, so it must be set before; a value the user exported wins.
_os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
# A worker process of a local Dask cluster (backends.dask) gets its share of the CPUs in this
# variable, set before it was spawned; numba reads NUMBA_NUM_THREADS once, at its import, and
# refuses any later change, so it is copied only while numba is not imported yet.
if "_INFLUENCE_WORKER_THREADS" in _os.environ and "numba" not in _sys.modules:
    _os.environ.setdefault("NUMBA_NUM_THREADS", _os.environ["_INFLUENCE_WORKER_THREADS"])

from .config import ScoringConfig  # noqa: E402
from .engine import Diagnostics, load, score  # noqa: E402
from .errors import ConfigError, ConvergenceError, EmptyGraphError, InfluenceError, SchemaError  # noqa: E402
from .explain import explain  # noqa: E402
from .graph import Graph  # noqa: E402
from .overlap import OverlapResult, overlap  # noqa: E402
from .planning import plan  # noqa: E402
from .shortlist import shortlist  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "load",
    "score",
    "shortlist",
    "explain",
    "overlap",
    "plan",
    "OverlapResult",
    "Graph",
    "ScoringConfig",
    "Diagnostics",
    "InfluenceError",
    "SchemaError",
    "ConfigError",
    "EmptyGraphError",
    "ConvergenceError",
    "__version__",
]
