"""Transparent layers over the slice views where tools draw (brush cursor, seeds, lasso, threshold preview).

One :class:`SliceOverlays` per main window (see :func:`overlays_for`): it puts a
mouse-transparent child widget on each :class:`app.gui.slice_view.SliceView`,
tracks the hover position, and calls registered painters
``painter_fn(view, qpainter, hover_lps_or_None)`` after the view painted its
image. Frame: LPS mm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow
    from app.gui.slice_view import SliceView

OVERLAYS_NAME = "vht_slice_overlays"
Painter = Callable[[Any, QPainter, "np.ndarray | None"], None]


class _Layer(QWidget):
    def __init__(self, view: SliceView, owner: SliceOverlays) -> None:
        super().__init__(view)
        self.view = view
        self.owner = owner
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setObjectName(f"tool_overlay_{view.orientation}")
        self.setGeometry(view.rect())
        self.show()

    def paintEvent(self, ev) -> None:  # noqa: N802, ANN001
        if self.view.main.volume is None or not self.owner.painters:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        hover = self.owner.hover.get(self.view.orientation)
        for fn in list(self.owner.painters.values()):
            try:
                fn(self.view, p, hover)
            except Exception:  # noqa: BLE001 - a drawing bug must not break the view
                pass
        p.end()


class SliceOverlays(QObject):
    """Overlay layers of the three slice views of one window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName(OVERLAYS_NAME)
        self.main = window
        self.painters: dict[str, Painter] = {}
        self.hover: dict[str, np.ndarray] = {}
        self.layers = {o: _Layer(v, self) for o, v in window.slice_views.items()}
        for v in window.slice_views.values():
            v.installEventFilter(self)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802
        t = ev.type()
        view = obj
        if t == QEvent.Type.Resize and getattr(view, "orientation", None) in self.layers:
            self.layers[view.orientation].setGeometry(view.rect())
        elif t == QEvent.Type.MouseMove and self.painters and view.main.volume is not None:
            self.hover[view.orientation] = view.screen_to_lps(ev.position())
            self.layers[view.orientation].update()
        elif t == QEvent.Type.Leave:
            self.hover.pop(getattr(view, "orientation", ""), None)
            if view.orientation in self.layers:
                self.layers[view.orientation].update()
        return False

    def set_painter(self, key: str, fn: Painter | None) -> None:
        """Register (or remove with None) a painter under ``key``."""
        if fn is None:
            self.painters.pop(key, None)
        else:
            self.painters[key] = fn
        self.update()

    def update(self) -> None:
        """Repaint every layer."""
        for layer in self.layers.values():
            layer.raise_()
            layer.update()


def overlays_for(window: MainWindow) -> SliceOverlays:
    """The window's overlay manager (created on first use, owned by the window as a QObject child)."""
    found = window.findChild(QObject, OVERLAYS_NAME)
    if not isinstance(found, SliceOverlays):
        found = SliceOverlays(window)
    return found


def slice_target_rect(view: SliceView) -> tuple[float, float, float, float] | None:
    """Screen rectangle ``(x, y, w, h)`` where the view draws its current slice image (None before painting)."""
    sl = getattr(view, "_slice", None)
    if sl is None:
        return None
    s = view.scale()
    c = view._center()
    u0, u1, v0, v1 = sl.extent_plane_mm()
    return (view.width() / 2 + (u0 - c[0]) * s, view.height() / 2 + (v0 - c[1]) * s, (u1 - u0) * s, (v1 - v0) * s)
