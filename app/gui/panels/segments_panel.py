"""Segments panel: table of segments with visibility, colour, opacity, name and volume.

Name, colour, add and remove are undoable commands
(:mod:`twin.labelmap_commands`); visibility and opacity are display settings
(:class:`rendering.overlay.OverlayStyle`) and are not part of the undo history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.gui.panels.base import Panel
from twin.labelmap_commands import AddSegment, RemoveSegment, UpdateSegment
from twin.plan_commands import rename_segment_command

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

COL_VIS, COL_COLOR, COL_NAME, COL_OPACITY, COL_VOLUME = range(5)


def _qcolor(rgb: tuple[float, float, float]) -> QColor:
    return QColor.fromRgbF(*[float(np.clip(c, 0, 1)) for c in rgb])


class SegmentsPanel(Panel):
    """List and edit the segments of the current label map."""

    title = "Segments"
    object_name = "segments_panel"

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        lay = QVBoxLayout(self)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("segments_table")
        self.table.setHorizontalHeaderLabels(["Show", "", "Name", "Opacity", "mL"])
        self.table.verticalHeader().hide()
        for col, tip in ((COL_COLOR, "Colour (double-click to change)"), (COL_VOLUME, "Volume in millilitres")):
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(COL_COLOR, QHeaderView.ResizeMode.Fixed)
        for c in (COL_VIS, COL_OPACITY, COL_VOLUME):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setColumnWidth(COL_COLOR, 26)  # narrow swatch, spin box without arrows, 1-decimal volumes:
        # the names (e.g. "subcutaneous_fat", "inferior_vena_cava") get the width
        self.setMinimumWidth(340)
        self.table.itemChanged.connect(self._item_changed)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        lay.addWidget(self.table)
        row = QHBoxLayout()
        for text, slot, name, tip in (
            ("Add", self.add_segment_dialog, "add_segment", "Add an empty segment (Ctrl+Shift+A)"),
            ("Remove", self.remove_selected, "remove_segment", "Remove the selected segment and its voxels"),
            ("Rename", self.rename_selected_dialog, "rename_segment", "Rename the selected segment (F2)"),
        ):
            b = QPushButton(text)
            b.setObjectName(name)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            row.addWidget(b)
        lay.addLayout(row)
        self._updating = False
        self._volume_cache: tuple[tuple[int, int], dict[str, float]] | None = None
        self._volume_job: tuple[int, int] | None = None

    # ------------------------------------------------------------------ helpers
    def selected_name(self) -> str | None:
        """Name of the selected segment."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), COL_NAME)
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _volumes_ml(self) -> dict[str, float] | None:
        """Segment volumes (mL) if known for the current revision; otherwise start computing them."""
        lm = self.main.labelmap
        key = (id(lm), lm.revision)
        if self._volume_cache and self._volume_cache[0] == key:
            return self._volume_cache[1]
        if self._volume_job != key:
            self._volume_job = key
            segments = list(lm.segments)
            layers = list(lm.layers)
            voxel_ml = lm.geometry.voxel_volume_mm3 / 1000.0

            def work(progress: object) -> dict[str, float]:
                # voxel counts of every label at once (one pass per layer), in a worker: ~1 s on 100 M voxels
                counts = [np.bincount(layer.ravel(order="K"), minlength=1) for layer in layers]
                return {s.name: (float(counts[s.layer][s.value]) if s.value < len(counts[s.layer]) else 0.0)
                        * voxel_ml for s in segments}

            def done(vols: dict[str, float]) -> None:
                self._volume_cache = (key, vols)
                if self.main.labelmap is lm and lm.revision == key[1]:
                    self._fill_volumes(vols)

            self.main.run_worker(work, done, "Measuring segments")
        return None

    def _fill_volumes(self, vols: dict[str, float]) -> None:
        self._updating = True
        try:
            for r in range(self.table.rowCount()):
                name = self.table.item(r, COL_NAME).data(Qt.ItemDataRole.UserRole)
                item = self.table.item(r, COL_VOLUME)
                if item is not None and name in vols:
                    item.setText(f"{vols[name]:.1f}")
        finally:
            self._updating = False

    # ------------------------------------------------------------------ refresh
    def on_project_changed(self) -> None:  # noqa: D102
        self._volume_cache = None
        self.on_labelmap_changed()

    def on_labelmap_changed(self) -> None:  # noqa: D102
        lm = self.main.labelmap
        selected = self.selected_name() or self.main.selected_segment
        self._updating = True
        try:
            self.table.setRowCount(0)
            if lm is None:
                return
            if not lm.segments:
                return
            vols = self._volumes_ml() or {}
            self.table.setRowCount(len(lm.segments))
            for r, s in enumerate(lm.segments):
                st = self.main.overlay.segments.get(s.name)
                vis = QTableWidgetItem()
                vis.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                vis.setCheckState(Qt.CheckState.Checked if self.main.overlay.is_visible(s.name)
                                  or not self.main.overlay.visible else Qt.CheckState.Unchecked)
                self.table.setItem(r, COL_VIS, vis)
                col = QTableWidgetItem()
                col.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                col.setBackground(QBrush(_qcolor(st.color if st and st.color else s.color)))
                col.setToolTip("Double-click to change the colour")
                self.table.setItem(r, COL_COLOR, col)
                name = QTableWidgetItem(s.name)
                name.setData(Qt.ItemDataRole.UserRole, s.name)
                name.setToolTip(f"{s.name} (label {s.value}, layer {s.layer}); double-click to rename")
                name.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, COL_NAME, name)
                spin = QSpinBox()
                spin.setRange(0, 100)
                spin.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)  # wheel / typing; arrows cost the names
                spin.setToolTip("Overlay opacity (%) of this segment: mouse wheel or type")
                spin.setFrame(False)
                spin.setValue(int(round(100 * (st.opacity if st and st.opacity is not None
                                               else self.main.overlay.opacity))))
                spin.valueChanged.connect(lambda v, n=s.name: self.set_opacity(n, v / 100.0))
                self.table.setCellWidget(r, COL_OPACITY, spin)
                vol = QTableWidgetItem(f"{vols[s.name]:.1f}" if s.name in vols else "...")
                vol.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                vol.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, COL_VOLUME, vol)
                if s.name == selected:
                    self.table.selectRow(r)
        finally:
            self._updating = False

    # ------------------------------------------------------------------ edits
    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._updating:
            return
        lm = self.main.labelmap
        row = item.row()
        old = self.table.item(row, COL_NAME).data(Qt.ItemDataRole.UserRole)
        if item.column() == COL_VIS:
            self.set_visible(old, item.checkState() == Qt.CheckState.Checked)
        elif item.column() == COL_NAME:
            new = item.text().strip()
            if new and new != old:
                self.rename(old, new)
            else:
                self.on_labelmap_changed()
        del lm

    def _double_clicked(self, row: int, col: int) -> None:
        if col != COL_COLOR:
            return
        name = self.table.item(row, COL_NAME).data(Qt.ItemDataRole.UserRole)
        seg = self.main.labelmap.segment(name)
        c = QColorDialog.getColor(_qcolor(seg.color), self, f"Colour of {name}")
        if c.isValid():
            self.set_color(name, (c.redF(), c.greenF(), c.blueF()))

    def _selection_changed(self) -> None:
        if not self._updating:
            self.main.select_segment(self.selected_name())

    def add_segment(self, name: str, color: tuple[float, float, float] | None = None) -> bool:
        """Add an empty segment (undoable)."""
        lm = self.main.labelmap
        if lm is None:
            self.main.show_error("Open an image first")
            return False
        try:
            cmd = AddSegment(lm, name, color)
        except Exception as exc:  # noqa: BLE001
            self.main.show_error(str(exc))
            return False
        ok = self.main.push_command(cmd)
        if ok:
            self.main.select_segment(name)
            self.on_labelmap_changed()
        return ok

    def add_segment_dialog(self) -> None:
        """Ask for a name and add the segment."""
        lm = self.main.labelmap
        if lm is None:
            self.main.show_error("Open an image first")
            return
        default = f"segment_{len(lm.segments) + 1}"
        name, ok = QInputDialog.getText(self, "Add segment", "Name:", text=default)
        if ok and name.strip():
            self.add_segment(name.strip())

    def remove_selected(self) -> None:
        """Remove the selected segment (undoable)."""
        name = self.selected_name()
        if name is None:
            return
        self.main.push_command(RemoveSegment(self.main.labelmap, name))

    def rename(self, old: str, new: str) -> bool:
        """Rename a segment (undoable); display settings and the plan's references follow the name."""
        try:  # the plan's references (targets, roles...) follow the name in the same undo step
            cmd = rename_segment_command(self.main.project, self.main.labelmap, old, new)
        except Exception as exc:  # noqa: BLE001
            self.main.show_error(str(exc))
            self.on_labelmap_changed()
            return False
        ok = self.main.push_command(cmd)
        if ok and old in self.main.overlay.segments:
            # shared, not moved: after an undo of the rename the old name finds its display settings again
            self.main.overlay.segments[new] = self.main.overlay.segments[old]
        if ok and self.main.selected_segment == old:
            self.main.select_segment(new)
        return ok

    def rename_selected_dialog(self) -> None:
        """Ask for a new name for the selected segment."""
        name = self.selected_name()
        if name is None:
            return
        new, ok = QInputDialog.getText(self, "Rename segment", "New name:", text=name)
        if ok and new.strip() and new.strip() != name:
            self.rename(name, new.strip())

    def set_color(self, name: str, rgb: tuple[float, float, float]) -> bool:
        """Change a segment's colour (undoable)."""
        return self.main.push_command(UpdateSegment(self.main.labelmap, name, color=tuple(float(c) for c in rgb)))

    def set_visible(self, name: str, visible: bool) -> None:
        """Show/hide a segment in slices and 3D (display setting)."""
        self.main.overlay.style(name).visible = visible
        self.main.overlay_changed()
        self.main.scene3d.restyle()

    def set_opacity(self, name: str, opacity: float) -> None:
        """Per-segment overlay opacity in [0, 1] (display setting)."""
        self.main.overlay.style(name).opacity = opacity
        self.main.overlay_changed()
