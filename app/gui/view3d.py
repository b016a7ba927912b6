"""The 3-D view: a pyvistaqt ``QtInteractor``, or an off-screen VTK render shown in a QLabel.

With ``QT_QPA_PLATFORM=offscreen`` a QOpenGLWidget cannot render, so the
fallback renders the same pyvista scene off-screen (EGL) and shows the image;
mouse drags rotate the camera and re-render. Both expose ``plotter`` (a pyvista
plotter for :mod:`rendering.scene`), ``refresh()``, ``grab_rgb()`` and ``close_view()``.

Mouse tools (3-D scissors, painting loads on surfaces...) plug in with
:meth:`View3D.set_mouse_tool`; a tool follows the :class:`MouseTool3D` protocol and gets
the left button (right / middle / wheel keep moving the camera). Helpers for tools:
:meth:`View3D.pick` (LPS point + actor under a widget pixel), :meth:`View3D.world_to_display`
(homogeneous LPS mm -> widget pixels) and :meth:`View3D.viewport_size`. Widget pixel
coordinates everywhere are Qt logical pixels of the View3D widget, x right, y down.
Scene frame: LPS mm.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPen, QPixmap, QPolygonF, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from rendering.offscreen import BACKGROUND, prepare_offscreen_gl


class MouseTool3D(Protocol):
    """A left-button tool of the 3-D view (installed with :meth:`View3D.set_mouse_tool`).

    ``x, y`` are Qt logical pixel coordinates in the View3D widget (x right, y down), as floats.

    * ``press`` returns True when it consumed the left-button press: the following moves and the
      release go to the tool and the camera does not move; False lets VTK rotate the camera.
    * ``move`` is called during the tool's own drag and while hovering (no button down;
      check ``event.buttons()``), not while the camera is being dragged.
    * ``release`` ends the tool's drag (only called after a consumed press).
    * optional ``overlay(view) -> list[(points (n, 2) px, colour)]``: polylines drawn over the view
      (any ``QColor`` colour string, e.g. ``"#ffe63c"``); repaint with :meth:`View3D.update_overlay`
      (done automatically after each press / move / release).
    * optional ``key_press(view, event) -> bool``: key presses while the 3-D view has focus (True =
      consumed; e.g. Esc cancelling a lasso).
    """

    def press(self, view: View3D, x: float, y: float, event: Any) -> bool: ...  # noqa: D102

    def move(self, view: View3D, x: float, y: float, event: Any) -> None: ...  # noqa: D102

    def release(self, view: View3D, x: float, y: float, event: Any) -> None: ...  # noqa: D102


def can_use_qt_opengl() -> bool:
    """Whether a QOpenGLWidget can render on this Qt platform."""
    if os.environ.get("VHT_NO_QT_GL") == "1":
        return False
    return QGuiApplication.platformName() not in ("offscreen", "minimal")


class View3D(QWidget):
    """Container of the 3-D renderer (interactive when the platform allows).

    The renderer is built on first need (:meth:`ensure_ready`): importing pyvista's plotting
    stack takes seconds, and the slice views should show the image before that.
    ``became_ready`` is emitted once it exists; until then ``plotter`` is None.
    """

    became_ready = Signal()
    mouse_tool_changed = Signal(object)
    """Emitted with the new tool (or None) by :meth:`set_mouse_tool`: a panel whose tool was replaced
    by another panel's can un-check its button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("view_3d")
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.interactive = can_use_qt_opengl()
        self._closed = False
        self._building = False
        self.plotter = None
        self.interactor = None
        self.label = None
        self.placeholder = QLabel("3D")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("background: #1a1c24; color: #777;")
        self._layout.addWidget(self.placeholder)
        self._mouse_tool: Any = None
        self._tool_drag = False
        self._overlay = _OverlayWidget(self)
        self._overlay.hide()

    # ------------------------------------------------------------------ mouse tools
    @property
    def mouse_tool(self) -> Any:
        """The installed :class:`MouseTool3D`, or None."""
        return self._mouse_tool

    def set_mouse_tool(self, tool: Any) -> None:
        """Give the left button to ``tool`` (a :class:`MouseTool3D`), or back to the camera (None)."""
        changed = tool is not self._mouse_tool
        self._mouse_tool = tool
        self._tool_drag = False
        if tool is not None:
            self.setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.unsetCursor()
        self.update_overlay()
        if changed:
            self.mouse_tool_changed.emit(tool)

    def update_overlay(self) -> None:
        """Repaint the tool overlay (cheap: the 3-D scene is not re-rendered)."""
        ov = self._overlay
        if callable(getattr(self._mouse_tool, "overlay", None)):
            ov.setGeometry(self.rect())
            ov.show()
            ov.raise_()
            ov.update()
        else:
            ov.hide()

    def _widget_pos(self, widget: QWidget, ev: Any) -> tuple[float, float]:
        p = ev.position()
        o = widget.mapTo(self, QPointF(0.0, 0.0)) if widget is not self else QPointF(0.0, 0.0)
        return float(p.x() + o.x()), float(p.y() + o.y())

    def _tool_press(self, widget: QWidget, ev: Any) -> bool:
        tool = self._mouse_tool
        if tool is None or ev.button() != Qt.MouseButton.LeftButton:
            return False
        x, y = self._widget_pos(widget, ev)
        consumed = bool(tool.press(self, x, y, ev))
        self._tool_drag = consumed
        self.update_overlay()
        return consumed

    def _tool_move(self, widget: QWidget, ev: Any) -> bool:
        tool = self._mouse_tool
        if tool is None:
            return False
        if not self._tool_drag and ev.buttons() != Qt.MouseButton.NoButton:
            return False  # the camera is being dragged
        x, y = self._widget_pos(widget, ev)
        tool.move(self, x, y, ev)
        self.update_overlay()
        return self._tool_drag

    def _tool_release(self, widget: QWidget, ev: Any) -> bool:
        tool = self._mouse_tool
        if tool is None or not self._tool_drag or ev.button() != Qt.MouseButton.LeftButton:
            return False
        self._tool_drag = False
        x, y = self._widget_pos(widget, ev)
        tool.release(self, x, y, ev)
        self.update_overlay()
        return True

    def _tool_key(self, ev: Any) -> bool:
        fn = getattr(self._mouse_tool, "key_press", None)
        if not callable(fn):
            return False
        consumed = bool(fn(self, ev))
        self.update_overlay()
        return consumed

    # ------------------------------------------------------------------ projections and picking
    def viewport_size(self) -> tuple[int, int]:
        """Size ``(w, h)`` of the 3-D image in Qt logical pixels (the View3D widget)."""
        return int(self.width()), int(self.height())

    def world_to_display(self) -> np.ndarray:
        """Homogeneous 4x4 matrix: LPS mm -> widget pixels (x right, y down) of the current camera.

        For ``q = M @ [x, y, z, 1]``: pixel ``(q[0] / q[3], q[1] / q[3])``; ``q[3] > 0`` for points
        in front of a perspective camera (``q[3] == 1`` in parallel projection); ``q[2] / q[3]`` is
        the normalised depth (-1 near clipping plane, +1 far). Requires the renderer (:meth:`ensure_ready`).
        """
        self.ensure_ready()
        w, h = self.viewport_size()
        ren = self.plotter.renderer
        vp = ren.GetViewport()  # fractions (xmin, ymin, xmax, ymax), origin bottom-left
        vw, vh = (vp[2] - vp[0]) * w, (vp[3] - vp[1]) * h
        aspect = vw / max(vh, 1e-9)
        cam = ren.GetActiveCamera()
        m = cam.GetCompositeProjectionTransformMatrix(aspect, -1.0, 1.0)
        proj = np.array([[m.GetElement(r, c) for c in range(4)] for r in range(4)])
        ndc_to_px = np.array([
            [0.5 * vw, 0.0, 0.0, vp[0] * w + 0.5 * vw],
            [0.0, -0.5 * vh, 0.0, h - vp[1] * h - 0.5 * vh],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ])
        return ndc_to_px @ proj

    def pick(self, x: float, y: float, wait_s: float = 0.05,
             names: Iterable[str] | None = None) -> tuple[np.ndarray, Any] | None:
        """The visible surface point under widget pixel ``(x, y)``: ``(point (3,) LPS mm, actor)`` or None.

        ``actor`` is the pyvista actor name (e.g. ``"surface:liver"``) when the picked prop was added
        with a name, else the VTK prop. None when nothing is hit, the renderer does not exist yet, or a
        worker holds the VTK lock for more than ``wait_s`` seconds (the GUI never waits longer).
        ``names``: only these actors can be hit (others neither hit nor occlude; faster on big scenes).
        """
        if self.plotter is None or self._closed:
            return None
        from vtkmodules.vtkRenderingCore import vtkCellPicker

        from rendering.surfaces import VTK_THREAD_LOCK

        if not VTK_THREAD_LOCK.acquire(timeout=max(float(wait_s), 0.0)):
            return None
        try:
            w, h = self.viewport_size()
            if not self.interactive:
                lw, lh = max(self.label.width(), 64), max(self.label.height(), 64)
                if tuple(self.plotter.window_size) != (lw, lh):
                    self.plotter.window_size = (lw, lh)
            rw = self.plotter.ren_win
            sw, sh = rw.GetSize()
            sx, sy = sw / max(w, 1), sh / max(h, 1)  # device pixels per logical pixel (HiDPI)
            picker = vtkCellPicker()
            picker.SetTolerance(0.0005)
            if names is not None:
                picker.PickFromListOn()
                for n in names:
                    actor = self.plotter.actors.get(n)
                    if actor is not None:
                        picker.AddPickList(actor)
            ren = self.plotter.renderer
            if not picker.Pick(x * sx, (h - y) * sy, 0.0, ren):
                return None
            prop = picker.GetViewProp()
            point = np.array(picker.GetPickPosition(), dtype=float)
        finally:
            VTK_THREAD_LOCK.release()
        name: Any = prop
        for key, actor in list(self.plotter.actors.items()):
            if actor is prop or getattr(actor, "__this__", None) == getattr(prop, "__this__", 0):
                name = key
                break
        return point, name

    @property
    def ready(self) -> bool:
        """Whether the renderer exists."""
        return self.plotter is not None

    def ensure_ready(self) -> None:
        """Build the renderer (QtInteractor, or the off-screen fallback) if not done yet."""
        if self.plotter is not None or self._closed or self._building:
            return  # (creating the GL widget may process events that call back here: no re-entry)
        from rendering.surfaces import VTK_THREAD_LOCK

        self._building = True
        try:
            with VTK_THREAD_LOCK:
                self._build()
        finally:
            self._building = False
        self.became_ready.emit()
        self.refresh()

    def _build(self) -> None:
        if self.interactive:
            self.interactor = _make_guarded_interactor(self)
            self.plotter = self.interactor
            widget = self.interactor.interactor
        else:
            prepare_offscreen_gl()
            import pyvista as pv

            self.plotter = pv.Plotter(off_screen=True, window_size=(400, 300))
            self.label = _RenderLabel(self)
            widget = self.label
            self._timer = QTimer(self)
            self._timer.setSingleShot(True)
            self._timer.setInterval(30)
            self._timer.timeout.connect(self._render_to_label)
        self._layout.replaceWidget(self.placeholder, widget)
        self.placeholder.deleteLater()
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.plotter.set_background(BACKGROUND)
        self.orientation_widget = add_orientation_cube(self.plotter)

    def refresh(self) -> None:
        """Redraw after the scene changed."""
        if self._closed or self.plotter is None:
            return
        if self.interactive:
            self.plotter.render()  # deferred while a worker is inside VTK (see _make_guarded_interactor)
        else:
            self._timer.start()

    def render_now(self) -> None:
        """Render synchronously (used before screenshots); builds the renderer if needed."""
        self.ensure_ready()
        if self._closed:
            return
        if self.interactive:
            self.plotter.render()
        else:
            self._render_to_label()

    def _render_to_label(self) -> None:
        if self._closed or self.label is None:
            return
        from rendering.surfaces import VTK_THREAD_LOCK

        if not VTK_THREAD_LOCK.acquire(blocking=False):  # a worker is inside VTK: render a bit later
            self._timer.start(100)
            return
        try:
            self._render_to_label_locked()
        finally:
            VTK_THREAD_LOCK.release()

    def _render_to_label_locked(self) -> None:
        w, h = max(self.label.width(), 64), max(self.label.height(), 64)
        self.plotter.window_size = (w, h)
        img = np.ascontiguousarray(self.plotter.screenshot(return_img=True)[..., :3])
        self._img = img
        qimg = QImage(img.data, img.shape[1], img.shape[0], 3 * img.shape[1], QImage.Format.Format_RGB888)
        self.label.setPixmap(QPixmap.fromImage(qimg.copy()))

    def grab_rgb(self) -> np.ndarray:
        """The current 3-D image as RGB ``(h, w, 3)``."""
        self.ensure_ready()
        if self.interactive:
            return np.asarray(self.plotter.screenshot(return_img=True))[..., :3]
        self._render_to_label()
        return self._img

    def resizeEvent(self, ev) -> None:  # noqa: N802, ANN001
        super().resizeEvent(ev)
        self._overlay.setGeometry(self.rect())
        if not self.interactive:
            self.refresh()

    def close_view(self) -> None:
        """Release the VTK render window (must be called when the main window closes)."""
        if self._closed:
            return
        self._closed = True
        plotter, self.plotter = self.plotter, None  # deferred redraws (timers) now see "not ready" and skip
        if plotter is None:
            return
        try:
            plotter.close()
        except Exception:  # noqa: BLE001 - closing twice or after GL loss is harmless
            pass


ORIENTATION_FACES = {"XPlus": "L", "XMinus": "R", "YPlus": "P", "YMinus": "A", "ZPlus": "S", "ZMinus": "I"}
"""Face letters of the orientation cube in the LPS scene (+x = left, +y = posterior, +z = superior)."""


def add_orientation_cube(plotter: Any, viewport: tuple[float, float, float, float] = (0.0, 0.0, 0.24, 0.24)) -> Any:
    """A Slicer-like orientation cube (R/L, A/P, S/I faces) in the bottom-left corner; returns the widget.

    Replaces the default axes triad (about 30 px with unreadable letters). The cube is drawn in the
    LPS scene frame: the face seen from the front (camera anterior) reads "A", from the left "L".
    Its viewport is a fraction of the view (VTK's pixel-size constraint filled the whole interactive view).
    """
    import vtk

    cube = vtk.vtkAnnotatedCubeActor()
    for face, letter in ORIENTATION_FACES.items():
        getattr(cube, f"Set{face}FaceText")(letter)
    cube.SetFaceTextScale(0.62)
    cube.SetTextEdgesVisibility(False)
    cube.GetCubeProperty().SetColor(0.80, 0.82, 0.86)
    colours = {"X": (0.85, 0.25, 0.25), "Y": (0.25, 0.65, 0.25), "Z": (0.25, 0.40, 0.90)}  # Slicer's R/A/S hues
    for face in ORIENTATION_FACES:
        prop = getattr(cube, f"Get{face}FaceProperty")()
        prop.SetColor(*colours[face[0]])
        prop.SetInterpolationToFlat()
    widget = plotter.add_orientation_widget(cube, viewport=viewport)
    return widget


class _RenderLabel(QLabel):
    """Shows the off-screen image; drag rotates (left) or zooms (right)."""

    def __init__(self, view: View3D) -> None:
        super().__init__()
        self.view = view
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(64, 64)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("background: #1a1c24;")
        self.setMouseTracking(True)  # hover moves for mouse tools
        self._last = None

    def mousePressEvent(self, ev) -> None:  # noqa: N802, ANN001
        self.setFocus()
        if self.view._tool_press(self, ev):
            return
        self._last = ev.position()

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802, ANN001
        if self.view._tool_move(self, ev):
            return
        if self._last is None:
            return
        d = ev.position() - self._last
        self._last = ev.position()
        cam = self.view.plotter.camera
        if ev.buttons() & Qt.MouseButton.LeftButton:
            cam.Azimuth(-d.x() * 0.5)
            cam.Elevation(d.y() * 0.5)
            cam.OrthogonalizeViewUp()
        elif ev.buttons() & Qt.MouseButton.RightButton:
            cam.Zoom(1.0 + d.y() * 0.01)
        self.view.plotter.reset_camera_clipping_range()
        self.view.refresh()

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802, ANN001
        if self.view._tool_release(self, ev):
            return
        self._last = None

    def keyPressEvent(self, ev) -> None:  # noqa: N802, ANN001
        if not self.view._tool_key(ev):
            super().keyPressEvent(ev)


class _OverlayWidget(QWidget):
    """Transparent widget over the 3-D image that draws the mouse tool's polylines.

    Painting it does not re-render the VTK scene (Qt composes it over the GL widget / label).
    """

    def __init__(self, view: View3D) -> None:
        super().__init__(view)
        self.view = view
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setObjectName("view_3d_overlay")

    def lines(self) -> list[tuple[np.ndarray, str]]:
        """The polylines of the current tool (empty if none)."""
        fn = getattr(self.view.mouse_tool, "overlay", None)
        if not callable(fn):
            return []
        return list(fn(self.view) or [])

    def paintEvent(self, ev) -> None:  # noqa: N802, ANN001
        lines = self.lines()
        if not lines:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for pts, colour in lines:
            pts = np.asarray(pts, dtype=float).reshape(-1, 2)
            if len(pts) == 0:
                continue
            pen = QPen(QColor(colour))
            pen.setWidthF(2.0)
            p.setPen(pen)
            if len(pts) == 1:
                p.drawEllipse(QPointF(pts[0, 0], pts[0, 1]), 2.5, 2.5)
            else:
                p.drawPolyline(QPolygonF([QPointF(float(a), float(b)) for a, b in pts]))
        p.end()


def _make_guarded_interactor(parent: QWidget) -> Any:
    """A pyvistaqt ``QtInteractor`` whose paints never overlap VTK work in a worker thread.

    VTK's garbage collector is process-global: a worker creating VTK objects (holding the GIL)
    while the GUI thread renders (holding the collector's mutex and calling pyvistaqt's Python
    make-current callback) deadlocks both. Workers hold ``VTK_THREAD_LOCK`` while they run
    (:class:`app.gui.workers.Worker`); a paint that finds it taken keeps the last frame and
    repaints shortly after instead of waiting.
    """
    from pyvistaqt import QtInteractor

    from rendering.surfaces import VTK_THREAD_LOCK

    view = parent

    class _GuardedInteractor(QtInteractor):  # type: ignore[misc]
        # left-button events go to the View3D mouse tool first (see View3D.set_mouse_tool)
        def mousePressEvent(self, ev: Any) -> None:  # noqa: N802 - Qt override
            self.setFocus()
            if not view._tool_press(self, ev):
                self._when_vtk_free(super().mousePressEvent, ev)

        def mouseMoveEvent(self, ev: Any) -> None:  # noqa: N802 - Qt override
            if not view._tool_move(self, ev):
                self._when_vtk_free(super().mouseMoveEvent, ev)

        def mouseReleaseEvent(self, ev: Any) -> None:  # noqa: N802 - Qt override
            if view._tool_release(self, ev):
                return
            if not VTK_THREAD_LOCK.acquire(blocking=False):  # never lose a release (VTK would keep rotating)
                later = ev.clone()
                QTimer.singleShot(50, self, lambda: self.mouseReleaseEvent(later))
                return
            try:
                super().mouseReleaseEvent(ev)
            finally:
                VTK_THREAD_LOCK.release()

        def keyPressEvent(self, ev: Any) -> None:  # noqa: N802 - Qt override
            if not view._tool_key(ev):
                self._when_vtk_free(super().keyPressEvent, ev)

        def paintGL(self) -> None:  # noqa: N802 - Qt override
            if not VTK_THREAD_LOCK.acquire(blocking=False):
                QTimer.singleShot(100, self.update)
                return
            try:
                super().paintGL()
            finally:
                VTK_THREAD_LOCK.release()

        # QVTKRenderWindowInteractor's own Qt handlers call into VTK directly (paintEvent renders, resizeEvent
        # resizes the render window, enter/leave/wheel/mouse drive the interactor): none may run while a worker
        # is inside VTK. Paints, resizes and button releases are redone shortly after; other pointer events
        # are dropped.
        def paintEvent(self, ev: Any) -> None:  # noqa: N802 - Qt override
            if not VTK_THREAD_LOCK.acquire(blocking=False):
                QTimer.singleShot(100, self, self.update)
                return
            try:
                super().paintEvent(ev)
            finally:
                VTK_THREAD_LOCK.release()

        def resizeEvent(self, ev: Any) -> None:  # noqa: N802 - Qt override
            if not VTK_THREAD_LOCK.acquire(blocking=False):
                QTimer.singleShot(100, self, lambda: self.resizeEvent(QResizeEvent(self.size(), self.size())))
                return
            try:
                super().resizeEvent(ev)
            finally:
                VTK_THREAD_LOCK.release()

        def _when_vtk_free(self, handler: Any, ev: Any) -> None:
            if VTK_THREAD_LOCK.acquire(blocking=False):
                try:
                    handler(ev)
                finally:
                    VTK_THREAD_LOCK.release()

        def enterEvent(self, ev: Any) -> None:  # noqa: N802 - Qt override
            self._when_vtk_free(super().enterEvent, ev)

        def leaveEvent(self, ev: Any) -> None:  # noqa: N802 - Qt override
            self._when_vtk_free(super().leaveEvent, ev)

        def wheelEvent(self, ev: Any) -> None:  # noqa: N802 - Qt override
            self._when_vtk_free(super().wheelEvent, ev)

        def render(self, *args: Any, **kwargs: Any) -> Any:
            if not VTK_THREAD_LOCK.acquire(blocking=False):
                QTimer.singleShot(100, self.update)
                return None
            try:
                return super().render(*args, **kwargs)
            finally:
                VTK_THREAD_LOCK.release()

    return _GuardedInteractor(parent, auto_update=False)
