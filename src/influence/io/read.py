"""Read edge and node tables with polars, validating them once.

Supported inputs (see ``CONTRACTS.md``):

* a Parquet file of edges (``.parquet``/``.pq``);
* a directory holding ``edges.parquet`` and optionally ``nodes.parquet``;
* a CSV/TSV file with a header (``.csv``, ``.tsv``, optionally ``.gz``);
* a plain SNAP/KONECT edge list (``.txt``, ``.edges``, ``.el``, optionally ``.gz``):
  whitespace-separated ``src dst [weight]``; lines starting with ``#`` or ``%`` are comments;
* a polars ``DataFrame`` or ``LazyFrame``.

Only the columns the engine uses (``src``, ``dst``, ``kind``, ``weight``, and ``ts``, which is
validated and summarised but not kept) are read. Every problem
is reported as a :class:`~influence.errors.SchemaError` naming the file, the column and, where it
helps, the first offending row (0-based, counting data rows only).
"""

from __future__ import annotations

import gzip
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from ..errors import EmptyGraphError, SchemaError

EDGE_COLUMNS = ("src", "dst", "kind", "weight", "ts")
NODE_COLUMNS = ("id", "name", "followers", "topic", "cost", "sponsored_share", "verified")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv", ".tsv")
_EDGELIST_SUFFIXES = (".txt", ".edges", ".el", ".edgelist", ".tsv2")
_INT_TYPES = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
#: Accepted ``ts`` values, in unix seconds: [1970-01-01, 2100-01-01) UTC.
TS_MIN, TS_MAX = 0, 4_102_444_800


@dataclass(frozen=True)
class RawInput:
    """Validated input tables, before id mapping.

    Attributes
    ----------
    edges
        Columns ``src``, ``dst`` (both Int64 or both String), ``kind`` (``Categorical`` of the
        values as given, no nulls; ``kinds``/``kind_table`` name them), ``weight`` (Float64,
        finite, >= 0). Row order is the input's.
    nodes
        The node table (``id`` of the edges' id type, other columns optional) or ``None``.
    source
        How to name the input in messages (a path or ``"<DataFrame>"``).
    nodes_source
        How to name the node table in messages.
    kinds
        The distinct kinds, whitespace stripped and lower case, sorted.
    kind_table
        uint8 (uint32 above 255 kinds) array: ``kinds[kind_table[c]]`` is the kind of the rows
        whose ``kind`` has physical (category) code ``c``. See :func:`kind_codes`.
    ts_range
        ``(first, last)`` of the ``ts`` column in unix seconds (UTC), or None without a ``ts``
        column or when every ``ts`` is null. The column itself is validated, not kept.
    """

    edges: pl.DataFrame
    nodes: pl.DataFrame | None
    source: str
    nodes_source: str | None
    kinds: tuple = ()
    kind_table: np.ndarray | None = None
    ts_range: tuple | None = None


def read_input(
    edges,
    nodes=None,
    *,
    src_col: str = "src",
    dst_col: str = "dst",
) -> RawInput:
    """Read and validate an edge table and an optional node table.

    Parameters
    ----------
    edges
        A path (file or directory) or a polars DataFrame/LazyFrame of edges.
        ``src -> dst`` means attention flows from ``src`` to ``dst`` (src follows, likes,
        shares... dst); influence flows the other way.
    nodes
        A path or DataFrame of the node table; by default ``nodes.parquet`` beside
        ``edges.parquet`` when ``edges`` is a directory.
    src_col, dst_col
        Names of the source and destination columns in the edge table.
    """
    node_default = None
    if isinstance(edges, (str, os.PathLike)):
        files, node_default, source = edge_files(Path(edges))
        if Path(source).is_dir():  # Parquet part files
            checked = _validate_parts(files, source, src_col, dst_col)
        else:
            checked = _validate_edges(_scan_edges(files[0], src_col, dst_col), source, src_col, dst_col)
    elif isinstance(edges, (pl.DataFrame, pl.LazyFrame)):
        source = "<DataFrame>"
        checked = _validate_edges(edges.lazy(), source, src_col, dst_col)
    else:
        raise SchemaError(f"edges must be a path or a polars DataFrame, got {type(edges).__name__}")
    edge_table, kinds, kind_table, ts_range = checked

    if nodes is None and node_default is not None:
        nodes = node_default
    node_table, nodes_source = None, None
    if nodes is not None:
        node_table, nodes_source = read_node_table(nodes, edge_table.schema["src"])
    return RawInput(edge_table, node_table, source, nodes_source, kinds, kind_table, ts_range)


def edge_files(path: Path) -> tuple[list[Path], Path | None, str]:
    """The edge files at ``path``, the node table beside them (or None) and the name errors
    give the edges: a file; a directory with ``edges.parquet`` (a file, or a directory of
    Parquet part files) and optionally ``nodes.parquet``; or a directory of Parquet part files
    (``nodes.parquet`` is never read as edges). The local and the sharded load both read this.
    """
    if not path.exists():
        raise SchemaError(f"{path}: no such file or directory")
    nodes = None
    if path.is_dir():
        edges = path / "edges.parquet"
        if edges.exists():
            if (path / "nodes.parquet").is_file():
                nodes = path / "nodes.parquet"
            path = edges
        else:
            files = _parquet_parts(path)
            if not files:
                raise SchemaError(f"{path}: directory has no edges.parquet and no other .parquet files")
            return files, None, str(path)
    if path.is_dir():  # edges.parquet as a directory of part files
        files = _parquet_parts(path)
        if not files:
            raise SchemaError(f"{path}: directory has no .parquet files")
        return files, nodes, str(path)
    return [path], nodes, str(path)


def _parquet_parts(directory: Path) -> list[Path]:
    with _readable(directory):
        return sorted(p for p in directory.iterdir()
                      if p.is_file() and p.name.lower().endswith((".parquet", ".pq")) and p.name != "nodes.parquet")


def _validate_parts(files: list[Path], source: str, src_col: str, dst_col: str) -> tuple:
    """:func:`_validate_edges` of Parquet part files, each checked on its own terms as the
    sharded load checks its pieces (a part without ``kind`` holds follows, one without
    ``weight`` weighs 1, an empty one adds nothing; other columns are ignored; errors name the
    part and its row), then joined (:func:`join_parts`; kinds are the union)."""
    checked = []
    for file in files:
        try:
            with _readable(file):
                edges, kinds, table, ts_range = _validate_edges(_scan_parquet(file), str(file), src_col, dst_col)
        except EmptyGraphError:  # an empty part (writers leave some): nothing to add
            continue
        kind = pl.Series("kind", kinds, dtype=pl.String).gather(table[edges["kind"].to_physical().to_numpy()])
        checked.append((edges.with_columns(kind.cast(pl.Categorical)), ts_range))
    if not checked:
        raise EmptyGraphError(f"{source}: the edge table is empty (every part file is)")
    _, ts_range = join_parts(source, [str(edges.schema["src"]) for edges, _ in checked], [r for _, r in checked])
    edges = pl.concat([edges for edges, _ in checked], rechunk=False)
    kinds, kind_table = kind_codes(edges["kind"], source)
    return edges, kinds, kind_table, ts_range


def join_parts(source: str, id_types, ts_ranges) -> tuple:
    """``(id type, ts range)`` of edge parts checked one by one (local part files, or the
    sharded load's pieces) from each part's id dtype name and ``ts`` range (None: no time):
    the ids must be all integers or all strings."""
    names = sorted(set(id_types))
    if len(names) > 1:
        raise SchemaError(f"{source}: the edge files mix id types ({', '.join(names)}); "
                          "ids must be all integers or all strings")
    ranges = [r for r in ts_ranges if r is not None]
    ts_range = (min(r[0] for r in ranges), max(r[1] for r in ranges)) if ranges else None
    return (pl.String if names == ["String"] else pl.Int64), ts_range


def read_node_table(nodes, id_type) -> tuple[pl.DataFrame, str]:
    """The validated node table at ``nodes`` (a path, or a polars DataFrame/LazyFrame) for edges
    whose ids are ``id_type`` (``pl.Int64`` or ``pl.String``), and the name errors give it. A CSV
    node table's ids are read as the edges' type: CSV has no types."""
    if isinstance(nodes, (str, os.PathLike)):
        source = str(nodes)
        frame = _scan_table(Path(nodes), id_type=id_type)
    elif isinstance(nodes, (pl.DataFrame, pl.LazyFrame)):
        source = "<nodes DataFrame>"
        frame = nodes.lazy()
    else:
        raise SchemaError(f"nodes must be a path or a polars DataFrame, got {type(nodes).__name__}")
    return _validate_nodes(frame, source, id_type), source


def _format_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    if name.endswith(_EDGELIST_SUFFIXES):
        return "edgelist"
    return "sniff"


def _format(path: Path) -> str:
    """``parquet``, ``csv`` or ``edgelist``: by the name's suffix, else by the content."""
    fmt = _format_of(path)
    return _sniff(path) if fmt == "sniff" else fmt


def _sniff(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head == b"PAR1":
        return "parquet"
    first = _header_line(path)
    if first[:1] in (b"#", b"%") or not (b"," in first or b"\t" in first):
        return "edgelist"
    return "csv"


def _header_line(path: Path) -> bytes:
    """The first line of a text file, decompressed when it is gzip (told by its magic bytes, not
    its name)."""
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as fh:
        return fh.readline()


def _scan_table(path: Path, id_type=None) -> pl.LazyFrame:
    """A lazy frame over a Parquet or CSV/TSV file (node tables and headed edge tables).

    ``id_type``: the edges' id type, which a CSV's ``id`` column is read as (CSV has no types;
    the edges decide); None infers it.
    """
    if not path.exists():
        raise SchemaError(f"{path}: no such file")
    if path.is_dir():
        raise SchemaError(f"{path}: is a directory, expected a table file")
    with _readable(path):
        fmt = _format(path)
        if fmt == "parquet":
            return _scan_parquet(path)
        if fmt == "csv":
            return _read_csv(path, id_type=id_type).lazy()
    raise SchemaError(f"{path}: cannot read a table from a plain edge list; use Parquet or CSV")


def _scan_edges(path: Path, src_col: str, dst_col: str) -> pl.LazyFrame:
    with _readable(path):
        fmt = _format(path)
        if fmt == "parquet":
            return _scan_parquet(path)
        if fmt == "csv":
            return _read_csv(path, (src_col, dst_col, "kind", "weight", "ts"), (src_col, dst_col)).lazy()
        if (src_col, dst_col) != ("src", "dst"):
            raise SchemaError(f"{path}: a plain edge list has no header, so no columns to name with "
                              "--src-col/--dst-col (they apply to Parquet and CSV)")
        return _read_edgelist(path, src_col, dst_col).lazy()


@contextmanager
def _readable(path: Path):
    """Turn an operating-system failure to open or read ``path`` (permissions, a directory where
    a file is expected, an I/O error) into a one-line :class:`SchemaError` naming it."""
    try:
        yield
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _non_canonical_integers(values: pl.Series) -> pl.Series:
    """Rows of the text ``values`` that are not an int64 written canonically (``-12``, ``7``;
    not ``007``, ``+7``, ``7.0``); missing values are not counted."""
    canonical = values.cast(pl.Int64, strict=False).cast(pl.String) == values
    return (~canonical.fill_null(values.is_null())).arg_true()


def _integer_ids(columns: dict[str, pl.Series]) -> bool:
    """True when every value of the text id ``columns`` is an int64 written canonically, so that
    reading them as integers changes no id: ``007``, ``+7`` and ``7.0`` are other accounts than
    ``7`` and keep all ids text."""
    return all(len(_non_canonical_integers(values)) == 0 for values in columns.values())


def _blank_to_null(values: pl.Series) -> pl.Series:
    """Text values without surrounding whitespace; a cell that is empty or blank becomes null."""
    values = values.str.strip_chars()
    return values.set(values.str.len_bytes() == 0, None)


def _scan_parquet(path: Path) -> pl.LazyFrame:
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size >= 8:
            fh.seek(-4, os.SEEK_END)
            tail = fh.read(4)
        else:
            tail = b""
    if head != b"PAR1" or tail != b"PAR1":
        what = "an empty file" if size == 0 else "not a Parquet file (or a truncated one)"
        raise SchemaError(f"{path}: {what}")
    lf = pl.scan_parquet(path)
    try:
        lf.collect_schema()
    except Exception as exc:  # polars raises several types for corrupt footers
        raise SchemaError(f"{path}: unreadable Parquet file ({_first_line(exc)})") from None
    return lf


def _read_csv(path: Path, wanted: tuple[str, ...] | None = None, id_columns: tuple[str, ...] = ("id",),
              id_type=None) -> pl.DataFrame:
    """Read a headed CSV/TSV; only the ``wanted`` columns (all when None), every value as text.

    Types are settled afterwards over whole columns (the ``id_columns`` become Int64 only when
    every value of all of them is an integer written canonically, see :func:`_integer_ids`;
    ``id_type`` imposes a type instead: text, or integers, where a value that is not one written
    canonically is an error naming its row), so a late row never fails an inference made on the first rows and
    columns the engine does not use are never parsed. Cells are stripped; an empty or blank cell
    is missing. ``#`` starts no comment (``#python`` is an id). Blank lines at the end are
    ignored; a blank line between rows is an error naming its row.
    """
    separator = _csv_separator(path)
    try:
        header = pl.read_csv(path, separator=separator, n_rows=0).columns
    except Exception as exc:
        raise SchemaError(f"{path}: unreadable CSV ({_first_line(exc)})") from None
    if not header:
        raise SchemaError(f"{path}: an empty file")
    if wanted is not None and all(c in header for c in id_columns):
        columns = [c for c in header if c in wanted]
    else:  # all of them, so that a missing id column's error lists what the file has
        columns = header
    try:
        df = pl.read_csv(
            path,
            separator=separator,
            columns=columns,
            schema_overrides={c: pl.String for c in columns},
            infer_schema=False,
            raise_if_empty=True,
        )
    except Exception as exc:
        raise SchemaError(f"{path}: unreadable CSV ({_first_line(exc)})") from None
    df = pl.DataFrame([_blank_to_null(df[c]) for c in df.columns])
    blank = df.select(pl.all_horizontal(pl.all().is_null())).to_series()
    if blank.any() and len(columns) < len(header):  # blank in the columns read: in all of them?
        whole = pl.read_csv(path, separator=separator, infer_schema=False, raise_if_empty=True)
        whole = pl.DataFrame([_blank_to_null(whole[c]) for c in whole.columns])
        blank = whole.select(pl.all_horizontal(pl.all().is_null())).to_series()
    if blank.any():
        filled = (~blank).arg_true()
        last = int(filled[-1]) if len(filled) else -1
        interior = blank.head(last + 1).arg_true()
        if len(interior):
            raise SchemaError(f"{path}: data row {interior[0]} is empty (a blank line?)")
        df = df.head(last + 1)
    casts = []
    ids: dict[str, pl.Series] = {}
    for col in df.columns:
        values = df[col]
        if col == "weight" or (wanted is None and col in ("followers", "cost", "sponsored_share")):
            number = values.cast(pl.Float64, strict=False)
            bad = (number.is_null() & values.is_not_null()).arg_true()
            if len(bad):
                raise SchemaError(f"{path}: column {col!r} value {values[bad[0]]!r} in data row {bad[0]} is not a number")
            casts.append(number.alias(col))
        elif col == "verified":
            lowered = values.str.to_lowercase()
            flag = lowered.replace_strict({"true": True, "false": False, "1": True, "0": False},
                                          default=None, return_dtype=pl.Boolean)
            bad = (flag.is_null() & values.is_not_null()).arg_true()
            if len(bad):
                raise SchemaError(f"{path}: column 'verified' value {values[bad[0]]!r} in data row {bad[0]} is not a boolean")
            casts.append(flag.alias(col))
        elif col in id_columns:  # settled together below
            ids[col] = values
        elif col == "ts" and wanted is not None:
            casts.append(_csv_timestamps(path, values))
        else:
            casts.append(values.alias(col))
    if id_type == pl.Int64:
        for col, values in ids.items():
            bad = _non_canonical_integers(values)
            if len(bad):
                raise SchemaError(f"{path}: column {col!r} value {values[bad[0]]!r} in data row {bad[0]} is not an "
                                  "integer as written in the edges' ids (digits, an optional '-', no leading zero)")
    as_int = id_type == pl.Int64 or (id_type is None and _integer_ids(ids))
    casts.extend((ids[c].cast(pl.Int64) if as_int else ids[c]).alias(c) for c in ids)
    return pl.DataFrame(casts).select(df.columns)


def _csv_separator(path: Path) -> str:
    """Tab for ``.tsv`` names, comma for ``.csv``; for other names (a sniffed table) a tab when
    the header line has a tab and no comma."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".tsv"):
        return "\t"
    if name.endswith(".csv"):
        return ","
    first = _header_line(path)
    return "\t" if b"\t" in first and b"," not in first else ","


def _csv_timestamps(path: Path, values: pl.Series) -> pl.Series:
    """A CSV ``ts`` column: Int64 unix seconds when every value is an integer, else date-times
    (format inferred from the first value, as polars does). Empty cells are nulls."""
    as_int = values.cast(pl.Int64, strict=False)
    if as_int.null_count() == values.null_count():
        return as_int.alias("ts")
    try:
        parsed = values.str.to_datetime(strict=False)
    except Exception:  # polars cannot infer a date-time format from the first value
        parsed = pl.Series("ts", [None] * len(values), dtype=pl.Datetime("us"))
    bad = (parsed.is_null() & values.is_not_null()).arg_true()
    if len(bad):
        raise SchemaError(
            f"{path}: column 'ts' value {values[bad[0]]!r} in data row {bad[0]} is neither unix "
            "seconds nor a date-time such as 2024-05-01 12:00:00"
        )
    return parsed.alias("ts")


def _read_edgelist(path: Path, src_col: str, dst_col: str) -> pl.DataFrame:
    """Read a whitespace-separated ``src dst [weight]`` list; ``#``/``%`` lines are comments."""
    try:
        lines = pl.read_csv(
            path,
            has_header=False,
            separator="\x1f",
            quote_char=None,
            new_columns=["line"],
            schema_overrides={"line": pl.String},
            raise_if_empty=False,
        )
    except Exception as exc:
        raise SchemaError(f"{path}: unreadable edge list ({_first_line(exc)})") from None
    if lines.height == 0:
        raise SchemaError(f"{path}: an empty file")
    if lines.width != 1:
        raise SchemaError(f"{path}: unreadable edge list (unexpected control characters)")
    lines = lines.with_row_index("line_no", offset=1).with_columns(pl.col("line").str.strip_chars())
    lines = lines.filter(
        pl.col("line").is_not_null()
        & (pl.col("line") != "")
        & ~pl.col("line").str.starts_with("#")
        & ~pl.col("line").str.starts_with("%")
    )
    parts = lines.select(
        "line_no",
        pl.col("line").str.replace_all(r"\s+", " ").str.split(" ").alias("f"),
    )
    parts = parts.with_columns(pl.col("f").list.len().alias("n"))
    bad = parts.filter((pl.col("n") < 2) | (pl.col("n") > 4))
    if bad.height:
        row = bad.row(0, named=True)
        raise SchemaError(
            f"{path}: line {row['line_no']}: expected 'src dst [weight]', found {row['n']} field(s)"
        )
    out = parts.select(
        pl.col("f").list.get(0).alias(src_col),
        pl.col("f").list.get(1).alias(dst_col),
        pl.col("f").list.get(2, null_on_oob=True).alias("weight"),
    )
    has_weight = out["weight"].null_count() < out.height
    if not has_weight:
        out = out.drop("weight")
    # Ids: integers when every id is one written canonically, strings otherwise.
    if _integer_ids({src_col: out[src_col], dst_col: out[dst_col]}):
        out = out.with_columns(pl.col(src_col).cast(pl.Int64), pl.col(dst_col).cast(pl.Int64))
    if has_weight:
        weight = out["weight"].cast(pl.Float64, strict=False)
        bad_rows = (weight.is_null() & out["weight"].is_not_null()).arg_true()
        if len(bad_rows):
            i = bad_rows[0]
            raise SchemaError(f"{path}: weight {out['weight'][i]!r} in data row {i} is not a number")
        # A line without a third field weighs 1, like a file without weights.
        out = out.with_columns(weight.fill_null(1.0).alias("weight"))
    return out


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _validate_edges(frame: pl.LazyFrame, source: str, src_col: str, dst_col: str, first_row: int = 0) -> pl.DataFrame:
    """The checked edge table of ``frame``; errors name rows counted from ``first_row`` (a
    piece of a file read alone names the file's rows)."""
    try:
        schema = frame.collect_schema()
    except Exception as exc:
        raise SchemaError(f"{source}: unreadable ({_first_line(exc)})") from None
    columns = list(schema.names())
    for role, col in (("source", src_col), ("destination", dst_col)):
        if col not in schema:
            hint = " (use --src-col/--dst-col to name other columns)"
            raise SchemaError(
                f"{source}: no {role} column {col!r}; columns are {', '.join(map(repr, columns)) or 'none'}{hint}"
            )
    if src_col == dst_col:
        raise SchemaError(f"{source}: source and destination columns are the same ({src_col!r})")
    src_type, dst_type = schema[src_col], schema[dst_col]
    for col, dtype in ((src_col, src_type), (dst_col, dst_type)):
        if dtype == pl.Null:
            raise SchemaError(
                f"{source}: column {col!r} has type Null (every value is missing); ids must be integers or strings"
            )
        if not (dtype in _INT_TYPES or dtype == pl.String or dtype == pl.Categorical):
            raise SchemaError(
                f"{source}: column {col!r} has type {dtype}; ids must be integers or strings"
            )
    src_kind = "string" if src_type in (pl.String, pl.Categorical) else "integer"
    dst_kind = "string" if dst_type in (pl.String, pl.Categorical) else "integer"
    if src_kind != dst_kind:
        raise SchemaError(
            f"{source}: columns {src_col!r} ({src_type}) and {dst_col!r} ({dst_type}) must have the same id type"
        )
    id_type = pl.String if src_kind == "string" else pl.Int64
    select = [pl.col(src_col).alias("src"), pl.col(dst_col).alias("dst")]
    has_kind = "kind" in schema and "kind" not in (src_col, dst_col)
    has_weight = "weight" in schema and "weight" not in (src_col, dst_col)
    if has_kind:
        kind_type = schema["kind"]
        if not (kind_type in (pl.String, pl.Categorical, pl.Null) or isinstance(kind_type, pl.Enum)):
            raise SchemaError(f"{source}: column 'kind' has type {kind_type}; expected strings")
        # Categorical while reading: 4 bytes per row instead of a string, and the distinct
        # kinds (a handful) are normalised instead of every row.
        kind = pl.col("kind")
        if kind_type != pl.Categorical:
            kind = kind.cast(pl.String).cast(pl.Categorical)
        select.append(kind)
    if has_weight:
        if not schema["weight"].is_numeric() and schema["weight"] != pl.Null:
            raise SchemaError(f"{source}: column 'weight' has type {schema['weight']}; expected numbers")
        select.append(pl.col("weight").cast(pl.Float64))
    ts_type = schema["ts"] if "ts" in schema and "ts" not in (src_col, dst_col) else pl.Null
    has_ts = ts_type != pl.Null
    if has_ts:
        if not (ts_type in _INT_TYPES or isinstance(ts_type, pl.Datetime) or ts_type == pl.Date):
            raise SchemaError(
                f"{source}: column 'ts' has type {ts_type}; expected integers (unix seconds), "
                "datetimes or dates"
            )
    # Checked in a query of its own: the column is never held beside the edge table.
    ts_range = _check_timestamps(frame, ts_type, source, first_row) if has_ts else None
    try:
        df = frame.select(select).collect()
    except Exception as exc:
        raise SchemaError(f"{source}: unreadable ({_first_line(exc)})") from None

    if df.height == 0:
        raise EmptyGraphError(f"{source}: the edge table is empty")
    # Every check in one pass; the offending row is looked up only when a check fails.
    checks = [pl.col("src").null_count().alias("src_nulls"), pl.col("dst").null_count().alias("dst_nulls")]
    if id_type == pl.Int64:
        for col in ("src", "dst"):
            if df[col].dtype == pl.UInt64:
                checks.append((pl.col(col) > 2**63 - 1).any().alias(f"{col}_big"))
    weight_problems = (
        ("missing", pl.col("weight").is_null(), "is missing"),
        ("nan", pl.col("weight").is_nan(), "is NaN"),
        ("infinite", pl.col("weight").is_infinite(), "is infinite"),
        ("negative", pl.col("weight") < 0, "is negative"),
    )
    if has_weight:
        checks.extend(mask.fill_null(False).any().alias(name) for name, mask, _ in weight_problems)
    found = df.select(checks).row(0, named=True)
    for col, name in (("src", src_col), ("dst", dst_col)):
        if found[f"{col}_nulls"]:
            raise SchemaError(f"{source}: column {name!r} has a null id in data row {first_row + df[col].is_null().arg_true()[0]}")
    if id_type == pl.Int64:
        for col, name in (("src", src_col), ("dst", dst_col)):
            if found.get(f"{col}_big"):
                row = (df[col] > 2**63 - 1).arg_true()[0]
                raise SchemaError(f"{source}: column {name!r}: id {df[col][row]} in data row {first_row + row} exceeds int64")
        df = df.with_columns(pl.col("src").cast(pl.Int64), pl.col("dst").cast(pl.Int64))
    else:
        df = df.with_columns(pl.col("src").cast(pl.String), pl.col("dst").cast(pl.String))
    if has_kind:
        kind = df["kind"]
    else:
        kind = pl.Series("kind", ["follow"], dtype=pl.Categorical).extend_constant("follow", df.height - 1)
    kinds, kind_table = kind_codes(kind, source, first_row)
    if has_weight:
        for name, mask, what in weight_problems:
            if found[name]:
                weight = df["weight"]
                row = df.select(mask.fill_null(False).arg_true().first()).item()
                raise SchemaError(
                    f"{source}: column 'weight' {what} in data row {first_row + row} (value {weight[row]}); "
                    "weights must be finite numbers >= 0"
                )
        weight = df["weight"]
    else:
        weight = pl.Series("weight", np.ones(df.height, np.float64))
    edges = pl.DataFrame([df["src"], df["dst"], kind.alias("kind"), weight.alias("weight")])
    return edges, kinds, kind_table, ts_range


def _check_timestamps(frame: pl.LazyFrame, ts_type, source: str, first_row: int = 0) -> tuple | None:
    """``(first, last)`` of the ``ts`` column in unix seconds, or None when every value is null.

    Integers are unix seconds; datetimes (any unit; with a time zone, its instant) and dates
    count from 1970-01-01 UTC. Nulls are allowed (time unknown). A value outside
    ``[TS_MIN, TS_MAX)`` (1970 to 2099) raises a :class:`SchemaError` naming its row; integers
    that look like milliseconds, microseconds or nanoseconds are named so.

    One streaming query for the minimum and maximum (the column is not materialised); the
    offending row is looked up only when there is one.
    """
    is_int = ts_type in _INT_TYPES
    seconds = pl.col("ts") if is_int else pl.col("ts").dt.epoch("s")
    try:
        first, last = frame.select(seconds.min(), seconds.max().alias("last")).collect(engine="streaming").row(0)
    except Exception as exc:
        raise SchemaError(f"{source}: unreadable ({_first_line(exc)})") from None
    if first is None:
        return None
    if first >= TS_MIN and last < TS_MAX:
        return int(first), int(last)
    bad = (seconds < TS_MIN) | (seconds >= TS_MAX)
    row = frame.select(bad.arg_true().first()).collect().item()
    given, value = frame.select(pl.col("ts").slice(row, 1), seconds.slice(row, 1).alias("s")).collect().row(0)
    hint = ""
    if value >= TS_MAX and is_int:
        for unit, scale in (("milliseconds", 10**3), ("microseconds", 10**6), ("nanoseconds", 10**9)):
            if TS_MIN <= value // scale < TS_MAX:
                hint = f" (it looks like {unit}: divide by {scale:,})"
                break
    raise SchemaError(
        f"{source}: column 'ts' value {given} in data row {first_row + row} is out of range{hint}; "
        "expected times from 1970-01-01 to before 2100-01-01 UTC (integers are unix seconds)"
    )


def kind_codes(kind: pl.Series, source: str, first_row: int = 0) -> tuple[tuple, np.ndarray]:
    """The distinct kinds of a ``Categorical`` column, normalised, and the table from its
    physical codes to them.

    Only the distinct values are normalised (whitespace stripped, lower case: a handful, where
    the table has millions of rows); rows are mapped through their category codes
    (``kinds[table[code]]``), so the strings of the rows are never built.

    Returns ``(kinds, table)``: ``kinds`` sorted; ``table`` uint8 (uint32 above 255 kinds),
    indexed by physical code. Raises :class:`SchemaError` naming the first row whose kind is
    missing or empty (counted from ``first_row``).
    """
    if kind.dtype != pl.Categorical:
        kind = kind.cast(pl.String).cast(pl.Categorical)
    physical = kind.to_physical()
    raw_codes = physical.drop_nulls().unique()
    names = raw_codes.cat.to(kind.dtype).cast(pl.String).str.strip_chars().str.to_lowercase()
    raw_codes = raw_codes.to_numpy().astype(np.int64)
    empty = (names == "").to_numpy()
    if kind.null_count() or empty.any():
        missing = physical.is_null() | physical.is_in(raw_codes[empty].tolist())
        raise SchemaError(
            f"{source}: column 'kind' is empty in data row {first_row + missing.arg_true()[0]}; "
            "expected follow, an interaction kind or a negative kind"
        )
    kinds = tuple(sorted(set(names.to_list())))
    position = {name: i for i, name in enumerate(kinds)}
    table = np.zeros(int(raw_codes.max(initial=0)) + 1, np.uint8 if len(kinds) <= 255 else np.uint32)
    table[raw_codes] = [position[name] for name in names.to_list()]
    return kinds, table


def _validate_nodes(frame: pl.LazyFrame, source: str, id_type) -> pl.DataFrame:
    try:
        schema = frame.collect_schema()
    except Exception as exc:
        raise SchemaError(f"{source}: unreadable ({_first_line(exc)})") from None
    if "id" not in schema:
        raise SchemaError(f"{source}: node table has no 'id' column; columns are {', '.join(schema.names())}")
    node_id_type = schema["id"]
    is_string = node_id_type in (pl.String, pl.Categorical)
    is_int = node_id_type in _INT_TYPES
    if (id_type == pl.String and not is_string) or (id_type == pl.Int64 and not is_int):
        raise SchemaError(
            f"{source}: node table column 'id' has type {node_id_type}, but the edges' ids are "
            f"{'strings' if id_type == pl.String else 'integers'}"
        )
    wanted = [c for c in NODE_COLUMNS if c in schema]
    for col in ("name", "topic"):
        dtype = schema.get(col)
        if dtype is not None and not (dtype in (pl.String, pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum)
                                      or dtype.is_numeric()):
            raise SchemaError(f"{source}: column {col!r} has type {dtype}; expected strings")
    try:
        df = frame.select(wanted).collect()
    except Exception as exc:
        raise SchemaError(f"{source}: unreadable ({_first_line(exc)})") from None
    if df.schema["id"] == pl.UInt64:
        big = (df["id"] > 2**63 - 1).fill_null(False)
        if big.any():
            row = big.arg_true()[0]
            raise SchemaError(f"{source}: column 'id': id {df['id'][row]} in data row {row} exceeds int64")
    df = df.with_columns(pl.col("id").cast(id_type))
    nulls = df["id"].is_null()
    if nulls.any():
        raise SchemaError(f"{source}: column 'id' has a null id in data row {nulls.arg_true()[0]}")
    dup = df["id"].is_duplicated()
    if dup.any():
        row = dup.arg_true()[0]
        raise SchemaError(f"{source}: id {df['id'][row]!r} appears more than once (data row {row})")
    numeric = {"followers": (0, 2.0**63 - 1024), "cost": (0, None), "sponsored_share": (0, 1)}
    for col, (lo, hi) in numeric.items():
        if col not in df.columns:
            continue
        if not df.schema[col].is_numeric():
            raise SchemaError(f"{source}: column {col!r} has type {df.schema[col]}; expected numbers")
        if col == "followers" and df.schema[col] in _INT_TYPES:  # counts as given, exactly
            bad = df[col] < 0
            if df.schema[col] == pl.UInt64:
                bad = df[col] > 2**63 - 1
            bad = bad.fill_null(False)
            if bad.any():
                row = bad.arg_true()[0]
                raise SchemaError(f"{source}: column 'followers' value {df[col][row]} in data row {row} "
                                  "must be >= 0 and below 2**63")
            df = df.with_columns(pl.col(col).cast(pl.Int64))
            continue
        values = df[col].cast(pl.Float64)
        bad = values.is_nan() | values.is_infinite() | (values < lo)
        if hi is not None:
            bad = bad | (values > hi)
        bad = bad.fill_null(False)
        if bad.any():
            row = bad.arg_true()[0]
            expect = f"in [{lo}, {hi}]" if hi is not None else f"finite and >= {lo}"
            if col == "followers":
                expect = "finite, >= 0 and below 2**63"
            raise SchemaError(f"{source}: column {col!r} value {values[row]} in data row {row} must be {expect}")
        df = df.with_columns(values.alias(col))
    if "followers" in df.columns and df.schema["followers"] != pl.Int64:
        df = df.with_columns(pl.col("followers").round(0).cast(pl.Int64))
    if "verified" in df.columns:
        if df.schema["verified"] != pl.Boolean:
            raise SchemaError(f"{source}: column 'verified' has type {df.schema['verified']}; expected booleans")
    for col in ("name", "topic"):
        if col in df.columns:
            df = df.with_columns(pl.col(col).cast(pl.String))
    return df
