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

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt

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
