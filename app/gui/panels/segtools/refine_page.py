"""Refine page: islands, margin, hollow, smoothing, fill holes, logical operations, level-set refinement.

Every action takes the target segment's mask, computes the new mask in a worker
(functions of :mod:`segmentation.morphology`, radii in mm) and applies it as one
undoable command. Frame: LPS mm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QVBoxLayout

from app.gui.panels.segtools.common import PageBase, button, row, spin

if TYPE_CHECKING:
    from app.gui.panels.segtools import SegmentToolsPanel

LOGICAL_OPS = {"union (add other)": "union", "intersect with other": "intersect",
               "subtract other": "subtract", "copy other": "copy"}


def level_set_refine(volume: Any, mask: np.ndarray, iterations: int = 200, tolerance_sd: float = 2.0,
                     curvature: float = 1.0, progress: Any = None, method: str = "threshold") -> np.ndarray:
    """Refine a segment with a level set seeded by it (LPS grid of ``volume``).

    ``threshold``: the front moves outwards where the intensity lies within ``tolerance_sd``
    standard deviations of the segment's mean and inwards elsewhere, with curvature smoothing;
    ``geodesic``: edge-attracted active contour. Uses :func:`segmentation.levelset.refine_level_set`;
    if that module is absent, SimpleITK's threshold level set directly on the bounding box (+10 mm).
    """
    m = np.asarray(mask, bool)
    if not m.any():
        return m.copy()
    vals = np.asarray(volume.array[m], np.float64)
    mu, sd = float(vals.mean()), max(float(vals.std()), 5.0)
    try:
        from segmentation.levelset import refine_level_set
    except ImportError:
        refine_level_set = None
    if refine_level_set is not None:
        return np.asarray(refine_level_set(volume, m, method, low=mu - tolerance_sd * sd, high=mu + tolerance_sd * sd,
                                           curvature=curvature, iterations=int(iterations), progress=progress), bool)
    import SimpleITK as sitk

    from twin.geometry import ImageGeometry
    from twin.labelmap import mask_bbox
    from twin.volume import array_to_sitk, sitk_to_array

    g = volume.geometry
    margin = np.ceil(10.0 / g.spacing).astype(int)
    box = mask_bbox(m)
    if box is None:
        return m.copy()
    box = tuple(slice(max(s.start - int(k), 0), min(s.stop + int(k), n)) for s, k, n in zip(box, margin, m.shape))
    sub = m[box]
    img = np.asarray(volume.array[box], np.float32)
    start = np.array([s.start for s in box], float)
    sg = ImageGeometry(sub.shape, g.spacing, g.index_to_lps(start[None])[0], g.direction)
    feature = array_to_sitk(img, sg)
    init = sitk.SignedMaurerDistanceMap(array_to_sitk(sub.astype(np.uint8), sg), insideIsPositive=False,
                                        squaredDistance=False, useImageSpacing=True)
    f = sitk.ThresholdSegmentationLevelSetImageFilter()
    f.SetLowerThreshold(mu - tolerance_sd * sd)
    f.SetUpperThreshold(mu + tolerance_sd * sd)
    f.SetNumberOfIterations(int(iterations))
    f.SetCurvatureScaling(float(curvature))
    f.SetPropagationScaling(1.0)
    f.SetMaximumRMSError(0.005)
    f.ReverseExpansionDirectionOff()
    if progress is not None:
        f.AddCommand(sitk.sitkProgressEvent, lambda: progress.update(f.GetProgress(), "level set"))
        f.AddCommand(sitk.sitkIterationEvent, lambda: f.Abort() if _cancelled(progress) else None)
    ls = f.Execute(sitk.Cast(init, sitk.sitkFloat32), feature)
    if progress is not None:
        progress.raise_if_cancelled()
    arr, _ = sitk_to_array(ls)
    out = np.zeros_like(m)
    out[box] = arr < 0  # inside is negative
    return out


def _cancelled(progress: Any) -> bool:
    try:
        progress.raise_if_cancelled()
    except Exception:  # noqa: BLE001 - Cancelled
        return True
    return False


class RefinePage(PageBase):
    """Morphology and logical operations on the target segment."""

    def __init__(self, panel: SegmentToolsPanel) -> None:
        super().__init__(panel)
        lay = QVBoxLayout(self)
        isl = QGroupBox("Islands")
        f = QFormLayout(isl)
        f.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.min_island = spin(1.0, 0.001, 100000, 0.5, 3, "mL", "island_min_ml")
        f.addRow("Smaller than", row(self.min_island, button("Remove", self.remove_small, "island_remove")))
        f.addRow(row(button("Keep largest", self.keep_largest, "island_largest"),
                     button("Keep at crosshair", self.keep_at_crosshair, "island_at_crosshair",
                            "Keep only the island under the crosshair")))
        lay.addWidget(isl)

        mor = QGroupBox("Morphology (mm)")
        f = QFormLayout(mor)
        f.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.margin = spin(2.0, -50, 50, 0.5, 1, "mm", "margin_mm")
        self.margin.setToolTip("Positive grows, negative shrinks the target by this distance")
        f.addRow("Margin ±", row(self.margin, button("Apply", self.apply_margin, "margin_apply")))
        self.hollow_mm = spin(2.0, 0.1, 50, 0.5, 1, "mm", "hollow_mm")
        self.hollow_side = QComboBox()
        self.hollow_side.addItems(["inside", "outside"])
        f.addRow("Hollow", row(self.hollow_mm, self.hollow_side, button("Apply", self.apply_hollow,
                                                                               "hollow_apply")))
        self.smooth_method = QComboBox()
        self.smooth_method.setObjectName("smooth_method")
        self.smooth_method.addItems(["median", "closing", "opening", "gaussian"])
        self.smooth_mm = spin(1.0, 0.1, 20, 0.5, 1, "mm", "smooth_mm")
        f.addRow("Smoothing", row(self.smooth_method, self.smooth_mm, button("Apply", self.apply_smooth,
                                                                              "smooth_apply")))
        self.fill_mode = QComboBox()
        self.fill_mode.addItems(["3D cavities", "slice-wise (axial)", "slice-wise (all axes)"])
        f.addRow("Fill holes", row(self.fill_mode, button("Apply", self.apply_fill, "fill_apply")))
        lay.addWidget(mor)

        log = QGroupBox("Logical operations")
        f = QFormLayout(log)
        f.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.op = QComboBox()
        self.op.setObjectName("logical_op")
        self.op.addItems(list(LOGICAL_OPS))
        self.other = QComboBox()
        self.other.setObjectName("logical_other")
        f.addRow("Target :=", self.op)
        f.addRow("Other segment", row(self.other, button("Apply", self.apply_logical, "logical_apply")))
        lay.addWidget(log)

        lvl = QGroupBox("Level-set refinement")
        f = QFormLayout(lvl)
        f.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.ls_method = QComboBox()
        self.ls_method.setObjectName("levelset_method")
        self.ls_method.addItems(["threshold", "geodesic"])
        self.ls_method.setToolTip("threshold: intensity window around the segment's mean; geodesic: stops at edges")
        f.addRow("Method", self.ls_method)
        self.ls_iter = spin(200, 10, 5000, 50, 0, "", "levelset_iterations")
        self.ls_tol = spin(2.0, 0.5, 8, 0.5, 1, "SD", "levelset_tolerance")
        f.addRow("Iterations", self.ls_iter)
        f.addRow("Tolerance", row(self.ls_tol, button("Refine", self.apply_level_set, "levelset_apply",
                                                                "Threshold level set started from the target")))
        lay.addWidget(lvl)
        lay.addStretch(1)

    def on_labelmap_changed(self) -> None:  # noqa: D102
        lm = self.main.labelmap
        names = [s.name for s in lm.segments] if lm is not None else []
        cur = self.other.currentText()
        self.other.blockSignals(True)
        self.other.clear()
        self.other.addItems(names)
        if cur in names:
            self.other.setCurrentText(cur)
        self.other.blockSignals(False)

    # ------------------------------------------------------------------ helpers
    def _on_target(self, label: str, fn: Any) -> Any:
        """Run ``fn(mask, geometry, progress) -> mask`` on the target segment (worker, one command)."""
        name = self.require_target()
        if name is None or not self.require_volume():
            return None
        lm = self.main.labelmap
        mask = lm.mask(name)
        geom = lm.geometry
        return self.run_mask(label, lambda progress: fn(mask, geom, progress), name, text=f"{label} {name}")

    # ------------------------------------------------------------------ actions
    def remove_small(self) -> Any:
        """Remove islands smaller than the given volume."""
        from segmentation import morphology as morph

        ml = self.min_island.value()
        return self._on_target("Remove small islands", lambda m, g, p: morph.remove_small_islands(m, g, ml * 1000.0))

    def keep_largest(self) -> Any:
        """Keep the largest island."""
        from segmentation import morphology as morph

        return self._on_target("Keep largest island", lambda m, g, p: morph.keep_largest(m))

    def keep_at_crosshair(self) -> Any:
        """Keep the island under the crosshair."""
        from segmentation import morphology as morph

        point = self.main.current_position_lps.copy()
        return self._on_target("Keep island", lambda m, g, p: morph.keep_island_at(m, g, point))

    def apply_margin(self) -> Any:
        """Grow (positive) or shrink (negative) by the margin in mm."""
        from segmentation import morphology as morph

        d = self.margin.value()
        return self._on_target("Grow" if d >= 0 else "Shrink", lambda m, g, p: morph.margin(m, g, d))

    def apply_hollow(self) -> Any:
        """Replace the segment by a shell."""
        from segmentation import morphology as morph

        t, inside = self.hollow_mm.value(), self.hollow_side.currentIndex() == 0
        return self._on_target("Hollow", lambda m, g, p: morph.hollow(m, g, t, inside))

    def apply_smooth(self) -> Any:
        """Median / closing / opening / Gaussian smoothing."""
        from segmentation import morphology as morph

        method, r = self.smooth_method.currentText(), self.smooth_mm.value()
        return self._on_target("Smooth", lambda m, g, p: morph.smooth(m, g, method, r))

    def apply_fill(self) -> Any:
        """Fill holes (3-D cavities, or slice-wise)."""
        from segmentation import morphology as morph

        mode = self.fill_mode.currentIndex()
        if mode == 0:
            return self._on_target("Fill holes", lambda m, g, p: morph.fill_holes(m, "3d"))
        axes = (2,) if mode == 1 else (0, 1, 2)
        return self._on_target("Fill holes", lambda m, g, p: morph.fill_holes(m, "slice", axes))

    def apply_logical(self, op: str | None = None, other: str | None = None) -> Any:
        """Target := target (op) other."""
        from segmentation import morphology as morph

        op = op or LOGICAL_OPS[self.op.currentText()]
        other = other or self.other.currentText()
        lm = self.main.labelmap
        if lm is None or not other:
            self.main.show_error("Choose the other segment")
            return None
        b = lm.mask(other)
        if op == "copy":
            return self._on_target(f"Copy {other} into", lambda m, g, p: b.copy())
        return self._on_target(f"{op.capitalize()} {other} with", lambda m, g, p: morph.logical(op, m, b))

    def apply_level_set(self) -> Any:
        """Level-set refinement of the target segment."""
        vol = self.main.volume
        it, tol, method = int(self.ls_iter.value()), self.ls_tol.value(), self.ls_method.currentText()
        return self._on_target("Level set", lambda m, g, p: level_set_refine(vol, m, it, tol, progress=p,
                                                                            method=method))
