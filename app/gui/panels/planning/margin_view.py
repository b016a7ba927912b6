"""Distance colours in the 3-D view: critical structures coloured by their signed distance (mm) to a safety
margin's target (tumour) or to a resection's cut, red within the safety margin, with a scalar bar in mm.

The distances are :mod:`planning.distance_colours` (voxel models of the metrics: the smallest colour is the
number in the metrics and the report); the coloured actors are :mod:`rendering.distance_view`.
:class:`MarginView` is the "Distance colours (3D)" box of the planning panel for the selected
:class:`twin.plan.SafetyMargin` or :class:`twin.plan.Resection`: a toggle; distances computed in a worker
(on the surfaces the 3-D view already shows, ``window.scene3d.surfaces``, or
:func:`segmentation.surfaces.display_surfaces` when it has none); min distance per structure listed;
recomputed when the label map or the object changes while on (a threshold change only redraws).

Frame: patient LPS, mm.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from planning.distance_colours import cut_distances, structure_distances
from rendering.distance_view import (
    CUT_TITLE,
    add_cut_distance_surface,
    add_distance_surface,
    bar_title,
)

ACTOR_PREFIX = "margin:"


class MarginView(QGroupBox):
    """The planning panel's "Distance colours (3D)" box (see the module docstring)."""

    def __init__(self, panel: Any) -> None:
        super().__init__("Distance colours (3D)")
        self.setObjectName("margin_view")
        self.panel = panel
        self.main = panel.main
        self.obj: Any = None
        self.colored: dict[str, Any] = {}  # structure -> SurfaceModel with distance_mm (what is drawn)
        self._key: Any = None
        self._pending: Any = None
        self._actors: list[str] = []
        self._bar: str | None = None
        self._redraw_pending = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.toggle = QCheckBox("Colour the structures by distance to the target")
        self.toggle.setObjectName("margin_colours")
        self.toggle.setToolTip("Critical structures' surfaces coloured by signed distance (mm) to the target "
                               "segment or the cut; red within the safety margin")
        self.toggle.toggled.connect(self._toggled)
        self.cut_margin = QDoubleSpinBox()
        self.cut_margin.setObjectName("cut_margin")
        self.cut_margin.setRange(0.0, 100.0)
        self.cut_margin.setSingleStep(1.0)
        self.cut_margin.setDecimals(1)
        self.cut_margin.setValue(10.0)
        self.cut_margin.setSuffix(" mm")
        self.cut_margin.setKeyboardTracking(False)
        self.cut_margin.setToolTip("Structures closer than this to the cut are red")
        self.cut_margin.valueChanged.connect(lambda _v: self._draw())
        self.cut_row = QWidget()
        row = QHBoxLayout(self.cut_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Red within"))
        row.addWidget(self.cut_margin)
        row.addWidget(QLabel("of the cut"))
        row.addStretch(1)
        self.info = QLabel("")
        self.info.setObjectName("margin_colours_info")
        self.info.setWordWrap(True)
        lay.addWidget(self.toggle)
        lay.addWidget(self.cut_row)
        lay.addWidget(self.info)
        self.setVisible(False)

    # ------------------------------------------------------------------ state
    def kind(self) -> str:
        """``"safety_margins"``, ``"resections"`` or ``""`` (nothing to colour)."""
        return getattr(self.obj, "collection", "") if self.obj is not None else ""

    def structures(self) -> list[str]:
        """Segments coloured for the current object."""
        if self.kind() == "safety_margins":
            return list(self.obj.critical_segments)
        if self.kind() == "resections":
            return [n for n in (self.obj.tumour_segment, *self.obj.vessel_segments) if n]
        return []

    def threshold_mm(self) -> float:
        """Red below (margin) / within (cut) this many mm."""
        return float(self.obj.threshold_mm) if self.kind() == "safety_margins" else float(self.cut_margin.value())

    def set_object(self, obj: Any) -> None:
        """The selected plan object changed (or was edited): shown for safety margins and resections."""
        kind = getattr(obj, "collection", "") if obj is not None else ""
        shown = kind in ("safety_margins", "resections")
        if obj is None or getattr(self.obj, "id", None) != obj.id:
            self._remove_actors()
            self.colored = {}
            self._key = None
        self.setVisible(shown)
        self.obj = obj if shown else None
        if not shown:
            return
        self.cut_row.setVisible(kind == "resections")
        self.toggle.setText("Colour the structures by distance to the " +
                            ("target" if kind == "safety_margins" else "cut"))
        names = self.structures()
        self.toggle.setEnabled(bool(names))
        if not names:
            self.info.setText("Choose critical structures (list below) to colour them." if kind == "safety_margins"
                              else "Give the resection a tumour or vessels to colour them.")
        if self.toggle.isChecked():
            self.update_colours()

    def clear(self) -> None:
        """A new project: drop colours and cache."""
        self._remove_actors()
        self.colored = {}
        self._key = None
        self.obj = None

    def _toggled(self, on: bool) -> None:
        if on:
            self.update_colours()
        else:
            self._remove_actors()
            self.info.setText("")

    def _distance_key(self) -> str:
        import json

        lm = self.main.labelmap
        d = {k: v for k, v in self.obj.to_dict().items() if k not in ("name", "metrics", "threshold_mm")}
        return json.dumps([id(lm), lm.revision if lm is not None else None, d], sort_keys=True, default=str)

    # ------------------------------------------------------------------ compute
    def update_colours(self) -> Any:
        """(Re)compute the distances in a worker if the object or the label map changed, then draw.
        Returns the worker, or None when nothing had to be computed."""
        obj, lm = self.obj, self.main.labelmap
        structures = self.structures()
        if obj is None or lm is None or not structures:
            return None
        key = self._distance_key()
        if key == self._key:
            self._draw()
            return None
        if key == self._pending:
            return None
        names = {s.name for s in lm.segments}
        target = obj.target_segment if self.kind() == "safety_margins" else None
        missing = [n for n in ([target] if target else []) + structures if n not in names]
        if missing:
            self.info.setText(f"Segments not found: {', '.join(missing)}")
            return None
        self._pending = key
        snapshot = lm.copy()
        shown = dict(getattr(self.main.scene3d, "surfaces", {}) or {})

        def work(progress: Any) -> dict[str, Any]:
            from segmentation.surfaces import display_surfaces

            surfaces = {n: shown[n] for n in structures if getattr(shown.get(n), "n_triangles", 0)}
            missing = [n for n in structures if n not in surfaces]
            if missing:  # the 3-D view has none yet (surfaces off, still computing): the same display path
                surfaces.update(display_surfaces(snapshot, missing))
            surfaces = {n: surfaces[n] for n in structures if n in surfaces and surfaces[n].n_triangles}
            if target:
                return structure_distances(snapshot, target, surfaces, progress)
            return cut_distances(snapshot, obj, surfaces, progress)

        def done(result: dict[str, Any]) -> None:
            if self._pending != key:
                return
            self._pending = None
            self._key = key
            self.colored = result
            self._draw()

        def failed(msg: str) -> None:
            self._pending = None
            self.info.setText(msg)

        return self.main.run_worker(work, done, "Distance colours", on_error=failed,
                                    on_cancel=lambda: setattr(self, "_pending", None))

    def drawn(self) -> bool:
        """Whether the current colours are in the 3-D view (drawing waits while a job holds the VTK lock)."""
        return bool(self._actors) and self._redraw_pending == 0

    def min_distances(self) -> dict[str, float]:
        """Smallest signed distance (mm) of each coloured structure (what the colours show)."""
        return {n: float(np.min(s.point_data["distance_mm"])) for n, s in self.colored.items()
                if len(s.point_data["distance_mm"])}

    def _info_rows(self, thr: float) -> list[str]:
        red = "<b style='color:#d00'>{}</b>"
        rows = []
        for n, s in self.colored.items():
            d = np.asarray(s.point_data["distance_mm"])
            if not len(d):
                continue
            if self.kind() == "safety_margins":
                flag = " " + red.format("below the margin") if d.min() < thr else ""
                rows.append(f"{n}: min {d.min():.1f} mm{flag}")
            elif d.min() < 0 < d.max():
                rows.append(f"{n}: {red.format('crosses the cut')}")
            else:
                side = "resected side" if d.min() >= 0 else "remnant side"
                near = float(np.abs(d).min())
                flag = " " + red.format("within the margin") if near < thr else ""
                rows.append(f"{n}: {side}, {near:.1f} mm from the cut{flag}")
        return rows

    # ------------------------------------------------------------------ draw
    def _draw(self) -> None:
        if self.obj is None or not self.toggle.isChecked() or not self.colored:
            return
        thr = self.threshold_mm()
        self.info.setText("<br>".join(self._info_rows(thr)) or "The structures are empty.")
        view = self.main.view3d
        view.ensure_ready()
        p = view.plotter
        if p is None:
            return
        from rendering.surfaces import VTK_THREAD_LOCK

        if not VTK_THREAD_LOCK.acquire(blocking=False):  # a worker runs VTK filters: draw a bit later
            from PySide6.QtCore import QTimer

            self._redraw_pending += 1
            QTimer.singleShot(80, self._deferred_draw)
            return
        try:
            self._remove_actors_locked(p)
            values = [np.asarray(s.point_data["distance_mm"]) for s in self.colored.values()]
            finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.zeros(0)
            for n, s in self.colored.items():
                name = f"{ACTOR_PREFIX}{n}"
                if self.kind() == "safety_margins":
                    far = min(float(finite.max()), thr + 60.0) if finite.size else 0.0
                    self._bar = bar_title(self.obj.target_segment)
                    add_distance_surface(p, s, thr, self._bar, name, max(thr + 20.0, thr * 4.0, far))
                else:
                    far = min(float(np.abs(finite).max()), 80.0) if finite.size else 0.0
                    self._bar = CUT_TITLE
                    add_cut_distance_surface(p, s, thr, max(thr * 3.0, thr + 10.0, far), name)
                self._actors.append(name)
                plain = p.actors.get(f"surface:{n}")
                if plain is not None:
                    plain.SetVisibility(False)
        finally:
            VTK_THREAD_LOCK.release()
        view.refresh()

    def _deferred_draw(self) -> None:
        self._redraw_pending -= 1
        self._draw()

    def _remove_actors(self) -> None:
        p = self.main.view3d.plotter
        if p is None or (not self._actors and self._bar is None):
            return
        from rendering.surfaces import VTK_THREAD_LOCK

        if not VTK_THREAD_LOCK.acquire(blocking=False):  # never wait on the GUI thread: retry shortly
            from PySide6.QtCore import QTimer

            QTimer.singleShot(80, self._remove_actors)
            return
        try:
            self._remove_actors_locked(p)
        finally:
            VTK_THREAD_LOCK.release()
        self.main.view3d.refresh()

    def _remove_actors_locked(self, p: Any) -> None:
        for name in self._actors:
            p.remove_actor(name, render=False)
            plain = p.actors.get(f"surface:{name[len(ACTOR_PREFIX):]}")
            if plain is not None:
                plain.SetVisibility(True)
        self._actors = []
        if self._bar is not None and self._bar in p.scalar_bars:
            p.remove_scalar_bar(self._bar, render=False)
        self._bar = None
