"""Shared plumbing of the segmentation-tools pages: the target segment, mask jobs in workers, one command each.

A *mask job* computes a boolean mask ``(ni, nj, nk)`` on the label map's grid in
a worker (``fn(progress) -> mask``) and applies it on the GUI thread as ONE
undoable command: ``SetSegmentMask`` on an existing segment, or ``AddSegment``
with the mask when the segment does not exist yet. Frame: LPS mm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QWidget

from app.gui.tools.commands import Batch
from twin.commands import Command
from twin.labelmap_commands import AddSegment, SetSegmentMask

if TYPE_CHECKING:
    from app.gui.panels.segtools import SegmentToolsPanel


def spin(value: float, lo: float, hi: float, step: float = 1.0, decimals: int = 1, suffix: str = "",
         name: str = "") -> QDoubleSpinBox:
    """A QDoubleSpinBox with range, step, decimals and a unit suffix."""
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setDecimals(decimals)
    s.setValue(value)
    if suffix:
        s.setSuffix(f" {suffix}")
    if name:
        s.setObjectName(name)
    s.setKeyboardTracking(False)
    return s


def button(text: str, slot: Callable[[], Any], name: str, tip: str = "") -> QPushButton:
    """A push button with an object name (tests find widgets by name) and a tooltip."""
    b = QPushButton(text)
    b.setObjectName(name)
    if tip:
        b.setToolTip(tip)
    b.clicked.connect(lambda _=False: slot())
    return b


def hint_label(text: str) -> QLabel:
    """A wrapped, dimmed explanatory label readable on light and dark palettes."""
    lbl = QLabel(text)
    lbl.setWordWrap(True)
    pal = lbl.palette()
    fg, bg = pal.color(QPalette.ColorRole.WindowText), pal.color(QPalette.ColorRole.Window)
    mix = QColor(*(int(0.68 * a + 0.32 * b) for a, b in zip(fg.getRgb()[:3], bg.getRgb()[:3])))
    pal.setColor(QPalette.ColorRole.WindowText, mix)
    lbl.setPalette(pal)
    return lbl


def row(*widgets: QWidget | str) -> QHBoxLayout:
    """Widgets (strings become labels) side by side."""
    lay = QHBoxLayout()
    lay.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        lay.addWidget(QLabel(w) if isinstance(w, str) else w)
    return lay


def mask_command(labelmap: Any, name: str, mask: np.ndarray, mode: str = "replace", text: str | None = None,
                 color: tuple[float, float, float] | None = None) -> Command:
    """The command that gives segment ``name`` the ``mask`` (adding the segment if it does not exist)."""
    if any(s.name == name for s in labelmap.segments):
        return SetSegmentMask(labelmap, name, mask, mode, text=text)
    cmd = AddSegment(labelmap, name, color, mask=mask if mode != "erase" else None, allow_overlap=True)
    if text:
        cmd.text = text
    return cmd


def masks_command(labelmap: Any, masks: dict[str, np.ndarray], text: str) -> Command:
    """Several segments replaced (or added) at once, as one undo step."""
    factories = [lambda n=n, m=m: mask_command(labelmap, n, m) for n, m in masks.items()]
    return Batch(text, factories)


class PageBase(QWidget):
    """A page of the segmentation-tools panel with access to the panel and the window."""

    def __init__(self, panel: SegmentToolsPanel) -> None:
        super().__init__()
        self.panel = panel
        self.main = panel.main

    def on_shown(self) -> None:
        """The page became the current one."""

    def on_panel_shown(self) -> None:
        """The panel's dock became visible with this page open."""

    def on_hidden(self) -> None:
        """Another page became current."""

    def on_labelmap_changed(self) -> None:
        """The label map changed."""

    def on_project_changed(self) -> None:
        """A new project is open."""

    def require_target(self) -> str | None:
        """The target segment, or None after telling the user to choose one."""
        name = self.panel.target()
        if name is None:
            self.main.show_error("Choose or add a target segment first")
        return name

    def require_volume(self) -> bool:
        """Whether an image (and its label map) is open; tells the user otherwise."""
        if self.main.volume is None or self.main.labelmap is None:
            self.main.show_error("Open an image first")
            return False
        return True

    def still_current(self, labelmap: Any, revision: int, label: str) -> bool:
        """False (and a message) when the label map was edited while a job computed its result from it:
        applying the stale result would silently undo those edits."""
        if labelmap.revision == revision:
            return True
        self.main.show_error(f"{label}: the segmentation was edited while it was computing; "
                             "nothing was changed - run it again")
        return False

    def run_mask(self, label: str, fn: Callable[[Any], np.ndarray], name: str, mode: str = "replace",
                 text: str | None = None, on_applied: Callable[[], None] | None = None) -> Any:
        """Compute ``fn(progress) -> mask`` in a worker, then apply it to segment ``name`` as one command."""
        lm = self.main.labelmap
        revision = lm.revision

        def done(mask: np.ndarray) -> None:
            if self.main.labelmap is not lm:
                return  # another project was opened meanwhile
            if not self.still_current(lm, revision, label):
                return
            if self.main.push_command(mask_command(lm, name, np.asarray(mask, bool), mode, text or f"{label} {name}")):
                self.panel.set_target(name)
                if on_applied is not None:
                    on_applied()

        return self.main.run_worker(fn, done, label)
