"""Keeps the 3-D view in sync with the project: segment surfaces, volume rendering, FE results, plan objects.

Surfaces of the label map are recomputed in a worker (debounced) after edits;
surfaces stored in the project (``project.surfaces``) are shown as they are.
Scene frame: LPS mm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

from rendering import scene
from rendering.surfaces import VTK_THREAD_LOCK

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow


CONTAINERS = {"body", "skin", "body_surface", "torso"}
"""Segments that enclose all others: faint in slices, translucent in 3D."""
SHELL_WORDS = ("body", "skin", "fat", "muscle", "torso")
"""Segments whose names contain these words wrap the organs: drawn translucent in 3D."""
CONTAINER_OPACITY = 0.12


def is_shell(name: str) -> bool:
    """Whether a segment wraps others (body, skin, fat, muscle layers)."""
    n = name.lower()
    return any(w in n for w in SHELL_WORDS)


class Scene3DController(QObject):
    """Owns what the 3-D view shows; state is kept while the renderer is not built yet and drawn once it is."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.main = window
        self.show_surfaces = True
        self.volume_preset: str | None = None
        self.surfaces: dict[str, Any] = {}
        self._surface_cache: dict[str, Any] = {}  # segmentation.surfaces.DisplayCache (unchanged masks reuse)
        self.fe: tuple[Any, str, float, bool] | None = None
        self._shown: set[str] = set()
        self._plan_actors: list[str] = []
        self._revision: tuple[int, int] | None = None
        self._camera_set = False
        self._deferred: set[Any] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(600)
        self._timer.timeout.connect(self.update_surfaces)
        window.project_changed.connect(self._on_project)
        window.labelmap_changed.connect(lambda: self._timer.start())
        window.edited.connect(self.update_plan)
        window.view3d.became_ready.connect(self.redraw_all)

    @property
    def fe_mesh(self) -> Any:
        """The FE result mesh shown, or None."""
        return self.fe[0] if self.fe else None

    def _plotter(self) -> Any:
        return self.main.view3d.plotter  # None until the 3-D view is built

    def _vtk_free(self, retry: Any) -> bool:
        """Take the VTK lock without blocking the GUI thread; if a worker holds it, call ``retry`` later.

        VTK pipelines are not thread-safe: running the plan/surface drawing on the GUI thread while
        a worker runs VTK filters (display surfaces) was seen to deadlock. The GUI never waits on the
        lock; it redraws once the worker is done. Pair every True with ``VTK_THREAD_LOCK.release()``.
        """
        from rendering.surfaces import VTK_THREAD_LOCK

        if VTK_THREAD_LOCK.acquire(blocking=False):
            return True
        if retry not in self._deferred:
            self._deferred.add(retry)

            def run() -> None:
                self._deferred.discard(retry)
                if self.main.view3d.plotter is not None:  # not after the window closed (VTK released)
                    retry()

            QTimer.singleShot(60, run)
        return False

    def _on_project(self) -> None:
        self.surfaces = {}
        self._surface_cache = {}
        self.fe = None
        self._revision = None
        self._camera_set = False
        self.redraw_all()
        self.update_surfaces()

    def redraw_all(self) -> None:
        """Draw the whole scene (after a new project, or when the renderer becomes available)."""
        p = self._plotter()
        if p is None:
            return
        self._draw()
        self.update_plan()
        self._draw_volume()
        self._draw_fe()

    # ------------------------------------------------------------------ plan
    def update_plan(self) -> None:
        """Redraw the plan objects of ``project.plan`` (trajectories, planes, landmarks, ablation zones)."""
        from rendering.plan_view import plan_to_objects

        p = self._plotter()
        if p is None or not self._vtk_free(self.update_plan):
            return
        try:
            self._update_plan_locked(p, plan_to_objects)
        finally:
            VTK_THREAD_LOCK.release()

    def _update_plan_locked(self, p: Any, plan_to_objects: Any) -> None:
        for name in self._plan_actors:
            p.remove_actor(name, render=False)
            p.remove_actor(f"{name}:label", render=False)
        self._plan_actors = []
        try:
            objects = plan_to_objects(self.main.project.plan)
        except Exception as exc:  # noqa: BLE001 - a bad plan must not break the view
            self.main.statusBar().showMessage(f"Plan not shown: {exc}", 10000)
            objects = []
        p.remove_actor(PLAN_LABELS_NAME, render=False)
        if objects:
            objects, labels = split_plan_labels(objects)
            scene.add_plan_objects(p, objects)
            self._plan_actors = [f"plan:{o.name}" for o in objects]
            if labels:
                add_plan_labels(p, labels)
        self.main.view3d.refresh()

    # ------------------------------------------------------------------ FE results
    def show_fe_result(self, mesh: Any, field: str = "displacement", scale: float = 1.0, ghost: bool = True) -> None:
        """Show a :class:`twin.meshes.TetMesh` result (deformed by ``scale``, coloured by ``field``, scalar bar)."""
        self.main.view3d.ensure_ready()
        self.fe = (mesh, field, scale, ghost)
        self._draw_fe()

    def clear_fe_result(self) -> None:
        """Remove the FE result and its scalar bar."""
        self.fe = None
        self._draw_fe()

    def _draw_fe(self) -> None:
        p = self._plotter()
        if p is None or not self._vtk_free(self._draw_fe):
            return
        try:
            self._draw_fe_locked(p)
        finally:
            VTK_THREAD_LOCK.release()

    def _draw_fe_locked(self, p: Any) -> None:
        p.remove_actor("fe", render=False)
        p.remove_actor("fe:ghost", render=False)
        for title in list(p.scalar_bars.keys()):
            p.remove_scalar_bar(title, render=False)
        if self.fe is not None:
            mesh, field, scale, ghost = self.fe
            scene.add_fe_result(p, mesh, field, scale, ghost, name="fe")
            self._ensure_camera()
        self.main.view3d.refresh()

    # ------------------------------------------------------------------ surfaces
    def update_surfaces(self) -> None:
        """Recompute display surfaces of the label map if it changed (worker), then redraw."""
        lm = self.main.labelmap
        if lm is None or not self.show_surfaces or not lm.segments:
            if lm is not None and not lm.segments:
                self.surfaces = {}
                self._revision = (id(lm), lm.revision)
            self._draw()
            return
        key = (id(lm), lm.revision)
        if key == self._revision:
            return
        self._revision = key
        snapshot = lm.copy()
        cache = dict(self._surface_cache)  # the worker's own copy; adopted only if its result is used

        def work(progress: Any) -> tuple[dict[str, Any], dict[str, Any]]:
            from segmentation.surfaces import display_surfaces  # runs under VTK_THREAD_LOCK (worker)

            return display_surfaces(snapshot, max_triangles=30_000, progress=progress, cache=cache), cache

        def done(out: tuple[dict[str, Any], dict[str, Any]]) -> None:
            result, new_cache = out
            if self._revision == key:
                self.surfaces = result
                self._surface_cache = new_cache
                self.main.view3d.ensure_ready()
                self._draw()

        self.main.run_worker(work, done, "Updating 3D surfaces")

    def _draw(self) -> None:
        p = self._plotter()
        if p is None or not self._vtk_free(self._draw):
            return
        try:
            self._draw_locked(p)
        finally:
            VTK_THREAD_LOCK.release()

    def _draw_locked(self, p: Any) -> None:
        for name in list(self._shown):
            p.remove_actor(name, render=False)
        self._shown.clear()
        overlay = self.main.overlay
        items = dict(self.surfaces) if self.show_surfaces else {}
        for key, surf in self.main.project.surfaces.items():
            items.setdefault(surf.name or key, surf)
        lm = self.main.labelmap
        colors = {}
        if lm is not None:
            for s in lm.segments:
                st = overlay.segments.get(s.name)
                colors[s.name] = (st.color if st and st.color else s.color)
        for name, surf in items.items():
            if not overlay.is_visible(name):
                continue
            actor_name = f"surface:{name}"
            opacity = CONTAINER_OPACITY if is_shell(name) else 1.0
            scene.add_surface(p, surf, colors.get(name), opacity=opacity, name=actor_name, render=False)
            self._shown.add(actor_name)
        if self._shown:
            self._ensure_camera()
        self.main.view3d.refresh()

    def _ensure_camera(self) -> None:
        if not self._camera_set:
            scene.set_camera(self._plotter(), "anterior")
            self._camera_set = True

    def set_show_surfaces(self, on: bool) -> None:
        """Toggle the segment surfaces."""
        self.show_surfaces = on
        self._revision = None
        self.update_surfaces()
        self._draw()

    # ------------------------------------------------------------------ volume rendering
    def set_volume_preset(self, preset: str | None) -> None:
        """Volume rendering with a preset of :data:`rendering.scene.VOLUME_PRESETS`, or None to hide it."""
        self.volume_preset = preset
        if preset:
            self.main.view3d.ensure_ready()
        self._draw_volume()

    def _draw_volume(self) -> None:
        p = self._plotter()
        if p is None or not self._vtk_free(self._draw_volume):
            return
        try:
            p.remove_actor("volume", render=False)
            if self.volume_preset and self.main.volume is not None:
                scene.add_volume_rendering(p, self.main.volume, self.volume_preset)
                self._ensure_camera()
        finally:
            VTK_THREAD_LOCK.release()
        self.main.view3d.refresh()

    # ------------------------------------------------------------------ misc
    def flush(self) -> None:
        """Start a pending (debounced) surface update now."""
        if self._timer.isActive():
            self._timer.stop()
            self.update_surfaces()

    def shutdown(self) -> None:
        """Stop pending updates (the window is closing)."""
        self._timer.stop()
        self.show_surfaces = False

    def restyle(self) -> None:
        """Redraw after visibility / colour changes."""
        self._draw()


# ------------------------------------------------------------------ plan labels
PLAN_LABELS_NAME = "plan:labels"
LABEL_PRIORITY = {"trajectory": 3.0, "ablation": 2.0, "resection": 2.0}
"""Which label stays when two would overlap on screen (landmarks: 1)."""


def split_plan_labels(objects: list[Any]) -> tuple[list[Any], list[tuple[Any, str, float]]]:
    """Plan objects with their marker labels removed, and the labels ``[(point_lps (3,), text, priority)]``.

    The labels are drawn together by :func:`add_plan_labels` (one placement for all of them) instead of
    one independent text actor per marker, which piled up where markers are close on screen.
    """
    from dataclasses import replace

    import numpy as np

    out, labels = [], []
    for o in objects:
        text = getattr(o, "label", "")
        if text:
            kind = str(getattr(o, "name", "")).split(":")[0]
            labels.append((np.asarray(o.point_lps, float), str(text), LABEL_PRIORITY.get(kind, 1.0)))
            o = replace(o, label="")
        out.append(o)
    return out, labels


def add_plan_labels(plotter: Any, labels: list[tuple[Any, str, float]], font_size: int = 14) -> Any:
    """Draw every plan label with one VTK label placer (LPS mm anchors); returns the 2-D actor.

    A ``vtkLabelPlacementMapper`` lays out all the labels together: a label that would overlap a
    higher-priority one is not drawn at this zoom (it comes back when zooming in separates them), so the
    labels shown are always readable. Each label sits beside its anchor (left-justified, a few pixels to the
    right and above) so that it does not cover the marker itself; a translucent dark box keeps it readable
    over bright surfaces.
    """
    import numpy as np
    import pyvista as pv
    import vtkmodules.vtkRenderingFreeType  # noqa: F401 - text rendering backend
    from vtkmodules.vtkCommonCore import vtkDoubleArray, vtkStringArray
    from vtkmodules.vtkRenderingCore import vtkActor2D
    from vtkmodules.vtkRenderingLabel import vtkLabelHierarchy, vtkLabelPlacementMapper, vtkPointSetToLabelHierarchy

    pts = np.asarray([lab[0] for lab in labels], float).reshape(-1, 3)
    poly = pv.PolyData(pts)
    names = vtkStringArray()
    names.SetName("labels")
    for lab in labels:
        names.InsertNextValue(lab[1])
    poly.GetPointData().AddArray(names)
    prio = vtkDoubleArray()
    prio.SetName("priority")
    for lab in labels:
        prio.InsertNextValue(float(lab[2]))
    poly.GetPointData().AddArray(prio)
    hier = vtkPointSetToLabelHierarchy()
    hier.SetInputData(poly)
    hier.SetLabelArrayName("labels")
    hier.SetPriorityArrayName("priority")
    tp = hier.GetTextProperty()
    tp.SetFontSize(font_size)
    tp.SetColor(1.0, 1.0, 1.0)
    tp.SetBold(True)
    tp.SetShadow(True)
    tp.SetJustificationToLeft()
    tp.SetVerticalJustificationToBottom()
    mapper = vtkLabelPlacementMapper()
    mapper.SetInputConnection(hier.GetOutputPort())
    mapper.SetShapeToRoundedRect()
    mapper.SetStyleToFilled()
    mapper.SetBackgroundColor(0.05, 0.05, 0.08)
    mapper.SetBackgroundOpacity(0.55)
    mapper.SetMargin(3)
    mapper.SetPlaceAllLabels(False)  # overlapping lower-priority labels are left out, never drawn on top
    mapper.SetMaximumLabelFraction(0.6)  # default 5 % of the view: a small 3-D view then drops labels that fit
    mapper.SetIteratorType(vtkLabelHierarchy.FULL_SORT)  # strictly by priority (a handful of labels)
    mapper.UseDepthBufferOff()
    actor = vtkActor2D()
    actor.SetMapper(mapper)
    actor.SetPosition(6, 6)  # pixels: beside the marker, not over it
    plotter.add_actor(actor, name=PLAN_LABELS_NAME, reset_camera=False, render=False)
    return actor
