"""Edit page: brush, eraser (radius in mm, in-slice disc or sphere), scissors in the slice views and in 3-D.

Each brush drag is one undo step (:class:`app.gui.tools.brush.BrushTool`); each
scissors polygon is cut in a worker and applied as one command. The 3-D scissors
(:class:`app.gui.tools.scissors3d.Scissors3DTool`, a lasso drawn over the 3-D view) cut
through the whole depth along the camera rays, optionally only in a slab around the
crosshair, from the target segment or from every visible segment. Frame: LPS mm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
)

from app.gui.panels.segtools.common import PageBase, hint_label, spin
from app.gui.tools.brush import BrushTool
from app.gui.tools.scissors import ScissorsTool
from app.gui.tools.scissors3d import Scissors3DTool, lasso_cut_command

if TYPE_CHECKING:
    from app.gui.panels.segtools import SegmentToolsPanel

SCISSORS_MODES = {"erase inside": ("erase", True), "erase outside": ("erase", False), "fill inside": ("add", True)}
LASSO_SHAPES = {"free-hand": "free", "rectangle": "rect"}
SCISSORS3D_SCOPES = {"target segment": "target", "all visible segments": "visible"}


class EditPage(PageBase):
    """Brush / eraser / scissors."""

    def __init__(self, panel: SegmentToolsPanel) -> None:
        super().__init__(panel)
        lay = QVBoxLayout(self)
        box = QGroupBox("Tool")  # a long title set the page's (and so the dock's) minimum width
        v = QVBoxLayout(box)
        v.addWidget(hint_label("Left button in the slice views; Scissors 3D in the 3-D view. "
                               "B / E toggle Paint / Erase."))
        h = QGridLayout()
        self.group = QButtonGroup(self)
        self.group.setExclusive(False)
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip in (("brush", "Paint", "Paint the target segment (B toggles)"),
                               ("eraser", "Erase", "Erase the target segment (E toggles)"),
                               ("scissors", "Scissors", "Draw a polygon in a slice view: cut through the whole "
                                                        "volume along the view"),
                               ("scissors3d", "Scissors 3D", "Draw a lasso over the 3-D view (left button; right / "
                                                             "middle / wheel still move the camera; Esc cancels): "
                                                             "cut along the camera rays")):
            b = QPushButton(text)
            b.setObjectName(f"edit_{key}")
            b.setCheckable(True)
            b.setToolTip(tip)
            b.toggled.connect(lambda on, k=key: self._toggled(k, on))
            self.group.addButton(b)
            self.buttons[key] = b
            h.addWidget(b, len(self.buttons) > 2, (len(self.buttons) - 1) % 2)
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
        self.lasso_shape = QComboBox()
        self.lasso_shape.setObjectName("scissors3d_shape")
        self.lasso_shape.addItems(list(LASSO_SHAPES))
        self.lasso_shape.currentIndexChanged.connect(self._sync)
        self.scope = QComboBox()
        self.scope.setObjectName("scissors3d_scope")
        self.scope.addItems(list(SCISSORS3D_SCOPES))
        self.scope.setToolTip("Erase from the target segment only, or from every segment shown "
                              "(fill always paints the target)")
        self.slab = QCheckBox("slab around crosshair")
        self.slab.setObjectName("scissors3d_slab")
        self.slab.setToolTip("Cut only a slab of the given thickness centred on the crosshair")
        self.slab_mm = spin(20.0, 0.5, 1000.0, 1.0, 1, "mm", "scissors3d_slab_mm")
        self.slab_mm.setToolTip("Thickness of the slab, centred on the crosshair, normal to the view direction")
        form.addRow("Brush radius", self.radius)
        form.addRow("Brush shape", self.shape)
        form.addRow("Scissors", self.scissors_mode)
        form.addRow("3D lasso", self.lasso_shape)
        form.addRow("3D cut from", self.scope)
        h2 = QHBoxLayout()
        h2.addWidget(self.slab)
        h2.addWidget(self.slab_mm)
        form.addRow("3D depth", h2)
        v.addLayout(form)
        lay.addWidget(box)
        lay.addStretch(1)
        for key, seq in (("brush", "B"), ("eraser", "E")):
            sc = QShortcut(QKeySequence(seq), self.main)
            sc.setObjectName(f"shortcut_{key}")
            sc.setWhatsThis(f"{self.buttons[key].text()} on / off (segment tools)")  # listed by Help (F1)
            sc.activated.connect(lambda k=key: self.toggle(k))
        self.brush = BrushTool(self.main, self.panel.target)
        self.scissors = ScissorsTool(self.cut)
        self.scissors3d = Scissors3DTool(self.cut3d)
        self.main.view3d.mouse_tool_changed.connect(self._view3d_tool_changed)
        self._sync()

    def _view3d_tool_changed(self, tool: Any) -> None:
        """Another panel took the 3-D view's left button: the 3-D scissors are off."""
        b = self.buttons["scissors3d"]
        if tool is not self.scissors3d and b.isChecked():
            self.scissors3d.cancel()
            b.blockSignals(True)
            b.setChecked(False)
            b.blockSignals(False)

    def _sync(self) -> None:
        self.brush.radius_mm = self.radius.value()
        self.brush.shape = "disc" if self.shape.currentIndex() == 0 else "sphere"
        self.scissors3d.shape = LASSO_SHAPES[self.lasso_shape.currentText()]

    def _toggled(self, key: str, on: bool) -> None:
        if on:
            for k, b in self.buttons.items():
                if k != key and b.isChecked():
                    b.blockSignals(True)
                    b.setChecked(False)
                    b.blockSignals(False)
            if key == "scissors3d":
                self.panel.release_tool(self.scissors)
                self.panel.release_tool(self.brush)
                self._sync()
                self.main.view3d.ensure_ready()
                self.main.view3d.set_mouse_tool(self.scissors3d)
                self.main.statusBar().showMessage("Scissors 3D: draw a lasso over the 3-D view with the left button "
                                                  "(Esc cancels); right / middle / wheel move the camera", 8000)
                return
            self._release_3d()
            if key == "scissors":
                self.panel.activate_tool(self.scissors, self.buttons[key])
            else:
                self.brush.erase = key == "eraser"
                self._sync()
                self.panel.activate_tool(self.brush, self.buttons[key])
        elif key == "scissors3d":
            self._release_3d()
        elif not any(b.isChecked() for b in self.buttons.values()):
            self.panel.release_tool(self.scissors if key == "scissors" else self.brush)

    def _release_3d(self) -> None:
        """Give the 3-D view's left button back to the camera (if the 3-D scissors still hold it)."""
        self.scissors3d.cancel()
        if self.main.view3d.mouse_tool is self.scissors3d:
            self.main.view3d.set_mouse_tool(None)

    def select(self, key: str | None) -> None:
        """Activate ``brush``, ``eraser``, ``scissors``, ``scissors3d`` or nothing (None)."""
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

    # ------------------------------------------------------------------ 3-D scissors
    def cut3d(self, polygon_px: np.ndarray, world_to_display: np.ndarray, viewport_px: tuple[int, int],
              mode: str | None = None, scope: str | None = None) -> Any:
        """Cut with a lasso drawn over the 3-D view (worker + one command).

        Parameters
        ----------
        polygon_px : (n, 2)
            Lasso in 3-D view widget pixels.
        world_to_display : (4, 4)
            The camera when the lasso was drawn (:meth:`app.gui.view3d.View3D.world_to_display`).
        viewport_px : (w, h)
            Size of the 3-D view; the lasso is clipped to it.
        mode : str, optional
            A key of :data:`SCISSORS_MODES` (default: the page's choice).
        scope : {"target", "visible"}, optional
            Erase from the target segment or from every visible segment (default: the page's choice).
        """
        if not self.require_volume():
            return None
        mode = mode or self.scissors_mode.currentText()
        op, inside = SCISSORS_MODES[mode]
        scope = scope or SCISSORS3D_SCOPES[self.scope.currentText()]
        lm = self.main.labelmap
        if op == "add" or scope == "target":
            name = self.require_target()
            if name is None:
                return None
            if op == "add" and all(s.name != name for s in lm.segments):
                self.main.show_error(f"Add the segment {name!r} before filling it")
                return None
            names = [name]
        else:
            names = [s.name for s in lm.segments if self.main.overlay.is_visible(s.name)]
            if not names:
                self.main.show_error("Scissors 3D: no visible segment to cut")
                return None
        slab = None
        if self.slab.isChecked():
            direction = np.array(self.main.view3d.plotter.camera.GetDirectionOfProjection(), float)
            slab = (self.main.current_position_lps.copy(), direction, float(self.slab_mm.value()))
        poly = np.asarray(polygon_px, float).copy()
        m = np.asarray(world_to_display, float).copy()
        view = (float(viewport_px[0]), float(viewport_px[1]))
        revision = lm.revision
        label = f"Scissors 3D ({mode})"

        def work(progress: Any) -> tuple[Any, dict[str, int]]:
            progress.update(0.02, "scissors 3D")
            return lasso_cut_command(lm, names, m, poly, view, op=op, inside=inside, slab=slab, progress=progress)

        def done(result: tuple[Any, dict[str, int]]) -> None:
            cmd, counts = result
            if self.main.labelmap is not lm or not self.still_current(lm, revision, label):
                return
            if cmd is None:
                self.main.statusBar().showMessage(f"{label}: nothing to cut", 5000)
                return
            if self.main.push_command(cmd):
                top = sorted(counts.items(), key=lambda kv: -kv[1])
                detail = ", ".join(f"{n} {c}" for n, c in top[:4]) + (", ..." if len(top) > 4 else "")
                self.main.statusBar().showMessage(f"{label}: {sum(counts.values())} voxels in {len(counts)} "
                                                  f"segment{'s' if len(counts) > 1 else ''} ({detail})", 8000)

        return self.main.run_worker(work, done, label)
