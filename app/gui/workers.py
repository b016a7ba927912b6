"""Background work for the GUI: run a pure function in a QThreadPool with progress and Cancel.

The function receives a :class:`twin.progress.CallbackProgress` (call
``progress.update(fraction, message)`` and ``progress.raise_if_cancelled()``);
its result or exception comes back to the GUI thread through Qt signals, where
``on_done(result)`` runs. Results that change the project must be applied on
the GUI thread through an undoable command (``window.push_command``).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

from twin.errors import Cancelled, InputError, VhtError
from twin.progress import CallbackProgress, CancelToken


class WorkerSignals(QObject):
    """Signals of one job (emitted from the worker thread, delivered on the GUI thread)."""

    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(str, str)  # readable message, technical details
    cancelled = Signal()


class Worker(QRunnable):
    """A job for ``QThreadPool``: ``fn(progress) -> result``."""

    def __init__(self, fn: Callable[[CallbackProgress], Any], label: str = "working") -> None:
        super().__init__()
        self.fn = fn
        self.label = label
        self.token = CancelToken()
        self.signals = WorkerSignals()
        self.done = False
        self.setAutoDelete(False)

    def cancel(self) -> None:
        """Ask the job to stop at its next progress check."""
        self.token.cancel()

    def _emit(self, signal: str, *args: Any) -> None:
        try:
            getattr(self.signals, signal).emit(*args)
        except RuntimeError:  # receiver window already destroyed (closing while a job finished): drop it
            self.token.cancel()

    def run(self) -> None:  # noqa: D102 - runs in the pool thread
        from rendering.surfaces import VTK_THREAD_LOCK

        progress = CallbackProgress(lambda f, m: self._emit("progress", f, m), self.token)
        try:
            # Jobs may create VTK objects; VTK's global garbage collector deadlocks against a render on
            # the GUI thread, so jobs run under the VTK lock and the 3-D view defers paints meanwhile.
            with VTK_THREAD_LOCK:
                result = self.fn(progress)
        except Cancelled:
            self.done = True
            self._emit("cancelled")
            return
        except MemoryError:
            self.done = True
            self._emit("failed", f"{self.label}: not enough memory", traceback.format_exc())
            return
        except InputError as exc:
            self.done = True
            self._emit("failed", str(exc), traceback.format_exc())
            return
        except VhtError as exc:
            self.done = True
            self._emit("failed", f"{self.label} failed: {exc}", traceback.format_exc())
            return
        except Exception as exc:  # noqa: BLE001 - shown to the user as a message, details on request
            self.done = True
            self._emit("failed", f"{self.label}: internal error ({type(exc).__name__}: {exc})",
                                     traceback.format_exc())
            return
        self.done = True
        self._emit("finished", result)
