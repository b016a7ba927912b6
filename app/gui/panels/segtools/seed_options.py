"""Per-seed-set options of grow from seeds (like Slicer's per-segment settings): a small dialog.

The keys are those of :data:`segmentation.grow.LABEL_OPTIONS`: ``bridge_radius_mm`` (leak cutting for
this set; 0 = off, e.g. for thin sheets such as muscle or a stomach wall), ``boundary_refinement``
(partial-volume edge layer), ``rim_layers`` (how many blurred edge layers to add, e.g. for thin
structures on thick slices such as intervertebral discs), ``directional_edges`` (edges priced by
direction: thin sheets and tubes fill along their length), ``wall_mm`` (a hollow organ: clicks in the
lumen, a wall of this thickness added around gas), ``boundary_trim`` (the partial-volume edge may
also remove voxels: for a segment that overshoots a weak edge), ``max_distance_mm`` (reach from
the set's clicks) and ``skeletal_muscle`` (the set's label is replaced by the body-composition muscle
tool after the grow). Unset keys follow the global settings.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

REFINEMENT = ("auto", "on", "off")


class SeedOptionsDialog(QDialog):
    """Edit ``options`` of one seed set; :meth:`options` gives the result (only the keys the user set)."""

    def __init__(self, name: str, options: dict[str, Any], global_bridge_mm: float,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Grow options of '{name}'")
        self.setObjectName("seed_options_dialog")
        form = QFormLayout(self)
        self.own_bridge = QCheckBox("own leak cutting")
        self.own_bridge.setObjectName("seed_opt_own_bridge")
        self.bridge = QDoubleSpinBox()
        self.bridge.setObjectName("seed_opt_bridge")
        self.bridge.setRange(0.0, 20.0)
        self.bridge.setSingleStep(0.5)
        self.bridge.setSuffix(" mm")
        self.bridge.setSpecialValueText("off")
        has_bridge = "bridge_radius_mm" in options
        self.own_bridge.setChecked(has_bridge)
        self.bridge.setValue(float(options.get("bridge_radius_mm", global_bridge_mm)))
        self.bridge.setEnabled(has_bridge)
        self.own_bridge.toggled.connect(self.bridge.setEnabled)
        form.addRow(self.own_bridge, self.bridge)
        self.refinement = QComboBox()
        self.refinement.setObjectName("seed_opt_refinement")
        self.refinement.addItems(REFINEMENT)
        ref = options.get("boundary_refinement")
        self.refinement.setCurrentText("auto" if ref is None else ("on" if ref else "off"))
        form.addRow("Edge refinement", self.refinement)
        self.rim = QSpinBox()
        self.rim.setObjectName("seed_opt_rim")
        self.rim.setRange(1, 5)
        self.rim.setValue(int(options.get("rim_layers", 1)))
        self.rim.setToolTip("Blurred edge layers added with edge refinement (thin structures on thick slices: 2-3)")
        form.addRow("Edge layers", self.rim)
        self.directional = QComboBox()
        self.directional.setObjectName("seed_opt_directional")
        self.directional.addItems(REFINEMENT)
        dire = options.get("directional_edges")
        self.directional.setCurrentText("auto" if dire is None else ("on" if dire else "off"))
        self.directional.setToolTip("Edges cost by direction: a thin structure blurred by its neighbours (disc, "
                                    "muscle sheet, small vessel) fills along its length from few clicks")
        form.addRow("Directional edges", self.directional)
        self.wall = QDoubleSpinBox()
        self.wall.setObjectName("seed_opt_wall")
        self.wall.setRange(0.0, 20.0)
        self.wall.setSingleStep(0.5)
        self.wall.setSuffix(" mm")
        self.wall.setSpecialValueText("off")
        self.wall.setValue(float(options.get("wall_mm", 0.0)))
        self.wall.setToolTip("Hollow organ (stomach, bowel): clicks in the lumen; a wall of this thickness is added "
                             "around the contents unlike it (gas)")
        form.addRow("Hollow organ wall", self.wall)
        self.reach = QDoubleSpinBox()
        self.reach.setObjectName("seed_opt_reach")
        self.reach.setRange(0.0, 500.0)
        self.reach.setSingleStep(5.0)
        self.reach.setSuffix(" mm")
        self.reach.setSpecialValueText("off")
        self.reach.setValue(float(options.get("max_distance_mm", 0.0)))
        self.reach.setToolTip("Clear what lies farther than this from all of the set's clicks (a leak along a "
                              "like tissue, e.g. a disc into the mediastinum)")
        form.addRow("Max distance from clicks", self.reach)
        self.trim = QCheckBox("edge refinement may also remove voxels")
        self.trim.setObjectName("seed_opt_trim")
        self.trim.setChecked(bool(options.get("boundary_trim", False)))
        self.trim.setToolTip("For a segment that overshoots a weak edge by a voxel (bile against bowel)")
        form.addRow(self.trim)
        self.muscle = QCheckBox("skeletal muscle (body composition, CT)")
        self.muscle.setObjectName("seed_opt_muscle")
        self.muscle.setChecked(bool(options.get("skeletal_muscle", False)))
        self.muscle.setToolTip("After the grow, replace this set's label by muscle-density tissue whose local mean "
                               "matches its clicks, the other labels excluded (for the whole musculature)")
        form.addRow(self.muscle)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def options(self) -> dict[str, Any]:
        """The chosen options (keys of ``segmentation.grow.LABEL_OPTIONS``; unset ones omitted)."""
        out: dict[str, Any] = {}
        if self.own_bridge.isChecked():
            out["bridge_radius_mm"] = float(self.bridge.value())
        ref = self.refinement.currentText()
        if ref != "auto":
            out["boundary_refinement"] = ref == "on"
        if self.rim.value() != 1:
            out["rim_layers"] = int(self.rim.value())
        dire = self.directional.currentText()
        if dire != "auto":
            out["directional_edges"] = dire == "on"
        if self.wall.value() > 0:
            out["wall_mm"] = float(self.wall.value())
        if self.reach.value() > 0:
            out["max_distance_mm"] = float(self.reach.value())
        if self.trim.isChecked():
            out["boundary_trim"] = True
        if self.muscle.isChecked():
            out["skeletal_muscle"] = True
        return out
