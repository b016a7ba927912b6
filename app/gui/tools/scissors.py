"""Scissors: draw a lasso polygon in a slice view; the segment is cut by the polygon extruded along the view.

Press and drag outline the polygon (freehand; points closer than 2 screen pixels
are skipped); release closes it and calls ``on_polygon(polygon_uv, plane)`` with
the polygon in the plane's coordinates (mm along ``plane.col_dir``/``row_dir``).
The cut itself (:func:`app.gui.tools.geometry.prism_mask`) is done by the panel
in a worker and applied as one undoable command. Frame: LPS mm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF


class ScissorsTool:
    """Lasso slice tool."""

    key = "scissors"

    def __init__(self, on_polygon: Callable[[np.ndarray, Any], None]) -> None:
        self.on_polygon = on_polygon
        self.points_lps: list[np.ndarray] = []
        self.view: Any = None

    def press(self, view: Any, point_lps: np.ndarray, event: Any) -> bool:  # noqa: D102
        self.view = view
        self.points_lps = [np.asarray(point_lps, float)]
        return True

    def move(self, view: Any, point_lps: np.ndarray, event: Any) -> None:  # noqa: D102
        if view is not self.view or not self.points_lps:
            return
        a = view.lps_to_screen(self.points_lps[-1])
        b = view.lps_to_screen(point_lps)
        if abs(a.x() - b.x()) + abs(a.y() - b.y()) >= 2:
            self.points_lps.append(np.asarray(point_lps, float))
            view.update()

    def release(self, view: Any, point_lps: np.ndarray, event: Any) -> None:  # noqa: D102
        self.move(view, point_lps, event)
        pts, self.points_lps = self.points_lps, []
        v, self.view = self.view, None
        if v is not None:
            v.update()
        if len(pts) >= 3 and v is not None:
            plane = v.plane()
            self.on_polygon(plane.to_plane_coords(np.array(pts)), plane)

    def paint(self, view: Any, p: QPainter, hover: np.ndarray | None) -> None:
        """The lasso being drawn."""
        if view is not self.view or len(self.points_lps) < 2:
            return
        poly = QPolygonF([view.lps_to_screen(q) for q in self.points_lps])
        pen = QPen(QColor(255, 230, 60))
        pen.setWidthF(1.5)
        pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(QColor(255, 230, 60, 40))
        p.drawPolygon(poly)
        first = view.lps_to_screen(self.points_lps[0])
        p.drawEllipse(QPointF(first.x(), first.y()), 3, 3)
