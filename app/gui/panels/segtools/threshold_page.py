"""Threshold page: HU range with presets and a live preview in the slice views; automatic presets.

The preview thresholds the pixels of the slice each view already shows (no 3-D
work while dragging the range), drawn as a translucent colour over the image.
Apply computes the 3-D mask in a worker and writes it to the target segment as
one undoable command. Frame: LPS mm; values in the image's units (HU for CT).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QVBoxLayout

from app.gui.panels.segtools.common import PageBase, button, row, spin
from app.gui.tools.overlay import overlays_for, slice_target_rect

if TYPE_CHECKING:
    from app.gui.panels.segtools import SegmentToolsPanel

PREVIEW_RGBA = (0, 220, 255, 110)


class ThresholdPage(PageBase):
    """Threshold with live preview; automatic presets (body, bone, lungs, fat, muscle)."""

    def __init__(self, panel: SegmentToolsPanel) -> None:
        super().__init__(panel)
        from segmentation.presets import PRESETS
        from segmentation.threshold import HU_RANGES

        lay = QVBoxLayout(self)
        box = QGroupBox("Threshold")
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.preset = QComboBox()
        self.preset.setObjectName("threshold_preset")
        self.preset.addItem("(custom)")
        for key, r in HU_RANGES.items():
            self.preset.addItem(key.replace("_", " "), key)
            self.preset.setItemData(self.preset.count() - 1, f"{r.low_hu:g}..{r.high_hu:g} HU: {r.description}",
                                    Qt.ItemDataRole.ToolTipRole)
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        form.addRow("Preset", self.preset)
        self.low = spin(226, -3000, 30000, 10, 0, name="threshold_low")
        self.high = spin(3071, -3000, 30000, 10, 0, name="threshold_high")
        self.low.valueChanged.connect(self._range_changed)
        self.high.valueChanged.connect(self._range_changed)
        form.addRow("Range", row(self.low, "to", self.high))
        self.preview = QCheckBox("Live preview in slices")
        self.preview.setObjectName("threshold_preview")
        self.preview.setChecked(True)
        self.preview.toggled.connect(lambda on: (setattr(self, "armed", self.armed or on), self._update_painter()))
        self.largest = QCheckBox("Keep largest island only")
        self.largest.setObjectName("threshold_largest")
        form.addRow(self.preview)
        form.addRow(self.largest)
        form.addRow(button("Apply to target segment", self.apply, "threshold_apply",
                           "Replace the target segment with the thresholded voxels (one undo step)"))
        lay.addWidget(box)

        auto = QGroupBox("Automatic presets (CT)")
        f2 = QFormLayout(auto)
        f2.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.auto = QComboBox()
        self.auto.setObjectName("auto_preset")
        for p in PRESETS:
            self.auto.addItem(p)
        f2.addRow("Preset", row(self.auto, button("Run", self.run_preset, "auto_preset_run",
                                                  "Create or replace the segment named after the preset")))
        lay.addWidget(auto)
        lay.addStretch(1)
        self._cache: dict[str, tuple[Any, QImage]] = {}
        self._shown = False
        self.armed = False  # preview only once the user works with the threshold (as Slicer's effect)

    # ------------------------------------------------------------------ preview
    def _preset_chosen(self) -> None:
        key = self.preset.currentData()
        if key:
            from segmentation.threshold import HU_RANGES

            r = HU_RANGES[key]
            for s, v in ((self.low, r.low_hu), (self.high, r.high_hu)):
                s.blockSignals(True)
                s.setValue(v)
                s.blockSignals(False)
            self._range_changed(from_preset=True)

    def _range_changed(self, *_: Any, from_preset: bool = False) -> None:
        self.armed = True
        self._update_painter()
        if not from_preset and self.preset.currentIndex() != 0:
            self.preset.blockSignals(True)
            self.preset.setCurrentIndex(0)
            self.preset.blockSignals(False)
        self._cache.clear()
        overlays_for(self.main).update()

    def on_shown(self) -> None:  # noqa: D102 - the user opened this page: preview on
        self._shown = True
        self.armed = True
        self._update_painter()

    def on_panel_shown(self) -> None:  # noqa: D102 - the dock became visible: preview only if it was in use
        self._shown = True
        self._update_painter()

    def on_hidden(self) -> None:  # noqa: D102
        self._shown = False
        self._update_painter()

    def _update_painter(self) -> None:
        on = self._shown and self.armed and self.preview.isChecked()
        overlays_for(self.main).set_painter("threshold_preview", self.paint_preview if on else None)

    def preview_mask(self, view: Any) -> np.ndarray | None:
        """The preview mask ``(rows, cols)`` of the slice a view shows (None before it painted)."""
        sl = getattr(view, "_slice", None)
        if sl is None or not sl.inside:
            return None
        px = sl.pixels
        return np.asarray((px >= self.low.value()) & (px <= self.high.value()))

    def paint_preview(self, view: Any, p: QPainter, hover: Any) -> None:
        """Draw the thresholded pixels of the shown slice in translucent cyan."""
        rect = slice_target_rect(view)
        sl = getattr(view, "_slice", None)
        if rect is None or sl is None:
            return
        key = (id(sl), view._cache_key, self.low.value(), self.high.value())
        cached = self._cache.get(view.orientation)
        if cached is None or cached[0] != key:
            m = self.preview_mask(view)
            if m is None:
                return
            rgba = np.zeros(m.shape + (4,), np.uint8)
            rgba[m] = PREVIEW_RGBA
            rgba = np.ascontiguousarray(rgba)
            img = QImage(rgba.data, m.shape[1], m.shape[0], 4 * m.shape[1], QImage.Format.Format_RGBA8888).copy()
            cached = (key, img)
            self._cache[view.orientation] = cached
        p.drawImage(QRectF(*rect), cached[1])

    # ------------------------------------------------------------------ actions
    def apply(self) -> Any:
        """Threshold the volume into the target segment (worker + one command)."""
        if not self.require_volume():
            return None
        name = self.panel.target() or self.panel.ensure_target("threshold")
        vol = self.main.volume
        low, high, largest = self.low.value(), self.high.value(), self.largest.isChecked()

        def work(progress: Any) -> np.ndarray:
            from segmentation import morphology as morph
            from segmentation.threshold import threshold

            m = threshold(vol, low, high, progress)
            if largest:
                progress.update(0.6, "largest island")
                m = morph.keep_largest(m)
            return m

        return self.run_mask("Threshold", work, name, text=f"Threshold {low:g}..{high:g} -> {name}",
                             on_applied=self._applied)

    def _applied(self) -> None:
        """After Apply the segment shows the result: stop previewing until the range is touched again."""
        self.armed = False
        self._update_painter()

    def run_preset(self, preset: str | None = None) -> Any:
        """Run an automatic preset into the segment of the same name."""
        if not self.require_volume():
            return None
        preset = preset or self.auto.currentText()
        vol = self.main.volume

        def work(progress: Any) -> np.ndarray:
            from segmentation.presets import run_preset

            return run_preset(vol, preset, progress)

        return self.run_mask(f"Preset {preset}", work, preset, text=f"Preset {preset}")
