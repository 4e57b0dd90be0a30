"""Write result tables: csv, json, parquet or an aligned text table, atomically.

A file output is written to a temporary file in the destination directory and renamed into
place only when complete, so a failure or an interruption never leaves a partial file.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import polars as pl

from ..errors import InfluenceError

FORMATS = ("table", "csv", "json", "parquet")


def check_output_path(path: str | os.PathLike) -> Path:
    """Raise :class:`InfluenceError` unless ``path`` can name an output file (its directory
    exists, and it is not itself a directory); call it before heavy work."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InfluenceError(f"{path}: directory {directory} does not exist")
    if path.is_dir():
        raise InfluenceError(f"{path}: is a directory; expected a file name")
    return directory


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    directory = check_output_path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InfluenceError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        # mkstemp creates the file for its owner only; give it the mode open() would (0666 - umask)
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise InfluenceError(f"{path}: cannot write ({exc.strerror or exc}); nothing was written") from None
        raise


def _umask() -> int:
    """The process's umask, read without changing it where the system tells it (Linux)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def render(frame: pl.DataFrame, fmt: str, *, title: str | None = None, float_digits: int = 3) -> bytes:
    """Render ``frame`` in ``fmt`` (one of ``FORMATS``) as bytes.

    ``json`` is a list of objects whose ids keep their type; ``csv`` uses full float precision;
    ``table`` is an aligned plain-text table with ``float_digits`` decimals.
    """
    if fmt == "csv":
        return frame.write_csv().encode()
    if fmt == "json":
        rows = [{k: _json_value(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]
        return (json.dumps(rows, ensure_ascii=False, indent=1) + "\n").encode()
    if fmt == "parquet":
        buf = io.BytesIO()
        frame.write_parquet(buf, compression="zstd", statistics=False)
        return buf.getvalue()
    if fmt == "table":
        return format_table(frame, title=title, float_digits=float_digits).encode()
    raise InfluenceError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def format_table(frame: pl.DataFrame, *, title: str | None = None, float_digits: int = 3,
                 max_text: int = 18, max_width: int | None = None) -> str:
    """An aligned text table: numbers right-aligned, text left-aligned and cut to ``max_text``.

    With ``max_width`` (columns), the widest text columns are cut further (never below their
    header or 6 characters) until every line fits.
    """
    headers = frame.columns
    cells: list[list[str]] = []
    numeric = [frame.schema[c].is_numeric() for c in headers]
    for row in frame.iter_rows():
        out = []
        for value, is_num in zip(row, numeric):
            if value is None:
                text = "-"
            elif isinstance(value, float):
                text = f"{value:.{float_digits}f}"
            elif isinstance(value, int) and not isinstance(value, bool) and is_num:
                text = f"{value:,}" if abs(value) >= 10_000 else str(value)
            else:
                text = _cut(str(value), max_text)
            out.append(text)
        cells.append(out)
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    if max_width is not None:
        floors = [max(len(h), 6) for h in headers]
        while sum(widths) + 2 * (len(widths) - 1) > max_width:
            shrinkable = [i for i, num in enumerate(numeric) if not num and widths[i] > floors[i]]
            if not shrinkable:
                break
            i = max(shrinkable, key=lambda j: (widths[j], -j))
            widths[i] -= 1
        for row in cells:
            for i, num in enumerate(numeric):
                if not num:
                    row[i] = _cut(row[i], widths[i])

    def line(values):
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "  ".join(parts).rstrip()

    lines = []
    if title:
        lines.append(title)
    lines.append(line(headers))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(line(r) for r in cells)
    if not cells:
        lines.append("(no account qualifies)")
    return "\n".join(lines) + "\n"


def _cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, an ellipsis marking the cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def emit(data: bytes, output: str | os.PathLike | None) -> None:
    """Write ``data`` to ``output`` atomically, or to stdout when ``output`` is None."""
    if output is None or str(output) == "-":
        stream = sys.stdout.buffer
        stream.write(data)
        stream.flush()
    else:
        atomic_write_bytes(output, data)
