"""Edit page: brush, eraser (radius in mm, in-slice disc or sphere) and scissors in the slice views.

Each brush drag is one undo step (:class:`app.gui.tools.brush.BrushTool`); each
scissors polygon is cut in a worker and applied as one command. Frame: LPS mm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
)

from app.gui.panels.segtools.common import PageBase, spin
from app.gui.tools.brush import BrushTool
from app.gui.tools.scissors import ScissorsTool

if TYPE_CHECKING:
    from app.gui.panels.segtools import SegmentToolsPanel

SCISSORS_MODES = {"erase inside": ("erase", True), "erase outside": ("erase", False), "fill inside": ("add", True)}


class EditPage(PageBase):
    """Brush / eraser / scissors."""

    def __init__(self, panel: SegmentToolsPanel) -> None:
        super().__init__(panel)
        lay = QVBoxLayout(self)
        box = QGroupBox("Tool (left button in the slice views)")
        v = QVBoxLayout(box)
        h = QHBoxLayout()
        self.group = QButtonGroup(self)
        self.group.setExclusive(False)
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip in (("brush", "Paint", "Paint the target segment (B toggles)"),
                               ("eraser", "Erase", "Erase the target segment (E toggles)"),
                               ("scissors", "Scissors", "Draw a polygon: cut through the whole volume along the view")):
            b = QPushButton(text)
            b.setObjectName(f"edit_{key}")
            b.setCheckable(True)
            b.setToolTip(tip)
            b.toggled.connect(lambda on, k=key: self._toggled(k, on))
            self.group.addButton(b)
            self.buttons[key] = b
            h.addWidget(b)
        v.addLayout(h)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.radius = spin(3.0, 0.2, 100, 0.5, 1, "mm", "brush_radius")
        self.radius.valueChanged.connect(self._sync)
        self.shape = QComboBox()
        self.shape.setObjectName("brush_shape")
        self.shape.addItems(["disc (in slice)", "sphere (3D)"])
        self.shape.currentIndexChanged.connect(self._sync)
        self.scissors_mode = QComboBox()
        self.scissors_mode.setObjectName("scissors_mode")
        self.scissors_mode.addItems(list(SCISSORS_MODES))
        form.addRow("Brush radius", self.radius)
        form.addRow("Brush shape", self.shape)
        form.addRow("Scissors", self.scissors_mode)
        v.addLayout(form)
        lay.addWidget(box)
        lay.addStretch(1)
        for key, seq in (("brush", "B"), ("eraser", "E")):
            sc = QShortcut(QKeySequence(seq), self.main)
            sc.activated.connect(lambda k=key: self.toggle(k))
        self.brush = BrushTool(self.main, self.panel.target)
        self.scissors = ScissorsTool(self.cut)
        self._sync()

    def _sync(self) -> None:
        self.brush.radius_mm = self.radius.value()
        self.brush.shape = "disc" if self.shape.currentIndex() == 0 else "sphere"

    def _toggled(self, key: str, on: bool) -> None:
        if on:
            for k, b in self.buttons.items():
                if k != key and b.isChecked():
                    b.blockSignals(True)
                    b.setChecked(False)
                    b.blockSignals(False)
            if key == "scissors":
                self.panel.activate_tool(self.scissors, self.buttons[key])
            else:
                self.brush.erase = key == "eraser"
                self._sync()
                self.panel.activate_tool(self.brush, self.buttons[key])
        elif not any(b.isChecked() for b in self.buttons.values()):
            self.panel.release_tool(self.scissors if key == "scissors" else self.brush)

    def select(self, key: str | None) -> None:
        """Activate ``brush``, ``eraser``, ``scissors`` or nothing (None)."""
        for k, b in self.buttons.items():
            if k != key and b.isChecked():
                b.setChecked(False)
        if key is not None:
            self.buttons[key].setChecked(True)

    def toggle(self, key: str) -> None:
        """Keyboard shortcut: switch tool ``key`` on (opening this page) or off."""
        if self.buttons[key].isChecked():
            self.select(None)
            return
        dock = self.panel.parentWidget()
        if isinstance(dock, QDockWidget):
            dock.show()
            dock.raise_()
        self.panel.show_page(self)
        self.select(key)

    def on_hidden(self) -> None:  # noqa: D102
        self.select(None)

    # ------------------------------------------------------------------ scissors
    def cut(self, polygon_uv: np.ndarray, plane: Any, mode: str | None = None) -> Any:
        """Cut the target segment with a polygon drawn on ``plane`` (worker + one command)."""
        name = self.require_target()
        if name is None or not self.require_volume():
            return None
        mode = mode or self.scissors_mode.currentText()
        op, inside = SCISSORS_MODES[mode]
        lm = self.main.labelmap
        geom = lm.geometry
        seg_mask = lm.mask(name)
        col, rowd = plane.col_dir.copy(), plane.row_dir.copy()
        poly = np.asarray(polygon_uv, float).copy()

        def work(progress: Any) -> np.ndarray:
            from app.gui.tools.geometry import prism_mask

            progress.update(0.1, "scissors")
            if op == "erase" and inside:
                return prism_mask(geom, poly, col, rowd, restrict=seg_mask)
            if op == "erase":
                return seg_mask & ~prism_mask(geom, poly, col, rowd, restrict=seg_mask)
            return prism_mask(geom, poly, col, rowd)

        return self.run_mask("Scissors", work, name, mode="erase" if op == "erase" else "add",
                             text=f"Scissors ({mode}) {name}")
