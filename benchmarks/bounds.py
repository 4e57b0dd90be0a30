"""Memory bounds of this machine, measured with numba: stream-read bandwidth and random gather.

Benchmark only (not part of the package). Prints a markdown table and, with ``--json PATH``,
writes the numbers for ``benchmarks/scale.py`` to compare kernels against.

* **stream read**: ``sum(x)`` over a float64 array of 256 MiB, GB/s.
* **random gather**: ``sum(x[idx[e]] * w[e])`` over ``m`` uniformly random int32 indices into a
  float64 vector of ``N`` elements, with a float32 weight per element (the access pattern of a
  pull-style propagation kernel: indices and weights stream, the vector is gathered), in ns per
  element. ``m`` is ``8 N`` (at least 2**24, at most 2**26 unless ``2 N`` is more), so the
  vector is reused and sits in whatever cache level it fits.

Both on 1 and 2 threads (``numba.set_num_threads``). Usage::

    python benchmarks/bounds.py [--sizes 1e5 3e5 ...] [--repeat 5] [--json bounds.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numba as nb
import numpy as np

DEFAULT_SIZES = (1e5, 3e5, 1e6, 3e6, 1e7, 3e7)


@nb.njit(parallel=True, cache=True)
def _stream_sum(x, n_chunks):
    chunk = (x.shape[0] + n_chunks - 1) // n_chunks
    partial = np.zeros(n_chunks)
    for c in nb.prange(n_chunks):
        acc = 0.0
        for i in range(c * chunk, min(x.shape[0], (c + 1) * chunk)):
            acc += x[i]
        partial[c] = acc
    return partial.sum()


@nb.njit(parallel=True, cache=True)
def _gather_sum(x, idx, w, n_chunks):
    chunk = (idx.shape[0] + n_chunks - 1) // n_chunks
    partial = np.zeros(n_chunks)
    uidx = idx.view(np.uint32)
    for c in nb.prange(n_chunks):
        acc = 0.0
        for e in range(c * chunk, min(idx.shape[0], (c + 1) * chunk)):
            acc += x[uidx[e]] * w[e]
        partial[c] = acc
    return partial.sum()


def _best(fn, repeat):
    fn()  # warm up (and compile)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return float(np.median(times)), float(min(times))


def stream_read(threads: int, repeat: int = 5, n_bytes: int = 256 * 2**20) -> float:
    """Stream-read bandwidth in GB/s (median of ``repeat``) with ``threads`` numba threads."""
    x = np.ones(n_bytes // 8)
    nb.set_num_threads(threads)
    median, _ = _best(lambda: _stream_sum(x, 64), repeat)
    return x.nbytes / median / 1e9


def random_gather(n: int, threads: int, repeat: int = 5, seed: int = 0) -> float:
    """Random gather ns per element (median of ``repeat``) from a float64 vector of ``n``."""
    rng = np.random.default_rng(seed)
    m = max(min(8 * n, 2**26), 2 * n, 2**24)
    x = rng.random(n)
    idx = rng.integers(0, n, m, dtype=np.int32)
    w = rng.random(m, dtype=np.float32)
    nb.set_num_threads(threads)
    median, _ = _best(lambda: _gather_sum(x, idx, w, 256), repeat)
    return median / m * 1e9


def measure(sizes=DEFAULT_SIZES, repeat: int = 5) -> dict:
    threads = [t for t in (1, 2) if t <= nb.config.NUMBA_NUM_THREADS]
    before = nb.get_num_threads()
    try:
        result = {
            "threading_layer": None,
            "stream_gbs": {t: stream_read(t, repeat) for t in threads},
            "gather_ns": {int(n): {t: random_gather(int(n), t, repeat) for t in threads} for n in sizes},
        }
        result["threading_layer"] = nb.threading_layer()
    finally:
        nb.set_num_threads(before)
    return result


def to_markdown(result: dict) -> str:
    threads = sorted(result["stream_gbs"])
    lines = [
        f"numba threading layer: {result['threading_layer']}",
        "",
        "| measure | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in threads) + " |",
        "|---|" + "---:|" * len(threads),
        "| stream read (GB/s) | " + " | ".join(f"{result['stream_gbs'][t]:.1f}" for t in threads) + " |",
    ]
    for n, row in result["gather_ns"].items():
        mib = n * 8 / 2**20
        lines.append(f"| random gather, N = {n:,} ({mib:.1f} MiB) (ns/element) | "
                     + " | ".join(f"{row[t]:.2f}" for t in threads) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", default=None, help="Write the numbers here as JSON.")
    args = parser.parse_args(argv)
    result = measure(args.sizes, args.repeat)
    print(to_markdown(result))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
