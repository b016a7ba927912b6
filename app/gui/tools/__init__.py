"""Slice-view tools of the segmentation panel (brush / eraser, seeds, scissors) and their Qt-free helpers.

A tool implements the ``SliceTool`` protocol of :mod:`app.gui.main_window`
(``press/move/release(view, point_lps, event)``) and is installed with
``window.set_slice_tool(tool)``; it may draw on the views through
:func:`app.gui.tools.overlay.overlays_for`. Geometry (LPS mm) is in
:mod:`app.gui.tools.geometry`, undoable commands in :mod:`app.gui.tools.commands`.
"""

from __future__ import annotations

from app.gui.tools.brush import BrushTool
from app.gui.tools.scissors import ScissorsTool
from app.gui.tools.seeds import SeedSet, SeedSets, SeedTool

__all__ = ["BrushTool", "ScissorsTool", "SeedSet", "SeedSets", "SeedTool"]
