"""Optional display of the three slice planes in the 3-D view (View > Show slice planes in 3-D).

Frame: LPS mm. Each slice view's plane is cut by the image box
(:func:`rendering.slicing.plane_box_polygon`) and drawn as a faint fill with an
outline in the view's colour. Updates are debounced: the 3-D scene is redrawn
once scrolling or rotating pauses, so slice views keep their speed. Drawing
follows the 3-D view's rule: never wait for the VTK lock on the GUI thread
(retry later while a worker is inside VTK). Off by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QTimer

from rendering.slicing import plane_box_polygon

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

ACTOR_PREFIX = "slice_plane:"
DEBOUNCE_MS = 250
FILL_OPACITY = 0.15


class SlicePlanes3D(QObject):
    """Keeps the slice-plane actors of one window's 3-D view in sync (when enabled)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("slice_planes3d")
        self.main = window
        self.enabled = False
        self.polygons: dict[str, np.ndarray] = {}  # last drawn, per view slot (LPS mm)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.draw_now)
        window.position_changed.connect(lambda *_: self.schedule())
        window.project_changed.connect(self.schedule)
        window.view3d.became_ready.connect(self.schedule)
        for v in window.slice_views.values():
            v.plane_changed.connect(self.schedule)

    def set_enabled(self, on: bool) -> None:
        """Show (True) or remove (False) the planes."""
        self.enabled = bool(on)
        self.draw_now()

    def schedule(self) -> None:
        """Redraw after the changes settle."""
        if self.enabled:
            self._timer.start()

    def draw_now(self) -> None:
        """Redraw the planes (or remove them when disabled) if the 3-D view is built and VTK is free."""
        from rendering.surfaces import VTK_THREAD_LOCK

        p = self.main.view3d.plotter
        if p is None:
            return
        if not VTK_THREAD_LOCK.acquire(blocking=False):  # a worker is inside VTK: try again shortly
            self._timer.start(100)
            return
        try:
            self._draw_locked(p)
        finally:
            VTK_THREAD_LOCK.release()
        self.main.view3d.refresh()

    def _draw_locked(self, p: Any) -> None:
        import pyvista as pv

        from app.gui.slice_view import VIEW_COLORS

        for name in [n for n in p.actors if str(n).startswith(ACTOR_PREFIX)]:
            p.remove_actor(name, render=False)
        self.polygons = {}
        vol = self.main.volume
        if not self.enabled or vol is None:
            return
        for slot, view in self.main.slice_views.items():
            poly = plane_box_polygon(vol.geometry, view.plane())
            if len(poly) < 3:
                continue
            self.polygons[slot] = poly
            q = VIEW_COLORS.get(slot)
            color = (q.redF(), q.greenF(), q.blueF()) if q is not None else (0.8, 0.8, 0.8)
            n = len(poly)
            face = pv.PolyData(poly, faces=np.concatenate([[n], np.arange(n)]))
            p.add_mesh(face, color=color, opacity=FILL_OPACITY, name=f"{ACTOR_PREFIX}{slot}", pickable=False,
                       render=False, lighting=False)
            ring = pv.PolyData(poly, lines=np.concatenate([[n + 1], np.arange(n), [0]]))
            p.add_mesh(ring, color=color, line_width=2, name=f"{ACTOR_PREFIX}{slot}:outline", pickable=False,
                       render=False, lighting=False)
