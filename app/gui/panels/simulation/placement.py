"""Plane and indenter placement of the simulation panel: at a clicked surface point, refined by numbers or by
dragging a VTK plane / sphere widget in the 3-D view.

Mixed into :class:`app.gui.panels.simulation.SimulationPanel` through
:class:`~app.gui.panels.simulation.conditions.ConditionsMixin`. The fields hold a surface point and its
outward normal (LPS mm): a *plane* condition holds every node within ``depth`` mm under the point
(the cap cut off by a plane parallel to the tangent plane; ``other side``: everything deeper), an
*indenter sphere* touches the surface there and moves ``depth`` mm along the inward normal, an
*indenter plate* is a rigid plane on the tangent plane moving the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QPushButton

from app.gui.panels.segtools.common import button, row, spin
from app.gui.panels.simulation import case_builder as cb

PLACE_KINDS = ("plane (cap beyond it)", "indenter sphere", "indenter plate")


def toggle_button(text: str, name: str, tip: str) -> QPushButton:
    """A checkable push button with an object name and a tooltip."""
    b = QPushButton(text)
    b.setObjectName(name)
    b.setCheckable(True)
    b.setToolTip(tip)
    return b


class PlacementMixin:
    """The "Plane or indenter at a surface point" box (needs ``main``, ``mesh``, ``scene``, ``conditions``)."""

    main: Any
    mesh: Any
    scene: Any
    conditions: list[dict[str, Any]]

    def _place_box(self) -> QGroupBox:
        box = QGroupBox("Plane or indenter at a surface point")
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.place_what = QComboBox()
        self.place_what.setObjectName("sim_place_what")
        self.place_what.addItems(list(PLACE_KINDS))
        self.place_what.currentTextChanged.connect(lambda _: self._show_placement())
        self.place_pick = toggle_button("Pick point", "sim_place_pick",
                                        "Click the mesh surface in the 3-D view: point and outward normal")
        self.place_pick.toggled.connect(lambda on: self._set_click_mode("place" if on else ""))
        form.addRow(row(self.place_what, self.place_pick))
        self.place_point = [spin(0.0, -1e4, 1e4, 1, 2, "", f"sim_place_p{a}") for a in "xyz"]
        self.place_normal = [spin(0.0, -1, 1, 0.05, 4, "", f"sim_place_n{a}") for a in "xyz"]
        self.place_normal[2].setValue(1.0)
        for s_ in self.place_point + self.place_normal:
            s_.valueChanged.connect(lambda _: self._show_placement())
        form.addRow("Point LPS mm", row(*self.place_point))
        form.addRow("Outward normal", row(*self.place_normal))
        self.place_depth = spin(5.0, 0.0, 500, 0.5, 2, "mm", "sim_place_depth")
        self.place_depth.setToolTip("Plane: depth of the cut plane under the surface point. "
                                    "Indenter: travel along the inward normal")
        self.place_depth.valueChanged.connect(lambda _: self._show_placement())
        self.place_flip = QCheckBox("other side")
        self.place_flip.setObjectName("sim_place_flip")
        self.place_flip.setToolTip("Plane: hold everything deeper than the plane instead of the cap")
        self.place_flip.toggled.connect(lambda _: self._show_placement())
        form.addRow("Depth / travel", row(self.place_depth, self.place_flip))
        self.ind_radius = spin(5.0, 0.2, 200, 0.5, 1, "mm", "sim_ind_radius")
        self.ind_radius.setToolTip("Indenter sphere radius; plate: half size of the contact zone")
        self.ind_radius.valueChanged.connect(lambda _: self._show_placement())
        self.place_widget = QCheckBox("drag in 3D")
        self.place_widget.setObjectName("sim_place_widget")
        self.place_widget.setToolTip("Move the plane / indenter with a VTK widget in the 3-D view (left drag on it; "
                                     "the plane's arrow turns it)")
        self.place_widget.toggled.connect(lambda _: self._show_placement())
        self.ind_on_patch = QCheckBox("contact on painted patch")
        self.ind_on_patch.setObjectName("sim_ind_patch")
        self.ind_on_patch.setToolTip("Indenter: only the painted faces can touch it (otherwise the faces near the "
                                     "point); the patch is used up")
        form.addRow("Indenter radius", row(self.ind_radius, self.ind_on_patch))
        form.addRow(row(self.place_widget, button("Add", self.add_placed_condition, "sim_place_add")))
        return box

    def _update_widget(self) -> None:
        """(Re)build the placement widget at the fields' position, or remove it."""
        if not self.place_widget.isChecked() or self.mesh is None:
            if getattr(self.scene, "_widget", None) is not None:
                self.scene.set_widget(None, np.zeros(3), np.zeros(3), 0.0, None)
            return
        p, n = self.placement()
        what = self.place_what.currentText()
        r = self.ind_radius.value()
        if what == "indenter sphere":
            ok = self.scene.set_widget("sphere", p + r * n, n, r, self._widget_moved)
        else:
            origin = p - self.place_depth.value() * n if what.startswith("plane") else p
            lo, hi = self.mesh.points_lps.min(axis=0), self.mesh.points_lps.max(axis=0)
            ok = self.scene.set_widget("plane", origin, -n if self.place_flip.isChecked() and what.startswith("plane")
                                       else n, r, self._widget_moved, bounds=np.column_stack([lo, hi]).ravel())
        if not ok:
            self.main.statusBar().showMessage("Dragging needs the interactive 3-D view; use the fields", 8000)
            self.place_widget.setChecked(False)

    def _widget_moved(self, origin: np.ndarray, normal: np.ndarray | None = None) -> None:
        """Widget callback: the fields follow the dragged plane (cut plane or plate) or sphere (indenter centre)."""
        p, n = self.placement()
        what = self.place_what.currentText()
        if normal is None:  # sphere centre -> surface point under it along the kept normal
            p = origin - self.ind_radius.value() * n
        else:
            n = normal / (np.linalg.norm(normal) or 1.0)
            if what.startswith("plane"):
                n = -n if self.place_flip.isChecked() else n
                p = origin + self.place_depth.value() * n
            else:
                p = origin
        for s_, v in zip(self.place_point + self.place_normal, [*p, *n]):
            s_.blockSignals(True)
            s_.setValue(float(v))
            s_.blockSignals(False)
        self._show_placement(rebuild_widget=False)

    def placement(self) -> tuple[np.ndarray, np.ndarray]:
        """Point (LPS mm) and outward unit normal of the placement fields."""
        p = np.array([s.value() for s in self.place_point])
        n = np.array([s.value() for s in self.place_normal])
        norm = np.linalg.norm(n)
        return p, (n / norm if norm > 0 else np.array([0.0, 0.0, 1.0]))

    def placed_condition(self) -> dict[str, Any] | None:
        """The condition the placement fields describe (plane cap with the chosen kind, or an indenter)."""
        p, n = self.placement()
        depth, what = self.place_depth.value(), self.place_what.currentText()
        if what.startswith("plane"):
            kind, vec, scalar = self._values()
            if kind == "indenter":
                kind = "fixed"
            sel = cb.half_space_cap_selector(p, n, depth, other_side=self.place_flip.isChecked())
            return cb.make_condition(kind, self._next_name(kind), sel, vec, scalar)
        shape = "sphere" if what == "indenter sphere" else "plane"
        cond = cb.indenter_condition(self._next_name("indenter"), shape, p, n, self.ind_radius.value(), depth)
        patch = self.patch_selector() if self.ind_on_patch.isChecked() else None
        if patch is not None:
            cond["select"] = patch
        return cond

    def add_placed_condition(self) -> dict[str, Any] | None:
        """Add the plane / indenter of the placement fields."""
        if self.mesh is None:
            self.main.show_error("Mesh the segments first")
            return None
        if self.ind_on_patch.isChecked() and not self.place_what.currentText().startswith("plane") \
                and self.patch_selector() is None:
            self.main.show_error("Paint the contact surface first, or uncheck 'contact on painted patch'")
            return None
        cond = self.placed_condition()
        if cond is None or not self.add_condition(cond):  # one undo step; a refused condition keeps the patch
            return None
        if "surface_spheres" in cond.get("select", {}) and cond.get("_section") == "contacts":
            self.clear_patch()  # the patch became the contact surface
        return cond

    def _show_placement(self, rebuild_widget: bool = True) -> None:
        if self.mesh is None or not hasattr(self, "place_widget"):
            return
        if rebuild_widget:
            self._update_widget()
        self.scene.show_placement(self.mesh, self.placed_condition(), *self.placement(), self.place_depth.value())
