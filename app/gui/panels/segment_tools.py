"""Segmentation tools panel (implementation in :mod:`app.gui.panels.segtools`)."""

from __future__ import annotations

from app.gui.panels.segtools import SegmentToolsPanel

__all__ = ["SegmentToolsPanel"]
