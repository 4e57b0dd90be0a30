"""Errors the engine reports to users.

Every error a user can cause (bad input, bad parameter) is an :class:`InfluenceError`;
the CLI turns it into one ``Error: ...`` line and exit code 1. Anything else is a bug.
"""


class InfluenceError(Exception):
    """Base class of every error the engine reports to users."""


class SchemaError(InfluenceError):
    """Input data does not match the expected schema."""


class ConfigError(InfluenceError):
    """A parameter is out of range or inconsistent."""


class EmptyGraphError(InfluenceError):
    """The input holds no usable edge."""


class ConvergenceError(InfluenceError):
    """An iterative solver did not converge."""


class MissingSignalWarning(UserWarning):
    """The input lacks a signal (no interaction edges, no reshares, ...) and a score falls back.

    The same messages are kept in ``Diagnostics.unavailable``; the CLI's tables print them as a
    footer instead of a warning.
    """
