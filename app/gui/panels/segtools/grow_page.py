"""Grow-from-seeds page: labelled seed sets placed by clicking in the slice views, then competitive growing.

Each seed set becomes a segment of the same name (background sets compete but
produce nothing). The result of all sets is applied as ONE undoable command.
Seeds are LPS mm points (see :class:`app.gui.tools.seeds.SeedSets`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QInputDialog,
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
        self.list = QListWidget()
        self.list.setObjectName("seed_sets")
        self.list.setMaximumHeight(110)
        self.list.currentRowChanged.connect(self._set_active)
        v.addWidget(self.list)
        v.addLayout(row(button("Add set...", self.add_set_dialog, "seed_add_set", "A new labelled seed set"),
                        button("Background", lambda: self.add_set("background"), "seed_add_background",
                               "Seeds of what must NOT be grown into")))
        v.addLayout(row(button("Remove set", self.remove_set, "seed_remove_set"),
                        button("Clear seeds", self.clear_points, "seed_clear", "Remove the active set's points")))
        self.place = QPushButton("Place seeds")
        self.place.setObjectName("seed_place")
        self.place.setCheckable(True)
        self.place.setToolTip("While on, left clicks in the slice views add seeds to the active set")
        self.place.toggled.connect(self._toggle_place)
        v.addWidget(self.place)
        lay.addWidget(box)
        opts = QGroupBox("Grow from seeds")
        form = QFormLayout(opts)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.smoothing = spin(1.5, 0, 10, 0.5, 1, "mm", "grow_smoothing")
        self.tolerance = spin(3.0, 0.5, 10, 0.5, 1, "SD", "grow_tolerance")
        self.max_distance = spin(0, 0, 1000, 5, 0, "mm", "grow_max_distance")
        self.max_distance.setSpecialValueText("no limit")
        self.bridge = spin(4.5, 0, 20, 0.5, 1, "mm", "grow_bridge")
        self.bridge.setSpecialValueText("off")
        form.addRow("Smoothing", self.smoothing)
        form.addRow("Intensity tolerance", self.tolerance)
        form.addRow("Max distance", self.max_distance)
        form.addRow("Cut bridges", self.bridge)
        form.addRow(button("Grow", self.grow, "grow_run", "Grow every seed set into its segment (one undo step)"))
        lay.addWidget(opts)
        lay.addStretch(1)
        overlays_for(self.main).set_painter("seeds", self._paint)

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
            it = QListWidgetItem(f"{s.name}  ({len(s.points_lps)} seeds)")
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

        sets = [SegSeedSet(s.name, np.array(s.points_lps, float)) for s in self.seeds.sets if s.points_lps]
        objects = [s for s in sets if not s.is_background]
        if not objects:
            self.main.show_error("Place seeds of at least one object set first")
            return None
        vol = self.main.volume
        lm = self.main.labelmap
        revision = lm.revision
        opts = dict(smoothing_mm=self.smoothing.value(), intensity_tolerance=self.tolerance.value(),
                    max_distance_mm=self.max_distance.value() or None, bridge_radius_mm=self.bridge.value())

        def work(progress: Any) -> dict[str, np.ndarray]:
            from segmentation.grow import grow_from_seeds, seed_image

            img = seed_image(vol.geometry, sets)
            background = [n + 1 for n, s in enumerate(sets) if s.is_background]
            labels = grow_from_seeds(vol, img, background, progress=progress, **opts)
            return {s.name: labels == n + 1 for n, s in enumerate(sets) if not s.is_background}

        def done(masks: dict[str, np.ndarray]) -> None:
            if self.main.labelmap is not lm or not self.still_current(lm, revision, "Grow from seeds"):
                return
            names = ", ".join(masks)
            if self.main.push_command(masks_command(lm, masks, f"Grow from seeds ({names})")):
                self.panel.set_target(next(iter(masks)))

        return self.main.run_worker(work, done, "Grow from seeds")
