"""Qt-free undoable commands used by the segmentation and simulation panels.

* :class:`PaintStroke` - one brush drag (many dabs) as one undo step; stores only the
  touched boxes with their old and new values (as napari's label painting does).
* :class:`Batch` - several commands applied as one undo step (e.g. grow-from-seeds that
  fills three segments); each sub-command is built *after* the previous one ran, so
  commands that diff against the current state (``SetSegmentMask``) stay correct.
* :class:`SetProjectItems` - put / remove entries of ``project.surfaces``, ``meshes`` or
  ``documents`` (a surface, an FE mesh and its result, a case document).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.commands import Command, CompositeCommand
from twin.labelmap import LabelMap

Box = tuple[slice, slice, slice]


class PaintStroke(Command):
    """Voxel patches of one layer, recorded while painting live (``record``) and undone in reverse order."""

    def __init__(self, labelmap: LabelMap, layer: int, text: str) -> None:
        self.labelmap = labelmap
        self.layer = layer
        self.text = text
        self.patches: list[tuple[Box, NDArray[Any], NDArray[Any]]] = []

    def apply_patch(self, box: Box, change: NDArray[np.bool_], value: int, erase_value: int | None = None) -> int:
        """Apply one dab now: set ``value`` where ``change`` (or clear voxels equal to ``erase_value``).

        Returns the number of voxels changed (0: nothing recorded).
        """
        arr = self.labelmap.layers[self.layer]
        old = arr[box]
        if erase_value is not None:
            hit = change & (old == erase_value)
            if not hit.any():
                return 0
            new = old.copy()
            new[hit] = 0
        else:
            hit = change & (old != value)
            if not hit.any():
                return 0
            new = old.copy()
            new[hit] = value
        self.patches.append((box, old.copy(), new))
        arr[box] = new
        self.labelmap.revision += 1
        return int(np.count_nonzero(hit))

    @property
    def empty(self) -> bool:
        """Whether the stroke changed nothing."""
        return not self.patches

    def do(self) -> None:  # noqa: D102 - redo (and the push right after live painting: idempotent)
        arr = self.labelmap.layers[self.layer]
        for box, _old, new in self.patches:
            arr[box] = new
        self.labelmap.revision += 1

    def undo(self) -> None:  # noqa: D102
        arr = self.labelmap.layers[self.layer]
        for box, old, _new in reversed(self.patches):
            arr[box] = old
        self.labelmap.revision += 1

    def rollback(self) -> None:
        """Revert a stroke that will not be pushed (e.g. cancelled)."""
        self.undo()
        self.patches.clear()


Batch = CompositeCommand
"""Several commands as one undo step (:class:`twin.commands.CompositeCommand`)."""


_MISSING = object()


class SetProjectItems(Command):
    """Set (value) or delete (value None) entries of a project's dict attribute.

    Parameters
    ----------
    project : twin.project.Project
    changes : sequence of (attribute, key, value)
        ``attribute`` in ``surfaces``, ``meshes``, ``documents``; ``value`` None removes the key.
    """

    def __init__(self, project: Any, changes: Sequence[tuple[str, str, Any]], text: str) -> None:
        for attr, _, _ in changes:
            if attr not in ("surfaces", "meshes", "documents"):
                raise ValueError(f"cannot edit project.{attr} with SetProjectItems")
        self.project = project
        self.changes = list(changes)
        self.text = text
        self.old: list[Any] = [getattr(project, a).get(k, _MISSING) for a, k, _ in self.changes]

    def do(self) -> None:  # noqa: D102
        for attr, key, value in self.changes:
            d = getattr(self.project, attr)
            if value is None:
                d.pop(key, None)
            else:
                d[key] = value

    def undo(self) -> None:  # noqa: D102
        for (attr, key, _), old in zip(reversed(self.changes), reversed(self.old)):
            d = getattr(self.project, attr)
            if old is _MISSING:
                d.pop(key, None)
            else:
                d[key] = old
