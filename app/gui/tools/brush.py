"""Brush paint / erase in the slice views (radius in mm, sphere or in-slice disc); one drag = one undo step.

The stroke is painted live into the label map (so the views show it while
dragging) and recorded as a :class:`app.gui.tools.commands.PaintStroke`, pushed
on the undo stack when the button is released. Frame: LPS mm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from app.gui.tools.commands import PaintStroke
from app.gui.tools.geometry import dab, stroke_points

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow


class BrushTool:
    """Left-button brush for :meth:`MainWindow.set_slice_tool`.

    Parameters
    ----------
    window : MainWindow
    segment : callable
        Returns the name of the segment to paint (None: nothing happens).
    radius_mm : float
    shape : {"sphere", "disc"}
    erase : bool
        Erase the segment's voxels instead of painting.
    """

    key = "brush"

    def __init__(self, window: MainWindow, segment: Callable[[], str | None], radius_mm: float = 3.0,
                 shape: str = "disc", erase: bool = False) -> None:
        self.main = window
        self.segment = segment
        self.radius_mm = float(radius_mm)
        self.shape = shape
        self.erase = erase
        self.stroke: PaintStroke | None = None
        self._last: np.ndarray | None = None
        self._normal: np.ndarray | None = None
        self._value = 0

    # ----------------------------------------------------------------- API without a mouse
    def begin(self, point_lps: np.ndarray, normal: np.ndarray | None = None) -> bool:
        """Start a stroke at ``point_lps`` (mm); ``normal`` of the viewed plane for the disc shape."""
        lm = self.main.labelmap
        name = self.segment()
        if lm is None or name is None or not any(s.name == name for s in lm.segments):
            self.main.statusBar().showMessage("Brush: select or add a segment first", 5000)
            return False
        seg = lm.segment(name)
        self._value = seg.value
        lm._ensure_layer_dtype(seg.layer, seg.value)
        verb = "Erase" if self.erase else "Paint"
        self.stroke = PaintStroke(lm, seg.layer, f"{verb} {name}")
        self._normal = None if normal is None else np.asarray(normal, float)
        self._last = np.asarray(point_lps, float)
        self._dab(self._last)
        return True

    def extend(self, point_lps: np.ndarray) -> None:
        """Continue the stroke to ``point_lps`` (dabs every half radius along the way)."""
        if self.stroke is None or self._last is None:
            return
        step = float(min(self.main.labelmap.geometry.spacing)) * 0.5
        for p in stroke_points(self._last, point_lps, self.radius_mm, step):
            self._dab(p)
        self._last = np.asarray(point_lps, float)

    def end(self) -> bool:
        """Finish the stroke: push it as one undoable command. Returns whether anything changed."""
        stroke, self.stroke = self.stroke, None
        self._last = None
        if stroke is None or stroke.empty:
            self.main.refresh_slices()
            return False
        return self.main.push_command(stroke)

    def _dab(self, p: np.ndarray) -> None:
        assert self.stroke is not None
        lm = self.main.labelmap
        hit = dab(lm.geometry, p, self.radius_mm, self.shape, self._normal)
        if hit is None:
            return
        box, mask = hit
        if self.erase:
            self.stroke.apply_patch(box, mask, 0, erase_value=self._value)
        else:
            self.stroke.apply_patch(box, mask, self._value)
        self.main.refresh_slices()

    # ----------------------------------------------------------------- SliceTool protocol
    def press(self, view: Any, point_lps: np.ndarray, event: Any) -> bool:  # noqa: D102
        self.begin(point_lps, view.plane().normal)
        return True  # the brush owns the left button even if nothing could be painted

    def move(self, view: Any, point_lps: np.ndarray, event: Any) -> None:  # noqa: D102
        self.extend(point_lps)

    def release(self, view: Any, point_lps: np.ndarray, event: Any) -> None:  # noqa: D102
        self.end()

    # ----------------------------------------------------------------- drawing
    def paint(self, view: Any, p: QPainter, hover: np.ndarray | None) -> None:
        """Brush outline (circle of the radius in screen pixels) at the hover position."""
        if hover is None:
            return
        c = view.lps_to_screen(hover)
        r = self.radius_mm * view.scale()
        pen = QPen(QColor(255, 90, 90) if self.erase else QColor(255, 255, 255))
        pen.setWidthF(1.2)
        pen.setStyle(Qt.PenStyle.DashLine if self.shape == "sphere" else Qt.PenStyle.SolidLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QPointF(c.x(), c.y()), r, r)
