"""Seed placement by clicking in the slice views: several labelled seed sets (one may be background).

Qt-free state (:class:`SeedSets`) plus the slice tool (:class:`SeedTool`) and
its drawing. Points are LPS mm. Left click adds a seed to the active set;
Ctrl+click removes the nearest seed of the active set on the viewed slice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen


@dataclass
class SeedSet:
    """A named set of seed points (LPS mm) with a display colour (RGB 0..1)."""

    name: str
    color: tuple[float, float, float]
    points_lps: list[np.ndarray] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    """Per-set choices of ``segmentation.grow.grow_from_seeds`` (keys of ``grow.LABEL_OPTIONS``)."""

    @property
    def is_background(self) -> bool:
        """Background sets compete but produce no segment."""
        return self.name.lower() in ("background", "bg", "outside")


@dataclass
class SeedSets:
    """The seed sets of the grow-from-seeds tool and the active one."""

    sets: list[SeedSet] = field(default_factory=list)
    active: int = 0

    def current(self) -> SeedSet | None:
        """The active set."""
        return self.sets[self.active] if 0 <= self.active < len(self.sets) else None

    def add_set(self, name: str, color: tuple[float, float, float]) -> SeedSet:
        """Add (or return the existing) set ``name`` and make it active."""
        for n, s in enumerate(self.sets):
            if s.name == name:
                self.active = n
                return s
        self.sets.append(SeedSet(name, color))
        self.active = len(self.sets) - 1
        return self.sets[-1]

    def remove_set(self, index: int) -> None:
        """Drop a set."""
        if 0 <= index < len(self.sets):
            self.sets.pop(index)
            self.active = min(self.active, len(self.sets) - 1)

    def to_json(self) -> dict[str, Any]:
        """The CLI's SEEDS.json document (``{"segments": [{"name", "points_lps"}]}``)."""
        return {"segments": [{"name": s.name, "points_lps": [list(map(float, p)) for p in s.points_lps],
                              **({"options": dict(s.options)} if s.options else {})}
                             for s in self.sets if s.points_lps]}


class SeedTool:
    """Slice tool adding seeds to the active set of a :class:`SeedSets`."""

    key = "seeds"

    def __init__(self, seeds: SeedSets, changed: Callable[[], None]) -> None:
        self.seeds = seeds
        self.changed = changed

    def press(self, view: Any, point_lps: np.ndarray, event: Any) -> bool:  # noqa: D102
        s = self.seeds.current()
        if s is None:
            return False
        mods = event.modifiers() if event is not None else Qt.KeyboardModifier.NoModifier
        if mods & Qt.KeyboardModifier.ControlModifier:
            self.remove_near(view, point_lps)
        else:
            s.points_lps.append(np.asarray(point_lps, float).copy())
        self.changed()
        return True

    def remove_near(self, view: Any, point_lps: np.ndarray, max_px: float = 12.0) -> bool:
        """Remove the active set's seed nearest (on screen) to ``point_lps`` if within ``max_px``."""
        s = self.seeds.current()
        if s is None or not s.points_lps:
            return False
        target = view.lps_to_screen(point_lps)
        d = [np.hypot(view.lps_to_screen(q).x() - target.x(), view.lps_to_screen(q).y() - target.y())
             + 1e3 * (abs(float((q - point_lps) @ view.plane().normal)) > _half_slice(view))
             for q in s.points_lps]
        n = int(np.argmin(d))
        if d[n] <= max_px:
            s.points_lps.pop(n)
            return True
        return False

    def move(self, view: Any, point_lps: np.ndarray, event: Any) -> None:  # noqa: D102
        pass

    def release(self, view: Any, point_lps: np.ndarray, event: Any) -> None:  # noqa: D102
        pass


def _half_slice(view: Any) -> float:
    vol = view.main.volume
    if vol is None:
        return 0.5
    n = view.plane().normal
    return 0.5 * float(np.abs(vol.geometry.direction.T @ n) @ vol.geometry.spacing) + 1e-6


def paint_seeds(seeds: SeedSets, view: Any, p: QPainter) -> None:
    """Draw the seeds lying on the viewed slice (filled) and near it (hollow, within 3 slices)."""
    half = _half_slice(view)
    plane = view.plane()
    for n, s in enumerate(seeds.sets):
        col = QColor.fromRgbF(*s.color)
        for q in s.points_lps:
            dist = abs(float((q - plane.point_lps) @ plane.normal))
            if dist > 6 * half:
                continue
            c = view.lps_to_screen(q)
            on = dist <= half
            pen = QPen(QColor(0, 0, 0) if on else col)
            pen.setWidthF(1.5 if n == seeds.active else 1.0)
            p.setPen(pen)
            p.setBrush(col if on else Qt.BrushStyle.NoBrush)
            r = 4.5 if on else 3.0
            if s.is_background:
                p.drawRect(int(c.x() - r), int(c.y() - r), int(2 * r), int(2 * r))
            else:
                p.drawEllipse(QPointF(c.x(), c.y()), r, r)
