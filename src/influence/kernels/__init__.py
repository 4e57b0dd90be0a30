"""numba kernels: pure functions over numpy arrays (no polars, no I/O, no globals).

Conventions shared by every kernel:

* A graph layer is stored twice, as CSR over targets ("in", row ``v`` lists the accounts
  ``u`` with an edge ``u -> v``, i.e. the accounts paying attention to ``v``) and CSR over
  sources ("out", row ``u`` lists the accounts ``u`` pays attention to).
* ``indptr`` is int64, ``indices`` int32 sorted ascending within each row, ``data`` float32.
* Per-node vectors are float64. Kernels assume valid input; wrappers convert dtypes once.
"""
