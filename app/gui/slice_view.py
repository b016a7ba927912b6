"""A 2-D slice view (axial / coronal / sagittal or any oblique plane) painted with QPainter from numpy reslices.

Frame: patient LPS, mm. Each view carries a plane orientation: two orthonormal
LPS vectors (screen right, screen down); the plane always passes through the
shared crosshair, so the views stay linked in 3-D whatever their orientation.
The three standard planes are presets (the view's slot name, ``orientation``,
is its default preset). The view keeps a centre and a zoom in plane
coordinates (mm along the plane's screen-right / screen-down vectors); pixels
of anisotropic slices are scaled to their physical size, so aspect ratios are
true. Painting a numpy slice is faster than a VTK image actor on software GL.

Mouse: left click/drag moves the crosshair (all views follow); right drag =
window/level (horizontal width, vertical level); right click = view menu
(presets, align to a trajectory, rotate mode, reset orientation); middle drag
or Shift+left = pan; wheel = next/previous slice; Ctrl+wheel = zoom;
Ctrl+left drag (or left drag in rotate mode) = rotate the other views' planes
about this view's normal through the crosshair (their lines follow the mouse);
Ctrl+Shift+left drag = tilt this view's own plane about the crosshair;
double-click = maximise.
Keys: Up/Down/PageUp/PageDown scroll, R resets zoom, [ / ] turn the other views' planes by 5 degrees
about this view's normal, Ctrl+Shift+R resets every orientation, Ctrl+Alt+R toggles rotate mode.

A *slice tool* (e.g. a brush from the segmentation panel) may take over the
left button: see :meth:`app.gui.main_window.MainWindow.set_slice_tool`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.gui.slice_annotations import draw_annotations, shown_offset_mm, slice_label_text
from rendering.mpr import black_fill_value, label_slices
from rendering.overlay import blend_labels
from rendering.slicing import (
    SlicePlane,
    intersection_direction,
    is_axis_aligned,
    preset_of,
    reslice,
    rotation_matrix,
    slice_range_mm,
)
from rendering.windowing import apply_window

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

DEFER_LINKED_S = 0.25
"""While a view scrolls continuously (steps less than this many seconds apart), the other views whose slice
moved with the crosshair (always the case when an oblique view scrolls) keep their image and catch up when
the scrolling pauses, or at least every :data:`MAX_STALE_S`: the scrolled view stays fluid. 0 disables."""
MAX_STALE_S = 0.25

VIEW_COLORS = {"axial": QColor(230, 70, 70), "coronal": QColor(90, 200, 90), "sagittal": QColor(235, 200, 60)}


class SliceView(QWidget):
    """One MPR view bound to a :class:`MainWindow` (which owns volume, label map, crosshair, window)."""

    maximise_requested = Signal()
    plane_changed = Signal()
    """Emitted after the view's orientation changed (preset, rotation, alignment)."""

    def __init__(self, window: MainWindow, orientation: str) -> None:
        super().__init__()
        self.main = window
        self.orientation = orientation  # slot name: default preset, colour, key of tool overlays
        p = SlicePlane.standard(orientation, np.zeros(3))
        self._axes = (p.col_dir, p.row_dir)
        self._axes_rev = 0  # bumped whenever _axes changes
        self._plane_cache: tuple | None = None
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
        self._last_scroll = -1.0
        self._lead_until = 0.0  # while scrolling continuously, linked views may defer their rebuilds
        self._stale_since: float | None = None
        self.annotation_rects: dict[str, QRectF] = {}  # where the last paint drew letters and corner texts

    # ----------------------------------------------------------------- geometry
    def plane(self) -> SlicePlane:
        """The plane through the current crosshair (cached: painting asks for it dozens of times)."""
        key = (self.main.current_position_lps.tobytes(), self._axes_rev)
        if self._plane_cache is None or self._plane_cache[0] != key:
            self._plane_cache = (key, SlicePlane(self.main.current_position_lps.copy(), self._axes[0], self._axes[1]))
        return self._plane_cache[1]

    @property
    def preset(self) -> str | None:
        """``"axial"``, ``"coronal"`` or ``"sagittal"`` when the view shows a standard plane, else None."""
        return preset_of(self.plane())

    @property
    def is_oblique(self) -> bool:
        """Whether the view shows an oblique plane."""
        return self.preset is None

    def set_axes(self, col_dir: np.ndarray, row_dir: np.ndarray, keep_screen: bool = True) -> None:
        """Show the plane spanned by ``col_dir`` (screen right) and ``row_dir`` (screen down) through the crosshair.

        With ``keep_screen`` the zoom (screen pixels per mm) and the crosshair's screen position are kept, so
        a rotation turns the image about the crosshair instead of jumping.
        """
        new = SlicePlane(self.main.current_position_lps, col_dir, row_dir)
        if np.allclose(new.col_dir, self._axes[0], atol=1e-12) and np.allclose(new.row_dir, self._axes[1], atol=1e-12):
            return
        vol = self.main.volume
        if keep_screen and vol is not None and self.width() > 0:
            cross = self.lps_to_screen(self.main.current_position_lps)
            s_old = self.scale()
            self._axes = (new.col_dir, new.row_dir)
            self._axes_rev += 1
            self.zoom = float(np.clip(s_old / self._fit_scale(), 0.05, 200.0))
            s = self.scale()
            uv = new.to_plane_coords(self.main.current_position_lps[None])[0]
            self.center_uv = uv - np.array([cross.x() - self.width() / 2, cross.y() - self.height() / 2]) / s
        else:
            self._axes = (new.col_dir, new.row_dir)
            self._axes_rev += 1
            self.center_uv = None
            self.zoom = 1.0
        self.update()
        self.plane_changed.emit()

    def set_plane(self, plane: SlicePlane, keep_screen: bool = True) -> None:
        """Take ``plane``'s orientation (its point is ignored: views pass through the crosshair)."""
        self.set_axes(plane.col_dir, plane.row_dir, keep_screen)

    def set_preset(self, name: str, keep_screen: bool = False) -> None:
        """Show a standard plane (``"axial"``, ``"coronal"``, ``"sagittal"``); fits the view unless ``keep_screen``."""
        self.set_plane(SlicePlane.standard(name, self.main.current_position_lps), keep_screen)
        if not keep_screen:
            self.reset_view()

    def reset_orientation(self) -> None:
        """Back to this view's own preset (its slot: axial, coronal or sagittal), fitted."""
        self.set_preset(self.orientation)

    def rotate(self, axis_lps: np.ndarray, angle_rad: float, keep_screen: bool = True) -> None:
        """Turn the view's plane by ``angle_rad`` (right-handed) about ``axis_lps`` through the crosshair."""
        r = rotation_matrix(axis_lps, angle_rad)
        self.set_axes(r @ self._axes[0], r @ self._axes[1], keep_screen)

    def center_on(self, point_lps: np.ndarray) -> None:
        """Pan so that ``point_lps`` (projected on the plane) is at the centre of the view."""
        self.center_uv = self.plane().to_plane_coords(np.asarray(point_lps, float)[None])[0]
        self.update()

    def _fit_scale(self) -> float:
        vol = self.main.volume
        if vol is None:
            return 1.0
        key = (id(vol), self.width(), self.height(), tuple(np.round(np.concatenate(self._axes), 9)))
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
        spacing, region = (None, None) if is_axis_aligned(vol.geometry, plane) else self._oblique_sampling(plane)
        key = (id(vol), round(plane.offset_mm, 4), tuple(np.round(np.concatenate(self._axes), 9)), spacing, region,
               m.window_level, id(lm), lm.revision if lm else -1, m.overlay_revision)
        if key == self._cache_key or self._defer_rebuild(key):
            return
        self._stale_since = None
        sl = reslice(vol.array, vol.geometry, plane, order=1, fill=black_fill_value(vol, m.window_level),
                     spacing_mm=spacing, region_uv=region)
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

    def _defer_rebuild(self, key: tuple) -> bool:
        """Keep the current image for now when only the slice position changed because another view is
        scrolling continuously (see :data:`DEFER_LINKED_S`); a refresh is scheduled."""
        old = self._cache_key
        if DEFER_LINKED_S <= 0 or old is None or old[:1] + old[2:] != key[:1] + key[2:]:
            return False
        now = time.perf_counter()
        if not any(v._lead_until > now for v in self.main.slice_views.values() if v is not self):
            return False
        if self._stale_since is None:
            self._stale_since = now
            QTimer.singleShot(int(1000 * DEFER_LINKED_S) + 15, self.update)
        elif now - self._stale_since > MAX_STALE_S:
            return False
        return True

    def _oblique_sampling(self, plane: SlicePlane) -> tuple[float, tuple[float, ...] | None]:
        """Pixel size and plane region (mm) to sample for an oblique plane.

        One sample per screen pixel (so the image is painted 1:1, without rescaling), but never finer than
        the smallest voxel spacing. Zoomed in, only the visible part (plus a quarter of a view of margin each
        side, on 64-pixel blocks) is sampled.
        """
        vol = self.main.volume
        h = max(float(vol.spacing.min()), 1.0 / max(self.scale(), 1e-9))
        if self.zoom <= 1.5:
            return round(h, 9), None
        c = self._center()
        half = 0.75 * np.array([self.width(), self.height()]) / self.scale()  # visible half-size + 1/4 view
        block = 64 * h
        lo = np.floor((c - half) / block) * block
        hi = np.ceil((c + half) / block) * block
        return round(h, 9), (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))

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
        one_to_one = abs(tw - self._qimage.width()) <= 1 and abs(th - self._qimage.height()) <= 1
        if not one_to_one and (self._scaled is None or self._scaled[0] != skey):
            if tw * th > 16 * self.width() * self.height():  # very high zoom: let the painter clip instead
                self._scaled = None
            else:
                smooth = s < 4 * max(self._slice.pixel_spacing_mm)
                mode = (Qt.TransformationMode.SmoothTransformation if smooth
                        else Qt.TransformationMode.FastTransformation)
                self._scaled = (skey, self._qimage.scaled(tw, th, Qt.AspectRatioMode.IgnoreAspectRatio, mode))
        if one_to_one:
            p.drawImage(QPointF(round(target.x()), round(target.y())), self._qimage)  # sampled at screen pixels
        elif self._scaled is not None:
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
        plane = self.plane()
        far = 2.0 * (self.width() + self.height())
        gap = 8
        rotating = self.main_rotate_mode()
        for other in self.main.slice_views.values():
            if other is self:
                continue
            # the other view's plane meets this one in a line through the crosshair
            d = intersection_direction(plane, other.plane())
            if d is None:
                continue
            sx, sy = float(d @ plane.col_dir), float(d @ plane.row_dir)
            n = np.hypot(sx, sy)
            sx, sy = sx / n, sy / n
            pen = QPen(VIEW_COLORS.get(other.orientation, QColor(200, 200, 200)))
            pen.setWidthF(2.0 if rotating else 1.0)
            if other.is_oblique:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            for sign in (-1.0, 1.0):
                a = QPointF(pt.x() + sign * gap * sx, pt.y() + sign * gap * sy)
                b = QPointF(pt.x() + sign * far * sx, pt.y() + sign * far * sy)
                p.drawLine(a, b)
            if rotating:  # rotate handles: small discs on the lines
                r = 0.35 * min(self.width(), self.height())
                p.setBrush(VIEW_COLORS.get(other.orientation, QColor(200, 200, 200)))
                for sign in (-1.0, 1.0):
                    p.drawEllipse(QPointF(pt.x() + sign * r * sx, pt.y() + sign * r * sy), 4.0, 4.0)
                p.setBrush(Qt.BrushStyle.NoBrush)

    def main_rotate_mode(self) -> bool:
        """Whether the window's rotate mode is on (left drag rotates the other views' planes)."""
        return bool(getattr(self.main, "rotate_mode", False))

    def _draw_annotations(self, p: QPainter, s: float) -> None:
        """Orientation letters, scale bar and corner texts (see :func:`app.gui.slice_annotations.draw_annotations`)."""
        self.annotation_rects = draw_annotations(self, p, s)

    def shown_offset_mm(self) -> float:
        """Offset (mm along the normal) of the slice image actually shown (see :mod:`app.gui.slice_annotations`)."""
        return shown_offset_mm(self)

    def slice_label_text(self) -> str:
        """Top-left corner text: view name, slice number and position of the slice shown, window."""
        return slice_label_text(self)

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
        now = time.perf_counter()
        self._lead_until = now + DEFER_LINKED_S if now - self._last_scroll < DEFER_LINKED_S else 0.0
        self._last_scroll = now
        for v in self.main.slice_views.values():
            if v is not self:  # one leader at a time: the view being scrolled is never the one that waits
                v._lead_until = 0.0
                v._last_scroll = -1.0
        self.main.set_position(pos)

    def mousePressEvent(self, ev) -> None:  # noqa: N802, ANN001
        self.main.active_view = self
        if self.main.volume is None:
            return
        pos = ev.position()
        lps = self.screen_to_lps(pos)
        btn = ev.button()
        mods = ev.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        left = btn == Qt.MouseButton.LeftButton
        if left and ctrl and shift:
            self._drag = ("tilt", pos, self._axes)
        elif left and (self.main_rotate_mode() or (ctrl and self.main.slice_tool is None)):
            self._drag = ("rotate", pos, self._rotation_snapshot())
        elif left and not shift:
            tool = self.main.slice_tool
            if tool is not None and tool.press(self, lps, ev):
                self._drag = ("tool", pos, None)
                return
            self._drag = ("cross", pos, None)
            self.main.set_position(lps)
        elif btn == Qt.MouseButton.RightButton:
            self._drag = ("wl", pos, self.main.window_level)
        elif btn == Qt.MouseButton.MiddleButton or (left and shift):
            self._drag = ("pan", pos, self._center().copy())

    def _rotation_snapshot(self) -> tuple:
        """Crosshair screen position and the other views' axes at the start of a rotate drag."""
        c = self.lps_to_screen(self.main.current_position_lps)
        axes = [(v, v._axes) for v in self.main.slice_views.values() if v is not self]
        return (np.array([c.x(), c.y()]), axes)

    def rotate_others(self, angle_rad: float, snapshot: tuple | None = None) -> None:
        """Turn the other views' planes by ``angle_rad`` about this view's normal through the crosshair.

        On this view's screen their crosshair lines turn by the same angle (clockwise for positive angles,
        screen y pointing down). ``snapshot`` (from a drag start) makes the rotation absolute.
        """
        _, axes = snapshot if snapshot is not None else self._rotation_snapshot()
        r = rotation_matrix(self.plane().normal, angle_rad)
        for view, (col, row) in axes:
            view.set_axes(r @ col, r @ row, keep_screen=True)

    def tilt(self, yaw_rad: float, pitch_rad: float, axes: tuple | None = None) -> None:
        """Turn this view's own plane about its screen vertical (``yaw``) then horizontal (``pitch``) axis."""
        col, row = axes if axes is not None else self._axes
        r = rotation_matrix(row, yaw_rad) @ rotation_matrix(col, -pitch_rad)
        self.set_axes(r @ col, r @ row, keep_screen=True)

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
        elif kind == "rotate":
            c = data[0]
            a0 = np.arctan2(start.y() - c[1], start.x() - c[0])
            a1 = np.arctan2(pos.y() - c[1], pos.x() - c[0])
            if np.hypot(pos.x() - c[0], pos.y() - c[1]) > 4:  # too close to the centre: angle undefined
                self.rotate_others(float(a1 - a0), data)
        elif kind == "tilt":
            deg = np.deg2rad(0.4)  # per screen pixel
            self.tilt((pos.x() - start.x()) * deg, (pos.y() - start.y()) * deg, data)
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
        drag, self._drag = self._drag, None
        if drag and drag[0] == "tool":
            self.main.slice_tool.release(self, self.screen_to_lps(ev.position()), ev)
        elif drag and drag[0] == "wl":
            d = ev.position() - drag[1]
            if abs(d.x()) + abs(d.y()) < 3:  # a right click, not a window/level drag: the view menu
                self.main.set_window(drag[2])
                self.context_menu().popup(ev.globalPosition().toPoint())

    def context_menu(self):  # noqa: ANN201 - QMenu
        """The right-click menu of this view (orientation presets, trajectories, rotate mode, reset)."""
        from app.gui.view_orientation import build_view_menu

        return build_view_menu(self)

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
        elif k in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight):
            self.rotate_others(np.deg2rad(5.0 if k == Qt.Key.Key_BracketRight else -5.0))
        else:
            super().keyPressEvent(ev)

    def leaveEvent(self, ev) -> None:  # noqa: N802, ANN001
        self.main.report_cursor(None)
