"""Plan points in the slice views: drawing (projected within a slab), placing by click, dragging.

Frame: patient LPS, mm. Every editable point of a :class:`twin.plan.Plan` is a
:class:`PlanPoint` (object id, role, index). :func:`moved` returns the plan
object with one point moved; :class:`PlanTool` (a ``SliceTool`` of
:mod:`app.gui.main_window`) places a pending point on a click or drags an
existing point, pushing :class:`twin.plan_commands.ModifyPlanObject` (the
first move of a drag is a new undo step, the following moves merge into it,
so one drag = one undo step). :func:`paint_plan` draws landmarks, measurement
lines, trajectories, ablation centres, resection plane origins and rehearsal
points on a slice view through the overlay hook of :mod:`app.gui.tools.overlay`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from app.gui.slice_annotations import shadow_text
from twin.plan import CutPlane, Plan, PlanObject
from twin.plan_commands import ModifyPlanObject

PICK_RADIUS_PX = 9.0
"""A press closer than this (screen pixels) to a shown plan point grabs it."""


@dataclass(frozen=True)
class PlanPoint:
    """One editable point of a plan object (LPS mm)."""

    object_id: str
    role: str  # position | point | entry | target | center | origin
    index: int
    position_lps: tuple[float, float, float]
    label: str
    color: tuple[int, int, int]


def plan_points(plan: Plan) -> list[PlanPoint]:
    """Every draggable point of ``plan``."""
    out: list[PlanPoint] = []
    for lm in plan.landmarks:
        out.append(PlanPoint(lm.id, "position", 0, lm.position_lps, lm.name, (60, 230, 90)))
    for m in plan.measurements:
        for i, p in enumerate(m.points_lps):
            out.append(PlanPoint(m.id, "point", i, p, f"{m.name} {i + 1}", (235, 235, 235)))
    for t in plan.trajectories:
        out.append(PlanPoint(t.id, "entry", 0, t.entry_lps, f"{t.name} entry", (60, 210, 60)))
        out.append(PlanPoint(t.id, "target", 0, t.target_lps, f"{t.name} target", (235, 50, 50)))
    for r in plan.resections:
        for i, c in enumerate(r.planes):
            out.append(PlanPoint(r.id, "origin", i, c.origin_lps, f"{r.name} plane {i + 1}", (60, 150, 255)))
    for a in plan.ablation_zones:
        out.append(PlanPoint(a.id, "center", 0, a.center_lps, a.name, (255, 140, 0)))
    for h in plan.rehearsals:
        out.append(PlanPoint(h.id, "point", 0, h.point_lps, h.name, (200, 90, 255)))
    return out


def moved(obj: PlanObject, role: str, index: int, position_lps: Any) -> PlanObject:
    """A copy of ``obj`` with the point ``(role, index)`` at ``position_lps`` (LPS mm).

    Raises :class:`twin.errors.InputError` when the result is invalid (e.g. entry == target).
    """
    obj = _without_results(obj)
    p = tuple(float(x) for x in np.asarray(position_lps, float).reshape(3))
    coll = obj.collection
    if coll == "landmarks":
        return replace(obj, position_lps=p)
    if coll == "measurements":
        pts = list(obj.points_lps)
        pts[index] = p
        return replace(obj, points_lps=tuple(pts))
    if coll == "trajectories":
        return replace(obj, **{f"{role}_lps": p})
    if coll == "resections":
        planes = list(obj.planes)
        planes[index] = CutPlane(p, planes[index].normal_lps)
        return replace(obj, planes=tuple(planes))
    if coll == "ablation_zones":
        return replace(obj, center_lps=p)
    if coll == "rehearsals":
        return replace(obj, point_lps=p)
    raise ValueError(f"{coll} has no movable point")


def _without_results(obj: PlanObject) -> PlanObject:
    """Stored metrics/results describe the old geometry: drop them."""
    if getattr(obj, "metrics", None):
        obj = replace(obj, metrics={})
    if getattr(obj, "result", None):
        obj = replace(obj, result={})
    return obj


def _normal_step_mm(view: Any) -> float | None:
    """One voxel's extent (mm) along a view's normal (None without an image)."""
    vol = view.main.volume
    if vol is None:
        return None
    return float(np.abs(vol.geometry.direction.T @ view.plane().normal) @ vol.geometry.spacing)


def slab_half_mm(view: Any) -> float:
    """Half-thickness (mm) of the slab whose plan points a view shows: 1.5 voxels along its normal, >= 1 mm."""
    step = _normal_step_mm(view)
    return 2.0 if step is None else max(1.0, 1.5 * step)


class PlanCache:
    """Parsed :class:`Plan` of a project, re-parsed only when ``project.plan`` (a new dict per edit) changes."""

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._plan = Plan()

    def get(self, project: Any) -> Plan:
        """The project's plan (an empty plan if it cannot be read)."""
        d = project.plan
        key = (id(project), id(d))
        if key != self._key:
            try:
                self._plan = Plan.from_dict(d or {})
            except Exception:  # noqa: BLE001 - a broken plan draws nothing; the panel reports it
                self._plan = Plan()
            self._key = key
        return self._plan


class PlanTool:
    """Slice tool: a click places the pending point; a press on a shown plan point drags it.

    ``on_placed(object_id, role, index)`` is called after a pending point was placed;
    ``pending`` is ``(object_id, role, index)`` or None. A press elsewhere returns False
    (the crosshair moves as usual).
    """

    key = "plan"

    def __init__(self, window: Any, cache: PlanCache, on_placed: Callable[[str, str, int], None] | None = None) -> None:
        self.main = window
        self.cache = cache
        self.on_placed = on_placed
        self.pending: tuple[str, str, int] | None = None
        self.dragging: PlanPoint | None = None
        self._drag_pushes = 0

    def hit(self, view: Any, point_lps: np.ndarray, max_px: float = PICK_RADIUS_PX) -> PlanPoint | None:
        """The plan point shown in ``view`` nearest (on screen) to ``point_lps``, if within ``max_px``."""
        plane = view.plane()
        half = slab_half_mm(view)
        target = view.lps_to_screen(point_lps)
        best, best_d = None, max_px
        for pp in plan_points(self.cache.get(self.main.project)):
            q = np.asarray(pp.position_lps)
            if abs(float((q - plane.point_lps) @ plane.normal)) > half:
                continue
            s = view.lps_to_screen(q)
            d = float(np.hypot(s.x() - target.x(), s.y() - target.y()))
            if d <= best_d:
                best, best_d = pp, d
        return best

    def _set(self, object_id: str, role: str, index: int, point_lps: np.ndarray, merge: bool) -> bool:
        plan = self.cache.get(self.main.project)
        try:
            obj = moved(plan.get(object_id), role, index, point_lps)
        except Exception as exc:  # noqa: BLE001 - e.g. entry placed on the target
            self.main.statusBar().showMessage(f"Point not moved: {exc}", 8000)
            return False
        return self.main.push_command(ModifyPlanObject(self.main.project, obj, f"Move {obj.name} {role}"), merge=merge)

    def press(self, view: Any, point_lps: np.ndarray, event: Any) -> bool:  # noqa: D102
        if self.pending is not None:
            oid, role, index = self.pending
            self.pending = None
            if self._set(oid, role, index, point_lps, merge=False) and self.on_placed is not None:
                self.on_placed(oid, role, index)
            return True
        pp = self.hit(view, point_lps)
        if pp is None:
            return False
        self.dragging = pp
        self._drag_pushes = 0
        return True

    def move(self, view: Any, point_lps: np.ndarray, event: Any) -> None:  # noqa: D102
        pp = self.dragging
        if pp is None:
            return
        if self._set(pp.object_id, pp.role, pp.index, point_lps, merge=self._drag_pushes > 0):
            self._drag_pushes += 1

    def release(self, view: Any, point_lps: np.ndarray, event: Any) -> None:  # noqa: D102
        if self.dragging is not None and self._drag_pushes:
            self.move(view, point_lps, event)
        self.dragging = None
        self._drag_pushes = 0


# ------------------------------------------------------------------ drawing
def _clip_to_slab(a: np.ndarray, b: np.ndarray, plane: Any, half: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The part of segment a-b within ``half`` mm of the plane (None if none)."""
    da = float((a - plane.point_lps) @ plane.normal)
    db = float((b - plane.point_lps) @ plane.normal)
    if abs(db - da) < 1e-9:
        return (a, b) if abs(da) <= half else None
    t0, t1 = sorted(((-half - da) / (db - da), (half - da) / (db - da)))
    t0, t1 = max(t0, 0.0), min(t1, 1.0)
    if t0 > t1:
        return None
    return a + t0 * (b - a), a + t1 * (b - a)


def _plane_slice_line(origin: np.ndarray, normal: np.ndarray, plane: Any, view: Any) -> tuple | None:
    """Two far-apart LPS points of the line where a cut plane meets the slice plane (None if parallel)."""
    d = np.cross(normal, plane.normal)
    nd = float(np.linalg.norm(d))
    if nd < 1e-6:
        return None
    d /= nd
    # a point on both planes: solve [normal; plane.normal; d] x = [normal.origin; plane.normal.p0; d.p0]
    a = np.array([normal, plane.normal, d])
    b = np.array([normal @ origin, plane.normal @ plane.point_lps, d @ plane.point_lps])
    x = np.linalg.solve(a, b)
    far = 4.0 * max(view.width(), view.height()) / max(view.scale(), 1e-6)
    a, b = x - far * d, x + far * d
    vol = view.main.volume
    return (a, b) if vol is None else clip_to_volume(a, b, vol.geometry)


def clip_to_volume(a: np.ndarray, b: np.ndarray, geometry: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The part of segment a-b (LPS mm) inside the image's voxel box (edges at index -0.5 .. n - 0.5).

    A cut plane is drawn where it cuts the patient, not as an infinite line across the view (Liang-Barsky
    clipping in index space, exact for any orientation of the grid).
    """
    ia, ib = geometry.lps_to_index(np.array([a, b], float))
    t0, t1 = 0.0, 1.0
    d = ib - ia
    for ax in range(3):
        lo, hi = -0.5, float(geometry.shape[ax]) - 0.5
        if abs(d[ax]) < 1e-12:
            if not lo <= ia[ax] <= hi:
                return None
            continue
        ta, tb = (lo - ia[ax]) / d[ax], (hi - ia[ax]) / d[ax]
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
        if t0 > t1:
            return None
    return a + t0 * (b - a), a + t1 * (b - a)


def slice_half_mm(view: Any) -> float:
    """Half the slice thickness (mm) along a view's normal: a path within it lies "in" the slice (>= 0.5 mm)."""
    step = _normal_step_mm(view)
    return 0.5 if step is None else max(0.5, 0.5 * step)


def segment_crossing(a: np.ndarray, b: np.ndarray, plane: Any) -> np.ndarray | None:
    """LPS point where segment a-b crosses ``plane`` (None when it does not, or lies in/parallel to it)."""
    da = float((a - plane.point_lps) @ plane.normal)
    db = float((b - plane.point_lps) @ plane.normal)
    if abs(db - da) < 1e-6 * max(1.0, float(np.linalg.norm(b - a))) or da * db > 0:
        return None
    return a + da / (da - db) * (b - a)


def draw_segment(view: Any, p: QPainter, a: Any, b: Any, color: QColor, width: float, half_mm: float) -> None:
    """Segment a-b (LPS mm) projected on a slice view: faint dashed outside ``half_mm`` of the plane, solid
    inside; clipped to the segment (nothing beyond its ends)."""
    plane = view.plane()
    a, b = np.asarray(a, float), np.asarray(b, float)
    da = float((a - plane.point_lps) @ plane.normal)
    db = float((b - plane.point_lps) @ plane.normal)
    faint_color = QColor(color)
    faint_color.setAlpha(150)
    faint = QPen(faint_color, 1.0, Qt.PenStyle.DashLine)
    part = _clip_to_slab(a, b, plane, half_mm)
    if part is None:
        p.setPen(faint)
        p.drawLine(view.lps_to_screen(a), view.lps_to_screen(b))
        return
    t0 = 0.0 if abs(db - da) < 1e-12 else float((part[0] - a) @ (b - a) / max((b - a) @ (b - a), 1e-12))
    t1 = 1.0 if abs(db - da) < 1e-12 else float((part[1] - a) @ (b - a) / max((b - a) @ (b - a), 1e-12))
    p.setPen(faint)
    if t0 > 1e-6:
        p.drawLine(view.lps_to_screen(a), view.lps_to_screen(part[0]))
    if t1 < 1 - 1e-6:
        p.drawLine(view.lps_to_screen(part[1]), view.lps_to_screen(b))
    solid = QPen(color, width)
    solid.setCapStyle(Qt.PenCapStyle.FlatCap)
    p.setPen(solid)
    p.drawLine(view.lps_to_screen(part[0]), view.lps_to_screen(part[1]))


def paint_plan(window: Any, cache: PlanCache, view: Any, p: QPainter, selected_id: str | None = None) -> None:
    """Draw the plan on one slice view: points within the slab, lines projected (solid where inside the slab)."""
    plan = cache.get(window.project)
    if not plan.objects():
        return
    plane = view.plane()
    half = slab_half_mm(view)
    font = QFont()
    font.setPointSize(8)
    p.setFont(font)

    def line(a: Any, b: Any, color: QColor, width: float, sel: bool, slab: float = half) -> None:
        draw_segment(view, p, a, b, color, width + (1.5 if sel else 0.0), slab)

    for r in plan.resections:  # each cut plane meets the slice in a line
        for cut in r.planes:
            seg = _plane_slice_line(np.asarray(cut.origin_lps), np.asarray(cut.normal_lps), plane, view)
            if seg is not None:
                p.setPen(QPen(QColor(60, 150, 255), 3.0 if r.id == selected_id else 2.0, Qt.PenStyle.DashDotLine))
                p.drawLine(view.lps_to_screen(seg[0]), view.lps_to_screen(seg[1]))
    for m in plan.measurements:
        pts = m.points_lps
        for a, b in zip(pts[:-1], pts[1:], strict=True):
            line(a, b, QColor(235, 235, 235), 1.5, m.id == selected_id)
    thin = slice_half_mm(view)
    for t in plan.trajectories:
        sel = t.id == selected_id
        width = min(max(2.0, t.diameter_mm * view.scale()), 12.0)
        # the entry-target segment only (never beyond its ends): solid within half a slice of the plane,
        # faint and dashed elsewhere, and a ring of the tool diameter where it pierces this slice
        line(t.entry_lps, t.target_lps, QColor(255, 215, 30), width, sel, thin)
        x = segment_crossing(np.asarray(t.entry_lps, float), np.asarray(t.target_lps, float), plane)
        if x is not None:
            c = view.lps_to_screen(x)
            r = max(4.0, 0.5 * t.diameter_mm * view.scale())
            for pen_color, pen_w in ((QColor(0, 0, 0, 200), 3.0), (QColor(255, 215, 30), 1.5)):
                p.setPen(QPen(pen_color, pen_w))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(c, r, r)
                p.drawLine(QPointF(c.x() - r - 4, c.y()), QPointF(c.x() - r + 1, c.y()))
                p.drawLine(QPointF(c.x() + r - 1, c.y()), QPointF(c.x() + r + 4, c.y()))
                p.drawLine(QPointF(c.x(), c.y() - r - 4), QPointF(c.x(), c.y() - r + 1))
                p.drawLine(QPointF(c.x(), c.y() + r - 1), QPointF(c.x(), c.y() + r + 4))
    for pp in plan_points(plan):
        q = np.asarray(pp.position_lps)
        dist = abs(float((q - plane.point_lps) @ plane.normal))
        if dist > 3 * half:
            continue
        c = view.lps_to_screen(q)
        col = QColor(*pp.color)
        on = dist <= half
        sel = pp.object_id == selected_id
        p.setPen(QPen(QColor(255, 255, 255) if sel else QColor(0, 0, 0), 2.0 if sel else 1.0))
        p.setBrush(col if on else Qt.BrushStyle.NoBrush)
        if not on:
            p.setPen(QPen(col, 1.0))
        r = 5.0 if on else 3.0
        p.drawEllipse(QPointF(c.x(), c.y()), r, r)
        if on:  # shadowed like the view's own annotations: readable over overlays and bright anatomy
            fm = p.fontMetrics()
            rect = QRectF(c.x() + 7, c.y() - 5 - fm.ascent(), fm.horizontalAdvance(pp.label) + 2, fm.height())
            shadow_text(p, rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, pp.label, col)
    p.setBrush(Qt.BrushStyle.NoBrush)
