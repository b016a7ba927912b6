"""Undoable application of segmentation results to a :class:`twin.labelmap.LabelMap`.

The GUI computes masks with the pure functions of :mod:`segmentation` in a worker
thread, then builds one command here on the main thread and pushes it on
``project.undo_stack``: every tool run is exactly one undo step.

Examples
--------
>>> cmd = apply_mask(labelmap, "bone", presets.bone(ct))          # doctest: +SKIP
>>> project.undo_stack.push(cmd)                                   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from segmentation._common import Mask
from twin.commands import Command, CompositeCommand
from twin.errors import InputError
from twin.labelmap import RGB, LabelMap
from twin.labelmap_commands import AddSegment, RemoveSegment, ReplaceLabelMapContent, SetSegmentMask


def apply_mask(
    labelmap: LabelMap,
    name: str,
    mask: Mask,
    mode: str = "replace",
    color: RGB | None = None,
    overwrite: bool = True,
) -> Command:
    """One command making segment ``name`` equal to / include / exclude ``mask``.

    Creates the segment (with ``color`` or the anatomy default) when it does not exist yet.

    Parameters
    ----------
    mode : {"replace", "add", "erase"}
        As :class:`twin.labelmap_commands.SetSegmentMask`.
    overwrite : bool
        Whether painting may take voxels of other segments of the same layer.
    """
    m = np.asarray(mask, bool)
    if m.shape != labelmap.shape:
        raise InputError(f"mask shape {m.shape} does not match the label map {labelmap.shape}")
    if any(s.name == name for s in labelmap.segments):
        return SetSegmentMask(labelmap, name, m, mode, overwrite=overwrite, text=f"{mode.capitalize()} {name}")
    if mode == "erase":
        raise InputError(f"no segment {name!r} to erase from")
    return AddSegment(labelmap, name, color, mask=m)


def erase_everywhere(labelmap: LabelMap, mask: Mask, text: str = "Scissors") -> Command:
    """Erase ``mask`` from every segment (scissors), as one command."""
    m = np.asarray(mask, bool)
    names = [s.name for s in labelmap.segments if np.any(labelmap.layers[s.layer][m] == s.value)]
    return CompositeCommand(text, [lambda n=n: SetSegmentMask(labelmap, n, m, "erase") for n in names])


def apply_labels(
    labelmap: LabelMap,
    labels: NDArray[np.integer],
    names: Mapping[int, str],
    colors: Mapping[int, RGB] | None = None,
    text: str = "Grow from seeds",
) -> Command:
    """Apply a multi-label result (e.g. :func:`segmentation.grow.grow_from_seeds`) as one command.

    Each value ``v`` in ``names`` becomes (or replaces the voxels of) segment ``names[v]``.
    """
    arr = np.asarray(labels)
    if arr.shape != labelmap.shape:
        raise InputError(f"label array shape {arr.shape} does not match the label map {labelmap.shape}")
    factories = [
        (lambda v=v, n=n: apply_mask(labelmap, n, arr == v, "replace", (colors or {}).get(v)))
        for v, n in names.items()
    ]
    return CompositeCommand(text, factories)


def logical_operation(labelmap: LabelMap, op: str, target: str, other: str) -> Command:
    """``target = target (op) other`` for ``op`` in union, intersect, subtract, as one command."""
    from segmentation.morphology import logical

    result = logical(op, labelmap.mask(target), labelmap.mask(other))
    return SetSegmentMask(labelmap, target, result, "replace", text=f"{op.capitalize()} {other} into {target}")


def replace_all(labelmap: LabelMap, new: LabelMap, text: str = "Import segmentation") -> Command:
    """Replace the whole segmentation (import) as one command."""
    return ReplaceLabelMapContent(labelmap, new, text)


def remove_segment(labelmap: LabelMap, name: str) -> Command:
    """Delete a segment and its voxels."""
    return RemoveSegment(labelmap, name)
