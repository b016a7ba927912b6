"""Error types shared by every package.

``InputError`` is what users see: the CLI prints its message on one line and
exits with code 2; the GUI shows it in a dialog. Anything else is a bug.
"""

from __future__ import annotations

from pathlib import Path


class VhtError(Exception):
    """Base class of every error this project raises on purpose."""


class InputError(VhtError):
    """Bad input from the user: a file, a parameter, a case description.

    Parameters
    ----------
    message : str
        What is wrong, in words a user understands.
    path : str or Path, optional
        The file or folder concerned; prefixed to the message.
    """

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = None if path is None else str(path)
        self.reason = message
        super().__init__(f"{self.path}: {message}" if self.path else message)


class GeometryError(InputError):
    """An image's geometry is invalid or cannot be used without guessing."""


class Cancelled(VhtError):
    """The user cancelled a long operation."""


class SolverError(VhtError):
    """A numerical solve failed (non-convergence, singular system, inverted elements)."""
