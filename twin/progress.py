"""Progress reporting and cancellation for long pure functions.

Every long function takes ``progress: Progress | None``. It calls
``progress.update(fraction, message)`` with ``fraction`` in [0, 1] and
``progress.raise_if_cancelled()`` at safe points. The CLI maps it to a
progress bar on stderr; the GUI to Qt signals from a worker thread.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

from twin.errors import Cancelled


@runtime_checkable
class Progress(Protocol):
    """What long functions report to."""

    def update(self, fraction: float, message: str = "") -> None:
        """Report overall completion ``fraction`` in [0, 1] with a short message."""

    def raise_if_cancelled(self) -> None:
        """Raise :class:`twin.errors.Cancelled` if the user asked to stop."""


class NullProgress:
    """A progress sink that ignores updates and is never cancelled."""

    def update(self, fraction: float, message: str = "") -> None:  # noqa: D102
        return None

    def raise_if_cancelled(self) -> None:  # noqa: D102
        return None


class CancelToken:
    """Thread-safe cancellation flag, set by the GUI, checked by workers."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the running operation to stop."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()


class CallbackProgress:
    """Progress that forwards to a callback and honours a :class:`CancelToken`.

    Parameters
    ----------
    callback : callable, optional
        ``callback(fraction, message)``; called from the worker thread.
    token : CancelToken, optional
        Checked by :meth:`raise_if_cancelled`.
    """

    def __init__(self, callback=None, token: CancelToken | None = None) -> None:  # type: ignore[no-untyped-def]
        self._callback = callback
        self.token = token or CancelToken()
        self.last_fraction = 0.0
        self.last_message = ""

    def update(self, fraction: float, message: str = "") -> None:  # noqa: D102
        self.last_fraction = float(min(max(fraction, 0.0), 1.0))
        if message:
            self.last_message = message
        if self._callback is not None:
            self._callback(self.last_fraction, self.last_message)
        self.raise_if_cancelled()

    def raise_if_cancelled(self) -> None:  # noqa: D102
        if self.token.cancelled:
            raise Cancelled("cancelled by the user")


class SubProgress:
    """Map a sub-task's [0, 1] onto ``[start, stop]`` of a parent progress."""

    def __init__(self, parent: Progress | None, start: float, stop: float, prefix: str = "") -> None:
        self.parent = parent or NullProgress()
        self.start = start
        self.stop = stop
        self.prefix = prefix

    def update(self, fraction: float, message: str = "") -> None:  # noqa: D102
        msg = f"{self.prefix}{message}" if self.prefix else message
        self.parent.update(self.start + (self.stop - self.start) * fraction, msg)

    def raise_if_cancelled(self) -> None:  # noqa: D102
        self.parent.raise_if_cancelled()


def ensure_progress(progress: Progress | None) -> Progress:
    """Return ``progress`` or a :class:`NullProgress`."""
    return progress if progress is not None else NullProgress()
