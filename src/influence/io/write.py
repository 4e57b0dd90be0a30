"""Write result tables: csv, json, parquet or an aligned text table, atomically.

A file output is written to a temporary file in the destination directory and renamed into
place only when complete, so a failure or an interruption never leaves a partial file. A
symlink is written through (the file it points at is replaced, in that file's directory); an
existing path that is not a regular file (``/dev/null``, a FIFO) is written into directly.

Temporary files are named ``.NAME.PID.XXXXXXXX.tmp`` (hidden, the final name, the writing
process's id, random letters, digits or ``_``): an error, Ctrl-C or SIGTERM removes them at
once; only a process killed outright (SIGKILL, power loss) can leave one, and the next write
of the same ``NAME`` in that directory removes those whose process is gone
(:func:`remove_stale_temps`).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import sys
import tempfile
from pathlib import Path

import polars as pl

from ..errors import InfluenceError

FORMATS = ("table", "csv", "json", "parquet")


def temp_prefix(path: Path) -> str:
    """Name prefix of this process's temporary files for ``path``: ``.NAME.PID.``."""
    return f".{path.name}.{os.getpid()}."


def temp_name_pattern(path: Path) -> re.Pattern:
    """The names of any process's temporary files for ``path``, ``.NAME.PID.XXXXXXXX.tmp``, with
    ``PID`` captured. The random part has no dot, so ``.x.csv.2024.PID.XXXXXXXX.tmp`` (a
    temporary file of ``x.csv.2024``) is not one of ``x.csv``'s."""
    return re.compile(re.escape(f".{path.name}.") + r"(\d+)\.[a-z0-9_]+\.tmp")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # PermissionError: someone else's live process
    return True


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove temporary files left beside ``path`` by writers that no longer run.

    Matches :func:`temp_name_pattern` (see the module docstring) whose ``PID`` is not a live
    process on this machine; files of live writers, and of other names, are kept. Returns the
    paths removed. Errors (a directory that cannot be listed, a file removed meanwhile) are
    ignored: this is tidying.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    pattern = temp_name_pattern(path)
    removed = []
    try:
        candidates = [(p, match) for p in directory.iterdir() if (match := pattern.fullmatch(p.name))]
    except OSError:
        return removed
    for candidate, match in candidates:
        if _process_alive(int(match.group(1))):
            continue
        try:
            candidate.unlink()
            removed.append(candidate)
        except OSError:
            pass
    return removed


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
    """Write ``data`` to ``path`` through a temporary file and an atomic rename.

    A symlink is followed: the file it points at is replaced and the link kept. An existing
    path that is not a regular file (a device such as ``/dev/null``, a FIFO) is opened and
    written directly, since a rename would replace it.
    """
    path = Path(path)
    check_output_path(path)
    if os.path.exists(path) and not os.path.isfile(path):
        try:
            with open(path, "wb") as fh:
                _write_all(fh, data)
        except OSError as exc:
            raise InfluenceError(f"{path}: cannot write ({exc.strerror or exc})") from None
        return
    target = Path(os.path.realpath(path))
    remove_stale_temps(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise InfluenceError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        # mkstemp creates the file for its owner only; give it the mode open() would (0666 - umask)
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
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
        return _render_json(frame)
    if fmt == "parquet":
        buf = io.BytesIO()
        frame.write_parquet(buf, compression="zstd", statistics=False)
        return buf.getvalue()
    if fmt == "table":
        return format_table(frame, title=title, float_digits=float_digits).encode()
    raise InfluenceError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _render_json(frame: pl.DataFrame, rows_per_piece: int = 4096) -> bytes:
    """``json.dumps(list of row objects, indent=1)`` plus a newline, the same bytes, built one
    slice of rows at a time: the whole list of Python dicts (about 10 KB per row of the score
    table: 2.4 GB for 215,000 accounts) never exists at once."""
    if frame.height == 0:
        return b"[]\n"
    columns = frame.columns
    pieces = []
    for start in range(0, frame.height, rows_per_piece):
        part = frame.slice(start, rows_per_piece)
        text = ",\n".join(
            " " + json.dumps({k: _json_value(v) for k, v in zip(columns, row)}, ensure_ascii=False,
                             indent=1).replace("\n", "\n ")
            for row in part.iter_rows()
        )
        pieces.append(text.encode())
    return b"[\n" + b",\n".join(pieces) + b"\n]\n"


def format_table(frame: pl.DataFrame, *, title: str | None = None, float_digits: int = 3,
                 max_text: int = 18, max_width: int | None = None) -> str:
    """An aligned text table: numbers right-aligned, text left-aligned and cut to ``max_text``.

    With ``max_width`` (columns), the widest text columns are cut further (never below their
    header or 6 characters) until every line fits. Integers of 10,000 and more get thousands
    separators, except in id columns (``id``, ``id_*``): an id is a name, to be copied back as
    an argument, not a quantity.
    """
    headers = frame.columns
    cells: list[list[str]] = []
    numeric = [frame.schema[c].is_numeric() for c in headers]
    quantity = [not (c == "id" or c.startswith("id_")) for c in headers]
    for row in frame.iter_rows():
        out = []
        for value, is_num, is_quantity in zip(row, numeric, quantity):
            if value is None:
                text = "-"
            elif isinstance(value, float):
                text = f"{value:.{float_digits}f}"
            elif isinstance(value, int) and not isinstance(value, bool) and is_num:
                text = f"{value:,}" if is_quantity and abs(value) >= 10_000 else str(value)
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


def _write_all(stream, data: bytes) -> None:
    """Write all of ``data`` to the binary ``stream`` and flush it; a short write (a file size
    limit reached) is followed by another, which raises the error."""
    view = memoryview(data)
    while view:
        view = view[stream.write(view):]
    stream.flush()


def emit(data: bytes, output: str | os.PathLike | None) -> None:
    """Write ``data`` to ``output`` atomically, or to stdout when ``output`` is None.

    A stdout that fails (a full disk, a file size limit) raises :class:`InfluenceError`; a
    broken pipe (a reader such as ``head`` that stopped) propagates as ``BrokenPipeError``,
    which click turns into a quiet exit.
    """
    if output is None or str(output) == "-":
        try:
            _write_all(sys.stdout.buffer, data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise InfluenceError(f"stdout: cannot write ({exc.strerror or exc})") from None
    else:
        atomic_write_bytes(output, data)
