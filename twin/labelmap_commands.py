"""Undoable edits of a :class:`twin.labelmap.LabelMap`.

Voxel edits store only the bounding box of the change and the old values
inside it (as napari's label painting does), so one brush stroke or one
region-growing result costs memory proportional to what changed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.colors import color_for_name
from twin.commands import Command
from twin.errors import InputError
from twin.labelmap import LabelMap, Segment, mask_bbox


class SetSegmentMask(Command):
    """Make segment ``name`` cover exactly ``mask`` (or add/erase ``mask`` with ``mode``).

    Parameters
    ----------
    labelmap : LabelMap
        Edited in place.
    name : str
        Existing segment.
    mask : ndarray of bool, (ni, nj, nk)
        Voxels concerned.
    mode : {"replace", "add", "erase"}
        ``replace``: the segment becomes ``mask``; ``add``: paint ``mask``;
        ``erase``: remove the segment from ``mask``.
    overwrite : bool
        When adding, whether voxels of other segments in the same layer are
        taken over (True) or kept (False, "paint only over background").
    text : str, optional
        Undo label.
    """

    def __init__(
        self,
        labelmap: LabelMap,
        name: str,
        mask: NDArray[np.bool_],
        mode: str = "replace",
        overwrite: bool = True,
        text: str | None = None,
    ) -> None:
        if mask.shape != labelmap.shape:
            raise InputError(f"mask shape {mask.shape} does not match the label map {labelmap.shape}")
        if mode not in ("replace", "add", "erase"):
            raise InputError(f"unknown mode {mode!r}")
        self.labelmap = labelmap
        self.segment = labelmap.segment(name)
        self.text = text or f"{mode.capitalize()} {name}"
        layer = labelmap.layers[self.segment.layer]
        current = layer == self.segment.value
        if mode == "replace":
            changed = current ^ mask
            if not overwrite:
                changed &= (layer == 0) | current
        elif mode == "add":
            changed = mask & ~current
            if not overwrite:
                changed &= layer == 0
        else:
            changed = mask & current
        self.box = mask_bbox(changed)
        self.old: NDArray[Any] | None = None
        self.new: NDArray[Any] | None = None
        if self.box is not None:
            sub_old = layer[self.box].copy()
            sub_changed = changed[self.box]
            sub_new = sub_old.copy()
            adding = sub_changed & ~current[self.box]
            sub_new[adding] = self.segment.value
            sub_new[sub_changed & current[self.box]] = 0
            self.old, self.new = sub_old, sub_new
        self.changed_voxels = int(np.count_nonzero(changed))

    def do(self) -> None:  # noqa: D102
        if self.box is not None and self.new is not None:
            self.labelmap.layers[self.segment.layer][self.box] = self.new
            self.labelmap.revision += 1

    def undo(self) -> None:  # noqa: D102
        if self.box is not None and self.old is not None:
            self.labelmap.layers[self.segment.layer][self.box] = self.old
            self.labelmap.revision += 1


class AddSegment(Command):
    """Add a segment to the table (optionally with initial voxels, in a new layer if they overlap)."""

    def __init__(
        self,
        labelmap: LabelMap,
        name: str,
        color: tuple[float, float, float] | None = None,
        mask: NDArray[np.bool_] | None = None,
        terminology: dict[str, str] | None = None,
        allow_overlap: bool = False,
    ) -> None:
        if any(s.name == name for s in labelmap.segments):
            raise InputError(f"a segment named {name!r} already exists")
        self.labelmap = labelmap
        layer = 0
        self.new_layer = False
        if mask is not None and allow_overlap:
            for n, arr in enumerate(labelmap.layers):
                if not np.any(arr[mask] != 0):
                    layer = n
                    break
            else:
                layer = len(labelmap.layers)
                self.new_layer = True
        value = 1 if self.new_layer else labelmap.next_free_value(layer)
        self.seg = Segment(value, name, color or color_for_name(name, value), layer, terminology)
        self.mask = mask
        self.paint: SetSegmentMask | None = None
        self.text = f"Add segment {name}"

    def do(self) -> None:  # noqa: D102
        lm = self.labelmap
        if self.new_layer:
            lm.layers.append(np.zeros(lm.shape, dtype=np.uint8))
        lm._ensure_layer_dtype(self.seg.layer, self.seg.value)
        lm._set_segments([*lm.segments, self.seg])
        if self.mask is not None:
            if self.paint is None:
                self.paint = SetSegmentMask(lm, self.seg.name, self.mask, "replace", overwrite=True)
            self.paint.do()

    def undo(self) -> None:  # noqa: D102
        lm = self.labelmap
        if self.paint is not None:
            self.paint.undo()
        lm._set_segments([s for s in lm.segments if s.name != self.seg.name])
        if self.new_layer:
            lm.layers.pop()


class RemoveSegment(Command):
    """Remove a segment and clear its voxels."""

    def __init__(self, labelmap: LabelMap, name: str) -> None:
        self.labelmap = labelmap
        self.seg = labelmap.segment(name)
        self.index = labelmap.segments.index(self.seg)
        self.clear = SetSegmentMask(labelmap, name, np.zeros(labelmap.shape, bool), "replace")
        self.text = f"Remove segment {name}"

    def do(self) -> None:  # noqa: D102
        self.clear.do()
        self.labelmap._set_segments([s for s in self.labelmap.segments if s.name != self.seg.name])

    def undo(self) -> None:  # noqa: D102
        segs = list(self.labelmap.segments)
        segs.insert(self.index, self.seg)
        self.labelmap._set_segments(segs)
        self.clear.undo()


class UpdateSegment(Command):
    """Change a segment's name, colour or terminology."""

    def __init__(self, labelmap: LabelMap, name: str, /, **changes: Any) -> None:
        allowed = {"name", "color", "terminology"}
        if set(changes) - allowed:
            raise InputError(f"cannot change {sorted(set(changes) - allowed)} of a segment")
        new_name = changes.get("name")
        if new_name and new_name != name and any(s.name == new_name for s in labelmap.segments):
            raise InputError(f"a segment named {new_name!r} already exists")
        self.labelmap = labelmap
        self.old = labelmap.segment(name)
        self.new = replace(self.old, **changes)
        self.text = f"Edit segment {name}"

    def _swap(self, a: Segment, b: Segment) -> None:
        self.labelmap._set_segments([b if s == a else s for s in self.labelmap.segments])

    def do(self) -> None:  # noqa: D102
        self._swap(self.old, self.new)

    def undo(self) -> None:  # noqa: D102
        self._swap(self.new, self.old)


class ReplaceLabelMapContent(Command):
    """Replace all layers and the segment table at once (e.g. an imported segmentation)."""

    def __init__(self, labelmap: LabelMap, new: LabelMap, text: str = "Replace segmentation") -> None:
        if not labelmap.geometry.is_same_grid(new.geometry):
            raise InputError("the new segmentation is not on the same grid")
        self.labelmap = labelmap
        self.old_layers = [a.copy() for a in labelmap.layers]
        self.old_segments = list(labelmap.segments)
        self.new_layers = [a.copy() for a in new.layers]
        self.new_segments = list(new.segments)
        self.text = text

    def do(self) -> None:  # noqa: D102
        self.labelmap.layers = [a.copy() for a in self.new_layers]
        self.labelmap._set_segments(self.new_segments)

    def undo(self) -> None:  # noqa: D102
        self.labelmap.layers = [a.copy() for a in self.old_layers]
        self.labelmap._set_segments(self.old_segments)
