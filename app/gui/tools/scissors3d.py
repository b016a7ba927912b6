"""Scissors in the 3-D view: draw a lasso (free-hand or rectangle) over the rendered scene.

The tool follows :class:`app.gui.view3d.MouseTool3D`: left-button press starts the lasso
(the camera stays put; right / middle / wheel still move it), dragging extends it (free-hand:
points closer than 3 screen pixels are skipped) or stretches the rectangle, release closes it
and calls ``on_polygon(polygon_px, world_to_display, viewport_px)`` with the camera *as it
was when the lasso was drawn*. Esc cancels a lasso being drawn. The cut itself
(:func:`segmentation.editing.projected_polygon_mask`, voxels whose centre projects inside the
lasso, through the whole depth along the camera rays) is run by the edit page in a worker and
applied as one undoable command. Frame: LPS mm (the matrix maps LPS mm to widget pixels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt

from app.gui.tools.commands import Batch, PaintStroke
from twin.commands import Command
from twin.labelmap import LabelMap, mask_bbox
from twin.labelmap_commands import SetSegmentMask

LASSO_COLOUR = "#ffe63c"
MIN_STEP_PX = 3.0


class Scissors3DTool:
    """Lasso tool of the 3-D view (``shape`` ``"free"`` or ``"rect"``)."""

    key = "scissors3d"

    def __init__(self, on_polygon: Callable[[np.ndarray, np.ndarray, tuple[int, int]], Any],
                 shape: str = "free") -> None:
        self.on_polygon = on_polygon
        self.shape = shape
        self.points: list[tuple[float, float]] = []

    @property
    def drawing(self) -> bool:
        """Whether a lasso is being drawn."""
        return bool(self.points)

    def polygon(self) -> np.ndarray:
        """The lasso drawn so far, ``(n, 2)`` widget pixels (a rectangle has 4 corners)."""
        if not self.points:
            return np.zeros((0, 2))
        if self.shape == "rect":
            (x0, y0), (x1, y1) = self.points[0], self.points[-1]
            return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)
        return np.array(self.points, float)

    # ------------------------------------------------------------------ MouseTool3D
    def press(self, view: Any, x: float, y: float, event: Any) -> bool:  # noqa: D102
        self.points = [(x, y)]
        return True

    def move(self, view: Any, x: float, y: float, event: Any) -> None:  # noqa: D102
        if not self.points or not (event.buttons() & Qt.MouseButton.LeftButton):
            return
        if self.shape == "rect":
            self.points[1:] = [(x, y)]
            return
        lx, ly = self.points[-1]
        if abs(x - lx) + abs(y - ly) >= MIN_STEP_PX:
            self.points.append((x, y))

    def release(self, view: Any, x: float, y: float, event: Any) -> None:  # noqa: D102
        if not self.points:
            return
        if self.shape == "rect":
            self.points[1:] = [(x, y)]
        elif (x, y) != self.points[-1]:
            self.points.append((x, y))
        poly = self.polygon()
        self.points = []
        if len(poly) < 3 or _area(poly) < 4.0:  # a click, or a stroke without area
            return
        self.on_polygon(poly, view.world_to_display(), view.viewport_size())

    def key_press(self, view: Any, event: Any) -> bool:
        """Esc cancels the lasso being drawn."""
        if event.key() == Qt.Key.Key_Escape and self.points:
            self.cancel()
            return True
        return False

    def cancel(self) -> None:
        """Forget the lasso being drawn."""
        self.points = []

    def overlay(self, view: Any) -> list[tuple[np.ndarray, str]]:
        """The lasso, closed."""
        poly = self.polygon()
        if len(poly) < 2:
            return []
        return [(np.vstack([poly, poly[:1]]), LASSO_COLOUR)]


def _area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def lasso_cut_command(
    labelmap: LabelMap,
    names: Sequence[str],
    world_to_display: np.ndarray,
    polygon_px: np.ndarray,
    viewport_px: tuple[float, float] | None,
    *,
    op: str = "erase",
    inside: bool = True,
    slab: tuple[Any, Any, float] | None = None,
    progress: Any = None,
) -> tuple[Command | None, dict[str, int]]:
    """The undoable command of one 3-D scissors cut, and the voxels it changes per segment (Qt-free, for a worker).

    ``op="erase"``: erase the voxels of segments ``names`` whose centre projects inside (``inside``)
    or outside the lasso, computed once over the bounding box of those segments; the command holds
    one patch (box, old, new values) per label layer, so applying it on the GUI thread is only a slice
    copy. ``op="add"``: fill the lasso's frustum (within ``slab`` if given) into ``names[0]``.
    The label map must not change between this call and pushing the command (check its revision).
    Returns ``(None, {})`` when nothing would change.
    """
    from segmentation.editing import projected_polygon_mask

    geom = labelmap.geometry
    if op == "add":
        sel = projected_polygon_mask(geom, world_to_display, polygon_px, viewport_px, inside=True, slab=slab,
                                     progress=progress)
        cmd = SetSegmentMask(labelmap, names[0], sel, "add", text=f"Scissors 3D fill {names[0]}")
        return (cmd, {names[0]: cmd.changed_voxels}) if cmd.changed_voxels else (None, {})
    segs = [labelmap.segment(n) for n in names]
    luts: dict[int, np.ndarray] = {}
    union = np.zeros(geom.shape, bool)
    for layer in sorted({s.layer for s in segs}):
        arr = labelmap.layers[layer]
        lut = np.zeros(max(int(arr.max()), max(s.value for s in segs)) + 1, bool)
        lut[[s.value for s in segs if s.layer == layer]] = True
        luts[layer] = lut
        union |= lut[arr]
    bbox = mask_bbox(union)
    if bbox is None:
        return None, {}
    sel = projected_polygon_mask(geom, world_to_display, polygon_px, viewport_px, inside=inside, slab=slab,
                                 bbox=bbox, progress=progress)
    what = "inside" if inside else "outside"
    strokes: list[Command] = []
    counts: dict[str, int] = {}
    for layer, lut in luts.items():
        arr = labelmap.layers[layer]
        sub = arr[bbox]
        hit = sel[bbox] & lut[sub]
        box_in = mask_bbox(hit)
        if box_in is None:
            continue
        box = tuple(slice(b.start + i.start, b.start + i.stop) for b, i in zip(bbox, box_in))
        old = arr[box].copy()
        h = hit[box_in]
        values, n = np.unique(old[h], return_counts=True)
        for v, c in zip(values, n):
            counts.update({s.name: int(c) for s in segs if s.layer == layer and s.value == v})
        new = old.copy()
        new[h] = 0
        stroke = PaintStroke(labelmap, layer, f"Scissors 3D erase {what}")
        stroke.patches.append((box, old, new))
        strokes.append(stroke)
    if not strokes:
        return None, {}
    text = f"Scissors 3D erase {what} " + (", ".join(counts) if len(counts) <= 2 else f"({len(counts)} segments)")
    if len(strokes) == 1:
        strokes[0].text = text
        return strokes[0], counts
    return Batch(text, [lambda c=c: c for c in strokes]), counts
