"""influence: rank the accounts of a social graph and separate mass from micro-influencers.

>>> import influence
>>> graph = influence.load("graph.parquet")          # doctest: +SKIP
>>> scores = influence.score(graph)                  # doctest: +SKIP
>>> top = influence.shortlist(scores, segment="micro", top=20)  # doctest: +SKIP

Edge direction everywhere: ``src -> dst`` means src pays attention to dst (follows, likes,
shares, replies to, mentions); influence flows the other way.
"""

from .config import ScoringConfig
from .engine import Diagnostics, load, score
from .errors import ConfigError, ConvergenceError, EmptyGraphError, InfluenceError, SchemaError
from .graph import Graph
from .shortlist import shortlist

__version__ = "0.1.0"

__all__ = [
    "load",
    "score",
    "shortlist",
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
