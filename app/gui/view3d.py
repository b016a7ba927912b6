"""The 3-D view: a pyvistaqt ``QtInteractor``, or an off-screen VTK render shown in a QLabel.

With ``QT_QPA_PLATFORM=offscreen`` a QOpenGLWidget cannot render, so the
fallback renders the same pyvista scene off-screen (EGL) and shows the image;
mouse drags rotate the camera and re-render. Both expose ``plotter`` (a pyvista
plotter for :mod:`rendering.scene`), ``refresh()``, ``grab_rgb()`` and ``close_view()``.
Scene frame: LPS mm.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from rendering.offscreen import BACKGROUND, prepare_offscreen_gl


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
        self.plotter.set_background(BACKGROUND)
        self.plotter.add_axes(xlabel="L", ylabel="P", zlabel="S", line_width=2)

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
        if not self.interactive:
            self.refresh()

    def close_view(self) -> None:
        """Release the VTK render window (must be called when the main window closes)."""
        if self._closed:
            return
        self._closed = True
        if self.plotter is None:
            return
        try:
            self.plotter.close()
        except Exception:  # noqa: BLE001 - closing twice or after GL loss is harmless
            pass


class _RenderLabel(QLabel):
    """Shows the off-screen image; drag rotates (left) or zooms (right)."""

    def __init__(self, view: View3D) -> None:
        super().__init__()
        self.view = view
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(64, 64)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("background: #1a1c24;")
        self._last = None

    def mousePressEvent(self, ev) -> None:  # noqa: N802, ANN001
        self._last = ev.position()

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802, ANN001
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
        self._last = None


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

    class _GuardedInteractor(QtInteractor):  # type: ignore[misc]
        def paintGL(self) -> None:  # noqa: N802 - Qt override
            if not VTK_THREAD_LOCK.acquire(blocking=False):
                QTimer.singleShot(100, self.update)
                return
            try:
                super().paintGL()
            finally:
                VTK_THREAD_LOCK.release()

        def render(self, *args: Any, **kwargs: Any) -> Any:
            if not VTK_THREAD_LOCK.acquire(blocking=False):
                QTimer.singleShot(100, self.update)
                return None
            try:
                return super().render(*args, **kwargs)
            finally:
                VTK_THREAD_LOCK.release()

    return _GuardedInteractor(parent, auto_update=False)
