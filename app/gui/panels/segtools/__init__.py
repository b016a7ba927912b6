"""Segmentation tools panel: threshold (live preview, presets), grow from seeds, brush / eraser / scissors,
islands / margin / hollow / smoothing / holes / logical operations / level set, surfaces, import / export.

Every tool works on the *target segment* chosen at the top (kept in sync with
the selection of the segments panel). Work that can take more than ~100 ms runs
in a worker (progress bar and Cancel in the status bar) and is applied as ONE
undoable command. Slice tools (seeds, brush, scissors) take the left button of
the slice views while their button is down. Frame: patient LPS, mm.

Programmatic use (tests, scripts): ``panel.set_target(name)``, then the page
methods, e.g. ``panel.threshold.apply()``, ``panel.grow.grow()``,
``panel.edit.brush.begin/extend/end(point_lps)``, ``panel.refine.apply_margin()``,
``panel.files.generate_surfaces()``, ``panel.files.import_path(p)``,
``panel.files.export_path("seg.nrrd", p)``; ``window.wait_for_workers()`` waits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolBox,
    QVBoxLayout,
    QWidget,
)

from app.gui.panels.base import Panel, SteadyToolBoxWidth
from app.gui.panels.segtools.common import button
from app.gui.panels.segtools.edit_page import EditPage
from app.gui.panels.segtools.files_page import FilesPage
from app.gui.panels.segtools.grow_page import GrowPage
from app.gui.panels.segtools.refine_page import RefinePage
from app.gui.panels.segtools.threshold_page import ThresholdPage
from app.gui.tools.overlay import overlays_for
from twin.labelmap_commands import AddSegment

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow


class SegmentToolsPanel(SteadyToolBoxWidth, Panel):
    """Dock panel with the segmentation tools (see the module docstring)."""

    title = "Segment tools"
    object_name = "segment_tools_panel"
    area = Qt.DockWidgetArea.LeftDockWidgetArea
    tab_with = "segments_panel"

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        top.addWidget(QLabel("Target:"))
        self.target_combo = QComboBox()
        self.target_combo.setObjectName("target_segment")
        self.target_combo.setToolTip("Segment the tools write into (same as the selection in Segments)")
        self.target_combo.currentTextChanged.connect(self._combo_changed)
        top.addWidget(self.target_combo, 1)
        top.addWidget(button("New", self.new_segment, "target_new", "Add an empty segment and make it the target"))
        outer.addLayout(top)
        self.toolbox = QToolBox()
        self.toolbox.setObjectName("segtools_toolbox")
        self.threshold = ThresholdPage(self)
        self.grow = GrowPage(self)
        self.edit = EditPage(self)
        self.refine = RefinePage(self)
        self.files = FilesPage(self)
        self.pages = [self.threshold, self.grow, self.edit, self.refine, self.files]
        for page, text in zip(self.pages, ("Threshold and presets", "Seeds and grow", "Paint, erase, scissors",
                                           "Islands, margin, smoothing, logic", "Surfaces, import, export")):
            self.toolbox.addItem(page, text)
        for area in self.toolbox.findChildren(QScrollArea):  # QToolBox scrolls each page: vertically only
            area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(self.toolbox, 1)
        self.setMinimumWidth(330)
        self._current = 0
        self._active_tool: Any = None
        self._tool_button: QPushButton | None = None
        self.toolbox.currentChanged.connect(self._page_changed)
        overlays_for(window).set_painter("active_tool", self._paint_tool)
        self._updating = False
        # tabbed behind the segments list: show the list first (the tools are one click away)
        QTimer.singleShot(0, self._raise_segments_tab)

    def _raise_segments_tab(self) -> None:
        dock = self.main.findChild(QDockWidget, f"dock_{self.tab_with}")
        if dock is not None:
            dock.raise_()

    # ------------------------------------------------------------------ target segment
    def target(self) -> str | None:
        """The target segment name (None when there is none)."""
        lm = self.main.labelmap
        name = self.target_combo.currentText()
        if lm is None or not name or not any(s.name == name for s in lm.segments):
            return None
        return name

    def set_target(self, name: str | None) -> None:
        """Make ``name`` the target (and the window's selected segment)."""
        self._refill()
        if name is not None:
            idx = self.target_combo.findText(name)
            if idx >= 0:
                self.target_combo.setCurrentIndex(idx)
        self.main.select_segment(name)

    def ensure_target(self, default_name: str) -> str:
        """The target, or a new empty segment named ``default_name`` (made unique) when there is none."""
        t = self.target()
        if t is not None:
            return t
        lm = self.main.labelmap
        names = {s.name for s in lm.segments}
        name, n = default_name, 2
        while name in names:
            name, n = f"{default_name}_{n}", n + 1
        return name

    def new_segment(self, name: str | None = None) -> str | None:
        """Add an empty segment (undoable) and make it the target."""
        lm = self.main.labelmap
        if lm is None:
            self.main.show_error("Open an image first")
            return None
        name = name or self.ensure_target_name()
        if self.main.push_command(AddSegment(lm, name)):
            self.set_target(name)
            return name
        return None

    def ensure_target_name(self) -> str:
        """A free name ``segment_N``."""
        lm = self.main.labelmap
        names = {s.name for s in lm.segments}
        n = len(names) + 1
        while f"segment_{n}" in names:
            n += 1
        return f"segment_{n}"

    def _refill(self) -> None:
        lm = self.main.labelmap
        names = [s.name for s in lm.segments] if lm is not None else []
        if [self.target_combo.itemText(i) for i in range(self.target_combo.count())] == names:
            return
        cur = self.target_combo.currentText() or self.main.selected_segment
        self._updating = True
        self.target_combo.clear()
        self.target_combo.addItems(names)
        if cur in names:
            self.target_combo.setCurrentText(cur)
        self._updating = False

    def _combo_changed(self, name: str) -> None:
        if not self._updating and name:
            self.main.select_segment(name)

    # ------------------------------------------------------------------ hooks
    def on_project_changed(self) -> None:  # noqa: D102
        if self._active_tool is not None:
            self.release_tool(self._active_tool)
        self.grow.seeds.sets.clear()
        self.grow._refill()
        self._refill()
        for p in self.pages:
            p.on_project_changed()

    def on_labelmap_changed(self) -> None:  # noqa: D102
        self._refill()
        for p in self.pages:
            p.on_labelmap_changed()

    def on_selected_segment_changed(self, name: str | None) -> None:  # noqa: D102
        if name and name != self.target_combo.currentText():
            self._refill()
            idx = self.target_combo.findText(name)
            if idx >= 0:
                self._updating = True
                self.target_combo.setCurrentIndex(idx)
                self._updating = False

    def _page_changed(self, index: int) -> None:
        if 0 <= self._current < len(self.pages):
            self.pages[self._current].on_hidden()
        self._current = index
        self.pages[index].on_shown()

    def show_page(self, page: QWidget) -> None:
        """Open a page of the tool box."""
        self.toolbox.setCurrentWidget(page)

    def showEvent(self, ev) -> None:  # noqa: N802, ANN001
        super().showEvent(ev)
        self.pages[self.toolbox.currentIndex()].on_panel_shown()

    def hideEvent(self, ev) -> None:  # noqa: N802, ANN001
        super().hideEvent(ev)
        for p in self.pages:
            p.on_hidden()

    # ------------------------------------------------------------------ slice tools
    def activate_tool(self, tool: Any, btn: QPushButton | None = None) -> None:
        """Give ``tool`` the left button of the slice views (un-checking the previous tool's button)."""
        if self._tool_button is not None and self._tool_button is not btn and self._tool_button.isChecked():
            prev = self._tool_button
            self._tool_button = None
            prev.setChecked(False)
        self._active_tool = tool
        self._tool_button = btn
        self.main.set_slice_tool(tool)
        overlays_for(self.main).update()

    def release_tool(self, tool: Any) -> None:
        """Remove ``tool`` if it is the active one (the left button moves the crosshair again)."""
        if self._active_tool is tool:
            self._active_tool = None
            self._tool_button = None
            if self.main.slice_tool is tool:
                self.main.set_slice_tool(None)
        overlays_for(self.main).update()

    def _paint_tool(self, view: Any, p: Any, hover: Any) -> None:
        tool = self.main.slice_tool
        if tool is not None and tool is self._active_tool and hasattr(tool, "paint"):
            tool.paint(view, p, hover)
