"""Where the sharded parts of a run execute: one interface, an in-process and a Dask implementation.

The sharded algorithms (:mod:`influence.backends.sharded`: reading edge shards, building CSR
slices, PageRank iterations) are written once against :class:`Backend`:

``put(value, shard=None)``
    place a value with a shard's worker (every worker when ``shard`` is None); returns a handle.
``submit(fn, *args, shard, n_out=1)``
    run ``fn(*args)`` where shard ``shard`` lives. Arguments that are handles are replaced by
    their values there (a value produced on another worker travels worker to worker, never
    through the client). Returns a handle, or ``n_out`` handles when ``fn`` returns a tuple.
``gather(handles)``
    bring values to the caller (only small ones: scalars, per-chunk sums, the final vectors).
``close()``
    release the workers (a cluster the backend started is shut down).
``memory_limits()``
    bytes each shard's worker may use (None where unknown); the stage worker is chosen and
    checked with it.

:class:`LocalBackend` runs everything in the calling process (the shards are plain objects); it
serves tests and machines without Dask. :class:`~influence.backends.dask.DaskBackend` runs the
shards on the workers of a Dask cluster. A Ray implementation would follow the same interface.
The default ``influence.score(..., backend="local")`` does not shard at all: it is the
single-process engine.
"""

from __future__ import annotations

import os

from ..errors import ConfigError

BACKENDS = ("local", "dask")


class Backend:
    """Interface of a backend (see the module docstring). Usable as a context manager."""

    #: Number of edge shards (destination ranges) the graph is split into.
    n_shards: int = 1
    #: Short description for messages and diagnostics.
    name: str = ""

    def put(self, value, shard=None):
        raise NotImplementedError

    def submit(self, fn, *args, shard: int, n_out: int = 1):
        raise NotImplementedError

    def gather(self, handles) -> list:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def memory_limits(self) -> list:
        """Bytes each shard's worker may use (None: no limit known), one entry per shard."""
        return [None] * self.n_shards

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class _Held:
    """A value held in process (the LocalBackend's handle)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class LocalBackend(Backend):
    """Every shard in the calling process: ``submit`` runs the function at once.

    ``n_shards`` splits the graph as a cluster of that many workers would, so the sharded
    algorithms can be checked against the single-process engine without Dask.
    """

    def __init__(self, n_shards: int = 1):
        if not isinstance(n_shards, int) or isinstance(n_shards, bool) or n_shards < 1:
            raise ConfigError(f"n_shards must be an integer >= 1, got {n_shards!r}")
        self.n_shards = n_shards
        self.name = f"local ({n_shards} shard{'s' if n_shards > 1 else ''}, in process)"

    def put(self, value, shard=None):
        return _Held(value)

    def submit(self, fn, *args, shard: int, n_out: int = 1):
        result = fn(*(a.value if isinstance(a, _Held) else a for a in args))
        if n_out == 1:
            return _Held(result)
        return [_Held(r) for r in result]

    def gather(self, handles) -> list:
        return [h.value for h in handles]


def open_backend(backend, *, cluster=None, workers=None) -> Backend:
    """The backend named ``backend`` (``"local"`` or ``"dask"``), or ``backend`` itself when it
    is a :class:`Backend`.

    ``cluster`` (a scheduler address such as ``tcp://scheduler:8786``) and ``workers`` (start a
    local cluster of that many worker processes) apply to ``"dask"`` only; without either,
    ``"dask"`` starts a local cluster with one worker per CPU. Raises :class:`ConfigError` for
    an unknown backend, ``workers < 1``, both options at once, or options the backend does not
    take; the Dask backend raises :class:`InfluenceError` when Dask is not installed or the
    scheduler cannot be reached.
    """
    check_backend(backend, cluster=cluster, workers=workers)
    if isinstance(backend, Backend):
        return backend
    if backend == "local":
        return LocalBackend(1)
    from .dask import DaskBackend

    if cluster is None and workers is None:
        workers = max(1, os.cpu_count() or 1)
    return DaskBackend(cluster=cluster, workers=workers)


def check_backend(backend, *, cluster=None, workers=None) -> None:
    """Raise :class:`ConfigError` for the backend arguments :func:`open_backend` refuses."""
    if isinstance(backend, Backend):
        if cluster is not None or workers is not None:
            raise ConfigError("cluster and workers apply to backend='dask', not to a Backend object")
        return
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"workers must be an integer >= 1, got {workers!r}")
    if backend == "local" and (cluster is not None or workers is not None):
        raise ConfigError("--cluster and --workers need --backend dask")
    if cluster is not None and workers is not None:
        raise ConfigError("give either --cluster (an existing scheduler) or --workers (a local cluster), not both")


__all__ = ["BACKENDS", "Backend", "LocalBackend", "check_backend", "open_backend"]
