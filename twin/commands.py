"""Undoable commands and the undo stack, shared by GUI, CLI and tests.

Every user change to a :class:`twin.project.Project` is a :class:`Command`
pushed on the project's :class:`UndoStack`. The stack has no Qt dependency;
``app/`` mirrors it into QActions. Commands store only what they need to undo
(e.g. the bounding box and old values of painted voxels).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any


class Command(ABC):
    """Base class: override :meth:`do` and :meth:`undo`.

    ``text`` is the label shown in the Edit menu ("Undo Paint liver").
    :meth:`do` is called again for redo, so it must be repeatable after
    :meth:`undo`.
    """

    text: str = "edit"

    @abstractmethod
    def do(self) -> None:
        """Apply the change."""

    @abstractmethod
    def undo(self) -> None:
        """Revert exactly what :meth:`do` changed."""

    def merge_with(self, other: Command) -> bool:
        """Absorb ``other`` (pushed right after) into this one; return True if merged."""
        return False


class CompositeCommand(Command):
    """Several commands done in order and undone in reverse, as one undo step.

    Sub-commands are built lazily by ``factories`` right before each runs (the first :meth:`do`),
    because each may depend on the state left by the previous one. If one fails during that first
    :meth:`do`, those already done are undone (nothing is left half-applied) and the error propagates.
    """

    def __init__(self, text: str, factories: Sequence[Callable[[], Command]]) -> None:
        self.text = text
        self.factories = list(factories)
        self.commands: list[Command] | None = None

    def do(self) -> None:  # noqa: D102
        if self.commands is None:
            done: list[Command] = []
            try:
                for make in self.factories:
                    cmd = make()
                    cmd.do()
                    done.append(cmd)
            except Exception:
                for cmd in reversed(done):
                    cmd.undo()
                raise
            self.commands = done
        else:
            for cmd in self.commands:
                cmd.do()

    def undo(self) -> None:  # noqa: D102
        for cmd in reversed(self.commands or []):
            cmd.undo()


class FunctionCommand(Command):
    """A command from two callables (for small edits)."""

    def __init__(self, text: str, do: Callable[[], Any], undo: Callable[[], Any]) -> None:
        self.text = text
        self._do = do
        self._undo = undo

    def do(self) -> None:  # noqa: D102
        self._do()

    def undo(self) -> None:  # noqa: D102
        self._undo()


class UndoStack:
    """Linear undo/redo history with a clean (saved) marker.

    Parameters
    ----------
    limit : int
        Maximum number of undo steps kept (oldest dropped).
    """

    def __init__(self, limit: int = 200) -> None:
        self._done: list[Command] = []
        self._undone: list[Command] = []
        self._clean_index: int | None = 0
        self.limit = limit
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every push, undo, redo or clean change."""
        self._listeners.append(callback)

    def _notify(self) -> None:
        for cb in list(self._listeners):
            cb()

    def push(self, command: Command, merge: bool = False) -> None:
        """Run ``command.do()`` and record it. With ``merge``, try to fold it into the last command."""
        command.do()
        if merge and self._done and not self._undone and self._done[-1].merge_with(command):
            if self._clean_index == len(self._done):
                self._clean_index = None
        else:
            self._done.append(command)
            if self._clean_index is not None and self._clean_index > len(self._done) - 1 and self._undone:
                self._clean_index = None
            self._undone.clear()
            if len(self._done) > self.limit:
                self._done.pop(0)
                if self._clean_index is not None:
                    self._clean_index -= 1
                    if self._clean_index < 0:
                        self._clean_index = None
        self._notify()

    def undo(self) -> bool:
        """Undo the last command; False if there is none."""
        if not self._done:
            return False
        cmd = self._done.pop()
        cmd.undo()
        self._undone.append(cmd)
        self._notify()
        return True

    def redo(self) -> bool:
        """Redo the last undone command; False if there is none."""
        if not self._undone:
            return False
        cmd = self._undone.pop()
        cmd.do()
        self._done.append(cmd)
        self._notify()
        return True

    @property
    def can_undo(self) -> bool:
        """Whether :meth:`undo` would do something."""
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        """Whether :meth:`redo` would do something."""
        return bool(self._undone)

    @property
    def undo_text(self) -> str:
        """Label of the command :meth:`undo` would revert."""
        return self._done[-1].text if self._done else ""

    @property
    def redo_text(self) -> str:
        """Label of the command :meth:`redo` would re-apply."""
        return self._undone[-1].text if self._undone else ""

    def set_clean(self) -> None:
        """Mark the current state as saved."""
        self._clean_index = len(self._done)
        self._notify()

    @property
    def is_clean(self) -> bool:
        """Whether the state equals the last saved one."""
        return self._clean_index == len(self._done)

    def clear(self) -> None:
        """Forget the history (e.g. after opening another case)."""
        self._done.clear()
        self._undone.clear()
        self._clean_index = 0
        self._notify()

    def __len__(self) -> int:
        return len(self._done)
