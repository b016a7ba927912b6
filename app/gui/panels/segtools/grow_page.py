"""Grow-from-seeds page: labelled seed sets placed by clicking in the slice views, then competitive growing;
and the vessel tool (contrast-enhanced vessels inside an organ).

Each seed set becomes a segment of the same name (background sets compete but
produce nothing). The result of all sets is applied as ONE undoable command.
Seeds are LPS mm points (see :class:`app.gui.tools.seeds.SeedSets`).

Vessels: :func:`segmentation.vessels.segment_vessels` (hysteresis thresholds from the
organ's robust HU statistics) inside the chosen organ segment, whose gaps (the vessel
channels themselves, which the organ segment usually excludes) are closed first; the
result goes into a new or existing output segment as one undoable command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from app.gui.panels.segtools.common import PageBase, button, hint_label, masks_command, row, spin
from app.gui.tools.overlay import overlays_for
from app.gui.tools.seeds import SeedSets, SeedTool, paint_seeds
from twin.colors import color_for_name

if TYPE_CHECKING:
    from app.gui.panels.segtools import SegmentToolsPanel


class GrowPage(PageBase):
    """Seeds + grow from seeds (competitive, with leak control)."""

    def __init__(self, panel: SegmentToolsPanel) -> None:
        super().__init__(panel)
        self.seeds = SeedSets()
        self.tool = SeedTool(self.seeds, self._seeds_changed)
        lay = QVBoxLayout(self)
        box = QGroupBox("Seed sets")
        v = QVBoxLayout(box)
        hint = hint_label("Each set grows into the segment of its name; 'background' seeds stop leaks. "
                          "With 'Place seeds' on, click in a slice view to add a seed, Ctrl+click removes one.")
        v.addWidget(hint)
        # first in the box: at 950 px under the Data dock the page shows ~290 px before scrolling
        self.place = QPushButton("Place seeds")
        self.place.setObjectName("seed_place")
        self.place.setCheckable(True)
        self.place.setToolTip("While on, left clicks in the slice views add seeds to the active set")
        self.place.toggled.connect(self._toggle_place)
        v.addWidget(self.place)
        self.list = QListWidget()
        self.list.setObjectName("seed_sets")
        self.list.setMaximumHeight(110)
        self.list.currentRowChanged.connect(self._set_active)
        v.addWidget(self.list)
        v.addLayout(row(button("Add set...", self.add_set_dialog, "seed_add_set", "A new labelled seed set"),
                        button("Background", lambda: self.add_set("background"), "seed_add_background",
                               "Seeds of what must NOT be grown into")))
        v.addLayout(row(button("Remove set", self.remove_set, "seed_remove_set"),
                        button("Clear seeds", self.clear_points, "seed_clear", "Remove the active set's points"),
                        button("Options...", self.edit_set_options, "seed_set_options",
                               "This set's own leak cutting / edge refinement (e.g. thin muscle, discs)")))
        lay.addWidget(box)
        opts = QGroupBox("Grow from seeds")
        form = QFormLayout(opts)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        # the defaults of segmentation.grow.grow_from_seeds (what the CLI and the accuracy tests use)
        self.smoothing = spin(0.75, 0, 10, 0.25, 2, "mm", "grow_smoothing")
        self.tolerance = spin(2.5, 0.5, 10, 0.5, 1, "SD", "grow_tolerance")
        self.max_distance = spin(0, 0, 1000, 5, 0, "mm", "grow_max_distance")
        self.max_distance.setSpecialValueText("no limit")
        self.bridge = spin(4.5, 0, 20, 0.5, 1, "mm", "grow_bridge")
        self.bridge.setSpecialValueText("off")
        form.addRow("Smoothing", self.smoothing)
        form.addRow("Intensity tolerance", self.tolerance)
        form.addRow("Max distance", self.max_distance)
        form.addRow("Cut bridges", self.bridge)
        self.soft_tissue = QCheckBox("Only soft tissue (body without bone and lungs)")
        self.soft_tissue.setObjectName("grow_soft_tissue")
        self.soft_tissue.setToolTip("Grow only where organs can be (CT presets): no label leaks through a rib or "
                                    "into a lung (vht segment --seeds ... --soft-tissue)")
        form.addRow(self.soft_tissue)
        form.addRow(button("Grow", self.grow, "grow_run", "Grow every seed set into its segment (one undo step)"))
        lay.addWidget(opts)
        lay.addWidget(self._vessel_box())
        lay.addStretch(1)
        overlays_for(self.main).set_painter("seeds", self._paint)

    def _vessel_box(self) -> QGroupBox:
        box = QGroupBox("Vessels inside an organ")
        box.setObjectName("vessel_box")
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow(hint_label("Bright (contrast) vessels inside the organ: thresholds from the organ's median "
                               "and spread (HU), kept when connected to a brighter voxel or a seed; ribs and "
                               "spine next to the organ are excluded."))
        self.vessel_organ = QComboBox()
        self.vessel_organ.setObjectName("vessel_organ")
        self.vessel_organ.setToolTip("The segment containing the vessels (e.g. the grown liver)")
        self.vessel_organ.currentTextChanged.connect(self._organ_changed)
        self.vessel_output = QLineEdit("hepatic_vessels")
        self.vessel_output.setObjectName("vessel_output")
        self.vessel_output.setToolTip("Segment receiving the vessels (created if missing, else replaced)")
        self.vessel_close = spin(6.0, 0, 20, 0.5, 1, "mm", "vessel_close")
        self.vessel_close.setSpecialValueText("off")
        self.vessel_close.setToolTip("Close the organ segment's gaps by this radius first (the vessel channels an "
                                     "organ segment usually leaves out), then fill its holes")
        self.vessel_dilate = spin(0.0, 0, 20, 0.5, 1, "mm", "vessel_dilate")
        self.vessel_dilate.setSpecialValueText("off")
        self.vessel_dilate.setToolTip("Also search this far outside the organ (vessels on its border)")
        self.vessel_low = spin(2.5, 0.5, 10, 0.5, 1, "SD", "vessel_low_sd")
        self.vessel_high = spin(3.5, 0.5, 15, 0.5, 1, "SD", "vessel_high_sd")
        self.vessel_low.setToolTip("Candidate voxels: brighter than organ median + this many (robust) SD")
        self.vessel_high.setToolTip("Kept only when connected to a voxel brighter than median + this many SD")
        self.vessel_min = spin(50, 0, 100000, 10, 0, "mm³", "vessel_min_mm3")
        self.vessel_seeds = QCheckBox("Use the active seed set's points as vessel seeds")
        self.vessel_seeds.setObjectName("vessel_use_seeds")
        self.vessel_vein = QComboBox()
        self.vessel_vein.setObjectName("vessel_vein")
        self.vessel_vein.setToolTip("Optional: the large vein the vessels join (e.g. the IVC). The vessels and "
                                    "the vein are divided again where they touch (the vein's elliptic cross-section) "
                                    "and their rims fitted to the CT with the scanner resolution below")
        self.vessel_fwhm_xy = spin(1.0, 0.1, 10, 0.1, 2, "mm", "vessel_fwhm_xy")
        self.vessel_fwhm_z = spin(1.0, 0.1, 10, 0.1, 2, "mm", "vessel_fwhm_z")
        self.vessel_fwhm_xy.setToolTip("Scanner resolution in plane (FWHM of the point-spread function, from the "
                                       "protocol; default the pixel spacing)")
        self.vessel_fwhm_z.setToolTip("Slice thickness (FWHM across slices; default DICOM SliceThickness or the "
                                      "slice spacing)")
        self.vessel_info = hint_label("")
        self.vessel_info.setObjectName("vessel_info")
        form.addRow("Organ", self.vessel_organ)
        form.addRow("Output segment", self.vessel_output)
        form.addRow("Close organ gaps", self.vessel_close)
        form.addRow("Search outside by", self.vessel_dilate)
        form.addRow("Low / high", row(self.vessel_low, self.vessel_high))
        form.addRow("Remove islands <", self.vessel_min)
        form.addRow(self.vessel_seeds)
        form.addRow("Large vein (optional)", self.vessel_vein)
        form.addRow("Resolution in plane / slice", row(self.vessel_fwhm_xy, self.vessel_fwhm_z))
        form.addRow(button("Find vessels", self.find_vessels, "vessel_run",
                           "Segment the vessels inside the organ (worker, one undo step)"))
        form.addRow(self.vessel_info)
        return box

    def _organ_changed(self, organ: str) -> None:
        out = self.vessel_output.text().strip()
        auto = {"", "hepatic_vessels", "vessels"} | {f"{s}_vessels" for s in self._organ_names()}
        if out in auto and organ:
            from segmentation.vessels import vessel_segment_name

            self.vessel_output.setText(vessel_segment_name(organ))

    def _organ_names(self) -> list[str]:
        lm = self.main.labelmap
        return [s.name for s in lm.segments] if lm is not None else []

    def on_labelmap_changed(self) -> None:  # noqa: D102
        names = self._organ_names()
        if [self.vessel_organ.itemText(i) for i in range(self.vessel_organ.count())] == names:
            return
        cur = self.vessel_organ.currentText()
        self.vessel_organ.blockSignals(True)
        self.vessel_organ.clear()
        self.vessel_organ.addItems(names)
        if cur in names:
            self.vessel_organ.setCurrentText(cur)
        else:
            liver = next((n for n in names if "liver" in n.lower() and "tum" not in n.lower()), None)
            if liver:
                self.vessel_organ.setCurrentText(liver)
        self.vessel_organ.blockSignals(False)
        self._organ_changed(self.vessel_organ.currentText())
        vein = self.vessel_vein.currentText()
        self.vessel_vein.clear()
        self.vessel_vein.addItems(["(none)", *names])
        self.vessel_vein.setCurrentText(vein if vein in names else "(none)")

    def on_project_changed(self) -> None:  # noqa: D102
        self.on_labelmap_changed()
        vol = self.main.volume
        if vol is not None:  # the protocol's resolution, as far as the image says
            sp = vol.geometry.spacing
            self.vessel_fwhm_xy.setValue(float(max(sp[0], sp[1])))
            try:
                thick = float(vol.metadata.get("SliceThickness", sp[2]))
            except (TypeError, ValueError):
                thick = float(sp[2])
            self.vessel_fwhm_z.setValue(thick if thick > 0 else float(sp[2]))

    # ------------------------------------------------------------------ seed sets
    def add_set_dialog(self) -> None:
        """Ask for a name (default: the target segment)."""
        default = self.panel.target() or f"object_{len(self.seeds.sets) + 1}"
        name, ok = QInputDialog.getText(self, "Seed set", "Segment name:", text=default)
        if ok and name.strip():
            self.add_set(name.strip())

    def add_set(self, name: str) -> None:
        """Add (or activate) seed set ``name``; its colour is the segment's when it exists."""
        lm = self.main.labelmap
        color = (0.3, 0.3, 1.0) if name.lower() == "background" else color_for_name(name, len(self.seeds.sets) + 1)
        if lm is not None:
            for s in lm.segments:
                if s.name == name:
                    color = s.color
        self.seeds.add_set(name, tuple(float(c) for c in color))
        self._refill()
        if not self.place.isChecked():
            self.place.setChecked(True)

    def edit_set_options(self, options: dict[str, Any] | None = None) -> None:
        """Per-set grow options of the active set (a dialog, or ``options`` directly: tests, scripts)."""
        s = self.seeds.current()
        if s is None:
            self.main.show_error("Add a seed set first")
            return
        if options is None:
            from app.gui.panels.segtools.seed_options import SeedOptionsDialog

            dlg = SeedOptionsDialog(s.name, s.options, self.bridge.value(), self)
            if not dlg.exec():
                return
            options = dlg.options()
        from segmentation.grow import check_label_options

        s.options = dict(check_label_options({1: options})[1]) if options else {}
        self._refill()

    def remove_set(self) -> None:
        """Remove the active set."""
        self.seeds.remove_set(self.seeds.active)
        self._refill()

    def clear_points(self) -> None:
        """Remove the points of the active set."""
        s = self.seeds.current()
        if s is not None:
            s.points_lps.clear()
            self._seeds_changed()

    def _set_active(self, n: int) -> None:
        if 0 <= n < len(self.seeds.sets):
            self.seeds.active = n
            overlays_for(self.main).update()

    def _refill(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for s in self.seeds.sets:
            pm = QPixmap(12, 12)
            pm.fill(QColor.fromRgbF(*s.color))
            extra = ", own options" if s.options else ""
            it = QListWidgetItem(f"{s.name}  ({len(s.points_lps)} seeds{extra})")
            if s.options:
                it.setToolTip(", ".join(f"{k} = {v}" for k, v in sorted(s.options.items())))
            it.setIcon(pm)
            self.list.addItem(it)
        self.list.setCurrentRow(self.seeds.active)
        self.list.blockSignals(False)
        overlays_for(self.main).update()

    def _seeds_changed(self) -> None:
        self._refill()

    def _toggle_place(self, on: bool) -> None:
        if on:
            self.panel.activate_tool(self.tool, self.place)
        else:
            self.panel.release_tool(self.tool)

    def _paint(self, view: Any, p: QPainter, hover: Any) -> None:
        paint_seeds(self.seeds, view, p)

    def on_hidden(self) -> None:  # noqa: D102
        self.place.setChecked(False)

    # ------------------------------------------------------------------ grow
    def grow(self) -> Any:
        """Grow every set in a worker; one command fills all object segments."""
        if not self.require_volume():
            return None
        from segmentation.grow import SeedSet as SegSeedSet

        sets = [SegSeedSet(s.name, np.array(s.points_lps, float), dict(s.options))
                for s in self.seeds.sets if s.points_lps]
        objects = [s for s in sets if not s.is_background]
        if not objects:
            self.main.show_error("Place seeds of at least one object set first")
            return None
        vol = self.main.volume
        lm = self.main.labelmap
        revision = lm.revision
        opts = dict(smoothing_mm=self.smoothing.value(), intensity_tolerance=self.tolerance.value(),
                    max_distance_mm=self.max_distance.value() or None, bridge_radius_mm=self.bridge.value())

        soft = self.soft_tissue.isChecked()

        def work(progress: Any) -> dict[str, np.ndarray]:
            from segmentation.grow import grow_from_seeds, label_options_of, seed_image
            from twin.progress import SubProgress

            region = None
            if soft:
                from segmentation.presets import soft_tissue_region

                region = soft_tissue_region(vol, SubProgress(progress, 0.0, 0.3, "soft tissue: "))
                progress = SubProgress(progress, 0.3, 1.0)
            img = seed_image(vol.geometry, sets)
            background = [n + 1 for n, s in enumerate(sets) if s.is_background]
            labels = grow_from_seeds(vol, img, background, progress=progress, region=region,
                                     label_options=label_options_of(sets) or None, **opts)
            return {s.name: labels == n + 1 for n, s in enumerate(sets) if not s.is_background}

        def done(masks: dict[str, np.ndarray]) -> None:
            if self.main.labelmap is not lm or not self.still_current(lm, revision, "Grow from seeds"):
                return
            names = ", ".join(masks)
            if self.main.push_command(masks_command(lm, masks, f"Grow from seeds ({names})")):
                self.panel.set_target(next(iter(masks)))

        return self.main.run_worker(work, done, "Grow from seeds")

    # ------------------------------------------------------------------ vessels
    def find_vessels(self) -> Any:
        """Vessels inside the chosen organ (:func:`segmentation.vessels.segment_vessels`) into the output
        segment, in a worker; one undoable command. Returns the worker (None when nothing was started)."""
        if not self.require_volume():
            return None
        organ = self.vessel_organ.currentText()
        out_name = self.vessel_output.text().strip()
        lm = self.main.labelmap
        if not organ or not any(s.name == organ for s in lm.segments):
            self.main.show_error("Vessels: choose the organ segment that contains them")
            return None
        if not out_name:
            self.main.show_error("Vessels: give the output segment a name")
            return None
        if out_name == organ:
            self.main.show_error("Vessels: the output segment must differ from the organ")
            return None
        region = lm.mask(organ)
        if not region.any():
            self.main.show_error(f"Vessels: segment {organ!r} is empty: segment the organ first")
            return None
        if self.vessel_low.value() > self.vessel_high.value():
            self.main.show_error("Vessels: the low threshold (SD) must not exceed the high one")
            return None
        seeds = None
        if self.vessel_seeds.isChecked():
            s = self.seeds.current()
            if s is None or not s.points_lps:
                self.main.show_error("Vessels: the active seed set has no points")
                return None
            seeds = np.array(s.points_lps, float)
        vol = self.main.volume
        close_mm, dilate_mm = self.vessel_close.value(), self.vessel_dilate.value()
        opts = dict(low_sd=self.vessel_low.value(), high_sd=self.vessel_high.value(),
                    min_volume_mm3=self.vessel_min.value(), region_dilation_mm=dilate_mm, seed_points_lps=seeds)
        stats: dict[str, float] = {}

        def work(progress: Any) -> np.ndarray:
            from segmentation import morphology as morph
            from segmentation.vessels import parenchyma_statistics, segment_vessels
            from twin.progress import SubProgress

            reg = region
            if close_mm > 0:
                progress.update(0.02, f"closing {organ} gaps ({close_mm:g} mm)")
                reg = morph.fill_holes(morph.closing(reg, vol.geometry, close_mm))
            progress.raise_if_cancelled()
            stats["median"], stats["sd"] = parenchyma_statistics(vol, reg)
            return segment_vessels(vol, reg, progress=SubProgress(progress, 0.2, 1.0, ""), **opts)

        def applied() -> None:
            m = self.main.labelmap.mask(out_name)
            med, sd = stats["median"], stats["sd"]
            ml = m.sum() * vol.geometry.voxel_volume_mm3 / 1000
            self.vessel_info.setText(
                f"{out_name}: {ml:.2f} mL; {organ} {med:.0f} ± {sd:.0f} HU, "
                f"thresholds {med + opts['low_sd'] * sd:.0f} / {med + opts['high_sd'] * sd:.0f} HU")

        vein = self.vessel_vein.currentText()
        if vein in ("", "(none)"):
            return self.run_mask("Vessels", work, out_name, text=f"Vessels in {organ} -> {out_name}",
                                 on_applied=applied)
        if vein in (organ, out_name) or not lm.mask(vein).any():
            self.main.show_error("Vessels: the large vein must be another, non-empty segment")
            return None
        return self._vessels_at_vein(work, organ, out_name, vein, applied)

    def _vessels_at_vein(self, find: Any, organ: str, out_name: str, vein: str, applied: Any) -> Any:
        """Find the vessels, then divide them from the large vein and fit both rims to the CT
        (:func:`segmentation.vessels.refine_vessels_at_large_vein`); the organ gets back what neither keeps.
        One undo step for the three segments."""
        lm = self.main.labelmap
        revision = lm.revision
        vol = self.main.volume
        psf = (self.vessel_fwhm_xy.value(), self.vessel_fwhm_xy.value(), self.vessel_fwhm_z.value())
        organ0, vein0 = lm.mask(organ), lm.mask(vein)
        others = np.zeros(lm.shape, bool)
        for seg in lm.segments:
            if seg.name not in (organ, out_name, vein):
                others |= lm.mask(seg.name)

        def work(progress: Any) -> dict[str, np.ndarray]:
            from segmentation.vessels import vessels_at_large_vein
            from twin.progress import SubProgress

            vessels0 = find(SubProgress(progress, 0.0, 0.5, ""))
            vessels, vein_m, organ_m = vessels_at_large_vein(vol, organ0, vessels0, vein0, others, psf,
                                                             progress=SubProgress(progress, 0.5, 1.0, ""))
            return {out_name: vessels, vein: vein_m, organ: organ_m}

        def done(masks: dict[str, np.ndarray]) -> None:
            if self.main.labelmap is not lm or not self.still_current(lm, revision, "Vessels"):
                return
            if self.main.push_command(masks_command(lm, masks, f"Vessels in {organ} at {vein} -> {out_name}")):
                self.panel.set_target(out_name)
                applied()

        return self.main.run_worker(work, done, "Vessels")
