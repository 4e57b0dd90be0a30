"""Memory planning: how much a run needs, from the edge count, before any large array exists.

Peak memory grows with the number of edge rows, never with id magnitudes: ids are mapped to
dense int32 indices and every array is sized by rows or accounts.

Calibration (peak RSS of ``influence rank`` measured with ``/usr/bin/time -v`` on generated
worlds of about 24 rows per account; docs/benchmarks-performance.md): 270 MiB for 53k rows (the
interpreter, numba, polars and the kernels); above that 47-49 bytes per row at 5M and 20M rows
with the default ``--top 20``; 56-60 with polars' own allocator settings (a library user who
imported polars before influence, see ``influence/__init__.py``) and up to 90 when freed pages
are kept for 10 s; 75 with string ids; 85-97 with ``--segment all --format csv`` (the output
then grows with the accounts: about 0.9 KB per account). ``BASE_BYTES`` and
``BYTES_PER_ROW`` stay 12-30% above every one of those. Not covered: ``--segment all --format
json`` of every account, about 3 KB per account more (1.17 GB at 5M rows and 215k accounts
against an estimate of 0.9 GB).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import InfluenceError

BYTES_PER_ROW = 110
BASE_BYTES = 350 * 2**20  # interpreter, numba, polars, compiled kernels (270 MiB measured)
_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text) -> int:
    """Bytes from ``"8G"``, ``"512M"``, ``"1.5 GB"`` or a plain number of bytes."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(I?B)?\s*", str(text).upper())
        if not match:
            raise InfluenceError(f"max memory {text!r} is not a size such as 8G or 512M")
        value = float(match.group(1)) * _UNITS[match.group(2)]
    if value <= 0:
        raise InfluenceError(f"max memory must be positive, got {text!r}")
    return int(value)


def format_size(n_bytes: float) -> str:
    """``"1.5 GiB"``, or ``"512 MiB"`` below 1 GiB (so that small limits do not read 0.0 GiB)."""
    if n_bytes >= 2**30:
        return f"{n_bytes / 2**30:.1f} GiB"
    return f"{max(n_bytes / 2**20, 0.1):.{0 if n_bytes >= 10 * 2**20 else 1}f} MiB"


def available_bytes() -> int | None:
    """Memory the system can still give (MemAvailable), or None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def needed_bytes(n_rows: int) -> int:
    """Estimated peak memory of loading and scoring ``n_rows`` edge rows."""
    return BASE_BYTES + BYTES_PER_ROW * int(n_rows)


def memory_error(source: str, n_rows: int, need: int, bound: str, advice: str, where: str = "") -> InfluenceError:
    """The one-line error of a run that would need more than ``bound`` (e.g. ``"--max-memory 8.0
    GiB allows"``); ``where`` names the process (e.g. ``" on the stage worker"``)."""
    return InfluenceError(
        f"{source}: {n_rows:,} edge rows need about {format_size(need)}{where}, more than {bound}; {advice}"
    )


def check_memory(n_rows: int, source: str, max_memory=None) -> None:
    """Raise a clear error when ``n_rows`` rows need more than the limit or what is available."""
    limit = parse_size(max_memory) if max_memory is not None else available_bytes()
    if limit is None:
        return
    need = needed_bytes(n_rows)
    if need <= limit:
        return
    if max_memory is not None:
        bound = f"--max-memory {format_size(limit)} allows"
    else:
        bound = f"the {format_size(limit)} this machine has available"
    raise memory_error(source, n_rows, need, bound, "use a machine with more memory or a sample of the graph")


def count_rows(path) -> int | None:
    """Rows of a Parquet edge file (or a directory's edges.parquet) from its metadata, else None."""
    if not isinstance(path, (str, os.PathLike)):
        return None
    path = Path(path)
    if path.is_dir():
        path = path / "edges.parquet"
    if not path.is_file() or not path.name.lower().endswith((".parquet", ".pq")):
        return None
    try:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception:  # an unreadable file is reported by the reader with its own message
        return None
