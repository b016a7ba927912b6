"""Base class of the dock panels of the main window (the extension point for new tools).

A panel is a ``QWidget`` shown in a dock. To add one (e.g. segmentation tools,
simulation set-up), subclass :class:`Panel`, set ``title``, ``object_name`` and
``area`` (optionally ``tab_with``), build
widgets in ``__init__(window)``, and register the class in
:data:`app.gui.panels.PANEL_CLASSES` (or pass ``panels=[...]`` to
``MainWindow``). Keep logic in the Qt-free packages: a panel collects
parameters, runs the long work with ``window.run_worker(fn, on_done, label)``
and applies results with ``window.push_command(cmd)``.

Hooks called by the window (override what you need):

* :meth:`on_project_changed` - a new project was opened / created (new objects);
* :meth:`on_labelmap_changed` - the label map's content or segment table changed
  (after every command, undo and redo);
* :meth:`on_position_changed` - the crosshair moved (LPS mm);
* :meth:`on_selected_segment_changed` - the current segment in the segments panel changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar, QToolBox, QWidget

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow


class Panel(QWidget):
    """A dockable tool panel bound to a :class:`MainWindow`."""

    title: ClassVar[str] = "Panel"
    area: ClassVar[Qt.DockWidgetArea] = Qt.DockWidgetArea.LeftDockWidgetArea
    object_name: ClassVar[str] = ""
    tab_with: ClassVar[str | None] = None
    """``object_name`` of a panel to share a tabbed dock with (None: stack below the others)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.setObjectName(self.object_name or type(self).__name__)
        if self.tab_with:  # after MainWindow.add_panel has tabified this panel's dock
            QTimer.singleShot(0, lambda: hide_stale_dock_tab_bars(window))

    @property
    def main(self) -> MainWindow:
        """The main window (``window()`` is Qt's top-level widget accessor, so we use another name)."""
        return self.window_

    def on_project_changed(self) -> None:
        """A new project is in ``self.main.project``."""

    def on_labelmap_changed(self) -> None:
        """The current label map changed (voxels or table)."""

    def on_position_changed(self, position_lps: np.ndarray) -> None:
        """The crosshair moved to ``position_lps`` (mm)."""

    def on_selected_segment_changed(self, name: str | None) -> None:
        """The selected segment changed."""


def hide_stale_dock_tab_bars(window: QMainWindow) -> int:
    """Hide the duplicate tab bar Qt 6.11 leaves behind when a second group of docks is tabified.

    With two tabbed dock groups (segments | tools on the left, simulation | planning on the right),
    ``QMainWindow.tabifyDockWidget`` creates two tab bars for the second group: the layout drives one;
    the other keeps its first geometry and tab, is never updated, and shows through as a stale tab
    (a "la" fragment of "Planning") once the dock area is resized. The live bar is the one that
    follows ``QDockWidget.raise_()``; the others are hidden. Returns the number of bars hidden.
    """
    docks = {d.windowTitle(): d for d in window.findChildren(QDockWidget)}
    groups: dict[tuple[str, ...], list[QTabBar]] = {}
    for bar in window.findChildren(QTabBar):
        if bar.parent() is window and bar.count() > 1 and not bar.isHidden():
            groups.setdefault(tuple(bar.tabText(i) for i in range(bar.count())), []).append(bar)
    hidden = 0
    for titles, bars in groups.items():
        if len(bars) < 2 or not all(t in docks for t in titles):
            continue
        before = [b.currentIndex() for b in bars]
        live = list(bars)
        for i in (1, 0):  # a live bar follows both raises
            docks[titles[i]].raise_()
            live = [b for b in live if b.currentIndex() == i]
        if len(live) != 1:
            continue  # cannot tell which one Qt drives: leave them alone
        docks[titles[before[bars.index(live[0])]]].raise_()  # the tab that was shown stays shown
        for b in bars:
            if b is not live[0]:
                b.hide()
                hidden += 1
    return hidden


def steady_toolbox_width(panel: QWidget, toolbox: QToolBox) -> tuple[int, int]:
    """(minimum, preferred) width of ``panel`` whatever page of ``toolbox`` is open, in px.

    A dock follows the size hints of the page shown: opening another page of a tool box made the dock jump
    by up to 100 px and the four views reflow (simulation: 405 -> 360 -> 456 -> 360 px). A panel returns
    these widths from ``minimumSizeHint`` / ``sizeHint`` (see :class:`SteadyToolBoxWidth`) so that its dock
    keeps one width from page to page. The pages are QToolBox's scroll areas (vertical scrolling only).
    """
    from PySide6.QtWidgets import QScrollArea, QStyle

    m = panel.contentsMargins()
    lay = panel.layout()
    lm = lay.contentsMargins() if lay is not None else m
    extra = m.left() + m.right() + lm.left() + lm.right()
    bar = panel.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    pages = [a.widget() for a in toolbox.findChildren(QScrollArea) if a.widget() is not None]
    minimum = max((w.minimumSizeHint().width() for w in pages), default=0) + extra + bar
    # preferred = minimum: word-wrapped hints would widen the dock by 40 px more, taken from the views
    return minimum, minimum


class SteadyToolBoxWidth:
    """Mixin for a :class:`Panel` with a ``toolbox`` (QToolBox): size hints of its widest page, always."""

    toolbox: QToolBox

    def minimumSizeHint(self):  # noqa: N802, ANN201, D102
        hint = super().minimumSizeHint()  # type: ignore[misc]
        if getattr(self, "toolbox", None) is not None:
            hint.setWidth(max(hint.width(), steady_toolbox_width(self, self.toolbox)[0]))  # type: ignore[arg-type]
        return hint

    def sizeHint(self):  # noqa: N802, ANN201, D102
        hint = super().sizeHint()  # type: ignore[misc]
        if getattr(self, "toolbox", None) is not None:
            hint.setWidth(steady_toolbox_width(self, self.toolbox)[1])  # type: ignore[arg-type]
        return hint
