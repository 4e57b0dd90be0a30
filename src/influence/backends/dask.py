"""The Dask backend: shards live as futures in the memory of a Dask cluster's workers.

Shard ``s`` is pinned to worker ``s mod k`` (workers sorted by address), so a shard's CSR slice
stays where it was built and every step on it runs there. Task arguments that are futures are
fetched by the worker from the worker that holds them (worker to worker); the client only
gathers what :meth:`DaskBackend.gather` is asked for.

Dask is an optional dependency (``python -m pip install '.[dask]'``).
"""

from __future__ import annotations

import operator
import os
import re
import threading

from ..errors import InfluenceError
from . import Backend

#: A scheduler address: optional protocol, host (or [IPv6]) and port.
_ADDRESS = re.compile(r"^([a-z][a-z0-9+]*://)?(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):\d{1,5}$")
#: Seconds to wait for a scheduler (and for the workers of a local cluster).
CONNECT_TIMEOUT = 10


def _import_distributed():
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InfluenceError(
            "the dask backend needs Dask distributed, which is not installed; "
            "install it with: python -m pip install '.[dask]' (from the influence checkout)"
        ) from None
    return distributed


def _cluster_failures() -> tuple:
    """Exceptions that mean the cluster failed (a worker died, a connection closed, a task was
    cancelled): reported as one error line. Errors raised by the engine's own tasks pass as they
    are (an InfluenceError is the input's fault; anything else is a bug)."""
    import concurrent.futures

    from distributed.scheduler import KilledWorker

    return (KilledWorker, OSError, TimeoutError, concurrent.futures.CancelledError)


def _all_done(futures) -> threading.Event:
    """An event set once every one of ``futures`` is done (finished, failed or cancelled)."""
    finished, lock, remaining = threading.Event(), threading.Lock(), [len(futures)]

    def one_done(_future):
        with lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                finished.set()

    if not futures:
        finished.set()
    for future in futures:
        future.add_done_callback(one_done)
    return finished


class _ClusterFailure(Exception):
    """A pinned worker left the cluster while its tasks were awaited."""


#: Seconds between checks that the workers holding awaited tasks are still in the cluster.
WORKER_CHECK_SECONDS = 2.0


def _worker_version():
    """What a worker runs: influence's version, or why it cannot run the sharded tasks."""
    try:
        import influence
        import influence.backends.sharded  # noqa: F401
    except ImportError as exc:
        return f"none usable ({exc})"
    return influence.__version__


WORKER_THREADS_VAR = "_INFLUENCE_WORKER_THREADS"  # read by influence/__init__.py in the worker


def _start_local_cluster(distributed, n_workers: int, threads: int):
    """A LocalCluster of ``n_workers`` processes whose kernels use ``threads`` threads each.

    The count reaches the workers as ``_INFLUENCE_WORKER_THREADS``, set before they are spawned
    (``distributed.nanny.pre-spawn-environ``), which ``import influence`` turns into
    ``NUMBA_NUM_THREADS`` before numba is imported. Neither simpler way works: a Nanny's ``env=``
    is applied after the spawned worker has imported numba (the main module imports it), and
    numba then refuses every compile ("Cannot set NUMBA_NUM_THREADS ... once the threads have been
    launched"); and the Nanny sets pre-spawn variables in *this* process's environment, where a
    NUMBA_NUM_THREADS would break this process's own compiles. So the variable has another
    name, and this process's environment is restored once the workers have started.
    """
    import dask
    from distributed.deploy.spec import SpecCluster

    prior = os.environ.get(WORKER_THREADS_VAR)
    started = set(SpecCluster._instances)
    try:
        with dask.config.set({f"distributed.nanny.pre-spawn-environ.{WORKER_THREADS_VAR}": str(threads)}):
            return distributed.LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                silence_logs=50,  # logging.CRITICAL: keep stderr for the engine's own lines
            )
    except BaseException:  # Ctrl-C or SIGTERM while it starts: close what was started, quietly
        for cluster in set(SpecCluster._instances) - started:
            try:
                cluster.close(timeout=5)
            except BaseException:  # half started (status init): distributed's exit hook would fail on it
                pass
            SpecCluster._instances.discard(cluster)
        raise
    finally:
        if prior is None:
            os.environ.pop(WORKER_THREADS_VAR, None)
        else:
            os.environ[WORKER_THREADS_VAR] = prior


class DaskBackend(Backend):
    """Run shards on a Dask cluster.

    Parameters
    ----------
    cluster
        Address of a running scheduler (``tcp://HOST:PORT``), or None to start a local cluster.
    workers
        Worker processes of the local cluster (one thread each); ignored with ``cluster``.
    client
        An existing ``distributed.Client`` to use instead (not closed by :meth:`close`).
    """

    def __init__(self, cluster: str | None = None, workers: int | None = None, *, client=None):
        distributed = _import_distributed()
        self._own_client = client is None
        self._cluster = None
        if client is None:
            if cluster is not None:
                address = str(cluster).strip()
                if not _ADDRESS.match(address):
                    raise InfluenceError(
                        f"--cluster {address!r} is not a scheduler address; expected tcp://HOST:PORT "
                        "(e.g. tcp://scheduler:8786)"
                    )
                try:
                    client = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
                except Exception as exc:  # OSError, TimeoutError, ValueError for a malformed address
                    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    raise InfluenceError(
                        f"cannot reach the Dask scheduler at {address!r} ({reason[:200]}); "
                        "check the address (tcp://HOST:PORT) and that the scheduler is running"
                    ) from None
                self.name = f"dask ({address})"
            else:
                n = int(workers or 1)
                # the kernels' threads of all workers together: about one per CPU
                threads = max(1, (os.cpu_count() or 1) // n)
                self._cluster = _start_local_cluster(distributed, n, threads)
                client = distributed.Client(self._cluster, set_as_default=False)
                self.name = f"dask (local cluster, {n} worker{'s' if n > 1 else ''})"
        else:
            self.name = f"dask ({client.scheduler.address})"
        self.client = client
        try:
            info = client.scheduler_info(n_workers=-1)
            if not info["workers"]:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
                info = client.scheduler_info(n_workers=-1)
        except Exception:
            self.close()
            raise InfluenceError(f"{self.name}: the scheduler has no workers") from None
        self.workers = sorted(info["workers"])
        self.n_shards = len(self.workers)
        self._memory_limits = [int(info["workers"][w].get("memory_limit") or 0) or None for w in self.workers]
        import influence

        try:
            versions = client.run(_worker_version)
        except _cluster_failures() as exc:  # a worker died while the cluster started
            self.close()
            raise self._failure(exc) from None
        wrong = {w: v for w, v in versions.items() if v != influence.__version__}
        if wrong:
            self.close()
            raise InfluenceError(
                f"{self.name}: workers run influence {sorted(set(wrong.values()))}, the client "
                f"{influence.__version__}; install the same version on every worker"
            )

    def memory_limits(self) -> list:
        """The workers' ``memory_limit`` (Dask's ``--memory-limit``; None when unlimited), by shard."""
        return list(self._memory_limits)

    def _live(self):
        if self.client is None:
            raise InfluenceError(f"{self.name}: the backend is closed; load the graph again inside the "
                                 "'with' block that keeps the cluster")
        return self.client

    def _where(self, shard):
        return [self.workers[shard % len(self.workers)]]

    def put(self, value, shard=None):
        client = self._live()
        if shard is None:
            return client.scatter(value, broadcast=True, hash=False)
        return client.scatter(value, workers=self._where(shard), hash=False)

    def submit(self, fn, *args, shard: int, n_out: int = 1):
        client, where = self._live(), self._where(shard)
        future = client.submit(fn, *args, workers=where, allow_other_workers=False, pure=False)
        if n_out == 1:
            return future
        return [client.submit(operator.getitem, future, i, workers=where, allow_other_workers=False, pure=False)
                for i in range(n_out)]

    def gather(self, handles) -> list:
        """The values of ``handles``. Tasks are pinned to their worker, so a worker that leaves
        (dies, or is restarted by its nanny under a new address) would leave them waiting for
        ever: every ``WORKER_CHECK_SECONDS`` of waiting the pinned workers are looked up, and one
        that is gone is a cluster failure."""
        client = self._live()
        handles = list(handles)
        try:
            futures = _import_distributed().futures_of(handles)
            finished = _all_done(futures)
            while not finished.wait(WORKER_CHECK_SECONDS):
                alive = set(client.scheduler_info(n_workers=-1)["workers"])
                lost = [w for w in self.workers if w not in alive]
                if lost:
                    raise _ClusterFailure(f"worker {lost[0]} left the cluster")
            if any(f.status == "lost" for f in futures):  # done, then its worker died with the result
                raise _ClusterFailure("a result was lost with its worker")
            return client.gather(handles)
        except (*_cluster_failures(), _ClusterFailure) as exc:  # the cluster, not the data or the engine, failed
            raise self._failure(exc) from None

    def _failure(self, exc: BaseException) -> InfluenceError:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        kind = "" if isinstance(exc, _ClusterFailure) else type(exc).__name__ + (": " if reason else "")
        return InfluenceError(f"{self.name}: the cluster failed during the run ({kind}{reason}); no output was written")

    def close(self) -> None:
        client, cluster = getattr(self, "client", None), self._cluster
        self.client, self._cluster = None, None
        if client is not None and self._own_client:
            client.close()
        if cluster is not None:
            cluster.close()


__all__ = ["DaskBackend"]
