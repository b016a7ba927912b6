"""Dock panels of the main window.

Extension point: add a :class:`app.gui.panels.base.Panel` subclass in a module
here and append it to :data:`PANEL_CLASSES` (order = dock order; panels with the
same ``area`` are tabbed). The segmentation-tools and simulation panels plug in
the same way as the data and segments panels below.
"""

from __future__ import annotations

from app.gui.panels.base import Panel
from app.gui.panels.data_panel import DataPanel
from app.gui.panels.planning import PlanningPanel
from app.gui.panels.segment_tools import SegmentToolsPanel
from app.gui.panels.segments_panel import SegmentsPanel
from app.gui.panels.simulation import SimulationPanel

PANEL_CLASSES: list[type[Panel]] = [DataPanel, SegmentsPanel, SegmentToolsPanel, SimulationPanel, PlanningPanel]
"""Panels created by every new :class:`app.gui.main_window.MainWindow` (unless ``panels=`` is given)."""

__all__ = ["PANEL_CLASSES", "DataPanel", "Panel", "PlanningPanel", "SegmentToolsPanel",
           "SegmentsPanel", "SimulationPanel"]
