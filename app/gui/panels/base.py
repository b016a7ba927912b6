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
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

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
