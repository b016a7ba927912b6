"""3-D view mouse tools on a mesh surface: paint a brush patch, or click a surface point (LPS mm).

Both tools follow :class:`app.gui.view3d.MouseTool3D` (installed with ``View3D.set_mouse_tool``):
``press/move/release(view, x, y, event)`` with ``x, y`` in widget logical pixels (x right, y down),
and ``overlay(view)`` polylines drawn over the 3-D image.

* :class:`SurfacePaintTool`: left press / drag on an accepted actor lays brush dabs (sphere centre =
  the picked surface point, brush normal = the surface normal there) along the mouse path; Shift or
  the erase switch unpaints. The path between two mouse events is resampled in screen space (every
  third of the brush radius) and each sample is picked, so a fast drag leaves no gap; dabs closer
  than a quarter radius to the previous one are skipped.
  A press off the accepted actors returns False, so the camera rotates as usual.
* :class:`SurfaceClickTool`: one left click on an accepted actor reports ``(point, normal)``
  (plane placement, indenter placement, moving the crosshair).

The overlay shows the brush as the circle it paints, in the tangent plane at the hovered point,
and the click tool shows the surface normal it would use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt

PAINT_COLOUR = "#ff4dff"
ERASE_COLOUR = "#4de1ff"
CLICK_COLOUR = "#ffe63c"


def _tangent_basis(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = n / (np.linalg.norm(n) or 1.0)
    a = np.cross(n, [1.0, 0.0, 0.0] if abs(n[0]) < 0.9 else [0.0, 1.0, 0.0])
    a /= np.linalg.norm(a)
    return a, np.cross(n, a)


def project(view: Any, points_lps: np.ndarray) -> np.ndarray:
    """Widget pixel coordinates ``(k, 2)`` of LPS points ``(k, 3)`` (NaN behind the camera)."""
    m = view.world_to_display()
    p = np.asarray(points_lps, float).reshape(-1, 3)
    q = np.column_stack([p, np.ones(len(p))]) @ m.T
    w = np.where(q[:, 3] > 1e-12, q[:, 3], np.nan)
    return q[:, :2] / w[:, None]


def circle_lps(center: np.ndarray, normal: np.ndarray, radius_mm: float, n: int = 48) -> np.ndarray:
    """Points ``(n + 1, 3)`` of a closed circle of ``radius_mm`` around ``center`` normal to ``normal``."""
    a, b = _tangent_basis(np.asarray(normal, float))
    t = np.linspace(0.0, 2.0 * np.pi, n + 1)
    return np.asarray(center, float) + radius_mm * (np.outer(np.cos(t), a) + np.outer(np.sin(t), b))


def pixel_ray(view: Any, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    """The segment of the viewing ray under widget pixel ``(x, y)`` between the near and far clipping planes (LPS)."""
    inv = np.linalg.inv(view.world_to_display())
    a = inv @ np.array([x, y, -1.0, 1.0])
    b = inv @ np.array([x, y, 1.0, 1.0])
    return a[:3] / a[3], b[:3] / b[3]


class MeshRayPicker:
    """Fast picking of one triangle surface: the first intersection of the pixel's viewing ray with it.

    A static cell locator answers in microseconds where picking the rendered scene takes tens of
    milliseconds on a 100k-triangle mesh (brush strokes pick many times per mouse move). Only this
    surface is considered (what the surface tools accept anyway); occlusion by other actors is ignored.

    Parameters
    ----------
    points_lps : (n, 3) float
    faces : (k, >=3) int
        Triangles (the first three columns are used), outward oriented.
    """

    def __init__(self, points_lps: np.ndarray, faces: np.ndarray) -> None:
        import pyvista as pv
        from vtkmodules.vtkCommonDataModel import vtkStaticCellLocator

        tri = np.asarray(faces)[:, :3]
        self.poly = pv.PolyData(np.asarray(points_lps, float), np.column_stack([np.full(len(tri), 3), tri]).ravel())
        c = np.asarray(points_lps, float)[tri]
        n = np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0])
        self.normals = n / np.maximum(np.linalg.norm(n, axis=1), 1e-300)[:, None]
        self.locator = vtkStaticCellLocator()
        self.locator.SetDataSet(self.poly)
        self.locator.BuildLocator()

    def pick(self, view: Any, x: float, y: float) -> tuple[np.ndarray, np.ndarray] | None:
        """``(point LPS mm, outward unit normal of the hit face)`` nearest the camera, or None."""
        from vtkmodules.vtkCommonCore import reference

        a, b = pixel_ray(view, x, y)
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            return None
        t, sub, cid = reference(0.0), reference(0), reference(0)
        xyz, pc = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
        if not self.locator.IntersectWithLine(a.tolist(), b.tolist(), 1e-9, t, xyz, pc, sub, cid):
            return None
        return np.array(xyz, float), self.normals[int(cid)].copy()


def _shift(event: Any) -> bool:
    try:
        return bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
    except (AttributeError, TypeError):
        return False


def _left_down(event: Any) -> bool:
    try:
        return bool(event.buttons() & Qt.MouseButton.LeftButton)
    except (AttributeError, TypeError):
        return True  # synthetic calls (tests) without an event: a move during a drag paints


class _SurfaceTool:
    """Picking restricted to accepted actors, and the hovered surface point."""

    def __init__(self, normal_at: Callable[[np.ndarray], np.ndarray], accepts: Callable[[Any], bool],
                 ray_pick: Callable[[Any, float, float], tuple[np.ndarray, np.ndarray] | None] | None = None) -> None:
        self.normal_at = normal_at
        self.accepts = accepts
        self.ray_pick = ray_pick
        self.hover: tuple[np.ndarray, np.ndarray] | None = None

    def surface_point(self, view: Any, x: float, y: float) -> tuple[np.ndarray, np.ndarray] | None:
        """``(point LPS mm, outward unit normal)`` under the pixel, on an accepted actor, or None.

        With ``ray_pick`` (e.g. :meth:`MeshRayPicker.pick`) the surface is intersected directly; otherwise the
        rendered scene is picked (``View3D.pick``) and the normal comes from ``normal_at``.
        """
        if self.ray_pick is not None:
            return self.ray_pick(view, x, y)
        hit = view.pick(x, y)
        if hit is None or not self.accepts(hit[1]):
            return None
        p = np.asarray(hit[0], float)
        return p, np.asarray(self.normal_at(p), float)


class SurfacePaintTool(_SurfaceTool):
    """Brush painting on a surface (see the module docstring).

    Parameters
    ----------
    paint : callable ``(center_lps (3,), normal (3,), radius_mm, erase) -> bool``
        Applies one dab; returns whether it changed the patch.
    normal_at : callable ``(point_lps) -> (3,)``
        Outward surface normal at a surface point.
    radius_mm : callable ``() -> float``
        Current brush radius.
    erase : callable ``() -> bool``
        Erase switch (Shift inverts it for one stroke).
    accepts : callable ``(actor) -> bool``
        Which picked actors can be painted (others let the camera move).
    on_stroke_end : callable ``() -> None``
        Called on release (one stroke = one undo step for the panel).
    ray_pick : callable ``(view, x, y) -> (point, normal) | None``, optional
        Direct surface intersection (:meth:`MeshRayPicker.pick`) instead of picking the rendered scene.
    on_key : callable ``(QKeyEvent) -> bool``, optional
        Key presses in the 3-D view (True = consumed).
    """

    key = "surface_paint"

    def __init__(self, paint: Callable[[np.ndarray, np.ndarray, float, bool], bool],
                 normal_at: Callable[[np.ndarray], np.ndarray], radius_mm: Callable[[], float],
                 erase: Callable[[], bool], accepts: Callable[[Any], bool],
                 on_stroke_end: Callable[[], None] | None = None,
                 ray_pick: Callable[[Any, float, float], tuple[np.ndarray, np.ndarray] | None] | None = None,
                 on_key: Callable[[Any], bool] | None = None) -> None:
        super().__init__(normal_at, accepts, ray_pick)
        self.on_key = on_key
        self.paint = paint
        self.radius_mm = radius_mm
        self.erase = erase
        self.on_stroke_end = on_stroke_end
        self.stroke_erase: bool | None = None
        self._last_px: tuple[float, float] | None = None
        self._last_dab: np.ndarray | None = None

    def _erasing(self, event: Any) -> bool:
        return bool(self.erase()) != _shift(event)

    def _dab(self, p: np.ndarray, n: np.ndarray) -> None:
        r = float(self.radius_mm())
        if self._last_dab is not None and np.linalg.norm(p - self._last_dab) < 0.25 * r:
            return
        self._last_dab = p
        self.paint(p, n, r, bool(self.stroke_erase))

    def press(self, view: Any, x: float, y: float, event: Any) -> bool:  # noqa: D102
        hit = self.surface_point(view, x, y)
        if hit is None:
            return False
        self.stroke_erase = self._erasing(event)
        self._last_px, self._last_dab = (x, y), None
        self.hover = hit
        self._dab(*hit)
        return True

    def move(self, view: Any, x: float, y: float, event: Any) -> None:  # noqa: D102
        if self.stroke_erase is None or not _left_down(event):  # hovering: only the brush outline follows
            self.hover = self.surface_point(view, x, y)
            return
        lx, ly = self._last_px if self._last_px is not None else (x, y)
        step = self._step_px(view)
        k = max(1, int(np.ceil(np.hypot(x - lx, y - ly) / step)))
        hit = None
        for t in np.linspace(0.0, 1.0, k + 1)[1:]:
            hit = self.surface_point(view, lx + t * (x - lx), ly + t * (y - ly))
            if hit is not None:
                self._dab(*hit)
        self._last_px = (x, y)
        self.hover = hit

    def release(self, view: Any, x: float, y: float, event: Any) -> None:  # noqa: D102
        if self.stroke_erase is None:
            return
        self.move(view, x, y, None)
        self.stroke_erase, self._last_px, self._last_dab = None, None, None
        if self.on_stroke_end is not None:
            self.on_stroke_end()

    def key_press(self, view: Any, event: Any) -> bool:
        """Keys while the 3-D view has focus (handled by ``on_key``: e.g. Esc, [ ], E)."""
        return bool(self.on_key(event)) if self.on_key is not None else False

    def _step_px(self, view: Any) -> float:
        """Screen spacing (px) of the resampled drag: a third of the brush radius on screen, >= 2 px."""
        if self.hover is None:
            return 4.0
        p, n = self.hover
        a, _ = _tangent_basis(n)
        px = project(view, np.array([p, p + float(self.radius_mm()) * a]))
        d = float(np.linalg.norm(px[1] - px[0]))
        return max(2.0, d / 3.0) if np.isfinite(d) else 4.0

    def overlay(self, view: Any) -> list[tuple[np.ndarray, str]]:
        """The brush circle on the hovered surface (paint: magenta, erase: cyan)."""
        if self.hover is None:
            return []
        p, n = self.hover
        erase = self.stroke_erase if self.stroke_erase is not None else bool(self.erase())
        pts = project(view, circle_lps(p, n, float(self.radius_mm())))
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        return [(pts, ERASE_COLOUR if erase else PAINT_COLOUR)] if len(pts) > 2 else []


class SurfaceClickTool(_SurfaceTool):
    """One click on a surface reports ``on_click(point_lps, normal)``; the overlay shows the normal."""

    key = "surface_click"

    def __init__(self, on_click: Callable[[np.ndarray, np.ndarray], None],
                 normal_at: Callable[[np.ndarray], np.ndarray], accepts: Callable[[Any], bool],
                 marker_mm: Callable[[], float] | None = None,
                 ray_pick: Callable[[Any, float, float], tuple[np.ndarray, np.ndarray] | None] | None = None) -> None:
        super().__init__(normal_at, accepts, ray_pick)
        self.on_click = on_click
        self.marker_mm = marker_mm or (lambda: 10.0)

    def press(self, view: Any, x: float, y: float, event: Any) -> bool:  # noqa: D102
        hit = self.surface_point(view, x, y)
        if hit is None:
            return False
        self.hover = hit
        self.on_click(*hit)
        return True

    def move(self, view: Any, x: float, y: float, event: Any) -> None:  # noqa: D102
        self.hover = self.surface_point(view, x, y)

    def release(self, view: Any, x: float, y: float, event: Any) -> None:  # noqa: D102
        return None

    def overlay(self, view: Any) -> list[tuple[np.ndarray, str]]:
        """A ring on the tangent plane and the outward normal at the hovered point."""
        if self.hover is None:
            return []
        p, n = self.hover
        s = float(self.marker_mm())
        out = []
        for pts in (circle_lps(p, n, 0.3 * s, 24), np.array([p, p + s * n / (np.linalg.norm(n) or 1.0)])):
            px = project(view, pts)
            px = px[np.all(np.isfinite(px), axis=1)]
            if len(px) >= 2:
                out.append((px, CLICK_COLOUR))
        return out
