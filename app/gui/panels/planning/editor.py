"""Property editor of one plan object: its points (pick in a view / set from the crosshair / go to) and parameters.

Frame: LPS mm. Every edit is a :class:`twin.plan_commands.ModifyPlanObject`
pushed through the panel (one undo step per edit). The form is rebuilt when
the selection changes or the object changed (undo, drag), not while typing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from twin.plan import TRAJECTORY_KINDS, CutPlane, PlanObject

AXIS_CHOICES = {"+L (patient left)": (1.0, 0.0, 0.0), "-L (right)": (-1.0, 0.0, 0.0),
                "+P (posterior)": (0.0, 1.0, 0.0), "-P (anterior)": (0.0, -1.0, 0.0),
                "+S (superior)": (0.0, 0.0, 1.0), "-S (inferior)": (0.0, 0.0, -1.0)}


def point_roles(obj: PlanObject) -> list[tuple[str, int, str, tuple[float, float, float]]]:
    """``(role, index, label, position_lps)`` of each point of ``obj``."""
    c = obj.collection
    if c == "landmarks":
        return [("position", 0, "Position", obj.position_lps)]
    if c == "measurements":
        labels = ["Point 1", "Point 2"] if obj.kind == "distance" else ["Arm 1", "Vertex", "Arm 2"]
        return [("point", i, labels[i], p) for i, p in enumerate(obj.points_lps)]
    if c == "trajectories":
        return [("entry", 0, "Entry", obj.entry_lps), ("target", 0, "Target", obj.target_lps)]
    if c == "resections":
        return [("origin", i, f"Plane {i + 1}", p.origin_lps) for i, p in enumerate(obj.planes)]
    if c == "ablation_zones":
        return [("center", 0, "Centre", obj.center_lps)]
    if c == "rehearsals":
        return [("point", 0, "Contact point", obj.point_lps)]
    return []


class ObjectEditor(QScrollArea):
    """Form of the selected object, inside a scroll area."""

    def __init__(self, panel: Any) -> None:
        super().__init__()
        self.panel = panel
        self.setObjectName("plan_editor")
        self.setWidgetResizable(True)
        self._shown: tuple[Any, ...] | None = None
        self.widgets: dict[str, QWidget] = {}
        self.show_object(None)

    @property
    def main(self) -> Any:
        """The main window."""
        return self.panel.main

    def show_object(self, obj: PlanObject | None) -> None:
        """Rebuild the form if ``obj`` (or its content) differs from the one shown."""
        key = None if obj is None else (obj.id, repr(obj), self.panel.plan.safety_margin_mm)  # plan's: shown
        if key == self._shown and self.widget() is not None:
            return
        self._shown = key
        self.widgets = {}
        old = self.takeWidget()  # may be the sender of the signal that got us here: delete it later
        if old is not None:
            old.hide()
            old.deleteLater()
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.setContentsMargins(2, 2, 2, 2)
        if obj is None:
            lay.addWidget(QLabel("No object selected."))
            lay.addStretch(1)
            self.setWidget(inner)
            return
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        for role, index, label, pos in point_roles(obj):
            form.addRow(label, self._point_row(obj, role, index, pos))
        getattr(self, f"_form_{obj.collection}", lambda o, f: None)(obj, form)
        lay.addLayout(form)
        lay.addStretch(1)
        self.setWidget(inner)

    # ------------------------------------------------------------------ rows
    def _point_row(self, obj: PlanObject, role: str, index: int, pos: Any) -> QWidget:
        w = QWidget()
        h = QHBoxLayout(w)
        h.setContentsMargins(0, 0, 0, 0)
        h.setSpacing(3)
        lab = QLabel("({:.1f}, {:.1f}, {:.1f})".format(*pos))
        lab.setToolTip("LPS mm")
        h.addWidget(lab, 1)
        for text, tip, fn in (
            ("Pick", "Click in a slice view to place this point", lambda: self.panel.pick_point(obj.id, role, index)),
            ("Here", "Set from the crosshair", lambda: self.panel.set_point_from_crosshair(obj.id, role, index)),
            ("Go", "Move the crosshair to this point", lambda: self.main.set_position(np.asarray(pos, float))),
        ):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.setMaximumWidth(46)
            b.clicked.connect(fn)
            h.addWidget(b)
            self.widgets[f"{role}{index}:{text}"] = b
        return w

    def _spin(self, key: str, value: float, lo: float, hi: float, suffix: str, apply: Any,
              decimals: int = 1) -> QWidget:
        s = QDoubleSpinBox()
        s.setRange(lo, hi)
        s.setDecimals(decimals)
        s.setSuffix(suffix)
        s.setValue(value)
        s.setKeyboardTracking(False)
        s.valueChanged.connect(lambda v: apply(float(v)))
        self.widgets[key] = s
        return s

    def _segments_combo(self, key: str, current: str | None, apply: Any, allow_none: bool = True) -> QWidget:
        c = QComboBox()
        names = self.panel.segment_names()
        if allow_none:
            c.addItem("(none)", None)
        for n in names:
            c.addItem(n, n)
        if current and current not in names:
            c.addItem(f"{current} (missing)", current)
        c.setCurrentIndex(max(0, c.findData(current)))
        c.currentIndexChanged.connect(lambda _i: apply(c.currentData()))
        self.widgets[key] = c
        return c

    def _edit(self, obj: PlanObject, **changes: Any) -> None:
        clear = {"metrics": {}} if hasattr(obj, "metrics") else {"result": {}} if hasattr(obj, "result") else {}
        try:
            new = replace(obj, **changes, **clear)
        except Exception as exc:  # noqa: BLE001 - invalid value: readable message, no change
            self.main.show_error(f"{obj.name}: {exc}")
            self._shown = None
            self.show_object(obj)
            return
        self.panel.modify(new)

    def _use_critical_button(self, obj: PlanObject, field: str, exclude: tuple[str | None, ...]) -> QWidget:
        b = QPushButton("Use the critical structures list")
        b.clicked.connect(lambda: self._edit(obj, **{field: tuple(
            s for s in self.panel.plan.critical_segments if s not in exclude)}))
        return b

    # ------------------------------------------------------------------ per type
    def _form_trajectories(self, t: Any, form: QFormLayout) -> None:
        kind = QComboBox()
        kind.addItems(list(TRAJECTORY_KINDS))
        kind.setCurrentText(t.kind)
        kind.currentTextChanged.connect(lambda k: self._edit(t, kind=k))
        self.widgets["kind"] = kind
        form.addRow("Tool", kind)
        form.addRow("Diameter", self._spin("diameter", t.diameter_mm, 0.1, 50, " mm",
                                           lambda v: self._edit(t, diameter_mm=v)))
        length = self._spin("length", t.length_mm or 0.0, 0.0, 1000, " mm",
                            lambda v: self._edit(t, length_mm=v or None))
        length.setSpecialValueText("not limited")
        form.addRow("Tool length", length)
        form.addRow("Target segment", self._segments_combo("target_segment", t.target_segment,
                                                           lambda v: self._edit(t, target_segment=v)))
        own = self._spin("safety_margin", -0.5 if t.safety_margin_mm is None else t.safety_margin_mm, -0.5, 50,
                         " mm", lambda v: self._edit(t, safety_margin_mm=None if v < 0 else v))
        own.setSingleStep(0.5)
        own.setSpecialValueText(f"plan ({self.panel.plan.safety_margin_mm:g} mm)")
        own.setToolTip("This trajectory's safety margin; lowest value = the plan's margin")
        form.addRow("Safety margin", own)

    def _form_resections(self, r: Any, form: QFormLayout) -> None:
        form.addRow("Organ", self._segments_combo("organ", r.organ_segment,
                                                  lambda v: self._edit(r, organ_segment=v), allow_none=False))
        form.addRow("Tumour", self._segments_combo("tumour", r.tumour_segment,
                                                   lambda v: self._edit(r, tumour_segment=v)))
        for i, plane in enumerate(r.planes):
            c = QComboBox()
            normal = tuple(round(x, 6) for x in plane.normal_lps)
            for text, v in AXIS_CHOICES.items():
                c.addItem(text, v)
            idx = next((k for k, v in enumerate(AXIS_CHOICES.values()) if v == normal), -1)
            if idx < 0:
                c.addItem("({:.2f}, {:.2f}, {:.2f})".format(*normal), normal)
                idx = c.count() - 1
            c.setCurrentIndex(idx)

            def set_normal(_k: int, i: int = i, c: QComboBox = c) -> None:
                planes = list(r.planes)
                planes[i] = CutPlane(planes[i].origin_lps, c.currentData())
                self._edit(r, planes=tuple(planes))

            c.currentIndexChanged.connect(set_normal)
            self.widgets[f"normal{i}"] = c
            form.addRow(f"Plane {i + 1} resects", c)
        form.addRow("Vessels", QLabel(", ".join(r.vessel_segments) or "(none)"))
        form.addRow("", self._use_critical_button(r, "vessel_segments", (r.organ_segment, r.tumour_segment)))

    def _form_safety_margins(self, m: Any, form: QFormLayout) -> None:
        form.addRow("Target", self._segments_combo("target", m.target_segment,
                                                   lambda v: self._edit(m, target_segment=v), allow_none=False))
        form.addRow("Warn below", self._spin("threshold", m.threshold_mm, 0.0, 100, " mm",
                                             lambda v: self._edit(m, threshold_mm=v)))
        form.addRow("Structures", QLabel(", ".join(m.critical_segments) or "(none)"))
        form.addRow("", self._use_critical_button(m, "critical_segments", (m.target_segment,)))

    def _form_ablation_zones(self, a: Any, form: QFormLayout) -> None:
        form.addRow("Tumour", self._segments_combo("tumour", a.tumour_segment,
                                                   lambda v: self._edit(a, tumour_segment=v)))
        form.addRow("Radius", self._spin("radius", float(max(a.radii_mm)), 1.0, 100, " mm",
                                         lambda v: self._edit(a, radii_mm=(v, v, v))))
        form.addRow("Margin", self._spin("margin", a.margin_mm, 0.0, 50, " mm",
                                         lambda v: self._edit(a, margin_mm=v)))

    def _form_rehearsals(self, h: Any, form: QFormLayout) -> None:
        form.addRow("Organ", self._segments_combo("organ", h.organ_segment,
                                                  lambda v: self._edit(h, organ_segment=v), allow_none=False))
        form.addRow("Radius", self._spin("radius", h.radius_mm, 1.0, 100, " mm",
                                         lambda v: self._edit(h, radius_mm=v)))
        d = np.asarray(h.displacement_lps, float)
        mag = float(np.linalg.norm(d))
        c = QComboBox()
        for text, v in AXIS_CHOICES.items():
            c.addItem(text, v)
        unit = tuple(round(x, 6) for x in d / mag) if mag > 0 else (0.0, -1.0, 0.0)
        c.setCurrentIndex(max(0, next((k for k, v in enumerate(AXIS_CHOICES.values()) if v == unit), 3)))
        spin = self._spin("displacement", mag, 0.1, 100, " mm", lambda v: self._edit(
            h, displacement_lps=tuple(np.asarray(c.currentData()) * v)))
        c.currentIndexChanged.connect(lambda _k: self._edit(
            h, displacement_lps=tuple(np.asarray(c.currentData()) * spin.value())))
        self.widgets["direction"] = c
        form.addRow("Pull towards", c)
        form.addRow("Displacement", spin)
        meshes = list(self.main.project.meshes)
        form.addRow("Mesh", QLabel(h.mesh or (meshes[0] if meshes else "(none: mesh the organ in Simulation)")))
