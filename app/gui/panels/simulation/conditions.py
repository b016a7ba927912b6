"""Supports, loads and indenters of the simulation panel: painted on the 3-D surface, placed at a clicked
surface point, or selected around the crosshair.

Mixed into :class:`app.gui.panels.simulation.SimulationPanel` (needs ``self.main``, ``self.mesh``,
``self.scene``, ``self.conditions``).

* **Paint**: with *Paint* on, a left drag on the mesh in the 3-D view paints boundary faces with a
  brush (radius mm; faces turned more than *max angle* from the surface under the cursor are not
  painted, so thin parts are not painted through); Shift-drag or *Erase* unpaints; *Undo stroke*
  removes the last drag. *Add patch* turns the patch into the chosen condition with a
  ``surface_spheres`` selector: the ordered dabs, which replay to exactly the highlighted faces on
  this mesh (:mod:`biomech.surface_patch`), in the case file, after save/reopen and in the .feb export.
  Force and pressure act on exactly the painted faces.
* **Place**: *Pick point* then a click on the surface fills point and outward normal (editable):
  a plane parallel to the tangent plane ``depth`` mm inside (the condition holds every node of the cap
  beyond it, or of the other side), a rigid sphere touching the surface there (or a rigid plate on the
  tangent plane) that moves ``depth`` mm along the inward normal; the fields can also be dragged with a
  VTK plane / sphere widget (:mod:`.placement`).
* **Crosshair**: the older selectors (sphere, plane, box, beyond plane) around the crosshair.

The list shows ``documents["simulation_case"]``: adding (*Add patch*, *Add*), removing, clearing,
changing the kind / value of the selected condition (click it, edit the fields, *Apply*) and re-painting
it (*Edit patch* then *Add patch*) are undoable commands
(:mod:`biomech.case_commands`), one undo step each; the strokes of the patch being painted have the
brush's own *Undo stroke*.

Frame: patient LPS, mm; N; MPa.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from app.gui.panels.segtools.common import button, hint_label, row, spin
from app.gui.panels.simulation import case_builder as cb
from app.gui.panels.simulation.placement import PlacementMixin
from app.gui.panels.simulation.placement import toggle_button as _toggle

MESH_ACTORS = ("sim:mesh", "sim:paint", "sim:cond")


def accepts_actor(actor: Any) -> bool:
    """Whether a picked actor is the set-up mesh surface (mesh, patch, condition markers; not indenters)."""
    return isinstance(actor, str) and actor.startswith(MESH_ACTORS) and not actor.endswith((":indenter", ":plane"))


class ConditionsMixin(PlacementMixin):
    """Condition page: paint, place, crosshair selectors, and the list of conditions."""

    main: Any
    mesh: Any
    scene: Any
    conditions: list[dict[str, Any]]

    # ================================================================== page
    def _condition_page(self) -> QWidget:
        from biomech.surface_patch import DEFAULT_MAX_ANGLE_DEG

        self.painter: Any = None
        self.patch_dabs: list[Any] = []
        self._stroke_starts: list[int] = []
        self._in_stroke = False
        self._click_purpose = ""
        self._editing_name: str | None = None
        self._patch_timer = QTimer()
        self._patch_timer.setSingleShot(True)
        self._patch_timer.setInterval(15)
        self._patch_timer.timeout.connect(self._draw_patch)
        w = QWidget()
        lay = QVBoxLayout(w)
        box = QGroupBox("Condition")
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.cond_kind = QComboBox()
        self.cond_kind.setObjectName("sim_cond_kind")
        self.cond_kind.addItems(list(cb.CONDITION_KINDS))
        self.cond_kind.currentTextChanged.connect(self._kind_changed)
        form.addRow("Kind", self.cond_kind)
        self.cond_vec = [spin(0.0, -1e6, 1e6, 0.5, 3, "", f"sim_cond_v{a}") for a in "xyz"]
        for a, s_ in zip("LPS", self.cond_vec):
            s_.setToolTip(f"{a} component (LPS frame)")
        self.vec_label = QLabel("Value")
        form.addRow(self.vec_label, row(*self.cond_vec))
        self.cond_scalar = spin(0.0, -1e3, 1e3, 0.001, 4, "MPa", "sim_cond_pressure")
        self.cond_scalar.setToolTip("Pressure on the faces (positive pushes inward)")
        form.addRow("Pressure", self.cond_scalar)
        lay.addWidget(box)
        lay.addWidget(self._paint_box(DEFAULT_MAX_ANGLE_DEG))
        lay.addWidget(self._place_box())
        lay.addWidget(self._crosshair_box())
        legend = QLabel("Conditions (3D: blue supports, orange loads, yellow indenters, magenta painting):")
        legend.setWordWrap(True)
        lay.addWidget(legend)
        self.cond_list = QListWidget()
        self.cond_list.setObjectName("sim_conditions")
        self.cond_list.setWordWrap(True)
        self.cond_list.setMinimumHeight(110)
        self.cond_list.itemDoubleClicked.connect(lambda _: self.edit_selected_patch(quiet=True))
        self.cond_list.itemClicked.connect(lambda _: self.show_selected_values())
        lay.addWidget(self.cond_list)
        lay.addLayout(row(button("Apply", self.update_selected_condition, "sim_cond_update",
                                 "Give the selected condition the kind and value above (same nodes / patch)"),
                          button("Remove", self.remove_condition, "sim_cond_remove", "Remove the selected condition"),
                          button("Edit patch", self.edit_selected_patch, "sim_cond_edit",
                                 "Load the selected painted condition back into the brush to change it"),
                          button("Clear", self.clear_conditions, "sim_cond_clear")))
        lay.addStretch(1)
        self._kind_changed(self.cond_kind.currentText())
        return w

    def _paint_box(self, default_angle: float) -> QGroupBox:
        box = QGroupBox("Paint on the 3-D surface")
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.paint_button = _toggle("Paint", "sim_paint", "Left drag on the mesh in the 3-D view paints; "
                                    "right drag / wheel still move the camera")
        self.paint_button.toggled.connect(self.set_painting)
        self.erase_button = _toggle("Erase", "sim_erase", "Unpaint (Shift + drag does the same while painting)")
        self.brush_radius = spin(5.0, 0.2, 200, 0.5, 1, "mm", "sim_brush_radius")
        self.brush_radius.setToolTip("Brush radius: faces whose centre is within it are painted")
        form.addRow(row(self.paint_button, self.erase_button, "Brush", self.brush_radius))
        self.brush_angle = spin(default_angle, 5, 180, 5, 0, "°", "sim_brush_angle")
        self.brush_angle.setToolTip("Faces turned more than this from the surface under the brush are not painted "
                                    "(no painting through thin parts or round sharp edges)")
        self.brush_angle.valueChanged.connect(lambda _: self._rebuild_painter())
        form.addRow("Max angle", self.brush_angle)
        self.patch_info = QLabel("Patch: empty")
        self.patch_info.setObjectName("sim_patch_info")
        form.addRow(self.patch_info)
        form.addRow(row(button("Undo stroke", self.undo_stroke, "sim_paint_undo"),
                        button("Clear patch", self.clear_patch, "sim_paint_clear"),
                        button("Add patch", self.add_patch_condition, "sim_paint_add",
                               "Turn the painted faces into a condition of the kind above")))
        form.addRow(hint_label("Left drag paints, Shift + drag erases; [ ] brush size, E erase, Esc stop. A force "
                               "is spread over the painted area; a pressure acts on exactly the painted faces. "
                               "Double-click a painted condition to edit it."))
        return box

    def _crosshair_box(self) -> QGroupBox:
        box = QGroupBox("Nodes around the crosshair")
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.cond_select = QComboBox()
        self.cond_select.setObjectName("sim_cond_select")
        self.cond_select.addItems(["sphere", "plane", "box", "beyond plane"])
        self.cond_axis = QComboBox()
        self.cond_axis.setObjectName("sim_cond_axis")
        self.cond_axis.addItems(list(cb.AXES))
        self.cond_axis.setToolTip("Plane normal (plane selectors) / side (beyond plane: the lower side)")
        form.addRow("Nodes", row(self.cond_select, self.cond_axis))
        self.cond_radius = spin(8.0, 0.1, 500, 1, 1, "mm", "sim_cond_radius")
        self.cond_radius.setToolTip("Sphere radius, box half size, plane tolerance; indenter radius")
        form.addRow("Radius / size", self.cond_radius)
        self.pick_button = _toggle("Pick in 3D", "sim_pick", "Click on the 3-D surface to move the crosshair there")
        self.pick_button.toggled.connect(lambda on: self._set_click_mode("crosshair" if on else ""))
        form.addRow(row(button("Add", self.add_condition_from_widgets, "sim_cond_add"), self.pick_button))
        return box

    def _kind_changed(self, kind: str) -> None:
        self.vec_label.setText({"displacement": "Displacement mm", "force": "Force N",
                                "indenter": "Travel mm"}.get(kind, "Value"))
        for s in self.cond_vec:
            s.setEnabled(kind in ("displacement", "force", "indenter"))
        self.cond_scalar.setEnabled(kind == "pressure")

    def _values(self) -> tuple[str, np.ndarray, float]:
        return self.cond_kind.currentText(), np.array([s.value() for s in self.cond_vec]), self.cond_scalar.value()

    def _next_name(self, kind: str) -> str:
        names = {c.get("name") for c in self.conditions}
        n = 1
        while f"{kind}_{n}" in names:
            n += 1
        return f"{kind}_{n}"

    # ================================================================== 3-D mouse tools
    def _view_tools_available(self) -> bool:
        view = self.main.view3d
        view.ensure_ready()
        if not hasattr(view, "set_mouse_tool"):
            self.main.statusBar().showMessage("This 3-D view has no mouse tools", 8000)
            return False
        return True

    def _ensure_setup_shown(self) -> None:
        """Painting and picking work on the undeformed set-up mesh: show it instead of a result."""
        if self.mesh is not None and "sim:mesh" not in self.scene.names:
            self.main.scene3d.clear_fe_result()
            self.scene.show_mesh(self.mesh, self.bad_cells())
            self._refill_conditions()

    def _release_tool(self, keep: str) -> None:
        for name, b in (("paint", self.paint_button), ("place", self.place_pick), ("crosshair", self.pick_button)):
            if name != keep and b.isChecked():
                b.blockSignals(True)
                b.setChecked(False)
                b.blockSignals(False)
        if keep != "place" and self._click_purpose == "place":
            self._click_purpose = ""
        if keep != "crosshair" and self._click_purpose == "crosshair":
            self._click_purpose = ""

    def set_painting(self, on: bool) -> None:
        """Give the 3-D view's left button to the surface brush (or back to the camera)."""
        from app.gui.tools.surface_paint import SurfacePaintTool

        if self.paint_button.isChecked() != on:
            self.paint_button.setChecked(on)  # re-enters through the toggled signal
            return
        if on and (self.mesh is None or not self._view_tools_available()):
            if self.mesh is None:
                self.main.show_error("Mesh the segments first")
            self.paint_button.setChecked(False)
            return
        self._release_tool("paint")
        view = self.main.view3d
        if not on:
            tool = getattr(self, "paint_tool", None)
            if tool is not None and getattr(view, "mouse_tool", None) is tool:
                view.set_mouse_tool(None)
            return
        self._ensure_setup_shown()
        self._painter()
        self.paint_tool = SurfacePaintTool(self.paint_dab, self._normal_at, self.brush_radius.value,
                                           self.erase_button.isChecked, accepts_actor, self._stroke_end,
                                           self._ray_picker().pick, self._paint_key)
        view.set_mouse_tool(self.paint_tool)
        self.main.statusBar().showMessage("Paint: left drag on the mesh; Shift + drag erases; [ ] brush size, "
                                          "E erase, Esc stop; right drag rotates", 8000)

    def _paint_key(self, event: Any) -> bool:
        """3-D view keys while painting: Esc stops, [ and ] shrink / grow the brush, E toggles erase."""
        from PySide6.QtCore import Qt

        k = event.key()
        if k == Qt.Key.Key_Escape:
            self.set_painting(False)
        elif k in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight):
            f = 1.25 if k == Qt.Key.Key_BracketRight else 0.8
            self.brush_radius.setValue(self.brush_radius.value() * f)
        elif k == Qt.Key.Key_E:
            self.erase_button.toggle()
        else:
            return False
        return True

    def _set_click_mode(self, purpose: str) -> None:
        from app.gui.tools.surface_paint import SurfaceClickTool

        view = self.main.view3d
        if purpose and (self.mesh is None and purpose == "place" or not self._view_tools_available()):
            if self.mesh is None:
                self.main.show_error("Mesh the segments first")
            for b in (self.place_pick, self.pick_button):
                b.blockSignals(True)
                b.setChecked(False)
                b.blockSignals(False)
            return
        if purpose:
            self._release_tool(purpose)
        else:
            for b in (self.place_pick, self.pick_button):
                b.blockSignals(True)
                b.setChecked(False)
                b.blockSignals(False)
        self._click_purpose = purpose
        if not purpose:
            tool = getattr(self, "click_tool", None)
            if tool is not None and getattr(view, "mouse_tool", None) is tool:
                view.set_mouse_tool(None)
            return
        if purpose == "place":
            self._ensure_setup_shown()
        accepts = accepts_actor if purpose == "place" else (lambda a: True)
        self.click_tool = SurfaceClickTool(self.surface_clicked, self._normal_at, accepts,
                                           lambda: max(5.0, 2.0 * self.ind_radius.value()),
                                           self._ray_picker().pick if purpose == "place" else None)
        view.set_mouse_tool(self.click_tool)

    def toggle_pick(self) -> None:
        """Click on the 3-D surface to move the crosshair to the picked point (toggles)."""
        self.pick_button.setChecked(not self.pick_button.isChecked())

    def surface_clicked(self, point_lps: np.ndarray, normal: np.ndarray) -> None:
        """A click of the surface tool: fill the placement fields, or move the crosshair."""
        if self._click_purpose == "crosshair":
            self.main.set_position(np.asarray(point_lps, float))
            return
        for s_, v in zip(self.place_point + self.place_normal, [*point_lps, *normal]):
            s_.blockSignals(True)
            s_.setValue(float(v))
            s_.blockSignals(False)
        self._show_placement()

    # ================================================================== painting
    def _painter(self) -> Any:
        if self.painter is None and self.mesh is not None:
            from biomech.surface_patch import SurfacePainter

            self.painter = SurfacePainter(self.mesh.points_lps, self.scene.boundary_faces(self.mesh),
                                          float(self.brush_angle.value()))
            self.painter.apply_all(self.patch_dabs)
        return self.painter

    def _ray_picker(self) -> Any:
        """Direct ray picking of the mesh boundary (cached per mesh)."""
        from app.gui.tools.surface_paint import MeshRayPicker

        cached = getattr(self, "_picker_cache", None)
        if cached is None or cached[0] is not self.mesh:
            self._picker_cache = (self.mesh, MeshRayPicker(self.mesh.points_lps, self.scene.boundary_faces(self.mesh)))
        return self._picker_cache[1]

    def _normal_at(self, point_lps: np.ndarray) -> np.ndarray:
        p = self._painter()
        return p.normal_at(point_lps) if p is not None else np.array([0.0, 0.0, 1.0])

    def _rebuild_painter(self) -> None:
        """Replay the dabs after a change of the max angle (the highlight stays what will be stored)."""
        self.painter = None
        self._painter()
        self._patch_changed()

    def reset_painting(self, keep_dabs: bool = False) -> None:
        """New mesh: stop the 3-D tools (their pickers belong to the old mesh) and rebuild the painter; the patch
        being painted is replayed on the new mesh (``keep_dabs``) or forgotten."""
        self.set_painting(False)
        if self._click_purpose == "place":
            self._set_click_mode("")
        self.painter = None
        if not keep_dabs:
            self.patch_dabs, self._stroke_starts, self._in_stroke = [], [], False
            self._editing_name = None
        elif self.patch_dabs:
            self._painter()
        self._patch_changed()

    def paint_dab(self, center_lps: np.ndarray, normal: np.ndarray, radius_mm: float, erase: bool = False) -> bool:
        """Apply one brush dab (LPS mm); a dab that changes nothing is not stored. Returns whether it changed."""
        from biomech.surface_patch import Dab, canonical_dab

        painter = self._painter()
        if painter is None:
            return False
        if not self._in_stroke:
            self._stroke_starts.append(len(self.patch_dabs))  # first dab of a stroke
            self._in_stroke = True
        dab = canonical_dab(Dab(tuple(center_lps), float(radius_mm), tuple(normal), bool(erase)))
        if len(painter.apply(dab)) == 0:
            return False
        self.patch_dabs.append(dab)
        self._patch_timer.start()
        return True

    def _stroke_end(self) -> None:
        if self._in_stroke and self._stroke_starts and self._stroke_starts[-1] == len(self.patch_dabs):
            self._stroke_starts.pop()  # the stroke changed nothing
        self._in_stroke = False
        self._patch_changed()

    def undo_stroke(self) -> None:
        """Remove the last stroke's dabs (replayed from the start: the patch is exactly as before it)."""
        if not self._stroke_starts:
            return
        self.patch_dabs = self.patch_dabs[:self._stroke_starts.pop()]
        self._in_stroke = False
        self._rebuild_painter()

    def clear_patch(self) -> None:
        """Unpaint everything (and stop editing a stored patch)."""
        self.patch_dabs, self._stroke_starts, self._in_stroke = [], [], False
        self._editing_name = None
        if self.painter is not None:
            self.painter.clear()
        self._patch_changed()

    def patch_selector(self) -> dict[str, Any] | None:
        """The ``surface_spheres`` selector of the current patch (None if nothing is painted)."""
        from biomech.surface_patch import params_from_dabs

        if self.painter is None or not self.painter.mask.any():
            return None
        return {"surface_spheres": params_from_dabs(self.patch_dabs, float(self.brush_angle.value()))}

    def add_patch_condition(self) -> dict[str, Any] | None:
        """Add the painted patch as a condition of the chosen kind (one undo step); the brush starts a new
        patch. After *Edit patch*, the edited condition is replaced instead (same name if the kind is kept)."""
        from biomech.case_commands import UpdateCondition

        kind, vec, scalar = self._values()
        if kind == "indenter":
            self.main.show_error("An indenter is placed at a surface point (Plane or indenter box)")
            return None
        sel = self.patch_selector()
        if sel is None:
            self.main.show_error("Paint the surface first (Paint, then left drag on the mesh)")
            return None
        editing = {c["name"]: c for c in self.conditions}.get(self._editing_name or "")
        if editing is not None:
            name = editing["name"] if editing.get("kind") == kind else self._next_name(kind)
            cond = cb.make_condition(kind, name, sel, vec, scalar)
            why = cb.zero_load_message(cond)
            if why:
                self.main.show_error(why)
                return None
            ok = self.main.push_command(UpdateCondition(self.main.project, editing["name"], cond,
                                                        f"Edit patch {editing['name']}"))
        else:
            cond = cb.make_condition(kind, self._next_name(kind), sel, vec, scalar)
            ok = self.add_condition(cond)
        if not ok:
            return None
        self.clear_patch()
        return cond

    def edit_selected_patch(self, quiet: bool = False) -> None:
        """Load the selected painted condition back into the brush (``quiet``: no message when the selection is
        not a painted condition); *Add patch* then replaces it (one undo step), *Clear patch* abandons the edit."""
        from biomech.surface_patch import dabs_from_params

        r = self.cond_list.currentRow()
        conditions = self.conditions
        if not 0 <= r < len(conditions) or "surface_spheres" not in conditions[r].get("select", {}):
            if not quiet:
                self.main.show_error("Select a painted condition in the list")
            return
        if self.painter is not None and self.painter.mask.any():
            self.main.show_error("Add or clear the patch being painted first")
            return
        cond = conditions[r]
        q = cond["select"]["surface_spheres"]
        self.brush_angle.blockSignals(True)
        self.brush_angle.setValue(float(q.get("max_angle", 180.0)) if q.get("normals") else 180.0)
        self.brush_angle.blockSignals(False)
        self.cond_kind.setCurrentText(cond.get("kind", "fixed"))
        if cond.get("kind") in ("displacement", "force"):
            for s_, v in zip(self.cond_vec, cond["value"]):
                s_.setValue(float(v))
        elif cond.get("kind") == "pressure":
            self.cond_scalar.setValue(float(cond["value"]))
        self.patch_dabs, self._stroke_starts, self._in_stroke = dabs_from_params(q), [0], False
        self._editing_name = cond["name"]
        self._rebuild_painter()
        self.set_painting(True)

    def _patch_changed(self) -> None:
        self._patch_timer.stop()
        self._draw_patch()

    def _draw_patch(self) -> None:
        p = self.painter
        editing = f" - editing {self._editing_name}, Add patch replaces it" if self._editing_name else ""
        if p is None or not p.mask.any():
            self.patch_info.setText("Patch: empty" + editing)
            self.scene.show_patch(None, None)
            return
        nodes = p.node_mask().sum()
        self.patch_info.setText(f"Patch: {int(p.mask.sum())} faces, {int(nodes)} nodes, "
                                f"{p.painted_area_mm2():.1f} mm² ({len(self.patch_dabs)} dabs){editing}")
        self.scene.show_patch(p.points, p.faces[p.mask])

    # ================================================================== crosshair selectors
    def selector_at(self, kind: str, center_lps: np.ndarray, size_mm: float, axis: str) -> dict[str, Any]:
        """A node selector of ``kind`` (sphere, plane, box, beyond plane) around ``center_lps``."""
        n = np.array(cb.AXES[axis])
        if kind == "sphere":
            return cb.sphere_selector(center_lps, size_mm)
        if kind == "plane":
            return cb.plane_selector(center_lps, n, size_mm)
        if kind == "box":
            return cb.box_selector(center_lps, size_mm)
        if kind == "beyond plane":
            return cb.half_space_selector(center_lps, n)
        raise ValueError(f"unknown selector {kind!r}")

    def add_condition_from_widgets(self) -> dict[str, Any]:
        """Add the condition described by the widgets, at the crosshair."""
        kind, vec, scalar = self._values()
        c = self.main.current_position_lps.copy()
        size = self.cond_radius.value()
        if kind == "indenter":
            # the indenter sphere sits at the crosshair; candidate nodes: within 3 radii plus the travel
            sel = cb.sphere_selector(c, 3.0 * size + float(np.linalg.norm(vec)))
        else:
            sel = self.selector_at(self.cond_select.currentText(), c, size, self.cond_axis.currentText())
        cond = cb.make_condition(kind, self._next_name(kind), sel, vec, scalar, size, c)
        self.add_condition(cond)
        return cond

    # ================================================================== list (undoable commands)
    def add_condition(self, cond: dict[str, Any]) -> bool:
        """Add a tagged condition (see :func:`case_builder.make_condition`): one undo step. Returns success
        (a load of zero is refused with a message: it would solve to a zero field that looks like a result)."""
        from biomech.case_commands import AddCondition

        why = cb.zero_load_message(cond)
        if why:
            self.main.show_error(why)
            return False
        return self.main.push_command(AddCondition(self.main.project, cond))

    def remove_condition(self) -> bool:
        """Remove the selected condition (one undo step)."""
        from biomech.case_commands import RemoveCondition

        r = self.cond_list.currentRow()
        conditions = self.conditions
        if 0 <= r < len(conditions):
            return self.main.push_command(RemoveCondition(self.main.project, conditions[r]["name"]))
        return False

    def show_selected_values(self) -> None:
        """Put the selected condition's kind and value in the widgets (to change them with *Apply*)."""
        r = self.cond_list.currentRow()
        conditions = self.conditions
        if not 0 <= r < len(conditions):
            return
        c = conditions[r]
        kind = "indenter" if c["_section"] == "contacts" else str(c.get("kind", "fixed"))
        if kind not in cb.CONDITION_KINDS:
            return
        self.cond_kind.setCurrentText(kind)
        vec = c.get("displacement") if kind == "indenter" else c.get("value")
        if kind in ("indenter", "displacement", "force") and isinstance(vec, list) and len(vec) == 3:
            for s_, v in zip(self.cond_vec, vec):
                s_.setValue(float(v))
        elif kind == "pressure":
            self.cond_scalar.setValue(float(c.get("value", 0.0)))

    def update_selected_condition(self) -> dict[str, Any] | None:
        """Give the selected condition the kind and value of the widgets, keeping its nodes (one undo step).

        An indenter keeps its shape and takes the new travel; a support or load may change kind among fixed,
        displacement, force and pressure (renamed after the new kind).
        """
        from biomech.case_commands import UpdateCondition

        r = self.cond_list.currentRow()
        conditions = self.conditions
        if not 0 <= r < len(conditions):
            self.main.show_error("Select a condition in the list")
            return None
        old = conditions[r]
        kind, vec, scalar = self._values()
        if (old["_section"] == "contacts") != (kind == "indenter"):
            self.main.show_error("An indenter stays an indenter (and a support or load cannot become one)")
            return None
        if kind == "indenter":
            new = {**old, "displacement": [round(float(x), 6) for x in vec]}
        else:
            name = old["name"] if old.get("kind") == kind else self._next_name(kind)
            new = cb.make_condition(kind, name, old["select"], vec, scalar)
            for key in ("components",):  # keep what the widgets do not show
                if key in old and kind in ("fixed", "displacement"):
                    new[key] = old[key]
        if new == old:
            return old
        why = cb.zero_load_message(new)
        if why:
            self.main.show_error(why)
            return None
        return new if self.main.push_command(UpdateCondition(self.main.project, old["name"], new)) else None

    def clear_conditions(self) -> bool:
        """Remove every condition (one undo step)."""
        from biomech.case_commands import ClearConditions

        if not self.conditions:
            return False
        return self.main.push_command(ClearConditions(self.main.project))

    def _refill_conditions(self) -> None:
        counts = self._refresh_conditions_view()
        row = self.cond_list.currentRow()
        self.cond_list.clear()
        for n, c in enumerate(self.conditions):
            text = cb.describe_condition(c)
            if counts is not None and n < len(counts):
                text += f"  [{counts[n]}]"
            self.cond_list.addItem(text)
        if self.cond_list.count():
            self.cond_list.setCurrentRow(min(max(row, 0), self.cond_list.count() - 1) if row >= 0 else -1)

    def _refresh_conditions_view(self) -> list[str] | None:
        if self.mesh is None:
            return None
        return self.scene.show_conditions(self.mesh, self.conditions)
