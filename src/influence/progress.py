"""A small progress display for long runs: the phase a run is in and a bar, on a terminal.

Nothing is drawn unless the stream is a terminal (``isatty()``) and the run has already taken
``delay`` seconds: short runs and redirected or piped stderr stay silent, and nothing ever goes
to stdout (the CLI passes ``sys.stderr``). The display is one line redrawn with a carriage
return and erased when the run ends, so the summary line that follows starts clean.

The scoring phases run inside compiled kernels that report nothing while they run, so the bar
moves at phase boundaries (phase ``i`` of ``n``), and within a phase wherever a Python loop calls
:meth:`Progress.advance`. With ``tick`` set, a background thread redraws the line every ``tick``
seconds, so that the display appears once the delay has passed and its clock keeps running even
inside a long phase (the kernels release the GIL; polars' reader too).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Callable, Sequence, TextIO

#: Seconds a run must have taken before anything is drawn (environment variable
#: ``INFLUENCE_PROGRESS_DELAY`` overrides it, e.g. 0 to see the display on any run).
DEFAULT_DELAY = 2.0
#: Seconds between two redraws of the same phase (``advance`` may be called far more often).
REDRAW_INTERVAL = 0.1
BAR_WIDTH = 24


def default_delay() -> float:
    """``INFLUENCE_PROGRESS_DELAY`` when set to a number >= 0, else ``DEFAULT_DELAY``."""
    try:
        value = float(os.environ.get("INFLUENCE_PROGRESS_DELAY", DEFAULT_DELAY))
    except ValueError:
        return DEFAULT_DELAY
    return value if value >= 0 else DEFAULT_DELAY


class Progress:
    """Phases and a bar drawn on ``stream`` (default stderr) when it is a terminal.

    Parameters
    ----------
    phases
        The names of the phases in the order they run; the bar is the share of them done.
    stream
        Where to draw; default ``sys.stderr``.
    enabled
        Force the display on or off; default: on when ``stream.isatty()``.
    delay
        Seconds the run must have taken before the first draw; default ``DEFAULT_DELAY`` or
        the environment variable ``INFLUENCE_PROGRESS_DELAY``.
    clock
        Monotonic clock in seconds (injectable for tests).
    width
        Columns of the line; it is cut to fit.
    tick
        Seconds between redraws by a background thread (started on ``__enter__``); None: redraw
        only on :meth:`start` and :meth:`advance`.

    Use as a context manager so that the line is erased even when the run fails::

        with Progress(["load", "score"]) as progress:
            progress.start("load")
            ...
    """

    def __init__(self, phases: Sequence[str], *, stream: TextIO | None = None, enabled: bool | None = None,
                 delay: float | None = None, clock: Callable[[], float] = time.monotonic, width: int = 79,
                 tick: float | None = None):
        self.phases = list(phases)
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.delay = default_delay() if delay is None else delay
        self.clock = clock
        self.width = width
        self.started = clock()
        self.phase: str | None = None
        self.index = -1
        self.fraction = 0.0
        self.drawn = False
        self.last_draw = -float("inf")
        self.tick = tick
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    #: The display entered last and not yet closed (so that a warning printed on the same stream
    #: can erase it first: :meth:`clear`).
    active: "Progress | None" = None

    def __enter__(self) -> "Progress":
        Progress.active = self
        if self.enabled and self.tick:
            self._ticker = threading.Thread(target=self._tick, name="influence-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
        if Progress.active is self:
            Progress.active = None

    def _tick(self) -> None:
        while not self._stop.wait(self.tick):
            self._draw(force=True)

    def __call__(self, phase: str) -> None:
        """Same as :meth:`start`: a Progress can be passed where a phase callback is expected."""
        self.start(phase)

    def start(self, phase: str) -> None:
        """Phase ``phase`` begins (a name not in ``phases`` is added at the end)."""
        if phase not in self.phases:
            self.phases.append(phase)
        self.index = self.phases.index(phase)
        self.phase = phase
        self.fraction = 0.0
        self._draw(force=True)

    def advance(self, done: float, total: float) -> None:
        """``done`` of ``total`` steps of the current phase are finished (for long loops)."""
        self.fraction = min(1.0, max(0.0, done / total)) if total > 0 else 1.0
        self._draw(force=False)

    def close(self) -> None:
        """Stop the ticker and erase the line if anything was drawn; nothing is drawn after."""
        self._stop.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join()
            self._ticker = None
        self.clear()
        self.enabled = False

    def clear(self) -> None:
        """Erase the line (if drawn) so that other text can be written; the next phase or
        advance draws it again."""
        with self._lock:
            if self.drawn:
                self.stream.write("\r" + " " * self.width + "\r")
                self.stream.flush()
                self.drawn = False
                self.last_draw = -float("inf")

    def write_above(self, text: str) -> None:
        """Write ``text`` and a newline to the stream on a line of its own: the display is erased
        first (and drawn again by the next phase, advance or tick), atomically with the ticker."""
        with self._lock:
            if self.drawn:
                self.stream.write("\r" + " " * self.width + "\r")
                self.drawn = False
                self.last_draw = -float("inf")
            self.stream.write(text + "\n")
            self.stream.flush()

    def line(self) -> str:
        """The text of the display as it stands now."""
        n = max(len(self.phases), 1)
        position = max(self.index, 0) + self.fraction
        filled = int(round(BAR_WIDTH * position / n))
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        step = f"{self.index + 1}/{n}" if self.index >= 0 else f"0/{n}"
        within = f" {self.fraction:4.0%}" if 0.0 < self.fraction < 1.0 else ""
        elapsed = self.clock() - self.started
        text = f"influence [{bar}] {step} {self.phase or ''}{within}  {elapsed:.1f} s"
        return text[: self.width]

    def _draw(self, force: bool) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if now - self.started < self.delay:
            return
        if not force and now - self.last_draw < REDRAW_INTERVAL:
            return
        with self._lock:
            if not self.enabled:  # closed meanwhile
                return
            self.last_draw = now
            self.stream.write("\r" + self.line().ljust(self.width))
            self.stream.flush()
            self.drawn = True
