"""A text progress bar on stderr implementing :class:`twin.progress.Progress`."""

from __future__ import annotations

import sys
import time
from typing import TextIO


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
