"""A text progress bar on stderr implementing :class:`twin.progress.Progress`."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class StderrProgress:
    """Draws ``[#####-----]  45% message`` on stderr; silent when ``quiet``.

    Redraws at most 10 times per second; on a non-terminal it prints a line
    per 10% step instead of carriage returns.
    """

    def __init__(self, label: str = "", quiet: bool = False, stream: TextIO | None = None) -> None:
        self.label = label
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self._last = 0.0
        self._last_decile = -1
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._open = False

    def update(self, fraction: float, message: str = "") -> None:  # noqa: D102
        if self.quiet:
            return
        fraction = min(max(fraction, 0.0), 1.0)
        now = time.monotonic()
        if self._tty:
            if fraction < 1.0 and now - self._last < 0.1:
                return
            self._last = now
            n = int(fraction * 30)
            bar = "#" * n + "-" * (30 - n)
            self.stream.write(f"\r{self.label} [{bar}] {fraction * 100:3.0f}% {message[:40]:<40}")
            self._open = True
            if fraction >= 1.0:
                self.stream.write("\n")
                self._open = False
            self.stream.flush()
        else:
            decile = int(fraction * 10)
            if decile != self._last_decile:
                self._last_decile = decile
                n = decile * 3
                self.stream.write(f"{self.label} [{'#' * n}{'-' * (30 - n)}] {fraction * 100:3.0f}% {message}\n")
                self.stream.flush()

    def raise_if_cancelled(self) -> None:  # noqa: D102
        return None

    def close(self) -> None:
        """End the bar's line."""
        if self._open and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


class DelayedProgress:
    """Forwards to the stderr progress bar once the work has lasted ``delay_s`` seconds.

    Quick work (and bad input, which the readers detect from headers before decoding)
    prints nothing but its result or its one error line; on a terminal a bar that was
    drawn is erased again on failure.
    """

    def __init__(self, target: Any, delay_s: float = 1.0) -> None:
        self.target = target
        self.delay_s = delay_s
        self.start = time.monotonic()
        stream = getattr(target, "stream", sys.stderr)
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.enabled = not getattr(target, "quiet", False)
        self.drawn = False

    def update(self, fraction: float, message: str = "") -> None:  # noqa: D102
        if self.enabled and time.monotonic() - self.start >= self.delay_s:
            self.drawn = True
            self.target.update(fraction, message)

    def raise_if_cancelled(self) -> None:  # noqa: D102
        self.target.raise_if_cancelled()

    def close(self, failed: bool = False) -> None:
        """End the bar's line; on failure erase it."""
        if not self.drawn:
            return
        if failed and self.tty:
            stream = self.target.stream
            stream.write("\r\033[K")
            stream.flush()
        elif not failed:
            self.target.close()


def delayed_bar(label: str, quiet: bool = False, delay_s: float = 1.0) -> DelayedProgress:
    """The CLI's progress bar: silent for quick work, erased on failure on a terminal.

    Call ``close(failed=True)`` before an error propagates, ``close()`` at the end: a failing
    command then prints only its one error line (no half-drawn bar before it).
    """
    return DelayedProgress(StderrProgress(label, quiet=quiet), delay_s)
