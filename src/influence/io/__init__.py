"""Input and output: reading graphs with polars, validating them, writing results."""

from .read import RawInput, read_input
from .write import FORMATS, atomic_write_bytes, emit, format_table, render

__all__ = ["RawInput", "read_input", "FORMATS", "atomic_write_bytes", "emit", "format_table", "render"]
