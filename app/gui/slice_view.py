"""A 2-D slice view (axial / coronal / sagittal) painted with QPainter from numpy reslices.

Frame: patient LPS, mm. The view keeps a centre and a zoom in plane
coordinates (mm along the plane's screen-right / screen-down vectors); pixels
of anisotropic slices are scaled to their physical size, so aspect ratios are
true. Painting a numpy slice is faster than a VTK image actor on software GL.

Mouse: left click/drag moves the crosshair (all views follow); right drag =
window/level (horizontal width, vertical level); middle drag or Shift+left =
pan; wheel = next/previous slice; Ctrl+wheel = zoom; double-click = maximise.
Keys: Up/Down/PageUp/PageDown scroll, R resets zoom.

A *slice tool* (e.g. a brush from the segmentation panel) may take over the
left button: see :meth:`app.gui.main_window.MainWindow.set_slice_tool`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from rendering.mpr import black_fill_value, label_slices, nice_scale_length, screen_letters
from rendering.overlay import blend_labels
from rendering.slicing import SlicePlane, reslice, slice_range_mm
from rendering.windowing import apply_window

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

VIEW_COLORS = {"axial": QColor(230, 70, 70), "coronal": QColor(90, 200, 90), "sagittal": QColor(235, 200, 60)}


class SliceView(QWidget):
    """One MPR view bound to a :class:`MainWindow` (which owns volume, label map, crosshair, window)."""

    maximise_requested = Signal()

    def __init__(self, window: MainWindow, orientation: str) -> None:
        super().__init__()
        self.main = window
        self.orientation = orientation
        self.setObjectName(f"slice_{orientation}")
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.center_uv: np.ndarray | None = None  # plane coords (mm) at the widget centre
        self.zoom = 1.0  # 1 = whole volume fits
        self._drag: tuple[str, QPointF, object] | None = None
        self._cache_key: tuple | None = None
        self._qimage: QImage | None = None
        self._slice = None
        self._fit_cache: tuple[tuple, float] | None = None
        self._scaled: tuple[tuple, QImage] | None = None  # the slice image resampled to screen pixels
        self.render_count = 0

    # ----------------------------------------------------------------- geometry
    def plane(self) -> SlicePlane:
        """The plane through the current crosshair."""
        return SlicePlane.standard(self.orientation, self.main.current_position_lps)

    def _fit_scale(self) -> float:
        vol = self.main.volume
        if vol is None:
            return 1.0
        key = (id(vol), self.width(), self.height())
        if self._fit_cache is None or self._fit_cache[0] != key:
            uv = self.plane().to_plane_coords(vol.geometry.corners_lps())
            span = uv.max(axis=0) - uv.min(axis=0) + vol.spacing.min()
            scale = float(min(self.width() / max(span[0], 1e-3), self.height() / max(span[1], 1e-3)))
            self._fit_cache = (key, scale)
        return self._fit_cache[1]

    def scale(self) -> float:
        """Screen pixels per mm."""
        return self._fit_scale() * self.zoom

    def _center(self) -> np.ndarray:
        if self.center_uv is None:
            vol = self.main.volume
            if vol is None:
                return np.zeros(2)
            uv = self.plane().to_plane_coords(vol.geometry.corners_lps())
            return (uv.max(axis=0) + uv.min(axis=0)) / 2
        return self.center_uv

    def reset_view(self) -> None:
        """Fit the whole volume."""
        self.center_uv = None
        self.zoom = 1.0
        self.update()

    def screen_to_lps(self, pos: QPointF) -> np.ndarray:
        """Widget pixel -> LPS mm on the current plane."""
        s = self.scale()
        c = self._center()
        uv = np.array([c[0] + (pos.x() - self.width() / 2) / s, c[1] + (pos.y() - self.height() / 2) / s])
        return self.plane().from_plane_coords(uv[None])[0]

    def lps_to_screen(self, point_lps: np.ndarray) -> QPointF:
        """LPS mm -> widget pixel (projected on the plane)."""
        uv = self.plane().to_plane_coords(np.asarray(point_lps, float)[None])[0]
        s = self.scale()
        c = self._center()
        return QPointF(self.width() / 2 + (uv[0] - c[0]) * s, self.height() / 2 + (uv[1] - c[1]) * s)

    # ------------------------------------------------------------------ image
    def _build_image(self) -> None:
        m = self.main
        vol = m.volume
        plane = self.plane()
        lm = m.labelmap
        key = (id(vol), round(plane.offset_mm, 4), m.window_level, id(lm), lm.revision if lm else -1,
               m.overlay_revision)
        if key == self._cache_key:
            return
        sl = reslice(vol.array, vol.geometry, plane, order=1, fill=black_fill_value(vol, m.window_level))
        gray = apply_window(sl.pixels, m.window_level)
        if lm is not None and lm.segments and m.overlay.visible:
            rgb = blend_labels(gray, label_slices(lm, sl, plane), lm, m.overlay)
        else:
            rgb = np.repeat(gray[..., None], 3, axis=2)
        h, w = rgb.shape[:2]
        self._rgb = np.ascontiguousarray(rgb)
        self._qimage = QImage(self._rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        self._slice = sl
        self._cache_key = key
        self.render_count += 1

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        color = VIEW_COLORS.get(self.orientation, QColor(200, 200, 200))
        if self.main.volume is None:
            p.setPen(QColor(150, 150, 150))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                       f"{self.orientation.capitalize()}\n\nOpen an image (Ctrl+O), a DICOM folder\n"
                       "or drop a file here")
            self._draw_border(p, color)
            p.end()
            return
        self._build_image()
        if self.main.first_image_time is None:
            self.main.on_first_image()
        s = self.scale()
        c = self._center()
        u0, u1, v0, v1 = self._slice.extent_plane_mm()
        target = QRectF(self.width() / 2 + (u0 - c[0]) * s, self.height() / 2 + (v0 - c[1]) * s,
                        (u1 - u0) * s, (v1 - v0) * s)
        # Resample to screen pixels once per image and zoom; repaints for crosshair moves are then a blit.
        tw, th = max(1, int(round(target.width()))), max(1, int(round(target.height())))
        skey = (self._cache_key, tw, th)
        if self._scaled is None or self._scaled[0] != skey:
            if tw * th > 16 * self.width() * self.height():  # very high zoom: let the painter clip instead
                self._scaled = None
            else:
                smooth = s < 4 * max(self._slice.pixel_spacing_mm)
                mode = (Qt.TransformationMode.SmoothTransformation if smooth
                        else Qt.TransformationMode.FastTransformation)
                self._scaled = (skey, self._qimage.scaled(tw, th, Qt.AspectRatioMode.IgnoreAspectRatio, mode))
        if self._scaled is not None:
            p.drawImage(QPointF(round(target.x()), round(target.y())), self._scaled[1])
        else:
            p.drawImage(target, self._qimage)
        self._draw_crosshair(p)
        self._draw_annotations(p, s)
        self._draw_border(p, color)
        p.end()

    def _draw_crosshair(self, p: QPainter) -> None:
        if not self.main.crosshair_visible:
            return
        pt = self.lps_to_screen(self.main.current_position_lps)
        others = [o for o in ("axial", "coronal", "sagittal") if o != self.orientation]
        # the vertical screen line is the plane whose normal is along col_dir, etc.
        plane = self.plane()
        for o in others:
            n = SlicePlane.standard(o, self.main.current_position_lps).normal
            pen = QPen(VIEW_COLORS[o])
            pen.setWidthF(1.0)
            p.setPen(pen)
            gap = 8
            if abs(n @ plane.col_dir) > 0.9:  # that plane is seen as a vertical line
                p.drawLine(QPointF(pt.x(), 0), QPointF(pt.x(), pt.y() - gap))
                p.drawLine(QPointF(pt.x(), pt.y() + gap), QPointF(pt.x(), self.height()))
            else:
                p.drawLine(QPointF(0, pt.y()), QPointF(pt.x() - gap, pt.y()))
                p.drawLine(QPointF(pt.x() + gap, pt.y()), QPointF(self.width(), pt.y()))

    def _draw_annotations(self, p: QPainter, s: float) -> None:
        w, h = self.width(), self.height()
        font = QFont()
        font.setPointSize(11)
        font.setBold(True)
        p.setFont(font)
        letters = screen_letters(self.plane())
        m = 6
        yellow = QColor(255, 210, 80)
        a = Qt.AlignmentFlag
        _shadow_text(p, QRectF(0, m, w, 20), a.AlignHCenter | a.AlignTop, letters["top"], yellow)
        _shadow_text(p, QRectF(0, h - 22 - m, w, 22), a.AlignHCenter | a.AlignBottom, letters["bottom"], yellow)
        _shadow_text(p, QRectF(m, 0, 30, h), a.AlignLeft | a.AlignVCenter, letters["left"], yellow)
        _shadow_text(p, QRectF(w - 30 - m, 0, 30, h), a.AlignRight | a.AlignVCenter, letters["right"], yellow)
        # scale bar (bottom right)
        bar_mm = nice_scale_length(0.25 * w / s)
        bar_px = bar_mm * s
        x1, y = w - 14, h - 30
        for color, dy in ((QColor(0, 0, 0), 1), (QColor(230, 230, 230), 0)):
            p.setPen(QPen(color, 2))
            p.drawLine(QPointF(x1 - bar_px, y + dy), QPointF(x1, y + dy))
            p.drawLine(QPointF(x1 - bar_px, y - 4 + dy), QPointF(x1 - bar_px, y + 4 + dy))
            p.drawLine(QPointF(x1, y - 4 + dy), QPointF(x1, y + 4 + dy))
        font.setBold(False)
        font.setPointSize(9)
        p.setFont(font)
        white = QColor(225, 225, 225)
        _shadow_text(p, QRectF(x1 - bar_px - 20, y + 3, bar_px + 40, 16), a.AlignHCenter, f"{bar_mm:g} mm", white)
        # view name, slice position and window (top left), patient info (top right)
        plane = self.plane()
        lo, hi, step = slice_range_mm(self.main.volume.geometry, plane)
        idx = int(round((plane.offset_mm - lo) / step)) + 1
        total = int(round((hi - lo) / step)) + 1
        wl = self.main.window_level
        text = (f"{self.orientation.capitalize()}  {idx}/{total}\n{_offset_label(self.orientation, plane.offset_mm)}\n"
                f"W {wl.width:.0f}  L {wl.level:.0f}")
        _shadow_text(p, QRectF(m + 4, m + 2, w / 2, 60), a.AlignLeft | a.AlignTop, text, white)
        info = self.main.patient_info_text()
        if info:
            _shadow_text(p, QRectF(w / 2, m + 2, w / 2 - m - 4, 60), a.AlignRight | a.AlignTop, info, white)

    def _draw_border(self, p: QPainter, color: QColor) -> None:
        pen = QPen(color if self.hasFocus() or self.main.active_view is self else color.darker(160))
        pen.setWidth(2)
        p.setPen(pen)
        p.drawRect(QRectF(1, 1, self.width() - 2, self.height() - 2))

    # ------------------------------------------------------------- interaction
    def scroll_slices(self, steps: int) -> None:
        """Move the crosshair by ``steps`` voxel spacings along this plane's normal."""
        vol = self.main.volume
        if vol is None:
            return
        plane = self.plane()
        lo, hi, step = slice_range_mm(vol.geometry, plane)
        new = np.clip(plane.offset_mm + steps * step, lo, hi)
        pos = self.main.current_position_lps + (new - plane.offset_mm) * plane.normal
        self.main.set_position(pos)

    def mousePressEvent(self, ev) -> None:  # noqa: N802, ANN001
        self.main.active_view = self
        if self.main.volume is None:
            return
        pos = ev.position()
        lps = self.screen_to_lps(pos)
        btn = ev.button()
        mods = ev.modifiers()
        if btn == Qt.MouseButton.LeftButton and not mods & Qt.KeyboardModifier.ShiftModifier:
            tool = self.main.slice_tool
            if tool is not None and tool.press(self, lps, ev):
                self._drag = ("tool", pos, None)
                return
            self._drag = ("cross", pos, None)
            self.main.set_position(lps)
        elif btn == Qt.MouseButton.RightButton:
            self._drag = ("wl", pos, self.main.window_level)
        elif btn == Qt.MouseButton.MiddleButton or (btn == Qt.MouseButton.LeftButton
                                                    and mods & Qt.KeyboardModifier.ShiftModifier):
            self._drag = ("pan", pos, self._center().copy())

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802, ANN001
        pos = ev.position()
        if self.main.volume is not None:
            self.main.report_cursor(self.screen_to_lps(pos))
        if self._drag is None:
            return
        kind, start, data = self._drag
        if kind == "tool":
            self.main.slice_tool.move(self, self.screen_to_lps(pos), ev)
        elif kind == "cross":
            self.main.set_position(self.screen_to_lps(pos))
        elif kind == "wl":
            from rendering.windowing import WindowLevel

            dx, dy = pos.x() - start.x(), pos.y() - start.y()
            w0 = data
            sens = max(w0.width, 1.0) / 300.0
            self.main.set_window(WindowLevel(max(1.0, w0.width + dx * sens), w0.level - dy * sens))
        elif kind == "pan":
            s = self.scale()
            self.center_uv = data - np.array([pos.x() - start.x(), pos.y() - start.y()]) / s
            self.update()

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802, ANN001
        if self._drag and self._drag[0] == "tool":
            self.main.slice_tool.release(self, self.screen_to_lps(ev.position()), ev)
        self._drag = None

    def mouseDoubleClickEvent(self, ev) -> None:  # noqa: N802, ANN001
        self.maximise_requested.emit()

    def wheelEvent(self, ev) -> None:  # noqa: N802, ANN001
        steps = ev.angleDelta().y() / 120.0
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            # zoom about the cursor
            pos = ev.position()
            before = self.screen_to_lps(pos)
            self.zoom = float(np.clip(self.zoom * (1.15 ** steps), 0.2, 50))
            self.center_uv = self._center()
            after = self.screen_to_lps(pos)
            d = self.plane().to_plane_coords((before - after)[None])[0]
            self.center_uv = self.center_uv + d
            self.update()
        else:
            self.scroll_slices(int(np.sign(steps)) * max(1, int(abs(steps))))

    def keyPressEvent(self, ev) -> None:  # noqa: N802, ANN001
        k = ev.key()
        if k in (Qt.Key.Key_Up, Qt.Key.Key_Right):
            self.scroll_slices(1)
        elif k in (Qt.Key.Key_Down, Qt.Key.Key_Left):
            self.scroll_slices(-1)
        elif k == Qt.Key.Key_PageUp:
            self.scroll_slices(10)
        elif k == Qt.Key.Key_PageDown:
            self.scroll_slices(-10)
        elif k == Qt.Key.Key_R:
            self.reset_view()
        else:
            super().keyPressEvent(ev)

    def leaveEvent(self, ev) -> None:  # noqa: N802, ANN001
        self.main.report_cursor(None)


def _shadow_text(p: QPainter, rect: QRectF, flags: Qt.AlignmentFlag, text: str, color: QColor) -> None:
    """Text with a 1-pixel dark shadow, readable over bright anatomy."""
    p.setPen(QColor(0, 0, 0, 220))
    p.drawText(rect.translated(1, 1), flags, text)
    p.setPen(color)
    p.drawText(rect, flags, text)


def _offset_label(orientation: str, offset_mm: float) -> str:
    """Slice position as Slicer shows it: axial ``S/I``, coronal ``A/P``, sagittal ``L/R`` in mm."""
    plane = SlicePlane.standard(orientation, np.zeros(3))
    n = plane.normal
    ax = int(np.argmax(np.abs(n)))
    value = offset_mm * float(np.sign(n[ax]))  # LPS coordinate along that axis
    pos, neg = (("L", "R"), ("P", "A"), ("S", "I"))[ax]
    return f"{pos if value >= 0 else neg} {abs(value):.1f} mm"
