"""Finding accounts by id, as typed on a command line or passed from Python."""

from __future__ import annotations

import numpy as np
import polars as pl

from .errors import ConfigError

#: The range of the graph's integer ids (polars Int64).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def account_indices(ids: pl.Series, wanted) -> np.ndarray:
    """int64 indices into the sorted id Series ``ids`` of every id in ``wanted``.

    Ids are matched as the graph's id type: for an Int64 graph a string that parses as an integer
    matches (``"42"`` finds 42). An id that is not in the graph raises :class:`ConfigError`
    naming it (an integer beyond int64 too: no account has it).
    """
    wanted = list(wanted)
    if not wanted:
        raise ConfigError("no account id given")
    fits = np.ones(len(wanted), dtype=bool)
    if ids.dtype == pl.Int64:
        values = []
        for raw in wanted:
            try:
                values.append(int(str(raw).strip()))
            except ValueError:
                raise ConfigError(f"account id {raw!r} is not an integer, but the graph's ids are integers") from None
        fits = np.array([INT64_MIN <= v <= INT64_MAX for v in values], dtype=bool)
        probe = pl.Series([v if ok else 0 for v, ok in zip(values, fits)], dtype=pl.Int64)
    else:
        probe = pl.Series([str(raw) for raw in wanted], dtype=pl.String)
    position = ids.search_sorted(probe, side="left").to_numpy().astype(np.int64)
    found = fits & (position < ids.len())
    found[found] = (ids.gather(position[found]) == probe.filter(pl.Series(found))).to_numpy()
    if not found.all():
        missing = [wanted[i] for i in np.flatnonzero(~found)]
        raise ConfigError(f"account id {missing[0]!r} is not in the graph" + (
            f" (nor {len(missing) - 1} more)" if len(missing) > 1 else ""))
    return position
